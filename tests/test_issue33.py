"""Issue 33's rough edges, each on hand-made values or a tiny workdir: bounds shown as
bounds, the base's score at the mask step, a deleted theta_0, an unknown layout, signals
that wait for a write, the memory of a traced program, the report's manifest and merged
launch records."""
import json
import os
import pathlib
import signal
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import pytest

from helpers import file_digests
from gtickets import signals, storage
from gtickets.experiment import claims
from gtickets.experiment.phase import add_checkpoints
from gtickets.experiment.setup import make_setup
from gtickets.experiment.pipeline import run_dense, run_main
from gtickets.experiments import accelerators, sweep
from gtickets.training import checkpoints
from gtickets.training import memory
from conftest import quiet
from gtickets.experiment.store import WorkdirMismatch

ROOT = pathlib.Path(__file__).parents[1]
from gtickets.commands import claims_report, committed, jobs as jobs_lib  # noqa: E402


# ------------------------------------------------------------------ bounds (item 2)

@pytest.mark.parametrize("pairs,want", [
    ([(1, "="), (2, "="), (3, "=")], (2, "=")),
    # one run never reached: the largest is a lower bound, the middle stays exact
    ([(1, "="), (2, "="), (3, ">=")], (2, "=")),
    # two of four: the middle pair holds a bound, so the median is one too
    ([(8_300, "="), (10_000, ">="), (1_000, "="), (10_000, ">=")], (9_150, ">=")),
    ([(8_300, "="), (10_000, ">=")], (9_150, ">=")),
    ([(0.1, "<="), (0.5, "=")], (0.3, "<=")),
    ([(0.1, "<="), (5.0, ">=")], (2.55, "~")),
    ([(1.0, "~"), (2.0, "="), (3.0, "=")], (2.0, ">=")),
])
def test_a_median_that_bounds_reach_is_a_bound(pairs, want):
  med, bound = claims.median_bound(pairs)
  assert (round(med, 6), bound) == want


def test_every_table_of_medians_marks_its_bounds():
  # the sweep's table: two seeds, one never reached (the "median t_gen 9,150")
  rows = [{"optim.lr": 1e-3, "seed": s, "variant": "dense", "t_gen": t}
          for s, t in ((0, 8_300), (1, None))]
  rows += [{"optim.lr": 3e-3, "seed": s, "variant": "dense", "t_gen": t}
           for s, t in ((0, 500), (1, 700))]
  points = sweep.point_rows({"seed": (0, 1), "optim.lr": (1e-3, 3e-3)}, rows, 10_000)
  assert [p["median t_gen"] for p in points] == [">=9,150", "600"]
  # the accelerators' table: t_gen medians and speed-up medians
  payload = {"budget": 10_000, "rows": [{"label": "dense", "t_gen": [8_300, None, 1_000]},
                                        {"label": "x", "t_gen": [100, 100, None]},
                                        {"label": "y", "t_gen": [None, 50, 2_000]}]}
  dense, x, y = accelerators.table_rows(payload)
  # dense: 1,000, 8,300 and >=10,000: the bound is not the middle one
  assert dense["median t_gen"] == "8,300" and dense["median speed-up"] == "1.0x"
  # x over dense: 83, >=100, <=0.1: 83 whatever the bounds hide
  assert x["median t_gen"] == "100" and x["median speed-up"] == "83.0x"
  # y over dense: <=0.83, >=200, 0.5: at most 0.83
  assert y["median t_gen"] == "2,000" and y["median speed-up"] == "<=0.8x"
  payload["rows"][1]["t_gen"] = [100, 100, 100]
  payload["rows"][0]["t_gen"] = [8_300, None, None]
  assert accelerators.table_rows(payload)[0]["median t_gen"] == ">=10,000"
  # the claims' speed-ups
  _, text = claims.summarize([claims.Speedup(20), claims.Speedup(10, ">="), claims.Speedup(1)])
  assert text.startswith("median >=10x")


def test_a_mean_of_only_the_runs_that_reached_it_is_drawn_open(tmp_path):
  from gtickets.experiment import report
  table = [{"prune_ratio": k, "n_runs": 3, "t_gen": {"mean": 100.0, "std": 0.0, "n": n}}
           for k, n in ((0.5, 2), (0.6, 3), (0.9, 0))]
  series = report.measure_series(table, [0.5, 0.6, 0.9], lambda e: e["prune_ratio"], ["t_gen"])
  assert series["t_gen"][2] == [True, False, False]
  report.plot_measures_against(str(tmp_path / "f.png"), [0.5, 0.6, 0.9], series, "k")
  assert (tmp_path / "f.png").stat().st_size > 0


# ---------------------------------------------------- the base at the mask step (item 4)

