"""Masks are boolean pytrees with the structure of the params (True = kept).

Every pruning rule here is "score the weights, remove the lowest-scoring
fraction k": magnitude pruning scores |w|, random pruning scores uniform noise,
and pruning-at-initialization methods supply their own scores. The prune ratio
``k`` is the fraction of weights REMOVED (the paper's convention; the authors'
code calls the kept fraction "sparsity"). Exactly round(k * n) weights are
removed, ties broken by position, over all weights together
(``scope="global"``) or in each matrix separately (``scope="layer"``). ``k`` may
be a traced value, so a batch of ratios can be vmapped. What a mask does in
training (``apply``, ``ones_like``) is defined one layer down, in
gtickets/training/masked.py, and used from there.
"""
import jax
import jax.numpy as jnp

from gtickets.training.masked import apply, ones_like  # noqa: F401  (the masks API)

SCOPES = ("global", "layer")


def _order_keys(x):
  """uint32 keys in the order of the float32 values of ``x`` (-0.0 ties with +0.0)."""
  x = jnp.where(x == 0, 0.0, x).astype(jnp.float32)
  bits = jax.lax.bitcast_convert_type(x, jnp.uint32)
  return jnp.where(bits >> 31, ~bits, bits | jnp.uint32(0x80000000))


def keep_top(scores, k):
  """Bool array of scores' shape keeping all but the round(k*n) lowest, ties removed
  in position order (as a stable sort ranks them). The cut is found by bisection on
  the values' bit patterns (32 counting passes) instead of a sort: the same mask, 13.6x
  faster on a CPU for edge-popup's four masks of the paper's MLP, which it recomputes
  every step (benchmarks/per_step_extras.py)."""
  flat = scores.ravel()
  n_remove = jnp.round(k * flat.size).astype(jnp.int32)
  key = _order_keys(flat)

  def halve(_, bounds):  # the smallest key with at least n_remove keys <= it
    lo, hi = bounds
    mid = lo + (hi - lo) // 2
    enough = jnp.sum(key <= mid) >= n_remove
    return jnp.where(enough, lo, mid + 1), jnp.where(enough, mid, hi)

  cut, _ = jax.lax.fori_loop(0, 32, halve, (key.min(), key.max()))
  below, tie = key < cut, key == cut
  remove = below | (tie & (jnp.cumsum(tie) <= n_remove - jnp.sum(below)))
  return (~remove).reshape(scores.shape)


def prunable_leaves(tree, prunable):
  """One bool per leaf of ``tree``: ``prunable``'s leaves, or all True if it is None."""
  leaves = jax.tree.leaves(tree)
  return [True] * len(leaves) if prunable is None else jax.tree.leaves(prunable)


def mask_from_scores(scores, k, scope: str = "global", prunable=None):
  """Keeps the highest-scoring 1 - k of the weights; ``scores`` mirrors params.

  ``prunable``: a tree of Python bools mirroring ``scores`` (None = all True);
  leaves marked False are kept whole and do not count in n.
  """
  if scope not in SCOPES:
    raise ValueError(f"mask scope must be one of {SCOPES}, got {scope!r}")
  leaves, treedef = jax.tree.flatten(scores)
  keep_leaf = prunable_leaves(scores, prunable)
  if scope == "layer":
    return jax.tree.unflatten(treedef, [
        keep_top(l, k) if p else jnp.ones(l.shape, bool) for l, p in zip(leaves, keep_leaf)])
  pruned = [l for l, p in zip(leaves, keep_leaf) if p]
  keep = keep_top(jnp.concatenate([l.ravel() for l in pruned]), k)
  out, start = [], 0
  for l, p in zip(leaves, keep_leaf):
    if p:
      out.append(keep[start:start + l.size].reshape(l.shape))
      start += l.size
    else:
      out.append(jnp.ones(l.shape, bool))
  return jax.tree.unflatten(treedef, out)


def magnitude_mask(params, k, scope: str = "global", prunable=None):
  """Removes the fraction k of (prunable) weights with the smallest |w|."""
  return mask_from_scores(jax.tree.map(jnp.abs, params), k, scope, prunable)


def random_mask(key, params, k, scope: str = "global", prunable=None):
  """Removes a uniformly random fraction k of the (prunable) weights."""
  leaves, treedef = jax.tree.flatten(params)
  keys = jax.random.split(key, len(leaves))
  scores = jax.tree.unflatten(
      treedef, [jax.random.uniform(kk, l.shape) for kk, l in zip(keys, leaves)])
  return mask_from_scores(scores, k, scope, prunable)


def count_kept(mask):
  """Number of kept weights (an int array; sums over stacked leading axes too)."""
  return sum(jnp.sum(m) for m in jax.tree.leaves(mask))


def kept_fractions(mask):
  """{weight name: kept fraction per run} for a batch of masks stacked on axis 0."""
  flat = jax.tree_util.tree_flatten_with_path(mask)[0]
  return {"/".join(str(getattr(k, "key", k)) for k in path):
          jnp.mean(m.reshape(m.shape[0], -1), axis=1) for path, m in flat}


def count_total(mask):
  return sum(m.size for m in jax.tree.leaves(mask))
