"""The paper's main pipeline: dense base runs, then tickets cut from them.

Phase ``dense``: one run per seed, all weights kept, trained from theta_0.
Ticket phase (folder ``config.ticket.phase``, default ``tickets``): for each
prune ratio k, variant, mask step and seed, one run whose mask and starting
weights come from the base run of that seed (``experiment/variants.py``):
by default ``grokked`` (magnitude mask of the final base weights, rewound to
theta_0, read back from orbax) and ``random`` (random mask, same k). All runs of
a phase train together in one batched program; masks are saved with orbax in
``<phase>/masks``. ``ticket.weight_decay`` >= 0 overrides the base's weight decay
for the ticket phase (the critical-ratio experiment trains without it), and a
non-empty ``ticket.cross_entropy`` the base's loss precision (the precision
experiment).
"""
import dataclasses
import os

import jax
import jax.numpy as jnp

from gtickets.config import resolve_step
from gtickets.experiment import variants
from gtickets.experiment.phase import (PhaseResult, add_checkpoints, claim_directory,
                                       run_phase)
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
  task = make_task(config.task, config.train.cross_entropy)
  model = make_model(config.model, task)
  return Setup(config, task, model, make_trainer(config, task, model), task.arrays())


def _training_config(config):
  """The config fields that determine a phase's training (checked on resume)."""
  d = config.to_dict()
  return {k: d[k] for k in ("task", "model", "optim", "train")}


def _stack_runs(trees):
  """One tree per run -> one tree with a leading run axis."""
  return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _dense_start(setup):
  params = setup.trainer.init_params(init_keys(setup.config.seeds))
  return params, jax.vmap(masks_lib.ones_like)(params)


def run_dense(setup, workdir, progress=True) -> PhaseResult:
  c = setup.config
  runs = [{"run": i, "variant": "dense", "seed": s, "prune_ratio": 0.0,
           "data_seed": c.task.data_seed} for i, s in enumerate(c.seeds)]
  params, masks = _dense_start(setup)
  return run_phase("dense", workdir, setup.trainer, setup.data, runs, params, masks,
                   c, manifest_config=_training_config(c), progress=progress)


def ticket_runs(config):
  """The run table of a ticket phase: (k, variant, mask step, seed) in that nesting.

  ``mask_step`` is recorded only for variants whose mask comes from a base
  checkpoint (grokked and the norm-matched controls); ``dense`` runs once per
  seed whatever the ks, with k = 0.
  """
  rewind_step = resolve_step(config.ticket.rewind_step, config)
  mask_steps = [resolve_step(s, config) for s in config.ticket.mask_steps]
  runs = []
  for k in config.ticket.prune_ratios:
    for variant in config.ticket.variants:
      if variant == "dense" and k != config.ticket.prune_ratios[0]:
        continue  # dense prunes nothing: one run per seed, recorded with k = 0
      for mask_step in (mask_steps if variant in variants.USES_MASK_STEP else [None]):
        for base, seed in enumerate(config.seeds):
          runs.append({
              "run": len(runs), "variant": variant, "seed": seed,
              "prune_ratio": 0.0 if variant == "dense" else k,
              "data_seed": config.task.data_seed, "base_run": base,
              "mask_step": mask_step, "rewind_step": rewind_step,
              "scope": config.ticket.scope})
  return runs


def ticket_config(config):
  """The config a ticket phase trains with: the base's, with the ticket overrides
  (``ticket.weight_decay`` >= 0, a non-empty ``ticket.cross_entropy``)."""
  c = config.copy_and_resolve_references()
  with c.unlocked():
    if config.ticket.weight_decay >= 0:
      c.optim.weight_decay = config.ticket.weight_decay
    if config.ticket.cross_entropy:
      c.train.cross_entropy = config.ticket.cross_entropy
  return c


def ensure_base_checkpoints(setup, dense: PhaseResult, steps):
  """Makes sure the base phase has checkpoints at ``steps`` (adds missing ones)."""
  params, masks = _dense_start(setup)
  return add_checkpoints(dense, steps, setup.trainer, setup.data, params, masks,
                         setup.config.train.eval_every)


def run_tickets(setup, workdir, dense: PhaseResult, progress=True) -> PhaseResult:
  """Trains the ticket phase ``config.ticket.phase`` from the base runs of ``dense``."""
  c = ticket_config(setup.config)
  runs = ticket_runs(c)
  # the base's own trainer (its weight decay) adds any base checkpoint still missing
  ensure_base_checkpoints(setup, dense, {r[k] for r in runs for k in ("mask_step", "rewind_step")
                                         if r[k] is not None})
  if _training_config(c) != _training_config(setup.config):  # the ticket overrides
    setup = make_setup(c)
  base_params = {}

  def base_at(step):  # params of all base runs at `step`, from orbax, cached
    if step not in base_params:
      base_params[step] = checkpoints.restore_params(dense.checkpoint_dir, step)
    return base_params[step]

  manifest = {**_training_config(c), "seeds": list(c.seeds)}
  directory = claim_directory(c.ticket.phase, workdir, runs, manifest)
  if os.path.exists(os.path.join(directory, "curves.npz")):  # finished: read it back
    return run_phase(c.ticket.phase, workdir, setup.trainer, setup.data, runs, None, None,
                     c, manifest_config=manifest, progress=progress)
  mask_dir = os.path.join(directory, "masks")
  starts = [variants.run_start(
      r, lambda s, b=r["base_run"]: jax.tree.map(lambda x: x[b], base_at(s)), setup,
      c.ticket) for r in runs]
  params = _stack_runs([s[0] for s in starts])
  if os.path.exists(mask_dir):
    masks = checkpoints.load_tree(mask_dir)
  else:
    masks = _stack_runs([s[1] for s in starts])
    checkpoints.save_tree(mask_dir, masks)
  return run_phase(c.ticket.phase, workdir, setup.trainer, setup.data, runs, params,
                   masks, c, manifest_config=manifest, progress=progress)


def run_main(config, workdir, progress=True):
  """Dense base runs, then tickets: returns (dense, tickets) PhaseResults."""
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  return dense, run_tickets(setup, workdir, dense, progress)
