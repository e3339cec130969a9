"""Sweeps: the product of value lists over config fields, trained as vmapped batches.

``config.sweep.axes`` is a tuple of ``(field, values)`` pairs, e.g.

  (("seed", (0, 1, 2, 3, 4)), ("optim.lr", (3e-4, 1e-3, 3e-3)),
   ("optim.weight_decay", (0.3, 1.0, 3.0)), ("ticket.prune_ratio", (0.5, 0.7)))

Its points are the product of the lists. Fields in ``PER_RUN`` only change numbers
inside the compiled program, so points that differ only in them train together as
one vmapped batch (run axis padded and spread over every device, see
training/sharding.py); any other field (``task.train_fraction``,
``model.d_hidden``, ``train.num_steps``, ...) splits the sweep into *groups*, one
compiled program each, trained one after another in ``<workdir>/group_<id>/``
(its ``group.json`` names the values).

Per group: phase ``dense`` (one run per (seed, lr, weight decay)), then, unless
``ticket.variants`` is empty, phase ``tickets``: for every dense run, every prune
ratio (the ``ticket.prune_ratio`` axis, else ``ticket.prune_ratios``) and every
variant of ``ticket.variants`` (grokked / random / any registered variant), a run
with its base's lr and weight decay, mask from the base's final weights, rewound
to theta_0. Both phases are the main pipeline's (experiment/pipeline.py), with the lr
and weight decay of each run traced (``make_setup(per_run_optim=True)``); each resumes
as every phase does; a finished group is read back.

Results: ``sweep.csv`` / ``sweep.json`` (one row per run: every swept field, the
variant, t_mem, t_gen, tau_grok, final accuracies, diverged), ``sweep.md`` (per
point: t_gen per seed and its median, "-" = not reached) and ``sweep.png``
(median t_gen against the first swept field that is not the seed).
"""
import itertools
import os

import numpy as np
from ml_collections.config_flags import config_path

from gtickets import config as config_lib
from gtickets import identity, storage
from gtickets.experiment import pipeline

SEED, LR, WD, K = "seed", "optim.lr", "optim.weight_decay", "ticket.prune_ratio"
PER_RUN = (SEED, LR, WD, K)   # vary inside one vmapped program
_RUN_KEY = {SEED: "seed", LR: "lr", WD: "weight_decay", K: "prune_ratio"}


def axes(config):
  """The sweep's axes as an ordered {field: tuple of values}."""
  return {f: tuple(v) for f, v in config.sweep.axes}


def validate(config):
  """Raises ConfigError (one line) on a bad axis, before anything is trained."""
  if config.task.data_seed == -1:
    config_lib.fail("task.data_seed", -1, "a sweep trains every point on one shared split: "
                    "give a data seed >= 0 (or sweep it as an axis)")
  pairs = config.sweep.axes
  if not pairs:
    config_lib.fail("sweep.axes", pairs, "a non-empty tuple of (field, values) pairs")
  fields = [p[0] if isinstance(p, (tuple, list)) and len(p) == 2 else None for p in pairs]
  if None in fields or len(set(fields)) != len(fields):
    config_lib.fail("sweep.axes", pairs, "(field, values) pairs, each field once")
  for field, values in pairs:
    if not isinstance(values, (tuple, list)) or not values or len(set(values)) != len(values):
      config_lib.fail("sweep.axes", field, "each field needs a non-empty tuple of distinct values")
    if field in (SEED, K) or field.startswith(("sweep.", "experiment", "name")):
      continue
    try:
      old = config_path.get_value(field, config)
    except (KeyError, AttributeError, IndexError, ValueError):
      config_lib.fail("sweep.axes", field, "not a config field (e.g. 'optim.lr', 'seed')")
    if isinstance(old, dict) or hasattr(old, "keys"):
      config_lib.fail("sweep.axes", field, "names a group of fields, not one field")
  if any(f.startswith(("sweep.", "experiment", "name")) for f in fields):
    config_lib.fail("sweep.axes", fields, "cannot sweep 'experiment', 'name' or 'sweep.*'")
  ax = axes(config)
  for field, values in ax.items():  # every value is checked where the config checks it
    for v in values:
      c = config.copy_and_resolve_references()
      if field == SEED:
        c.seeds = (v,)
      elif field == K:
        c.ticket.prune_ratios = (v,)
      else:
        try:
          config_path.set_value(field, c, v)
        except (TypeError, ValueError) as e:
          config_lib.fail("sweep.axes", f"{field}={v!r}", f"wrong type: {e}")
      config_lib.validate(c)
  if K in ax and any(not 0 < k < 1 for k in ax[K]):
    config_lib.fail("sweep.axes", ax[K], "ticket.prune_ratio values must be in (0, 1)")


def groups(config):
  """[(group values {field: value}, group config)]: one per point of the non-per-run
  axes, in grid order; per-run axes stay in the sweep (see ``dense_runs``)."""
  ax = axes(config)
  shared = [f for f in ax if f not in PER_RUN]
  out = []
  for values in itertools.product(*(ax[f] for f in shared)):
    c = config.copy_and_resolve_references()
    for f, v in zip(shared, values):
      config_path.set_value(f, c, v)
    out.append((dict(zip(shared, values)), c))
  return out


