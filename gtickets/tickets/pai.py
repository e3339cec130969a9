"""Pruning at initialization, each from its paper's definition.

All return masks that remove the fraction k of the weights (``masks`` module
conventions); scores are "higher = keep".

* SNIP (Lee et al. 2019): score = |g * w|, g = dL/dw on the training batch.
* GraSP (Wang et al. 2020): S = -w * (H g), H g the Hessian-gradient product
  (by autodiff: the gradient of g(w) . stop_gradient(g)); GraSP removes the
  weights with the LARGEST S, so the keep-score here is -S = w * (H g).
  Logits are divided by ``temperature`` (the GraSP code uses 200; default 1).
* SynFlow (Tanaka et al. 2020): data-free and iterative. For rounds i = 1..n,
  with the network's weights replaced by |w| * mask and an all-ones input,
  R = sum of the outputs, score = |dR/dw * w|, and the mask keeps the top
  (1 - k)^(i / n) of all weights (the paper's exponential schedule; n = 100).
"""
import jax
import jax.numpy as jnp

from gtickets.tickets import masks as masks_lib


def snip_scores(loss_fn, params):
  """|dL/dw * w| for ``loss_fn(params) -> scalar``."""
  g = jax.grad(loss_fn)(params)
  return jax.tree.map(lambda gi, w: jnp.abs(gi * w), g, params)


def grasp_scores(loss_fn, params):
  """Keep-scores w * (H g) (= -S of the GraSP paper)."""
  g = jax.lax.stop_gradient(jax.grad(loss_fn)(params))
  hg = jax.grad(lambda p: sum(jnp.vdot(a, b) for a, b in zip(
      jax.tree.leaves(jax.grad(loss_fn)(p)), jax.tree.leaves(g))))(params)
  return jax.tree.map(lambda w, h: w * h, params, hg)


def synflow_scores(ones_forward, params, mask):
  """|dR/dw * w| with R = sum(ones_forward(|w| * mask))."""
  abs_params = jax.tree.map(lambda w, m: jnp.abs(w) * m, params, mask)
  r_grad = jax.grad(lambda p: jnp.sum(ones_forward(p)))(abs_params)
  return jax.tree.map(lambda g, w: jnp.abs(g * w), r_grad, abs_params)


def synflow_mask(ones_forward, params, k, rounds=100, scope="global", prunable=None):
  """SynFlow's iterative mask at prune ratio k (fraction removed)."""
  def one_round(mask, i):
    keep = (1.0 - k) ** ((i + 1.0) / rounds)
    scores = synflow_scores(ones_forward, params, mask)
    return masks_lib.mask_from_scores(scores, 1.0 - keep, scope, prunable), None
  mask, _ = jax.lax.scan(one_round, masks_lib.ones_like(params),
                         jnp.arange(rounds, dtype=jnp.float32))
  return mask


def snip_mask(loss_fn, params, k, scope="global", prunable=None):
  return masks_lib.mask_from_scores(snip_scores(loss_fn, params), k, scope, prunable)


def grasp_mask(loss_fn, params, k, scope="global", prunable=None):
  return masks_lib.mask_from_scores(grasp_scores(loss_fn, params), k, scope, prunable)
