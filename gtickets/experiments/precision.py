"""precision: base-phase x ticket-phase cross-entropy precision (issue 10; finding P1).

  python launch/main.py --config=configs/modadd_precision.py
"""
import os

import ml_collections

from gtickets import config as config_lib
from gtickets import storage
from gtickets.experiment import report
from gtickets.experiment.claims import Finding, claim, speedup, steps, summarize
from gtickets.experiment.pipeline import Tickets, run_dense, run_tickets
from gtickets.experiment.registry import experiment
from gtickets.tasks.cross_entropy import MODES as CROSS_ENTROPY_MODES


def section():
  c = ml_collections.ConfigDict()
  c.modes = ("float32", "exact")  # base x ticket cross-entropy grid
  return c


def check(config):
  pm = config.precision.modes
  if not pm or len(set(pm)) != len(pm) or any(m not in CROSS_ENTROPY_MODES for m in pm):
    config_lib.fail("precision.modes", pm, f"distinct, each one of {CROSS_ENTROPY_MODES}")


@experiment("precision", section, check)
def run(config, workdir):
  """Where the loss's precision matters: grokked tickets for every pair (base-phase
  cross-entropy, ticket-phase cross-entropy) of ``config.precision.modes``.

  Per base mode, its dense base runs in ``<workdir>/base_<mode>/dense`` and one
  ticket phase per ticket mode in ``<workdir>/base_<mode>/ticket_<mode>``. Is the
  speed-up in the mask (cut from weights trained with that precision) or in the
  ticket's own training? The table gives t_gen per seed for each cell.
  """
  modes = tuple(config.precision.modes)
  cells, bases = [], {}
  for base_mode in modes:
    c = config.copy_and_resolve_references()
    c.train.cross_entropy = base_mode
    c.ticket.variants = ("grokked",)
    sub = workdir.sub(f"base_{base_mode}")
    bases[base_mode] = dense = run_dense(c, sub)
    for ticket_mode in modes:
      res = run_tickets(c, sub, dense, Tickets(f"ticket_{ticket_mode}",
                                               cross_entropy=ticket_mode))
      cells.append((base_mode, ticket_mode, res))
  rows = [{"base": m, "ticket": "(dense)", "runs": bases[m].rows()} for m in modes]
  rows += [{"base": b, "ticket": t, "runs": res.rows()} for b, t, res in cells]
  report.write_payload(workdir.path, "precision", {"threshold": config.threshold, "seeds": list(config.seeds),
                                "modes": list(modes), "rows": rows})
  text = format_table(rows, config.seeds)
  storage.write_text(workdir.file("precision.md"), text + "\n")
  plot(workdir.file("precision.png"), bases, cells)
  return text, ["precision.md", "precision.json", "precision.png"]


def format_table(rows, seeds):
  """Rows of the precision experiment: t_gen and final test accuracy per seed."""
  lines = [f"| base-phase cross-entropy | ticket-phase cross-entropy | t_gen (seeds "
           f"{' / '.join(map(str, seeds))}) | final test acc |", "| --- | --- | --- | --- |"]
  for r in rows:
    runs = sorted(r["runs"], key=lambda x: x["seed"])
    lines.append(f"| {r['base']} | {r['ticket']} | {report.steps_text([x['t_gen'] for x in runs])} | "
                 + " / ".join(f"{x['final_test_acc']:.3f}" for x in runs) + " |")
  return "\n".join(lines)


def plot(path, bases, cells):
  """One panel per ticket-phase precision: test accuracy of the tickets cut from each
  base (solid, seeds thin) and of the dense model trained in that precision (dashed)."""
  plt = report.pyplot()
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


@claim("P1", "Finding of this project (not a claim of the paper): the speed-up depends on "
       "the cross-entropy's precision; which phase needs it, the base (the mask) or the "
       "ticket's own training?", ["modadd_precision"],
       "python launch/main.py --config=configs/modadd_precision.py", "precision")
def loss_precision(root, figures):
  out = root["modadd_precision"].json("precision.json")
  budget = root["modadd_precision"].phase(os.path.join("base_exact", "dense")).steps[-1]
  dense = {r["base"]: {x["seed"]: x for x in r["runs"]} for r in out["rows"]
           if r["ticket"] == "(dense)"}
  cells = [r for r in out["rows"] if r["ticket"] != "(dense)"]
  seeds = sorted(out["seeds"])
  lines = ["| mask from base trained with | ticket trained with | ticket t_gen (seeds "
           + " / ".join(map(str, seeds)) + ") | dense t_gen, same precision as the ticket "
           "| speed-up over that dense |", "| --- | --- | --- | --- | --- |"]
  parts = []
  for r in cells:
    t = {x["seed"]: x for x in r["runs"]}
    ref = dense[r["ticket"]]
    sp = [speedup(ref[s]["t_gen"], t[s]["t_gen"], int(budget)) for s in seeds]
    _, text = summarize(sp)
    lines.append(f"| {r['base']} | {r['ticket']} | "
                 + " / ".join(steps(t[s]["t_gen"]) for s in seeds) + " | "
                 + " / ".join(steps(ref[s]["t_gen"]) for s in seeds) + f" | {text} |")
    parts.append(f"{r['base']} mask, {r['ticket']} training: {text.split(' (')[0]}")
  res = root["modadd_precision"]
  modes = out["modes"]
  bases = {m: res.phase(os.path.join(f"base_{m}", "dense")) for m in modes}
  grid = [(b, t, res.phase(os.path.join(f"base_{b}", f"ticket_{t}"))) for b in modes
          for t in modes]
  plot(os.path.join(figures, "claim_p1.png"), bases, grid)
  figs = ("claim_p1.png",)
  return Finding("; ".join(parts), "finding", "descriptive: speed-up of each cell's "
                 "grokked ticket over the dense model trained with the ticket's precision",
                 "\n".join(lines), figs)
