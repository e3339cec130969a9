"""launch/run_jobs.sh: jobs side by side, and its time limit counted from the start."""
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).parents[1]
FAKE_MAIN = """import sys, time
args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
time.sleep(float(args.get("sleep", 0)))
print("ran", args["workdir"])
"""


def run_jobs(tmp_path, jobs, *args, env=None):
  """Runs a copy of run_jobs.sh in tmp_path, with a launch/main.py that only sleeps."""
  (tmp_path / "launch").mkdir()
  shutil.copy(ROOT / "launch" / "run_jobs.sh", tmp_path / "launch")
  (tmp_path / "launch" / "main.py").write_text(FAKE_MAIN)
  (tmp_path / "jobs.txt").write_text("# a comment\n\n" + "\n".join(jobs) + "\n")
  out = subprocess.run(["bash", "launch/run_jobs.sh", "jobs.txt", *map(str, args)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60,
                       env={**os.environ, **(env or {}),  # the python running the tests
                            "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"})
  return sorted(out.stdout.splitlines())


def test_every_job_runs_with_its_workdir_and_log(tmp_path):
  lines = run_jobs(tmp_path, ["a --sleep=0", "b --sleep=0"], 2)
  assert [l.split()[:2] for l in lines] == [["a", "rc=0"], ["b", "rc=0"]]
  assert (tmp_path / "workdirs" / "logs" / "b.log").read_text() == "ran workdirs/b\n"


def test_time_limit_counts_from_the_start_not_from_each_job(tmp_path):
  # P = 1, limit 4 s (a job with MIN_LEFT = 2 s or less left is not started): job a is
  # stopped at 4 s (timeout's rc 124); job b would start after the limit, so it is
  # skipped rather than given 4 s of its own.
  lines = run_jobs(tmp_path, ["a --sleep=60", "b --sleep=0"], 1, 4, env={"MIN_LEFT": "2"})
  assert lines[1] == "b skipped (time limit)"
  # the stop comes at the limit, not after a's own 60 s (a busy CI machine adds a second or two)
  # ("a rc=124 t=3s (at 4s)": its own 3 s when it started a second late)
  name, rc, took, _, at = lines[0].replace("(", "").replace(")", "").split()
  assert (name, rc) == ("a", "rc=124")
  seconds = lambda word: int(word.split("=")[-1].removesuffix("s"))
  assert seconds(took) <= 4 and 4 <= seconds(at) <= 12, lines[0]
