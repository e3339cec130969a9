"""The paper's main pipeline: dense base runs, then tickets cut from them.

Phase ``dense``: one run per seed, all weights kept, trained from theta_0.
Ticket phase (folder ``config.ticket.phase``, default ``tickets``): for each
prune ratio k, variant, mask step and seed, one run whose mask and starting
weights come from the base run of that seed (``experiment/variants.py``):
by default ``grokked`` (magnitude mask of the final base weights, rewound to
theta_0, read back from orbax) and ``random`` (random mask, same k). All runs of
a phase train together in one batched program; their starting weights and masks
are saved with orbax in ``<phase>/masks`` and ``<phase>/start_params``. ``ticket.weight_decay`` >= 0 overrides the base's weight decay
for the ticket phase (the critical-ratio experiment trains without it), and a
non-empty ``ticket.cross_entropy`` the base's loss precision (the precision
experiment).
"""
import dataclasses
import os

import jax
import numpy as np
from tqdm.auto import tqdm

from gtickets import storage
from gtickets import identity as identity_lib
from gtickets.config import resolve_step
from gtickets.experiment import phase as phase_lib
from gtickets.experiment import variants
from gtickets.experiment.phase import PhaseResult, add_checkpoints, claim_directory, run_phase
from gtickets import models as models_lib
from gtickets.models import make_model
from gtickets.tasks import make_task
from gtickets.tickets import checkpoints
from gtickets.tickets import masks as masks_lib
from gtickets.training import memory
from gtickets.training.trainer import make_trainer, init_keys


@dataclasses.dataclass
class Setup:
  """What every phase of one config shares: the task, model and trainer.

  With ``task.data_seed = -1`` each run trains on the split of its own seed: ``task``
  is then the first seed's (for shapes) and ``data_for`` stacks one split per run."""
  config: object
  task: object
  model: object
  trainer: object
  per_run_optim: bool = False  # each run's lr and weight decay from its run table (a sweep)
  _arrays: dict = dataclasses.field(default_factory=dict)  # data_seed -> arrays

  def hparams_for(self, runs):
    """The trainer's per-run values for ``runs``: their lr and weight decay (a sweep), or
    none."""
    if not self.per_run_optim:
      return None
    return {f: np.asarray([r[f] for r in runs], np.float32) for f in PER_RUN_OPTIM}

  def arrays(self, data_seed):
    if data_seed not in self._arrays:
      self._arrays[data_seed] = _task(self.config, data_seed).arrays()
    return self._arrays[data_seed]

  @property
  def data(self):
    """The one split every run shares (refused with a split per run)."""
    if self.trainer.per_run_data:
      raise ValueError("config.task.data_seed=-1 (a split per run): this step needs one "
                       "shared split")
    return self.arrays(self.config.task.data_seed)

  def data_for(self, runs):
    """The arrays ``runs`` train on: the shared split, or one per run (leading axis)."""
    if not self.trainer.per_run_data:
      return self.data
    per_run = [self.arrays(r["data_seed"]) for r in runs]
    return {k: np.stack([a[k] for a in per_run]) for k in per_run[0]}


def data_seed_of(config, seed):
  """The data seed of a run with ``seed``: ``task.data_seed``, or the run's seed for -1."""
  return seed if config.task.data_seed == -1 else config.task.data_seed


PER_RUN_OPTIM = ("lr", "weight_decay")  # run-table fields of a per-run-optimizer setup


def _task(config, data_seed):
  """``config``'s task on the split of ``data_seed``."""
  task_config = config.task.copy_and_resolve_references()
  task_config.data_seed = data_seed
  return make_task(task_config, config.train.cross_entropy)


def make_setup(config, per_run_optim=False):
  """The task, model and trainer of ``config``; with ``per_run_optim`` every run trains
  with the lr and weight decay of its run table (``PER_RUN_OPTIM``)."""
  data_seed = data_seed_of(config, config.seeds[0])
  task = _task(config, data_seed)
  model = make_model(config.model, task)
  setup = Setup(config, task, model, make_trainer(config, task, model, per_run_optim),
                per_run_optim)
  setup._arrays[data_seed] = task.arrays()
  return setup


def _training_config(config, task=None):
  """The config fields that determine a base phase's results (checked on resume), and
  the digest of the data files ``task`` was read from, if any."""
  return identity_lib.of(config, identity_lib.DENSE,
                         data_digest=task.data_digest if task is not None else "")


