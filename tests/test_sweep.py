"""Sweeps: grid expansion, per-run optimizer settings, agreement with the plain
pipeline, one-line config errors."""
import os

import jax
import numpy as np
import pytest

from gtickets.config import ConfigError
from gtickets import experiments
from gtickets.experiments import sweep
from gtickets.experiment.pipeline import run_main
from gtickets.experiment.store import Workdir
from gtickets.training import checkpoints
from conftest import quiet
from helpers import assert_every_phase_logged


def _sweep_config(c, axes):
  c = experiments.use(c, "sweep")
  c.sweep.axes = axes
  return c


def test_grid_expansion_groups_and_runs(tiny_config):
  c = _sweep_config(tiny_config, (("seed", (0, 1, 2)), ("optim.lr", (1e-3, 3e-3)),
                                  ("model.d_hidden", (8, 12)),
                                  ("ticket.prune_ratio", (0.5, 0.7))))
  c.ticket.variants = ("grokked", "random")
  experiments.validate(c)
  gs = sweep.groups(c)
  assert [v for v, _ in gs] == [{"model.d_hidden": 8}, {"model.d_hidden": 12}]
  assert [g.model.d_hidden for _, g in gs] == [8, 12]
  dense = sweep.dense_runs(gs[0][1])
  assert len(dense) == 3 * 2
  assert [(r["lr"], r["seed"]) for r in dense[:4]] == [(1e-3, 0), (1e-3, 1), (1e-3, 2), (3e-3, 0)]
  tickets = sweep.ticket_runs(gs[0][1], dense)
  assert len(tickets) == 2 * 2 * 6
  assert {(t["prune_ratio"], t["variant"]) for t in tickets} == {
      (k, v) for k in (0.5, 0.7) for v in ("grokked", "random")}
  assert all(t["lr"] == dense[t["base_run"]]["lr"] for t in tickets)
  w = Workdir("/w")
  assert sweep.group_directory(w, {}) is w
  a, b = (sweep.group_directory(w, v).path for v, _ in gs[:2])
  assert a != b and os.path.dirname(a) == "/w"


@pytest.mark.parametrize("axes, word", [
    ((), "sweep.axes"),
    ((("optim.lrr", (1e-3,)),), "not a config field"),
    ((("optim", (1,)),), "group of fields"),
    ((("optim.lr", (-1.0,)),), "optim.lr"),
    ((("optim.lr", ()),), "non-empty"),
    ((("ticket.prune_ratio", (1.5,)),), "prune_ratio"),
    ((("seed", (0, 0)),), "distinct"),
])
def test_bad_axes_are_one_line_errors(tiny_config, axes, word):
  with pytest.raises(ConfigError, match=word) as e:
    experiments.validate(_sweep_config(tiny_config, axes))
  assert "\n" not in str(e.value)


