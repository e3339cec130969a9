"""Runs the main experiment: dense base runs, grokked and random tickets.

  python launch/main.py --config=configs/modadd.py [--workdir=DIR] [--config.FIELD=VALUE]

Writes into the workdir: config.json, dense/ and tickets/ (checkpoints, masks,
curves, per-run summaries), summary.json, summary.md and curves.png. Rerunning
the same command on the same workdir skips finished phases and resumes an
interrupted one from its last checkpoint.
"""
import json
import os
import sys

from absl import app, flags
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file(
    "config", "configs/modadd.py", "Experiment config file.", lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Where results go (default: workdirs/<config file name>[_<variant>]).")
_PROGRESS = flags.DEFINE_bool("progress", True, "Show progress bars.")


def default_workdir(config_arg):
  path, _, variant = config_arg.partition(":")
  name = os.path.splitext(os.path.basename(path))[0]
  return os.path.join("workdirs", name + (f"_{variant}" if variant else ""))


def parse_flags(argv):
  """Parses flags; a bad config file or field exits with one line, no traceback."""
  try:
    return flags.FLAGS(argv)
  except (flags.Error, AttributeError, KeyError, ValueError, TypeError) as e:
    msg = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
    sys.exit(f"config error: {msg}")


def main(argv):
  parse_flags(argv)
  # Imported after flag parsing so a config error never waits for JAX to load.
  from gtickets.config import ConfigError, validate
  try:
    config = validate(_CONFIG.value)
  except ConfigError as e:
    sys.exit(f"config error: {e}")

  from gtickets.experiment import report
  from gtickets.experiment.phase import WorkdirMismatch
  from gtickets.experiment.pipeline import run_main

  workdir = os.path.abspath(_WORKDIR.value or default_workdir(flags.FLAGS["config"].serialize().split("=", 1)[1]))
  os.makedirs(workdir, exist_ok=True)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    json.dump(config.to_dict(), f, indent=1)
  print(f"workdir: {workdir}")
  try:
    dense, tickets = run_main(config, workdir, progress=_PROGRESS.value)
  except (WorkdirMismatch, FileNotFoundError) as e:
    sys.exit(f"error: {e}")
  text = report.write_summary(workdir, [dense, tickets], config)
  report.plot_curves(os.path.join(workdir, "curves.png"), [dense, tickets],
                     title=f"{dense.name} vs tickets: {config.task.operation} mod {config.task.p}")
  print(f"threshold {config.threshold}; steps are evaluated every "
        f"{config.train.eval_every}; mean +- std over seeds {list(config.seeds)}")
  print(text)
  print(f"wrote {os.path.join(workdir, 'summary.json')} and curves.png")


if __name__ == "__main__":
  main(sys.argv)
