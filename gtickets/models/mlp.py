"""The paper's MLP for two-token modular arithmetic.

one-hot(a), one-hot(b) -> embed (vocab x d_embed), summed -> w_in (d_embed x
d_hidden) -> ReLU -> w_out (d_hidden x d_embed) -> unembed (d_embed x outputs).
No biases, no normalization. Every matrix is drawn from
N(0, (kappa / sqrt(fan_in))^2); the embedding's fan-in is the vocabulary size
(it multiplies a one-hot vector). For p = 67 this is 115,000 weights.

How the chains are multiplied is ``contraction`` (models/contraction.py). By
default ("cheapest") the tokens gather rows of ``embed @ w_in`` (67 x 48) and
the hidden layer meets ``w_out @ unembed`` (48 x 67): the same function, about a
tenth of the FLOPs of multiplying the batch through the 500-wide embedding.
"batch_first" is the order this project used before: (one_hot(a) + one_hot(b))
@ embed @ w_in, then @ w_out @ unembed, left to right.
``from_inputs`` runs the network on any real-valued input vector of size vocab
(SynFlow feeds it all ones).
"""
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from gtickets import checks
from gtickets.models import contraction
from gtickets.models.contraction import chain, token_rows

INPUT_KIND = "tokens"


def default_config():
  c = ml_collections.ConfigDict()
  c.name = "mlp"
  c.d_embed = 500
  c.d_hidden = 48
  c.kappa = 1.0   # init scale: weights ~ N(0, (kappa / sqrt(fan_in))^2)
  c.embed_gain = 1.0  # the embedding's init scale times this (the authors' edge-popup
  #                     code: kaiming-normal for ReLU, sqrt(2))
  c.contraction = "cheapest"  # or "batch_first" (models/contraction.py)
  return c


NEUTRAL = {"d_embed": 500, "d_hidden": 48, "kappa": 1.0, "embed_gain": 1.0,
           "contraction": "batch_first"}  # identity.py; results trained before "cheapest"


def describe(c):
  """A short label: 'MLP', with its widths where they are not the paper's."""
  widths = (c.d_embed, c.d_hidden) != (500, 48)
  return "MLP" + (f" (embedding {c.d_embed}, hidden {c.d_hidden})" if widths else "")


def check(c):
  yield from checks.positive_ints(c, "d_embed", "d_hidden")
  yield from checks.positive(c, "kappa", "embed_gain")
  yield from contraction.check(c)


def build(c, task):
  return TokenMLP(vocab=task.vocab, num_outputs=task.num_outputs, d_embed=c.d_embed,
                  d_hidden=c.d_hidden, kappa=c.kappa, embed_gain=c.embed_gain,
                  contraction=c.contraction)


def scaled_normal(kappa: float, fan_in: int):
  """Initializer for N(0, (kappa / sqrt(fan_in))^2)."""
  std = kappa / jnp.sqrt(fan_in)
  return lambda key, shape, dtype=jnp.float32: std * jax.random.normal(key, shape, dtype)


def weight(module, name, fan_in, fan_out):
  """A [fan_in, fan_out] parameter of ``module`` ~ N(0, (module.kappa / sqrt(fan_in))^2)."""
  return module.param(name, scaled_normal(module.kappa, fan_in), (fan_in, fan_out))


class TokenMLP(nn.Module):
  vocab: int
  num_outputs: int
  d_embed: int = 500
  d_hidden: int = 48
  kappa: float = 1.0
  embed_gain: float = 1.0
  contraction: str = "cheapest"

  def setup(self):
    self.embed = self.param("embed", scaled_normal(self.kappa * self.embed_gain, self.vocab),
                            (self.vocab, self.d_embed))
    self.w_in = weight(self, "w_in", self.d_embed, self.d_hidden)
    self.w_out = weight(self, "w_out", self.d_hidden, self.d_embed)
    self.unembed = weight(self, "unembed", self.d_embed, self.num_outputs)

  unpruned = ()  # names of weights no mask touches (all are prunable here)

  def synflow_inputs(self):
    """SynFlow's all-ones input: one vector of size vocab."""
    return jnp.ones((1, self.vocab))

  def from_inputs(self, x):
    """x: real [..., vocab] (a sum of one-hot vectors) -> logits [..., num_outputs]."""
    h = nn.relu(chain(x, self.embed, self.w_in, order=self.contraction))
    return chain(h, self.w_out, self.unembed, order=self.contraction)

  def __call__(self, tokens):
    """tokens: int array [..., 2] -> logits [..., num_outputs]."""
    if self.contraction == "cheapest":
      h = nn.relu(token_rows(tokens, self.embed, self.w_in).sum(axis=-2))
      return chain(h, self.w_out, self.unembed)
    one_hots = (jax.nn.one_hot(tokens[..., 0], self.vocab, dtype=self.embed.dtype)
                + jax.nn.one_hot(tokens[..., 1], self.vocab, dtype=self.embed.dtype))
    return self.from_inputs(one_hots)
