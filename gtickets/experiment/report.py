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

  ``series``: {label: (means, stds)} with None where not reached (not drawn).
  """
  plt = pyplot()
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
  storage.save_figure(fig, path, 130)


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
  plt = pyplot()
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
  storage.save_figure(fig, path, 130)


# ---------------------------------------------------------------- structural analyses

def markdown_table(rows):
  """Markdown for a list of dicts with the same keys (the keys are the header)."""
  head = list(rows[0])
  lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
  return "\n".join(lines + ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows])


def first_at_least(steps, values, level):
  hit = [s for s, v in zip(steps, values) if v >= level]
  return hit[0] if hit else None


def largest_change(ends, jds, start):
  """(step, JD) of the largest change among the intervals starting at >= ``start``
  (``ends``: the step ending each interval)."""
  starts = [0] + list(ends[:-1])
  idx = [i for i, s in enumerate(starts) if s >= start] or list(range(len(ends)))
  best = max(idx, key=lambda i: jds[i])
  return ends[best], float(jds[best])


def jaccard_transitions(payload):
  """Per run: the step ending the largest consecutive-mask change after
  ``payload["from"]`` (fine and coarse series), the steps where test accuracy
  first reaches 0.1, 0.5 and 0.9."""
  steps, out = payload["steps"], []
  start = payload.get("from", 0)
  for r, seed in enumerate(payload["seeds"]):
    fine, fine_jd = largest_change(steps[1:], payload["consecutive"]["all"][r], start)
    coarse, _ = largest_change(payload["coarse_steps"][1:],
                               payload["coarse_consecutive"]["all"][r], start)
    acc = payload["test_acc"][r]
    out.append({"seed": seed, "largest": fine, "largest_jd": fine_jd, "largest_coarse": coarse,
                "acc_0.1": first_at_least(steps, acc, 0.1),
                "acc_0.5": first_at_least(steps, acc, 0.5),
                "acc_0.9": first_at_least(steps, acc, 0.9)})
  return out


def jaccard_rows(payload):
  every = payload["steps"][1] - payload["steps"][0]
  fmt = lambda s: "-" if s is None else f"{s:,}"
  return [{"seed": t["seed"],
           f"largest mask change (every {every})": f"{fmt(t['largest'])} (JD {t['largest_jd']:.3f})",
           "largest (every ckpt)": fmt(t["largest_coarse"]),
           "test acc >= 0.1 / 0.5 / 0.9 at": " / ".join(fmt(t[k]) for k in
                                                       ("acc_0.1", "acc_0.5", "acc_0.9"))}
          for t in jaccard_transitions(payload)]


def plot_jaccard(path, payload):
  """Per seed: JD between consecutive masks (fine: solid, coarse: dots) and to the
  final mask (dashed), with test accuracy on a second axis."""
  plt = pyplot()
  seeds = payload["seeds"]
  fig, axes = plt.subplots(1, len(seeds), figsize=(4.2 * len(seeds), 3.6), squeeze=False)
  steps = payload["steps"]
  for r, (ax, seed) in enumerate(zip(axes[0], seeds)):
    ax.plot(steps[1:], payload["consecutive"]["all"][r], lw=1.2, label="JD to previous")
    ax.plot(payload["coarse_steps"][1:], payload["coarse_consecutive"]["all"][r], "o",
            ms=3, label="JD to previous (every ckpt)")
    ax.plot(steps, payload["to_final"]["all"][r], "--", lw=1, label="JD to final")
    ax.set_xlabel("step")
    ax.set_ylabel(f"Jaccard distance (k = {payload['k']:g})")
    ax2 = ax.twinx()
    ax2.plot(steps, payload["test_acc"][r], color="k", lw=1, alpha=0.6)
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("test acc (black)")
    ax.set_title(f"seed {seed}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="upper right")
  storage.save_figure(fig, path, 120)


def _mean_std(values):
  v = np.asarray(values, float)
  return f"{np.nanmean(v):.3f} +- {np.nanstd(v):.3f}"


def fourier_rows(payload):
  steps = payload["steps"]
  return [{"network": label, **{f"{s:,}": _mean_std(np.asarray(d["entropy"])[:, i])
                                for i, s in enumerate(steps)}}
          for label, d in payload["series"].items()]


def plot_fourier(path, payload):
  """Fourier entropy (Shannon) of the effective input weights against the step."""
  plt = pyplot()
  fig, ax = plt.subplots(figsize=(6.5, 4))
  for label, d in payload["series"].items():
    e = np.asarray(d["entropy"])
    x = np.asarray(payload["steps"], float)
    ax.plot(np.maximum(x, 10), e.mean(0), "o-", label=label)
    ax.fill_between(np.maximum(x, 10), e.min(0), e.max(0), alpha=0.15)
  ax.axhline(payload["max_entropy"], color="k", ls=":", lw=1, label="flat spectrum")
  ax.set_xscale("log")
  ax.set_xlabel("step (0 drawn at 10)")
  ax.set_ylabel("Fourier entropy of W = embed @ w_in (nats)")
  ax.set_title("mean over seeds, band = min-max")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  storage.save_figure(fig, path, 130)


def plot_fourier_heatmaps(path, payload):
  """W (tokens x neurons) and its spectrum (frequencies x neurons) of the first seed:
  one row per network, a (W, spectrum) pair per drawn step; neurons sorted by their
  main frequency. The "periodic weights" pictures."""
  plt = pyplot()
  labels = list(payload["heatmaps"])
  steps = list(payload["heatmaps"][labels[0]])
  fig, axes = plt.subplots(len(labels), 2 * len(steps), squeeze=False,
                           figsize=(1.9 * 2 * len(steps), 2.0 * len(labels)))
  for i, label in enumerate(labels):
    for j, step in enumerate(steps):
      d = payload["heatmaps"][label][step]
      w, s = np.asarray(d["w"]), np.asarray(d["spectrum"])
      order = np.argsort(np.argmax(s, axis=0))
      axes[i][2 * j].imshow(w[:, order], aspect="auto", cmap="RdBu")
      axes[i][2 * j + 1].imshow(s[:, order], aspect="auto", cmap="viridis")
      axes[i][2 * j].set_title(f"W, step {int(step):,}", fontsize=7)
      axes[i][2 * j + 1].set_title(f"|DFT|, step {int(step):,}", fontsize=7)
      for ax in axes[i][2 * j:2 * j + 2]:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[i][0].set_ylabel(label, fontsize=8)
  storage.save_figure(fig, path, 110)


GRAPH_MEASURES = ("avg_path_length", "clustering", "spectral_gap", "ramanujan_gap",
                  "connected_fraction")


def graph_rows(payload):
  kinds = list(dict.fromkeys(r["kind"] for r in payload["rows"]))
  return [{"mask": kind, **{m: _mean_std([r[m] for r in payload["rows"] if r["kind"] == kind])
                            for m in GRAPH_MEASURES}} for kind in kinds]


def plot_graphs(path, payload):
  """Each graph measure per kind of mask: one dot per seed, bar = mean."""
  plt = pyplot()
  kinds = list(dict.fromkeys(r["kind"] for r in payload["rows"]))
  fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
  for ax, m in zip(axes, GRAPH_MEASURES[:4]):
    for i, kind in enumerate(kinds):
      v = [r[m] for r in payload["rows"] if r["kind"] == kind]
      ax.bar(i, np.mean(v), color=f"C{i}", alpha=0.5)
      ax.plot([i] * len(v), v, "k.", ms=4)
    ax.set_xticks(range(len(kinds)))
    ax.set_xticklabels(kinds, rotation=45, ha="right", fontsize=7)
    ax.set_title(m)
    ax.grid(alpha=0.3, axis="y")
  fig.suptitle(f"graph measures of masks at k = {payload['k']:g} (weights theta_0 * mask)")
  storage.save_figure(fig, path, 120)


# ---------------------------------------------------------------- edge-popup

def edge_popup_memorizing_seeds(payload):
  """The seeds whose base memorizes (all of them for results without the check)."""
  return [r["seed"] for r in payload["base"] if r.get("memorizing", True)]


def edge_popup_rows(payload):
  """Test accuracy at the report steps, mean +- std over the seeds whose base
  memorizes (n), beside the paper's."""
  steps = payload["steps"]
  acc = np.asarray(payload["test_acc"])
  seeds = set(edge_popup_memorizing_seeds(payload))
  rows = []
  for v in dict.fromkeys(r["variant"] for r in payload["runs"]):
    idx = [i for i, r in enumerate(payload["runs"]) if r["variant"] == v and r["seed"] in seeds]
    row = {"variant": {"wd": "WD", "ep": "EP w/o WD", "ep_wd": "EP w/ WD"}.get(v, v),
           "n": len(idx)}
    for s in payload["report_steps"]:
      a = acc[idx, steps.index(s)]
      mean, std = payload["paper"].get(v, {}).get(str(s), (None, None))
      paper = "-" if mean is None else f"{mean:.2f}" + (f" +- {std:.2f}" if std else "")
      row[f"step {s:,}: here"] = f"{a.mean():.2f} +- {a.std():.2f}" if idx else "-"
      row[f"step {s:,}: paper"] = paper
    rows.append(row)
  return rows