def ticket_identity(config, task=None):
  """The config fields that determine a ticket phase's results: the training
  config, every ticket field (masks, rewinding, PaI settings, overrides), the
  seeds of the base runs and the data files' digest."""
  return identity_lib.of(config, identity_lib.TICKETS,
                         data_digest=task.data_digest if task is not None else "")


def _dense_start(setup, runs):
  params = setup.trainer.init_params(init_keys([r["seed"] for r in runs]))
  return params, jax.vmap(masks_lib.ones_like)(params)


def dense_runs(config):
  return [{"run": i, "variant": "dense", "seed": s, "prune_ratio": 0.0,
           "data_seed": data_seed_of(config, s)} for i, s in enumerate(config.seeds)]


def run_dense(setup, workdir, progress=True, runs=None, identity=None) -> PhaseResult:
  """The dense phase: ``runs`` (default: one per seed, ``dense_runs``), each trained
  from its seed's init; ``identity`` (default: the training config) is what a rerun
  checks."""
  c = setup.config
  runs = dense_runs(c) if runs is None else runs
  return run_phase("dense", workdir, setup.trainer, setup.data_for(runs), runs,
                   lambda: _dense_start(setup, runs), None, c,
                   _training_config(c, setup.task) if identity is None else identity,
                   progress=progress, hparams=setup.hparams_for(runs))


def ticket_runs(config, bases=None):
  """The run table of a ticket phase: (k, variant, mask step, base run) in that nesting.

  ``bases``: the dense phase's runs (default: one per seed, ``dense_runs``); a ticket
  run takes its seed, data seed and any per-run optimizer values (``PER_RUN_OPTIM``)
  from its base. ``mask_step`` is recorded only for variants whose mask comes from a
  base checkpoint (grokked and the norm-matched controls); ``dense`` runs once per
  base whatever the ks, with k = 0.
  """
  bases = dense_runs(config) if bases is None else bases
  rewind_step = resolve_step(config.ticket.rewind_step, config)
  mask_steps = [resolve_step(s, config) for s in config.ticket.mask_steps]
  runs = []
  for k in config.ticket.prune_ratios:
    for variant in config.ticket.variants:
      if variant == "dense" and k != config.ticket.prune_ratios[0]:
        continue  # dense prunes nothing: one run per seed, recorded with k = 0
      uses_mask_step = variants.VARIANTS[variant].uses_mask_step
      for mask_step in (mask_steps if uses_mask_step else [None]):
        for b in bases:
          runs.append({
              "run": len(runs), "variant": variant, "seed": b["seed"],
              **{f: b[f] for f in PER_RUN_OPTIM if f in b},
              "prune_ratio": 0.0 if variant == "dense" else k,
              "data_seed": b["data_seed"], "base_run": b["run"],
              "mask_step": mask_step, "rewind_step": rewind_step,
              "scope": config.ticket.scope})
  return runs


def ticket_config(config):
  """The config a ticket phase trains with: the base's, with the ticket overrides
  (``ticket.weight_decay`` >= 0, a non-empty ``ticket.cross_entropy`` or
  ``ticket.grokfast``)."""
  c = config.copy_and_resolve_references()
  with c.unlocked():
    if config.ticket.weight_decay >= 0:
      c.optim.weight_decay = config.ticket.weight_decay
    if config.ticket.cross_entropy:
      c.train.cross_entropy = config.ticket.cross_entropy
    if config.ticket.grokfast:
      c.optim.grokfast = config.ticket.grokfast
  return c


def ensure_base_checkpoints(setup, dense: PhaseResult, steps):
  """Makes sure the base phase has checkpoints at ``steps`` (adds missing ones)."""
  params, masks = _dense_start(setup, dense.runs)
  return add_checkpoints(dense, steps, setup.trainer, setup.data_for(dense.runs), params, masks,
                         setup.config.train.eval_every, setup.hparams_for(dense.runs))


def ensure_phase_checkpoints(setup, result, steps):
  """Checkpoints at ``steps`` for a finished phase, dense or ticket (``setup``: the
  one it trained with), added by training forward where missing."""
  if result.name == "dense":
    return ensure_base_checkpoints(setup, result, steps)
  params = checkpoints.load_tree(os.path.join(result.directory, "start_params"))
  masks = checkpoints.load_tree(os.path.join(result.directory, "masks"))
  return add_checkpoints(result, steps, setup.trainer, setup.data_for(result.runs), params,
                         masks, setup.config.train.eval_every, setup.hparams_for(result.runs))


