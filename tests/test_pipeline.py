import json
import os

import jax
import numpy as np
import pytest

from gtickets.experiment import phase as phase_lib
from gtickets.experiment.pipeline import (make_setup, run_dense, run_main, run_tickets,
                                          ticket_runs)
from gtickets.tickets import checkpoints, masks as masks_lib
from gtickets.training.trainer import init_keys


def test_rewind_restores_step0_weights_bit_for_bit(tiny_config, tmp_path):
  s = make_setup(tiny_config)
  dense = run_dense(s, str(tmp_path), progress=False)
  theta0 = s.trainer.init_params(init_keys(tiny_config.seeds))
  restored = checkpoints.restore_params(dense.checkpoint_dir, 0)
  for name in theta0:
    assert restored[name].dtype == theta0[name].dtype
    np.testing.assert_array_equal(np.asarray(restored[name]), np.asarray(theta0[name]))
  final = checkpoints.restore_params(dense.checkpoint_dir, tiny_config.train.num_steps)
  assert not np.array_equal(final["w_in"], theta0["w_in"])
  assert sorted(checkpoints.StateCheckpoints(dense.checkpoint_dir).steps()) == [0, 20, 40, 60]
  with pytest.raises(FileNotFoundError, match="no checkpoint at step 30"):
    checkpoints.restore_params(dense.checkpoint_dir, 30)


def test_tickets_use_masks_of_final_weights_and_rewound_init(tiny_config, tmp_path):
  c = tiny_config
  dense, tickets = run_main(c, str(tmp_path), progress=False)
  runs = ticket_runs(c)
  assert [(r["variant"], r["seed"]) for r in runs] == [
      ("grokked", 0), ("grokked", 1), ("random", 0), ("random", 1)]
  saved = checkpoints.load_tree(str(tmp_path / "tickets" / "masks"))
  final = checkpoints.restore_params(dense.checkpoint_dir, c.train.num_steps)
  for r in runs:
    m = jax.tree.map(lambda x: x[r["run"]], saved)
    n = masks_lib.count_total(m)
    assert n - int(masks_lib.count_kept(m)) == round(0.6 * n)
    if r["variant"] == "grokked":
      want = masks_lib.magnitude_mask(jax.tree.map(lambda x: x[r["base_run"]], final), 0.6)
      assert all(np.array_equal(m[k], want[k]) for k in m)
  # ticket step-0 weights = theta_0 * mask
  theta0 = checkpoints.restore_params(dense.checkpoint_dir, 0)
  t0 = checkpoints.restore_params(tickets.checkpoint_dir, 0)
  for r in runs:
    for k in t0:
      np.testing.assert_array_equal(
          t0[k][r["run"]], theta0[k][r["base_run"]] * saved[k][r["run"]])
  assert tickets.curves["test_acc"].shape == (4, 7)
  assert list(tickets.steps) == [0, 10, 20, 30, 40, 50, 60]
  # other ticket settings on the same workdir: refused before any mask is touched
  c.ticket.prune_ratios = (0.5,)
  with pytest.raises(phase_lib.WorkdirMismatch):
    run_tickets(make_setup(c), str(tmp_path), dense, progress=False)
  again = checkpoints.load_tree(str(tmp_path / "tickets" / "masks"))
  assert all(np.array_equal(again[k], saved[k]) for k in saved)


class _Interrupt(Exception):
  pass


def test_resume_after_interruption_matches_uninterrupted(tiny_config, tmp_path, monkeypatch):
  c = tiny_config
  s = make_setup(c)
  full = run_dense(s, str(tmp_path / "full"), progress=False)

  s2 = make_setup(c)
  calls = {"n": 0}
  real = s2.trainer.train_chunk

  def flaky(*args):
    calls["n"] += 1
    if calls["n"] == 2:
      raise _Interrupt()
    return real(*args)

  object.__setattr__(s2.trainer, "train_chunk", flaky)
  with pytest.raises(_Interrupt):
    run_dense(s2, str(tmp_path / "resumed"), progress=False)
  assert not (tmp_path / "resumed" / "dense" / "curves.npz").exists()
  assert checkpoints.StateCheckpoints(
      str(tmp_path / "resumed" / "dense" / "checkpoints")).steps() == [0, 20]
  object.__setattr__(s2.trainer, "train_chunk", real)
  resumed = run_dense(s2, str(tmp_path / "resumed"), progress=False)
  for k in full.curves:
    np.testing.assert_array_equal(resumed.curves[k], full.curves[k])
  assert resumed.measures == full.measures

  # a finished phase is read back without training
  object.__setattr__(s2.trainer, "train_chunk", flaky)
  calls["n"] = 1
  again = run_dense(s2, str(tmp_path / "resumed"), progress=False)
  np.testing.assert_array_equal(again.curves["test_acc"], full.curves["test_acc"])


def test_workdir_of_another_config_is_refused(tiny_config, tmp_path):
  run_dense(make_setup(tiny_config), str(tmp_path), progress=False)
  tiny_config.optim.lr = 1e-2
  with pytest.raises(phase_lib.WorkdirMismatch, match="different config"):
    run_dense(make_setup(tiny_config), str(tmp_path), progress=False)
