"""Helpers shared by the tests and tests/bad_input.py (no pytest, no gtickets)."""
import hashlib
import pathlib


def file_digests(directory, with_times=False):
  """Every file under ``directory``: its path -> a digest of its bytes (with its size and
  modification time too, ``with_times``)."""
  out = {}
  for p in pathlib.Path(directory).rglob("*"):
    if p.is_file():
      digest = hashlib.sha256(p.read_bytes()).hexdigest()
      out[p.relative_to(directory).as_posix()] = (
          (p.stat().st_size, p.stat().st_mtime_ns, digest) if with_times else digest)
  return out


def assert_every_phase_logged(workdir):
  """Every phase folder below ``workdir`` holds TensorBoard logs: one curves event file
  per run of its runs.json, each with the phase's every evaluated step."""
  import json
  import os
  from gtickets import results
  from gtickets.experiment import tb_logs
  phases = results.phases_in(str(workdir))
  assert phases
  for phase in phases:
    d = os.path.join(str(workdir), phase)
    runs = json.load(open(os.path.join(d, "runs.json")))["runs"]
    steps = sorted(int(s) for s in __import__("numpy").load(os.path.join(d, "curves.npz"))["steps"])
    for label in tb_logs.run_labels(runs):
      events = tb_logs.read_events(os.path.join(d, "tb", label, tb_logs.CURVES))
      assert sorted(s for s, t, _ in events if t == "accuracy/test") == steps, (phase, label)
  return phases
