"""Modular arithmetic: predict (a op b) mod p from the two tokens a, b.

Pair sets (``config.pairs``):
  * ``"unordered"``: pairs with a > b. This gives the paper's 2211 examples for
    p = 67 (the text says a >= b, but 2211 = 67 * 66 / 2 is the count of a > b).
  * ``"unordered_diag"``: a >= b (the authors' code, 2278 examples for p = 67).
  * ``"all"``: all p^2 ordered pairs.
Pairs for which an operation is undefined (b = 0 for division) are dropped.
The split is a permutation drawn from ``data_seed``; the first
round(train_fraction * n) examples train, the rest test.
"""
import numpy as np

from gtickets.tasks.base import Task, argmax_accuracy, softmax_cross_entropy


def _mod_div(a, b, p):
  return (a * pow_mod(b, p - 2, p)) % p  # Fermat inverse, p prime


def pow_mod(x, e, p):
  """Elementwise x**e mod p for integer arrays (square and multiply)."""
  x = np.asarray(x, dtype=np.int64) % p
  result = np.ones_like(x)
  while e:
    if e & 1:
      result = (result * x) % p
    x = (x * x) % p
    e >>= 1
  return result


# name -> (label function of int64 arrays a, b and modulus p, which pairs are valid).
# Adding an operation is one line here.
OPERATIONS = {
    "add": (lambda a, b, p: (a + b) % p, None),
    "sub": (lambda a, b, p: (a - b) % p, None),
    "mul": (lambda a, b, p: (a * b) % p, None),
    "div": (_mod_div, lambda a, b, p: b != 0),
}

PAIR_SETS = ("unordered", "unordered_diag", "all")


def make_pairs(p: int, pairs: str, operation: str):
  """All (a, b) pairs of the pair set, as an int32 array of shape [n, 2]."""
  a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
  a, b = a.ravel(), b.ravel()
  keep = {"unordered": a > b, "unordered_diag": a >= b,
          "all": np.ones_like(a, dtype=bool)}[pairs]
  valid = OPERATIONS[operation][1]
  if valid is not None:
    keep &= valid(a, b, p)
  return np.stack([a[keep], b[keep]], axis=1).astype(np.int32)


def labels(x, p: int, operation: str):
  """(a op b) mod p for each row (a, b) of x."""
  a, b = x[:, 0].astype(np.int64), x[:, 1].astype(np.int64)
  return OPERATIONS[operation][0](a, b, p).astype(np.int32)


def split(n: int, train_fraction: float, data_seed: int):
  """Indices of the train and test examples: a seeded permutation, cut once."""
  perm = np.random.default_rng(data_seed).permutation(n)
  n_train = int(round(train_fraction * n))
  return perm[:n_train], perm[n_train:]


def make_task(config) -> Task:
  x = make_pairs(config.p, config.pairs, config.operation)
  y = labels(x, config.p, config.operation)
  tr, te = split(len(x), config.train_fraction, config.data_seed)
  return Task(
      name=f"modular_{config.operation}_p{config.p}",
      x_train=x[tr], y_train=y[tr], x_test=x[te], y_test=y[te],
      num_outputs=config.p,
      loss=softmax_cross_entropy, accuracy=argmax_accuracy,
      info={"num_examples": len(x), "num_train": len(tr), "num_test": len(te)})
