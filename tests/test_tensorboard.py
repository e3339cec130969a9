"""TensorBoard logs of every phase (experiment/tb_logs.py) and results in pandas
(gtickets/results.py): a resumed phase logs what an uninterrupted one does, a damaged
log is rewritten, a real TensorBoard server lists every run and tag with the stored
values, and the loader's numbers are the stored ones."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest

from conftest import make_tiny_config, quiet
from gtickets import results
from gtickets.experiment import tb_logs
from gtickets.experiment.pipeline import run_main
from gtickets.training import checkpoints


def events_of(directory):
  """{run label: sorted [(step, tag, value)]} of every event file of a phase's logs."""
  out = {}
  root = os.path.join(directory, "tb")
  for d, _, files in os.walk(root):
    for f in files:
      if f.startswith("events.out.tfevents"):
        out.setdefault(os.path.relpath(d, root), []).extend(
            tb_logs.read_events(os.path.join(d, f)))
  return {k: sorted(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
  """A tiny main experiment: (workdir, dense, tickets)."""
  w = tmp_path_factory.mktemp("tb")
  c = make_tiny_config()
  return (w, *run_main(c, quiet(w)))


def test_labels_name_each_run_by_what_varies():
  runs = [{"run": i, "variant": v, "seed": s, "prune_ratio": k, "mask_step": m}
          for i, (v, s, k, m) in enumerate([("grokked", 0, 0.6, 60), ("grokked", 0, 0.8, 60),
                                            ("random", 0, 0.6, None), ("random", 0, 0.8, None)])]
  assert tb_logs.run_labels(runs) == ["grokked/k0.6/seed0", "grokked/k0.8/seed0",
                                      "random/k0.6/seed0", "random/k0.8/seed0"]
  twins = [{"run": i, "variant": "dense", "seed": 0} for i in range(2)]
  assert tb_logs.run_labels(twins) == ["dense/seed0/run0", "dense/seed0/run1"]


def test_every_step_of_every_run_is_logged_once(finished):
  w, dense, tickets = finished
  for res in (dense, tickets):
    logged = events_of(res.directory)
    labels = tb_logs.run_labels(res.runs)
    assert sorted(logged) == sorted(labels)
    for i, label in enumerate(labels):
      got = [(s, v) for s, t, v in logged[label] if t == "accuracy/test"]
      assert [s for s, _ in got] == res.steps.tolist()  # no step twice, none missing
      np.testing.assert_allclose([v for _, v in got], res.curves["test_acc"][i], rtol=1e-6)
      t_gen = res.rows()[i]["t_gen"]
      measured = [v for _, t, v in logged[label] if t == "measures/t_gen"]
      assert measured == ([] if t_gen is None else [t_gen])


def test_a_resumed_phase_logs_what_an_uninterrupted_one_does(tmp_path, finished, monkeypatch):
  _, dense, tickets = finished
  real_save = checkpoints.StateCheckpoints.save

  def stop_at_second_chunk(self, step, state, phase_id):
    if step == 40 and "tickets" in self.directory:  # its chunk was logged, not checkpointed
      raise KeyboardInterrupt
    return real_save(self, step, state, phase_id)
  monkeypatch.setattr(checkpoints.StateCheckpoints, "save", stop_at_second_chunk)
  with pytest.raises(KeyboardInterrupt):
    run_main(make_tiny_config(), quiet(tmp_path))
  assert max(s for s, _, _ in events_of(tmp_path / "tickets")["grokked/seed0"]) == 40
  monkeypatch.undo()
  _, resumed = run_main(make_tiny_config(), quiet(tmp_path))
  strip = lambda ev: {k: [(s, t, round(v, 6)) for s, t, v in x] for k, x in ev.items()}
  assert strip(events_of(resumed.directory)) == strip(events_of(tickets.directory))


def test_a_damaged_event_file_is_rewritten_from_the_stored_curves(tmp_path, finished, capsys):
  import shutil
  w, _, tickets = finished
  shutil.copytree(w, tmp_path / "w")
  before = events_of(tmp_path / "w" / "tickets")
  victim = tmp_path / "w" / "tickets" / "tb" / "random" / "seed1" / tb_logs.CURVES
  data = bytearray(victim.read_bytes())
  data[len(data) // 2] ^= 0xFF
  victim.write_bytes(bytes(data))
  capsys.readouterr()
  run_main(make_tiny_config(), quiet(tmp_path / "w"))
  said = capsys.readouterr().out
  assert "TensorBoard logs damaged or incomplete; rewritten from the stored curves" in said
  assert events_of(tmp_path / "w" / "tickets") == before


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _get(port, path):
  with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
    return json.loads(r.read())


def test_a_tensorboard_server_lists_every_run_and_the_stored_values(finished):
  w, dense, tickets = finished
  port = _free_port()
  server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", f"--logdir={w}",
                             "--host=127.0.0.1", f"--port={port}", "--load_fast=false",
                             "--reload_interval=1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  try:
    want = {f"{res.name}/tb/{label}" for res in (dense, tickets)
            for label in tb_logs.run_labels(res.runs)}
    deadline, runs = time.time() + 90, []
    while time.time() < deadline:
      try:
        runs = _get(port, "/data/runs")
        if set(runs) >= want:
          tags = _get(port, "/data/plugin/scalars/tags")
          if all(len(tags.get(r, {})) >= 6 for r in want):
            break
      except OSError:
        pass
      time.sleep(0.5)
    assert set(runs) == want
    for r in want:
      assert set(tb_logs.TAGS.values()) <= set(tags[r]), r
    label = tb_logs.run_labels(tickets.runs)[0]
    query = urllib.parse.urlencode({"run": f"tickets/tb/{label}", "tag": "accuracy/test"})
    series = _get(port, f"/data/plugin/scalars/scalars?{query}")
    assert [int(s) for _, s, _ in series] == tickets.steps.tolist()
    np.testing.assert_allclose([v for _, _, v in series], tickets.curves["test_acc"][0],
                               rtol=1e-6)
  finally:
    server.terminate()
    server.wait(timeout=30)


def test_the_loader_gives_the_stored_numbers(finished, tmp_path):
  w, dense, tickets = finished
  r = results.load(str(w))
  assert sorted(r.runs["phase"].unique()) == ["dense", "tickets"]
  rows = json.loads((w / "tickets" / "summary.json").read_text())
  got = r.runs[r.runs.phase == "tickets"].reset_index(drop=True)
  for i, row in enumerate(rows):
    assert got.loc[i, "variant"] == row["variant"] and got.loc[i, "seed"] == row["seed"]
    assert got.loc[i, "final_test_acc"] == row["final_test_acc"]
    assert (np.isnan(got.loc[i, "t_gen"]) if row["t_gen"] is None
            else got.loc[i, "t_gen"] == row["t_gen"])
  z = np.load(w / "dense" / "curves.npz")
  curve = r.curves[(r.curves.phase == "dense") & (r.curves.run == 1)
                   & (r.curves.metric == "test_acc")]
  np.testing.assert_array_equal(curve["step"], z["steps"])
  np.testing.assert_array_equal(curve["value"], z["test_acc"][1])
  both = results.load_many([str(w), str(w)])
  assert len(both.runs) == 2 * len(r.runs) and set(both.runs["workdir"]) == {str(w)}
  # a folder with no phase, and a phase that is not finished: one line each
  with pytest.raises(results.ResultsError, match="holds no phase"):
    results.load(str(tmp_path))
  import shutil
  shutil.copytree(w, tmp_path / "half")
  (tmp_path / "half" / "tickets" / "curves.npz").unlink()
  with pytest.raises(results.ResultsError, match="tickets: not finished \\(no curves.npz\\)"):
    results.load(str(tmp_path / "half"))
  assert len(results.load(str(tmp_path / "half"), phases=["dense"]).runs) == len(dense.runs)
