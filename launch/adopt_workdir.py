"""Adopts a workdir written before verified storage (issue 11) so the launcher reuses it.

  python launch/adopt_workdir.py --config=configs/modadd.py [--config.FIELD=VALUE] --workdir=DIR

Workdirs of older versions lack what every read now checks: the complete phase
identity in ``runs.json`` (``matmul_precision``, every ``ticket`` field,
``base_diverged`` per ticket run), the phase id in each metrics file and the
checkpoints' digests. For the dense phase and the config's ticket phase, this
checks that the old ``runs.json`` records exactly the runs and settings the
config gives (the fields it lacks must be ones the old version did not record),
then writes the new ``runs.json``, the phase id into the metrics files and the
digests of the checkpoints and masks as they are now (trusted once, verified
from then on). A phase that does not match is left as it is, with one line
saying why. Run it with the launch command's own flags.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import main as launcher  # noqa: E402  (launch/main.py: the same flags)

from gtickets import storage  # noqa: E402
from gtickets.experiment import phase as phase_lib  # noqa: E402
from gtickets.experiment import pipeline  # noqa: E402
from gtickets.tickets import checkpoints  # noqa: E402
from gtickets.training.trainer import METRICS  # noqa: E402

NEW_RUN_FIELDS = ("base_diverged",)
NEW_CONFIG_FIELDS = ("matmul_precision", "ticket")


def _without(d, keys):
  return {k: v for k, v in d.items() if k not in keys}


def adopt_phase(directory, runs, identity):
  """Adopts one phase folder; returns a line saying what was done."""
  path = os.path.join(directory, "runs.json")
  if not os.path.exists(path):
    return f"{directory}: no runs.json, nothing to adopt"
  old = storage.read_json(path)
  manifest, phase_id = phase_lib.phase_manifest(runs, identity)
  if old == manifest:
    return f"{directory}: already adopted"
  legacy = {"runs": [_without(r, NEW_RUN_FIELDS) for r in manifest["runs"]],
            "config": _without(manifest["config"], NEW_CONFIG_FIELDS)}
  if old != legacy:
    return (f"{directory}: left as it is: its runs.json records other runs or settings "
            "than this config gives")
  files = [os.path.join(directory, "curves.npz")] + [
      os.path.join(directory, "metrics", f)
      for f in sorted(os.listdir(os.path.join(directory, "metrics"))) if f.endswith(".npz")]
  for f in files:
    if os.path.exists(f):
      z = storage.load_npz(f, ("steps",) + METRICS)
      storage.save_npz(f, phase_id=np.array(phase_id), **z)
  ckpts = checkpoints.StateCheckpoints(os.path.join(directory, "checkpoints"))
  steps = sorted(ckpts._manager.all_steps())
  digests = {str(s): storage.digest(ckpts.path(s)) for s in steps}
  storage.write_json(ckpts.digests_path, {**digests, "phase_id": phase_id})
  ckpts.close()
  for tree in ("masks", "start_params"):
    folder = os.path.join(directory, tree)
    if os.path.isdir(folder):
      with open(folder + ".digest", "w") as f:
        f.write(storage.digest(folder))
  storage.write_json(path, manifest)
  return (f"{directory}: adopted ({len(files)} metrics files, checkpoints at "
          f"{', '.join(map(str, steps))})")


def adopt(config, workdir):
  """Adopts the dense phase and the config's ticket phase of ``workdir``."""
  lines = [adopt_phase(os.path.join(workdir, "dense"), pipeline.dense_runs(config),
                       pipeline._training_config(config))]
  tickets = os.path.join(workdir, config.ticket.phase)
  if os.path.isdir(tickets):
    try:
      dense = storage.load_npz(os.path.join(workdir, "dense", "curves.npz"),
                               ("steps", "train_loss"))
    except FileNotFoundError:
      return lines + [f"{tickets}: left as it is: the dense phase is not finished"]
    base = phase_lib.PhaseResult("dense", "", pipeline.dense_runs(config), dense["steps"],
                                 {"train_loss": dense["train_loss"]}, [])
    c = pipeline.ticket_config(config)
    lines.append(adopt_phase(tickets, pipeline.ticket_phase_runs(c, base),
                             pipeline.ticket_identity(c)))
  return lines


def main(argv):
  config = launcher.load_config(argv)
  from gtickets.config import ConfigError
  from gtickets.experiment import experiments
  try:
    config = experiments.validate(config)
  except ConfigError as e:
    sys.exit(f"config error: {e}")
  if config.experiment in ("critical_ratio", "precision"):
    sys.exit(f"error: experiment {config.experiment!r} has several ticket phases; "
             "adopt supports the others")
  workdir = os.path.abspath(launcher._WORKDIR.value or os.path.join("workdirs", config.name))
  if not os.path.isdir(workdir):
    sys.exit(f"error: no workdir {workdir}")
  lock = launcher.lock_workdir(workdir)
  for line in adopt(config, workdir):
    print(line)
  lock.close()


if __name__ == "__main__":
  main(sys.argv)
