import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gtickets.tickets import masks


def _params(seed=0):
  k = jax.random.split(jax.random.key(seed), 3)
  return {"a": jax.random.normal(k[0], (7, 13)), "b": jax.random.normal(k[1], (29,)),
          "c": jax.random.normal(k[2], (5, 3))}


@pytest.mark.parametrize("k", [0.0, 0.1, 0.37, 0.6, 0.9])
def test_global_magnitude_mask_removes_round_k_n(k):
  p = _params()
  m = masks.magnitude_mask(p, k)
  n = masks.count_total(m)
  assert n == 7 * 13 + 29 + 15
  assert n - int(masks.count_kept(m)) == round(k * n)
  # every kept weight is at least as large as every removed one
  w = np.concatenate([np.abs(np.asarray(p[x])).ravel() for x in sorted(p)])
  keep = np.concatenate([np.asarray(m[x]).ravel() for x in sorted(p)])
  if 0 < keep.sum() < n:
    assert w[keep].min() >= w[~keep].max()


@pytest.mark.parametrize("k", [0.1, 0.5, 0.6, 0.8])
def test_layer_mask_removes_round_k_n_per_layer(k):
  p = _params(1)
  m = masks.magnitude_mask(p, k, scope="layer")
  for name in p:
    n = p[name].size
    assert n - int(m[name].sum()) == round(k * n), name
    kept = np.abs(np.asarray(p[name]))[np.asarray(m[name])]
    removed = np.abs(np.asarray(p[name]))[~np.asarray(m[name])]
    assert kept.min() >= removed.max()


def test_global_and_layer_masks_differ_when_scales_differ():
  p = {"big": 10 * jnp.arange(2.0, 12.0), "small": jnp.arange(1.0, 11.0)}
  g = masks.magnitude_mask(p, 0.5)
  assert g["big"].all() and not g["small"].any()
  l = masks.magnitude_mask(p, 0.5, scope="layer")
  assert int(l["big"].sum()) == 5 and int(l["small"].sum()) == 5


def test_ties_still_remove_exactly_round_k_n():
  p = {"w": jnp.ones((10, 10))}
  assert int(masks.count_kept(masks.magnitude_mask(p, 0.25))) == 75


def test_layer_masks_equal_a_stable_sort_ranking():
  """The bisection cut removes exactly the weights a stable sort ranks lowest: ties
  (also -0.0 with +0.0) in position order, negative scores, k = 0 and near 1."""
  rng = np.random.default_rng(0)
  for trial in range(60):
    n = int(rng.choice([1, 2, 7, 64, 299]))  # few shapes: each new one compiles
    k = float(rng.choice([0.0, 0.1, 0.6, 0.99, rng.random()]))
    x = rng.normal(size=n).astype(np.float32)
    if trial % 3 == 1:
      x = np.round(x * 2) / 2  # many ties, -0.0 among them
    elif trial % 3 == 2:
      x = np.abs(x) * (rng.random(n) > 0.3)  # a third exactly zero
    want = np.ones(n, bool)
    want[np.argsort(x, kind="stable")[:round(k * n)]] = False
    got = masks.mask_from_scores({"w": jnp.asarray(x)}, k, "layer")["w"]
    np.testing.assert_array_equal(np.asarray(got), want, err_msg=f"n={n} k={k}")


def test_random_mask_count_and_seed():
  p = _params()
  n = masks.count_total(p)
  m1 = masks.random_mask(jax.random.key(0), p, 0.6)
  m2 = masks.random_mask(jax.random.key(0), p, 0.6)
  m3 = masks.random_mask(jax.random.key(1), p, 0.6)
  assert n - int(masks.count_kept(m1)) == round(0.6 * n)
  assert all(np.array_equal(m1[x], m2[x]) for x in p)
  assert not all(np.array_equal(m1[x], m3[x]) for x in p)


def test_prune_ratio_can_be_vmapped():
  p = _params()
  ks = jnp.array([0.1, 0.5, 0.9])
  m = jax.vmap(lambda k: masks.magnitude_mask(p, k))(ks)
  n = masks.count_total(p)
  kept = sum(np.asarray(v).reshape(3, -1).sum(1) for v in m.values())
  np.testing.assert_array_equal(n - kept, [round(0.1 * n), round(0.5 * n), round(0.9 * n)])


def test_kept_fractions_per_matrix_and_run():
  m = {"a": jnp.array([[True, True, False, False], [True, False, False, False]]),
       "b": {"c": jnp.array([[[True], [True]], [[False], [False]]])}}
  f = masks.kept_fractions(m)
  assert sorted(f) == ["a", "b/c"]
  np.testing.assert_allclose(f["a"], [0.5, 0.25])
  np.testing.assert_allclose(f["b/c"], [1.0, 0.0])


def test_apply_refuses_a_mask_of_other_shapes():
  import chex
  params = {"a": np.ones((2, 3), np.float32)}
  with pytest.raises(AssertionError):
    masks.apply(params, {"a": np.ones((3, 2), bool)})
  chex.assert_trees_all_equal(masks.apply(params, {"a": np.eye(2, 3, dtype=bool)}),
                              {"a": np.eye(2, 3, dtype=np.float32)})
