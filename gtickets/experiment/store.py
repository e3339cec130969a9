"""Where phases live: a launch's :class:`Workdir` and the :class:`PhaseStore` of each phase.

A phase folder ``<workdir>/<phase>/`` holds:
  runs.json          the run table and the phase's identity (identity.py); its short
                     digest, the phase id, is also stored in every metrics file and in
                     the checkpoints' digests.json, so a deleted or garbled runs.json is
                     restored only for the same phase
  checkpoints/       orbax training states (all runs) at step 0, every ``ckpt_every``
                     steps and at the end, with their digests (training/checkpoints.py)
  metrics/           curves of each finished chunk (npz), written before the chunk's
                     checkpoint, so a checkpoint always has its curves
  curves.npz         the full curves: ``steps`` and one [run, eval] array per metric
  summary.json/.csv  per-run measures (t_mem, t_gen, tau_grok, finals) and settings
  layout.json        the devices it trains on (per-seed numbers depend on them)
  tb/                TensorBoard logs, one run per training run (experiment/tb_logs.py)
  progress.jsonl     a log line per checkpoint: the step and each run's last metrics
  <tree>/, .digest   saved trees (a ticket phase's masks and start weights), with the
                     phase id they belong to

Everything a phase writes or reads back goes through its store, verified (digests,
zip checksums, phase ids). The :class:`Workdir` is what one launch did there: the
phases it used (id and summary, for its launch record), the summaries of phases it
only read back (written when the launch ends well: a launch refused at a later phase
changes no byte of earlier ones), the folders it made (removed if it fails before
training anything in them) and the warnings it gave.
"""
import json
import os
import shutil

import numpy as np
from tqdm.auto import tqdm

from gtickets import distributed, identity, storage
from gtickets.experiment.tb_logs import PhaseLogs
from gtickets.training import checkpoints
from gtickets.training.trainer import METRICS


class WorkdirMismatch(RuntimeError):
  """The workdir holds a phase of other runs or settings, or of another device layout."""


def note(msg):
  tqdm.write(f"note: {msg}")


class Workdir:
  """A folder of phases and what one launch (``launch=True``) did there.

  Outside a launch (a notebook, a test) read-back summaries are written at once and
  every warning is said each time."""

  def __init__(self, path, progress=True, launch=False, logs=True):
    self.path = os.path.abspath(path)
    self.progress, self.launch, self.logs = progress, launch, logs
    self.phases, self.pending, self.created, self.warned = {}, [], [], set()

  @staticmethod
  def of(workdir):
    """``workdir`` itself, or a Workdir over a path (progress bars on, no launch)."""
    return workdir if isinstance(workdir, Workdir) else Workdir(workdir)

  def file(self, *parts):
    return os.path.join(self.path, *parts)

  def sub(self, name):
    """A folder of phases inside this one, part of the same launch (one record)."""
    sub = Workdir(self.file(name), self.progress, self.launch, self.logs)
    sub.phases, sub.pending, sub.created, sub.warned = (
        self.phases, self.pending, self.created, self.warned)
    return sub

  def store(self, name):
    """The PhaseStore of phase folder ``name`` (a path below the workdir)."""
    return PhaseStore(self, name)

  def warn_once(self, key, text):
    """``warning: text``, the first time ``key`` comes up in this launch."""
    if self.launch and key in self.warned:
      return
    self.warned.add(key)
    tqdm.write(f"warning: {text}")

  def commit(self):
    """Writes the summaries (and logs) of the phases only read back (the launch ended
    well)."""
    for write in self.pending:
      write()
    self.pending.clear()

  def later(self, write):
    """Runs ``write`` now, or in a launch once it ends well (``commit``): reading a
    phase back changes no byte of a launch that is refused later."""
    if self.launch:
      self.pending.append(write)
    else:
      write()

  def discard_unstarted(self):
    """Removes the phase folders this launch made that hold nothing trained."""
    for directory in self.created:
      if os.path.isdir(directory) and not _has_results(directory) and distributed.is_writer():
        shutil.rmtree(directory, ignore_errors=True)
    self.created = []


def _has_results(directory):
  """Whether a phase folder holds anything trained: curves, metrics chunks, checkpoints."""
  return any(os.path.exists(os.path.join(directory, p)) and (
      not os.path.isdir(os.path.join(directory, p)) or os.listdir(os.path.join(directory, p)))
             for p in ("curves.npz", "metrics", "checkpoints"))


def manifest(runs, phase_identity):
  """(runs.json content, phase id) of a phase: its run table and identity."""
  content = json.loads(json.dumps(storage.strict({"runs": runs, "identity": phase_identity})))
  return content, storage.json_digest(content)


