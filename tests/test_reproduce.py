"""launch/reproduce.py's library: the lines to run, one launcher per workdir at a time,
a failed line named while the others run, and the time of each line."""
import json
import pathlib
import sys

import pytest

from gtickets.commands import reproduce
from gtickets.commands.jobs import ReportError

ROOT = pathlib.Path(__file__).parents[1]
FAKE = """import sys, time, pathlib
args = sys.argv[1:]
workdir = [a for a in args if a.startswith("--workdir=")][0].split("=", 1)[1]
with open(pathlib.Path(workdir).parent / "order.txt", "a") as f:
  f.write(pathlib.Path(workdir).name + " " + args[0] + " start\\n")
time.sleep(0.5)
with open(pathlib.Path(workdir).parent / "order.txt", "a") as f:
  f.write(pathlib.Path(workdir).name + " " + args[0] + " end\\n")
sys.exit(3 if "pai" in args[0] else 0)
"""


def test_lines_of_a_workdir_run_in_turn_and_a_failure_is_named(tmp_path):
  (tmp_path / "jobs.txt").write_text(
      "# a comment\n"
      "w1 --config=configs/modadd.py:quick\n"
      "w1 --config=configs/modadd_pai.py:quick\n"
      "w2 --config=configs/modadd.py:quick --config.seeds=(0,1)\n")
  lines = reproduce.plan([str(tmp_path / "jobs.txt")], str(tmp_path / "w"), str(ROOT))
  assert [(l.name, l.done) for l in lines] == [("w1", False), ("w1", False), ("w2", False)]
  (tmp_path / "fake.py").write_text(FAKE)
  said = []
  times = reproduce.run(lines, str(tmp_path / "w"), str(ROOT), parallel=2,
                        launcher=[sys.executable, str(tmp_path / "fake.py")], say=said.append)
  order = (tmp_path / "w" / "order.txt").read_text().splitlines()
  w1 = [l for l in order if l.startswith("w1")]
  assert w1 == ["w1 --config=configs/modadd.py:quick start", "w1 --config=configs/modadd.py:quick end",
                "w1 --config=configs/modadd_pai.py:quick start",
                "w1 --config=configs/modadd_pai.py:quick end"]  # one launcher per workdir
  assert len([l for l in order if l.startswith("w2")]) == 2  # w2 ran beside w1
  failed = [s for s in said if "rc=3" in s]
  assert len(failed) == 1 and failed[0].startswith("w1 rc=3") and "failed, see" in failed[0]
  assert sorted((n, rc) for n, runs in times.items() for _, rc, _ in runs) == [
      ("w1", 0), ("w1", 3), ("w2", 0)]
  recorded = reproduce.read_times(str(tmp_path / "w"))  # appended as each line ended
  assert sorted((r["workdir"], r["rc"]) for r in recorded) == [("w1", 0), ("w1", 3), ("w2", 0)]


def test_a_line_that_does_not_resolve_stops_before_anything_runs(tmp_path):
  (tmp_path / "jobs.txt").write_text("w1 --config=configs/modadd.py --config.optim.lrr=1\n")
  with pytest.raises(ReportError, match="jobs.txt line 1 .*lrr"):
    reproduce.plan([str(tmp_path / "jobs.txt")], str(tmp_path / "w"), str(ROOT))


def test_the_time_of_a_killed_line_is_counted_on_the_next_run(tmp_path, monkeypatch):
  """A line cut by a kill leaves its heartbeat; the next run counts it as stopped."""
  (tmp_path / "jobs.txt").write_text("w1 --config=configs/modadd.py:quick\n")
  (tmp_path / "fake.py").write_text(FAKE)
  monkeypatch.setattr(reproduce, "HEARTBEAT_S", 0.1)
  lines = reproduce.plan([str(tmp_path / "jobs.txt")], str(tmp_path / "w"), str(ROOT))
  (tmp_path / "w" / "logs").mkdir(parents=True)
  (tmp_path / "w" / "logs" / "w1.running.json").write_text(
      '{"workdir": "w1", "args": "--config=configs/modadd.py:quick", "seconds": 1234.5, '
      '"machine": "2 x some CPU", "load_at_start": 0.1}')
  said = []
  reproduce.run(lines, str(tmp_path / "w"), str(ROOT),
                launcher=[sys.executable, str(tmp_path / "fake.py")], say=said.append)
  records = reproduce.read_times(str(tmp_path / "w"))
  assert [(r["rc"], r["seconds"]) for r in records][0] == ("stopped", 1234.5)
  assert records[1]["rc"] == 0 and 0.4 < records[1]["seconds"] < 30  # the rerun itself
  assert "cpu_count" not in records[1] and " x " in records[1]["machine"]
  assert not list((tmp_path / "w" / "logs").glob("*.running.json"))  # heartbeats settled
  assert said[0] == "w1: 1234 s of an earlier stopped run counted"
  text, total, complete = reproduce.breakdown(records, lines)
  assert total == pytest.approx(1234.5 + records[1]["seconds"])
  assert not complete and "**Not complete**: 1 of 1 jobs lines still to run." in text
  row = [l for l in text.splitlines() if l.startswith("| w1 ")]
  assert row == [f"| w1 | `--config=configs/modadd.py:quick` | {total / 3600:.2f} | 100% | 2 | 1 | 0 |"]