def run_tickets(setup, workdir, dense: PhaseResult, progress=True,
                identity=None, runs=None) -> PhaseResult:
  """Trains the ticket phase ``config.ticket.phase`` from the base runs of ``dense``
  (``runs``, default ``ticket_runs``: every k, variant and mask step from each base
  run; ``identity``, default ``ticket_identity``, is what a rerun checks).

  A finished ticket phase is read back without touching the base checkpoints.
  Otherwise the base checkpoints the runs need are added if missing, and the
  starting weights and masks are built batched (variants.build_starts), saved
  with orbax in ``<phase>/masks`` and ``<phase>/start_params`` and read back
  (verified) on a resume.
  """
  c = ticket_config(setup.config)
  runs = ticket_phase_runs(c, dense, runs)
  identity = ticket_identity(c, setup.task) if identity is None else identity
  ticket_setup = (make_setup(c, setup.per_run_optim)
                  if _training_config(c) != _training_config(setup.config)
                  else setup)  # the ticket overrides (weight decay, cross-entropy)
  directory, phase_id = claim_directory(c.ticket.phase, workdir, runs, identity)
  mask_dir, params_dir = (os.path.join(directory, n) for n in ("masks", "start_params"))

  def starts():
    saved = [checkpoints.tree_saved(d) for d in (params_dir, mask_dir)]
    if all(saved) and {checkpoints.saved_phase_id(d) for d in (params_dir, mask_dir)} != {
        phase_id}:
      tqdm.write(f"note: the masks and starting weights in {directory} were saved for "
                 "another phase (or before phase ids); building them again")
    elif all(saved):
      try:
        return checkpoints.load_tree(params_dir), checkpoints.load_tree(mask_dir)
      except storage.CorruptFile as e:
        tqdm.write(f"note: {e}; building the starting weights and masks again")
    # the base's own trainer (its weight decay) adds any base checkpoint still missing
    ensure_base_checkpoints(setup, dense, {r[k] for r in runs
                                           for k in ("mask_step", "rewind_step")
                                           if r[k] is not None})
    cache = {}
    def base_at(step):  # params of all base runs at `step`, from orbax (verified), cached
      if step not in cache:
        cache[step] = checkpoints.restore_params(dense.checkpoint_dir, step)
      return cache[step]
    params, masks = variants.build_starts(runs, base_at, ticket_setup, c.ticket)
    checkpoints.save_tree(params_dir, params, phase_id)
    checkpoints.save_tree(mask_dir, masks, phase_id)
    return params, masks

  extras = base_at_mask(dense, runs, c.threshold, c.threshold_on)
  _warn_below_threshold(c.ticket.phase, runs, extras, c.threshold)
  return run_phase(c.ticket.phase, workdir, ticket_setup.trainer, ticket_setup.data_for(runs),
                   runs, starts, None, c, identity, progress=progress,
                   hparams=ticket_setup.hparams_for(runs), extras=extras)


def base_at_mask(base, runs, threshold, threshold_on="accuracy"):
  """Per ticket run: its base run's test score at the run's mask step
  (``base_test_acc``) and whether the base had generalized there (``base_generalized``:
  test accuracy >= ``threshold``, or test loss <= it with ``threshold_on="loss"``); both
  None for runs without a mask step (random, PaI, dense). A "grokked" ticket whose base
  had not is a non-grokked one."""
  index = {int(s): i for i, s in enumerate(base.steps)}
  out = []
  for r in runs:
    at = index.get(r.get("mask_step"))
    if at is None:
      out.append({"base_test_acc": None, "base_generalized": None})
      continue
    curves = {k: v[r["base_run"], at] for k, v in base.curves.items()}
    reached = (curves["test_loss"] <= threshold if threshold_on == "loss"
               else curves["test_acc"] >= threshold)
    out.append({"base_test_acc": float(curves["test_acc"]), "base_generalized": bool(reached)})
  return out


