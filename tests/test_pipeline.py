import csv
import json

import jax
import numpy as np
import pytest

from gtickets.experiment.phase import add_checkpoints
from gtickets.experiment.setup import make_setup
from gtickets.experiment.pipeline import (Tickets, run_dense, run_main, run_tickets,
                                          ticket_runs)
from gtickets.training import checkpoints
from gtickets.tickets import masks as masks_lib
from gtickets.training.trainer import init_keys
from conftest import quiet
from gtickets.experiment.store import WorkdirMismatch


def test_rewind_restores_step0_weights_bit_for_bit(tiny_config, tmp_path):
  s = make_setup(tiny_config)
  dense = run_dense(s.config, quiet(tmp_path))
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
  dense, tickets = run_main(c, quiet(tmp_path))
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
  with pytest.raises(WorkdirMismatch):
    run_tickets(c, quiet(tmp_path), dense)
  again = checkpoints.load_tree(str(tmp_path / "tickets" / "masks"))
  assert all(np.array_equal(again[k], saved[k]) for k in saved)


class _Interrupt(Exception):
  pass


def test_resume_after_interruption_matches_uninterrupted(tiny_config, tmp_path, monkeypatch):
  c = tiny_config
  s = make_setup(c)
  full = run_dense(s.config, quiet(tmp_path / "full"))

  s2 = make_setup(c)
  calls = {"n": 0}
  real = s2.trainer.train_chunk

  def flaky(*args):
    calls["n"] += 1
    if calls["n"] == 2:
      raise _Interrupt()
    return real(*args)

  object.__setattr__(s2.trainer, "train_chunk", flaky)
  try:
    with pytest.raises(_Interrupt):
      run_dense(s2.config, quiet(tmp_path / "resumed"))
  finally:
    object.__setattr__(s2.trainer, "train_chunk", real)
  assert not (tmp_path / "resumed" / "dense" / "curves.npz").exists()
  assert checkpoints.StateCheckpoints(
      str(tmp_path / "resumed" / "dense" / "checkpoints")).steps() == [0, 20]
  object.__setattr__(s2.trainer, "train_chunk", real)
  resumed = run_dense(s2.config, quiet(tmp_path / "resumed"))
  for k in full.curves:
    np.testing.assert_array_equal(resumed.curves[k], full.curves[k])
  assert resumed.measures == full.measures

  # a finished phase is read back without training
  object.__setattr__(s2.trainer, "train_chunk", flaky)
  calls["n"] = 1
  try:
    again = run_dense(s2.config, quiet(tmp_path / "resumed"))
  finally:  # the setup is shared by every phase of these settings (make_setup's cache)
    object.__setattr__(s2.trainer, "train_chunk", real)
  np.testing.assert_array_equal(again.curves["test_acc"], full.curves["test_acc"])


def test_workdir_of_another_config_is_refused(tiny_config, tmp_path):
  run_dense(tiny_config, quiet(tmp_path))
  tiny_config.optim.lr = 1e-2
  with pytest.raises(WorkdirMismatch, match="different config"):
    run_dense(tiny_config, quiet(tmp_path))


def test_norm_ratio_by_hand():
  from gtickets.tickets.variants import norm_ratio
  theta = {"a": np.array([3.0, -4.0]), "b": np.array([[1.0, 2.0]])}
  mask = {"a": np.array([True, False]), "b": np.array([[False, True]])}
  # L1: (3 + 2) / (3 + 4 + 1 + 2); L2: sqrt(9 + 4) / sqrt(9 + 16 + 1 + 4)
  np.testing.assert_allclose(norm_ratio(theta, mask, 1), 5 / 10, rtol=1e-6)
  np.testing.assert_allclose(norm_ratio(theta, mask, 2), np.sqrt(13 / 30), rtol=1e-6)
  # an unprunable leaf (a bias) counts in neither norm: L1 (3) / (3 + 4)
  prunable = {"a": True, "b": False}
  np.testing.assert_allclose(norm_ratio(theta, mask, 1, prunable), 3 / 7, rtol=1e-6)


