"""A *phase* trains one batch of runs to the end, resumably, in one program.

Files under ``workdir/<phase>/``:
  runs.json          run index -> settings, plus the config that trained them
                     (the phase's identity; its short digest, the phase id, is
                     also stored in every metrics file and in the checkpoints'
                     digests.json, so a deleted or garbled runs.json is restored
                     only for the same config)
  checkpoints/       orbax training states (all runs) at step 0, every
                     ``ckpt_every`` steps and at the end, with their digests
  metrics/           curves of each finished chunk (npz), written before the
                     chunk's checkpoint, so a checkpoint always has its curves
  curves.npz         the full curves: ``steps`` and one [run, eval] array per metric
  summary.json/.csv  per-run measures (t_mem, t_gen, tau_grok, finals) + settings
  progress.jsonl     a log line per checkpoint: the step and each run's last metrics
                     (append-only; a resumed phase logs its redone chunk again)

A phase with a readable ``curves.npz`` of its own id is finished and read back,
not retrained (no checkpoint is needed for that). Otherwise it resumes from the
newest checkpoint that matches its digest and whose metrics chunks are all
readable (saying so when that is not the newest one); training is deterministic,
so the result equals an uninterrupted run. A workdir whose phase holds runs of
another config is refused rather than mixed.
"""
import dataclasses
import json
import os
import shutil

import numpy as np
from tqdm.auto import tqdm

from gtickets import identity, signals, storage
from gtickets.tickets.checkpoints import StateCheckpoints, read_digests, saved_device_count
from gtickets.training.measures import run_measures
from gtickets import distributed
from gtickets.training.sharding import replicated, run_layout
from gtickets.training.trainer import METRICS


class WorkdirMismatch(RuntimeError):
  """The workdir holds a phase trained with other runs or another config."""


@dataclasses.dataclass
class PhaseResult:
  name: str
  directory: str
  runs: list          # dicts: run index and its settings
  steps: np.ndarray   # evaluated steps, starting at 0
  curves: dict        # metric -> [n_runs, n_evals]
  measures: list      # per-run dicts (see training.measures.run_measures)

  @property
  def checkpoint_dir(self):
    return os.path.join(self.directory, "checkpoints")

  def rows(self):
    return [{**r, **m} for r, m in zip(self.runs, self.measures)]


def chunk_ends(num_steps, ckpt_every):
  """Steps at which a chunk ends and a checkpoint is written."""
  return list(range(ckpt_every, num_steps, ckpt_every)) + [num_steps]


def _note(msg):
  tqdm.write(f"note: {msg}")


def _stored_phase_ids(directory):
  """Phase ids stored in a phase folder's curves, metrics chunks and checkpoints."""
  mdir = os.path.join(directory, "metrics")
  files = [os.path.join(directory, "curves.npz")] + (
      [os.path.join(mdir, f) for f in sorted(os.listdir(mdir)) if f.endswith(".npz")]
      if os.path.isdir(mdir) else [])
  ids = set()
  for path in files:
    if os.path.exists(path):
      try:
        ids.add(str(storage.load_npz(path, ["phase_id"])["phase_id"]))
      except storage.CorruptFile:
        pass
  ids.add(read_digests(os.path.join(directory, "checkpoints", "digests.json")).get("phase_id"))
  return ids - {None}


def _has_results(directory):
  """Whether a phase folder holds anything trained: curves, metrics chunks, checkpoints."""
  return any(os.path.exists(os.path.join(directory, p)) and (
      not os.path.isdir(os.path.join(directory, p)) or os.listdir(os.path.join(directory, p)))
             for p in ("curves.npz", "metrics", "checkpoints"))


def phase_manifest(runs, phase_identity):
  """(runs.json content, phase id) of a phase: its run table and identity (identity.py)."""
  manifest = json.loads(json.dumps(storage.strict({"runs": runs, "identity": phase_identity})))
  return manifest, storage.json_digest(manifest)


