"""Every committed phase reads back under today's code: no phase id moves.

Each line of launch/*_jobs.txt is run, as its experiment, on a copy of the results it
committed in docs/results/<workdir> (curves, summaries and run tables, no checkpoints).
Every finished phase there is claimed and read back; one whose run table or settings
the code now derives differently is refused ("holds runs of a different config"), and
the test fails naming it. Training and adding checkpoints are stopped (an analysis that
needs the base's checkpoints ends there, after claiming its phases). Every committed
phase folder must be claimed by some line. Rows trained before two defaults changed
(``model.contraction``, "batch-first order" in the report, and ``train.vmap_runs``) are
read with the setting that trained them, the field's neutral value. Skipped: the
MNIST rows, whose ids predate the data files' digest (the task reads files), and
workdirs no jobs line fills.
"""
import json
import pathlib
import shlex
import shutil

import pytest

from gtickets import experiments, identity, storage
from gtickets.experiment import phase as phase_lib
from gtickets.experiment import pipeline
from gtickets.experiment import store as store_lib
from gtickets.experiments import fourier, graphs, jaccard, progress
from gtickets.experiment.store import WorkdirMismatch

ROOT = pathlib.Path(__file__).parents[1]
RESULTS = ROOT / "docs" / "results"


CHANGED_DEFAULTS = ("model.contraction", "train.vmap_runs")


class _Stop(Exception):
  """An experiment reached training (nothing committed to read back)."""


def _jobs():
  out = []
  for f in ("tasks_jobs.txt", "claims_jobs.txt"):
    for line in (ROOT / "launch" / f).read_text().splitlines():
      if line.strip() and not line.lstrip().startswith("#"):
        name, _, args = line.strip().partition(" ")
        out.append((name, args))
  return out


def _committed_phases(name):
  return {str(p.parent.relative_to(RESULTS / name)) for p in (RESULTS / name).rglob("runs.json")}


def _close(fig):
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  plt.close(fig)


@pytest.fixture
def no_training(monkeypatch):
  claimed = []
  real_claim = store_lib.PhaseStore.claim

  def claim(self, runs, identity):
    out = real_claim(self, runs, identity)
    claimed.append(self.directory)
    return out

  def stop(*a, **k):
    raise _Stop
  monkeypatch.setattr(store_lib.PhaseStore, "claim", claim)
  monkeypatch.setattr(phase_lib, "_train", stop)
  # the figures an experiment redraws from what it read back are not what this checks
  # (drawing them was 25 of the test's 31 s)
  monkeypatch.setattr(storage, "save_figure", lambda fig, path, dpi: _close(fig))
  for module in (phase_lib, pipeline, fourier, jaccard, graphs):
    monkeypatch.setattr(module, "add_checkpoints", stop)
  monkeypatch.setattr(progress, "replay", stop)
  return claimed


def test_every_committed_phase_reads_back_with_its_id(tmp_path, no_training):
  by_workdir = {}
  for name, args in _jobs():
    by_workdir.setdefault(name, []).append(args)
  unclaimed, checked = [], 0
  for name, lines in by_workdir.items():
    if not (RESULTS / name).is_dir() or name.startswith("mnist"):
      continue
    work = tmp_path / name
    shutil.copytree(RESULTS / name, work)
    claimed = set()
    dense = json.loads(next((RESULTS / name).rglob("dense/runs.json")).read_text())["identity"]
    old = [f"--config.{f}={identity.value(dense, f)}" for f in CHANGED_DEFAULTS if f not in dense
           and (f != "model.contraction" or dense.get("model.name", "mlp") != "feature_mlp")]
    for args in lines:
      words = shlex.split(args) + old
      config = experiments.validate(experiments.config_from_args(words, root=str(ROOT)))
      no_training.clear()
      try:
        # read back only: no TensorBoard logs to write for 106 phases
        experiments.EXPERIMENTS[config.experiment].run(
            config, store_lib.Workdir(str(work), progress=False, logs=False))
      except (_Stop, FileNotFoundError):  # training, or checkpoints it needs (not committed)
        pass
      except WorkdirMismatch as e:
        pytest.fail(f"{name} ({args}): {e}")
      claimed |= {str(pathlib.Path(d).relative_to(work)) for d in no_training}
    missing = _committed_phases(name) - claimed
    unclaimed += [f"{name}/{p}" for p in sorted(missing)]
    checked += len(_committed_phases(name) & claimed)
  assert not unclaimed, f"committed phases no jobs line reads back: {unclaimed}"
  assert checked >= 80  # a floor: the phases of every jobs line with committed results