def test_a_running_line_keeps_its_heartbeat(tmp_path, monkeypatch):
  """What a kill would leave: the line's seconds so far, rewritten while it runs."""
  (tmp_path / "jobs.txt").write_text("w1 --config=configs/modadd.py:quick\n")
  (tmp_path / "peek.py").write_text(
      "import pathlib, shutil, sys, time\n"
      "w = pathlib.Path([a for a in sys.argv if a.startswith('--workdir=')][0][10:]).parent\n"
      "time.sleep(0.6)\n"
      "shutil.copy(w / 'logs' / 'w1.running.json', w / 'seen.json')\n")
  monkeypatch.setattr(reproduce, "HEARTBEAT_S", 0.1)
  lines = reproduce.plan([str(tmp_path / "jobs.txt")], str(tmp_path / "w"), str(ROOT))
  reproduce.run(lines, str(tmp_path / "w"), str(ROOT),
                launcher=[sys.executable, str(tmp_path / "peek.py")], say=lambda s: None)

  seen = json.loads((tmp_path / "w" / "seen.json").read_text())
  assert seen["workdir"] == "w1" and 0.1 <= seen["seconds"] <= 0.6 + 5
  assert [r["rc"] for r in reproduce.read_times(str(tmp_path / "w"))] == [0]


def test_the_readme_total_needs_its_markers():
  text = "a\n<!-- reproduce:begin -->old<!-- reproduce:end -->\nb"
  assert reproduce.readme_with_total(text, "R", "3.0 h") == (
      "a\n<!-- reproduce:begin -->3.0 h<!-- reproduce:end -->\nb")
  with pytest.raises(ReportError, match="R has no <!-- reproduce:begin -->"):
    reproduce.readme_with_total("a", "R", "3.0 h")


def test_the_breakdown_lists_lines_not_run_and_says_when_complete():
  records = [{"workdir": "a", "args": "--config=x", "rc": 0, "seconds": 5400.0,
              "machine": "2 x CPU", "load_at_start": 0.3},
             {"workdir": "b", "args": "--config=y", "rc": 2, "seconds": 1800.0,
              "machine": "2 x CPU", "load_at_start": 1.5}]
  lines = [reproduce.Line("a", "--config=x", True), reproduce.Line("b", "--config=y", False),
           reproduce.Line("c", "--config=z", False)]
  text, total, complete = reproduce.breakdown(records, lines)
  assert total == 7200.0 and not complete
  assert "Total: **2.00 h** (7200 s) on 2 x CPU; the largest 1-minute load average" in text
  assert "| a | `--config=x` | 1.50 | 75% | 1 | 0 | 0 |" in text
  assert "| b | `--config=y` | 0.50 | 25% | 1 | 0 | 1 |" in text
  assert "| c | `--config=z` | not run yet | | | | |" in text
  lines = [reproduce.Line(l.name, l.args, True) for l in lines]
  assert "Every jobs line finished." in reproduce.breakdown(records, lines)[0]
  # a line the jobs no longer hold: listed apart, not in the total
  replaced = records + [{"workdir": "a", "args": "--config=old", "rc": 0, "seconds": 900.0,
                         "machine": "other CPU", "load_at_start": 9.0}]
  text, total, _ = reproduce.breakdown(replaced, lines)
  assert total == 7200.0 and "on 2 x CPU;" in text and "average at the start of a line: 1.50" in text
  assert "Not in the total: 0.25 h of launches of lines the jobs files no longer hold" in text
  assert text.rstrip().endswith("| a | `--config=old` | 0.25 | 1 |")


SLOW = """import pathlib, signal, sys, time
w = pathlib.Path([a for a in sys.argv if a.startswith("--workdir=")][0][10:])
w.parent.mkdir(parents=True, exist_ok=True)
def stop(signum, frame):
  (w.parent / (w.name + "_" + sys.argv[1][9:] + ".stopped")).write_text("SIGINT")
  sys.exit(1)
signal.signal(signal.SIGINT, stop)
(w.parent / (w.name + "_" + sys.argv[1][9:] + ".started")).write_text("")
time.sleep(60)
"""
DRIVER = """import sys
sys.path.insert(0, sys.argv[1])
from gtickets.commands import reproduce
reproduce.stop_on_sigterm()
lines = [reproduce.Line("w1", "--config=a", False), reproduce.Line("w1", "--config=b", False)]
try:
  reproduce.run(lines, sys.argv[2], sys.argv[1], launcher=[sys.executable, sys.argv[3]])
except KeyboardInterrupt:
  print("interrupted")
"""


def test_sigterm_stops_the_running_launchers_and_starts_no_other_line(tmp_path):
  import subprocess  # pylint: disable=import-outside-toplevel
  import time  # pylint: disable=import-outside-toplevel
  (tmp_path / "slow.py").write_text(SLOW)
  (tmp_path / "driver.py").write_text(DRIVER)
  w = tmp_path / "w"
  p = subprocess.Popen([sys.executable, str(tmp_path / "driver.py"), str(ROOT), str(w),
                        str(tmp_path / "slow.py")], stdout=subprocess.PIPE, text=True)
  for _ in range(300):  # the first line's launcher is up
    if (w / "w1_a.started").exists():
      break
    time.sleep(0.1)
  p.terminate()
  out, _ = p.communicate(timeout=60)
  assert out.strip().endswith("interrupted")
  assert (w / "w1_a.stopped").read_text() == "SIGINT"  # saved, not left running
  assert not (w / "w1_b.started").exists()  # the next line of its chain never started
  records = reproduce.read_times(str(w))
  assert [(r["args"], r["rc"]) for r in records] == [("--config=a", "stopped")]
