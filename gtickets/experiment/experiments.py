"""Each experiment of the paper as a function of (config, workdir).

``config.experiment`` names one; ``launch/main.py`` runs it. All share the
workdir's base phase ``dense`` (trained once, reused by every experiment with
the same task/model/optimizer/training config) and write their own ticket
phase(s), table (``<phase>/report.md``/``.json``) and PNG figure into the workdir:

  main            dense vs grokked vs random tickets (paper Fig. 1)
  pruning_time    tickets from many base checkpoints (Fig. 4a)
  prune_ratio     grokked tickets over a grid of k (Fig. 3)
  norm_controls   dense from r_p * theta_0, p = 1, 2 (Figs. 5a, 6)
  pai             random, SNIP, GraSP, SynFlow at the ticket's k (Fig. 5b)
  critical_ratio  largest k that still generalizes without weight decay (Sec. 4)
  precision       base-phase x ticket-phase cross-entropy precision (issue 10)
"""
import dataclasses
import os

from gtickets import config as config_lib
from gtickets import storage, tasks
from gtickets.experiment import report, variants
from gtickets.experiment.pipeline import make_setup, run_dense, run_main, run_tickets


def _measure_series(table, xs, x_of, keys):
  """{key: (means, stds)} of the table's entries ordered by ``xs``."""
  by_x = {x_of(e): e for e in table}
  return {k: ([by_x[x][k]["mean"] for x in xs], [by_x[x][k]["std"] for x in xs])
          for k in keys}


def _write(directory, name, payload):
  storage.write_json(os.path.join(directory, f"{name}.json"), payload)


def main(config, workdir, progress=True):
  dense, tickets = run_main(config, workdir, progress)
  text = report.write_summary(workdir, [dense, tickets], config)
  score = tasks.MODULES[config.task.name].SCORE
  loss = "loss" + (f" (threshold {config.threshold:g})" if config.threshold_on == "loss" else "")
  report.plot_curves(os.path.join(workdir, "curves.png"), [dense, tickets],
                     title=f"{tasks.describe(config.task)}, {config.model.name}",
                     metrics=[("test_acc", "train_acc"), ("test_loss", "train_loss")],
                     ylabels=[score, loss])
  return text, ["summary.json", "summary.md", "curves.png"]


def pruning_time(config, workdir, progress=True):
  dense, res = run_main(config, workdir, progress)
  table = report.summary_table([res])
  steps = sorted({e["mask_step"] for e in table})
  base_acc = {s: dense.curves["test_acc"][:, list(dense.steps).index(s)] for s in steps}
  series = _measure_series(table, steps, lambda e: e["mask_step"],
                           ["t_gen", "final_test_acc"])
  series["base test acc at pruning step"] = (
      [float(base_acc[s].mean()) for s in steps], [float(base_acc[s].std()) for s in steps])
  name = config.ticket.phase
  report.plot_measures_against(os.path.join(workdir, f"{name}.png"), steps, series,
                               "pruning step (base checkpoint)", "tickets by pruning time")
  text = report.write_summary(workdir, [res], config, name=name)
  _write(workdir, f"{name}_base_acc", {str(s): base_acc[s].tolist() for s in steps})
  return text, [f"{name}.md", f"{name}.json", f"{name}.png"]


def prune_ratio(config, workdir, progress=True):
  _, res = run_main(config, workdir, progress)
  table = report.summary_table([res])
  ks = [e["prune_ratio"] for e in table]
  series = _measure_series(table, ks, lambda e: e["prune_ratio"],
                           ["t_mem", "t_gen", "tau_grok"])
  name = config.ticket.phase
  report.plot_measures_against(os.path.join(workdir, f"{name}.png"), ks, series,
                               "prune ratio k (fraction removed)", "grokked tickets by k")
  return report.write_summary(workdir, [res], config, name=name), [
      f"{name}.md", f"{name}.json", f"{name}.png"]


def _curves_experiment(config, workdir, progress, norms=False):
  dense, res = run_main(config, workdir, progress)
  name = config.ticket.phase
  metrics = [("test_acc", "train_acc")] + ([("l1", None), ("l2", None)] if norms else [])
  report.plot_curves(os.path.join(workdir, f"{name}.png"), [dense, res], title=name,
                     metrics=metrics, ylabels=["accuracy"] + (["L1 norm", "L2 norm"] if norms else []))
  return report.write_summary(workdir, [dense, res], config, name=name), [
      f"{name}.md", f"{name}.json", f"{name}.png"]


def norm_controls(config, workdir, progress=True):
  return _curves_experiment(config, workdir, progress, norms=True)


