"""What a mask means to training: a bool pytree mirroring the params, multiplied into
the weights in the forward pass (so a pruned weight gets zero gradient). Which weights
a mask keeps is the tickets layer's business (gtickets/tickets/masks.py)."""
import chex
import jax
import jax.numpy as jnp


def ones_like(params):
  """The dense "mask": every weight kept."""
  return jax.tree.map(lambda p: jnp.ones(p.shape, bool), params)


def apply(params, mask):
  """params * mask, leaf by leaf (mask leaves are bool, of the params' shapes:
  checked when traced, so a mask of another model fails here, not later)."""
  chex.assert_trees_all_equal_shapes(params, mask)
  return jax.tree.map(lambda p, m: p * m.astype(p.dtype), params, mask)