def claim_directory(name, workdir, runs, phase_identity):
  """The phase folder and its id, after checking (or writing) its ``runs.json``.

  Raises WorkdirMismatch if the folder holds runs of another run table or config
  (also when runs.json is gone or garbled: the id stored with the results tells).
  Call it before writing anything else of the phase there.
  """
  directory = os.path.abspath(os.path.join(workdir, name))
  if _LAUNCH is not None and not os.path.isdir(directory):
    _LAUNCH.created.append(directory)
  manifest, phase_id = phase_manifest(runs, phase_identity)
  path = os.path.join(directory, "runs.json")
  refuse = (f"{directory} holds runs of a different config or run table; use another "
            "--workdir (or delete that folder to retrain it)")
  old = None
  if os.path.exists(path):
    try:
      old = storage.read_json(path)
    except storage.CorruptFile:
      old = None
  if old is not None and old != manifest:
    if isinstance(old, dict) and isinstance(old.get("identity"), dict):
      diff = identity.first_difference(old["identity"], manifest["identity"])
      if diff is None and old.get("runs") != manifest["runs"]:
        diff = "the run table (seeds, ratios, variants or mask steps)"
      if diff:
        refuse = refuse.replace("; use another", f" ({diff}); use another")
    raise WorkdirMismatch(refuse)
  if old is None and os.path.isdir(directory) and _has_results(directory):
    stored = _stored_phase_ids(directory)
    if stored != {phase_id}:
      raise WorkdirMismatch(
          f"{directory} holds results but its runs.json is missing or garbled, and they are "
          + ("of another config" if stored else "of unknown config")
          + "; use another --workdir (or delete that folder to retrain it)")
    _note(f"{path} was missing or garbled; rewritten from the phase's stored id")
  os.makedirs(os.path.join(directory, "metrics"), exist_ok=True)
  if old is None:
    storage.write_json(path, manifest)
  return directory, phase_id


def _chunk_path(directory, end):
  return os.path.join(directory, "metrics", f"upto_{end:08d}.npz")


def _read_chunk(directory, end, phase_id):
  """A metrics chunk, or None if it is missing, unreadable or of another phase."""
  path = _chunk_path(directory, end)
  if not os.path.exists(path):
    return None
  try:
    z = storage.load_npz(path, ("steps", "phase_id") + METRICS)
  except storage.CorruptFile:
    return None
  return z if str(z["phase_id"]) == phase_id else None


def _readable_curves(path, phase_id):
  if not os.path.exists(path):
    return None
  try:
    z = storage.load_npz(path, ("steps", "phase_id") + METRICS)
  except storage.CorruptFile:
    _note(f"{path} is unreadable; rebuilding it from the metrics chunks")
    return None
  if str(z["phase_id"]) != phase_id:
    _note(f"{path} belongs to another config; rebuilding it")
    return None
  return z


def _resume_point(directory, ckpts, ends, phase_id, name):
  """(step to resume from or None, whether its checkpoint is needed): the newest
  step whose checkpoint matches its digest and whose metrics chunks up to it are
  all readable. The final step needs no checkpoint when every chunk is there."""
  first_bad = next((e for e in [0] + ends if _read_chunk(directory, e, phase_id) is None), None)
  if first_bad is None:
    return ends[-1], False  # every chunk is there: only the curves are to be gathered
  newest, corrupt = ckpts.latest_step(), []
  for s in reversed(ckpts.steps()):
    if s >= first_bad:
      continue
    if not ckpts.valid(s):
      corrupt.append(s)
      continue
    if corrupt:
      _note(f"{name}: the checkpoint at step {corrupt[0]} does not match its digest "
            f"(corrupt); resuming from step {s}")
    elif s != newest:
      _note(f"{name}: {_chunk_path(directory, first_bad)} is missing or unreadable; "
            f"resuming from step {s}")
    return s, True
  if corrupt or newest is not None:
    _note(f"{name}: no usable checkpoint; training from step 0")
  return None, False


