"""The paper's main pipeline: dense base runs, then tickets cut from them.

Phase ``dense``: one run per seed, all weights kept, trained from theta_0.
Phase ``tickets``: for each prune ratio k, ticket variant and seed, a mask is
cut and the kept weights are rewound to the base run's checkpoint at
``ticket.rewind_step`` (theta_0 by default, read back from orbax):
  * ``grokked``: global (or layer-wise) magnitude mask of the base run's weights
    at ``ticket.mask_step`` (the final checkpoint by default);
  * ``random``: a uniformly random mask at the same k (key from the run's seed).
All ticket runs train together in one batched program; their masks are saved
with orbax in ``tickets/masks``.
"""
import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np

from gtickets.config import resolve_step
from gtickets.experiment.phase import PhaseResult, claim_directory, run_phase
from gtickets.models import make_model
from gtickets.tasks import make_task
from gtickets.tickets import checkpoints
from gtickets.tickets import masks as masks_lib
from gtickets.training.trainer import make_trainer, init_keys


@dataclasses.dataclass
class Setup:
  """What every phase of one config shares: the task, model and trainer."""
  config: object
  task: object
  model: object
  trainer: object
  data: dict


def make_setup(config):
  task = make_task(config.task)
  model = make_model(config.model, task)
  return Setup(config, task, model, make_trainer(config, task, model), task.arrays())


def _training_config(config):
  """The config fields that determine a phase's training (checked on resume)."""
  d = config.to_dict()
  return {k: d[k] for k in ("task", "model", "optim", "train")}


def run_dense(setup, workdir, progress=True) -> PhaseResult:
  c = setup.config
  runs = [{"run": i, "variant": "dense", "seed": s, "prune_ratio": 0.0,
           "data_seed": c.task.data_seed} for i, s in enumerate(c.seeds)]
  params = setup.trainer.init_params(init_keys(c.seeds))
  masks = jax.vmap(masks_lib.ones_like)(params)
  return run_phase("dense", workdir, setup.trainer, setup.data, runs, params, masks,
                   c, manifest_config=_training_config(c), progress=progress)


def ticket_runs(config):
  """The run table of the ticket phase: (k, variant, seed) in that nesting."""
  mask_step = resolve_step(config.ticket.mask_step, config)
  rewind_step = resolve_step(config.ticket.rewind_step, config)
  runs = []
  for k in config.ticket.prune_ratios:
    for variant in config.ticket.variants:
      for base, seed in enumerate(config.seeds):
        runs.append({
            "run": len(runs), "variant": variant, "seed": seed, "prune_ratio": k,
            "data_seed": config.task.data_seed, "base_run": base,
            "mask_step": mask_step if variant == "grokked" else None,
            "rewind_step": rewind_step, "scope": config.ticket.scope})
  return runs


def make_ticket_mask(run, base_weights_at, scope):
  """The mask of one ticket run. ``base_weights_at(step)``: base params at step."""
  k = run["prune_ratio"]
  if run["variant"] == "grokked":
    return masks_lib.magnitude_mask(base_weights_at(run["mask_step"]), k, scope)
  if run["variant"] == "random":
    key = jax.random.fold_in(jax.random.key(run["seed"]), 1)
    return masks_lib.random_mask(key, base_weights_at(run["rewind_step"]), k, scope)
  raise ValueError(f"unknown ticket variant {run['variant']!r}")


def run_tickets(setup, workdir, dense: PhaseResult, progress=True) -> PhaseResult:
  c = setup.config
  runs = ticket_runs(c)
  base_params = {}

  def base_at(step):  # params of all base runs at `step`, from orbax, cached
    if step not in base_params:
      base_params[step] = checkpoints.restore_params(dense.checkpoint_dir, step)
    return base_params[step]

  manifest = {**_training_config(c), "ticket": c.ticket.to_dict(), "seeds": list(c.seeds)}
  mask_dir = os.path.join(claim_directory("tickets", workdir, runs, manifest), "masks")
  rewound = jax.tree.map(lambda *xs: jnp.stack(xs), *[
      jax.tree.map(lambda x: x[r["base_run"]], base_at(r["rewind_step"])) for r in runs])
  if os.path.exists(mask_dir):
    masks = checkpoints.load_tree(mask_dir)
  else:
    masks = jax.tree.map(lambda *xs: jnp.stack(xs), *[
        make_ticket_mask(r, lambda s, b=r["base_run"]: jax.tree.map(
            lambda x: x[b], base_at(s)), r["scope"]) for r in runs])
    checkpoints.save_tree(mask_dir, masks)
  return run_phase("tickets", workdir, setup.trainer, setup.data, runs, rewound,
                   masks, c, manifest_config=manifest, progress=progress)


def run_main(config, workdir, progress=True):
  """Dense base runs, then tickets: returns (dense, tickets) PhaseResults."""
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  return dense, run_tickets(setup, workdir, dense, progress)
