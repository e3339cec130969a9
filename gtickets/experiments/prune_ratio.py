"""prune_ratio: grokked tickets over a grid of k (paper Fig. 3; claim C5).

  python launch/main.py --config=configs/modadd_prune_ratio.py
"""
import os

import numpy as np

from gtickets import storage
from gtickets.experiment import report
from gtickets.experiment.claims import Finding, claim, steps
from gtickets.experiment.pipeline import Tickets, run_main
from gtickets.experiment.registry import experiment


@experiment("prune_ratio")
def run(config, workdir):
  name = "prune_ratio"
  _, res = run_main(config, workdir, Tickets(name))
  table = report.summary_table([res])
  ks = [e["prune_ratio"] for e in table]
  series = report.measure_series(table, ks, lambda e: e["prune_ratio"],
                           ["t_mem", "t_gen", "tau_grok"])
  report.plot_measures_against(workdir.file(f"{name}.png"), ks, series,
                               "prune ratio k (fraction removed)", "grokked tickets by k")
  return report.write_summary(workdir.path, [res], config, name=name), [
      f"{name}.md", f"{name}.json", f"{name}.png"]


@claim("C5", "tau_grok = t_gen / t_mem of grokked tickets is smallest near k = 0.7; at "
       "k = 0.9 the ticket fails (Fig. 3)", ["modadd_prune_ratio"],
       "python launch/main.py --config=configs/modadd_prune_ratio.py", "prune_ratio")
def tau_grok_by_k(root, figures):
  phase = root["modadd_prune_ratio"].phase("prune_ratio")
  rows = [r for r in phase.rows() if r["variant"] == "grokked"]
  ks = sorted({r["prune_ratio"] for r in rows})
  seeds = sorted({r["seed"] for r in rows})
  at = {(r["prune_ratio"], r["seed"]): r for r in rows}
  taus = {k: [at[k, s]["tau_grok"] for s in seeds if at[k, s]["tau_grok"] is not None]
          for k in ks}
  mean_tau = {k: float(np.mean(v)) for k, v in taus.items() if v}
  best = min(mean_tau, key=mean_tau.get) if mean_tau else None
  fails_09 = 0.9 in ks and all(at[0.9, s]["t_gen"] is None for s in seeds)
  near = best is not None and 0.6 - 1e-9 <= best <= 0.8 + 1e-9
  verdict = "agrees" if near and fails_09 else ("partly" if near or fails_09 else "no")
  lines = ["| k | " + " | ".join(f"seed {s}: t_mem / t_gen / tau" for s in seeds)
           + " | mean tau (seeds reached) |", "| --- " * (len(seeds) + 2) + "|"]
  for k in ks:
    cells = [f"{steps(at[k, s]['t_mem'])} / {steps(at[k, s]['t_gen'])} / "
             + ("-" if at[k, s]["tau_grok"] is None else f"{at[k, s]['tau_grok']:.0f}")
             for s in seeds]
    lines.append(f"| {k:g} | " + " | ".join(cells) + " | "
                 + (f"{mean_tau[k]:.1f} ({len(taus[k])}/{len(seeds)})" if k in mean_tau
                    else "not reached") + " |")
  plt = report.pyplot()
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for s in seeds:
    axes[0].plot(ks, [at[k, s]["tau_grok"] if at[k, s]["tau_grok"] else np.nan for k in ks],
                 "o-", alpha=0.6, label=f"seed {s}")
    axes[1].plot(ks, [at[k, s]["final_test_acc"] for k in ks], "o-", alpha=0.6,
                 label=f"seed {s}")
  axes[0].plot(list(mean_tau), list(mean_tau.values()), "k-", lw=2, label="mean")
  axes[0].set_ylabel("tau_grok = t_gen / t_mem")
  axes[1].set_ylabel("final test acc")
  for ax in axes:
    ax.set_xlabel("prune ratio k (fraction removed)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  storage.save_figure(fig, os.path.join(figures, "claim_c5.png"), 130)
  measured = (f"smallest mean tau_grok at k = {best:g} ({mean_tau[best]:.1f})"
              if best is not None else "no k reaches the threshold")
  measured += "; k = 0.9 " + ("fails on every seed" if fails_09 else "generalizes on some seed")
  return Finding(measured, verdict, "smallest mean tau_grok at k in [0.6, 0.8] and k = 0.9 "
                 "failing on every seed: agrees; one of the two: partly; else no",
                 "\n".join(lines), ("claim_c5.png",))
