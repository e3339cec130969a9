"""What makes the network grok soonest, and does a ticket add to it? (issue 15)

Same seeds, same task and model: the main experiment's dense runs and grokked
(and random) tickets, read back from the workdir (trained if missing); dense runs
with each accelerator of ``config.accelerate.names`` in ``<workdir>/accel_<name>/``;
and grokked tickets cut from the plain dense runs but trained with Grokfast
(``config.accelerate.ticket_grokfast``; phase ``tickets_grokfast``). Writes
``accelerators.md`` / ``.json`` (t_gen per seed, the median, and the speed-up over
plain dense per seed) and ``accelerators.png`` (mean test accuracy curves).

  grokfast_ema   optim.grokfast = "ema"      (training/accelerators.py)
  grokfast_ma    optim.grokfast = "ma"
  stablemax      train.cross_entropy = "stablemax"  (tasks/cross_entropy.py)
  perpendicular  optim.perpendicular = True (with the run's weight decay)
  perpendicular_no_wd  the same with optim.weight_decay = 0 (Prieto et al.'s setting:
                 with weight decay 1 the weights shrink to a tenth and nothing is fit)
"""
import dataclasses
import os

import numpy as np

from gtickets import config as config_lib
from gtickets import storage
from gtickets.experiment import report
from gtickets.experiment.pipeline import make_setup, run_dense, run_tickets

ACCELERATORS = {
    "grokfast_ema": (("optim", "grokfast", "ema"),),
    "grokfast_ma": (("optim", "grokfast", "ma"),),
    "stablemax": (("train", "cross_entropy", "stablemax"),),
    "perpendicular": (("optim", "perpendicular", True),),
    # the setting of Prieto et al.: the perpendicular gradient in place of weight decay
    "perpendicular_no_wd": (("optim", "perpendicular", True), ("optim", "weight_decay", 0.0)),
}


def validate(config):
  names = config.accelerate.names
  if len(set(names)) != len(names) or any(n not in ACCELERATORS for n in names):
    config_lib.fail("accelerate.names", names, f"distinct, each one of {tuple(ACCELERATORS)}")
  if config.accelerate.ticket_grokfast not in ("", "ema", "ma"):
    config_lib.fail("accelerate.ticket_grokfast", config.accelerate.ticket_grokfast,
                    "'' (no such ticket phase), 'ema' or 'ma'")


def with_accelerator(config, name):
  c = config.copy_and_resolve_references()
  for group, field, value in ACCELERATORS[name]:
    c[group][field] = value
  return c


def accelerators(config, workdir, progress=True):
  validate(config)
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  rows = [("dense", dense, "dense")]
  tickets = run_tickets(setup, workdir, dense, progress)
  rows += [(f"{v} ticket", tickets, v) for v in config.ticket.variants if v != "dense"]
  for name in config.accelerate.names:
    c = with_accelerator(config, name)
    rows.append((f"dense + {name}",
                 run_dense(make_setup(c), os.path.join(workdir, f"accel_{name}"), progress),
                 "dense"))
  if config.accelerate.ticket_grokfast:
    c = config.copy_and_resolve_references()
    c.ticket.phase, c.ticket.variants = "tickets_grokfast", ("grokked",)
    c.ticket.grokfast = config.accelerate.ticket_grokfast
    res = run_tickets(dataclasses.replace(setup, config=c), workdir, dense, progress)
    rows.append((f"grokked ticket + grokfast_{config.accelerate.ticket_grokfast}", res,
                 "grokked"))
  payload = table_payload(config, rows)
  storage.write_json(os.path.join(workdir, "accelerators.json"), payload)
  text = report.markdown_table(table_rows(payload))
  storage.write_text(os.path.join(workdir, "accelerators.md"), text + "\n")
  plot(os.path.join(workdir, "accelerators.png"), payload)
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
    out.append({
        "run": row["label"],
        "t_gen per seed": " / ".join("-" if x is None else f"{x:,}" for x in t),
        "median t_gen": f"{np.median([fill(x) for x in t]):,.0f}"
                        + (" (>=)" if np.median([fill(x) for x in t]) >= budget else ""),
        "reached": f"{sum(x is not None for x in t)}/{len(t)}",
        "speed-up over dense per seed": " / ".join(
            mark(d, x) + ("" if d is None and x is None else f"{r:.1f}x")
            for r, d, x in zip(ratios, dense, t)),
        "median speed-up": f"{np.median(ratios):.1f}x"})
  return out


def plot(path, payload):
  plt = report.pyplot()  # pylint: disable=protected-access
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
