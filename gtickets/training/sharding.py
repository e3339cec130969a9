"""Spreading the run axis over every device (and every host).

Every batched tree (params, masks, optimizer state) has the run axis first, and
runs never interact, so sharding that axis over a 1-D mesh ("run") of all
devices splits the batch with no communication; the data is replicated. jit
follows the input shardings, so the same compiled program runs on one device,
on several, or on the devices of several processes (``jax.distributed``).

A :class:`RunLayout` pads the run axis to a multiple of the device count with
copies of run 0, so every device holds the same number of runs and none idles
(27 runs on 8 devices train as 32); the padding runs are never stored or
reported: ``real`` cuts them off before anything is saved, and ``to_host``
gathers only the real runs (across processes when there are several).
"""
import dataclasses
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


@dataclasses.dataclass(frozen=True)
class RunLayout:
  n_runs: int                        # real runs
  n_padded: int                      # runs as trained: a multiple of the device count
  sharding: Optional[NamedSharding]  # of the run axis; None: one device, JAX places

  def place(self, tree):
    """``tree`` (run axis first, n_runs long) padded to n_padded and placed."""
    tree = jax.tree.map(_host_if_local, tree)
    if self.sharding is None:
      return tree if self.n_padded == self.n_runs else _pad(tree, self.n_padded)
    # arrays on other devices (e.g. a checkpoint written with another device count
    # is restored onto the device it was saved from) go through the host
    devices = self.sharding.device_set
    tree = jax.tree.map(lambda x: np.asarray(x) if isinstance(x, jax.Array) and
                        x.sharding.device_set != devices else x, tree)
    return jax.jit(lambda t: _pad(t, self.n_padded), out_shardings=self.sharding)(tree)

  def keep(self, tree):
    """``tree`` (already padded) with its run axis sharded as ``place`` shards it: a
    compiled program's outputs may come back replicated (an optimizer's step count), and
    inputs of another sharding would compile the program again."""
    if self.sharding is None:
      return tree
    return jax.device_put(tree, self.sharding)

  def real(self, tree):
    """The real runs of a padded tree (still on device)."""
    if self.n_padded == self.n_runs:
      return tree
    return jax.jit(lambda t: jax.tree.map(lambda x: x[:self.n_runs], t))(tree)

  def to_host(self, tree):
    """The real runs of a padded tree as numpy arrays (gathered from every process)."""
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils
      tree = multihost_utils.process_allgather(tree, tiled=True)
    return jax.tree.map(lambda x: np.asarray(x)[:self.n_runs], tree)


def replicated(tree):
  """``tree`` as an input every process holds whole (the data): unchanged for one
  process; with several, process-local arrays become numpy."""
  return jax.tree.map(_host_if_local, tree)


def _host_if_local(x):
  """With several processes, a process-local array becomes numpy (replicated input)."""
  if jax.process_count() > 1 and isinstance(x, jax.Array) and x.is_fully_addressable:
    return np.asarray(x)
  return x


def _pad(tree, n):
  def pad(x):
    extra = n - x.shape[0]
    return jnp.concatenate([x, jnp.repeat(x[:1], extra, axis=0)]) if extra else x
  return jax.tree.map(pad, tree)


def run_layout(n_runs, devices=None) -> RunLayout:
  """The layout of ``n_runs`` over ``devices`` (default: every device of every process)."""
  devices = list(devices if devices is not None else jax.devices())
  if len(devices) == 1:
    return RunLayout(n_runs, n_runs, None)
  n_padded = -(-n_runs // len(devices)) * len(devices)
  return RunLayout(n_runs, n_padded,
                   NamedSharding(Mesh(np.array(devices), ("run",)), PartitionSpec("run")))
