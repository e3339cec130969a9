"""The paper's experiments, one module each (registered by name: experiment/registry.py).

``config.experiment`` names one; ``launch/main.py`` runs it. A module holds all of its
experiment: the config section with its defaults and checks (if it has settings of
its own), ``run(config, workdir, progress)``, its tables and figures, and the claims
it measures with their verdict rules (experiment/claims.py). Every module of this
package is imported here, so adding an experiment is its module and its config file.

  main            dense vs grokked vs random tickets (paper Fig. 1; C1)
  pruning_time    tickets from many base checkpoints (Fig. 4a; C2)
  pai             random, SNIP, GraSP, SynFlow at the ticket's k (Fig. 5b; C3)
  norm_controls   dense from r_p * theta_0, p = 1, 2 (Figs. 5a, 6; C4)
  prune_ratio     grokked tickets over a grid of k (Fig. 3; C5)
  jaccard         how fast the dense model's magnitude mask moves (Fig. 4b; C6)
  fourier         periodicity of the input weights over training (Fig. 7; C7)
  edge_popup      learning only a mask over memorizing weights (Sec. 5.3, Table 1; C8)
  critical_ratio  largest k that still generalizes without weight decay (Sec. 4; C9)
  graphs          graph measures of grokked and other masks (App. J/K; G1)
  precision       base-phase x ticket-phase cross-entropy precision (P1)
  accelerators    Grokfast / StableMax / perpendicular gradient vs grokked tickets (A1)
  sweep           the product of value lists over config fields
  other_tasks     claims only: the main experiment on other tasks (C10, P2)
"""
import importlib
import pkgutil

from gtickets import config as config_lib
from gtickets.experiment import variants
from gtickets.experiment.registry import EXPERIMENTS, check_sections, config_file, use

for _module in pkgutil.iter_modules(__path__):
  importlib.import_module(f"{__name__}.{_module.name}")


def validate(config):
  """``gtickets.config.validate`` (the shared fields), then what this layer defines:
  the experiment, its section (present, no other experiment's), its own checks and
  the ticket variants (registries: EXPERIMENTS, variants.VARIANTS). Returns the config
  as the experiment trains it (its ``resolve``, e.g. a sweep's seeds from its axes)."""
  config_lib.validate(config)
  if config.experiment not in EXPERIMENTS:
    config_lib.fail("experiment", config.experiment, f"must be one of {tuple(EXPERIMENTS)}")
  check_sections(config)
  own = EXPERIMENTS[config.experiment].section
  config_lib.check_fields(config, (config.experiment,) if own else ())
  if own and set(config[config.experiment].keys()) != set(own().keys()):
    extra = sorted(set(config[config.experiment].keys()) ^ set(own().keys()))[0]
    config_lib.fail(f"{config.experiment}.{extra}", "...", "is not a field of "
                    f"{config.experiment} (a typo?); its fields are {sorted(own().keys())}")
  names, known = config.ticket.variants, tuple(variants.VARIANTS)
  if (not names and config.experiment != "sweep") or len(set(names)) != len(names) or any(
      v not in known for v in names):
    config_lib.fail("ticket.variants", names, f"distinct, each one of {known}"
                    + (" (empty: a sweep of dense runs only)" if config.experiment == "sweep"
                       else ""))
  check = EXPERIMENTS[config.experiment].check
  if check is not None:
    check(config)
  resolve = EXPERIMENTS[config.experiment].resolve
  return resolve(config) if resolve is not None else config


__all__ = ["EXPERIMENTS", "config_file", "use", "validate"]
