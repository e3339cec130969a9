"""critical_ratio: the largest k that still generalizes without weight decay (paper
Sec. 4; claim C9).

Grokked tickets (masks from the weight-decay base runs) retrained with
``critical_ratio.weight_decay``; a coarse-to-fine search over k with the grid steps of
``critical_ratio.levels``, each level one batched ticket phase ``critical_ratio_<level>``;
writes ``critical_ratio.md`` / ``.json`` / ``.png``.

  python launch/main.py --config=configs/modadd_critical_ratio.py
"""
import os

import ml_collections
import numpy as np

from gtickets import config as config_lib
from gtickets import storage
from gtickets.experiment import report
from gtickets.experiment.claims import ABLATIONS, Finding, budget_of, by_seed, claim, steps
from gtickets.experiment.pipeline import Tickets, run_dense, run_tickets
from gtickets.experiment.registry import experiment


def section():
  c = ml_collections.ConfigDict()
  c.levels = (0.1, 0.01)  # grid steps of the coarse-to-fine search
  c.weight_decay = 0.0    # the tickets' (the dense base keeps optim.weight_decay)
  return c


def check(config):
  lv = config.critical_ratio.levels
  if not lv or any(not 0 < x < 1 for x in lv) or list(lv) != sorted(lv, reverse=True):
    config_lib.fail("critical_ratio.levels", lv,
                    "decreasing grid steps in (0, 1), e.g. (0.1, 0.01)")
  if not config.critical_ratio.weight_decay >= 0:
    config_lib.fail("critical_ratio.weight_decay", config.critical_ratio.weight_decay,
                    "must be >= 0")


def critical_ratio_search(passes, levels=(0.1, 0.01), hi=1.0, zero_passes=lambda: True):
  """Largest k < hi with ``passes``, coarse to fine.

  ``passes(ks) -> [bool]`` evaluates one grid at once (one batched phase). The
  first level tries k = s, 2s, ... < hi; each next level tries its finer grid
  strictly between the best k so far and the next coarser point. When no k of
  the first grid passes, the grid below its first point is tried only if
  ``zero_passes()`` (k -> 0, the dense model, generalizes): passing need not be
  monotone in k (without weight decay, lightly pruned tickets fail as dense does).
  Returns (k or None, history of the grids tried).
  """
  best, history, lo, span = None, [], 0.0, hi
  for step in levels:
    top = min(hi, lo + span)
    ks = [round(lo + i * step, 10) for i in range(1, int(round(span / step)) + 1)]
    ks = [k for k in ks if k < top - 1e-9]
    if not ks:
      break
    ok = [bool(x) for x in passes(ks)]
    history.append({"step": step, "ks": ks, "passes": ok})
    passing = [k for k, o in zip(ks, ok) if o]
    if passing:
      best = max(passing)
    elif best is None and not zero_passes():
      break
    lo, span = (best if best is not None else 0.0), step
  return best, history


@experiment("critical_ratio", section, check)
def run(config, workdir):
  """Grokked tickets (and dense) without weight decay; the largest k that generalizes.

  A k passes when every seed's ticket reaches the test-accuracy threshold within
  ``train.num_steps``. Each level of the search is one batched ticket phase.
  """
  dense = run_dense(config, workdir)
  base_phase, wd = "critical_ratio", config.critical_ratio.weight_decay
  results = []

  def passes(ks):
    res = run_tickets(config, workdir, dense, Tickets(f"{base_phase}_{len(results)}", wd),
                      prune_ratios=tuple(ks),
                      variants=("grokked",) + (("dense",) if not results else ()))
    results.append(res)
    rows = [r for r in res.rows() if r["variant"] == "grokked"]
    return [all(r["t_gen"] is not None for r in rows if r["prune_ratio"] == k) for k in ks]

  def dense_passes():  # the first level's dense runs, at this weight decay
    return all(r["t_gen"] is not None for r in results[0].rows() if r["variant"] == "dense")

  k_crit, history = critical_ratio_search(passes, tuple(config.critical_ratio.levels),
                                          zero_passes=dense_passes)
  table = report.summary_table(results)
  report.write_payload(workdir.path, base_phase, {"critical_ratio": k_crit, "weight_decay": wd,
                               "history": history, "table": table})
  ks = sorted({e["prune_ratio"] for e in table if e["variant"] == "grokked"})
  grok = [e for e in table if e["variant"] == "grokked"]
  series = report.measure_series(grok, ks, lambda e: e["prune_ratio"], ["final_test_acc", "t_gen"])
  report.plot_measures_against(workdir.file(f"{base_phase}.png"), ks, series,
                               "prune ratio k", ("no weight decay: critical k = " + (
                                 f"{k_crit}" if k_crit is not None else "none (no k generalizes)")))
  text = report.format_table(table) + f"\ncritical prune ratio (all seeds reach the threshold): {k_crit}"
  storage.write_text(workdir.file(f"{base_phase}.md"), text + "\n")
  return text, [f"{base_phase}.md", f"{base_phase}.json", f"{base_phase}.png"]


