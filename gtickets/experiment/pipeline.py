"""The paper's main pipeline as phase builders: dense base runs, then tickets cut from them.

``dense_spec``: one run per seed (or the given run table), all weights kept, trained
from theta_0. ``ticket_spec``: for each prune ratio k, variant, mask step and base run,
one run whose mask and starting weights come from that base run
(``tickets/variants.py``): by default ``grokked`` (magnitude mask of the final base
weights, rewound to theta_0, read back from orbax) and ``random`` (random mask, same k).
A ticket phase trains with the base's settings, changed only by what its builder is
given (``Tickets``: its name, its ticket fields, a weight decay, cross-entropy or
Grokfast of its own); its starting weights and masks are saved with orbax in
``<phase>/masks`` and ``<phase>/start_params``. ``run_dense``, ``run_tickets`` and
``run_main`` build and run them.
"""
import dataclasses

import jax
import numpy as np

from gtickets import identity as identity_lib
from gtickets.config import resolve_step
from gtickets.tickets import variants
from gtickets.experiment.phase import FromInit, PhaseResult, PhaseSpec, add_checkpoints, run_phase
from gtickets.experiment.setup import PER_RUN_OPTIM, PER_RUN_TASK, data_seed_of, make_setup
from gtickets.experiment.store import Workdir
from gtickets import models as models_lib
from gtickets.tasks.cross_entropy import MODES as CROSS_ENTROPY_MODES
from gtickets.training import checkpoints, memory
from gtickets.training.accelerators import GROKFAST
from gtickets.training.trainer import init_keys


def training_identity(config, task=None):
  """The fields a base phase declares: task, model, optim, train, matmul precision, and
  the digest of the data files ``task`` was read from, if any."""
  return identity_lib.of(config, identity_lib.DENSE,
                         data_digest=task.data_digest if task is not None else "")


@dataclasses.dataclass(frozen=True)
class Tickets:
  """What a ticket-phase builder is given beyond the base's config, each field at its
  neutral value by default (a phase id names the others as ``ticket.<field>``):
  the phase's folder, and the training settings its runs change from their base's
  (weight decay >= 0, a cross-entropy mode, a Grokfast filter)."""
  phase: str = "tickets"
  weight_decay: float = -1.0
  cross_entropy: str = ""
  grokfast: str = ""

  def __post_init__(self):
    if not self.phase.isidentifier() or self.phase == "dense":
      raise ValueError(f"ticket phase {self.phase!r}: a plain name other than 'dense'")
    if self.weight_decay != -1 and not self.weight_decay >= 0:
      raise ValueError(f"ticket weight decay {self.weight_decay!r}: -1 (the base's) or >= 0")
    if self.cross_entropy not in ("",) + CROSS_ENTROPY_MODES:
      raise ValueError(f"ticket cross-entropy {self.cross_entropy!r}: one of "
                       f"{CROSS_ENTROPY_MODES}")
    if self.grokfast not in GROKFAST:
      raise ValueError(f"ticket grokfast {self.grokfast!r}: one of {GROKFAST}")

  def identity(self):
    """{"ticket.<field>": value} of the fields off their neutral value."""
    return {f"ticket.{f.name}": getattr(self, f.name) for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default}

  def settings(self, config, **ticket):
    """The resolved config the phase trains with: ``config`` with this builder's
    training settings and the ticket fields ``ticket`` (e.g. variants, prune_ratios,
    mask_steps, rewind_step) in place."""
    c = config.copy_and_resolve_references()
    if self.weight_decay >= 0:
      c.optim.weight_decay = self.weight_decay
    if self.cross_entropy:
      c.train.cross_entropy = self.cross_entropy
    if self.grokfast:
      c.optim.grokfast = self.grokfast
    for field, value in ticket.items():
      if field not in c.ticket:
        raise ValueError(f"ticket.{field} is not a ticket field; they are {sorted(c.ticket)}")
      c.ticket[field] = value
    return c


def ticket_identity(config, task=None, tickets=Tickets()):
  """The fields a ticket phase declares: the training settings, every ticket field and
  variant setting, the builder's own fields (``tickets``), the seeds of the base runs
  and the data files' digest."""
  fields = identity_lib.of(config, identity_lib.TICKETS,
                           data_digest=task.data_digest if task is not None else "")
  return dict(sorted({**fields, **tickets.identity()}.items()))


def dense_runs(config):
  return [{"run": i, "variant": "dense", "seed": s, "prune_ratio": 0.0,
           "data_seed": data_seed_of(config, s)} for i, s in enumerate(config.seeds)]


def dense_spec(config, runs=None, identity=None, per_run_optim=False, name="dense"):
  """A dense phase: ``runs`` (default: one per seed) from their seeds' init, trained with
  ``config``; ``identity`` (default: ``training_identity``) is what a rerun checks."""
  runs = dense_runs(config) if runs is None else runs
  if identity is None:
    identity = training_identity(config, make_setup(config, per_run_optim).task)
  return PhaseSpec(name, runs, config, identity, FromInit(), per_run_optim)


def run_dense(config, workdir, runs=None, identity=None, per_run_optim=False) -> PhaseResult:
  """Builds and runs ``dense_spec`` in ``workdir`` (a Workdir or a path)."""
  spec = dense_spec(config, runs, identity, per_run_optim)
  return run_phase(spec, Workdir.of(workdir).store(spec.name))