def pai(config, workdir, progress=True):
  return _curves_experiment(config, workdir, progress)


def critical_ratio_search(passes, levels=(0.1, 0.01), hi=1.0):
  """Largest k < hi with ``passes``, coarse to fine; assumes passing is monotone in k.

  ``passes(ks) -> [bool]`` evaluates one grid at once (one batched phase). The
  first level tries k = s, 2s, ... < hi; each next level tries its finer grid
  strictly between the best k so far (0 if none) and the next coarser point.
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
    lo, span = (best if best is not None else 0.0), step
  return best, history


def critical_ratio(config, workdir, progress=True):
  """Grokked tickets (and dense) without weight decay; the largest k that generalizes.

  A k passes when every seed's ticket reaches the test-accuracy threshold within
  ``train.num_steps``. Each level of the search is one batched ticket phase.
  """
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  base_phase = config.ticket.phase
  results = []

  def passes(ks):
    c = config.copy_and_resolve_references()
    c.ticket.prune_ratios = tuple(ks)
    c.ticket.phase = f"{base_phase}_{len(results)}"
    c.ticket.variants = ("grokked",) + (("dense",) if not results else ())
    res = run_tickets(dataclasses.replace(setup, config=c), workdir, dense, progress)
    results.append(res)
    rows = [r for r in res.rows() if r["variant"] == "grokked"]
    return [all(r["t_gen"] is not None for r in rows if r["prune_ratio"] == k) for k in ks]

  k_crit, history = critical_ratio_search(passes, tuple(config.critical.levels))
  table = report.summary_table(results)
  _write(workdir, base_phase, {"critical_ratio": k_crit, "weight_decay": config.ticket.weight_decay,
                               "history": history, "table": table})
  ks = sorted({e["prune_ratio"] for e in table if e["variant"] == "grokked"})
  grok = [e for e in table if e["variant"] == "grokked"]
  series = _measure_series(grok, ks, lambda e: e["prune_ratio"], ["final_test_acc", "t_gen"])
  report.plot_measures_against(os.path.join(workdir, f"{base_phase}.png"), ks, series,
                               "prune ratio k", ("no weight decay: critical k = " + (
                                 f"{k_crit}" if k_crit is not None else "none (no k generalizes)")))
  text = report.format_table(table) + f"\ncritical prune ratio (all seeds reach the threshold): {k_crit}"
  with open(os.path.join(workdir, f"{base_phase}.md"), "w") as f:
    f.write(text + "\n")
  return text, [f"{base_phase}.md", f"{base_phase}.json", f"{base_phase}.png"]


def precision(config, workdir, progress=True):
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
    sub = os.path.join(workdir, f"base_{base_mode}")
    setup = make_setup(c)
    bases[base_mode] = dense = run_dense(setup, sub, progress)
    for ticket_mode in modes:
      ct = c.copy_and_resolve_references()
      ct.ticket.cross_entropy = ticket_mode
      ct.ticket.phase = f"ticket_{ticket_mode}"
      res = run_tickets(dataclasses.replace(setup, config=ct), sub, dense, progress)
      cells.append((base_mode, ticket_mode, res))
  rows = [{"base": m, "ticket": "(dense)", "runs": bases[m].rows()} for m in modes]
  rows += [{"base": b, "ticket": t, "runs": res.rows()} for b, t, res in cells]
  _write(workdir, "precision", {"threshold": config.threshold, "seeds": list(config.seeds),
                                "modes": list(modes), "rows": rows})
  text = report.format_precision_table(rows, config.seeds)
  with open(os.path.join(workdir, "precision.md"), "w") as f:
    f.write(text + "\n")
  report.plot_precision(os.path.join(workdir, "precision.png"), bases, cells)
  return text, ["precision.md", "precision.json", "precision.png"]


EXPERIMENTS = {f.__name__: f for f in (main, pruning_time, prune_ratio, norm_controls,
                                       pai, critical_ratio, precision)}


def validate(config):
  """``gtickets.config.validate``, then the names this layer defines: the
  experiment and the ticket variants (registries: EXPERIMENTS, variants.VARIANTS)."""
  config_lib.validate(config)
  if config.experiment not in EXPERIMENTS:
    config_lib.fail("experiment", config.experiment, f"must be one of {tuple(EXPERIMENTS)}")
  names, known = config.ticket.variants, tuple(variants.VARIANTS)
  if not names or len(set(names)) != len(names) or any(v not in known for v in names):
    config_lib.fail("ticket.variants", names, f"distinct, each one of {known}")
  return config
