import jax
import jax.numpy as jnp
import numpy as np

from gtickets.config import default_config
from gtickets.models import make_model
from gtickets.tasks import make_task


def test_paper_mlp_shapes_and_parameter_count():
  c = default_config()
  task = make_task(c.task)
  model = make_model(c.model, task)
  params = model.init(jax.random.key(0), task.x_train[:1])["params"]
  shapes = {k: v.shape for k, v in params.items()}
  assert shapes == {"embed": (67, 500), "w_in": (500, 48), "w_out": (48, 500),
                    "unembed": (500, 67)}
  assert sum(v.size for v in params.values()) == 115_000
  out = model.apply({"params": params}, task.x_test[:7])
  assert out.shape == (7, 67)
  # init N(0, (kappa/sqrt(fan_in))^2): the empirical std matches within 5%
  for name, fan_in in [("embed", 67), ("w_in", 500), ("w_out", 48), ("unembed", 500)]:
    assert abs(float(jnp.std(params[name])) * np.sqrt(fan_in) - 1.0) < 0.05, name


def test_embeddings_of_both_tokens_are_summed():
  c = default_config()
  task = make_task(c.task)
  model = make_model(c.model, task)
  params = model.init(jax.random.key(0), task.x_train[:1])["params"]
  # swapping a and b cannot change the output of a summed embedding
  x = np.array([[3, 5], [10, 2]])
  np.testing.assert_allclose(model.apply({"params": params}, x),
                             model.apply({"params": params}, x[:, ::-1]), rtol=1e-5, atol=1e-6)


def test_embed_gain_scales_the_embedding_init_only():
  from configs import modadd
  from gtickets.experiment.setup import make_setup
  from gtickets.training.trainer import init_keys
  c = modadd.get_config()
  c.task.p = 11
  base = make_setup(c).trainer.init_params(init_keys([0]))
  c.model.embed_gain = 2 ** 0.5  # the authors' edge-popup embedding (kaiming, ReLU)
  gained = make_setup(c).trainer.init_params(init_keys([0]))
  np.testing.assert_allclose(gained["embed"], 2 ** 0.5 * base["embed"], rtol=1e-6)
  for k in ("w_in", "w_out", "unembed"):
    np.testing.assert_array_equal(gained[k], base[k])
