"""Tables and figures from phase results."""
import json
import os

import numpy as np

from gtickets.training.measures import mean_std


def _fmt(mean, std, n, total, digits=0):
  if n == 0:
    return "not reached"
  s = f"{mean:.{digits}f} +- {std:.{digits}f}"
  return s if n == total else f"{s} ({n}/{total} reached)"


def group_rows(results):
  """Rows of all phases grouped by (variant, prune ratio), in order of appearance."""
  groups = {}
  for res in results:
    for row in res.rows():
      groups.setdefault((row["variant"], row["prune_ratio"]), []).append(row)
  return groups


def summary_table(results):
  """One row per (variant, k): t_mem, t_gen, tau_grok (mean +- std over seeds)."""
  out = []
  for (variant, k), rows in group_rows(results).items():
    n = len(rows)
    entry = {"variant": variant, "prune_ratio": k, "n_runs": n,
             "seeds": [r["seed"] for r in rows]}
    for key in ("t_mem", "t_gen", "tau_grok", "final_train_acc", "final_test_acc"):
      m, s, got = mean_std([r[key] for r in rows])
      entry[key] = {"mean": m, "std": s, "n": got}
    entry["diverged"] = sum(r["diverged"] for r in rows)
    out.append(entry)
  return out


def format_table(table):
  head = ["variant", "k", "t_mem", "t_gen", "tau_grok", "final test acc"]
  lines = []
  for e in table:
    n = e["n_runs"]
    lines.append([
        e["variant"] + (f" ({e['diverged']} diverged)" if e["diverged"] else ""),
        f"{e['prune_ratio']:.2f}",
        _fmt(e["t_mem"]["mean"], e["t_mem"]["std"], e["t_mem"]["n"], n),
        _fmt(e["t_gen"]["mean"], e["t_gen"]["std"], e["t_gen"]["n"], n),
        _fmt(e["tau_grok"]["mean"], e["tau_grok"]["std"], e["tau_grok"]["n"], n, 2),
        _fmt(e["final_test_acc"]["mean"], e["final_test_acc"]["std"],
             e["final_test_acc"]["n"], n, 3)])
  widths = [max(len(str(r[i])) for r in [head] + lines) for i in range(len(head))]
  fmt = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"
  return "\n".join([fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                   + [fmt(r) for r in lines])


def write_summary(workdir, results, config):
  table = summary_table(results)
  with open(os.path.join(workdir, "summary.json"), "w") as f:
    json.dump({"threshold": config.threshold, "table": table,
               "runs": {r.name: r.rows() for r in results}}, f, indent=1)
  text = format_table(table)
  with open(os.path.join(workdir, "summary.md"), "w") as f:
    f.write(text + "\n")
  return text


def plot_curves(path, results, title=""):
  """Test (solid) and train (dashed) accuracy per (variant, k): seed mean, seeds thin."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(7, 4.2))
  colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  i = 0
  for res in results:
    keys = [(r["variant"], r["prune_ratio"]) for r in res.runs]
    for key in dict.fromkeys(keys):
      idx = [j for j, kk in enumerate(keys) if kk == key]
      color = colors[i % len(colors)]
      i += 1
      label = key[0] if key[0] == "dense" else f"{key[0]} ticket (k={key[1]:g})"
      test, train = res.curves["test_acc"][idx], res.curves["train_acc"][idx]
      for t in test:
        ax.plot(res.steps, t, color=color, alpha=0.25, lw=0.8)
      ax.plot(res.steps, test.mean(0), color=color, lw=2, label=f"{label}: test")
      ax.plot(res.steps, train.mean(0), color=color, lw=1.2, ls="--",
              label=f"{label}: train")
  ax.set_xlabel("step")
  ax.set_ylabel("accuracy")
  ax.set_ylim(-0.02, 1.02)
  ax.set_title(title)
  ax.legend(fontsize=7, loc="lower right")
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=130)
  plt.close(fig)
