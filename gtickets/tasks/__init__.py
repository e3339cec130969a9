"""Tasks: datasets plus the loss and accuracy that go with them.

A task is a :class:`Task`: train/test arrays and the functions that score a
model's outputs on them. Every task is built by :func:`make_task` from
``config.task``; add a task by adding a builder to ``BUILDERS``.
"""
from gtickets.tasks.base import Task
from gtickets.tasks import modular

BUILDERS = {
    "modular": modular.make_task,
}


def make_task(task_config) -> Task:
  """Builds the task named by ``task_config.name``."""
  return BUILDERS[task_config.name](task_config)


__all__ = ["Task", "make_task", "BUILDERS"]
