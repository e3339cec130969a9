"""Grokfast (EMA, MA), the perpendicular gradient and StableMax against hand-computed
values on tiny trees; config checks; the identity of older workdirs unchanged."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gtickets import identity
from gtickets.config import ConfigError, default_config, validate
from gtickets.tasks import cross_entropy
from gtickets.training import accelerators
from gtickets.training.trainer import make_optimizer
from conftest import quiet

G = [{"a": jnp.array([1.0, -2.0]), "b": jnp.array([[3.0]])},
     {"a": jnp.array([0.5, 4.0]), "b": jnp.array([[-1.0]])},
     {"a": jnp.array([-3.0, 1.0]), "b": jnp.array([[2.0]])},
     {"a": jnp.array([2.0, 2.0]), "b": jnp.array([[0.0]])}]


def _apply(tx, grads, params=None):
  params = params if params is not None else jax.tree.map(jnp.ones_like, grads[0])
  state, outs = tx.init(params), []
  for g in grads:
    out, state = tx.update(g, state, params)
    outs.append(out)
  return outs


def _close(a, b):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7), a, b)


def test_grokfast_ema_by_hand():
  outs = _apply(accelerators.grokfast_ema(alpha=0.98, lamb=2.0), G[:3])
  mu1 = G[0]
  mu2 = jax.tree.map(lambda m, g: 0.98 * m + 0.02 * g, mu1, G[1])
  mu3 = jax.tree.map(lambda m, g: 0.98 * m + 0.02 * g, mu2, G[2])
  for out, g, mu in zip(outs, G, (mu1, mu2, mu3)):
    _close(out, jax.tree.map(lambda g, m: g + 2.0 * m, g, mu))
  _close(outs[0], jax.tree.map(lambda g: 3 * g, G[0]))  # mu starts at the first gradient


def test_grokfast_ma_by_hand():
  outs = _apply(accelerators.grokfast_ma(window=3, lamb=5.0), G)
  _close(outs[0], G[0])  # window not full yet: unchanged
  _close(outs[1], G[1])
  mean = lambda *gs: jax.tree.map(lambda *x: sum(x) / len(x), *gs)
  _close(outs[2], jax.tree.map(lambda g, m: g + 5 * m, G[2], mean(G[0], G[1], G[2])))
  _close(outs[3], jax.tree.map(lambda g, m: g + 5 * m, G[3], mean(G[1], G[2], G[3])))


def test_grokfast_ma_block_sums_equal_the_window_mean_as_the_ring_wraps():
  """Window 6 kept as 3 blocks of 2: every output over 20 steps (three wraps) is
  g + lamb * the mean of the last 6 gradients."""
  assert [accelerators.ma_block(w) for w in (100, 6, 7, 3)] == [10, 2, 1, 1]
  gs = [{"a": jax.random.normal(jax.random.key(i), (4, 3))} for i in range(20)]
  outs = _apply(accelerators.grokfast_ma(window=6, lamb=5.0), gs)
  for t, out in enumerate(outs):
    want = gs[t]["a"] + (5 * sum(g["a"] for g in gs[t - 5:t + 1]) / 6 if t >= 5 else 0)
    np.testing.assert_allclose(out["a"], want, rtol=1e-5, atol=1e-6)


def test_ma_sums_rows_first_to_last_in_any_batch():
  """The MA filter's sums are sequential adds, the same whether or not vmapped (XLA's
  reduce over a vmapped leading axis adds in another order)."""
  x = np.asarray(jax.random.normal(jax.random.key(0), (10, 257))
                 * jnp.exp(5 * jax.random.normal(jax.random.key(1), (10, 1))))
  seq = x[0].copy()
  for row in x[1:]:
    seq = seq + row
  np.testing.assert_array_equal(jax.jit(accelerators.sum_rows)(x), seq)
  batched = jax.jit(jax.vmap(accelerators.sum_rows))(np.stack([x, 2 * x, x]))
  np.testing.assert_array_equal(batched[0], seq)
  np.testing.assert_array_equal(batched[2], seq)


def test_perpendicular_by_hand():
  w = {"a": jnp.array([1.0, 0.0]), "z": jnp.zeros(2)}
  g = {"a": jnp.array([1.0, 1.0]), "z": jnp.array([1.0, 2.0])}
  plain, = _apply(accelerators.perpendicular(rescale=False), [g], w)
  _close(plain, {"a": jnp.array([0.0, 1.0]), "z": g["z"]})  # zero weights: unchanged
  scaled, = _apply(accelerators.perpendicular(rescale=True), [g], w)
  _close(scaled, {"a": jnp.array([0.0, np.sqrt(2.0)]), "z": g["z"]})
  k1, k2 = jax.random.split(jax.random.key(0))
  w, g = jax.random.normal(k1, (5, 7)), jax.random.normal(k2, (5, 7))
  out, = _apply(accelerators.perpendicular(rescale=True), [g], w)
  assert abs(float(jnp.sum(out * w))) < 1e-4 * float(jnp.linalg.norm(w) * jnp.linalg.norm(g))
  np.testing.assert_allclose(jnp.linalg.norm(out), jnp.linalg.norm(g), rtol=1e-5)


def test_chained_before_adamw():
  c = default_config().optim
  c.grokfast = "ema"
  params = {"a": jnp.array([0.3, -0.7])}
  tx = make_optimizer(c)
  state = tx.init(params)
  out, _ = tx.update({"a": jnp.array([1.0, 2.0])}, state, params)
  ref = optax.adamw(c.lr, b1=c.b1, b2=c.b2, eps=c.eps, weight_decay=c.weight_decay)
  want, _ = ref.update({"a": jnp.array([3.0, 6.0])}, ref.init(params), params)  # g + 2 g
  _close(out, want)


def test_stablemax_by_hand():
  logits = jnp.array([[0.0, 1.0, -1.0]])
  np.testing.assert_allclose(cross_entropy.stablemax_s(jnp.array([-3.0, 0.0, 2.0])),
                             [0.25, 1.0, 3.0])
  want = -np.log(2.0 / 3.5)  # s = 1, 2, 0.5
  np.testing.assert_allclose(cross_entropy.stablemax(logits, jnp.array([1])), want, rtol=1e-6)
  # large margins: loss and gradient stay finite and non-zero (no softmax collapse)
  big = jnp.array([[60.0, 0.0, -5.0]])
  loss, grad = jax.value_and_grad(lambda z: cross_entropy.stablemax(z, jnp.array([0])))(big)
  assert 0 < float(loss) < 0.1 and np.all(np.isfinite(grad)) and float(grad[0, 0]) < 0


def test_config_checks_and_old_identities():
  c = default_config()
  c.optim.grokfast = "fast"
  with pytest.raises(ConfigError, match="optim.grokfast"):
    validate(c)
  c = default_config()
  assert "optim.grokfast" not in identity.of(c, ("optim",))
  assert "optim.perpendicular" not in identity.of(c, ("optim",))
  from gtickets.experiment.pipeline import Tickets, ticket_identity
  assert "ticket.grokfast" not in ticket_identity(c)  # ticket phases trained before it
  c.optim.perpendicular = True
  assert identity.of(c, ("optim",))["optim.perpendicular"] is True
  assert ticket_identity(c, tickets=Tickets(grokfast="ema"))["ticket.grokfast"] == "ema"
  with pytest.raises(ValueError, match="ticket grokfast 'fast'"):
    Tickets(grokfast="fast")


def test_training_with_each_accelerator(tiny_config, tmp_path):
  from gtickets.experiment.pipeline import run_dense
  base = run_dense(tiny_config, quiet(tmp_path / "plain"))
  for name, field, value in (("ema", "grokfast", "ema"), ("perp", "perpendicular", True)):
    c = tiny_config.copy_and_resolve_references()
    c.optim[field] = value
    c.optim.grokfast_window = 5
    res = run_dense(c, quiet(tmp_path / name))
    assert np.all(np.isfinite(res.curves["train_loss"]))
    assert not np.allclose(res.curves["train_loss"][:, -1], base.curves["train_loss"][:, -1])
  c = tiny_config.copy_and_resolve_references()
  c.train.cross_entropy = "stablemax"
  res = run_dense(c, quiet(tmp_path / "stablemax"))
  assert res.curves["train_acc"][:, -1].min() > 0.2  # chance: 1/11
  assert np.all(res.curves["train_loss"][:, -1] < 0.9 * res.curves["train_loss"][:, 0])


def test_accelerators_experiment_table(tiny_config, tmp_path):
  from gtickets import experiments
  c = experiments.use(tiny_config, "accelerators")
  c.accelerators.names = ("stablemax",)
  experiments.validate(c)
  text, files = experiments.EXPERIMENTS["accelerators"].run(c, quiet(tmp_path))
  payload = __import__("json").load(open(tmp_path / "accelerators.json"))
  labels = [r["label"] for r in payload["rows"]]
  assert labels == ["dense", "grokked ticket", "random ticket", "dense + stablemax",
                    "grokked ticket + grokfast_ema"]
  assert (tmp_path / "accel_stablemax" / "dense" / "curves.npz").exists()
  assert (tmp_path / "tickets_grokfast" / "masks.digest").exists()
  # the ticket + Grokfast phase starts from the same masks as the plain grokked ticket
  from gtickets.training import checkpoints
  import numpy as np
  m1 = checkpoints.load_tree(str(tmp_path / "tickets" / "masks"))
  m2 = checkpoints.load_tree(str(tmp_path / "tickets_grokfast" / "masks"))
  jax.tree.map(lambda a, b: np.testing.assert_array_equal(a[:2], b), m1, m2)
  assert payload["rows"][4]["test_acc_mean"] != payload["rows"][1]["test_acc_mean"]
  c.accelerators.names = ("grokfast",)
  with pytest.raises(ConfigError, match="accelerators.names"):
    experiments.validate(c)


def test_perpendicular_without_weight_decay_is_prieto_et_al_s_setting():
  from gtickets.experiments.accelerators import with_accelerator
  c = default_config()
  a, b = with_accelerator(c, "perpendicular"), with_accelerator(c, "perpendicular_no_wd")
  assert (a.optim.perpendicular, a.optim.weight_decay) == (True, 1.0)
  assert (b.optim.perpendicular, b.optim.weight_decay) == (True, 0.0)
  assert c.optim.weight_decay == 1.0 and not c.optim.perpendicular  # a copy was changed