def run_phase(name, workdir, trainer, data, runs, params, masks, config, phase_identity,
              progress=True, hparams=None, extras=None):
  """Trains ``runs`` (stacked ``params``/``masks``, leading axis = run; ``hparams``:
  the trainer's per-run values, {name: [R]}, if it reads any). ``extras``: per run, a
  dict of measures from outside its curves (e.g. its base's score at the mask step),
  added to its summary row.

  ``phase_identity`` (identity.py): the declared settings that determine the result,
  checked against an existing workdir.
  ``params``/``masks`` may be a callable returning them, called only if the
  phase has to train (a finished phase is read back without them).
  """
  directory, phase_id = claim_directory(name, workdir, runs, phase_identity)
  runs = json.loads(json.dumps(runs))
  curves_path = os.path.join(directory, "curves.npz")
  threshold = (config.threshold, config.threshold_on)
  z = _readable_curves(curves_path, phase_id)
  if z is not None:
    return _finish(name, directory, runs, z["steps"], {k: z[k] for k in METRICS}, threshold,
                   phase_id, read_back=True, extras=extras)

  train = config.train
  ends = chunk_ends(train.num_steps, train.ckpt_every)
  ckpts = StateCheckpoints(os.path.join(directory, "checkpoints"))
  start, need_state = _resume_point(directory, ckpts, ends, phase_id, name)
  if distributed.is_multiprocess():  # process 0's files decide, for every process
    start, need_state = distributed.broadcast(start), bool(distributed.broadcast(need_state))
    if not trainer.per_run_data:
      data = replicated(data)
  if start != train.num_steps or need_state:
    write_layout = _checked_layout(directory, ckpts, start)  # before anything is written
    if callable(params):
      params, masks = params()
    layout = run_layout(len(runs))
    params, masks, hparams = layout.place((params, masks, hparams or {}))
    if trainer.per_run_data:  # one split per run: placed like the runs
      data = layout.place(data)
    state = trainer.init_state(params, masks, hparams)
    if start is None:
      start = 0
      metrics = trainer.evaluate(state, masks, data, hparams)
      _save_chunk(directory, 0, phase_id, np.array([0]), {
          k: v[:, None] for k, v in layout.to_host(metrics).items()})
      ckpts.save(0, layout.real(state), phase_id)
    else:
      state = layout.place(ckpts.restore(start, like=layout.real(state)))
      tqdm.write(f"resuming {name} from step {start:,}")
    if write_layout:
      storage.write_json(os.path.join(directory, "layout.json"), device_layout())
    _train(name, directory, phase_id, trainer, data, runs, state, masks, hparams, start, ends,
           train, ckpts, progress, layout)
  ckpts.close()
  distributed.barrier(f"{directory} trained")

  steps, curves = _gather_chunks(directory, ends, phase_id)
  storage.save_npz(curves_path, steps=steps, phase_id=np.array(phase_id), **curves)
  return _finish(name, directory, runs, steps, curves, threshold, phase_id, extras=extras)


def device_layout():
  """The devices this process trains on: per-seed numbers depend on them."""
  import jax  # pylint: disable=import-outside-toplevel
  return {"backend": jax.default_backend(), "devices": jax.device_count()}


def _describe(layout):
  n = layout["devices"]
  return f"{n} {layout['backend']} device{'s' * (n != 1)}"


def stored_layout(directory):
  """A phase's recorded device layout (``layout.json``), or None if missing or garbled."""
  path = os.path.join(directory, "layout.json")
  if not os.path.exists(path):
    return None
  try:
    old = storage.read_json(path)
  except storage.CorruptFile:
    return None
  return old if isinstance(old, dict) and "devices" in old else None


def _other_layout(directory, old, now):
  return WorkdirMismatch(
      f"{directory} was trained on {_describe(old)} and this launch has {_describe(now)}: "
      "resuming there would match no uninterrupted run; resume with the same devices "
      f"(e.g. --host_devices={old['devices']} on a CPU) or delete that folder to retrain it")


