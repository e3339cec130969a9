"""Chains of matmuls in the cheapest order for the shapes at hand.

The paper's MLP is ``relu(x @ embed @ w_in) @ w_out @ unembed`` with a batch of
884 examples far wider than its 48- and 67-wide waists: composing the weights
first (``x @ (embed @ w_in)``) is the same function with about a tenth of the
FLOPs, forward and backward. ``model.contraction`` chooses how a model
multiplies its chains:

  cheapest     (default) ``jnp.einsum`` with opt_einsum's optimal path over the
               whole chain (the order with the fewest FLOPs for the shapes it
               sees, batch included); a one-hot token input becomes a gather of
               the rows of the composed table (``token_rows``), which no
               contraction order can express and which is cheaper still.
  batch_first  left to right, batch first: the models as they were before
               (results differ from "cheapest" only by float32 rounding, but a
               chaotic trajectory amplifies rounding, so the order is part of
               a phase's identity).

Measured side by side on one CPU core (``benchmarks/scale.py --orders``):
docs in ``benchmarks/README.md``.
"""
import string

import jax.numpy as jnp

ORDERS = ("cheapest", "batch_first")


def check(c):
  """Yields the model config's ``contraction`` field if it is not one of ORDERS."""
  if c.contraction not in ORDERS:
    yield "contraction", c.contraction, f"must be one of {ORDERS}"


def chain(x, *weights, order="cheapest"):
  """``x @ weights[0] @ weights[1] @ ...`` (x: [..., n], weights 2-D), multiplied
  left to right ("batch_first") or in the order with the fewest FLOPs
  ("cheapest", opt_einsum's optimal path through ``jnp.einsum``)."""
  if order == "batch_first" or len(weights) < 2:
    for w in weights:
      x = x @ w
    return x
  letters = string.ascii_lowercase
  dims = letters[1:len(weights) + 2]  # one letter per inner dimension
  spec = ",".join(f"{a}{b}" for a, b in zip(dims, dims[1:]))
  return jnp.einsum(f"...{dims[0]},{spec}->...{dims[-1]}", x, *weights, optimize="optimal")


def token_rows(tokens, *weights):
  """``one_hot(tokens) @ weights[0] @ weights[1] @ ...`` for int ``tokens`` [..., n]
  over ``weights[0].shape[0]`` symbols, as a gather: [..., n, out]. The rows of
  the composed table (``chain(*weights)``, vocab x out) are gathered when the
  vocabulary is no larger than the number of lookups (one table for the whole
  batch), else the rows of ``weights[0]`` are gathered and multiplied through."""
  table = weights[0]
  if len(weights) == 1 or table.shape[0] <= tokens.size:
    return chain(table, *weights[1:])[tokens]
  return chain(table[tokens], *weights[1:])