class PhaseStore:
  """One phase folder of a workdir (see the module docstring)."""

  def __init__(self, workdir, name):
    self.workdir, self.name = workdir, name
    self.directory = workdir.file(name)
    self.phase_id = None
    self._ckpts = None
    self.tb = None  # (PhaseLogs, settings, last step) while its logs are written

  def path(self, *parts):
    return os.path.join(self.directory, *parts)

  # ------------------------------------------------------------ identity

  def claim(self, runs, phase_identity):
    """Checks (or writes) ``runs.json``; returns the phase id. Raises WorkdirMismatch
    if the folder holds runs of another run table or identity (also when runs.json is
    gone or garbled: the id stored with the results tells). Call it before writing
    anything else of the phase."""
    if self.workdir.launch and not os.path.isdir(self.directory):
      self.workdir.created.append(self.directory)
    content, phase_id = manifest(runs, phase_identity)
    path = self.path("runs.json")
    refuse = (f"{self.directory} holds runs of a different config or run table; use another "
              "--workdir (or delete that folder to retrain it)")
    old = None
    if os.path.exists(path):
      try:
        old = storage.read_json(path)
      except storage.CorruptFile:
        old = None
    if old is not None and old != content:
      if isinstance(old, dict) and isinstance(old.get("identity"), dict):
        diff = identity.first_difference(old["identity"], content["identity"])
        if diff is None and old.get("runs") != content["runs"]:
          diff = "the run table (seeds, ratios, variants, mask steps or operations)"
        if diff:
          refuse = refuse.replace("; use another", f" ({diff}); use another")
      raise WorkdirMismatch(refuse)
    if old is None and os.path.isdir(self.directory) and _has_results(self.directory):
      stored = self._stored_ids()
      if stored != {phase_id}:
        raise WorkdirMismatch(
            f"{self.directory} holds results but its runs.json is missing or garbled, and "
            "they are " + ("of another config" if stored else "of unknown config")
            + "; use another --workdir (or delete that folder to retrain it)")
      note(f"{path} was missing or garbled; rewritten from the phase's stored id")
    os.makedirs(self.path("metrics"), exist_ok=True)
    if old is None:
      storage.write_json(path, content)
    self.phase_id = phase_id
    return phase_id

  def _stored_ids(self):
    """Phase ids stored in the folder's curves, metrics chunks and checkpoints."""
    mdir = self.path("metrics")
    files = [self.path("curves.npz")] + (
        [os.path.join(mdir, f) for f in sorted(os.listdir(mdir)) if f.endswith(".npz")]
        if os.path.isdir(mdir) else [])
    ids = set()
    for path in files:
      if os.path.exists(path):
        try:
          ids.add(str(storage.load_npz(path, ["phase_id"])["phase_id"]))
        except storage.CorruptFile:
          pass
    ids.add(checkpoints.read_digests(self.path("checkpoints", "digests.json")).get("phase_id"))
    return ids - {None}

  # ------------------------------------------------------------ curves

  def _chunk_path(self, end):
    return self.path("metrics", f"upto_{end:08d}.npz")

  def read_chunk(self, end):
    """A metrics chunk, or None if it is missing, unreadable or of another phase."""
    path = self._chunk_path(end)
    if not os.path.exists(path):
      return None
    try:
      z = storage.load_npz(path, ("steps", "phase_id") + METRICS)
    except storage.CorruptFile:
      return None
    return z if str(z["phase_id"]) == self.phase_id else None

  def write_chunk(self, end, steps, metrics):
    storage.save_npz(self._chunk_path(end), steps=steps, phase_id=np.array(self.phase_id),
                     **metrics)

  def missing_chunk(self, end):
    return self._chunk_path(end)

  def gather(self, ends):
    """(steps, curves) of the chunks of step 0 .. the last end, checked complete."""
    steps, parts = [], {k: [] for k in METRICS}
    for end in [0] + ends:
      z = self.read_chunk(end)
      if z is None:
        raise storage.CorruptFile(f"{self._chunk_path(end)} is missing or unreadable; "
                                  "rerun to train that chunk again")
      steps.append(z["steps"])
      for k in METRICS:
        parts[k].append(z[k])
    return np.concatenate(steps), {k: np.concatenate(v, axis=1) for k, v in parts.items()}

  def read_curves(self):
    """(steps, curves) of a finished phase, or None (missing, unreadable, another id)."""
    path = self.path("curves.npz")
    if not os.path.exists(path):
      return None
    try:
      z = storage.load_npz(path, ("steps", "phase_id") + METRICS)
    except storage.CorruptFile:
      note(f"{path} is unreadable; rebuilding it from the metrics chunks")
      return None
    if str(z["phase_id"]) != self.phase_id:
      note(f"{path} belongs to another config; rebuilding it")
      return None
    return z["steps"], {k: z[k] for k in METRICS}

  def write_curves(self, steps, curves):
    storage.save_npz(self.path("curves.npz"), steps=steps, phase_id=np.array(self.phase_id),
                     **curves)

  def log_progress(self, step, metrics):
    storage.write_text(self.path("progress.jsonl"), json.dumps(storage.strict(
        {"step": step, **{k: v[:, -1].tolist() for k, v in metrics.items()}})) + "\n", "a")

  # ------------------------------------------------------------ checkpoints and trees

  @property
  def checkpoints(self):
    """The phase's training states (orbax, verified)."""
    if self._ckpts is None:
      self._ckpts = checkpoints.StateCheckpoints(self.path("checkpoints"))
    return self._ckpts

  def close(self):
    if self._ckpts is not None:
      self._ckpts.close()
      self._ckpts = None

  def save_tree(self, name, tree):
    checkpoints.save_tree(self.path(name), tree, self.phase_id)

  def load_tree(self, name):
    """A tree saved for this phase, or None (missing, of another phase, corrupt: said)."""
    path = self.path(name)
    if not checkpoints.tree_saved(path):
      return None
    if checkpoints.saved_phase_id(path) != self.phase_id:
      note(f"{path} was saved for another phase (or before phase ids); building it again")
      return None
    try:
      return checkpoints.load_tree(path)
    except storage.CorruptFile:
      note(f"{path} does not match the digest written with it (corrupt); building it again")
      return None

  # ------------------------------------------------------------ device layout

  def stored_layout(self):
    """The recorded device layout (``layout.json``), or None if missing or garbled."""
    path = self.path("layout.json")
    if not os.path.exists(path):
      return None
    try:
      old = storage.read_json(path)
    except storage.CorruptFile:
      return None
    return old if isinstance(old, dict) and "devices" in old else None

  def write_layout(self):
    storage.write_json(self.path("layout.json"), device_layout())

  def check_resume_layout(self, start):
    """Refuses (WorkdirMismatch, nothing written) to resume the phase from ``start`` on
    another device layout than it trained on: its curves would match no uninterrupted
    run (float32 rounding differs with the layout, and grokking amplifies it). Where
    ``layout.json`` is missing, the layout that wrote that checkpoint (its device
    count) decides. Returns whether ``layout.json`` is to be written once the state is
    ready (a phase starting, or a layout read off its checkpoint)."""
    now = device_layout()
    if start is None:
      return True
    old = self.stored_layout()
    if old is not None:
      if old != now:
        raise self._other_layout(old, now)
      return False
    saved = checkpoints.saved_device_count(self.checkpoints.metadata(start))
    if saved is None:
      raise WorkdirMismatch(
          f"{self.directory}: its device layout was not recorded and its checkpoint at step "
          f"{start} does not say it, so resuming could mix layouts; delete that folder to "
          "retrain it")
    if saved != now["devices"]:
      raise self._other_layout({**now, "devices": saved}, now)
    note(f"{self.directory}: its device layout was not recorded; its checkpoint at step "
         f"{start} was written by {describe_layout(now)}, as this launch has: resuming")
    return True

  def check_same_layout(self, action):
    """Refuses (WorkdirMismatch) to train a finished phase forward (``action``) on another
    layout than it trained on, or on an unknown one."""
    old, now = self.stored_layout(), device_layout()
    if old != now:
      raise WorkdirMismatch(
          f"{action} trains {self.directory} forward, which matches its original run only on "
          "the layout it was trained on: " + (
              f"{describe_layout(old)}, and this launch has {describe_layout(now)}; rerun with "
              f"those devices (e.g. --host_devices={old['devices']} on a CPU)" if old else
              "that was not recorded; delete that folder to retrain it"))

  def _other_layout(self, old, now):
    return WorkdirMismatch(
        f"{self.directory} was trained on {describe_layout(old)} and this launch has "
        f"{describe_layout(now)}: resuming there would match no uninterrupted run; resume "
        f"with the same devices (e.g. --host_devices={old['devices']} on a CPU) or delete "
        "that folder to retrain it")

  # ------------------------------------------------------------ summaries

  def record(self, rows, read_back):
    """The phase's per-run summary rows: written now, or (read back in a launch) when the
    launch ends well; the launch records the phase either way."""
    self.workdir.phases[self.directory] = self.phase_id
    if read_back:
      self.workdir.later(lambda: self.write_summaries(rows))
    else:
      self.write_summaries(rows)

  def write_summaries(self, rows):
    storage.write_json(self.path("summary.json"), rows)
    storage.write_csv(self.path("summary.csv"), rows)
    if self.tb is not None:
      logs, settings, last_step = self.tb
      logs.write_measures(rows, settings, last_step)

  # ------------------------------------------------------------ TensorBoard logs

  def logs(self, runs, settings, last_step):
    """The phase's TensorBoard logs (None where this launch writes none: ``Workdir.logs``
    off, or not process 0); their measures follow the summaries."""
    if not (self.workdir.logs and distributed.is_writer()):
      return None
    self.tb = (PhaseLogs(self.directory, runs), settings, last_step)
    return self.tb[0]

  def repair_logs(self, logs, steps, curves):
    """Rewrites missing or damaged logs of a finished phase from its stored curves
    (a damaged one with a note; later in a launch, as the summaries)."""
    if logs is None or logs.intact():
      return
    def write():
      if logs.exists():
        note(f"{logs.root}: TensorBoard logs damaged or incomplete; rewritten from the "
             "stored curves")
      logs.rewrite(steps, curves)
    self.workdir.later(write)


def device_layout():
  """The devices this process trains on: per-seed numbers depend on them."""
  import jax  # pylint: disable=import-outside-toplevel
  return {"backend": jax.default_backend(), "devices": jax.device_count()}


def describe_layout(layout):
  n = layout["devices"]
  return f"{n} {layout['backend']} device{'s' * (n != 1)}"
