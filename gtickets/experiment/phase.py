"""A *phase* trains one batch of runs to the end, resumably, in one program.

A phase is a value, a :class:`PhaseSpec`: its name, its runs, the resolved settings it
trains with, the identity fields it declares and how its runs start. Experiments build
specs (experiment/pipeline.py has the builders) and run them into a store:
``run_phase(spec, store)``. The task, model and trainer come from the spec's settings
(experiment/setup.py), so what trains is what the phase records.

A phase with a readable ``curves.npz`` of its own id is finished and read back, not
retrained (no checkpoint is needed for that). Otherwise it resumes from the newest
checkpoint that matches its digest and whose metrics chunks are all readable (saying
so when that is not the newest one, and printing "resuming <phase> from step N");
training is deterministic, so the result equals an uninterrupted run. A workdir whose
phase holds runs of another config, or that trained on other devices, is refused
rather than mixed (experiment/store.py).
"""
import dataclasses
import json
import os
from typing import Any, Callable, Optional

import jax
import numpy as np
from tqdm.auto import tqdm

from gtickets import distributed, models, signals, tasks
from gtickets.experiment.setup import has_per_run_task, make_setup
from gtickets.experiment.store import note
from gtickets.tickets import masks as masks_lib
from gtickets.training.measures import run_measures
from gtickets.training.sharding import replicated, run_layout
from gtickets.training.trainer import init_keys


@dataclasses.dataclass(frozen=True)
class PhaseSpec:
  """One phase, as a value. ``start.build(spec, store)`` gives the runs' starting
  (params, masks), called only if the phase has to train."""
  name: str                      # its folder in the workdir
  runs: list                     # run dicts: "run" index, "seed", "variant", ... (its table)
  settings: Any                  # the resolved config it trains with (task, model, optim, train)
  identity: dict                 # the fields it declares (identity.py): a rerun checks them
  start: Any                     # FromInit(), FromBase(...), or a start of an experiment's own
  per_run_optim: bool = False    # each run's lr and weight decay from its run table (a sweep)
  make_trainer: Optional[Callable] = None  # (setup) -> Trainer, for a trainer of its own
  hparams: Optional[dict] = None  # the trainer's per-run values ({name: [R]}) besides lr, wd
  extras: Optional[list] = None  # per run, measures from outside its curves (summary rows)

  @property
  def setup(self):
    return make_setup(self.settings, self.per_run_optim, has_per_run_task(self.runs))

  @property
  def trainer(self):
    return self.make_trainer(self.setup) if self.make_trainer else self.setup.trainer

  def hparams_of_phase(self):
    """What its runs share, for the HParams dashboard: phase, task, model, optimizer."""
    s = self.settings
    return {"phase": self.name, "task": tasks.describe(s.task), "model": models.describe(s.model),
            "lr": s.optim.lr, "weight_decay": s.optim.weight_decay,
            "steps": s.train.num_steps, "cross_entropy": s.train.cross_entropy}

  def trainer_inputs(self):
    """(data, hparams) the phase's trainer reads: its split(s) and per-run values."""
    hparams = {**(self.setup.hparams_for(self.runs) or {}), **(self.hparams or {})}
    return self.setup.data_for(self.runs), hparams or None


@dataclasses.dataclass(frozen=True)
class FromInit:
  """Runs start from their seeds' initial weights, every weight kept (a dense phase)."""

  def build(self, spec, store):
    params = spec.setup.trainer.init_params(init_keys([r["seed"] for r in spec.runs]))
    return params, jax.vmap(masks_lib.ones_like)(params)


@dataclasses.dataclass
class PhaseResult:
  name: str
  directory: str
  runs: list          # dicts: run index and its settings
  steps: np.ndarray   # evaluated steps, starting at 0
  curves: dict        # metric -> [n_runs, n_evals]
  measures: list      # per-run dicts (see training.measures.run_measures)
  spec: Optional[PhaseSpec] = None  # what trained it (None: read from committed results)
  store: Any = None

  @property
  def checkpoint_dir(self):
    return os.path.join(self.directory, "checkpoints")

  def rows(self):
    return [{**r, **m} for r, m in zip(self.runs, self.measures)]


def chunk_ends(num_steps, ckpt_every):
  """Steps at which a chunk ends and a checkpoint is written."""
  return list(range(ckpt_every, num_steps, ckpt_every)) + [num_steps]


