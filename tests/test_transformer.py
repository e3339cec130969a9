import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gtickets import models
from gtickets.config import default_config
from gtickets.tasks import make_task
from gtickets.tickets import masks as masks_lib


def _setup(**model_fields):
  c = default_config(model="transformer")
  c.task.p, c.task.pairs = 11, "all"
  c.model.d_model, c.model.d_mlp = 16, 24
  for k, v in model_fields.items():
    c.model[k] = v
  task = make_task(c.task)
  model = models.make_model(c.model, task)
  params = model.init(jax.random.key(0), task.x_train[:1])["params"]
  return task, model, params


def test_shapes_and_prunable_weights():
  task, model, params = _setup()
  want = {"embed": (11, 16), "w_q": (16, 16), "w_k": (16, 16), "w_v": (16, 16),
          "w_o": (16, 16), "w_in": (16, 24), "w_out": (24, 16), "unembed": (16, 11)}
  assert {k: v.shape for k, v in params.items()} == want
  assert model.apply({"params": params}, task.x_test[:5]).shape == (5, 11)
  assert model.apply({"params": params}, task.x_test[:5], method=model.all_logits).shape == (5, 2, 11)
  assert all(models.prunable(model, params).values())


@pytest.mark.parametrize("causal", [True, False])
def test_causal_mask_hides_the_second_token_from_the_first_position(causal):
  _, model, params = _setup(causal=causal)
  a = jnp.array([[3, 0], [3, 5], [3, 9]])
  out = model.apply({"params": params}, a, method=model.all_logits)
  first_same = all(np.allclose(out[0, 0], out[i, 0], atol=1e-6) for i in (1, 2))
  assert first_same == causal            # without the mask the first position sees b
  assert not np.allclose(out[1, 1], out[2, 1])  # the last position always sees b


def test_order_matters_without_positional_embedding():
  _, model, params = _setup()
  ab = model.apply({"params": params}, jnp.array([[2, 7]]))
  ba = model.apply({"params": params}, jnp.array([[7, 2]]))
  assert not np.allclose(ab, ba)


def test_positional_embedding_is_learned_but_never_pruned():
  _, model, params = _setup(pos_embed=True)
  assert params["pos_embed"].shape == (2, 16)
  prunable = models.prunable(model, params)
  assert prunable["pos_embed"] is False and sum(prunable.values()) == 8
  # make the positional weights the smallest of all: magnitude pruning must still skip them
  params = dict(params, pos_embed=params["pos_embed"] * 1e-6)
  for scope in ("global", "layer"):
    m = masks_lib.magnitude_mask(params, 0.5, scope, prunable)
    assert bool(m["pos_embed"].all())
    n = sum(v.size for k, v in params.items() if k != "pos_embed")
    kept = sum(int(v.sum()) for k, v in m.items() if k != "pos_embed")
    if scope == "global":
      assert n - kept == round(0.5 * n)
  r = masks_lib.random_mask(jax.random.key(1), params, 0.9, "global", prunable)
  assert bool(r["pos_embed"].all())


@pytest.mark.parametrize("causal,pos_embed", [(True, False), (False, False), (True, True)])
def test_last_position_only_forward_equals_the_full_stream(causal, pos_embed):
  """The logits skip the first position's query, attention output and MLP block: the
  values and the gradients must be those of the full stream's last position."""
  task, model, params = _setup(causal=causal, pos_embed=pos_embed)
  x, y = task.x_train[:40], task.y_train[:40]
  full = lambda p: model.apply({"params": p}, x, method=model.all_logits)[:, -1, :]
  last = lambda p: model.apply({"params": p}, x)
  # jitted: op by op, the first compile of every primitive cost ~10 s per case
  np.testing.assert_allclose(jax.jit(last)(params), jax.jit(full)(params), rtol=1e-5, atol=1e-6)
  loss = lambda f: lambda p: -jnp.take_along_axis(jax.nn.log_softmax(f(p)), y[:, None], 1).mean()
  g_last, g_full = jax.jit(jax.grad(loss(last)))(params), jax.jit(jax.grad(loss(full)))(params)
  for k in params:
    np.testing.assert_allclose(g_last[k], g_full[k], rtol=1e-4, atol=1e-6, err_msg=k)
