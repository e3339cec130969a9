"""pruning_time: tickets cut from many base checkpoints (paper Fig. 4a; claim C2).

``ticket.mask_steps`` lists the base checkpoints the grokked masks are cut from;
writes ``<phase>.md`` / ``.json`` / ``.png`` and the base's test accuracy at each.

  python launch/main.py --config=configs/modadd_pruning_time.py
"""
import os

import numpy as np

from gtickets import storage
from gtickets.experiment import report
from gtickets.experiment.claims import (ABLATIONS, MUCH, SOME, Finding, budget_of, by_seed,
                                        claim, speedup, steps, summarize)
from gtickets.experiment.pipeline import Tickets, run_main
from gtickets.experiment.registry import experiment


@experiment("pruning_time")
def run(config, workdir):
  name = "pruning_time"
  dense, res = run_main(config, workdir, Tickets(name))
  table = report.summary_table([res])
  steps = sorted({e["mask_step"] for e in table})
  base_acc = {s: dense.curves["test_acc"][:, list(dense.steps).index(s)] for s in steps}
  series = report.measure_series(table, steps, lambda e: e["mask_step"],
                           ["t_gen", "final_test_acc"])
  series["base test acc at pruning step"] = (
      [float(base_acc[s].mean()) for s in steps], [float(base_acc[s].std()) for s in steps])
  report.plot_measures_against(workdir.file(f"{name}.png"), steps, series,
                               "pruning step (base checkpoint)", "tickets by pruning time")
  text = report.write_summary(workdir.path, [res], config, name=name)
  report.write_payload(workdir.path, f"{name}_base_acc", {str(s): base_acc[s].tolist() for s in steps})
  return text, [f"{name}.md", f"{name}.json", f"{name}.png"]


@claim("C2", "Non-grokked tickets (masks cut before the dense model generalizes) are no "
       "faster than the dense model (Fig. 4a)", [ABLATIONS],
       "python launch/main.py --config=configs/modadd_pruning_time.py", "pruning_time")
def non_grokked_tickets(root, figures, before=0.1):
  """Non-grokked: masks cut where the base's test accuracy was still <= ``before``
  (memorized, not yet generalizing). Speed-up over the dense run of the same seed."""
  res = root[ABLATIONS]
  dense, phase = res.phase("dense"), res.phase("pruning_time")
  budget = budget_of(phase)
  d = by_seed(dense.rows(), variant="dense")
  index = {s: i for i, s in enumerate(dense.steps.tolist())}
  base_acc = lambda r: float(dense.curves["test_acc"][r["base_run"], index[r["mask_step"]]])
  rows = [r for r in phase.rows() if r["variant"] == "grokked"]
  seeds = sorted({r["seed"] for r in rows})
  mask_steps = sorted({r["mask_step"] for r in rows})
  early = [r for r in rows if base_acc(r) <= before]
  sp = [speedup(d[r["seed"]]["t_gen"], r["t_gen"], budget) for r in early]
  med, text = summarize(sp)
  verdict = "agrees" if med is None or med <= SOME else ("partly" if med < MUCH else "no")
  cell = lambda s, m: next((f"{steps(r['t_gen'])} ({base_acc(r):.2f})" for r in rows
                            if r["seed"] == s and r["mask_step"] == m), "")
  lines = ["| pruning step | " + " | ".join(f"seed {s}: ticket t_gen (base test acc)"
                                            for s in seeds) + " |",
           "| --- " * (len(seeds) + 1) + "|"]
  lines += [f"| {m:,} | " + " | ".join(cell(s, m) for s in seeds) + " |" for m in mask_steps]
  lines.append("| dense t_gen | " + " | ".join(steps(d[s]["t_gen"]) for s in seeds) + " |")
  _plot_pruning_time(os.path.join(figures, "claim_c2.png"), rows, dense, d, base_acc, seeds,
                     budget)
  reached = sum(r["t_gen"] is not None for r in early)
  measured = (f"{len(early)} tickets cut at base test acc <= {before:g} (steps "
              f"{min(r['mask_step'] for r in early):,}-{max(r['mask_step'] for r in early):,}): "
              f"{reached} reach 0.95; speed-up over dense {text}" if early else
              "no mask step before generalization")
  return Finding(measured, verdict, f"non-grokked = cut at base test acc <= {before:g}; "
                 f"median speed-up over dense <= {SOME:g}x: agrees; < {MUCH:g}x: partly; "
                 "else no", "\n".join(lines), ("claim_c2.png",))


def _plot_pruning_time(path, rows, dense, d, base_acc, seeds, budget):
  plt = report.pyplot()
  fig, axes = plt.subplots(1, len(seeds), figsize=(5 * len(seeds), 3.8), squeeze=False)
  for ax, s in zip(axes[0], seeds):
    mine = sorted((r for r in rows if r["seed"] == s), key=lambda r: r["mask_step"])
    x = [r["mask_step"] for r in mine]
    y = [r["t_gen"] if r["t_gen"] is not None else np.nan for r in mine]
    ax.plot(x, y, "o-", label="ticket t_gen")
    miss = [r["mask_step"] for r in mine if r["t_gen"] is None]
    ax.plot(miss, [budget] * len(miss), "x", color="C3", label="ticket: not reached")
    if d[s]["t_gen"] is not None:
      ax.axhline(d[s]["t_gen"], color="k", ls="--", lw=1, label="dense t_gen")
    ax.set_xlabel("pruning step (base checkpoint)")
    ax.set_ylabel("steps to 0.95 test acc")
    ax2 = ax.twinx()
    ax2.plot(x, [base_acc(r) for r in mine], color="C2", lw=1, label="base test acc then")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("base test acc at pruning step", color="C2")
    ax.set_title(f"seed {s}")
    ax.set_ylim(0, 1.3 * budget)  # the legend sits above the "not reached" marks
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    ax.grid(alpha=0.3)
  storage.save_figure(fig, path, 130)