def plot_edge_popup(path, payload):
  """Test (solid) and train (dashed) accuracy of each variant; seeds thin."""
  plt = pyplot()
  fig, ax = plt.subplots(figsize=(7, 4.2))
  steps = payload["steps"]
  acc, tr = np.asarray(payload["test_acc"]), np.asarray(payload["train_acc"])
  seeds = set(edge_popup_memorizing_seeds(payload))
  for c, v in enumerate(dict.fromkeys(r["variant"] for r in payload["runs"])):
    idx = [i for i, r in enumerate(payload["runs"]) if r["variant"] == v and r["seed"] in seeds]
    if not idx:
      continue
    label = {"wd": "WD", "ep": "EP w/o WD", "ep_wd": "EP w/ WD"}.get(v, v)
    for i in idx:
      ax.plot(steps, acc[i], color=f"C{c}", alpha=0.25, lw=0.8)
    ax.plot(steps, acc[idx].mean(0), color=f"C{c}", lw=2, label=f"{label}: test")
    ax.plot(steps, tr[idx].mean(0), color=f"C{c}", lw=1, ls="--", label=f"{label}: train")
  for s in payload["report_steps"]:
    ax.axvline(s, color="k", lw=0.5, alpha=0.3)
  ax.set_xlabel(f"step (from the dense weights at step {payload['base_step']:,}, lr "
                f"{payload['base_lr']:g})")
  ax.set_ylabel("accuracy")
  ax.set_ylim(-0.02, 1.02)
  ax.set_title(f"edge-popup, k = {payload['k']:g} removed per matrix; {len(seeds)} seeds whose "
               "base memorizes", fontsize=9)
  ax.grid(alpha=0.3)
  if ax.get_legend_handles_labels()[0]:
    ax.legend(fontsize=7)
  storage.save_figure(fig, path, 130)


