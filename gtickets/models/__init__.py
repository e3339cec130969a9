"""Models: Flax Linen modules built from ``config.model``.

Every model maps the task's inputs to outputs of size ``task.num_outputs`` and
keeps its weights in a flat ``{'params': {name: array}}`` tree, so masks (pytrees
of the same structure) apply leaf by leaf.
"""
from gtickets.models.mlp import TokenMLP

BUILDERS = {
    "mlp": lambda cfg, task: TokenMLP(
        vocab=task.num_outputs, num_outputs=task.num_outputs,
        d_embed=cfg.d_embed, d_hidden=cfg.d_hidden, kappa=cfg.kappa),
}


def make_model(model_config, task):
  """Builds the model named by ``model_config.name`` for ``task``."""
  return BUILDERS[model_config.name](model_config, task)


__all__ = ["TokenMLP", "make_model", "BUILDERS"]