def test_every_variant_starts_as_defined(tiny_config, tmp_path):
  from gtickets.tickets.variants import VARIANTS, norm_ratio
  c = tiny_config
  c.seeds = (0,)
  c.ticket.variants = tuple(VARIANTS)
  c.variants.synflow.rounds = 5
  s = make_setup(c)
  dense = run_dense(s.config, quiet(tmp_path))
  res = run_tickets(s.config, quiet(tmp_path), dense, Tickets("controls", weight_decay=0.0))
  assert [r["variant"] for r in res.runs] == list(VARIANTS)
  masks = checkpoints.load_tree(str(tmp_path / "controls" / "masks"))
  start = checkpoints.restore_params(res.checkpoint_dir, 0)
  theta0 = jax.tree.map(lambda x: x[0], checkpoints.restore_params(dense.checkpoint_dir, 0))
  final = jax.tree.map(lambda x: x[0], checkpoints.restore_params(dense.checkpoint_dir, 60))
  grokked = masks_lib.magnitude_mask(final, 0.6)
  n = masks_lib.count_total(theta0)
  for r in res.runs:
    m = jax.tree.map(lambda x: x[r["run"]], masks)
    w = jax.tree.map(lambda x: x[r["run"]], start)
    kept = int(masks_lib.count_kept(m))
    if r["variant"] in ("dense", "l1_matched", "l2_matched"):
      assert kept == n and r["mask_step"] == (None if r["variant"] == "dense" else 60)
      scale = 1.0 if r["variant"] == "dense" else float(
          norm_ratio(theta0, grokked, 1 if r["variant"] == "l1_matched" else 2))
      assert 0 < scale <= 1
      for k in w:
        np.testing.assert_allclose(w[k], scale * theta0[k], rtol=1e-6)
    else:
      assert n - kept == round(0.6 * n), r["variant"]
  by_variant = {r["variant"]: jax.tree.map(lambda x: x[r["run"]], masks) for r in res.runs}
  assert all(np.array_equal(by_variant["grokked"][k], grokked[k]) for k in grokked)
  assert not all(np.array_equal(by_variant["snip"][k], by_variant["synflow"][k]) for k in grokked)
  # the ticket phase trained without weight decay; the base phase with it
  assert json.load(open(tmp_path / "controls" / "runs.json"))["identity"][
      "optim.weight_decay"] == 0.0
  assert "optim.weight_decay" not in json.load(open(tmp_path / "dense" / "runs.json"))[
      "identity"]  # 1.0, its neutral value


def test_added_base_checkpoints_equal_those_of_a_finer_run(tiny_config, tmp_path):
  s = make_setup(tiny_config)
  dense = run_dense(s.config, quiet(tmp_path / "coarse"))
  assert add_checkpoints(dense, [10, 30, 40, 50]) == [10, 30, 50]
  fine_config = tiny_config.copy_and_resolve_references()
  fine_config.train.ckpt_every = 10
  fine = run_dense(fine_config, quiet(tmp_path / "fine"))
  for step in (10, 30, 50):
    a = checkpoints.restore_params(dense.checkpoint_dir, step)
    b = checkpoints.restore_params(fine.checkpoint_dir, step)
    for k in a:
      np.testing.assert_array_equal(a[k], b[k])
  with pytest.raises(ValueError, match="multiples of eval_every"):
    add_checkpoints(dense, [15])
  # a ticket phase without weight decay still extends the base with the base's own decay
  tiny_config.ticket.mask_steps = (20,)
  tiny_config.ticket.rewind_step = 40
  tiny_config.ticket.variants = ("grokked",)
  coarse = run_dense(s.config, quiet(tmp_path / "coarse2"))  # ckpts 0, 20, 40, 60
  tiny_config.train.ckpt_every = 30  # base checkpoints at 0, 30, 60 only
  tiny_config.train.num_steps = 60
  s3 = make_setup(tiny_config)
  base3 = run_dense(s3.config, quiet(tmp_path / "third"))
  run_tickets(s3.config, quiet(tmp_path / "third"), base3, Tickets(weight_decay=0.0))
  for step in (20, 40):
    a = checkpoints.restore_params(base3.checkpoint_dir, step)
    b = checkpoints.restore_params(coarse.checkpoint_dir, step)
    for k in a:
      np.testing.assert_array_equal(a[k], b[k])


