"""A tiny end-to-end ticket run (dense base, grokked and random tickets) per task."""
import json

import jax
import numpy as np
import pytest

from configs import mnist as mnist_config
from configs import modular as modular_config
from configs import parity as parity_config
from configs import polynomial as polynomial_config
from gtickets import models
from gtickets.config import validate
from gtickets.experiment.store import WorkdirMismatch
from gtickets.experiment.setup import make_setup
from gtickets.experiment.pipeline import run_dense, run_main
from gtickets.tasks import mnist
from gtickets.training import checkpoints
from conftest import quiet


def _tiny(c, steps=40):
  c.seeds = (0, 1)
  c.ticket.variants = ("grokked",)  # as many runs as the base: one compiled program
  c.train.num_steps, c.train.eval_every, c.train.ckpt_every = steps, 10, 20
  return c


def _mnist(tmp_path):
  rng = np.random.default_rng(0)
  # two easy classes of 8x8 "digits": bright left half or bright right half
  labels = rng.integers(0, 2, 80).astype(np.uint8)
  images = rng.integers(0, 40, (80, 8, 8)).astype(np.uint8)
  for i, y in enumerate(labels):
    images[i, :, 4 * y:4 * y + 4] += 200
  mnist.write_idx(str(tmp_path / "i-idx3-ubyte.gz"), images)
  mnist.write_idx(str(tmp_path / "l-idx1-ubyte.gz"), labels)
  c = mnist_config.get_config("quick")
  c.task.data_dir, c.task.images_file, c.task.labels_file = (
      str(tmp_path), "i-idx3-ubyte.gz", "l-idx1-ubyte.gz")
  c.task.num_train = 40
  c.model.kappa = 1.0
  c.optim.lr = 1e-2
  return c


CASES = {
    "transformer": lambda tmp: _tiny(modular_config.get_config("a2_b2,transformer,quick")),
    "modular_random_mlp": lambda tmp: _tiny(modular_config.get_config("random,quick")),
    "polynomial": lambda tmp: _tiny(polynomial_config.get_config("quick")),
    "parity": lambda tmp: _tiny(parity_config.get_config("quick")),
    "mnist": lambda tmp: _tiny(_mnist(tmp)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ticket_pipeline_runs_on_every_task(case, tmp_path):
  c = validate(CASES[case](tmp_path))
  dense, tickets = run_main(c, quiet(tmp_path / "w"))
  # training moved the training loss down on every dense run
  loss = dense.curves["train_loss"]
  assert loss.shape == (2, 5) and np.all(np.isfinite(loss))
  assert np.all(loss[:, -1] < 0.9 * loss[:, 0]), loss
  # tickets: k = 0.6 of the prunable weights removed, pruned weights still exactly zero
  setup = make_setup(c)
  saved = checkpoints.load_tree(str(tmp_path / "w" / "tickets" / "masks"))
  final = checkpoints.restore_params(tickets.checkpoint_dir, c.train.num_steps)
  prunable = models.prunable(setup.model, jax.tree.map(lambda x: x[0], final))
  n = sum(saved[k][0].size for k in saved if prunable[k])
  for r in tickets.runs:
    removed = sum(int((~saved[k][r["run"]]).sum()) for k in saved if prunable[k])
    assert removed == round(0.6 * n)
    for k in saved:
      assert not np.any(final[k][r["run"]][~saved[k][r["run"]]])
  assert all(m["t_mem"] is None or m["t_mem"] % 10 == 0 for m in tickets.measures)


def test_data_files_are_part_of_a_phase_s_identity(tmp_path):
  """MNIST files replaced between two launches: the phase trained on the old files is
  refused (naming the data digest), not resumed or read back on the new ones."""
  c = _tiny(_mnist(tmp_path))
  run_dense(c, quiet(tmp_path / "w"))
  stored = json.loads((tmp_path / "w" / "dense" / "runs.json").read_text())["identity"]
  assert len(stored["task.data_digest"]) == 16
  labels = mnist.read_idx(str(tmp_path / "l-idx1-ubyte.gz"), mnist.LABELS_MAGIC).copy()
  labels[0] = 1 - labels[0]  # one label changed
  mnist.write_idx(str(tmp_path / "l-idx1-ubyte.gz"), labels)
  with pytest.raises(WorkdirMismatch, match="config.task.data_digest: stored"):
    run_dense(c, quiet(tmp_path / "w"))