def run_phase(spec: PhaseSpec, store) -> PhaseResult:
  """Trains (or reads back, or resumes) the phase ``spec`` in ``store`` (a PhaseStore of
  its workdir); returns its result."""
  store.claim(spec.runs, spec.identity)
  runs = json.loads(json.dumps(spec.runs))
  train = spec.settings.train
  logs = store.logs(runs, spec.hparams_of_phase(), train.num_steps)
  finished = store.read_curves()
  if finished is not None:
    store.repair_logs(logs, *finished)
    return _finish(spec, store, runs, *finished, read_back=True)
  ends = chunk_ends(train.num_steps, train.ckpt_every)
  start, need_state = _resume_point(store, ends)
  if distributed.is_multiprocess():  # process 0's files decide, for every process
    start, need_state = distributed.broadcast(start), bool(distributed.broadcast(need_state))
  if start != train.num_steps or need_state:
    write_layout = store.check_resume_layout(start)  # before anything is written
    params, masks = spec.start.build(spec, store)
    trainer = spec.trainer
    data, hparams = spec.trainer_inputs()
    if distributed.is_multiprocess() and not trainer.per_run_data:
      data = replicated(data)
    layout = run_layout(len(runs))
    params, masks, hparams = layout.place((params, masks, hparams or {}))
    if trainer.per_run_data:  # one split per run: placed like the runs
      data = layout.place(data)
    state = trainer.init_state(params, masks, hparams)
    if start is None:
      start = 0
      metrics = trainer.evaluate(state, masks, data, hparams)
      metrics = {k: v[:, None] for k, v in layout.to_host(metrics).items()}
      store.write_chunk(0, np.array([0]), metrics)
      store.checkpoints.save(0, layout.real(state), store.phase_id)
      if logs is not None:
        logs.rewrite(np.array([0]), metrics)
    else:
      state = layout.place(store.checkpoints.restore(start, like=layout.real(state)))
      tqdm.write(f"resuming {spec.name} from step {start:,}")
      if logs is not None:  # as an uninterrupted run logged them: up to the resume step
        logs.rewrite(*store.gather([e for e in ends if e <= start]))
    if write_layout:
      store.write_layout()
    _train(spec, store, trainer, (state, masks, data, hparams), start, ends, layout, logs)
  store.close()
  distributed.barrier(f"{store.directory} trained")
  steps, curves = store.gather(ends)
  store.write_curves(steps, curves)
  if logs is not None and not logs.intact():  # every chunk was there: logs from them
    logs.rewrite(steps, curves)
  return _finish(spec, store, runs, steps, curves)


def _resume_point(store, ends):
  """(step to resume from or None, whether its checkpoint is needed): the newest step
  whose checkpoint matches its digest and whose metrics chunks up to it are all
  readable. The final step needs no checkpoint when every chunk is there."""
  first_bad = next((e for e in [0] + ends if store.read_chunk(e) is None), None)
  if first_bad is None:
    return ends[-1], False  # every chunk is there: only the curves are to be gathered
  ckpts = store.checkpoints
  newest, corrupt = ckpts.latest_step(), []
  for s in reversed(ckpts.steps()):
    if s >= first_bad:
      continue
    if not ckpts.valid(s):
      corrupt.append(s)
      continue
    if corrupt:
      note(f"{store.name}: the checkpoint at step {corrupt[0]} does not match its digest "
           f"(corrupt); resuming from step {s}")
    elif s != newest:
      note(f"{store.name}: {store.missing_chunk(first_bad)} is missing or unreadable; "
           f"resuming from step {s}")
    return s, True
  if corrupt or newest is not None:
    note(f"{store.name}: no usable checkpoint; training from step 0")
  return None, False


def _train(spec, store, trainer, inputs, start, ends, layout, logs=None):
  """Trains chunk by chunk from ``start``: metrics (and their logs), then the checkpoint,
  per chunk."""
  state, masks, data, hparams = inputs
  train = spec.settings.train
  bar = tqdm(total=train.num_steps, initial=start, desc=spec.name, unit="step",
             disable=not store.workdir.progress, dynamic_ncols=True)
  diverged = set()
  for end in [e for e in ends if e > start]:
    n_evals = (end - start) // train.eval_every
    state, metrics = trainer.train_chunk(layout.keep(state), masks, data, n_evals, hparams)
    metrics = layout.to_host(metrics)
    steps = start + train.eval_every * np.arange(1, n_evals + 1)
    store.write_chunk(end, steps, metrics)
    if logs is not None:
      logs.append(steps, metrics)
    store.checkpoints.save(end, layout.real(state), store.phase_id)
    store.log_progress(end, metrics)
    bad = set(np.flatnonzero(~np.isfinite(metrics["train_loss"]).all(axis=1)).tolist())
    for i in sorted(bad - diverged):
      tqdm.write(f"warning: {spec.name} run {i} ({spec.runs[i]}) diverged by step {end} "
                 "(non-finite loss); it is marked diverged, other runs go on")
    diverged |= bad
    bar.update(end - start)
    signals.check_stop()  # a stop whose KeyboardInterrupt a callback swallowed
    bar.set_postfix(train_acc=f"{metrics['train_acc'][:, -1].mean():.3f}",
                    test_acc=f"{metrics['test_acc'][:, -1].mean():.3f}")
    start = end
  bar.close()


