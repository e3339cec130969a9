"""The task interface shared by every dataset."""
import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Task:
  """Train/test data and how to score predictions on it.

  ``loss(outputs, targets)`` and ``accuracy(outputs, targets)`` are pure jnp
  functions returning scalars; ``accuracy`` is the measure thresholded for
  t_mem / t_gen (a regression task would return a "fraction within tolerance").
  """
  name: str
  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray
  num_outputs: int
  loss: Callable[[jax.Array, jax.Array], jax.Array]
  accuracy: Callable[[jax.Array, jax.Array], jax.Array]
  info: dict = dataclasses.field(default_factory=dict)

  def arrays(self):
    """The data as a dict of device arrays, the form the trainer consumes."""
    return {k: jnp.asarray(getattr(self, k))
            for k in ("x_train", "y_train", "x_test", "y_test")}


def softmax_cross_entropy(logits, labels):
  """Mean cross-entropy over integer labels; log-softmax is computed in float32.

  (The authors' code uses float64 for this; ``jax.nn.log_softmax`` subtracts the
  max first, which is what makes it stable, so float32 is enough here.)
  """
  logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  return -jnp.mean(jnp.take_along_axis(logp, labels[..., None], axis=-1))


def argmax_accuracy(logits, labels):
  return jnp.mean((jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32))
