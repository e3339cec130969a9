import json
import re
import os

import numpy as np
import pytest

from gtickets import experiments
from gtickets.experiments.critical_ratio import critical_ratio_search
from gtickets.experiment.setup import make_setup
from gtickets.experiment.pipeline import run_dense
from gtickets.training import checkpoints
from conftest import quiet


def oracle(k_true):
  calls = []

  def passes(ks):
    calls.append(list(ks))
    return [k <= k_true + 1e-9 for k in ks]
  return passes, calls


@pytest.mark.parametrize("k_true", [0.81, 0.8, 0.35, 0.09, 0.99, 0.1])
def test_critical_ratio_search_finds_the_oracles_k(k_true):
  passes, calls = oracle(k_true)
  k, history = critical_ratio_search(passes)
  assert k == pytest.approx(k_true)
  assert calls[0] == pytest.approx([0.1 * i for i in range(1, 10)])
  assert len(calls) == 2 and len(history) == 2
  coarse = max([c for c in calls[0] if c <= k_true + 1e-9], default=0.0)
  assert calls[1] == pytest.approx([coarse + 0.01 * i for i in range(1, 10)])


def test_critical_ratio_search_none_and_three_levels():
  passes, _ = oracle(0.0)
  assert critical_ratio_search(passes)[0] is None
  passes, calls = oracle(0.817)
  k, _ = critical_ratio_search(passes, levels=(0.1, 0.01, 0.001))
  assert k == pytest.approx(0.817) and len(calls) == 3


def test_critical_ratio_search_when_passing_is_not_monotone():
  calls = []

  def passes(ks):  # lightly pruned tickets fail as dense does; 0.5 <= k <= 0.83 pass
    calls.append(list(ks))
    return [0.5 - 1e-9 <= k <= 0.83 + 1e-9 for k in ks]
  k, _ = critical_ratio_search(passes, zero_passes=lambda: False)
  assert k == pytest.approx(0.83) and len(calls) == 2
  calls.clear()
  k, history = critical_ratio_search(lambda ks: calls.append(ks) or [False] * len(ks),
                                     zero_passes=lambda: False)
  assert k is None and len(calls) == 1 == len(history)  # no finer grid below 0.1


def test_pruning_time_reuses_the_base_run(tiny_config, tmp_path):
  c = tiny_config
  setup = make_setup(c)
  dense = run_dense(setup.config, quiet(tmp_path))
  mtime = os.path.getmtime(os.path.join(dense.directory, "curves.npz"))
  final_before = checkpoints.restore_params(dense.checkpoint_dir, 60)
  experiments.use(c, "pruning_time")
  c.ticket.variants = ("grokked",)
  c.ticket.mask_steps = (10, 20, 60)
  text, files = experiments.EXPERIMENTS["pruning_time"].run(c, quiet(tmp_path))
  # the base phase was read back, not retrained; only the missing step 10 was added
  assert os.path.getmtime(os.path.join(dense.directory, "curves.npz")) == mtime
  assert checkpoints.StateCheckpoints(dense.checkpoint_dir).steps() == [0, 10, 20, 40, 60]
  final_after = checkpoints.restore_params(dense.checkpoint_dir, 60)
  assert all(np.array_equal(final_before[k], final_after[k]) for k in final_before)
  out = json.loads((tmp_path / "pruning_time.json").read_text())
  assert [e["mask_step"] for e in out["table"]] == [10, 20, 60]
  assert all(e["n_runs"] == 2 for e in out["table"])
  base_acc = json.loads((tmp_path / "pruning_time_base_acc.json").read_text())
  np.testing.assert_allclose(base_acc["20"], dense.curves["test_acc"][:, 2])
  assert (tmp_path / "pruning_time.png").stat().st_size > 5000
  assert "| grokked | 0.60 | 10 " in re.sub(" +", " ", text)  # whatever the cells' padding
