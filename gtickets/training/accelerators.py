"""Other ways to make a network grok sooner, as optax gradient transformations.

Each is placed before AdamW (``optax.chain(<these>, adamw)``; trainer.make_optimizer),
chosen by ``config.optim`` fields:

  grokfast = "ema"   Grokfast-EMA (Lee et al. 2024): mu_t = alpha mu_{t-1} +
                     (1 - alpha) g_t, with mu_1 = g_1; the gradient passed on is
                     g_t + lambda mu_t (``grokfast_alpha`` 0.98, ``grokfast_lamb`` 2).
  grokfast = "ma"    Grokfast-MA: the mean of the last ``grokfast_window`` (100)
                     gradients, added times ``grokfast_ma_lamb`` (5) once the window
                     is full (before that the gradient passes unchanged), as the
                     authors' ``gradfilter_ma`` with its default ``warmup=True``.
  perpendicular      perpendicular gradient (Prieto et al. 2025, "PerpGrad"):
                     per parameter array, g_perp = g - (w . g) / (w . w) w, the
                     component of g along the weights removed; with
                     ``perpendicular_rescale`` (default, as their code) rescaled
                     to the norm of g. An all-zero array passes unchanged.

The StableMax loss of the same paper is a cross-entropy mode
(tasks/cross_entropy.py, ``train.cross_entropy = "stablemax"``).
"""
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

GROKFAST = ("", "ema", "ma")


class EmaState(NamedTuple):
  mu: optax.Updates
  count: jnp.ndarray


def grokfast_ema(alpha=0.98, lamb=2.0) -> optax.GradientTransformation:
  def init(params):
    return EmaState(jax.tree.map(jnp.zeros_like, params), jnp.zeros((), jnp.int32))

  def update(grads, state, params=None):
    del params
    first = state.count == 0
    mu = jax.tree.map(lambda m, g: jnp.where(first, g, alpha * m + (1 - alpha) * g),
                      state.mu, grads)
    return (jax.tree.map(lambda g, m: g + lamb * m, grads, mu),
            EmaState(mu, state.count + 1))

  return optax.GradientTransformation(init, update)


class MaState(NamedTuple):
  window: optax.Updates   # [w, ...] per leaf: the last w gradients (a ring buffer)
  block_sums: optax.Updates  # [w / b, ...] per leaf: the sum of each block of b slots
  count: jnp.ndarray


def ma_block(window):
  """Slots per block of the MA buffer: the largest divisor of ``window`` <= sqrt(window)."""
  return max(b for b in range(1, int(window ** 0.5) + 1) if window % b == 0)


def sum_rows(x):
  """``x.sum(axis=0)`` as one chain of elementwise adds, first row to last, in any batch.
  XLA's CPU reduce over a leading axis was the MA filter's cost: 2.01 against 0.64 ms
  per run-step with 5 runs vmapped (benchmarks/per_step_extras.py), and its order
  changed under vmap."""
  acc = x[0]
  for i in range(1, x.shape[0]):
    acc = acc + x[i]
  return acc


def grokfast_ma(window=100, lamb=5.0) -> optax.GradientTransformation:
  """The window's sum is kept as sums of blocks of b slots: a step re-adds the b
  gradients of the block it wrote into and the w / b block sums (2 sqrt(w) reads, 20
  for w = 100) instead of all w: 11x faster than the window mean for the paper's MLP's
  115k gradients, 5 runs vmapped (benchmarks/per_step_extras.py). Every sum is recomputed from the stored gradients,
  so no rounding error accumulates over steps; each is a chain of adds (sum_rows)."""
  b = ma_block(window)

  def init(params):
    zeros = lambda n: jax.tree.map(lambda p: jnp.zeros((n,) + p.shape, p.dtype), params)
    return MaState(zeros(window), zeros(window // b), jnp.zeros((), jnp.int32))

  def update(grads, state, params=None):
    del params
    slot = state.count % window
    buf = jax.tree.map(lambda w, g: w.at[slot].set(g), state.window, grads)
    block = slot // b
    sums = jax.tree.map(lambda s, w: s.at[block].set(
        sum_rows(jax.lax.dynamic_slice_in_dim(w, block * b, b))), state.block_sums, buf)
    full = state.count + 1 >= window
    out = jax.tree.map(lambda g, s: jnp.where(full, g + lamb * (sum_rows(s) / window), g),
                       grads, sums)
    return out, MaState(buf, sums, state.count + 1)

  return optax.GradientTransformation(init, update)


def perpendicular(rescale=True) -> optax.GradientTransformation:
  def update(grads, state, params):
    def one(g, w):
      ww = jnp.sum(w * w)
      safe = jnp.where(ww > 0, ww, 1.0)
      perp = g - jnp.where(ww > 0, jnp.sum(w * g) / safe, 0.0) * w
      if rescale:
        norm_p = jnp.sqrt(jnp.sum(perp * perp))
        perp = perp * jnp.where(norm_p > 0, jnp.sqrt(jnp.sum(g * g)) / jnp.where(
            norm_p > 0, norm_p, 1.0), 1.0)
      return perp
    return jax.tree.map(one, grads, params), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update)


def pre_adamw(optim_config):
  """The transformations ``optim_config`` asks for, in the order they apply."""
  o = optim_config
  out = []
  if o.grokfast == "ema":
    out.append(grokfast_ema(o.grokfast_alpha, o.grokfast_lamb))
  elif o.grokfast == "ma":
    out.append(grokfast_ma(o.grokfast_window, o.grokfast_ma_lamb))
  if o.perpendicular:
    out.append(perpendicular(o.perpendicular_rescale))
  return out
