"""orbax-checkpoint storage for training states, initial weights and masks, verified.

Checkpoints hold a batch of runs (leading run axis). Paths are made absolute
(orbax needs that) and every save is waited for before returning, so a
checkpoint on disk is complete when the next line of the caller runs; a signal
(Ctrl-C, SIGTERM) that arrives during a save waits until it is written
(``signals.deferred``). After each save the sha256 of its files is recorded
(``digests.json`` beside the steps; ``<folder>.digest`` beside a saved tree) and
every read checks it: a flipped or truncated byte raises
:class:`storage.CorruptFile` (one line) instead of training on garbage. A step
saved but not yet digested (killed in between) counts as not there.

Every restore reads onto *today's* devices, whatever layout wrote the files (a
base trained with 2 host devices, tickets cut on 1, or on a GPU): arrays come back
on the first device (one process) or replicated over every device (several
processes; ``like`` with shardings places them as given). The stored layout stays
readable (``saved_device_count``); nothing stored is ever rewritten by a read. A
file that matches its digest but cannot be restored raises :class:`RestoreError`,
which never advises deleting it.
"""
import os

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

from gtickets import distributed, signals, storage


class RestoreError(RuntimeError):
  """A checkpoint that matches its digest (not corrupt) could not be restored (one line)."""


def _placement():
  """Where restored arrays go when no ``like`` says: the first local device (one
  process), replicated over every device (several processes)."""
  if distributed.is_multiprocess():
    return NamedSharding(Mesh(np.array(jax.devices()), ("all",)), PartitionSpec())
  return SingleDeviceSharding(jax.local_devices()[0])


def _target(like, saved):
  """Abstract arrays to restore into: the shapes and dtypes of ``like`` (else of the
  ``saved`` metadata), on today's devices. With several processes ``like``'s own
  shardings (today's run layout) are kept."""
  default = _placement()
  def one(x):
    sharding = getattr(x, "sharding", None) if like is not None and \
        distributed.is_multiprocess() else None
    return jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding or default)
  return jax.tree.map(one, like if like is not None else saved)


def saved_device_count(saved):
  """How many devices the arrays of a saved tree's metadata were spread over (the
  layout that wrote them), or None when the metadata does not say."""
  counts = []
  for leaf in jax.tree.leaves(saved):
    sharding = getattr(leaf, "sharding", None)
    mesh = getattr(sharding, "device_mesh", None)
    if mesh is not None and getattr(mesh, "mesh", None) is not None:
      counts.append(len({d.id for d in np.ravel(np.asarray(mesh.mesh, dtype=object))}))
    elif isinstance(sharding, ocp.metadata.SingleDeviceShardingMetadata):
      counts.append(1)
  return max(counts) if counts else None


def _one_line(e, limit=400):
  """An exception's first non-empty line, whole (cut at a word if over ``limit``)."""
  lines = [l.strip() for l in str(e).splitlines() if l.strip()]
  text = lines[0] if lines else ""
  if len(text) > limit:
    text = text[:limit].rsplit(" ", 1)[0] + " ..."
  return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _restore(what, fn):
  """Runs an orbax restore of files already checked against their digest: a failure
  is not corruption, so it is a one-line RestoreError that says to keep the files."""
  try:
    return fn()
  except (storage.CorruptFile, RestoreError):
    raise
  except Exception as e:  # pylint: disable=broad-except  (orbax/tensorstore raise many kinds)
    raise RestoreError(
        f"{what} matches its digest (it is not corrupt: keep it) but could not be restored "
        f"here ({_one_line(e)})") from None


def read_digests(path):
  """A checkpoint folder's ``digests.json``: {step: digest, "phase_id": id} as saved; {}
  when missing, garbled or not a JSON object (every step then counts as unverified:
  training redoes them)."""
  if not os.path.exists(path):
    return {}
  try:
    d = storage.read_json(path)
  except storage.CorruptFile:
    return {}
  return d if isinstance(d, dict) else {}


