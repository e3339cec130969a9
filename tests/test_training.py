import jax
import numpy as np
import pytest

from gtickets.experiment.setup import make_setup
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


@pytest.mark.parametrize("vmap_runs", [-1, 0, 3])
def test_run_in_vmapped_batch_matches_run_alone(tiny_config, vmap_runs):
  """On one device a run trains to the same numbers inside a batch as alone: bit for
  bit when the runs go one after another (vmap_runs -1 on a CPU), to float32
  rounding when vmapped together (0: all, 3: in groups of 3)."""
  tiny_config.train.vmap_runs = vmap_runs
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
  tol = 0 if vmap_runs == -1 and jax.default_backend() == "cpu" else 1e-5
  for name in params:
    np.testing.assert_allclose(batch["params"][name][i], alone["params"][name][0],
                               atol=tol, rtol=0)
  np.testing.assert_allclose(batch_metrics["train_loss"][i], alone_metrics["train_loss"][0],
                             rtol=tol)
  # and the runs of the batch are really different runs
  assert not np.allclose(batch["params"]["w_in"][0], batch["params"]["w_in"][1])


def test_init_depends_on_seed_only(tiny_config):
  s = make_setup(tiny_config)
  a = s.trainer.init_params(init_keys([5, 6]))
  b = s.trainer.init_params(init_keys([6]))
  np.testing.assert_array_equal(a["embed"][1], b["embed"][0])
  assert not np.array_equal(a["embed"][0], a["embed"][1])


def test_minibatches_cover_each_epoch_once_in_a_new_order():
  from gtickets.training.trainer import minibatch_indices
  key = jax.random.key(0)
  batches = [np.asarray(minibatch_indices(key, s, 10, 3)) for s in range(6)]
  epoch0, epoch1 = np.concatenate(batches[:3]), np.concatenate(batches[3:])
  assert len(set(epoch0)) == 9 and len(set(epoch1)) == 9   # 3 batches of 3, one left out
  assert not np.array_equal(epoch0, epoch1)
  np.testing.assert_array_equal(batches[4], np.asarray(minibatch_indices(key, 4, 10, 3)))


def test_one_minibatch_of_everything_equals_full_batch(tiny_config):
  c = tiny_config
  runs = []
  for bs in (0, 60):  # p = 11, all pairs, half train: 60 examples
    c.train.batch_size = bs
    s = make_setup(c)
    assert len(s.task.x_train) == 60
    params = s.trainer.init_params(init_keys(c.seeds))
    mask = jax.vmap(masks_lib.ones_like)(params)
    state, m = s.trainer.train_chunk(s.trainer.init_state(params, mask), mask, s.data, 3)
    runs.append((state, m))
  (a, ma), (b, mb) = runs
  assert int(a["step"][0]) == int(b["step"][0]) == 30
  np.testing.assert_allclose(ma["train_loss"], mb["train_loss"], rtol=1e-4, atol=1e-6)
  c.train.batch_size = 7
  s = make_setup(c)
  params = s.trainer.init_params(init_keys(c.seeds))
  mask = jax.vmap(masks_lib.ones_like)(params)
  _, mc = s.trainer.train_chunk(s.trainer.init_state(params, mask), mask, s.data, 3)
  assert not np.allclose(mc["train_loss"], ma["train_loss"])   # minibatches differ


def test_per_run_learning_rate_and_weight_decay_are_an_argument_of_their_own(tiny_config):
  """A per-run-optimizer trainer reads lr and weight decay from ``hparams`` (beside the
  masks, not inside them): lr 0 and no decay leave run 1 bitwise as it started."""
  s = make_setup(tiny_config, per_run_optim=True)
  params = s.trainer.init_params(init_keys([0, 1]))
  masks = jax.vmap(masks_lib.ones_like)(params)
  hparams = {"lr": np.array([1e-2, 0.0], np.float32), "weight_decay": np.zeros(2, np.float32)}
  state, _ = s.trainer.train_chunk(s.trainer.init_state(params, masks, hparams), masks, s.data,
                                   2, hparams)
  for k in params:
    assert not np.array_equal(state["params"][k][0], params[k][0])
    np.testing.assert_array_equal(state["params"][k][1], params[k][1])
  got = s.hparams_for([{"lr": 1e-3, "weight_decay": 0.5}, {"lr": 3e-3, "weight_decay": 1.0}])
  np.testing.assert_array_equal(got["lr"], np.array([1e-3, 3e-3], np.float32))
  np.testing.assert_array_equal(got["weight_decay"], np.array([0.5, 1.0], np.float32))
  assert make_setup(tiny_config).hparams_for([{"lr": 1.0}]) is None