@claim("C9", "Without weight decay, grokked tickets still generalize up to a critical prune "
       "ratio (0.81 in the paper), while the dense model does not (Sec. 4)", [ABLATIONS],
       "python launch/main.py --config=configs/modadd_critical_ratio.py", "critical_ratio")
def critical_prune_ratio(root, figures, paper_value=0.81):
  res = root[ABLATIONS]
  out = res.json("critical_ratio.json")
  k_crit = out["critical_ratio"]
  phases = [res.phase(f"critical_ratio_{i}") for i in range(len(out["history"]))]
  rows = [r for p in phases for r in p.rows()]
  budget = budget_of(phases[0])
  dense0 = by_seed(rows, variant="dense")
  seeds = sorted(dense0)
  grok = [r for r in rows if r["variant"] == "grokked"]
  ks = sorted({r["prune_ratio"] for r in grok})
  at = {(r["prune_ratio"], r["seed"]): r for r in grok}
  lines = ["| k | " + " | ".join(f"seed {s}: t_gen (final test acc)" for s in seeds) + " |",
           "| --- " * (len(seeds) + 1) + "|"]
  lines.append("| dense, wd 0 | " + " | ".join(
      f"{steps(dense0[s]['t_gen'])} ({dense0[s]['final_test_acc']:.3f})" for s in seeds) + " |")
  for k in ks:
    lines.append(f"| {k:g} | " + " | ".join(
        f"{steps(at[k, s]['t_gen'])} ({at[k, s]['final_test_acc']:.3f})" for s in seeds) + " |")
  plt = report.pyplot()
  fig, ax = plt.subplots(figsize=(6, 3.8))
  for s in seeds:
    ax.plot(ks, [at[k, s]["final_test_acc"] for k in ks], "o-", alpha=0.7, label=f"seed {s}")
  ax.axhline(np.mean([dense0[s]["final_test_acc"] for s in seeds]), color="k", ls="--",
             label="dense (wd 0), mean")
  ax.axvline(paper_value, color="C3", ls=":", label=f"paper's critical k = {paper_value}")
  ax.set_xlabel("prune ratio k")
  ax.set_ylabel(f"final test acc after {budget:,} steps, wd 0")
  ax.set_ylim(-0.02, 1.02)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  storage.save_figure(fig, os.path.join(figures, "claim_c9.png"), 130)
  dense_gen = sum(dense0[s]["t_gen"] is not None for s in seeds)
  if k_crit is None:
    verdict = "no"
  else:
    verdict = "agrees" if abs(k_crit - paper_value) <= 0.05 and dense_gen == 0 else "partly"
  passing = [k for k in ks if all(at[k, s]["t_gen"] is not None for s in seeds)]
  mean_final = {k: float(np.mean([at[k, s]["final_test_acc"] for s in seeds])) for k in ks}
  peak = max(ks, key=lambda k: mean_final[k])
  measured = ((f"critical k = {k_crit:g} (every seed reaches 0.95 within {budget:,} steps at "
               f"k = {', '.join(f'{k:g}' for k in passing)})" if k_crit is not None else
               f"no k reaches 0.95 on every seed within {budget:,} steps")
              + f"; mean final test acc of the tickets peaks at k = {peak:g} ({mean_final[peak]:.2f})"
              + f" and is {mean_final[ks[-1]]:.2f} at k = {ks[-1]:g}; dense at wd 0 reaches 0.95 "
              f"on {dense_gen}/{len(seeds)} seeds (mean final "
              f"{np.mean([dense0[s]['final_test_acc'] for s in seeds]):.2f})")
  return Finding(measured, verdict, f"a critical k within 0.05 of {paper_value} with the "
                 "dense model failing: agrees; another critical k: partly; none: no",
                 "\n".join(lines), ("claim_c9.png",))
