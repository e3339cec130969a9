"""Checkpoints travel between device layouts (issue 33): a base trained on 2 host devices
gives tickets on 1, and the reverse, with masks and start weights equal bit for bit to
those cut on the base's own layout; the base's files are only read."""
import os
import pathlib
import shutil
import subprocess
import sys

import chex
import numpy as np

from helpers import file_digests
from gtickets import storage
from gtickets.training import checkpoints

ROOT = pathlib.Path(__file__).parents[1]
TINY = ["--config=configs/modadd.py:quick", "--config.seeds=(0,1,2)", "--config.task.p=11",
        "--config.model.d_embed=16", "--config.model.d_hidden=8",
        "--config.train.num_steps=40", "--config.train.eval_every=10",
        "--config.train.ckpt_every=20"]


def launch(workdir, devices):
  # the device count is the launcher's flag: drop the suite's forced XLA count, if any
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  env["XLA_FLAGS"] = "--xla_backend_optimization_level=0"
  return subprocess.Popen([sys.executable, str(ROOT / "launch" / "main.py"), *TINY,
                           f"--workdir={workdir}", "--noprogress", f"--host_devices={devices}"],
                          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def finish(p):
  out, err = p.communicate(timeout=300)
  assert p.returncode == 0, err[-3000:]
  return out + err


def test_tickets_cut_on_another_layout_equal_those_of_the_base_layout(tmp_path):
  pairs = ((2, 1), (1, 2))
  for base, _ in pairs:  # each base with its own tickets, on its own layout (side by side)
    (tmp_path / f"base{base}").mkdir()
  for p in [launch(tmp_path / f"base{base}", base) for base, _ in pairs]:
    finish(p)
  runs = []
  for base, other in pairs:
    cut = tmp_path / f"cut{base}to{other}"
    shutil.copytree(tmp_path / f"base{base}", cut)
    shutil.rmtree(cut / "tickets")
    runs.append((base, other, cut, file_digests(cut / "dense"), launch(cut, other)))
  for base, other, cut, dense_before, p in runs:
    log = finish(p)
    assert "unreadable" not in log and "delete" not in log, log
    for tree in ("masks", "start_params"):
      chex.assert_trees_all_equal(
          checkpoints.load_tree(str(tmp_path / f"base{base}" / "tickets" / tree)),
          checkpoints.load_tree(str(cut / "tickets" / tree)))
    # the new phase records its own layout; the base is only read
    assert storage.read_json(str(cut / "tickets" / "layout.json"))["devices"] == other
    assert storage.read_json(str(cut / "dense" / "layout.json"))["devices"] == base
    assert file_digests(cut / "dense") == dense_before
  # and in a plain Python session (one device here), theta_0 of either base reads back:
  # the same initial weights, whatever layout trained them
  chex.assert_trees_all_equal(
      checkpoints.restore_params(str(tmp_path / "base2" / "dense" / "checkpoints"), 0),
      checkpoints.restore_params(str(tmp_path / "base1" / "dense" / "checkpoints"), 0))
  meta = checkpoints.StateCheckpoints(str(tmp_path / "base2" / "dense" / "checkpoints"))
  assert checkpoints.saved_device_count(meta.metadata(40)) == 2
  assert np.asarray(checkpoints.restore_params(
      str(tmp_path / "base2" / "dense" / "checkpoints"), 40)["embed"]).shape[0] == 3
