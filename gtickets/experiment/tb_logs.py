"""TensorBoard logs of a phase: one TensorBoard run per training run, written as it trains.

``<phase>/tb/<label>/`` holds a run's event files, its label naming its place at a
glance (``grokked/k0.6/seed3``; only the settings that vary within the phase, so
``tensorboard --logdir workdirs/modadd`` lists ``tickets/tb/grokked/k0.6/seed3``):
``events.out.tfevents.curves`` (every evaluated step: accuracy and loss on train and
test, the L1 and L2 norms; appended chunk by chunk) and ``events.out.tfevents.measures``
(the HParams dashboard's session: the run's settings, and its measures t_mem, t_gen,
tau_grok and final accuracies as scalars at the last step; rewritten whenever the
phase is measured). ``tb/digests.json`` holds each file's digest.

The logs are derived from the stored metrics, never the other way round: a resumed
phase rewrites them from its metrics chunks up to the resume step (so they equal an
uninterrupted run's: no repeated, no missing step), and a missing or damaged log is
rewritten from the stored curves (with a note). Written with tensorboard's own record
writer and protos: no TensorFlow.
"""
import os
import shutil
import time

from gtickets import storage

CURVES, MEASURES = "events.out.tfevents.curves", "events.out.tfevents.measures"
DIGESTS = "digests.json"
MEASURES_KEY = "measures written"  # in digests.json: the digest of what the measures hold
TAGS = {"train_acc": "accuracy/train", "test_acc": "accuracy/test",
        "train_loss": "loss/train", "test_loss": "loss/test", "l1": "norm/l1", "l2": "norm/l2"}
MEASURE_TAGS = ("t_mem", "t_gen", "tau_grok", "final_train_acc", "final_test_acc")
# a run's settings in the HParams dashboard (those its run table has), then the phase's
HPARAMS = ("seed", "data_seed", "variant", "prune_ratio", "mask_step", "rewind_step", "lr",
           "weight_decay", "scope", "imp_rate", "imp_rewind")
# label parts, in order, for the settings that vary within a phase
LABEL = (("variant", "{}"), ("prune_ratio", "k{:g}"), ("mask_step", "mask{}"),
         ("rewind_step", "rewind{}"), ("lr", "lr{:g}"), ("weight_decay", "wd{:g}"),
         ("imp_rate", "rate{:g}"), ("imp_rewind", "from{}"), ("data_seed", "split{}"),
         ("seed", "seed{}"))


def run_labels(runs):
  """A label per run: its variant, then each setting that varies within the phase, its
  seed last (``grokked/k0.6/seed3``); a run's index is added where labels would repeat."""
  varies = [(f, fmt) for f, fmt in LABEL if f in ("variant", "seed") or len(
      {repr(r[f]) for r in runs if r.get(f) is not None}) > 1]
  labels = ["/".join(fmt.format(r[f]) for f, fmt in varies if r.get(f) is not None)
            for r in runs]
  if len(set(labels)) < len(labels):
    labels = [f"{label}/run{r['run']}" for label, r in zip(labels, runs)]
  return labels


def _event(step, values, wall_time):
  from tensorboard.compat.proto import event_pb2, summary_pb2  # pylint: disable=import-outside-toplevel
  summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=float(v))
                                       for t, v in values])
  return event_pb2.Event(wall_time=wall_time, step=int(step), summary=summary)


def _records(events):
  """The TFRecord framing of serialized events (tensorboard's record writer)."""
  import io  # pylint: disable=import-outside-toplevel
  from tensorboard.summary.writer.record_writer import RecordWriter  # pylint: disable=import-outside-toplevel
  buf = io.BytesIO()
  writer = RecordWriter(buf)
  for e in events:
    writer.write(e.SerializeToString())
  return buf.getvalue()


def _file_version(wall_time):
  from tensorboard.compat.proto import event_pb2  # pylint: disable=import-outside-toplevel
  return event_pb2.Event(wall_time=wall_time, file_version="brain.Event:2")


