"""Tables and figures every experiment uses (an experiment's own are in its module)."""
import os

import numpy as np
import pandas as pd

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


GROUP = ("phase", "variant", "prune_ratio", "mask_step")  # a summary row: all its seeds
MEASURES = ("t_mem", "t_gen", "tau_grok", "final_train_acc", "final_test_acc",
            "final_test_loss")


def run_frame(results):
  """One row per run of ``results`` with its phase; object columns, so None stays None
  and integers stay integers."""
  return pd.DataFrame([{"mask_step": None, **row, "phase": res.name}
                       for res in results for row in res.rows()], dtype=object)


def summary_table(results):
  """One row per ``GROUP`` (in order of appearance; runs of different phases, e.g. the
  base dense runs and a ticket phase's ``dense`` variant, are never merged): t_mem,
  t_gen, tau_grok, finals (mean +- std over seeds), and for ticket runs cut at a mask
  step their bases' test score there (``base_test_acc``; ``base_below``: how many of
  those bases had not reached the threshold, i.e. are not grokked tickets).

  Diverged runs (non-finite loss, or cut from a diverged base run) are left out
  of the means; ``diverged`` counts them."""
  out = []
  for _, group in run_frame(results).groupby(list(GROUP), sort=False, dropna=False):
    runs = group.to_dict("records")
    ok = [r for r in runs if not r["diverged"]]
    entry = {**{k: runs[0][k] for k in GROUP}, "n_runs": len(ok),
             "seeds": [r["seed"] for r in runs], "diverged": len(runs) - len(ok)}
    for key in MEASURES:
      m, s, got = mean_std([r[key] for r in ok])
      entry[key] = {"mean": m, "std": s, "n": got}
    bases = [_known(r.get("base_test_acc")) for r in runs]
    if any(b is not None for b in bases):
      m, s, got = mean_std(bases)
      entry["base_test_acc"] = {"mean": m, "std": s, "n": got}
      entry["base_below"] = sum(r.get("base_generalized") is False for r in runs)
    out.append(entry)
  return out


def _known(value):
  """None for a value a run does not have (None, or NaN where pandas filled a gap)."""
  return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def base_cell(entry):
  """The bases' test score at the mask step, flagged when some had not generalized."""
  b = entry.get("base_test_acc")
  if not b or not b["n"]:
    return "-"
  below = entry.get("base_below", 0)
  return f"{b['mean']:.3f} +- {b['std']:.3f}" + (
      f" ({below}/{b['n']} below threshold: not grokked)" if below else "")


def format_table(table):
  """Markdown of ``summary_table``: one row per group, mean +- std over its seeds."""
  def row(e):
    n = e["n_runs"]
    name = e["variant"] + (f" ({e['phase']})" if e["variant"] == "dense"
                           and e.get("phase", "dense") != "dense" else "")
    cell = lambda key, digits=0: _fmt(e[key]["mean"], e[key]["std"], e[key]["n"], n, digits)
    return {"variant": name + (f" ({e['diverged']} diverged, left out)" if e["diverged"] else ""),
            "k": f"{e['prune_ratio']:.2f}",
            "mask step": "-" if e["mask_step"] is None else str(e["mask_step"]),
            "t_mem": cell("t_mem"), "t_gen": cell("t_gen"), "tau_grok": cell("tau_grok", 2),
            "final test acc": cell("final_test_acc", 3),
            "final test loss": _fmt_loss(e.get("final_test_loss")),
            **({"base test acc at mask": base_cell(e)} if with_base else {})}
  with_base = any("base_test_acc" in e for e in table)
  return markdown_table([row(e) for e in table])


def write_summary(directory, results, config, name="summary"):
  """Writes ``<name>.json`` (table + every run) and ``<name>.md``; returns the table text."""
  table = summary_table(results)
  storage.write_json(os.path.join(directory, f"{name}.json"),
                     {"threshold": config.threshold, "seeds": list(config.seeds),
                      "table": table, "runs": {r.name: r.rows() for r in results}})
  text = format_table(table)
  storage.write_text(os.path.join(directory, f"{name}.md"), text + "\n")
  return text


def pyplot():
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
  plot_curve_panels(path, [(title, results, solid, dashed, ylabel)
                           for (solid, dashed), ylabel in zip(metrics, ylabels)])


def plot_curve_panels(path, panels):
  """One panel per (title, results, solid metric, dashed metric or None, ylabel): each
  group of runs of ``results`` in its colour, the solid metric per seed (thin) and
  mean, the dashed one's mean."""
  plt = pyplot()
  fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 4.2), squeeze=False)
  colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  for ax, (title, results, solid, dashed, ylabel) in zip(axes[0], panels):
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
  storage.save_figure(fig, path, 130)


def plot_measures_against(path, xs, series, xlabel, title=""):
  """Measures (mean +- std over seeds) against a swept setting.

  ``series``: {label: (means, stds)} or {label: (means, stds, partial)} with None where
  not reached (not drawn); a ``partial`` point (a mean over only the runs that reached
  it, the others never did) is drawn open and said in the panel's title.
  """
  plt = pyplot()
  fig, axes = plt.subplots(1, len(series), figsize=(4.5 * len(series), 3.8), squeeze=False)
  for ax, (label, values) in zip(axes[0], series.items()):
    means, stds = values[:2]
    partial = values[2] if len(values) > 2 else [False] * len(means)
    pts = [(x, m, s, p) for x, m, s, p in zip(xs, means, stds, partial) if m is not None]
    if pts:
      x, m, s, p = map(np.array, zip(*pts))
      line = ax.errorbar(x, m, yerr=s, marker="o", capsize=3)
      if p.any():
        ax.plot(x[p], m[p], "o", mfc="white", color=line[0].get_color())
        label += "\n(open: mean of the runs that reached it)"
    else:
      ax.text(0.5, 0.5, "not reached at any point", ha="center", va="center",
              transform=ax.transAxes)
    ax.set_xlabel(xlabel)
    ax.set_title(label, fontsize=9)
    ax.grid(alpha=0.3)
  fig.suptitle(title)
  storage.save_figure(fig, path, 130)


def markdown_table(rows):
  """Markdown for a list of dicts with the same keys (the keys are the header), each
  cell as ``str`` writes it (no number reformatting)."""
  return pd.DataFrame(rows).astype(str).to_markdown(index=False, disable_numparse=True)


def steps_text(values):
  """'1,200 / - / 900' ('-': not reached)."""
  return " / ".join("-" if v is None else f"{v:,}" for v in values)


def mean_std_text(values):
  v = np.asarray(values, float)
  return f"{np.nanmean(v):.3f} +- {np.nanstd(v):.3f}"


def measure_series(table, xs, x_of, keys):
  """{key: (means, stds, partial)} of the table's entries ordered by ``xs``; ``partial``:
  the mean is over only some of the entry's runs (the others never reached it)."""
  by_x = {x_of(e): e for e in table}
  return {k: ([by_x[x][k]["mean"] for x in xs], [by_x[x][k]["std"] for x in xs],
              [0 < by_x[x][k]["n"] < by_x[x]["n_runs"] for x in xs]) for k in keys}


def write_payload(directory, name, payload):
  """``<directory>/<name>.json``: an experiment's results, as the claims report reads them."""
  storage.write_json(os.path.join(directory, f"{name}.json"), payload)
