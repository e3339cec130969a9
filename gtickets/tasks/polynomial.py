"""Polynomial regression (after Kumar et al. 2023): y = (x . beta)^2 / 2.

x ~ N(0, I/d), beta ~ N(0, I) drawn once from ``data_seed``; ``num_train``
training and ``num_test`` test inputs. Loss: mean squared error. Score
("accuracy" in the curves): R^2 = 1 - MSE / Var(y) on the split. Var(y) is
(|beta|^2 / d)^2 / 2, about 0.5 (x . beta ~ N(0, |beta|^2 / d)), but 0.16-0.18
for data_seed 0 (|beta|^2 / d ~ 0.58): predicting the mean gives that MSE; grokking is read on the test loss (``configs/polynomial.py``
sets ``threshold_on = "loss"``).
"""
import ml_collections
import numpy as np

from gtickets import checks
from gtickets.tasks.base import Task, r_squared

INPUT_KIND = "features"
SCORE = "R^2"  # what Task.accuracy measures
LOSS = "mse"


def default_config():
  c = ml_collections.ConfigDict()
  c.name = "polynomial"
  c.dim = 40
  c.num_train = 1000
  c.num_test = 2000
  c.data_seed = 0   # draws beta and the inputs (-1: each run its own seed)
  return c


NEUTRAL = {"dim": 40, "num_train": 1000, "num_test": 2000, "data_seed": 0}  # identity.py


def describe(c):
  """A short title: 'polynomial regression (d = 40)'."""
  return f"polynomial regression (d = {c.dim})"


def check(c):
  yield from checks.positive_ints(c, "dim", "num_train", "num_test")


def targets(x, beta):
  """(x . beta)^2 / 2 for each row of x."""
  return 0.5 * np.square(x @ beta)


def scalar_mse(outputs, y):
  return ((outputs[..., 0] - y) ** 2).mean()


def make_task(config) -> Task:
  rng = np.random.default_rng(config.data_seed)
  d = config.dim
  beta = rng.standard_normal(d)
  x = rng.standard_normal((config.num_train + config.num_test, d)) / np.sqrt(d)
  x, y = x.astype(np.float32), targets(x, beta).astype(np.float32)
  n = config.num_train
  return Task(
      name=f"polynomial_d{d}_n{n}", x_train=x[:n], y_train=y[:n], x_test=x[n:],
      y_test=y[n:], num_outputs=1, loss=scalar_mse,
      accuracy=lambda o, t: r_squared(o[..., 0], t), input_kind=INPUT_KIND,
      info={"num_train": n, "num_test": config.num_test, "var_y_test": float(y[n:].var())})
