"""Tasks: datasets plus the loss and accuracy that go with them.

A task is a :class:`Task`: train/test arrays and the functions that score a
model's outputs on them. Each task module has ``default_config()`` (its
``config.task`` fields), ``check(config)`` (the invalid fields), ``describe(config)``
(a short title) and ``make_task(config)`` (with ``LOSS = "cross_entropy"``:
``make_task(config, cross_entropy_mode)``); a task read from files also has
``source_files(config)``. Add a task by adding its module to ``MODULES``.

  modular     (a op b) mod p for ten operations (tokens)
  polynomial  y = (x . beta)^2 / 2, MSE (features)
  parity      sparse parity of k of n bits (features)
  mnist       MNIST digits from IDX files, MSE on one-hot targets (features)
"""
import os

from gtickets.tasks import mnist, modular, parity, polynomial
from gtickets.tasks.base import Task

MODULES = {"modular": modular, "polynomial": polynomial, "parity": parity, "mnist": mnist}


def default_config(name="modular"):
  return MODULES[name].default_config()


def describe(task_config):
  """A short title for tables and figures, from the task's own fields, e.g. '(a^2 + b^2)
  mod 67' or 'sparse parity (3 of 40)'."""
  return MODULES[task_config.name].describe(task_config)


def files_stamp(task_config):
  """(path, size, mtime) of each file the task reads (none for generated data): a
  task built earlier in this process is built again once its files change."""
  module = MODULES[task_config.name]
  if not hasattr(module, "source_files"):
    return ()
  stats = [(p, os.stat(p)) for p in module.source_files(task_config)]
  return tuple((p, s.st_size, s.st_mtime_ns) for p, s in stats)


def make_task(task_config, cross_entropy_mode="exact") -> Task:
  """Builds the task named by ``task_config.name``.

  ``cross_entropy_mode`` (``cross_entropy.MODES``) applies to the tasks whose
  module has ``LOSS = "cross_entropy"``; the others ignore it.
  """
  module = MODULES[task_config.name]
  if module.LOSS == "cross_entropy":
    return module.make_task(task_config, cross_entropy_mode)
  return module.make_task(task_config)


__all__ = ["Task", "make_task", "default_config", "MODULES"]
