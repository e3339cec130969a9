"""Faults in a workdir end in the same results or one clear line (issue 11)."""
import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys

import chex
import jax
import numpy as np
import pytest

from gtickets import storage
from helpers import file_digests
from gtickets.experiment import report
from gtickets.experiment.setup import make_setup
from gtickets.experiment.pipeline import Tickets, run_dense, run_main, run_tickets
from gtickets.training import checkpoints
from conftest import quiet
from gtickets.experiment.store import WorkdirMismatch

ROOT = pathlib.Path(__file__).parents[1]
TINY = ["--config=configs/modadd.py:quick", "--config.seeds=(0,1)", "--config.task.p=11",
        "--config.model.d_embed=16", "--config.model.d_hidden=8",
        "--config.train.num_steps=40", "--config.train.eval_every=10",
        "--config.train.ckpt_every=20"]


def launch(*args, workdir, env=None):
  return subprocess.run([sys.executable, str(ROOT / "launch" / "main.py"), *args,
                         f"--workdir={workdir}", "--noprogress"], capture_output=True,
                        text=True, cwd=ROOT, timeout=300, env=env)


def one_line_error(result, words):
  err = result.stderr.strip().splitlines()
  assert result.returncode != 0 and err and words in err[-1], result.stderr
  assert "Traceback" not in result.stderr, result.stderr


def flip_byte(path, offset=-20):
  data = bytearray(path.read_bytes())
  data[offset] ^= 0xFF
  path.write_bytes(bytes(data))


def biggest_file(directory):
  return max((p for p in pathlib.Path(directory).rglob("*") if p.is_file()),
             key=lambda p: p.stat().st_size)


