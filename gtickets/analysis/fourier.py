"""Fourier analysis of the MLP's effective input weights (paper Fig. 7).

W = embed @ w_in (p tokens x d_hidden neurons; each factor masked where a mask
applies) maps a token to the hidden pre-activations. For each neuron the
spectrum is |DFT| of its column over the p tokens at frequencies 1 .. (p - 1) / 2
(the DC term dropped; for real W the other half mirrors these). Normalized to a
distribution over frequencies, its Shannon entropy (nats) is low when the
neuron is periodic in the token (one frequency: 0) and log((p - 1) / 2) when the
spectrum is flat. The network's entropy is the mean over live neurons (columns
of W that are not all zero). ``authors_entropy`` is what the authors' code
computes instead, the cross-entropy of softmax(P) against P; it is not an
entropy and is given for comparison only.
"""
import jax.numpy as jnp


def effective_input_weights(params, mask=None):
  """W = (embed * m) @ (w_in * m): [vocab, d_hidden]."""
  embed, w_in = params["embed"], params["w_in"]
  if mask is not None:
    embed, w_in = embed * mask["embed"], w_in * mask["w_in"]
  return embed @ w_in


def spectrum(w):
  """|DFT| over the token axis at frequencies 1 .. (p - 1) // 2: [F, neurons]."""
  p = w.shape[0]
  return jnp.abs(jnp.fft.rfft(w, axis=0))[1:(p - 1) // 2 + 1]


def _distribution(w):
  s = spectrum(w)
  total = jnp.sum(s, axis=0)
  live = jnp.any(w != 0, axis=0) & (total > 0)
  return s / jnp.where(live, total, 1.0), live


def neuron_entropies(w):
  """(Shannon entropy of each neuron's normalized spectrum, which neurons are live)."""
  prob, live = _distribution(w)
  ent = -jnp.sum(jnp.where(prob > 0, prob * jnp.log(jnp.where(prob > 0, prob, 1.0)), 0.0),
                 axis=0)
  return ent, live


def fourier_entropy(w):
  """Mean spectral entropy over the live neurons of W (nan if none is live)."""
  ent, live = neuron_entropies(w)
  return jnp.sum(jnp.where(live, ent, 0.0)) / jnp.sum(live)


def authors_entropy(w):
  """The authors' measure: mean over live neurons of -sum_f P_f log softmax(P)_f."""
  prob, live = _distribution(w)
  ce = -jnp.sum(prob * (prob - jnp.log(jnp.sum(jnp.exp(prob), axis=0))), axis=0)
  return jnp.sum(jnp.where(live, ce, 0.0)) / jnp.sum(live)
