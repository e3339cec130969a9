"""sweep: the product of value lists over config fields, trained as vmapped batches.

``config.sweep.axes`` is a tuple of ``(field, values)`` pairs, e.g.

  (("seed", (0, 1, 2, 3, 4)), ("optim.lr", (3e-4, 1e-3, 3e-3)),
   ("optim.weight_decay", (0.3, 1.0, 3.0)), ("ticket.prune_ratio", (0.5, 0.7)))

Its points are the product of the lists. Fields in ``PER_RUN`` only change numbers
inside the compiled program, so points that differ only in them train together as
one vmapped batch (run axis padded and spread over every device, see
training/sharding.py): the seed, lr, weight decay, prune ratio and the modular
operation (``task.operation``: each run its own labels, data with a run axis; the
operations of one sweep must have the same number of pairs, so division, which drops
b = 0, sweeps apart); any other field (``task.train_fraction``,
``model.d_hidden``, ``train.num_steps``, ...) splits the sweep into *groups*, one
compiled program each, trained one after another in ``<workdir>/group_<id>/``
(its ``group.json`` names the values).

Per group: phase ``dense`` (one run per (operation, lr, weight decay, seed)), then,
unless ``ticket.variants`` is empty, phase ``tickets``: for every dense run, every
prune ratio (the ``ticket.prune_ratio`` axis, else ``ticket.prune_ratios``) and every
variant of ``ticket.variants`` (grokked / random / any registered variant), a run
with its base's lr, weight decay and operation, mask from the base's final weights,
rewound to theta_0. Both phases are the main pipeline's (experiment/pipeline.py), with
the lr and weight decay of each run traced where either is swept
(``make_setup(per_run_optim=True)``) and the data stacked per run where the operation
is; each resumes as every phase does; a finished group is read back.

Results: ``sweep.csv`` / ``sweep.json`` (one row per run: every swept field, the
variant, t_mem, t_gen, tau_grok, final accuracies, diverged), ``sweep.md`` (per
point: t_gen per seed and its median, "-" = not reached) and ``sweep.png``
(median t_gen against the first swept field that is not the seed).

  python launch/main.py --config=configs/sweep_modadd.py:small
"""
import itertools
import os

import ml_collections
import pandas as pd
from ml_collections.config_flags import config_path

from gtickets import config as config_lib
from gtickets import identity, storage
from gtickets.experiment import pipeline, report
from gtickets.experiment.claims import median_bound, median_steps
from gtickets.experiment.setup import PER_RUN_TASK, make_setup
from gtickets.experiment.registry import experiment
from gtickets.tasks import make_task

SEED, LR, WD, K = "seed", "optim.lr", "optim.weight_decay", "ticket.prune_ratio"
TASK_FIELDS = {f"task.{f}": f for f in PER_RUN_TASK}  # e.g. task.operation: data per run
PER_RUN = (SEED, LR, WD, K, *TASK_FIELDS)   # vary inside one vmapped program
_RUN_KEY = {SEED: "seed", LR: "lr", WD: "weight_decay", K: "prune_ratio", **TASK_FIELDS}


def axes(config):
  """The sweep's axes as an ordered {field: tuple of values}."""
  return {f: tuple(v) for f, v in config.sweep.axes}


def section():
  c = ml_collections.ConfigDict()
  # ((field, values), ...): e.g. (("seed", (0, 1)), ("optim.lr", (1e-3, 3e-3)))
  c.axes = ()
  return c


def check(config):
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
  for axis, field in TASK_FIELDS.items():  # stacked per run: every value's data one shape
    if axis in ax:
      sizes = {v: _examples(config, field, v) for v in ax[axis]}
      if len(set(sizes.values())) > 1:
        config_lib.fail("sweep.axes", axis, f"values trained in one program need the same "
                        f"number of pairs (here {sizes}): sweep the others apart")


def _examples(config, field, value):
  """The number of examples of ``config``'s task with ``field`` set to ``value``."""
  task_config = config.task.copy_and_resolve_references()
  task_config[field] = value
  task = make_task(task_config, config.train.cross_entropy)
  return len(task.x_train) + len(task.x_test)


def resolve(config):
  """The sweep as it trains: ``seeds`` are its seed axis (with every override applied),
  so the launch record, the printed header and the config file name the seeds trained."""
  seeds = axes(config).get(SEED)
  if seeds is None or tuple(config.seeds) == tuple(seeds):
    return config
  c = config.copy_and_resolve_references()
  c.seeds = tuple(seeds)
  return c


def largest_phase(config):
  """Runs of the sweep's largest phase: a group's dense runs, or its tickets (every
  variant at every k from each of them)."""
  n = len(dense_runs(config))
  ks = axes(config).get(K, tuple(config.ticket.prune_ratios))
  return max(n, n * len(ks) * len([v for v in config.ticket.variants if v != "dense"]))


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
  """One run per (operation, lr, weight decay, seed) point, seeds innermost; a run
  names its operation only where the operation is swept."""
  ax = axes(config)
  seeds = ax.get(SEED, tuple(config.seeds))
  lrs, wds = ax.get(LR, (config.optim.lr,)), ax.get(WD, (config.optim.weight_decay,))
  swept = {f: ax[a] for a, f in TASK_FIELDS.items() if a in ax}
  tasks = [dict(zip(swept, v)) for v in itertools.product(*swept.values())]
  return [{"run": i, "variant": "dense", "seed": s, "lr": lr, "weight_decay": wd,
           "prune_ratio": 0.0, "data_seed": config.task.data_seed, **t}
          for i, (t, lr, wd, s) in enumerate(itertools.product(tasks, lrs, wds, seeds))]