def plot_sweep(path, axes, rows, budget):
  """Median t_gen over seeds against the first swept field that is not the seed
  (log x when its values span > 10x), one line per point of the other fields,
  one panel per variant; "not reached" drawn at the budget with an open marker."""
  plt = pyplot()
  fields = [f for f in axes if f != "seed"]
  variants_ = list(dict.fromkeys(r["variant"] for r in rows))
  fig, panels = plt.subplots(1, len(variants_), figsize=(4.8 * len(variants_), 3.8),
                             squeeze=False, sharey=True)
  x_field, others = (fields[0], fields[1:]) if fields else (None, [])
  for ax, v in zip(panels[0], variants_):
    lines = {}
    for r in rows:
      if r["variant"] == v:
        lines.setdefault(tuple(r.get(f) for f in others), {}).setdefault(
            r.get(x_field, 0), []).append(budget if r["t_gen"] is None else r["t_gen"])
    for key, pts in list(lines.items())[:12]:
      xs = sorted(pts)
      med = [float(np.median(pts[x])) for x in xs]
      label = ", ".join(f"{f.split('.')[-1]}={k:g}" if isinstance(k, (int, float)) else
                        f"{f.split('.')[-1]}={k}" for f, k in zip(others, key))
      line, = ax.plot(xs, med, marker="o", label=label or None)
      done = [(x, m) for x, m in zip(xs, med) if m >= budget]
      if done:
        ax.plot(*zip(*done), "o", mfc="white", color=line.get_color())
    xs_all = [r.get(x_field, 0) for r in rows]
    if x_field and min(xs_all) > 0 and max(xs_all) / min(xs_all) > 10:
      ax.set_xscale("log")
    ax.axhline(budget, color="gray", lw=0.8, ls=":")
    ax.set_xlabel(x_field or "")
    ax.set_title(v)
    ax.grid(alpha=0.3)
    if any(k for k in lines) and len(lines) > 1:
      ax.legend(fontsize=7)
  panels[0][0].set_ylabel(f"median t_gen (open: not reached in {budget:,})")
  storage.save_figure(fig, path, 130)


def plot_t_gen_scatter(path, rows, title=""):
  """Ticket t_gen against dense t_gen, one point per seed, one colour per row.

  ``rows``: {label: [(dense t_gen or None, ticket t_gen or None, budget)]}; a run that
  never reached the threshold is drawn at its budget with an open marker. Points below
  the diagonal are seeds where the ticket is the sooner one.
  """
  plt = pyplot()
  fig, ax = plt.subplots(figsize=(6.4, 5.2))
  colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  markers = "osD^vP*Xh<>"
  lo, hi = np.inf, 0
  for i, (label, points) in enumerate(rows.items()):
    color, marker = colors[i % len(colors)], markers[(i // len(colors)) % len(markers)]
    ax.plot([], [], marker, color=color, ms=7, label=label)
    for dense, ticket, budget in points:
      x, y = (budget if dense is None else dense), (budget if ticket is None else ticket)
      lo, hi = min(lo, x, y), max(hi, x, y)
      reached = dense is not None and ticket is not None
      ax.plot(x, y, marker, color=color, mfc=color if reached else "white", ms=7)
  if hi > 0:
    span = np.array([lo / 2, hi * 2])
    for ratio, style in ((1, "-"), (10, "--"), (100, ":")):
      ax.plot(span, span / ratio, color="gray", lw=0.8, ls=style,
              label="ticket = dense" if ratio == 1 else f"ticket = dense / {ratio}")
    ax.set_xlim(*span)
    ax.set_ylim(*span)
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.set_xlabel("dense t_gen (step of test acc >= 0.95; open: not reached, at the budget)")
  ax.set_ylabel("grokked ticket t_gen")
  ax.set_title(title)
  ax.grid(alpha=0.3, which="both")
  ax.legend(fontsize=6.5, loc="upper left", ncol=1)
  storage.save_figure(fig, path, 130)