def dense_runs(config):
  """One run per (seed, lr, weight decay) point, seeds innermost."""
  ax = axes(config)
  seeds = ax.get(SEED, tuple(config.seeds))
  lrs, wds = ax.get(LR, (config.optim.lr,)), ax.get(WD, (config.optim.weight_decay,))
  return [{"run": i, "variant": "dense", "seed": s, "lr": lr, "weight_decay": wd,
           "prune_ratio": 0.0, "data_seed": config.task.data_seed}
          for i, (lr, wd, s) in enumerate(itertools.product(lrs, wds, seeds))]


def _identity(config):
  return identity.of(config, identity.DENSE + ("ticket",))


def _pipeline_config(config):
  """A group's config as the pipeline reads it: the swept ks as ``ticket.prune_ratios``,
  ``ticket.variants`` without dense (every dense run is the dense phase's)."""
  c = config.copy_and_resolve_references()
  c.ticket.prune_ratios = tuple(axes(config).get(K, tuple(config.ticket.prune_ratios)))
  c.ticket.variants = tuple(v for v in c.ticket.variants if v != "dense")
  return c


def ticket_runs(config, dense):
  """The ticket runs of a group: every variant at every k from each dense run (k
  outermost), with its base's lr and weight decay (pipeline.ticket_runs)."""
  return pipeline.ticket_runs(_pipeline_config(config), dense)


def run_group(config, directory, progress=True):
  """The dense and ticket phases of one group, through the main pipeline with a lr and
  weight decay per run (pipeline.make_setup(per_run_optim=True)); returns their
  PhaseResults. The ticket runs (every ``ticket.variants`` at every swept k, from each
  dense run) keep their base's lr and weight decay."""
  c = _pipeline_config(config)
  setup = pipeline.make_setup(c, per_run_optim=True)
  identity = _identity(config)
  dense = pipeline.run_dense(setup, directory, progress, runs=dense_runs(c), identity=identity)
  if not c.ticket.variants:
    return [dense]
  return [dense, pipeline.run_tickets(setup, directory, dense, progress, identity=identity)]


def group_directory(workdir, values):
  if not values:
    return workdir
  return os.path.join(workdir, "group_" + storage.json_digest(values)[:8])


def sweep(config, workdir, progress=True):
  """Trains every group of the sweep and writes its table and figure."""
  validate(config)
  ax = axes(config)
  rows = []
  grid = groups(config)
  for n, (values, c) in enumerate(grid):
    directory = group_directory(workdir, values)
    os.makedirs(directory, exist_ok=True)
    if values:
      storage.write_json(os.path.join(directory, "group.json"), values)
      print(f"group {n + 1}/{len(grid)}: {values}", flush=True)
    for res in run_group(c, directory, progress):
      for r in res.rows():
        row = {**values, **{f: r[_RUN_KEY[f]] for f in PER_RUN if f in ax}}
        row.update({k: r[k] for k in ("variant", "t_mem", "t_gen", "tau_grok", "diverged")
                    if k in r})
        row["final_test_acc"] = float(res.curves["test_acc"][r["run"], -1])
        row["final_train_acc"] = float(res.curves["train_acc"][r["run"], -1])
        row["phase"] = res.name
        rows.append(row)
  return _write_results(workdir, config, ax, rows)


def point_rows(ax, rows, budget):
  """Per point (every swept field but the seed, and the variant): t_gen per seed
  and the median ("not reached" counted as the step budget, said with ">=")."""
  fields = [f for f in ax if f != SEED]
  points = {}
  for r in rows:
    points.setdefault(tuple(r.get(f) for f in fields) + (r["variant"],), []).append(r)
  out = []
  for key, rs in points.items():
    t = [r["t_gen"] for r in rs]
    filled = [budget if x is None else x for x in t]
    med = float(np.median(filled))
    out.append({**dict(zip(fields + ["variant"], key)),
                "t_gen per seed": " / ".join("-" if x is None else f"{x:,}" for x in t),
                "median t_gen": (">=" if med >= budget and None in t else "") + f"{med:,.0f}",
                "reached": f"{sum(x is not None for x in t)}/{len(t)}"})
  return out


def _write_results(workdir, config, ax, rows):
  from gtickets.experiment import report
  storage.write_json(os.path.join(workdir, "sweep.json"),
                     {"axes": {f: list(v) for f, v in ax.items()}, "rows": rows})
  storage.write_csv(os.path.join(workdir, "sweep.csv"), rows)
  budget = config.train.num_steps
  points = point_rows(ax, rows, budget)
  text = (f"{len(rows)} runs ({sum(r['phase'] == 'dense' for r in rows)} dense), "
          f"{len(groups(config))} group(s); t_gen = first step with test accuracy >= "
          f"{config.threshold:g}; '-' = not reached in {budget:,} steps\n\n"
          + report.markdown_table(points))
  storage.write_text(os.path.join(workdir, "sweep.md"), text + "\n")
  report.plot_sweep(os.path.join(workdir, "sweep.png"), ax, rows, budget)
  return text, ["sweep.md", "sweep.csv", "sweep.json", "sweep.png"]
