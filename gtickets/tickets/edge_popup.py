"""Edge-popup (Ramanujan et al. 2020, "What's hidden in a randomly weighted neural
network?"): a score per weight; the forward pass uses W * 1[|score| among the top
(1 - k) of its matrix], and the scores learn through a straight-through gradient.

As in allenai/hidden-networks: the mask is computed from |score| and passed
through unchanged in the backward pass (``subnet``), so
d loss / d score = (d loss / d W_eff) * W * sign(score), the gradient with
respect to the effective weights times W, carried through the |.|: a useful
weight's score grows in magnitude whatever its sign. Exactly round(k * n) weights
of each matrix are removed (masks.mask_from_scores, ties broken by position).
Scores start kaiming-uniform as there (a = sqrt(5)): U(-1/sqrt(fan_in),
1/sqrt(fan_in)), fan_in = the matrix's first dimension ([fan_in, fan_out] here).
"""
import jax
import jax.numpy as jnp

from gtickets.tickets import masks as masks_lib


@jax.custom_vjp
def _straight_through(scores, mask):
  return mask.astype(scores.dtype)


def _st_fwd(scores, mask):
  return mask.astype(scores.dtype), None


def _st_bwd(_, g):
  return g, None


_straight_through.defvjp(_st_fwd, _st_bwd)


def subnet(scores, k, prunable=None):
  """Per matrix, 1.0 where |score| is among the top (1 - k), else 0.0; its gradient
  with respect to |score| is the identity (straight through). ``prunable``: a tree
  of bools (None = all); unprunable leaves are all ones with no gradient."""
  use = masks_lib.prunable_leaves(scores, prunable)
  leaves, treedef = jax.tree.flatten(scores)
  out = []
  for s, u in zip(leaves, use):
    if u:
      magnitude = jnp.abs(s)
      keep = masks_lib.mask_from_scores(jax.lax.stop_gradient(magnitude), k, "layer")
      out.append(_straight_through(magnitude, keep))
    else:
      out.append(jnp.ones_like(s))
  return jax.tree.unflatten(treedef, out)


def init_scores(key, params):
  """Kaiming-uniform scores (hidden-networks' a = sqrt(5)): U(+-1/sqrt(fan_in))."""
  leaves, treedef = jax.tree.flatten(params)
  keys = jax.random.split(key, len(leaves))
  return jax.tree.unflatten(treedef, [
      jax.random.uniform(kk, w.shape, w.dtype, -1.0, 1.0) / jnp.sqrt(w.shape[0])
      for kk, w in zip(keys, leaves)])
