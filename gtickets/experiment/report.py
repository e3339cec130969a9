"""Tables and figures from phase results."""
import json
import os

import numpy as np

from gtickets import storage
from gtickets.training.measures import mean_std


def _fmt(mean, std, n, total, digits=0):
  if n == 0:
    return "not reached"
  s = f"{mean:.{digits}f} +- {std:.{digits}f}"
  return s if n == total else f"{s} ({n}/{total} reached)"


def _fmt_loss(entry):
  if not entry or entry["n"] == 0:
    return "-"
  return f"{entry['mean']:.3g} +- {entry['std']:.2g}"


def group_key(run):
  """Runs that differ only by seed share a key: (variant, k, mask step)."""
  return run["variant"], run["prune_ratio"], run.get("mask_step")


def group_rows(results):
  """Rows grouped by (phase, ``group_key``), in order of appearance: runs of
  different phases (e.g. the base dense runs and a ticket phase's ``dense``
  variant) are never merged."""
  groups = {}
  for res in results:
    for row in res.rows():
      groups.setdefault((res.name,) + group_key(row), []).append(row)
  return groups


def summary_table(results):
  """One row per group: t_mem, t_gen, tau_grok, finals (mean +- std over seeds).

  Diverged runs (non-finite loss, or cut from a diverged base run) are left out
  of the means; ``diverged`` counts them."""
  out = []
  for (phase, variant, k, mask_step), rows in group_rows(results).items():
    ok = [r for r in rows if not r["diverged"]]
    entry = {"phase": phase, "variant": variant, "prune_ratio": k, "mask_step": mask_step,
             "n_runs": len(ok), "seeds": [r["seed"] for r in rows],
             "diverged": len(rows) - len(ok)}
    for key in ("t_mem", "t_gen", "tau_grok", "final_train_acc", "final_test_acc",
                "final_test_loss"):
      m, s, got = mean_std([r[key] for r in ok])
      entry[key] = {"mean": m, "std": s, "n": got}
    out.append(entry)
  return out


def format_table(table):
  head = ["variant", "k", "mask step", "t_mem", "t_gen", "tau_grok", "final test acc",
          "final test loss"]
  lines = []
  for e in table:
    n = e["n_runs"]
    name = e["variant"] + (f" ({e['phase']})" if e["variant"] == "dense"
                           and e.get("phase", "dense") != "dense" else "")
    lines.append([
        name + (f" ({e['diverged']} diverged, left out)" if e["diverged"] else ""),
        f"{e['prune_ratio']:.2f}",
        "-" if e["mask_step"] is None else str(e["mask_step"]),
        _fmt(e["t_mem"]["mean"], e["t_mem"]["std"], e["t_mem"]["n"], n),
        _fmt(e["t_gen"]["mean"], e["t_gen"]["std"], e["t_gen"]["n"], n),
        _fmt(e["tau_grok"]["mean"], e["tau_grok"]["std"], e["tau_grok"]["n"], n, 2),
        _fmt(e["final_test_acc"]["mean"], e["final_test_acc"]["std"],
             e["final_test_acc"]["n"], n, 3),
        _fmt_loss(e.get("final_test_loss"))])
  widths = [max(len(str(r[i])) for r in [head] + lines) for i in range(len(head))]
  fmt = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"
  return "\n".join([fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                   + [fmt(r) for r in lines])


def write_summary(directory, results, config, name="summary"):
  """Writes ``<name>.json`` (table + every run) and ``<name>.md``; returns the table text."""
  table = summary_table(results)
  storage.write_json(os.path.join(directory, f"{name}.json"),
                     {"threshold": config.threshold, "seeds": list(config.seeds),
                      "table": table, "runs": {r.name: r.rows() for r in results}})
  text = format_table(table)
  with open(os.path.join(directory, f"{name}.md"), "w") as f:
    f.write(text + "\n")
  return text


def _pyplot():
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  return plt


def label_of(key, phase_name):
  variant, k, mask_step = key
  if variant == "dense":
    return "dense" if phase_name == "dense" else f"dense ({phase_name})"
  label = f"{variant} (k={k:g}"
  return label + (f", mask@{mask_step})" if mask_step is not None else ")")


def plot_curves(path, results, title="", metrics=(("test_acc", "train_acc"),),
                ylabels=("accuracy",)):
  """One panel per metric pair: first solid (seeds thin), second dashed (mean only)."""
  plt = _pyplot()
  fig, axes = plt.subplots(1, len(metrics), figsize=(7 * len(metrics), 4.2), squeeze=False)
  colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  for ax, (solid, dashed), ylabel in zip(axes[0], metrics, ylabels):
    i = 0
    for res in results:
      keys = [group_key(r) for r in res.runs]
      for key in dict.fromkeys(keys):
        idx = [j for j, kk in enumerate(keys) if kk == key]
        color, label = colors[i % len(colors)], label_of(key, res.name)
        i += 1
        for t in res.curves[solid][idx]:
          ax.plot(res.steps, t, color=color, alpha=0.25, lw=0.8)
        ax.plot(res.steps, res.curves[solid][idx].mean(0), color=color, lw=2,
                label=f"{label}: {solid}")
        if dashed:
          ax.plot(res.steps, res.curves[dashed][idx].mean(0), color=color, lw=1.2,
                  ls="--", label=f"{label}: {dashed}")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if ylabel in ("accuracy", "R^2"):
      ax.set_ylim(-0.02, 1.02)
    if "loss" in ylabel:
      ax.set_yscale("log")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=130)
  plt.close(fig)


