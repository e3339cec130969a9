"""Cross-entropy over integer labels, in three numerical modes.

After memorization the correct class's margin (its logit minus the others')
grows past ~17, where float32 rounds its softmax probability to exactly 1. The
usual gradient ``softmax - one_hot`` then loses its target-logit component for
those examples ("softmax collapse", Prieto et al. 2025, arXiv 2501.04697), and
the loss value rounds to 0. Over thousands of steps this changes where training
goes: with float32 the paper's grokked tickets are ~1.5x faster than dense,
with an accurate loss 10x and more (docs/claims.md, P1).

Modes (``config.train.cross_entropy``):
  exact    (default) float32 throughout, accurate at any margin: with
           d_j = z_j - z_y, the loss is softplus(L), L = logsumexp_{j != y} d_j,
           i.e. log1p(sum of the other classes' exp(d_j)), never 1 + tiny - 1.
           Its gradient is sigmoid(L) * softmax_{j != y}(d) for the other classes
           and -sigmoid(L) = -(sum of the other classes' probabilities) for the
           target: summed from the small terms, so it keeps full float32 relative
           precision at any margin, with no float64 and at float32 cost.
  float64  the authors' ``cross_entropy_high_precision``: log-softmax of the
           logits cast to float64, the loss cast back to float32. Needs
           ``jax_enable_x64`` while tracing (the trainer enables it for this mode);
           its gradient cancels once the margin passes ~36.
  float32  log-softmax in float32 (this project's loss before issue 10); kept
           for the ablation that shows what the precision does.
  stablemax  not a precision but another loss (Prieto et al. 2025): softmax's
           exp replaced by s(x) = x + 1 (x >= 0), 1 / (1 - x) (x < 0), which
           grows linearly, so probabilities cannot round to exactly 1 at
           ordinary margins; loss -log(s(z_y) / sum_j s(z_j)), float32. The
           prediction (argmax) is unchanged, s being increasing.
"""
import contextlib

import jax
import jax.numpy as jnp

MODES = ("exact", "float64", "float32", "stablemax")


def exact(logits, labels):
  """Mean cross-entropy, accurate in float32 whatever the margin (see module doc)."""
  logits = logits.astype(jnp.float32)
  target = jnp.take_along_axis(logits, labels[..., None], axis=-1)
  is_target = jax.nn.one_hot(labels, logits.shape[-1], dtype=bool)
  others = jax.nn.logsumexp(logits - target, axis=-1, where=~is_target)
  return jnp.mean(jax.nn.softplus(others))


def float64(logits, labels):
  """Mean cross-entropy with the log-softmax in float64 (the authors' code)."""
  if not jax.config.jax_enable_x64:
    raise RuntimeError("cross_entropy 'float64' needs jax_enable_x64 while tracing: "
                       "call it inside gtickets.tasks.cross_entropy.context('float64')")
  logp = jax.nn.log_softmax(logits.astype(jnp.float64), axis=-1)
  loss = -jnp.mean(jnp.take_along_axis(logp, labels[..., None], axis=-1))
  return loss.astype(jnp.float32)


def float32(logits, labels):
  """Mean cross-entropy with the log-softmax in float32 (collapses after memorization)."""
  logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  return -jnp.mean(jnp.take_along_axis(logp, labels[..., None], axis=-1))


def stablemax_s(x):
  """s(x) = x + 1 for x >= 0, 1 / (1 - x) for x < 0 (both branches safe to differentiate)."""
  return jnp.where(x >= 0, x + 1, 1 / (1 - jnp.minimum(x, 0)))


def stablemax(logits, labels):
  """Mean StableMax cross-entropy: -log(s(z_y) / sum_j s(z_j)), in float32."""
  s = stablemax_s(logits.astype(jnp.float32))
  target = jnp.take_along_axis(s, labels[..., None], axis=-1)[..., 0]
  return jnp.mean(jnp.log(jnp.sum(s, axis=-1)) - jnp.log(target))


LOSSES = {"exact": exact, "float64": float64, "float32": float32, "stablemax": stablemax}


def loss(mode):
  """The cross-entropy function of ``mode`` (one of MODES)."""
  if mode not in LOSSES:
    raise ValueError(f"unknown cross-entropy mode {mode!r}; known: {MODES}")
  return LOSSES[mode]


def context(mode):
  """What a loss of ``mode`` must be traced inside: x64 for 'float64', else nothing."""
  return jax.enable_x64(True) if mode == "float64" else contextlib.nullcontext()
