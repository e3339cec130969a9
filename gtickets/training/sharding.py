"""Spreading the run axis over devices.

Every batched tree (params, masks, optimizer state) has the run axis first, and
runs never interact, so sharding that axis over a 1-D mesh ("run") splits the
batch across devices with no communication; the data is replicated. jit follows
the input shardings, so the same compiled program runs on one device or many.
"""
import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def run_sharding(n_runs, devices=None):
  """A sharding of the run axis over the devices, or None if it would not split.

  Uses all devices when they divide ``n_runs``; otherwise the largest number of
  devices that does (1 -> None: leave placement to JAX).
  """
  devices = list(devices if devices is not None else jax.devices())
  n = max(d for d in range(1, len(devices) + 1) if n_runs % d == 0)
  if n == 1:
    return None
  return NamedSharding(Mesh(devices[:n], ("run",)), PartitionSpec("run"))


def shard_runs(tree, sharding):
  """Places every leaf of a batched tree with its run axis split by ``sharding``."""
  if sharding is None:
    return tree
  return jax.device_put(tree, sharding)
