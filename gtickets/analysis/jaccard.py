"""Jaccard distance between masks (paper Fig. 4b).

JD(m1, m2) = 1 - |m1 AND m2| / |m1 OR m2| over the kept entries: 0 for equal
masks, 1 for disjoint ones; two empty masks are at distance 0. ``jaccard_distance``
counts all (prunable) leaves together; ``jaccard_per_leaf`` each matrix alone.
"""
import jax
import jax.numpy as jnp

from gtickets.tickets import masks as masks_lib


def _jd(intersection, union):
  return jnp.where(union > 0, 1.0 - intersection / jnp.maximum(union, 1), 0.0)


def jaccard_per_leaf(m1, m2):
  """{leaf name: JD} for two masks of the same (flat dict) structure."""
  return {k: _jd(jnp.sum(m1[k] & m2[k]), jnp.sum(m1[k] | m2[k])) for k in m1}


def jaccard_distance(m1, m2, prunable=None):
  """JD over the (prunable) leaves of two masks taken together."""
  use = masks_lib.prunable_leaves(m1, prunable)
  pairs = [(a, b) for a, b, u in zip(jax.tree.leaves(m1), jax.tree.leaves(m2), use) if u]
  inter = sum(jnp.sum(a & b) for a, b in pairs)
  union = sum(jnp.sum(a | b) for a, b in pairs)
  return _jd(inter, union)
