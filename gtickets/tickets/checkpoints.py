"""orbax-checkpoint storage for training states, initial weights and masks.

Checkpoints hold a batch of runs (leading run axis). Paths are made absolute
(orbax needs that) and every save is waited for before returning, so a
checkpoint on disk is complete when the next line of the caller runs.
"""
import os

import jax
import orbax.checkpoint as ocp


def _abstract(tree):
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), tree)


class StateCheckpoints:
  """Training states of one phase, one orbax step per checkpointed train step."""

  def __init__(self, directory):
    self.directory = os.path.abspath(directory)
    self._manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(create=True))

  def steps(self):
    return sorted(self._manager.all_steps())

  def latest_step(self):
    return self._manager.latest_step()

  def save(self, step, state):
    self._manager.save(step, args=ocp.args.StandardSave(state), force=True)
    self._manager.wait_until_finished()

  def restore(self, step, like):
    """Restores the state saved at ``step``; ``like`` gives structure and dtypes."""
    if step not in self._manager.all_steps():
      raise FileNotFoundError(
          f"no checkpoint at step {step} in {self.directory} (have {self.steps()})")
    return self._manager.restore(step, args=ocp.args.StandardRestore(_abstract(like)))

  def close(self):
    self._manager.close()


def restore_params(directory, step):
  """The params of every run saved at ``step`` in a phase's checkpoints.

  This is rewinding: a ticket's weights are its base run's params at the
  rewind step, read back bit for bit from the base phase's checkpoint.
  """
  ckpts = StateCheckpoints(directory)
  try:
    if step not in ckpts.steps():
      raise FileNotFoundError(
          f"no checkpoint at step {step} in {ckpts.directory} (have {ckpts.steps()})")
    return ckpts._manager.restore(step, args=ocp.args.StandardRestore())["params"]
  finally:
    ckpts.close()


def save_tree(path, tree):
  """Saves a pytree (e.g. a batch of masks) to its own orbax folder."""
  with ocp.StandardCheckpointer() as ckptr:
    ckptr.save(os.path.abspath(path), tree, force=True)
    ckptr.wait_until_finished()


def load_tree(path, like=None):
  path = os.path.abspath(path)
  if not os.path.exists(path):
    raise FileNotFoundError(f"no saved tree at {path}")
  with ocp.StandardCheckpointer() as ckptr:
    return ckptr.restore(path, _abstract(like) if like is not None else None)
