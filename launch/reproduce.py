"""The whole paper from a fresh clone: every experiment behind the claims, then the report.

  python launch/reproduce.py [--results=docs/results] [--parallel=1] [--dry_run]

Runs each line of launch/tasks_jobs.txt and launch/claims_jobs.txt whose workdir has no
finished launch of that line's config (lines of one workdir one after another,
``--parallel`` workdirs at a time; logs in workdirs/logs/), appends the time of each
line to workdirs/reproduce_times.jsonl as it ends, then ``python launch/report.py
--results=RESULTS``, which publishes only experiments whose launch finished. A failed
line is named in one line and the others still run. Stopped at any point, rerun the
same command: it continues where it stopped.
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--results", default="docs/results",
                  help="where the report keeps the results (a scratch folder to compare)")
  ap.add_argument("--workdirs", default="workdirs")
  ap.add_argument("--jobs", nargs="+", default=["launch/tasks_jobs.txt",
                                                 "launch/claims_jobs.txt"])
  ap.add_argument("--parallel", type=int, default=1, help="workdirs trained at once")
  ap.add_argument("--dry_run", action="store_true", help="list the lines to run and stop")
  args = ap.parse_args()
  from gtickets import experiments  # noqa: F401  (registers the experiments)
  from gtickets.commands import reproduce
  from gtickets.commands.jobs import ReportError
  try:
    lines = reproduce.plan(args.jobs, args.workdirs, ROOT)
  except ReportError as e:
    sys.exit(f"error: {e}")
  todo = [l for l in lines if not l.done]
  print(f"{len(lines)} jobs lines: {len(lines) - len(todo)} finished, {len(todo)} to run")
  for line in todo:
    print(f"  {line.name} {line.args}")
  if args.dry_run:
    return
  start = time.time()
  try:
    times = reproduce.run(lines, args.workdirs, ROOT, args.parallel)
  except KeyboardInterrupt:
    sys.exit("interrupted: rerun the same command to continue where it stopped")
  total = time.time() - start
  failed = [name for name, runs in times.items() if any(rc for _, rc, _ in runs)]
  so_far = sum(r["seconds"] for r in reproduce.read_times(args.workdirs))
  print(f"trained in {total:.0f} s (every line so far: {so_far:.0f} s, "
        f"{os.path.join(args.workdirs, 'reproduce_times.jsonl')})"
        + (f"; failed: {', '.join(failed)}" if failed else ""))
  rc = subprocess.call([sys.executable, os.path.join(ROOT, "launch", "report.py"),
                        f"--results={args.results}", f"--workdirs={args.workdirs}"], cwd=ROOT)
  sys.exit(1 if failed or rc else 0)


if __name__ == "__main__":
  main()
