"""Models: Flax Linen modules built from ``config.model`` for a task.

Every model maps the task's inputs to outputs of size ``task.num_outputs`` and
keeps its weights in a flat ``{'params': {name: array}}`` tree, so masks (pytrees
of the same structure) apply leaf by leaf. Each model module has
``default_config()``, ``NEUTRAL`` (each field's neutral value, for phase ids:
identity.py), ``check(config)``, ``describe(config)``, ``build(config, task)`` and
``INPUT_KIND`` (the kind of task input it reads); a model is its module in this folder
with a ``build`` (found by name). Each model has
``synflow_inputs()`` and ``from_inputs(x)`` (SynFlow's all-ones forward pass)
and ``unpruned``: names of weights that masks leave whole.

  mlp          the paper's MLP on two tokens (embed -> 48 -> unembed)
  transformer  1 layer, 1 head, no LayerNorm (App. B)
  feature_mlp  an MLP on feature vectors (polynomial, parity, MNIST)
"""
import importlib
import pkgutil

from gtickets.models.feature_mlp import FeatureMLP
from gtickets.models.mlp import TokenMLP
from gtickets.models.transformer import Transformer

DEFAULT = "mlp"  # model.name's neutral value (identity.py)
MODULES = {m.name: importlib.import_module(f"{__name__}.{m.name}")
           for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)}
MODULES = {name: m for name, m in MODULES.items() if hasattr(m, "build")}


def default_config(name="mlp"):
  return MODULES[name].default_config()


def neutral(name):
  """{"model.<field>": neutral value} of model ``name`` (its module's NEUTRAL)."""
  return {"model.name": DEFAULT, **{f"model.{k}": v for k, v in MODULES[name].NEUTRAL.items()}}


def describe(model_config):
  """A short label for tables, from the model's own fields (e.g. 'MLP, hidden 48')."""
  return MODULES[model_config.name].describe(model_config)


def make_model(model_config, task):
  """Builds the model named by ``model_config.name`` for ``task``."""
  return MODULES[model_config.name].build(model_config, task)


def prunable(model, params):
  """A tree of Python bools mirroring ``params``: False for the model's unpruned weights."""
  skip = set(model.unpruned)
  return {name: name not in skip for name in params}


__all__ = ["TokenMLP", "Transformer", "FeatureMLP", "make_model", "default_config",
           "prunable", "MODULES"]
