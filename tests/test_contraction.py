"""The cheapest contraction order computes the batch-first model's function and gradients."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gtickets import identity
from gtickets.config import ConfigError, default_config, validate
from gtickets.models import make_model
from gtickets.models.contraction import chain, token_rows
from gtickets.tasks import make_task
from gtickets.tickets import masks as masks_lib


def _normal(key, *shape):
  return jax.random.normal(jax.random.key(key), shape)


@pytest.mark.parametrize("shapes", [[(5, 7), (7, 300), (300, 4)], [(900, 3), (3, 2)],
                                    [(2, 40, 6), (6, 50), (50, 9), (9, 8)]])
def test_chain_equals_left_to_right_product(shapes):
  x, *ws = [_normal(i, *s) for i, s in enumerate(shapes)]
  want = np.asarray(x, np.float64)
  for w in ws:
    want = want @ np.asarray(w, np.float64)
  for order in ("cheapest", "batch_first"):
    np.testing.assert_allclose(chain(x, *ws, order=order), want, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("n", [3, 200])  # fewer lookups than symbols, and more
def test_token_rows_equal_the_one_hot_product(n):
  tokens = jax.random.randint(jax.random.key(0), (n, 2), 0, 67)
  embed, w = _normal(1, 67, 50), _normal(2, 50, 8)
  want = jax.nn.one_hot(tokens, 67) @ embed @ w
  np.testing.assert_allclose(token_rows(tokens, embed, w), want, rtol=1e-4, atol=1e-4)
  np.testing.assert_array_equal(token_rows(tokens, embed), embed[tokens])


def _masked_loss_and_grads(config, order, inputs="tokens"):
  """Logits and the gradient of the task loss for every weight, on random weights
  under a random k = 0.6 mask, with ``config.model.contraction = order``."""
  config.model.contraction = order
  task = make_task(config.task)
  model = make_model(config.model, task)
  params = model.init(jax.random.key(0), task.x_train[:1])["params"]
  mask = masks_lib.random_mask(jax.random.key(1), params, 0.6)
  x, y = jnp.asarray(task.x_train), jnp.asarray(task.y_train)

  def logits(p):
    w = masks_lib.apply(p, mask)
    if inputs == "tokens":
      return model.apply({"params": w}, x)
    one_hots = jax.nn.one_hot(x, task.vocab).sum(axis=-2)
    return model.apply({"params": w}, one_hots, method=model.from_inputs)

  grads = jax.grad(lambda p: task.loss(logits(p), y))(params)
  return logits(params), grads, mask


def _assert_same_function(fast, slow):
  """Same logits and gradients to float32 rounding; zero gradient on pruned weights."""
  np.testing.assert_allclose(fast[0], slow[0], rtol=1e-4, atol=1e-4)
  for name in slow[1]:
    scale = float(jnp.max(jnp.abs(slow[1][name])))
    np.testing.assert_allclose(fast[1][name], slow[1][name], rtol=0, atol=1e-4 * scale,
                               err_msg=name)
    assert not np.any(np.asarray(fast[1][name])[~np.asarray(fast[2][name])]), name


@pytest.mark.parametrize("inputs", ["tokens", "from_inputs"])
def test_paper_mlp_cheapest_order_matches_batch_first(inputs):
  """The paper's MLP at p = 67 (884 training pairs): same logits, same gradient of
  every weight, and exactly zero gradient on every pruned weight in both orders."""
  fast = _masked_loss_and_grads(default_config(), "cheapest", inputs)
  slow = _masked_loss_and_grads(default_config(), "batch_first", inputs)
  _assert_same_function(fast, slow)


def test_contraction_is_checked_and_part_of_the_identity():
  c = default_config()
  c.model.contraction = "sideways"
  with pytest.raises(ConfigError, match="model.contraction"):
    validate(c)
  # workdirs trained before the field existed multiplied batch first: that value
  # leaves their identity unchanged; the new default is a different identity
  c.model.contraction = "batch_first"
  assert "model.contraction" not in identity.of(c, ("model",))
  c.model.contraction = "cheapest"
  assert identity.of(c, ("model",))["model.contraction"] == "cheapest"


@pytest.mark.parametrize("pos_embed,causal", [(False, True), (True, True), (False, False)])
def test_transformer_cheapest_order_matches_batch_first(pos_embed, causal):
  """The Transformer's gathered tables (embedding, keys, queries, value-output and
  MLP-to-unembed paths) give the one-hot, batch-first model's logits and gradients."""
  def config():
    c = default_config(model="transformer")
    c.task.p = 23
    c.model.d_model, c.model.d_mlp = 32, 48
    c.model.pos_embed, c.model.causal = pos_embed, causal
    return c
  fast = _masked_loss_and_grads(config(), "cheapest")
  slow = _masked_loss_and_grads(config(), "batch_first")
  _assert_same_function(fast, slow)