def ticket_runs(config, bases=None):
  """The run table of a ticket phase: (k, variant, mask step, base run) in that nesting.

  ``bases``: the dense phase's runs (default: one per seed, ``dense_runs``); a ticket
  run takes its seed, data seed, any per-run optimizer values (``PER_RUN_OPTIM``) and
  task fields (``PER_RUN_TASK``) from its base. ``mask_step`` is recorded only for variants whose mask comes from a
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
              **{f: b[f] for f in PER_RUN_OPTIM + PER_RUN_TASK if f in b},
              "prune_ratio": 0.0 if variant == "dense" else k,
              "data_seed": b["data_seed"], "base_run": b["run"],
              "mask_step": mask_step, "rewind_step": rewind_step,
              "scope": config.ticket.scope})
  return runs


@dataclasses.dataclass(frozen=True)
class FromBase:
  """Ticket runs start from their base runs (``base``, a finished phase): masks and
  weights built by each run's variant (variants.build_starts) from the base's
  checkpoints (those missing are added by training the base forward), saved with the
  phase (``masks``, ``start_params``) and read back from there on a resume."""
  base: PhaseResult

  def build(self, spec, store):
    saved = store.load_tree("start_params"), store.load_tree("masks")
    if all(x is not None for x in saved):
      return saved
    steps = {r[k] for r in spec.runs for k in ("mask_step", "rewind_step") if r[k] is not None}
    add_checkpoints(self.base, steps)  # the base's own spec: its trainer and weight decay
    cache = {}
    def base_at(step):  # params of all base runs at `step`, from orbax (verified), cached
      if step not in cache:
        cache[step] = checkpoints.restore_params(self.base.checkpoint_dir, step)
      return cache[step]
    params, masks = variants.build_starts(spec.runs, base_at, spec.setup,
                                          spec.settings.variants)
    store.save_tree("start_params", params)
    store.save_tree("masks", masks)
    return params, masks


def ticket_spec(config, base: PhaseResult, tickets=Tickets(), runs=None, identity=None,
                **ticket) -> PhaseSpec:
  """The ticket phase ``tickets.phase`` cut from the runs of ``base``: ``runs`` (default
  ``ticket_runs``: every k, variant and mask step from each base run), trained with
  ``tickets.settings(config, **ticket)``; ``identity`` (default ``ticket_identity``) is
  what a rerun checks. Each run's summary also holds its base's test score at its mask
  step."""
  c = tickets.settings(config, **ticket)
  per_run_optim = bool(base.spec and base.spec.per_run_optim)
  runs = ticket_phase_runs(c, base, runs)
  if identity is None:
    identity = ticket_identity(c, make_setup(c, per_run_optim).task, tickets)
  return PhaseSpec(tickets.phase, runs, c, identity, FromBase(base), per_run_optim,
                   extras=base_at_mask(base, runs, c.threshold, c.threshold_on))


def run_tickets(config, workdir, base: PhaseResult, tickets=Tickets(), runs=None,
                identity=None, **ticket) -> PhaseResult:
  """Builds and runs ``ticket_spec`` in ``workdir``; warns (once per launch) when masks
  are cut from bases that had not generalized at their mask step."""
  workdir = Workdir.of(workdir)
  spec = ticket_spec(config, base, tickets, runs, identity, **ticket)
  _warn_below_threshold(workdir, spec.name, spec.runs, spec.extras, spec.settings.threshold)
  return run_phase(spec, workdir.store(spec.name))


def run_main(config, workdir, tickets=Tickets()):
  """Dense base runs, then tickets (``tickets``: its builder's fields): returns (dense,
  tickets) PhaseResults."""
  workdir = Workdir.of(workdir)
  dense = run_dense(config, workdir)
  return dense, run_tickets(config, workdir, dense, tickets)


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


def _warn_below_threshold(workdir, phase, runs, extras, threshold):
  """Warns (once per launch) that masks of ``phase`` were cut from bases that had not
  generalized at their mask step."""
  below = [(r, e) for r, e in zip(runs, extras) if e["base_generalized"] is False]
  if below:
    accs = sorted(e["base_test_acc"] for _, e in below)
    variants_ = ", ".join(sorted({r["variant"] for r, _ in below}))
    workdir.warn_once("base below threshold", (
        f"{len(below)} of {len(runs)} runs of {phase} ({variants_}) take their mask from a "
        f"base run below the threshold {threshold:g} at the mask step (base test acc "
        f"{accs[0]:.3f}" + (f" to {accs[-1]:.3f}" if len(accs) > 1 else "") + "): they are "
        "not grokked tickets (the summaries flag them: base_generalized false)"))


def ticket_phase_runs(config, dense, runs=None):
  """The ticket runs (``runs``, default those of the phase's settings ``config``),
  each marked with whether its base run had diverged (``base_diverged``)."""
  runs = ticket_runs(config, dense.runs) if runs is None else runs
  return [{**r, "base_diverged": _base_diverged(dense, r)} for r in runs]


def _base_diverged(dense, run):
  """Whether the base run's loss was non-finite at or before the steps a ticket
  run takes its mask and weights from (such a ticket is marked diverged)."""
  last = max(s for s in (run["mask_step"], run["rewind_step"]) if s is not None)
  loss = dense.curves["train_loss"][run["base_run"], dense.steps <= last]
  return bool(not np.all(np.isfinite(loss)))


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