@pytest.fixture(scope="module")
def finished_tiny(tmp_path_factory):
  """Copies into a folder a workdir of one finished TINY launch, made once for the whole
  run: the xdist workers share the base temp folder's parent, and the first one to take
  the lock launches it while the other waits."""
  shared = tmp_path_factory.getbasetemp()
  if os.environ.get("PYTEST_XDIST_WORKER"):
    shared = shared.parent
  done = shared / "finished_tiny"
  with open(shared / "finished_tiny.lock", "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    if not (done / "summary.json").exists():
      shutil.rmtree(done, ignore_errors=True)
      done.mkdir()
      assert launch(*TINY, workdir=done).returncode == 0
  return lambda dst: shutil.copytree(done, dst, dirs_exist_ok=True)


@pytest.mark.parametrize("first,second,named", [
    ((), ("--config.optim.lr=0.01",), "(config.optim.lr: stored 0.003, now 0.01)"),
    # the dense phase is read back at the new threshold, then the tickets are refused:
    # the dense summaries stay as they were (they were rewritten before the refusal)
    ((), ("--config.threshold=0.9", "--config.ticket.prune_ratios=(0.5,)"),
     "(config.ticket.prune_ratios: stored neutral, now [0.5])"),
    # runs of another contraction order are not mixed with a workdir's (its ids differ)
    ((), ("--config.model.contraction=batch_first",),
     "(config.model.contraction: stored 'cheapest', now neutral)")])
def test_refused_launch_writes_nothing(tmp_path, first, second, named, finished_tiny):
  if first:
    assert launch(*TINY, *first, workdir=tmp_path).returncode == 0
  else:
    finished_tiny(tmp_path)
  before = file_digests(tmp_path, with_times=True)
  config_before = (tmp_path / "config.json").read_text()
  r = launch(*TINY, *second, workdir=tmp_path)
  one_line_error(r, "holds runs of a different config")
  assert named in r.stderr
  assert file_digests(tmp_path, with_times=True) == before
  assert (tmp_path / "config.json").read_text() == config_before


def test_second_launcher_on_a_workdir_stops_with_one_line(tmp_path):
  held = os.open(tmp_path, os.O_RDONLY)  # the lock is on the folder: no file to delete
  try:
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    r = launch(*TINY, workdir=tmp_path)
  finally:
    os.close(held)
  one_line_error(r, "another launcher is running on")
  assert not (tmp_path / "dense").exists()


@pytest.mark.parametrize("case", ["file", "dict_config"])
def test_a_bad_workdir_or_config_file_is_one_line(tmp_path, case):
  if case == "file":
    (tmp_path / "w").write_text("not a folder")
    one_line_error(launch(*TINY, workdir=tmp_path / "w"), "is a file, not a folder")
  else:
    (tmp_path / "c.py").write_text("def get_config(arg=None):\n  return {'seeds': (0,)}\n")
    one_line_error(launch(f"--config={tmp_path / 'c.py'}", workdir=tmp_path / "w"),
                   "get_config() must return an ml_collections.ConfigDict")
    assert not (tmp_path / "w").exists()


def test_full_disk_is_one_line_and_resuming_after_works(tmp_path):
  # a sitecustomize that makes the 4th npz write fail with ENOSPC, as a full disk does
  hook = tmp_path / "hook"
  hook.mkdir()
  (hook / "sitecustomize.py").write_text(
      "import errno, numpy as np\n_real, _n = np.savez, [0]\n"
      "def savez(*a, **k):\n  _n[0] += 1\n"
      "  if _n[0] == 4: raise OSError(errno.ENOSPC, 'No space left on device')\n"
      "  return _real(*a, **k)\nnp.savez = savez\n")
  env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{ROOT}"}
  r = launch(*TINY, workdir=tmp_path / "w", env=env)
  one_line_error(r, "the disk is full")
  assert launch(*TINY, workdir=tmp_path / "w").returncode == 0  # resumes (deterministic:
  table = json.loads((tmp_path / "w" / "summary.json").read_text())["table"]  # see
  assert [e["variant"] for e in table] == ["dense", "grokked", "random"]  # test_pipeline)
  assert all(e["n_runs"] == 2 for e in table)


def _assert_same(a, b):
  chex.assert_trees_all_equal(a.curves, b.curves)


def test_flipped_byte_in_newest_checkpoint_falls_back_to_a_valid_one(tiny_config, tmp_path,
                                                                     capsys):
  s = make_setup(tiny_config)
  full = run_dense(s.config, quiet(tmp_path))
  d = tmp_path / "dense"
  (d / "curves.npz").unlink()
  (d / "metrics" / "upto_00000060.npz").unlink()  # the phase must resume from a checkpoint
  flip_byte(biggest_file(d / "checkpoints" / "40"))
  again = run_dense(s.config, quiet(tmp_path))
  out = capsys.readouterr()
  assert "checkpoint at step 40 does not match its digest (corrupt); resuming from step 20" \
      in out.out + out.err
  _assert_same(again, full)


def test_missing_or_truncated_metrics_chunks_are_retrained_not_skipped(tiny_config, tmp_path):
  s = make_setup(tiny_config)
  full = run_dense(s.config, quiet(tmp_path))
  d = tmp_path / "dense"
  (d / "curves.npz").unlink()
  (d / "metrics" / "upto_00000040.npz").unlink()  # a gap in the middle
  _assert_same(run_dense(s.config, quiet(tmp_path)), full)
  (d / "curves.npz").unlink()
  chunk = d / "metrics" / "upto_00000020.npz"
  chunk.write_bytes(chunk.read_bytes()[:100])  # truncated
  _assert_same(run_dense(s.config, quiet(tmp_path)), full)


def test_truncated_curves_are_rebuilt_from_the_chunks(tiny_config, tmp_path):
  s = make_setup(tiny_config)
  full = run_dense(s.config, quiet(tmp_path))
  curves = tmp_path / "dense" / "curves.npz"
  curves.write_bytes(curves.read_bytes()[:200])
  _assert_same(run_dense(s.config, quiet(tmp_path)), full)


def test_corrupt_base_checkpoint_is_one_line_not_garbage_masks(tiny_config, tmp_path):
  c = tiny_config
  c.ticket.variants = ("grokked",)
  s = make_setup(c)
  dense = run_dense(s.config, quiet(tmp_path))
  flip_byte(biggest_file(tmp_path / "dense" / "checkpoints" / "60"))
  with pytest.raises(storage.CorruptFile, match="checkpoints/60 does not match the digest"):
    run_tickets(s.config, quiet(tmp_path), dense)
  assert not (tmp_path / "tickets" / "masks").exists()


def test_corrupt_saved_masks_are_built_again(tiny_config, tmp_path, capsys):
  c = tiny_config
  c.ticket.variants = ("grokked",)
  dense, first = run_main(c, quiet(tmp_path))
  t = tmp_path / "tickets"
  (t / "curves.npz").unlink()
  for f in (t / "metrics").iterdir():
    f.unlink()
  flip_byte(biggest_file(t / "masks"))
  again = run_tickets(c, quiet(tmp_path), dense)
  said = "".join(capsys.readouterr())
  assert "tickets/masks does not match the digest written with it (corrupt); building it again" in said
  assert "delete" not in said
  _assert_same(again, first)


def test_truncated_checkpoint_is_one_line_from_orbax_too(tiny_config, tmp_path):
  s = make_setup(tiny_config)
  run_dense(s.config, quiet(tmp_path))
  ck = checkpoints.StateCheckpoints(str(tmp_path / "dense" / "checkpoints"))
  victim = biggest_file(tmp_path / "dense" / "checkpoints" / "20")
  victim.write_bytes(victim.read_bytes()[:10])
  with pytest.raises(storage.CorruptFile) as e:
    ck.restore(20)
  assert "\n" not in str(e.value)


def test_runs_json_garbled_or_deleted(tiny_config, tmp_path, capsys):
  s = make_setup(tiny_config)
  full = run_dense(s.config, quiet(tmp_path))
  runs_json = tmp_path / "dense" / "runs.json"
  text = runs_json.read_text()
  runs_json.write_text(text[:30])  # garbled: the same config restores it
  _assert_same(run_dense(s.config, quiet(tmp_path)), full)
  assert "was missing or garbled; rewritten" in "".join(capsys.readouterr())
  assert runs_json.read_text() != text[:30]
  runs_json.unlink()  # deleted: another config must not adopt the results
  tiny_config.optim.lr = 1e-2
  with pytest.raises(WorkdirMismatch, match="runs.json is missing or garbled, and "
                     "they are of another config"):
    run_dense(tiny_config, quiet(tmp_path))


def test_every_ticket_field_and_the_matmul_precision_are_part_of_a_phase(tiny_config,
                                                                         tmp_path):
  c = tiny_config
  c.ticket.variants = ("synflow",)
  c.variants.synflow.rounds = 3
  dense, _ = run_main(c, quiet(tmp_path))
  c.variants.synflow.rounds = 4
  with pytest.raises(WorkdirMismatch, match="config.variants.synflow.rounds: stored 3, now 4"):
    run_tickets(c, quiet(tmp_path), dense)
  c.variants.synflow.rounds = 3
  with pytest.raises(WorkdirMismatch, match="config.optim.weight_decay: stored neutral, now 0.0"):
    run_tickets(c, quiet(tmp_path), dense, Tickets(weight_decay=0.0))
  c.matmul_precision = "default"
  with pytest.raises(WorkdirMismatch):
    run_dense(c, quiet(tmp_path))


def test_finished_workdir_reports_without_its_final_base_checkpoint(tiny_config, tmp_path):
  c = tiny_config
  dense, tickets = run_main(c, quiet(tmp_path))
  import shutil
  shutil.rmtree(tmp_path / "dense" / "checkpoints" / "60")
  d2, t2 = run_main(c, quiet(tmp_path))
  _assert_same(t2, tickets)


def test_diverged_base_marks_its_tickets_and_means_leave_them_out(tiny_config, tmp_path):
  c = tiny_config
  c.optim.lr = 1e30  # the base runs blow up
  c.ticket.variants = ("grokked", "dense")
  dense, tickets = run_main(c, quiet(tmp_path))
  assert all(r["diverged"] for r in dense.rows())
  assert all(r["base_diverged"] and r["diverged"] for r in tickets.rows()
             if r["variant"] == "grokked")
  text = (tmp_path / "tickets" / "summary.json").read_text()
  assert "NaN" not in text and "Infinity" not in text
  json.loads(text, parse_constant=lambda t: pytest.fail(f"non-strict JSON token {t}"))
  table = report.summary_table([dense, tickets])
  assert [(e["phase"], e["variant"]) for e in table] == [
      ("dense", "dense"), ("tickets", "grokked"), ("tickets", "dense")]
  assert table[1]["diverged"] == 2 and table[1]["n_runs"] == 0
  assert "grokked (2 diverged, left out)" in report.format_table(table)
  assert "dense (tickets)" in report.format_table(table)


def test_resume_reads_the_saved_starts_instead_of_building_them(tiny_config, tmp_path,
                                                                monkeypatch):
  c = tiny_config
  dense, first = run_main(c, quiet(tmp_path))
  t = tmp_path / "tickets"
  (t / "curves.npz").unlink()
  for f in (t / "metrics").iterdir():
    f.unlink()
  from gtickets.tickets import variants
  monkeypatch.setattr(variants, "build_starts",
                      lambda *a: pytest.fail("starts were built again on a resume"))
  _assert_same(run_tickets(c, quiet(tmp_path), dense), first)


def test_a_new_field_at_its_neutral_value_keeps_old_phases(tiny_config, tmp_path,
                                                            monkeypatch, capsys):
  """A field added after a phase was trained, declared with the neutral value that
  reproduces the old behaviour (its module's NEUTRAL), leaves that phase's identity as it was: the phase
  resumes from its own chunks; a non-neutral value of the field is refused."""
  from gtickets import config as config_lib
  from gtickets import identity
  s = make_setup(tiny_config)
  full = run_dense(s.config, quiet(tmp_path / "clean"))
  run_dense(s.config, quiet(tmp_path / "old"))
  d = tmp_path / "old" / "dense"
  stored = json.loads((d / "runs.json").read_text())
  with tiny_config.unlocked():
    tiny_config.optim.new_field = "off"
  monkeypatch.setitem(config_lib.NEUTRAL, "optim.new_field", "off")
  assert "optim.new_field" not in identity.of(tiny_config, identity.DENSE)
  (d / "curves.npz").unlink()
  chunks = sorted((d / "metrics").glob("upto_*.npz"))
  chunks[-1].unlink()
  kept = file_digests(d / "metrics", with_times=True)
  capsys.readouterr()
  _assert_same(run_dense(tiny_config, quiet(tmp_path / "old")), full)
  out = capsys.readouterr()
  assert "runs.json was missing" not in out.out + out.err  # read as it was, not rewritten
  assert json.loads((d / "runs.json").read_text()) == stored
  after = file_digests(d / "metrics", with_times=True)
  assert all(after[k] == v for k, v in kept.items())  # earlier chunks read, not retrained
  tiny_config.optim.new_field = "on"
  with pytest.raises(WorkdirMismatch, match="optim.new_field: stored neutral, now 'on'"):
    run_dense(tiny_config, quiet(tmp_path / "old"))


def test_saved_masks_carry_their_phase_id(tiny_config, tmp_path, capsys):
  """With the ticket phase's runs.json and results gone, masks saved for k = 0.6 are
  not trained under a k = 0.5 label: they carry their phase id and are built again."""
  import shutil
  run_main(tiny_config, quiet(tmp_path))
  d = tmp_path / "tickets"
  removed = lambda: sum(int((~np.asarray(m)).sum()) for m in jax.tree.leaves(
      checkpoints.load_tree(str(d / "masks"))))
  old_id, old_removed = checkpoints.saved_phase_id(str(d / "masks")), removed()
  assert old_id
  for name in ("runs.json", "curves.npz", "summary.json", "summary.csv"):
    (d / name).unlink()
  shutil.rmtree(d / "metrics")
  shutil.rmtree(d / "checkpoints")
  tiny_config.ticket.prune_ratios = (0.5,)
  capsys.readouterr()
  _, res = run_main(tiny_config, quiet(tmp_path))
  assert "saved for another phase" in capsys.readouterr().out
  assert removed() < old_removed  # the k = 0.5 masks, not the k = 0.6 ones
  stored = checkpoints.saved_phase_id(str(d / "masks"))
  assert stored not in ("", old_id) and stored == checkpoints.saved_phase_id(
      str(d / "start_params"))


def test_a_signal_during_the_first_compile_ends_in_one_line_not_a_segfault(tmp_path):
  """SIGTERM while XLA compiles the first chunk (it segfaulted on exit in 10 of 12
  tries): the launch is recorded as interrupted, exits 1, and a rerun finishes."""
  import signal
  import time
  p = subprocess.Popen([sys.executable, str(ROOT / "launch" / "main.py"), *TINY,
                        f"--workdir={tmp_path}", "--noprogress"], cwd=ROOT, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
  assert p.stdout.readline().startswith("workdir:")
  time.sleep(0.5)  # inside the first compile
  p.send_signal(signal.SIGTERM)
  out, err = p.communicate(timeout=120)
  assert p.returncode == 1, (p.returncode, err[-2000:])
  assert err.strip().splitlines()[-1].startswith("interrupted: rerun the same command")
  entry = json.loads((tmp_path / "launches.jsonl").read_text().splitlines()[-1])
  assert entry["status"] == "interrupted"
  assert launch(*TINY, workdir=tmp_path).returncode == 0


@pytest.mark.parametrize("content", ["[]", "null"])
def test_a_digests_file_that_is_not_an_object_only_unverifies_checkpoints(tmp_path, content,
                                                                          finished_tiny):
  finished_tiny(tmp_path)
  d = tmp_path / "tickets"
  (d / "curves.npz").unlink()
  sorted((d / "metrics").glob("upto_*.npz"))[-1].unlink()
  (d / "checkpoints" / "digests.json").write_text(content)
  r = launch(*TINY, workdir=tmp_path)
  assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-2000:]


def test_a_process_of_a_multi_process_job_started_alone_stops_with_one_line(tmp_path):
  """It waited 5 minutes, then XLA aborted it (a C++ abort, exit 134)."""
  r = launch(*TINY, "--num_processes=2", "--process_id=0", "--join_timeout=3",
             "--coordinator=127.0.0.1:12391", workdir=tmp_path / "w")
  one_line_error(r, "the 2 processes did not all join at 127.0.0.1:12391 within 3 s")
  assert r.returncode == 1 and not (tmp_path / "w").exists()
