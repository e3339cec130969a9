"""A one-layer, one-head Transformer for two-token tasks (the paper's App. B).

tokens (a, b) -> one-hot @ embed (+ pos_embed, optional) -> residual stream
[2, d_model]; one attention head (w_q, w_k, w_v: d_model x d_model, w_o:
d_model x d_model), causal by default; then an MLP block (w_in: d_model x
d_mlp, ReLU, w_out: d_mlp x d_model) added to the stream; logits = last
position @ unembed. No LayerNorm, no biases. Weights ~ N(0, (kappa /
sqrt(fan_in))^2), as in the MLP.

Positional embedding: off by default, as in the authors' code that made the
paper's figures (the paper's text mentions one). It is not needed for order:
with the causal mask the last position holds its own token in the residual
stream and sees the first only through attention. When on (``pos_embed=True``)
it is learned and never pruned (``unpruned``). Prunable: embed, w_q, w_k, w_v,
w_o, w_in, w_out, unembed.
"""
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from gtickets import checks
from gtickets.models.mlp import weight

INPUT_KIND = "tokens"


def default_config():
  c = ml_collections.ConfigDict()
  c.name = "transformer"
  c.d_model = 128
  c.d_mlp = 128
  c.kappa = 1.0
  c.pos_embed = False
  c.causal = True
  return c


def check(c):
  yield from checks.positive_ints(c, "d_model", "d_mlp")
  yield from checks.positive(c, "kappa")
  yield from checks.bools(c, "pos_embed", "causal")


def build(c, task):
  return Transformer(vocab=task.vocab, num_outputs=task.num_outputs,
                     seq_len=task.x_train.shape[1], d_model=c.d_model, d_mlp=c.d_mlp,
                     kappa=c.kappa, pos_embed=c.pos_embed, causal=c.causal)


class Transformer(nn.Module):
  vocab: int
  num_outputs: int
  seq_len: int = 2
  d_model: int = 128
  d_mlp: int = 128
  kappa: float = 1.0
  pos_embed: bool = False
  causal: bool = True

  def setup(self):
    d = self.d_model
    self.embed = weight(self, "embed", self.vocab, d)
    if self.pos_embed:
      self.pos = weight(self, "pos_embed", self.seq_len, d)
    self.w_q, self.w_k, self.w_v = (weight(self, n, d, d) for n in ("w_q", "w_k", "w_v"))
    self.w_o = weight(self, "w_o", d, d)
    self.w_in = weight(self, "w_in", d, self.d_mlp)
    self.w_out = weight(self, "w_out", self.d_mlp, d)
    self.unembed = weight(self, "unembed", d, self.num_outputs)

  @property
  def unpruned(self):
    return ("pos_embed",) if self.pos_embed else ()

  def synflow_inputs(self):
    """SynFlow's all-ones input: every position an all-ones vector of size vocab."""
    return jnp.ones((1, self.seq_len, self.vocab))

  def stream(self, x, last_only=False):
    """x: real [..., seq, vocab] (one-hot rows) -> residual stream [..., seq, d_model].

    ``last_only``: the stream at the last position only ([..., 1, d_model]). The
    logits read nothing else, so the other positions need only their keys and
    values: no query, attention output or MLP block (30% fewer forward FLOPs for
    two tokens; benchmarks/transformer_last_position.py).
    """
    h = x @ self.embed
    if self.pos_embed:
      h = h + self.pos[:x.shape[-2]]
    n = x.shape[-2]
    k, v = h @ self.w_k, h @ self.w_v
    if last_only:
      h = h[..., -1:, :]
    q = h @ self.w_q
    scores = jnp.einsum("...qd,...kd->...qk", q, k) / jnp.sqrt(self.d_model)
    if self.causal:  # query i (of the last h.shape[-2] positions) sees keys <= i
      scores = jnp.where(jnp.tril(jnp.ones((n, n), bool))[n - h.shape[-2]:], scores, -jnp.inf)
    h = h + jax.nn.softmax(scores, axis=-1) @ v @ self.w_o
    return h + nn.relu(h @ self.w_in) @ self.w_out

  def from_inputs(self, x):
    """x: real [..., seq, vocab] -> logits at the last position [..., num_outputs]."""
    return self.stream(x, last_only=True)[..., -1, :] @ self.unembed

  def all_logits(self, tokens):
    """Logits at every position [..., seq, num_outputs] (for inspection and tests)."""
    return self.stream(jax.nn.one_hot(tokens, self.vocab, dtype=self.embed.dtype)) @ self.unembed

  def __call__(self, tokens):
    """tokens: int [..., seq] -> logits [..., num_outputs]."""
    return self.from_inputs(jax.nn.one_hot(tokens, self.vocab, dtype=self.embed.dtype))