def _finish(spec, store, runs, steps, curves, read_back=False):
  """Measures from the curves, recorded as the phase's summary.json / .csv.

  Also when a finished phase is read back: the threshold is not part of the training,
  so the summaries follow the settings they were last read with (in a launch, once it
  ends well). A run marked ``base_diverged`` (its base run was non-finite where its
  mask or weights were taken) counts as diverged."""
  s = spec.settings
  measures = []
  for i, run in enumerate(runs):
    m = run_measures(steps, {k: v[i] for k, v in curves.items()}, s.threshold, s.threshold_on)
    if run.get("base_diverged"):
      m["diverged"] = True
    measures.append({**m, **(spec.extras[i] if spec.extras else {})})
  result = PhaseResult(spec.name, store.directory, runs, steps, curves, measures, spec, store)
  store.record(result.rows(), read_back)
  return result


def add_checkpoints(result, steps):
  """Adds checkpoints at ``steps`` to a finished phase, without retraining it.

  Each missing step is reached by training forward from the nearest earlier
  checkpoint, or from the phase's step-0 inputs (its spec's start: a deleted theta_0
  comes back as it was). Training is deterministic, so these are the states the
  original run passed through (tested), on the layout it trained on (another one is
  refused). Returns the sorted list of steps added."""
  missing = sorted(set(steps) - set(result.store.checkpoints.steps()))
  for step, state in _walk(result, missing, "adding checkpoints"):
    result.store.checkpoints.save(step, state, result.store.phase_id)
  result.store.close()
  return missing


def replay(result, steps):
  """Yields ``(step, state)`` (the real runs, on device) at each of ``steps`` of a
  finished phase, in ascending order, writing nothing: a saved checkpoint is restored,
  any other step is reached by training forward as ``add_checkpoints`` does (the states
  the original run passed through), so an analysis can read a state at every step
  without storing it."""
  yield from _walk(result, sorted(set(steps)), "replaying", saved_too=True)
  result.store.close()


def _walk(result, steps, doing, saved_too=False):
  spec, store = result.spec, result.store
  eval_every = spec.settings.train.eval_every
  ckpts = store.checkpoints
  have = ckpts.steps()
  wanted = steps if saved_too else [s for s in steps if s not in have]
  if not wanted:
    return
  if any(s % eval_every for s in wanted):
    raise ValueError(f"cannot reach steps {wanted}: steps must be multiples of "
                     f"eval_every={eval_every}")
  if any(s > 0 and s not in have for s in wanted):
    store.check_same_layout(f"{doing} at {wanted}")
  trainer = spec.trainer
  data, hparams = spec.trainer_inputs()
  layout = run_layout(len(result.runs))
  params, masks = spec.start.build(spec, store)
  params, masks, hparams = layout.place((params, masks, hparams or {}))
  if trainer.per_run_data:
    data = layout.place(data)
  initial = trainer.init_state(params, masks, hparams)
  like = layout.real(initial)
  state, at = None, None
  # replay's caller shows its own progress
  for step in tqdm(wanted, desc=f"{result.name}: {doing}", disable=saved_too or len(wanted) < 2):
    if step in have:  # saved (replay only): read, and trained forward from if need be
      state, at = layout.place(ckpts.restore(step, like=like)), step
      yield step, layout.real(state)
      continue
    start = max([s for s in have if s < step], default=None)
    if start is None and at is None:  # nothing saved before it: from the step-0 inputs
      state, at = initial, 0
    elif start is not None and (at is None or at < start):  # a nearer checkpoint
      state, at = layout.place(ckpts.restore(start, like=like)), start
    if step > at:
      state, _ = trainer.train_chunk(layout.keep(state), masks, data, (step - at) // eval_every,
                                     hparams)
    at = step
    yield step, layout.real(state)
