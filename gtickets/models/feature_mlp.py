"""An MLP on real feature vectors (polynomial regression, sparse parity, MNIST).

x [..., d_in] -> (w0, ReLU) -> ... -> w_last -> outputs; ``hidden`` gives the
widths (MNIST: (200, 200); polynomial: (48,)). Every matmul but the last is followed by
a ReLU, so there is no chain of weights to compose first: the contraction order
of models/contraction.py has nothing to reorder here, and this model has no
``contraction`` field. No biases by default (Omnigrok's
MNIST MLP has none); ``use_bias=True`` adds them (b0, b1, ...: zero at init,
trained, never pruned). Without biases the network is positively homogeneous of
degree 1 in x (f(tx) = t f(x) for t > 0), so it cannot fit a degree-2 target
such as the polynomial task's. Weights ~ N(0, (kappa / sqrt(fan_in))^2): kappa = 1 is the usual
variance-preserving scale, Omnigrok's MNIST uses kappa = 8.
"""
import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from gtickets import checks
from gtickets.models.mlp import weight

INPUT_KIND = "features"


def default_config():
  c = ml_collections.ConfigDict()
  c.name = "feature_mlp"
  c.hidden = (200, 200)
  c.kappa = 1.0
  c.use_bias = False
  return c


NEUTRAL = {"hidden": [200, 200], "kappa": 1.0, "use_bias": False}  # identity.py


def describe(c):
  """A short label: 'MLP, hidden 200-200'."""
  return "MLP, hidden " + "-".join(map(str, c.hidden)) + (", biases" if c.use_bias else "")


def check(c):
  if not c.hidden or any(not isinstance(w, int) or w < 1 for w in c.hidden):
    yield "hidden", c.hidden, "must be a non-empty tuple of positive widths"
  yield from checks.positive(c, "kappa")
  yield from checks.bools(c, "use_bias")


def build(c, task):
  return FeatureMLP(d_in=task.x_train.shape[1], num_outputs=task.num_outputs,
                    hidden=tuple(c.hidden), kappa=c.kappa, use_bias=c.use_bias)


class FeatureMLP(nn.Module):
  d_in: int
  num_outputs: int
  hidden: tuple = (200, 200)
  kappa: float = 1.0
  use_bias: bool = False

  @property
  def unpruned(self):
    return tuple(f"b{i}" for i in range(len(self.hidden) + 1)) if self.use_bias else ()

  @nn.compact
  def __call__(self, x):
    widths = (self.d_in,) + tuple(self.hidden) + (self.num_outputs,)
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
      x = x @ weight(self, f"w{i}", fan_in, fan_out)
      if self.use_bias:
        x = x + self.param(f"b{i}", nn.initializers.zeros, (fan_out,))
      if i < len(widths) - 2:
        x = nn.relu(x)
    return x

  def synflow_inputs(self):
    return jnp.ones((1, self.d_in))

  def from_inputs(self, x):
    return self(x)
