"""orbax-checkpoint storage for training states, initial weights and masks, verified.

Checkpoints hold a batch of runs (leading run axis). Paths are made absolute
(orbax needs that) and every save is waited for before returning, so a
checkpoint on disk is complete when the next line of the caller runs. After
each save the sha256 of its files is recorded (``digests.json`` beside the
steps; ``<folder>.digest`` beside a saved tree) and every read checks it: a
flipped or truncated byte raises :class:`storage.CorruptFile` (one line)
instead of training on garbage. A step saved but not yet digested (killed in
between) counts as not there.
"""
import os

import jax
import orbax.checkpoint as ocp

from gtickets import distributed, storage


def _abstract(tree):
  """Shapes, dtypes and (for arrays spread over devices) shardings of ``tree``."""
  def one(x):
    sharding = getattr(x, "sharding", None) if distributed.is_multiprocess() else None
    return jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding)
  return jax.tree.map(one, tree)


def _one_device(tree):
  """In one process with several devices, a restored tree on the first device: orbax
  puts arrays back on the devices they were saved from, which differ between
  checkpoints written with other device counts (and cannot be combined)."""
  if distributed.is_multiprocess() or len(jax.devices()) == 1:
    return tree
  return jax.device_put(tree, jax.devices()[0])


def _restore_or_corrupt(what, fn):
  """Runs an orbax restore; any failure to read becomes a one-line CorruptFile."""
  try:
    return _one_device(fn())
  except storage.CorruptFile:
    raise
  except Exception as e:  # tensorstore/orbax errors of unreadable files are many kinds
    last = [l for l in str(e).splitlines() if l.strip()]
    raise storage.CorruptFile(
        f"{what} is unreadable ({type(e).__name__}{': ' + last[0][:120] if last else ''}); "
        "delete it and rerun") from None


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
        self.directory, options=ocp.CheckpointManagerOptions(create=True))
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

  def save(self, step, state):
    """Saves ``step`` (replacing a corrupt or undigested one there) and its digest."""
    if step in self._manager.all_steps():
      self._manager.delete(step)
    self._manager.save(step, args=ocp.args.StandardSave(state), force=True)
    self._manager.wait_until_finished()
    digests = self.digests()
    digests[str(step)] = storage.digest(self.path(step))
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

  def restore(self, step, like=None):
    """The state saved at ``step``, verified; ``like`` gives structure and dtypes."""
    self._check(step)
    target = _abstract(like) if like is not None else None
    return _restore_or_corrupt(f"checkpoint {self.path(step)}", lambda: self._manager.restore(
        step, args=ocp.args.StandardRestore(target)))

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
      return ckptr.restore(path, _abstract(like) if like is not None else None)
  return _restore_or_corrupt(path, restore)
