"""Progress measures of the Fourier circuit of modular addition (Nanda et al. 2023,
arXiv 2301.05217; Gromov 2023 for MLPs), for any model whose logits are over the p
answers c of every pair (a, b) of one modulus p.

The generalizing network computes with a few key frequencies w through
cos(w(a + b - c)). Measured here, all pure functions:

* ``fourier_norms(E)``: for a token embedding E [p, d] (the MLP's effective input
  weights embed @ w_in, the Transformer's W_E, masked), the norm over d of E's Fourier
  coefficients at each frequency w = 1 .. (p - 1) / 2 (the constant term dropped).
* ``key_frequencies(E, n)``: the n frequencies of largest norm; ``key_share(E, freqs)``:
  the share of the total squared norm they hold (1: E is all in them; n / F when flat).
* ``split_logits(L, freqs)``: the full p x p x p logit table L[a, b, c], centred over c,
  split into its projection onto the span of cos(w(a + b - c)), sin(w(a + b - c)) for the
  key frequencies (the *restricted* logits) and the rest (the *excluded* logits). These
  directions are orthogonal over the cube (each s = a + b - c mod p holds p^2 cells), so
  the projection is a sum over them: coefficient <L, phi> / <phi, phi>, with
  <phi, phi> = p^3 / 2.
* ``cross_entropy(L, pairs, answers)``: the mean loss at the answers, in float64.

The restricted logits depend on a + b - c only, and the answer of every pair has
a + b - c = 0: the restricted loss is the same on every pair, train or test (a test
checks it). The excluded loss keeps everything else: what memorization relies on.
"""
import functools

import numpy as np


def fourier_norms(embedding):
  """||DFT_w E||_2 over the embedding's columns, w = 1 .. (p - 1) // 2: [F]."""
  e = np.asarray(embedding, np.float64)
  p = e.shape[0]
  coef = np.fft.rfft(e, axis=0)[1:(p - 1) // 2 + 1]
  return np.sqrt(np.sum(np.abs(coef) ** 2, axis=1))


def key_frequencies(embedding, n):
  """The ``n`` frequencies (1-based) of largest Fourier norm, largest first (ties: the
  lower frequency first)."""
  norms = fourier_norms(embedding)
  return (np.argsort(-norms, kind="stable")[:n] + 1).astype(int)


def key_share(embedding, freqs):
  """The share of the embedding's squared Fourier norm (w >= 1) at ``freqs``."""
  sq = fourier_norms(embedding) ** 2
  total = sq.sum()
  return float(sq[np.asarray(freqs) - 1].sum() / total) if total > 0 else float("nan")


def circuit_directions(p, freqs):
  """cos and sin of 2 pi w s / p for each key frequency w, over s = 0 .. p - 1:
  [2 * len(freqs), p]."""
  s = np.arange(p)
  theta = 2 * np.pi * np.outer(np.asarray(freqs, np.float64), s) / p
  return np.concatenate([np.cos(theta), np.sin(theta)])


def split_logits(logits, freqs):
  """(restricted, excluded) logits of a [p, p, p] table L[a, b, c] (or a stack of them,
  [..., p, p, p]) for the key frequencies ``freqs``; both centred over c, summing to
  L - mean_c L."""
  logits = np.asarray(logits, np.float64)
  p = logits.shape[-1]
  centred = logits - logits.mean(axis=-1, keepdims=True)
  s = _shift_index(p)
  flat = centred.reshape(centred.shape[:-3] + (p ** 3,))
  # M[s]: the sum of the cells with a + b - c = s; <L, phi> = sum_s phi(s) M[s]
  m = np.stack([np.bincount(s, weights=row, minlength=p)
                for row in flat.reshape(-1, p ** 3)]).reshape(flat.shape[:-1] + (p,))
  basis = circuit_directions(p, freqs)
  coef = m @ basis.T / (p ** 3 / 2)            # [..., 2n]
  along_s = coef @ basis                        # [..., p]: the projection as a function of s
  restricted = along_s[..., s].reshape(centred.shape)
  return restricted, centred - restricted


@functools.lru_cache(maxsize=4)
def _shift_index(p):
  """(a + b - c) mod p of every cell of the p x p x p cube, flattened (built once per p)."""
  a, b, c = np.meshgrid(np.arange(p), np.arange(p), np.arange(p), indexing="ij")
  s = ((a + b - c) % p).ravel()
  s.flags.writeable = False
  return s


def cross_entropy(logits, pairs, answers):
  """Mean -log softmax(L[a, b, :])[answer] over ``pairs`` [n, 2] of a [p, p, p] table (or a
  stack [..., p, p, p]), in float64."""
  logits = np.asarray(logits, np.float64)
  rows = logits[..., pairs[:, 0], pairs[:, 1], :]          # [..., n, p]
  top = rows.max(axis=-1, keepdims=True)
  logz = np.log(np.exp(rows - top).sum(axis=-1)) + top[..., 0]
  picked = np.take_along_axis(rows, np.asarray(answers)[:, None].astype(int)
                              .reshape((1,) * (rows.ndim - 2) + (-1, 1)), axis=-1)[..., 0]
  return (logz - picked).mean(axis=-1)


def overlap(a, b):
  """|a & b| / |a|: the share of the frequencies ``a`` that ``b`` also has."""
  a = set(int(x) for x in a)
  return len(a & set(int(x) for x in b)) / len(a) if a else float("nan")