class PhaseLogs:
  """The TensorBoard logs of one phase folder (``directory``) and its runs."""

  def __init__(self, directory, runs):
    self.root = os.path.join(directory, "tb")
    self.runs = runs
    self.labels = run_labels(runs)

  def _file(self, i, name):
    return os.path.join(self.root, self.labels[i], name)

  # ------------------------------------------------------------ writing

  def reset(self):
    """Starts the logs afresh (nothing logged)."""
    shutil.rmtree(self.root, ignore_errors=True)
    now = time.time()
    for i in range(len(self.runs)):
      os.makedirs(os.path.dirname(self._file(i, CURVES)), exist_ok=True)
      storage.write_bytes(self._file(i, CURVES), _records([_file_version(now)]))
    self._write_digests()

  def append(self, steps, metrics):
    """Logs ``metrics`` ({name: [run, eval]}) at ``steps`` to every run's curves file."""
    now = time.time()
    for i in range(len(self.runs)):
      events = [_event(s, [(TAGS[k], metrics[k][i, j]) for k in TAGS if k in metrics], now)
                for j, s in enumerate(steps)]
      storage.write_bytes(self._file(i, CURVES), _records(events), "a")
    self._write_digests()

  def write_measures(self, rows, settings, last_step):
    """Every run's HParams session (its settings and the phase's ``settings``: task,
    model, lr, weight decay ...) and its measures as scalars at ``last_step`` (a measure
    not reached is left out: it is not a number)."""
    from tensorboard.compat.proto import event_pb2  # pylint: disable=import-outside-toplevel
    from tensorboard.plugins.hparams import summary_v2  # pylint: disable=import-outside-toplevel
    now = time.time()
    contents = [self._measures_of(row, settings, last_step) for row in rows]
    key = storage.json_digest(contents)
    if self.intact() and self._stored_key() == key:
      return  # as written before (a phase read back): no byte changes
    for i, (hparams, measures, step) in enumerate(contents):
      session = summary_v2.hparams_pb(hparams, trial_id=self.labels[i])
      events = [_file_version(now), event_pb2.Event(wall_time=now, step=0, summary=session)]
      if measures:
        events.append(_event(step, measures, now))
      storage.write_bytes(self._file(i, MEASURES), _records(events))
    self._write_digests(key)

  @staticmethod
  def _measures_of(row, settings, last_step):
    hparams = {**settings, **{f: row[f] for f in HPARAMS if row.get(f) is not None}}
    hparams = {k: (v if isinstance(v, (bool, int, float, str)) else str(v))
               for k, v in hparams.items()}
    measures = [(f"measures/{m}", row[m]) for m in MEASURE_TAGS
                if isinstance(row.get(m), (int, float)) and not isinstance(row[m], bool)]
    return hparams, measures, int(last_step)

  def _stored_key(self):
    try:
      return storage.read_json(os.path.join(self.root, DIGESTS)).get(MEASURES_KEY)
    except (OSError, storage.CorruptFile, AttributeError):
      return None

  def rewrite(self, steps, curves):
    """The curves files from stored curves ({name: [run, eval]} at ``steps``)."""
    self.reset()
    self.append(steps, curves)

  # ------------------------------------------------------------ integrity

  def _files(self):
    out = []
    for d, _, files in os.walk(self.root):
      out += [os.path.relpath(os.path.join(d, f), self.root) for f in files if f != DIGESTS]
    return sorted(out)

  def _write_digests(self, measures_key=None):
    """Each file's digest, and what the measures files hold (``measures_key``; kept
    from before when not given)."""
    key = measures_key if measures_key is not None else self._stored_key()
    storage.write_json(os.path.join(self.root, DIGESTS), {
        **{f: storage.digest(os.path.join(self.root, f)) for f in self._files()},
        **({MEASURES_KEY: key} if key else {})})

  def intact(self):
    """Whether every run's curves file is there and every file matches its digest."""
    try:
      want = storage.read_json(os.path.join(self.root, DIGESTS))
    except (OSError, storage.CorruptFile):
      return False
    if not isinstance(want, dict):
      return False
    want = {f: d for f, d in want.items() if f != MEASURES_KEY}
    need = {os.path.relpath(self._file(i, CURVES), self.root) for i in range(len(self.runs))}
    have = set(self._files())
    return need <= have and set(want) == have and all(
        want[f] == storage.digest(os.path.join(self.root, f)) for f in have)

  def exists(self):
    return os.path.isdir(self.root)


def read_events(path):
  """[(step, tag, value)] of the scalars in one event file (for tests and loaders)."""
  from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # pylint: disable=import-outside-toplevel
  out = []
  for e in EventFileLoader(path).Load():
    for v in e.summary.value:  # the loader turns simple_value scalars into tensors
      value = v.simple_value if v.HasField("simple_value") else (
          float(v.tensor.float_val[0]) if v.tensor.float_val else None)
      if value is not None:
        out.append((int(e.step), v.tag, float(value)))
  return out
