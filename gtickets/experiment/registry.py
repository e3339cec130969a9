"""Experiments register here, the way ticket variants do (variants.py).

An experiment is one module of ``gtickets/experiments/`` (found by name, nothing
else to edit) with a decorated ``run(config, workdir, progress) -> (text, files)``
and, if it has settings of its own, a config section named after it: ``section()``
gives its defaults and ``check(config)`` its invalid values (``config_lib.fail``).
The section exists only in the configs of that experiment: a config file adds it
with :func:`use`.
"""
import dataclasses
from typing import Callable, Optional

import ml_collections

from gtickets import config as config_lib


@dataclasses.dataclass(frozen=True)
class Experiment:
  name: str
  run: Callable                     # (config, workdir, progress=True) -> (text, files)
  section: Optional[Callable] = None  # () -> ConfigDict: config.<name>'s defaults
  check: Optional[Callable] = None    # (config) -> None; raises ConfigError
  largest_phase: Optional[Callable] = None  # (config) -> runs of its largest phase, where
  #                                           they are not the ticket fields' product
  resolve: Optional[Callable] = None  # (valid config) -> the config as it trains (a copy),
  #                                     e.g. the seeds a sweep's axes name
  config_file: Optional[Callable] = None  # (config) -> the name of its resolved config's
  #                                         file in the workdir (default <name>_config.json)


EXPERIMENTS = {}


def experiment(name, section=None, check=None, largest_phase=None, resolve=None,
               config_file=None):
  """Registers the decorated ``run`` as experiment ``name``."""
  def register(run):
    if name in EXPERIMENTS:
      raise ValueError(f"experiment {name!r} is registered twice")
    EXPERIMENTS[name] = Experiment(name, run, section, check, largest_phase, resolve,
                                   config_file)
    return run
  return register


def config_file(config):
  """The workdir file of a launch's resolved config: one per experiment (a launch never
  overwrites another experiment's)."""
  e = EXPERIMENTS[config.experiment]
  return e.config_file(config) if e.config_file else f"{e.name}_config.json"


def use(config, name):
  """Makes ``config`` a config of experiment ``name``: sets ``config.experiment`` and
  adds the experiment's section with its defaults (config files call this)."""
  if name not in EXPERIMENTS:
    config_lib.fail("experiment", name, f"must be one of {tuple(EXPERIMENTS)}")
  config.experiment = name
  section = EXPERIMENTS[name].section
  if section is not None:
    with config.unlocked():
      config[name] = section()
  return config


def check_sections(config):
  """The config carries the section of its experiment and no other experiment's."""
  for other, e in EXPERIMENTS.items():
    present = isinstance(config.get(other), ml_collections.ConfigDict) and e.section is not None
    if other == config.experiment and e.section is not None and not present:
      config_lib.fail("experiment", other, f"its settings config.{other} are missing: start "
                      f"the config file with gtickets.experiments.use(config, {other!r})")
    if other != config.experiment and present:
      config_lib.fail(other, "...", f"is the section of experiment {other!r}, not of "
                      f"{config.experiment!r}: use that experiment's config file")
