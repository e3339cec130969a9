import jax
import numpy as np

from gtickets.experiment.pipeline import make_setup
from gtickets.tickets import masks as masks_lib
from gtickets.training.trainer import init_keys


def test_pruned_weights_stay_exactly_zero_under_adamw_with_weight_decay(tiny_config):
  c = tiny_config
  c.optim.weight_decay = 1.0
  s = make_setup(c)
  params = s.trainer.init_params(init_keys([0, 1]))
  m = jax.vmap(lambda p, k: masks_lib.random_mask(k, p, 0.6))(
      params, jax.random.split(jax.random.key(3), 2))
  state = s.trainer.init_state(params, m)
  state, metrics = s.trainer.train_chunk(state, m, s.data, 30)  # 300 steps
  for name in params:
    w, keep = np.asarray(state["params"][name]), np.asarray(m[name])
    assert (w[~keep] == 0).all(), name
    # the kept weights did train
    assert not np.allclose(w[keep], np.asarray(params[name])[keep])
  assert metrics["train_loss"].shape == (2, 30)
  assert float(metrics["train_loss"][:, -1].max()) < float(metrics["train_loss"][:, 0].min())


def test_run_in_vmapped_batch_matches_run_alone(tiny_config):
  s = make_setup(tiny_config)
  seeds = [0, 1, 2, 3]
  params = s.trainer.init_params(init_keys(seeds))
  ks = jax.random.split(jax.random.key(7), 4)
  m = jax.vmap(lambda p, k: masks_lib.random_mask(k, p, 0.5))(params, ks)
  batch, batch_metrics = s.trainer.train_chunk(s.trainer.init_state(params, m), m, s.data, 5)
  i = 2
  one = lambda t: jax.tree.map(lambda x: x[i:i + 1], t)
  alone, alone_metrics = s.trainer.train_chunk(
      s.trainer.init_state(one(params), one(m)), one(m), s.data, 5)
  for name in params:
    np.testing.assert_allclose(batch["params"][name][i], alone["params"][name][0],
                               atol=1e-5, rtol=0)
  np.testing.assert_allclose(batch_metrics["train_loss"][i], alone_metrics["train_loss"][0],
                             rtol=1e-5)
  # and the runs of the batch are really different runs
  assert not np.allclose(batch["params"]["w_in"][0], batch["params"]["w_in"][1])


def test_init_depends_on_seed_only(tiny_config):
  s = make_setup(tiny_config)
  a = s.trainer.init_params(init_keys([5, 6]))
  b = s.trainer.init_params(init_keys([6]))
  np.testing.assert_array_equal(a["embed"][1], b["embed"][0])
  assert not np.array_equal(a["embed"][0], a["embed"][1])