def test_sweep_points_equal_plain_runs_and_lr_is_per_run(tiny_config, tmp_path):
  """Each (lr, seed) point of a one-program sweep trains exactly as a plain run of
  that lr; tickets too. Two lrs in one batch give different curves."""
  c = _sweep_config(tiny_config, (("optim.lr", (3e-3, 1e-2)), ("optim.weight_decay", (1.0,))))
  c.ticket.variants = ("grokked",)
  experiments.validate(c)
  dense, tickets = sweep.run_group(c, quiet(tmp_path / "sweep"))
  for i, lr in enumerate((3e-3, 1e-2)):
    plain = c.copy_and_resolve_references()
    plain.experiment, plain.optim.lr = "main", lr
    d, t = run_main(plain, quiet(tmp_path / f"plain{i}"))
    rows = slice(2 * i, 2 * i + 2)  # seeds (0, 1) of this lr
    np.testing.assert_allclose(dense.curves["test_loss"][rows], d.curves["test_loss"],
                               rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(tickets.curves["test_loss"][rows], t.curves["test_loss"][:2],
                               rtol=2e-5, atol=1e-6)
  assert not np.allclose(dense.curves["train_loss"][0], dense.curves["train_loss"][2])


def test_sweep_experiment_writes_table(tiny_config, tmp_path):
  c = _sweep_config(tiny_config, (("seed", (0, 1)), ("task.train_fraction", (0.5, 0.6))))
  c.ticket.variants = ()
  experiments.validate(c)
  text, files = sweep.run(c, quiet(tmp_path))
  rows = __import__("json").load(open(tmp_path / "sweep.json"))["rows"]
  assert len(rows) == 4 and {r["task.train_fraction"] for r in rows} == {0.5, 0.6}
  assert sorted(files) == sorted(["sweep.md", "sweep.csv", "sweep.json", "sweep.png"])
  assert (tmp_path / "sweep.png").stat().st_size > 1000
  assert len(__import__("re").findall(r"\| dense +\|", text)) == 2
  # read back, not retrained: the same table; every group's phase wrote its logs
  assert sweep.run(c, quiet(tmp_path))[0] == text
  assert len(assert_every_phase_logged(tmp_path)) == 2


def test_operations_train_as_one_program_and_equal_plain_runs(tiny_config, tmp_path):
  """A sweep over modular operations trains every (operation, seed) as one batch, each
  run on its own labels: the runs train, bit for bit, as a plain launch of their
  operation (no lr or weight decay axis: the optimizer is the config's, as in a plain
  run), tickets too: the same weights, the same accuracies (the evaluated losses may
  differ in the last bit at other shapes, their sums ordered otherwise: seen on the
  paper's MLP); and the operations' curves differ."""
  c = _sweep_config(tiny_config, (("task.operation", ("mul", "add")), ("seed", (0, 1))))
  c.ticket.variants = ("grokked",)
  experiments.validate(c)
  assert len(sweep.groups(c)) == 1
  dense, tickets = sweep.run_group(c, quiet(tmp_path / "sweep"))
  assert [(r["operation"], r["seed"]) for r in dense.runs] == [
      ("mul", 0), ("mul", 1), ("add", 0), ("add", 1)]
  assert [r["operation"] for r in tickets.runs] == ["mul", "mul", "add", "add"]
  assert dense.spec.setup.trainer.per_run_data and not dense.spec.per_run_optim
  for i, op in enumerate(("mul", "add")):
    plain = c.copy_and_resolve_references()
    plain.experiment, plain.task.operation = "main", op
    d, t = run_main(plain, quiet(tmp_path / op))
    rows = slice(2 * i, 2 * i + 2)
    for batched, plain_phase in ((dense, d), (tickets, t)):
      for key in ("train_acc", "test_acc"):
        np.testing.assert_array_equal(batched.curves[key][rows], plain_phase.curves[key])
      for key in ("train_loss", "test_loss", "l2"):
        np.testing.assert_allclose(batched.curves[key][rows], plain_phase.curves[key],
                                   rtol=1e-6)
      last = int(plain_phase.steps[-1])
      mine, theirs = (checkpoints.restore_params(p.checkpoint_dir, last)
                      for p in (batched, plain_phase))
      for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(theirs)):
        np.testing.assert_array_equal(np.asarray(a)[rows], np.asarray(b))
  assert not np.allclose(dense.curves["train_loss"][0], dense.curves["train_loss"][2])
  # C10 reads one row per operation from the sweep's workdir, each with its own runs
  from gtickets.commands.claims_report import Root
  from gtickets.experiments import other_tasks
  root = Root(str(tmp_path), [("sweep", "--config=X"), ("add", "--config=Y")])
  finding = other_tasks.other_tasks(root, str(tmp_path))
  rows = [l for l in finding.details.splitlines() if l.startswith("| (a")]
  assert [r.split(" | ")[0] for r in rows] == ["| (a * b) mod 11", "| (a + b) mod 11",
                                               "| (a + b) mod 11"]
  assert rows[1].split(" | ")[5:8] == rows[2].split(" | ")[5:8]  # the same runs, the same cells
  assert rows[0].split(" | ")[5] != rows[1].split(" | ")[5]


def test_operations_with_other_pair_counts_are_refused(tiny_config):
  c = _sweep_config(tiny_config, (("task.operation", ("add", "div")),))
  with pytest.raises(ConfigError, match="same number of pairs") as e:
    experiments.validate(c)
  assert "\n" not in str(e.value) and "'div': 110" in str(e.value)
