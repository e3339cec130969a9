"""SNIP, GraSP and SynFlow on a tiny network, against values worked out by hand.

Network: f(x) = v * relu(w * x) with scalars... made a little richer:
params {"w": [w1, w2]}, {"v": [v1, v2]}, y_hat = sum_i v_i * w_i * x (x > 0,
w_i > 0 so the ReLU is the identity), loss L = (y_hat - y)^2 / 2 on one example.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gtickets.tickets import pai

X, Y = 2.0, 1.0
PARAMS = {"w": jnp.array([0.5, 1.0]), "v": jnp.array([2.0, -1.0])}


def loss_fn(p):
  y_hat = jnp.sum(p["v"] * jax.nn.relu(p["w"] * X))
  return 0.5 * (y_hat - Y) ** 2


def test_snip_scores_by_hand():
  # y_hat = 2*0.5*2 + (-1)*1*2 = 0; residual r = -1
  # dL/dw_i = r * v_i * x = [-4, 2]; dL/dv_i = r * w_i * x = [-1, -2]
  s = pai.snip_scores(loss_fn, PARAMS)
  np.testing.assert_allclose(s["w"], [4 * 0.5, 2 * 1.0])
  np.testing.assert_allclose(s["v"], [1 * 2.0, 2 * 1.0])


def test_grasp_scores_by_hand():
  # g = (dw, dv) = ([-4, 2], [-1, -2]). H g: with u = (w, v), y_hat = x * sum v_i w_i,
  # L = (y_hat - y)^2 / 2, H = x^2 J^T J + r * x * C where J = [v, w] (per i) and C
  # couples w_i and v_i with 1. Worked out: J.g = x*(sum v_i g_wi + w_i g_vi)
  #   = 2 * (2*-4 + -1*2 + 0.5*-1 + 1*-2) = 2 * -12.5 = -25
  # (H g)_wi = x^2 * v_i * (-12.5) + r * x * g_vi ; (H g)_vi = x^2 * w_i * (-12.5) + r * x * g_wi
  j_g = -12.5
  r = -1.0
  hg_w = np.array([4 * 2.0 * j_g + r * X * -1.0, 4 * -1.0 * j_g + r * X * -2.0])
  hg_v = np.array([4 * 0.5 * j_g + r * X * -4.0, 4 * 1.0 * j_g + r * X * 2.0])
  s = pai.grasp_scores(loss_fn, PARAMS)
  np.testing.assert_allclose(s["w"], PARAMS["w"] * hg_w, rtol=1e-6)
  np.testing.assert_allclose(s["v"], PARAMS["v"] * hg_v, rtol=1e-6)


def ones_forward(p):
  """A 2-layer linear chain: in (2 inputs) -> a (2x3) -> b (3x1), input all ones."""
  return jnp.ones((1, 2)) @ p["a"] @ p["b"]


def test_synflow_scores_by_hand():
  a = jnp.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
  b = jnp.array([[2.0], [-1.0], [4.0]])
  p = {"a": a, "b": b}
  mask = {"a": jnp.ones((2, 3), bool), "b": jnp.ones((3, 1), bool)}
  s = pai.synflow_scores(ones_forward, p, mask)
  # R = sum_ij |a_ij| |b_j|; dR/d|a_ij| = |b_j|; dR/d|b_j| = sum_i |a_ij|
  np.testing.assert_allclose(s["a"], np.abs(a) * np.abs(b).T)
  np.testing.assert_allclose(s["b"], (np.abs(a).sum(0) * np.abs(b).T).T)
  # a masked weight has score 0 and also removes its path's flow
  mask["b"] = jnp.array([[True], [False], [True]])
  s = pai.synflow_scores(ones_forward, p, mask)
  assert s["b"][1, 0] == 0 and (s["a"][:, 1] == 0).all()


def test_synflow_mask_removes_k_and_is_iterative():
  a = jnp.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])
  b = jnp.array([[2.0], [-1.0], [4.0]])
  p = {"a": a, "b": b}
  m = pai.synflow_mask(ones_forward, p, 5 / 9, rounds=10)
  assert int(m["a"].sum() + m["b"].sum()) == 4
  # SynFlow never disconnects the network entirely: the output still gets flow
  assert float(jnp.sum(ones_forward(jax.tree.map(lambda w, k: jnp.abs(w) * k, p, m)))) > 0


@pytest.mark.parametrize("fn", [pai.snip_mask, pai.grasp_mask])
def test_data_masks_count(fn):
  m = fn(loss_fn, PARAMS, 0.5)
  assert int(m["w"].sum() + m["v"].sum()) == 2