def plot_measures_against(path, xs, series, xlabel, title=""):
  """Measures (mean +- std over seeds) against a swept setting.

  ``series``: {label: (means, stds)} with None where not reached (not drawn).
  """
  plt = _pyplot()
  fig, axes = plt.subplots(1, len(series), figsize=(4.5 * len(series), 3.8), squeeze=False)
  for ax, (label, (means, stds)) in zip(axes[0], series.items()):
    pts = [(x, m, s) for x, m, s in zip(xs, means, stds) if m is not None]
    if pts:
      x, m, s = map(np.array, zip(*pts))
      ax.errorbar(x, m, yerr=s, marker="o", capsize=3)
    else:
      ax.text(0.5, 0.5, "not reached at any point", ha="center", va="center",
              transform=ax.transAxes)
    ax.set_xlabel(xlabel)
    ax.set_title(label)
    ax.grid(alpha=0.3)
  fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=130)
  plt.close(fig)


def _steps(values):
  return " / ".join("-" if v is None else f"{v:,}" for v in values)


def format_precision_table(rows, seeds):
  """Rows of the precision experiment: t_gen and final test accuracy per seed."""
  lines = [f"| base-phase cross-entropy | ticket-phase cross-entropy | t_gen (seeds "
           f"{' / '.join(map(str, seeds))}) | final test acc |", "| --- | --- | --- | --- |"]
  for r in rows:
    runs = sorted(r["runs"], key=lambda x: x["seed"])
    lines.append(f"| {r['base']} | {r['ticket']} | {_steps([x['t_gen'] for x in runs])} | "
                 + " / ".join(f"{x['final_test_acc']:.3f}" for x in runs) + " |")
  return "\n".join(lines)


def plot_precision(path, bases, cells):
  """One panel per ticket-phase precision: test accuracy of the tickets cut from each
  base (solid, seeds thin) and of the dense model trained in that precision (dashed)."""
  plt = _pyplot()
  modes = list(bases)
  fig, axes = plt.subplots(1, len(modes), figsize=(6.5 * len(modes), 4.2), squeeze=False)
  colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  for ax, ticket_mode in zip(axes[0], modes):
    dense = bases[ticket_mode]
    ax.plot(dense.steps, dense.curves["test_acc"].mean(0), color="k", ls="--", lw=1.5,
            label=f"dense ({ticket_mode}): mean test acc")
    for i, (base_mode, mode, res) in enumerate(c for c in cells if c[1] == ticket_mode):
      for t in res.curves["test_acc"]:
        ax.plot(res.steps, t, color=colors[i], alpha=0.3, lw=0.8)
      ax.plot(res.steps, res.curves["test_acc"].mean(0), color=colors[i], lw=2,
              label=f"ticket, mask from {base_mode} base: mean test acc")
    ax.set_title(f"ticket phase trained with {ticket_mode} cross-entropy")
    ax.set_xlabel("step")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
  fig.tight_layout()
  fig.savefig(path, dpi=130)
  plt.close(fig)