def test_tickets_record_and_flag_their_base_at_the_mask_step(tiny_config, tmp_path, capsys):
  tiny_config.ticket.mask_steps = (10, -1)
  dense, tickets = run_main(tiny_config, quiet(tmp_path))
  out = capsys.readouterr()
  rows = json.loads((tmp_path / "tickets" / "summary.json").read_text())
  index = list(dense.steps)
  for r in rows:
    if r["variant"] == "grokked":
      acc = float(dense.curves["test_acc"][r["base_run"], index.index(r["mask_step"])])
      assert r["base_test_acc"] == pytest.approx(acc)
      assert r["base_generalized"] == (acc >= tiny_config.threshold)
    else:
      assert r["base_test_acc"] is None and r["base_generalized"] is None
  below = sum(r["base_generalized"] is False for r in rows)
  assert below > 0  # a 60-step base never generalizes: every grokked ticket is flagged
  assert (out.out + out.err).count("take their mask from a base run below the threshold") == 1
  from gtickets.experiment import report
  text = report.format_table(report.summary_table([dense, tickets]))
  assert "base test acc at mask" in text and "below threshold: not grokked" in text


# ---------------------------------------------------- theta_0 deleted, layout unknown (items 1, 5)

def test_a_deleted_theta0_is_rebuilt_exactly(tiny_config, tmp_path):
  s = make_setup(tiny_config)
  dense = run_dense(s.config, quiet(tmp_path))
  want = checkpoints.restore_params(dense.checkpoint_dir, 0)
  ck = checkpoints.StateCheckpoints(dense.checkpoint_dir)
  import shutil
  shutil.rmtree(ck.path(0))  # as the launcher advises for a corrupt one
  ck.close()
  assert add_checkpoints(dense, [0]) == [0]
  chex.assert_trees_all_equal(checkpoints.restore_params(dense.checkpoint_dir, 0), want)


def test_a_phase_of_unknown_layout_resumes_only_on_the_layout_that_wrote_it(tiny_config,
                                                                           tmp_path,
                                                                           monkeypatch):
  s = make_setup(tiny_config)
  full = run_dense(s.config, quiet(tmp_path / "a"))
  d = tmp_path / "a" / "dense"
  (d / "curves.npz").unlink()
  (d / "metrics" / "upto_00000060.npz").unlink()
  (d / "layout.json").unlink()
  # the checkpoint says one device wrote it: this process has one, so it resumes ...
  again = run_dense(s.config, quiet(tmp_path / "a"))
  chex.assert_trees_all_equal(again.curves, full.curves)
  assert storage.read_json(str(d / "layout.json"))["devices"] == 1
  # ... and a checkpoint written by 4 devices is not resumed on 1 (nothing written)
  (d / "curves.npz").unlink()
  (d / "metrics" / "upto_00000060.npz").unlink()
  (d / "layout.json").unlink()
  monkeypatch.setattr(checkpoints, "saved_device_count", lambda meta: 4)
  before = file_digests(d)
  with pytest.raises(WorkdirMismatch, match="was trained on 4 cpu devices and this "
                     "launch has 1 cpu device"):
    run_dense(s.config, quiet(tmp_path / "a"))
  assert file_digests(d) == before


# ------------------------------------------------------------------ signals (item 7)

def test_a_signal_inside_deferred_waits_for_the_block():
  got = []
  old = signal.signal(signal.SIGTERM, lambda signum, frame: got.append(signum))
  try:
    with signals.deferred():
      with signals.deferred():  # nested: the outermost delivers
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
      assert got == []
    assert got == [signal.SIGTERM, signal.SIGTERM]
    # a block that raises drops what it held (its exception already stops the work)
    got.clear()
    with pytest.raises(ValueError):
      with signals.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        raise ValueError
    assert got == []
  finally:
    signal.signal(signal.SIGTERM, old)


# ------------------------------------------------------------------ memory (item 5)

def test_peak_bytes_sees_the_largest_live_values():
  n = 1000
  def f(x):
    y = jnp.outer(x, x)          # n x n floats live ...
    return jnp.sum(y * 2.0)      # ... with its double, then one float
  peak = memory.peak_bytes(f, jax.ShapeDtypeStruct((n,), jnp.float32))
  assert 2 * n * n * 4 <= peak <= 3 * n * n * 4 + 4 * n
  # a scan's body counts once, not per step
  def g(x):
    return jax.lax.scan(lambda c, _: (c + jnp.sum(jnp.outer(x, x)), None), 0.0, None,
                        length=50)[0]
  assert memory.peak_bytes(g, jax.ShapeDtypeStruct((n,), jnp.float32)) < 3 * n * n * 4


# ------------------------------------------------------------------ the report (item 5)

