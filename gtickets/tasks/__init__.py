"""Tasks: datasets plus the loss and accuracy that go with them.

A task is a :class:`Task`: train/test arrays and the functions that score a
model's outputs on them. Each task module has ``default_config()`` (its
``config.task`` fields), ``check(config)`` (the invalid fields), ``describe(config)``
(a short title), ``NEUTRAL`` (each field's neutral value, for phase ids: identity.py)
and ``make_task(config)`` (with ``LOSS = "cross_entropy"``:
``make_task(config, cross_entropy_mode)``); a task read from files also has
``source_files(config)`` and ``LOCATIONS`` (fields naming files: out of phase ids, the
data digest covers them). A task is its module in this folder (found by name).

  modular     (a op b) mod p for ten operations (tokens)
  polynomial  y = (x . beta)^2 / 2, MSE (features)
  parity      sparse parity of k of n bits (features)
  mnist       MNIST digits from IDX files, MSE on one-hot targets (features)
"""
import importlib
import os
import pkgutil

from gtickets.tasks.base import Task

DEFAULT = "modular"  # task.name's neutral value (identity.py)
# every module of this folder with a make_task is a task, named by its module
MODULES = {m.name: importlib.import_module(f"{__name__}.{m.name}")
           for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)}
MODULES = {name: m for name, m in MODULES.items() if hasattr(m, "make_task")}


def default_config(name="modular"):
  return MODULES[name].default_config()


PARTS = ("default_config", "NEUTRAL", "check", "describe", "make_task", "INPUT_KIND", "SCORE",
         "LOSS")  # what a task module has


def register(module):
  """Adds a task module kept outside this folder (those here are found by name); its
  name is its ``default_config().name``. Returns the module."""
  missing = [part for part in PARTS if not hasattr(module, part)]
  if missing:
    raise ValueError(f"task module {module.__name__} has no {', '.join(missing)} "
                     "(gtickets/tasks/__init__.py says what a task module has)")
  MODULES[module.default_config().name] = module
  return module


def neutral(name):
  """{"task.<field>": neutral value} of task ``name`` (its module's NEUTRAL)."""
  return {"task.name": DEFAULT, **{f"task.{k}": v for k, v in MODULES[name].NEUTRAL.items()}}


def locations(name):
  """The task's fields that name files (left out of phase ids: the data digest covers them)."""
  return tuple(f"task.{k}" for k in getattr(MODULES[name], "LOCATIONS", ()))


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
