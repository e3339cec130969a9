"""Sparse parity (after Barak et al. 2022 / Merrill et al. 2023).

Inputs are ``num_bits`` random bits given as +-1 floats; the label is the parity
(0 or 1) of a fixed subset of ``k`` bits, drawn once from ``data_seed`` (the
subset is in ``Task.info``). ``num_train`` training and ``num_test`` test
examples, all drawn independently (with 2^40 inputs, repeats are negligible).
Classification with cross-entropy over 2 classes.
"""
import ml_collections
import numpy as np

from gtickets import checks
from gtickets.tasks import cross_entropy
from gtickets.tasks.base import Task, argmax_accuracy

INPUT_KIND = "features"
SCORE = "accuracy"  # what Task.accuracy measures
LOSS = "cross_entropy"  # make_task takes the mode (tasks/cross_entropy.py)


def default_config():
  c = ml_collections.ConfigDict()
  c.name = "parity"
  c.num_bits = 40
  c.k = 3
  c.num_train = 1000
  c.num_test = 2000
  c.data_seed = 0   # draws the subset and the examples (-1: each run its seed)
  return c


NEUTRAL = {"num_bits": 40, "k": 3, "num_train": 1000, "num_test": 2000,
           "data_seed": 0}  # identity.py: never change these


def describe(c):
  """A short title: 'sparse parity (3 of 40)'."""
  return f"sparse parity ({c.k} of {c.num_bits})"


def check(c):
  yield from checks.positive_ints(c, "num_bits", "k", "num_train", "num_test")
  if isinstance(c.k, int) and isinstance(c.num_bits, int) and c.k > c.num_bits:
    yield "k", c.k, f"must be <= num_bits={c.num_bits}"


def parity_labels(bits, subset):
  """Parity (0/1) of the given columns of a {0, 1} bit matrix."""
  return (np.asarray(bits)[:, list(subset)].sum(axis=1) % 2).astype(np.int32)


def make_task(config, cross_entropy_mode="exact") -> Task:
  rng = np.random.default_rng(config.data_seed)
  subset = sorted(rng.choice(config.num_bits, size=config.k, replace=False).tolist())
  bits = rng.integers(0, 2, size=(config.num_train + config.num_test, config.num_bits))
  x, y = (2 * bits - 1).astype(np.float32), parity_labels(bits, subset)
  n = config.num_train
  return Task(
      name=f"parity_n{config.num_bits}_k{config.k}", x_train=x[:n], y_train=y[:n],
      x_test=x[n:], y_test=y[n:], num_outputs=2, loss=cross_entropy.loss(cross_entropy_mode),
      cross_entropy_mode=cross_entropy_mode,
      accuracy=argmax_accuracy, input_kind=INPUT_KIND,
      info={"subset": subset, "num_train": n, "num_test": config.num_test})