def test_launch_records_are_merged_never_dropped(tmp_path):
  dst, src = tmp_path / "dst.jsonl", tmp_path / "src.jsonl"
  dst.write_text('{"a": 1}\n{"b": 2}\n')
  src.write_text('{"b": 2}\n{"c": 3}\n{"c": 3}\n')
  committed.merge_launches(str(src), str(dst))
  assert dst.read_text() == '{"a": 1}\n{"b": 2}\n{"c": 3}\n'


def test_the_manifest_names_an_edited_a_gone_and_an_added_file(tmp_path):
  r = tmp_path / "results"
  (r / "w").mkdir(parents=True)
  (r / "w" / "summary.json").write_text("[1]")
  (r / "w" / "curves.npz").write_bytes(b"x")
  storage.write_json(str(r / committed.MANIFEST), {"files": committed.manifest_digests(str(r))})
  assert committed.check_manifest(str(r)) is True
  (r / "w" / "summary.json").write_text("[2]")
  with pytest.raises(jobs_lib.ReportError, match="summary.json does not match the digest"):
    committed.check_manifest(str(r))
  (r / "w" / "summary.json").write_text("[1]")
  (r / "w" / "curves.npz").unlink()
  with pytest.raises(jobs_lib.ReportError, match="curves.npz is gone"):
    committed.check_manifest(str(r))
  (r / "w" / "curves.npz").write_bytes(b"x")
  (r / "w" / "new.json").write_text("{}")
  with pytest.raises(jobs_lib.ReportError, match="new.json was added"):
    committed.check_manifest(str(r))


def test_a_claim_that_loses_its_measurement_is_named():
  by_id = {c.id: c for c in claims.CLAIMS}
  rows = [(by_id["C1"], None, "phase 'tickets' of docs/results/modadd is not finished", "", [],
           ""), (by_id["C2"], None, "x", "", [], "")]
  before = {"C1": ("0, 1", "agrees"), "C2": ("-", "-")}
  assert claims_report.unmeasured_now(rows, before) == [
      "C1 was measured (agrees) and is now not measured: phase 'tickets' of "
      "docs/results/modadd is not finished"]


# ------------------------------------------------------------------ the launcher (items 2, 3, 6)

def _launch(*args, cwd=ROOT):
  return subprocess.run([sys.executable, str(ROOT / "launch" / "main.py"), *args], cwd=cwd,
                        capture_output=True, text=True, timeout=300)


def test_help_prints_the_flags_and_the_config_fields():
  r = _launch("--help")
  assert r.returncode == 0 and "--host_devices" in r.stdout and "--workdir" in r.stdout
  r = _launch("--helpfull", "--config=configs/modadd.py:quick", "--config.task.p=11")
  assert r.returncode == 0 and "  --config.task.p=11\n" in r.stdout, r.stderr


def test_a_sweep_records_the_seeds_of_its_axes_after_overrides():
  from configs import sweep_modadd
  from gtickets import experiments
  c = sweep_modadd.get_config("quick")
  c.sweep.axes = (("seed", (3, 4)), ("optim.lr", (1e-2,)))
  assert tuple(experiments.validate(c).seeds) == (3, 4)
  c.sweep.axes = (("optim.lr", (1e-2,)),)  # no seed axis: the config's seeds train
  assert tuple(experiments.validate(c).seeds) == tuple(c.seeds)


TINY = ["--config=configs/modadd.py:quick", "--config.seeds=(0,1)", "--config.task.p=11",
        "--config.model.d_embed=16", "--config.model.d_hidden=8",
        "--config.train.num_steps=40", "--config.train.eval_every=10",
        "--config.train.ckpt_every=20", "--noprogress"]


def test_another_experiment_keeps_the_first_launchs_files_and_resumes_aloud(tmp_path):
  assert _launch(*TINY, f"--workdir={tmp_path}").returncode == 0
  top = {f: (tmp_path / f).read_bytes() for f in ("config.json", "summary.md", "summary.json",
                                                   "curves.png")}
  other = ["--config=configs/modadd_prune_ratio.py:quick"] + TINY[1:] + [
      "--config.ticket.prune_ratios=(0.5,)"]
  r = _launch(*other, f"--workdir={tmp_path}")
  assert r.returncode == 0, r.stderr
  assert {f: (tmp_path / f).read_bytes() for f in top} == top
  for f in ("prune_ratio.md", "prune_ratio.json", "prune_ratio.png", "prune_ratio_config.json"):
    assert (tmp_path / f).exists(), f
  # an interrupted phase says where it resumes, progress bars or not
  d = tmp_path / "prune_ratio"
  (d / "curves.npz").unlink()
  (d / "metrics" / "upto_00000040.npz").unlink()
  r = _launch(*other, f"--workdir={tmp_path}")
  assert r.returncode == 0 and "resuming prune_ratio from step 20\n" in r.stdout, r.stdout