def _checked_layout(directory, ckpts, start):
  """Refuses (WorkdirMismatch, nothing written) to resume a phase on another device
  layout than it trained on: its curves would then match no uninterrupted run (float32
  rounding differs with the layout, and grokking amplifies it). Where ``layout.json``
  is missing, the layout that wrote the checkpoint resumed from (its device count)
  decides. Returns whether ``layout.json`` is to be written once the state is ready
  (a phase starting, or a layout read off its checkpoint)."""
  now = device_layout()
  if start is None:
    return True
  old = stored_layout(directory)
  if old is not None:
    if old != now:
      raise _other_layout(directory, old, now)
    return False
  saved = saved_device_count(ckpts.metadata(start))
  if saved is None:
    raise WorkdirMismatch(
        f"{directory}: its device layout was not recorded and its checkpoint at step "
        f"{start} does not say it, so resuming could mix layouts; delete that folder to "
        "retrain it")
  if saved != now["devices"]:
    raise _other_layout(directory, {**now, "devices": saved}, now)
  _note(f"{directory}: its device layout was not recorded; its checkpoint at step {start} "
        f"was written by {_describe(now)}, as this launch has: resuming")
  return True


def check_same_layout(directory, action):
  """Refuses (WorkdirMismatch) to train a phase forward (``action``) on another layout
  than the one it was trained on, or on an unknown one."""
  old, now = stored_layout(directory), device_layout()
  if old != now:
    raise WorkdirMismatch(
        f"{action} trains {directory} forward, which matches its original run only on the "
        "layout it was trained on: " + (f"{_describe(old)}, and this launch has "
                                         f"{_describe(now)}; rerun with those devices (e.g. "
                                         f"--host_devices={old['devices']} on a CPU)"
                                         if old else "that was not recorded; delete that "
                                         "folder to retrain it"))


def _save_chunk(directory, end, phase_id, steps, metrics):
  storage.save_npz(_chunk_path(directory, end), steps=steps, phase_id=np.array(phase_id),
                   **metrics)


def _train(name, directory, phase_id, trainer, data, runs, state, masks, hparams, start, ends,
           train, ckpts, progress, layout):
  bar = tqdm(total=train.num_steps, initial=start, desc=name, unit="step",
             disable=not progress, dynamic_ncols=True)
  diverged = set()
  for end in [e for e in ends if e > start]:
    n_evals = (end - start) // train.eval_every
    state, metrics = trainer.train_chunk(state, masks, data, n_evals, hparams)
    metrics = layout.to_host(metrics)
    _save_chunk(directory, end, phase_id, start + train.eval_every * np.arange(1, n_evals + 1),
                metrics)
    ckpts.save(end, layout.real(state), phase_id)
    storage.write_text(os.path.join(directory, "progress.jsonl"), json.dumps(storage.strict(
        {"step": end, **{k: v[:, -1].tolist() for k, v in metrics.items()}})) + "\n", "a")
    bad = set(np.flatnonzero(~np.isfinite(metrics["train_loss"]).all(axis=1)).tolist())
    for i in sorted(bad - diverged):
      tqdm.write(f"warning: {name} run {i} ({runs[i]}) diverged by step {end} "
                 "(non-finite loss); it is marked diverged, other runs go on")
    diverged |= bad
    bar.update(end - start)
    signals.check_stop()  # a stop whose KeyboardInterrupt a callback swallowed
    bar.set_postfix(train_acc=f"{metrics['train_acc'][:, -1].mean():.3f}",
                    test_acc=f"{metrics['test_acc'][:, -1].mean():.3f}")
    start = end
  bar.close()


def _gather_chunks(directory, ends, phase_id):
  """Concatenates the chunk files of step 0 .. the last end, checked complete."""
  steps, parts = [], {k: [] for k in METRICS}
  for end in [0] + ends:
    z = _read_chunk(directory, end, phase_id)
    if z is None:
      raise storage.CorruptFile(f"{_chunk_path(directory, end)} is missing or unreadable; "
                                "rerun to train that chunk again")
    steps.append(z["steps"])
    for k in METRICS:
      parts[k].append(z[k])
  return np.concatenate(steps), {k: np.concatenate(v, axis=1) for k, v in parts.items()}


class LaunchRecord:
  """The phases one launch used (read back or trained): {folder: phase id}, and the
  summaries of phases it only read back, written when the launch ends well
  (``commit``): a launch refused at a later phase changes no byte of earlier ones.
  ``created``: the phase folders it made; ``discard_unstarted`` removes those that
  hold nothing trained when the launch fails (the workdir is left as it was found)."""

  def __init__(self):
    self.phases, self.pending, self.created, self.warned = {}, [], [], set()

  def commit(self):
    for directory, rows in self.pending:
      _write_summaries(directory, rows)
    self.pending = []

  def discard_unstarted(self):
    """Removes the phase folders this launch created that hold nothing trained."""
    for directory in self.created:
      if os.path.isdir(directory) and not _has_results(directory) and distributed.is_writer():
        shutil.rmtree(directory, ignore_errors=True)
    self.created = []