def test_dense_runs_once_per_seed_whatever_the_ks(tiny_config):
  c = tiny_config
  c.ticket.variants = ("grokked", "dense")
  c.ticket.prune_ratios = (0.3, 0.5, 0.7)
  runs = ticket_runs(c)
  dense = [r for r in runs if r["variant"] == "dense"]
  grokked = [r for r in runs if r["variant"] == "grokked"]
  assert [(r["seed"], r["prune_ratio"]) for r in dense] == [(s, 0.0) for s in c.seeds]
  assert sorted({r["prune_ratio"] for r in grokked}) == [0.3, 0.5, 0.7]
  assert len(grokked) == 3 * len(c.seeds) and [r["run"] for r in runs] == list(range(len(runs)))


def test_finished_phase_read_back_with_another_threshold_rewrites_its_summary(tiny_config, tmp_path):
  c = tiny_config
  run_dense(c, quiet(tmp_path))
  path = tmp_path / "dense" / "summary.json"
  before = json.loads(path.read_text())
  c.threshold = 0.01   # every run's accuracy is above 1% at step 0
  again = run_dense(c, quiet(tmp_path))
  after = json.loads(path.read_text())
  assert [r["t_mem"] for r in after] == [0, 0] == [m["t_mem"] for m in again.measures]
  assert [r["t_mem"] for r in before] != [0, 0]
  with open(tmp_path / "dense" / "summary.csv") as f:
    rows = list(csv.DictReader(f))
  assert [r["t_mem"] for r in rows] == ["0", "0"]


def test_seed_driven_split_gives_each_run_the_split_of_its_seed(tiny_config, tmp_path):
  """task.data_seed = -1: two runs, two splits, recorded; each run trains exactly as a
  lone run with its seed as the fixed data seed would (grokked tickets too)."""
  c = tiny_config
  c.task.data_seed = -1
  s = make_setup(c)
  data = s.data_for([{"data_seed": 0}, {"data_seed": 1}])
  assert data["x_train"].shape[0] == 2
  assert not np.array_equal(data["x_train"][0], data["x_train"][1])  # two splits
  with pytest.raises(ValueError, match="one shared split"):
    s.data  # noqa: B018
  dense, tickets = run_main(c, quiet(tmp_path / "both"))
  assert [r["data_seed"] for r in dense.runs] == [0, 1]
  assert [r["data_seed"] for r in tickets.runs] == [0, 1, 0, 1]
  recorded = json.loads((tmp_path / "both" / "dense" / "runs.json").read_text())
  assert [r["data_seed"] for r in recorded["runs"]] == [0, 1]
  for seed in (1,):  # the run whose split differs from the default data seed 0
    lone = c.copy_and_resolve_references()
    lone.seeds, lone.task.data_seed = (seed,), seed
    d1, t1 = run_main(lone, quiet(tmp_path / f"lone{seed}"))
    np.testing.assert_allclose(dense.curves["test_acc"][seed], d1.curves["test_acc"][0],
                               atol=1e-6)
    for variant_index in (0, 1):  # grokked, random
      np.testing.assert_allclose(tickets.curves["test_loss"][2 * variant_index + seed],
                                 t1.curves["test_loss"][variant_index], rtol=1e-5)


def test_pruning_at_init_scores_each_run_on_its_own_split(tiny_config):
  """SNIP with a split per seed: run s's mask is the one a lone run on split s gets."""
  from gtickets.tickets import variants
  def snip_masks(c):
    s = make_setup(c)
    theta = s.trainer.init_params(init_keys(c.seeds))
    return variants.build_starts(ticket_runs(c), lambda step: theta, s, c.variants)[1]
  c = tiny_config
  c.ticket.variants = ("snip",)
  c.task.data_seed = -1
  both = snip_masks(c)
  lone, shared = c.copy_and_resolve_references(), c.copy_and_resolve_references()
  lone.seeds, lone.task.data_seed = (1,), 1
  shared.task.data_seed = 0
  own, on_split0 = snip_masks(lone), snip_masks(shared)
  assert all(np.array_equal(both[k][1], own[k][0]) for k in own)
  assert not all(np.array_equal(both[k][1], on_split0[k][1]) for k in own)
