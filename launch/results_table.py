"""Prints the README's "Other tasks and architectures" table from finished workdirs.

  python launch/results_table.py [JOBS] [WORKDIRS]

JOBS (default launch/tasks_jobs.txt) gives each row's workdir name and launcher
arguments, in table order; WORKDIRS (default workdirs) holds the finished runs.
A row whose ticket phase has no summary.csv yet is listed on stderr and left out.
"""
import csv
import os
import sys

import numpy as np

_OPS = {"add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "a2_b2": "a^2 + b^2",
        "a2_ab_b2": "a^2 + ab + b^2", "a2_ab_b2_a": "a^2 + ab + b^2 + a", "a3_ab": "a^3 + ab",
        "a2_ab2_b": "a^2 + ab^2 + b"}
_OTHER = {"modadd": ("(a + b) mod 67", "MLP"), "polynomial": ("polynomial regression", "MLP 40-48-1"),
          "parity": ("sparse parity (3 of 40)", "MLP 40-256-2"),
          "mnist": ("MNIST, 1000 train (20k steps)", "MLP 784-200-200-10")}


def label(name):
  """(task, model) for a row's workdir name, e.g. mod_mul_transformer_layer."""
  if name in _OTHER:
    return _OTHER[name]
  op, model = name[len("mod_"):].split("_mlp")[0], "MLP"
  if "_transformer" in name:
    op, model = name[len("mod_"):].split("_transformer")[0], "Transformer"
    if name.endswith("_layer"):
      model += ", layer-wise masks"
  return ("random table mod 67" if op == "random" else f"({_OPS[op]}) mod 67"), model


def cell(rows):
  """'mean +- std (reached/seeds) [t_gen per seed; final test score per seed]'."""
  t = [int(r["t_gen"]) if r["t_gen"] else None for r in rows]
  got = [x for x in t if x is not None]
  head = "not reached" if not got else (f"{np.mean(got):,.0f} +- {np.std(got):,.0f}"
                                        + ("" if len(got) == len(t) else f" ({len(got)}/{len(t)})"))
  per = " / ".join("-" if x is None else f"{x:,}" for x in t)
  final = " / ".join(f"{float(r['final_test_acc']):.2f}" for r in rows)
  return f"{head} [{per}; final {final}]"


def _rows(path, variant):
  with open(path) as f:
    return sorted((r for r in csv.DictReader(f) if r["variant"] == variant), key=lambda r: int(r["seed"]))


def table(jobs="launch/tasks_jobs.txt", workdirs="workdirs"):
  lines = ["| task | model | dense t_gen [per seed; final test score] "
           "| grokked ticket t_gen [per seed; final] | command |", "| --- | --- | --- | --- | --- |"]
  with open(jobs) as f:
    entries = [ln.split(None, 1) for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
  for name, args in entries:
    folder = os.path.join(workdirs, name)
    if not os.path.exists(os.path.join(folder, "tickets", "summary.csv")):
      print(f"not finished: {folder}", file=sys.stderr)
      continue
    cmd = f"python launch/main.py {args.strip()} --workdir=workdirs/{name}"
    dense = cell(_rows(os.path.join(folder, "dense", "summary.csv"), "dense"))
    ticket = cell(_rows(os.path.join(folder, "tickets", "summary.csv"), "grokked"))
    lines.append(f"| {' | '.join(label(name))} | {dense} | {ticket} | `{cmd}` |")
  return "\n".join(lines)


if __name__ == "__main__":
  print(table(*sys.argv[1:]))