def per_run_optim(config):
  """Whether the lr or the weight decay is swept (then traced per run; else the
  config's, as constants: a point then trains bit for bit as a plain run)."""
  return LR in axes(config) or WD in axes(config)


def _identity(config, task):
  return identity.of(config, identity.DENSE + ("ticket",), data_digest=task.data_digest)


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


def run_group(config, workdir):
  """The dense and ticket phases of one group (``workdir``: its folder), through the main
  pipeline with a lr and weight decay per run where they are swept (``per_run_optim``)
  and an operation per run where it is; returns their PhaseResults. The ticket runs
  (every ``ticket.variants`` at every swept k, from each dense run) keep their base's
  lr, weight decay and operation."""
  c = _pipeline_config(config)
  identity = _identity(config, make_setup(c).task)
  dense = pipeline.run_dense(c, workdir, runs=dense_runs(c), identity=identity,
                             per_run_optim=per_run_optim(config))
  if not c.ticket.variants:
    return [dense]
  return [dense, pipeline.run_tickets(c, workdir, dense, identity=identity)]


def group_directory(workdir, values):
  """The group's folder of phases (the workdir itself for a sweep of one group)."""
  if not values:
    return workdir
  return workdir.sub("group_" + storage.json_digest(values)[:8])


@experiment("sweep", section, check, largest_phase, resolve=resolve)
def run(config, workdir):
  """Trains every group of the sweep and writes its table and figure."""
  ax = axes(config)
  rows = []
  grid = groups(config)
  for n, (values, c) in enumerate(grid):
    group = group_directory(workdir, values)
    os.makedirs(group.path, exist_ok=True)
    if values:
      storage.write_json(group.file("group.json"), values)
      print(f"group {n + 1}/{len(grid)}: {values}", flush=True)
    for res in run_group(c, group):
      for r in res.rows():
        row = {**values, **{f: r[_RUN_KEY[f]] for f in PER_RUN if f in ax}}
        row.update({k: r[k] for k in ("variant", "t_mem", "t_gen", "tau_grok", "diverged")
                    if k in r})
        row["final_test_acc"] = float(res.curves["test_acc"][r["run"], -1])
        row["final_train_acc"] = float(res.curves["train_acc"][r["run"], -1])
        row["phase"] = res.name
        rows.append(row)
  return _write_results(workdir.path, config, ax, rows)


def point_rows(ax, rows, budget):
  """Per point (every swept field but the seed, and the variant): t_gen per seed
  and the median ("not reached" counted as the step budget; a median those reach is a
  bound, said with ">=": claims.median_bound)."""
  keys = [f for f in ax if f != SEED] + ["variant"]
  out = []
  for _, group in pd.DataFrame(rows, dtype=object).groupby(keys, sort=False, dropna=False):
    runs = group.to_dict("records")
    t = [r["t_gen"] for r in runs]
    out.append({**{k: runs[0][k] for k in keys},
                "t_gen per seed": report.steps_text(t),
                "median t_gen": median_steps(t, budget),
                "reached": f"{sum(x is not None for x in t)}/{len(t)}"})
  return out


def _write_results(workdir, config, ax, rows):
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
  plot(os.path.join(workdir, "sweep.png"), ax, rows, budget)
  return text, ["sweep.md", "sweep.csv", "sweep.json", "sweep.png"]


def plot(path, axes, rows, budget):
  """Median t_gen over seeds against the first swept field that is not the seed
  (log x when its values span > 10x), one line per point of the other fields,
  one panel per variant; "not reached" counted at the budget, and a median that is
  therefore a lower bound drawn with an open triangle."""
  plt = report.pyplot()
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
            r.get(x_field, 0), []).append((budget, ">=") if r["t_gen"] is None
                                          else (r["t_gen"], "="))
    categories = [x for x in dict.fromkeys(r.get(x_field, 0) for r in rows)
                  if not isinstance(x, (int, float))]  # e.g. operations: in axis order
    at = lambda x: categories.index(x) if categories else x
    for key, pts in list(lines.items())[:12]:
      xs = sorted(pts, key=at)
      meds = [median_bound(pts[x]) for x in xs]
      label = ", ".join(f"{f.split('.')[-1]}={k:g}" if isinstance(k, (int, float)) else
                        f"{f.split('.')[-1]}={k}" for f, k in zip(others, key))
      line, = ax.plot([at(x) for x in xs], [m for m, _ in meds], marker="o",
                      label=label or None)
      bounds = [(at(x), m) for x, (m, b) in zip(xs, meds) if b != "="]
      if bounds:
        ax.plot(*zip(*bounds), "^", mfc="white", color=line.get_color())
    xs_all = [r.get(x_field, 0) for r in rows]
    if categories:
      ax.set_xticks(range(len(categories)), categories, rotation=45, ha="right", fontsize=7)
    elif x_field and min(xs_all) > 0 and max(xs_all) / min(xs_all) > 10:
      ax.set_xscale("log")
    ax.axhline(budget, color="gray", lw=0.8, ls=":")
    ax.set_xlabel(x_field or "")
    ax.set_title(v)
    ax.grid(alpha=0.3)
    if any(k for k in lines) and len(lines) > 1:
      ax.legend(fontsize=7)
  panels[0][0].set_ylabel(f"median t_gen (open triangle: a lower bound, runs not reaching "
                          f"it in {budget:,} counted there)")
  storage.save_figure(fig, path, 130)
