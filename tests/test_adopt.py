"""launch/adopt_workdir.py: a workdir of the format before issue 11 is reused."""
import json
import os
import pathlib
import subprocess
import sys

import numpy as np

from gtickets import storage
from gtickets.training.trainer import METRICS

ROOT = pathlib.Path(__file__).parents[1]
TINY = ["--config=configs/modadd.py:quick", "--config.seeds=(0,1)", "--config.task.p=11",
        "--config.model.d_embed=16", "--config.model.d_hidden=8",
        "--config.train.num_steps=40", "--config.train.eval_every=10",
        "--config.train.ckpt_every=20"]


def run(script, *args, workdir):
  return subprocess.run([sys.executable, str(ROOT / "launch" / script), *TINY, *args,
                         f"--workdir={workdir}", "--noprogress"], capture_output=True,
                        text=True, cwd=ROOT, timeout=300)


def make_legacy(workdir):
  """Turns a workdir into the old format: no phase ids, no digests, old runs.json."""
  for phase in ("dense", "tickets"):
    d = workdir / phase
    runs = json.loads((d / "runs.json").read_text())
    runs["runs"] = [{k: v for k, v in r.items() if k != "base_diverged"} for r in runs["runs"]]
    runs["config"] = {k: v for k, v in runs["config"].items()
                      if k not in ("matmul_precision", "ticket")}
    (d / "runs.json").write_text(json.dumps(runs))
    for f in [d / "curves.npz", *(d / "metrics").glob("*.npz")]:
      z = storage.load_npz(str(f), ("steps",) + METRICS)
      np.savez(f, **z)
    (d / "checkpoints" / "digests.json").unlink()
    for tree in ("masks", "start_params"):
      if (d / f"{tree}.digest").exists():
        (d / f"{tree}.digest").unlink()


def test_adopted_legacy_workdir_reads_back_and_extends(tmp_path):
  w = tmp_path / "w"
  assert run("main.py", workdir=w).returncode == 0
  table = json.loads((w / "summary.json").read_text())["table"]
  make_legacy(w)
  refused = run("main.py", workdir=w)
  assert refused.returncode != 0 and "different config" in refused.stderr
  other = run("adopt_workdir.py", "--config.optim.lr=0.1", workdir=w)
  assert other.stdout.count("left as it is") == 2
  out = run("adopt_workdir.py", workdir=w).stdout
  assert out.count("adopted (") == 2, out
  again = run("main.py", workdir=w)
  assert again.returncode == 0, again.stderr
  assert json.loads((w / "summary.json").read_text())["table"] == table
  # the adopted base serves a new ticket phase (it reads and extends the checkpoints)
  pai = run("main.py", "--config.experiment=pai", "--config.ticket.phase=pai",
            "--config.ticket.variants=('grokked','snip')", "--config.ticket.mask_steps=(10,)",
            workdir=w)
  assert pai.returncode == 0, pai.stderr
  assert "already adopted" in run("adopt_workdir.py", workdir=w).stdout
