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
  progress        the Fourier circuit's progress measures, dense vs tickets (M1-M3)
  precision       base-phase x ticket-phase cross-entropy precision (P1)
  accelerators    Grokfast / StableMax / perpendicular gradient vs grokked tickets (A1)
  sweep           the product of value lists over config fields
  other_tasks     claims only: the main experiment on other tasks (C10, P2)
"""
import importlib
import importlib.util
import os
import pkgutil

from gtickets import config as config_lib
from gtickets.tickets import variants
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


def config_from_args(args, root=None):
  """The config that launcher arguments name: ``--config=FILE[:ARG]`` and its
  ``--config.FIELD=VALUE`` overrides (other arguments are ignored), parsed by
  ml_collections exactly as on the command line; FILE relative to ``root`` if given.
  Not validated (``validate``). The launcher and the claims report both read commands
  through this one function, so a jobs line and the launch it recorded agree byte for
  byte. Raises ConfigError (one line) naming what is wrong: no --config, a missing
  file, a field the config does not have, a value of the wrong type."""
  from absl import flags  # pylint: disable=import-outside-toplevel
  from ml_collections import ConfigDict, config_flags  # pylint: disable=import-outside-toplevel
  words = []
  for a in args:
    if a.startswith("--config="):
      path = a.split("=", 1)[1]
      file = path.partition(":")[0]
      if root and not os.path.isabs(file):
        path = os.path.join(root, path)
      if not os.path.isfile(path.partition(":")[0]):
        raise config_lib.ConfigError(f"config file {file!r} does not exist")
      a = "--config=" + path
    if a.startswith("--config"):
      words.append(a)
  if not any(w.startswith("--config=") for w in words):
    raise config_lib.ConfigError("--config is required, e.g. --config=configs/modadd.py")
  values = flags.FlagValues()
  holder = config_flags.DEFINE_config_file("config", None, "experiment config file",
                                           flag_values=values, lock_config=True,
                                           sys_argv=["launch"] + words)
  try:
    values(["launch"] + words)
    config = holder.value
  except Exception as e:  # pylint: disable=broad-except  (absl, ml_collections, the file)
    raise config_lib.ConfigError(_first_fault(words, e)) from None
  if not isinstance(config, ConfigDict):
    raise config_lib.ConfigError(
        f"{words[0].split('=', 1)[1].partition(':')[0]}: get_config() must return an "
        "ml_collections.ConfigDict (start from gtickets.config.default_config()), not a "
        f"{type(config).__name__}")
  return config


def _first_fault(words, error):
  """One line for a command that does not resolve: the first override naming no field
  (with the fields allowed there), else the error's last line."""
  if isinstance(error, (AttributeError, KeyError)) or type(error).__module__.startswith("absl"):
    try:
      config_arg = next(w for w in words if w.startswith("--config=")).split("=", 1)[1]
      path, _, arg = config_arg.partition(":")
      spec = importlib.util.spec_from_file_location("_config_file", path)
      module = importlib.util.module_from_spec(spec)
      spec.loader.exec_module(module)
      node_root = module.get_config(arg or None)
      for w in words:
        if not w.startswith("--config."):
          continue
        node, parts = node_root, w[len("--config."):].split("=", 1)[0].split(".")
        for i, part in enumerate(parts):
          if not hasattr(node, "keys") or part not in node:
            where = "config" + "".join("." + p for p in parts[:i])
            allowed = ", ".join(sorted(node.keys())) if hasattr(node, "keys") else "none"
            return f"unknown field config.{'.'.join(parts)}: {where} has fields {allowed}"
          node = node[part]
    except Exception:  # pylint: disable=broad-except  (then the error's own words)
      pass
  lines = [l.strip() for l in str(error).strip().splitlines() if l.strip()]
  return f"{type(error).__name__}: {lines[-1]}" if lines else type(error).__name__


__all__ = ["EXPERIMENTS", "config_file", "config_from_args", "use", "validate"]
