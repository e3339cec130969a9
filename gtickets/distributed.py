"""Several processes (hosts) training one launch together: ``jax.distributed``.

Every process runs the same launcher command with its own ``--process_id``; the
run axis is spread over the devices of all processes (training/sharding.py), each
process computes its share, metrics are gathered across processes, orbax saves
checkpoints from every process (each writes its shards), and only process 0
writes everything else (JSON, npz, tables, figures; ``is_writer``). Points where
the others must see what process 0 wrote are ``barrier``s; decisions taken from
files (where to resume) are process 0's, ``broadcast`` to all.

On CPU the collectives use gloo (the local test runs 2 processes on one machine).
"""
import jax
import numpy as np


def initialize(coordinator, num_processes, process_id, timeout_s=120):
  """Joins the job (call before any other JAX use); no-op for one process. CPU
  collectives go through gloo (GPU and TPU backends use their own). Waits at most
  ``timeout_s`` seconds for every process to join."""
  if num_processes <= 1:
    return
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator, num_processes=num_processes, process_id=process_id,
                             initialization_timeout=timeout_s)


def is_multiprocess():
  return jax.process_count() > 1


def is_writer():
  """Whether this process writes files other than checkpoints (process 0)."""
  return jax.process_index() == 0


def barrier(name):
  """Every process waits here until all have arrived (no-op for one process)."""
  if is_multiprocess():
    from jax.experimental import multihost_utils
    multihost_utils.sync_global_devices(name)


def broadcast(value):
  """Process 0's ``value`` (an int or None) on every process."""
  if not is_multiprocess():
    return value
  from jax.experimental import multihost_utils
  x = np.array(-1 if value is None else value, np.int32)
  x = int(multihost_utils.broadcast_one_to_all(x))
  return None if x == -1 else x
