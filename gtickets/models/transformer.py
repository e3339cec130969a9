"""A one-layer, one-head Transformer for two-token tasks (the paper's App. B).

tokens (a, b) -> one-hot @ embed (+ pos_embed, optional) -> residual stream
[2, d_model]; one attention head (w_q, w_k, w_v: d_model x d_model, w_o:
d_model x d_model), causal by default; then an MLP block (w_in: d_model x
d_mlp, ReLU, w_out: d_mlp x d_model) added to the stream; logits = last
position @ unembed. No LayerNorm, no biases. Weights ~ N(0, (kappa /
sqrt(fan_in))^2), as in the MLP.

How the chains are multiplied is ``contraction`` (models/contraction.py). By
default ("cheapest"), when the batch has more examples than the tables have
rows, every linear map of the embedded tokens is composed into a (vocab x
width) table first and its rows gathered: keys, queries, the value-output path
(w_v @ w_o) and its continuations into w_in and the unembedding, and the
MLP-to-unembed path (w_out @ unembed). With two tokens everything before the
ReLU is a sum of gathered rows weighted by the attention, so only the MLP's
hidden layer meets the batch: the same function with several times fewer
FLOPs (benchmarks/README.md). "batch_first" multiplies the one-hot tokens
through, left to right, as before.

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
from gtickets.models import contraction
from gtickets.models.contraction import chain
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
  c.contraction = "cheapest"  # or "batch_first" (models/contraction.py)
  return c


NEUTRAL = {"d_model": 128, "d_mlp": 128, "kappa": 1.0, "pos_embed": False, "causal": True,
           "contraction": "batch_first"}  # identity.py; results trained before "cheapest"


def describe(c):
  """A short label: 'Transformer', with what differs from the authors' code."""
  extra = ([f"width {c.d_model}"] if c.d_model != 128 else []) + (
      ["positional embedding"] if c.pos_embed else [])
  return "Transformer" + (f" ({', '.join(extra)})" if extra else "")


def check(c):
  yield from checks.positive_ints(c, "d_model", "d_mlp")
  yield from checks.positive(c, "kappa")
  yield from checks.bools(c, "pos_embed", "causal")
  yield from contraction.check(c)


def build(c, task):
  return Transformer(vocab=task.vocab, num_outputs=task.num_outputs,
                     seq_len=task.x_train.shape[1], d_model=c.d_model, d_mlp=c.d_mlp,
                     kappa=c.kappa, pos_embed=c.pos_embed, causal=c.causal,
                     contraction=c.contraction)


class Transformer(nn.Module):
  vocab: int
  num_outputs: int
  seq_len: int = 2
  d_model: int = 128
  d_mlp: int = 128
  kappa: float = 1.0
  pos_embed: bool = False
  causal: bool = True
  contraction: str = "cheapest"

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
    rows = self.vocab + (self.seq_len if self.pos_embed else 0)
    if self.contraction == "cheapest" and rows <= tokens[..., 0].size:
      return self.logits_from_tables(tokens)
    return self.from_inputs(jax.nn.one_hot(tokens, self.vocab, dtype=self.embed.dtype))

  def logits_from_tables(self, tokens):
    """The logits at the last position, every linear map of the embedded tokens
    composed into a table first and gathered (the "cheapest" order for batches
    wider than the vocabulary). A position's stream is the row of its token in
    ``embed`` plus, with ``pos_embed``, the row of its position, so a linear map
    L of it is the sum of two rows of [embed; pos_embed] @ L."""
    n = tokens.shape[-1]
    table = self.embed
    index = tokens[..., None]                      # [..., n, 1]: rows of each position
    if self.pos_embed:
      table = jnp.concatenate([table, self.pos[:n]])
      index = jnp.concatenate([index, jnp.broadcast_to(
          self.vocab + jnp.arange(n)[:, None], index.shape)], axis=-1)

    def last_rows(t):                              # [..., width]: the last position's row
      return t[index[..., -1, :]].sum(axis=-2)

    def attended(t):                               # [..., width]: rows weighted by attention
      return jnp.einsum("...n,...nw->...w", attn, t[index].sum(axis=-2))

    # scores q . k as a (rows x rows) table of embedded-row pairs, gathered
    qk = chain(table, self.w_q, self.w_k.T, table.T)
    pairs = qk[index[..., -1, :, None, None], index[..., None, :, :]]  # [..., r, n, r]
    scores = pairs.sum(axis=(-3, -1)) / jnp.sqrt(self.d_model)          # [..., n]
    # causal or not, the last position sees every key
    attn = jax.nn.softmax(scores, axis=-1)
    value_out = chain(table, self.w_v, self.w_o)  # h @ w_v @ w_o, per row
    # the last position's stream is last_rows(table) + attended(value_out); every
    # linear map of it is taken through the tables
    through = lambda w: last_rows(chain(table, w)) + attended(chain(value_out, w))
    hidden = nn.relu(through(self.w_in))
    return through(self.unembed) + chain(hidden, self.w_out, self.unembed)
