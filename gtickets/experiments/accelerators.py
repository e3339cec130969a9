"""What makes the network grok soonest, and does a ticket add to it? (issue 15)

Same seeds, same task and model: the main experiment's dense runs and grokked
(and random) tickets, read back from the workdir (trained if missing); dense runs
with each accelerator of ``config.accelerators.names`` in ``<workdir>/accel_<name>/``;
and grokked tickets cut from the plain dense runs but trained with Grokfast
(``config.accelerators.ticket_grokfast``; phase ``tickets_grokfast``). Writes
``accelerators.md`` / ``.json`` (t_gen per seed, the median, and the speed-up over
plain dense per seed) and ``accelerators.png`` (mean test accuracy curves).

  python launch/main.py --config=configs/modadd_accelerators.py --workdir=workdirs/modadd

  grokfast_ema   optim.grokfast = "ema"      (training/accelerators.py)
  grokfast_ma    optim.grokfast = "ma"
  stablemax      train.cross_entropy = "stablemax"  (tasks/cross_entropy.py)
  perpendicular  optim.perpendicular = True (with the run's weight decay)
  perpendicular_no_wd  the same with optim.weight_decay = 0 (Prieto et al.'s setting:
                 with weight decay 1 the weights shrink to a tenth and nothing is fit)
"""
import os

import ml_collections
import numpy as np

from gtickets import config as config_lib
from gtickets import storage
from gtickets.experiment import report
from gtickets.experiment.claims import (Finding, claim, median_bound, median_steps, speedup,
                                        summarize)
from gtickets.experiment.pipeline import Tickets, run_dense, run_tickets
from gtickets.experiment.registry import experiment

ACCELERATORS = {
    "grokfast_ema": (("optim", "grokfast", "ema"),),
    "grokfast_ma": (("optim", "grokfast", "ma"),),
    "stablemax": (("train", "cross_entropy", "stablemax"),),
    "perpendicular": (("optim", "perpendicular", True),),
    # the setting of Prieto et al.: the perpendicular gradient in place of weight decay
    "perpendicular_no_wd": (("optim", "perpendicular", True), ("optim", "weight_decay", 0.0)),
}


def section():
  c = ml_collections.ConfigDict()
  c.names = ("grokfast_ema", "grokfast_ma", "stablemax", "perpendicular", "perpendicular_no_wd")
  c.ticket_grokfast = "ema"  # the grokked ticket trained with Grokfast too ('': not)
  return c


def check(config):
  names = config.accelerators.names
  if len(set(names)) != len(names) or any(n not in ACCELERATORS for n in names):
    config_lib.fail("accelerators.names", names, f"distinct, each one of {tuple(ACCELERATORS)}")
  if config.accelerators.ticket_grokfast not in ("", "ema", "ma"):
    config_lib.fail("accelerators.ticket_grokfast", config.accelerators.ticket_grokfast,
                    "'' (no such ticket phase), 'ema' or 'ma'")


def with_accelerator(config, name):
  c = config.copy_and_resolve_references()
  for group, field, value in ACCELERATORS[name]:
    c[group][field] = value
  return c


@experiment("accelerators", section, check)
def run(config, workdir):
  dense = run_dense(config, workdir)
  rows = [("dense", dense, "dense")]
  tickets = run_tickets(config, workdir, dense)
  rows += [(f"{v} ticket", tickets, v) for v in config.ticket.variants if v != "dense"]
  for name in config.accelerators.names:
    c = with_accelerator(config, name)
    rows.append((f"dense + {name}",
                 run_dense(c, workdir.sub(f"accel_{name}")),
                 "dense"))
  if config.accelerators.ticket_grokfast:
    res = run_tickets(config, workdir, dense,
                      Tickets("tickets_grokfast", grokfast=config.accelerators.ticket_grokfast),
                      variants=("grokked",))
    rows.append((f"grokked ticket + grokfast_{config.accelerators.ticket_grokfast}", res,
                 "grokked"))
  payload = table_payload(config, rows)
  storage.write_json(workdir.file("accelerators.json"), payload)
  text = report.markdown_table(table_rows(payload))
  storage.write_text(workdir.file("accelerators.md"), text + "\n")
  plot(workdir.file("accelerators.png"), payload)
  return text, ["accelerators.md", "accelerators.json", "accelerators.png"]