def _warn_below_threshold(phase, runs, extras, threshold):
  """Warns (once per launch) that masks of ``phase`` were cut from bases that had not
  generalized at their mask step."""
  below = [(r, e) for r, e in zip(runs, extras) if e["base_generalized"] is False]
  if below:
    accs = sorted(e["base_test_acc"] for _, e in below)
    variants_ = ", ".join(sorted({r["variant"] for r, _ in below}))
    phase_lib.warn_once("base below threshold", (
        f"{len(below)} of {len(runs)} runs of {phase} ({variants_}) take their mask from a "
        f"base run below the threshold {threshold:g} at the mask step (base test acc "
        f"{accs[0]:.3f}" + (f" to {accs[-1]:.3f}" if len(accs) > 1 else "") + "): they are "
        "not grokked tickets (the summaries flag them: base_generalized false)"))


def ticket_phase_runs(config, dense, runs=None):
  """The ticket runs (``runs``, default those of ``config`` resolved by ticket_config),
  each marked with whether its base run had diverged (``base_diverged``)."""
  runs = ticket_runs(config, dense.runs) if runs is None else runs
  return [{**r, "base_diverged": _base_diverged(dense, r)} for r in runs]


def _base_diverged(dense, run):
  """Whether the base run's loss was non-finite at or before the steps a ticket
  run takes its mask and weights from (such a ticket is marked diverged)."""
  last = max(s for s in (run["mask_step"], run["rewind_step"]) if s is not None)
  loss = dense.curves["train_loss"][run["base_run"], dense.steps <= last]
  return bool(not np.all(np.isfinite(loss)))


def run_main(config, workdir, progress=True):
  """Dense base runs, then tickets: returns (dense, tickets) PhaseResults."""
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  return dense, run_tickets(setup, workdir, dense, progress)


def weight_count(setup, prunable_only=False):
  """A run's number of weights (only those the model prunes, with ``prunable_only``),
  from the shapes alone (nothing is initialized)."""
  shapes = jax.eval_shape(setup.trainer.init_params, init_keys([0]))
  use = models_lib.prunable(setup.model, shapes) if prunable_only else None
  return sum(int(np.prod(x.shape[1:])) for name, x in shapes.items()
             if use is None or use[name])


COPIES = 10  # float32 copies of a run's weights a phase holds: params, masks, AdamW's two
#              moments, gradients, start params, a checkpoint in flight, and headroom


def memory_estimate(setup, n_runs=None):
  """(bytes, what) a rough upper estimate of what the largest phase of ``setup.config``
  holds at once: every run's weights ``COPIES`` times and its data, plus the activations
  of one training chunk with its evaluation (``training.memory``: the peak of the
  traced program beyond its inputs, e.g. the logits over every pair). ``n_runs``: that
  phase's runs (default: the dense phase's or the ticket fields' product). Traced only:
  nothing is compiled or allocated."""
  c = setup.config
  n_params = weight_count(setup)
  n_runs = n_runs or max(len(c.seeds), len(c.seeds) * len(c.ticket.variants) *
                         len(c.ticket.prune_ratios) * len(c.ticket.mask_steps))
  data = sum(np.asarray(a).nbytes for a in setup.data_for(dense_runs(c)[:1]).values())
  per_run_data = data if setup.trainer.per_run_data else 0
  weights = n_runs * (COPIES * 4 * n_params + per_run_data) + data
  activations = _activation_bytes(setup, n_runs)
  return weights + activations, (
      f"{n_runs:,} runs x {n_params:,} weights x {COPIES} float32 copies"
      + (" + a data split each" if per_run_data else "")
      + f" + {activations / 2**30:.1f} GiB of activations in a training step and its "
      "evaluation")


def _activation_bytes(setup, n_runs):
  """Peak bytes of one training chunk (one evaluation) of ``n_runs`` runs beyond its
  inputs, traced with abstract arrays."""
  t = setup.trainer
  abstract = lambda tree, lead=(): jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(lead + tuple(x.shape), x.dtype), tree)
  params = jax.eval_shape(t.init_params, jax.ShapeDtypeStruct((n_runs,), jax.random.key(0).dtype))
  masks = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, bool), params)
  hparams = ({f: jax.ShapeDtypeStruct((n_runs,), np.float32) for f in PER_RUN_OPTIM}
             if setup.per_run_optim else None)
  state = jax.eval_shape(t.init_state, params, masks, hparams)
  one = setup.data_for(dense_runs(setup.config)[:1])
  data = abstract({k: v[0] for k, v in one.items()} if t.per_run_data else one,
                  (n_runs,) if t.per_run_data else ())
  args = (state, masks, data)
  peak = memory.peak_bytes(lambda s, m, d: t.train_chunk(s, m, d, 1, hparams), *args)
  return max(peak - memory.input_bytes(args), 0)