class StateCheckpoints:
  """Training states of one phase, one orbax step per checkpointed train step."""

  def __init__(self, directory):
    self.directory = os.path.abspath(directory)
    self._manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(create=True),
        item_handlers=ocp.StandardCheckpointHandler())
    self.digests_path = os.path.join(self.directory, "digests.json")

  def digests(self):
    """This phase's ``digests.json`` (``read_digests``)."""
    return read_digests(self.digests_path)

  def steps(self):
    """The saved and digested steps."""
    have = self.digests()
    return sorted(s for s in self._manager.all_steps() if str(s) in have)

  def latest_step(self):
    steps = self.steps()
    return steps[-1] if steps else None

  def path(self, step):
    return os.path.join(self.directory, str(step))

  def valid(self, step):
    """Whether the files of ``step`` match the digest written with them."""
    want = self.digests().get(str(step))
    return want is not None and os.path.isdir(self.path(step)) and \
        storage.digest(self.path(step)) == want

  def save(self, step, state, phase_id=None):
    """Saves ``step`` (replacing a corrupt or undigested one there) and its digest (and
    the phase id, if given), a signal arriving meanwhile waiting until both are written."""
    with signals.deferred():
      if step in self._manager.all_steps():
        self._manager.delete(step)
      self._manager.save(step, args=ocp.args.StandardSave(state), force=True)
      self._manager.wait_until_finished()
      digests = self.digests()
      digests[str(step)] = storage.digest(self.path(step))
      if phase_id is not None:
        digests["phase_id"] = phase_id
      storage.write_json(self.digests_path, digests)
      distributed.barrier(f"digest {self.path(step)}")

  def _check(self, step):
    if step not in self.steps():
      raise FileNotFoundError(
          f"no checkpoint at step {step} in {self.directory} (have {self.steps()})")
    if not self.valid(step):
      raise storage.CorruptFile(
          f"checkpoint {self.path(step)} does not match the digest written with it "
          "(corrupt); delete that folder and rerun")

  def metadata(self, step):
    """The saved tree's metadata at ``step`` (shapes, dtypes, the layout that wrote it),
    verified like a restore."""
    self._check(step)
    return _restore(f"checkpoint {self.path(step)}",
                    lambda: self._manager.item_metadata(step).tree)

  def restore(self, step, like=None):
    """The state saved at ``step``, verified, on today's devices (any layout wrote it);
    ``like`` gives structure and dtypes (default: as saved)."""
    self._check(step)
    return _restore(f"checkpoint {self.path(step)}", lambda: self._manager.restore(
        step, args=ocp.args.StandardRestore(
            _target(like, None if like is not None else self._manager.item_metadata(step).tree))))

  def close(self):
    self._manager.close()


def restore_params(directory, step):
  """The params of every run saved at ``step`` in a phase's checkpoints.

  This is rewinding: a ticket's weights are its base run's params at the
  rewind step, read back bit for bit (and verified) from the base phase.
  """
  ckpts = StateCheckpoints(directory)
  try:
    return ckpts.restore(step)["params"]
  finally:
    ckpts.close()


def _digest_path(path):
  return os.path.abspath(path) + ".digest"


def save_tree(path, tree, phase_id=""):
  """Saves a pytree (e.g. a batch of masks) to its own orbax folder, with a digest and
  the id of the phase it belongs to (``load_tree`` checks both)."""
  path = os.path.abspath(path)
  with signals.deferred():
    if os.path.exists(_digest_path(path)) and distributed.is_writer():
      os.remove(_digest_path(path))
    with ocp.StandardCheckpointer() as ckptr:
      ckptr.save(path, tree, force=True)
      ckptr.wait_until_finished()
    distributed.barrier(f"saved {path}")
    storage.write_text(_digest_path(path), f"{storage.digest(path)} {phase_id}".strip())


def tree_saved(path):
  """Whether a tree was saved completely at ``path`` (its digest written)."""
  return os.path.exists(_digest_path(path)) and os.path.isdir(path)


def saved_phase_id(path):
  """The phase id saved with a tree ("" for none)."""
  with open(_digest_path(os.path.abspath(path)), "rb") as f:
    words = f.read().decode("utf-8", "replace").split()
  return words[1] if len(words) > 1 else ""


def load_tree(path, like=None):
  """A tree saved by ``save_tree``, verified against its digest."""
  path = os.path.abspath(path)
  if not tree_saved(path):
    raise FileNotFoundError(f"no saved tree at {path}")
  with open(_digest_path(path), "rb") as f:
    words = f.read().decode("utf-8", "replace").split()
  if not words or words[0] != storage.digest(path):
    raise storage.CorruptFile(f"{path} does not match the digest written with it "
                              "(corrupt); delete it and rerun")
  def restore():
    with ocp.StandardCheckpointer() as ckptr:
      saved = None if like is not None else ckptr.metadata(path).item_metadata.tree
      return ckptr.restore(path, _target(like, saved))
  return _restore(path, restore)