def table_payload(config, rows):
  """Per row: t_gen per seed (None = not reached), the mean test-accuracy curve."""
  seeds = list(config.seeds)
  out = {"seeds": seeds, "budget": config.train.num_steps, "threshold": config.threshold,
         "rows": []}
  for label, res, variant in rows:
    by_seed = {r["seed"]: (i, r) for i, r in enumerate(res.rows()) if r["variant"] == variant}
    idx = [by_seed[s][0] for s in seeds]
    out["rows"].append({
        "label": label, "phase": os.path.relpath(res.directory, os.path.dirname(res.directory)),
        "t_gen": [by_seed[s][1]["t_gen"] for s in seeds],
        "diverged": [bool(by_seed[s][1]["diverged"]) for s in seeds],
        "steps": res.steps.tolist(),
        "test_acc_mean": np.mean(res.curves["test_acc"][idx], axis=0).tolist()})
  return out


def table_rows(payload):
  budget = payload["budget"]
  dense = payload["rows"][0]["t_gen"]
  fill = lambda t: budget if t is None else t
  out = []
  for row in payload["rows"]:
    t = row["t_gen"]
    ratios = [fill(d) / fill(x) for d, x in zip(dense, t)]
    # not reached = reached at the budget: the ratio is then a bound
    mark = lambda d, x: "n/a " if d is None and x is None else ">=" if d is None else (
        "<=" if x is None else "")
    # both not reached: the ratio is unknown either way (counted as 1, both sides open)
    bounds = ["~" if d is None and x is None else mark(d, x) or "="
              for d, x in zip(dense, t)]
    med, bound = median_bound(list(zip(ratios, bounds)))
    out.append({
        "run": row["label"],
        "t_gen per seed": " / ".join("-" if x is None else f"{x:,}" for x in t),
        "median t_gen": median_steps(t, budget),
        "reached": f"{sum(x is not None for x in t)}/{len(t)}",
        "speed-up over dense per seed": " / ".join(
            mark(d, x) + ("" if d is None and x is None else f"{r:.1f}x")
            for r, d, x in zip(ratios, dense, t)),
        "median speed-up": ("" if bound == "=" else bound) + f"{med:.1f}x"})
  return out


def plot(path, payload):
  plt = report.pyplot()
  fig, ax = plt.subplots(figsize=(7.5, 4.2))
  for row in payload["rows"]:
    ax.plot(row["steps"], row["test_acc_mean"], label=row["label"])
  ax.axhline(payload["threshold"], color="gray", lw=0.8, ls=":")
  ax.set_xscale("symlog", linthresh=100)
  ax.set_xlim(0, payload["budget"])
  ax.set_xlabel("step")
  ax.set_ylabel(f"test accuracy (mean over {len(payload['seeds'])} seeds)")
  ax.legend(fontsize=7)
  ax.grid(alpha=0.3)
  storage.save_figure(fig, path, 130)


@claim("A1", "Beyond the paper (issue 15): what makes the network grok soonest (Grokfast, "
       "StableMax, perpendicular gradient, a grokked ticket), and does a ticket add to "
       "Grokfast?", ["modadd"], "python launch/main.py --config=configs/modadd_accelerators.py",
       "accelerators")
def soonest(root, figures):
  """Descriptive: each row's median speed-up over plain dense, same seeds."""
  payload = root["modadd"].json("accelerators.json")
  rows = table_rows(payload)
  plot(os.path.join(figures, "claim_a1.png"), payload)
  ranked = sorted(rows, key=lambda r: -float(r["median speed-up"].lstrip("<>=~").rstrip("x")))
  measured = "median speed-up over dense: " + "; ".join(
      f"{r['run']} {r['median speed-up']}" for r in ranked if r["run"] != "dense")
  t_gen = {r["label"]: r["t_gen"] for r in payload["rows"]}
  prefix = "grokked ticket + "
  for faster in [l for l in t_gen if l.startswith(prefix)]:
    # does the ticket add to the accelerator: over the plain ticket and over dense + it
    for slower in ("grokked ticket", "dense + " + faster[len(prefix):]):
      if slower in t_gen:
        _, text = summarize([speedup(a, b, payload["budget"])
                             for a, b in zip(t_gen[slower], t_gen[faster])])
        measured += f"; {faster} over {slower}: {text}"
  return Finding(measured, "finding", "descriptive: t_gen of plain dense / t_gen of each "
                 "row, per seed (not reached = the step budget, a bound)",
                 report.markdown_table(rows), ("claim_a1.png",))
