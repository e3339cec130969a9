"""The task interface shared by every dataset."""
import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gtickets.tasks import cross_entropy


@dataclasses.dataclass(frozen=True)
class Task:
  """Train/test data and how to score predictions on it.

  ``loss(outputs, targets)`` and ``accuracy(outputs, targets)`` are pure jnp
  functions returning scalars. ``accuracy`` is the task's score, higher = better
  (classification: argmax accuracy; regression: R^2); t_mem / t_gen threshold it
  or the loss, as ``config.threshold_on`` says. ``input_kind`` is "tokens"
  (int arrays [n, seq] over ``vocab`` symbols) or "features" (float [n, dim]).
  ``cross_entropy_mode``: for classification tasks, the numerical mode of their
  cross-entropy (``tasks/cross_entropy.py``); "" for tasks with another loss.
  ``data_digest``: a task read from files names their contents (part of a phase's
  identity: other files are other results).
  Trace ``loss`` inside ``loss_context()`` (x64 for mode "float64").
  """
  name: str
  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray
  num_outputs: int
  loss: Callable[[jax.Array, jax.Array], jax.Array]
  accuracy: Callable[[jax.Array, jax.Array], jax.Array]
  input_kind: str = "tokens"
  vocab: int = 0
  info: dict = dataclasses.field(default_factory=dict)
  cross_entropy_mode: str = ""
  data_digest: str = ""  # of the files the data was read from; "" for generated data

  def loss_context(self):
    return cross_entropy.context(self.cross_entropy_mode)

  def arrays(self):
    """The data as a dict of device arrays, the form the trainer consumes."""
    return {k: jnp.asarray(getattr(self, k))
            for k in ("x_train", "y_train", "x_test", "y_test")}


def argmax_accuracy(logits, labels):
  return jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32))


def mean_squared_error(outputs, targets):
  """Mean over examples and output units of (outputs - targets)^2 (torch's MSELoss)."""
  return jnp.mean(jnp.square(outputs.astype(jnp.float32) - targets))


def one_hot_mse(outputs, labels):
  """MSE against one-hot targets of integer labels (Omnigrok's MNIST loss)."""
  return mean_squared_error(outputs, jax.nn.one_hot(labels, outputs.shape[-1]))


def r_squared(outputs, targets):
  """1 - MSE / Var(targets): 1 is perfect, 0 is predicting the mean."""
  outputs = outputs.reshape(targets.shape)
  return 1.0 - jnp.mean(jnp.square(outputs - targets)) / jnp.var(targets)
