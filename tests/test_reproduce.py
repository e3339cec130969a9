"""launch/reproduce.py's library: the lines to run, one launcher per workdir at a time,
a failed line named while the others run, and the time of each line."""
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