_LAUNCH = None  # the LaunchRecord of the running launch (launch/main.py), if any


def warn_once(key, text):
  """Prints ``warning: text`` the first time ``key`` comes up in this launch (every
  time outside a launch)."""
  if _LAUNCH is not None and key in _LAUNCH.warned:
    return
  if _LAUNCH is not None:
    _LAUNCH.warned.add(key)
  tqdm.write(f"warning: {text}")


def begin_launch():
  global _LAUNCH
  _LAUNCH = LaunchRecord()
  return _LAUNCH


def _write_summaries(directory, rows):
  storage.write_json(os.path.join(directory, "summary.json"), rows)
  storage.write_csv(os.path.join(directory, "summary.csv"), rows)


def _finish(name, directory, runs, steps, curves, threshold, phase_id, read_back=False,
            extras=None):
  """Measures from the curves, written as the phase's summary.json / .csv.

  Also when a finished phase is read back: the threshold is not part of the
  training, so the summaries always follow the config they were last read with
  (inside a launch, once it ends well). A run marked ``base_diverged`` (its base run
  was non-finite where its mask or weights were taken) counts as diverged.
  """
  measures = []
  for i, run in enumerate(runs):
    m = run_measures(steps, {k: v[i] for k, v in curves.items()}, *threshold)
    if run.get("base_diverged"):
      m["diverged"] = True
    measures.append({**m, **(extras[i] if extras else {})})
  result = PhaseResult(name, directory, runs, steps, curves, measures)
  rows = result.rows()
  if _LAUNCH is not None:
    _LAUNCH.phases[directory] = phase_id
  if read_back and _LAUNCH is not None:
    _LAUNCH.pending.append((directory, rows))
  else:
    _write_summaries(directory, rows)
  return result


def add_checkpoints(result, steps, trainer, data, params, masks, eval_every, hparams=None):
  """Adds checkpoints at ``steps`` to a finished phase, without retraining it.

  Each missing step is reached by training forward from the nearest earlier
  checkpoint, or from the phase's step-0 inputs (``params``/``masks``: its starting
  weights and masks; the step-0 state is rebuilt from them, so a deleted theta_0
  comes back as it was). Training is deterministic, so these are the states the
  original run passed through (tested), on the layout it trained on (another one is
  refused: ``check_same_layout``). Returns the sorted list of steps added.
  """
  ckpts = StateCheckpoints(result.checkpoint_dir)
  have = ckpts.steps()
  missing = sorted(set(steps) - set(have))
  if not missing:
    ckpts.close()
    return []
  if any(s % eval_every for s in missing):
    raise ValueError(f"cannot add checkpoints at {missing}: steps must be multiples of "
                     f"eval_every={eval_every}")
  if any(s > 0 for s in missing):
    check_same_layout(result.directory, f"adding checkpoints at {missing}")
  layout = run_layout(len(result.runs))
  params, masks, hparams = layout.place((params, masks, hparams or {}))
  if trainer.per_run_data:
    data = layout.place(data)
  initial = trainer.init_state(params, masks, hparams)
  like = layout.real(initial)
  phase_id = ckpts.digests().get("phase_id")
  state, at = None, None
  for step in tqdm(missing, desc=f"{result.name}: adding checkpoints", disable=len(missing) < 2):
    start = max([s for s in have if s < step], default=None)
    if start is None and at is None:  # nothing saved before it: from the step-0 inputs
      state, at = initial, 0
    elif start is not None and (at is None or at < start):  # a nearer checkpoint
      state, at = layout.place(ckpts.restore(start, like=like)), start
    if step > at:
      state, _ = trainer.train_chunk(state, masks, data, (step - at) // eval_every, hparams)
    at = step
    ckpts.save(step, layout.real(state), phase_id)
  ckpts.close()
  return missing
