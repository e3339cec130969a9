"""Modular arithmetic: predict (a op b) mod p from the two tokens a, b.

Operations (``config.operation``, one entry each in ``OPERATIONS``): a+b, a-b, a*b, a/b (b != 0,
p prime), a^2+b^2, a^2+ab+b^2, a^2+ab+b^2+a, a^3+ab, a^2+ab^2+b, and a random
table of labels drawn once from ``config.table_seed``.

Pair sets (``config.pairs``):
  * ``"unordered"``: pairs with a > b. This gives the paper's 2211 examples for
    p = 67 (the text says a >= b, but 2211 = 67 * 66 / 2 is the count of a > b).
  * ``"unordered_diag"``: a >= b (the authors' code, 2278 examples for p = 67).
  * ``"all"``: all p^2 ordered pairs.
Pairs for which an operation is undefined (b = 0 for division) are dropped.
The split is a permutation drawn from ``data_seed``; the first
round(train_fraction * n) examples train, the rest test.
"""
import dataclasses
from typing import Callable, Optional

import ml_collections
import numpy as np

from gtickets.tasks import cross_entropy
from gtickets.tasks.base import Task, argmax_accuracy

INPUT_KIND = "tokens"  # int pairs [n, 2] with values in 0..p-1
SCORE = "accuracy"  # what Task.accuracy measures
LOSS = "cross_entropy"  # make_task takes the mode (tasks/cross_entropy.py)


def default_config():
  c = ml_collections.ConfigDict()
  c.name = "modular"
  c.p = 67
  c.operation = "add"
  c.pairs = "unordered"   # a > b: the paper's 2211 examples for p = 67
  c.train_fraction = 0.4
  c.data_seed = 0         # fixes the train/test split (-1: each run its own seed)
  c.table_seed = 0        # the labels of operation "random"
  return c


NEUTRAL = {"p": 67, "operation": "add", "pairs": "unordered", "train_fraction": 0.4,
           "data_seed": 0, "table_seed": 0}  # identity.py: never change these


def is_prime(n):
  return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))


MAX_P = 5_000  # 25M pairs: 400 MB of int64 while the split is built


def check(c):
  """(field, value, what is allowed) for each invalid field of a modular task config."""
  if not isinstance(c.p, int) or c.p < 2:
    yield "p", c.p, "must be an integer >= 2"
  elif c.p > MAX_P:
    yield "p", c.p, f"must be <= {MAX_P} (all p^2 pairs are built in memory)"
  if c.operation not in OPERATIONS:
    yield "operation", c.operation, f"must be one of {tuple(OPERATIONS)}"
  if c.operation == "div" and not is_prime(c.p):
    yield "p", c.p, "must be prime for operation 'div'"
  if c.pairs not in PAIR_SETS:
    yield "pairs", c.pairs, f"must be one of {PAIR_SETS}"
  if not 0 < c.train_fraction < 1:
    yield "train_fraction", c.train_fraction, "must be in (0, 1)"
  elif (isinstance(c.p, int) and 2 <= c.p <= MAX_P and c.operation in OPERATIONS
        and c.pairs in PAIR_SETS):
    n = len(make_pairs(c.p, c.pairs, c.operation))
    n_train = int(round(c.train_fraction * n))
    if not 1 <= n_train <= n - 1:
      yield ("train_fraction", c.train_fraction,
             f"leaves {n_train} of the {n} examples for training and {n - n_train} for "
             "testing; both need at least one")


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


@dataclasses.dataclass(frozen=True)
class Operation:
  """A modular operation: how titles write it, its labels, which pairs it is defined on."""
  formula: str        # e.g. "a^2 + b^2"; titles read "(a^2 + b^2) mod p"
  label: Callable     # (int64 arrays a, b, modulus p, table seed) -> labels
  valid: Optional[Callable] = None  # (a, b, p) -> which pairs it is defined on (None: all)


# Adding an operation is one entry here (its config: configs/modular.py:NAME).
OPERATIONS = {
    "add": Operation("a + b", lambda a, b, p, _: (a + b) % p),
    "sub": Operation("a - b", lambda a, b, p, _: (a - b) % p),
    "mul": Operation("a * b", lambda a, b, p, _: (a * b) % p),
    "div": Operation("a / b", lambda a, b, p, _: _mod_div(a, b, p), lambda a, b, p: b != 0),
    "a2_b2": Operation("a^2 + b^2", lambda a, b, p, _: (a * a + b * b) % p),
    "a2_ab_b2": Operation("a^2 + ab + b^2", lambda a, b, p, _: (a * a + a * b + b * b) % p),
    "a2_ab_b2_a": Operation("a^2 + ab + b^2 + a",
                            lambda a, b, p, _: (a * a + a * b + b * b + a) % p),
    "a3_ab": Operation("a^3 + ab", lambda a, b, p, _: (pow_mod(a, 3, p) + a * b) % p),
    "a2_ab2_b": Operation("a^2 + ab^2 + b",
                          lambda a, b, p, _: (a * a + a * pow_mod(b, 2, p) + b) % p),
    "random": Operation("random table", lambda a, b, p, seed: random_table(p, seed)[a, b]),
}


def describe(c):
  """A short title: '(a^2 + b^2) mod 67', 'random table mod 67'."""
  formula = OPERATIONS[c.operation].formula
  return f"{formula if c.operation == 'random' else f'({formula})'} mod {c.p}"


def random_table(p: int, seed: int):
  """A [p, p] table of labels drawn uniformly from {0..p-1} (seeded)."""
  return np.random.default_rng([seed, p]).integers(0, p, size=(p, p))


PAIR_SETS = ("unordered", "unordered_diag", "all")


def make_pairs(p: int, pairs: str, operation: str):
  """All (a, b) pairs of the pair set, as an int32 array of shape [n, 2]."""
  a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
  a, b = a.ravel(), b.ravel()
  keep = {"unordered": a > b, "unordered_diag": a >= b,
          "all": np.ones_like(a, dtype=bool)}[pairs]
  valid = OPERATIONS[operation].valid
  if valid is not None:
    keep &= valid(a, b, p)
  return np.stack([a[keep], b[keep]], axis=1).astype(np.int32)


def labels(x, p: int, operation: str, table_seed: int = 0):
  """(a op b) mod p for each row (a, b) of x (``table_seed``: the random table's)."""
  a, b = x[:, 0].astype(np.int64), x[:, 1].astype(np.int64)
  return OPERATIONS[operation].label(a, b, p, table_seed).astype(np.int32)


def split(n: int, train_fraction: float, data_seed: int):
  """Indices of the train and test examples: a seeded permutation, cut once."""
  perm = np.random.default_rng(data_seed).permutation(n)
  n_train = int(round(train_fraction * n))
  return perm[:n_train], perm[n_train:]


def make_task(config, cross_entropy_mode="exact") -> Task:
  x = make_pairs(config.p, config.pairs, config.operation)
  y = labels(x, config.p, config.operation, config.table_seed)
  tr, te = split(len(x), config.train_fraction, config.data_seed)
  return Task(
      name=f"modular_{config.operation}_p{config.p}", input_kind=INPUT_KIND,
      vocab=config.p,
      x_train=x[tr], y_train=y[tr], x_test=x[te], y_test=y[te],
      num_outputs=config.p,
      loss=cross_entropy.loss(cross_entropy_mode),
      cross_entropy_mode=cross_entropy_mode, accuracy=argmax_accuracy,
      info={"num_examples": len(x), "num_train": len(tr), "num_test": len(te)})
