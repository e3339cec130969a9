"""How much memory a traced program holds at its peak, from its jaxpr (no compile).

``peak_bytes`` walks the program's equations in order, keeping every value alive from
the equation that makes it to the last one that reads it, and counts each nested
program (a scan's body, a jit, a custom derivative) by its own peak while it runs.
XLA fuses and reuses buffers, so the true peak is lower; inputs are counted whole.
This sees what a count of weights misses: the activations of a full-batch step and of
the evaluation, e.g. the [pairs x p] logits of modular addition at p = 5,000 (150 GB
for the test split), which a weight count called small.
"""
import jax
import numpy as np
from jax.extend import core


def _nbytes(var):
  aval = getattr(var, "aval", None)
  shape, dtype = getattr(aval, "shape", None), getattr(aval, "dtype", None)
  if shape is None or dtype is None:
    return 0
  try:
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
  except TypeError:  # extended dtypes (PRNG keys): their key data
    return int(np.prod(shape, dtype=np.int64)) * 8


def _inner(eqn):
  """The jaxprs an equation runs (scan and while bodies, jit, cond branches, ...)."""
  for value in eqn.params.values():
    for v in (value if isinstance(value, (tuple, list)) else (value,)):
      if isinstance(v, core.ClosedJaxpr):
        yield v.jaxpr
      elif isinstance(v, core.Jaxpr):
        yield v


def _peak(jaxpr):
  """Peak bytes of ``jaxpr`` while it runs, its inputs included."""
  last = {}
  for i, eqn in enumerate(jaxpr.eqns):
    for v in eqn.invars:
      if isinstance(v, core.Var):
        last[v] = i
  for v in jaxpr.outvars:
    if isinstance(v, core.Var):
      last[v] = len(jaxpr.eqns)
  owned = set(jaxpr.invars) | set(jaxpr.constvars)  # the caller's: never freed here
  live = sum(_nbytes(v) for v in owned)
  peak = live
  for i, eqn in enumerate(jaxpr.eqns):
    out = sum(_nbytes(v) for v in eqn.outvars)
    inner = max((_peak(j) for j in _inner(eqn)), default=0)
    peak = max(peak, live + inner + out)
    live += sum(_nbytes(v) for v in eqn.outvars if v in last)
    for v in {v for v in eqn.invars if isinstance(v, core.Var)}:
      if last.get(v) == i and v not in owned:
        live -= _nbytes(v)
  return peak


def peak_bytes(fn, *args, **kwargs):
  """Peak bytes of ``fn(*args)`` (arrays or ``jax.ShapeDtypeStruct``s), traced only."""
  return _peak(jax.make_jaxpr(fn, **kwargs)(*args).jaxpr)


def input_bytes(tree):
  """Bytes of the arrays (or abstract arrays) of ``tree``."""
  return sum(int(np.prod(x.shape, dtype=np.int64)) * np.dtype(x.dtype).itemsize
             for x in jax.tree.leaves(tree) if hasattr(x, "shape"))
