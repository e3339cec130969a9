"""The whole paper from a fresh clone: every experiment behind the claims, then the report.

  python launch/reproduce.py [--results=docs/results] [--docs=docs] [--compare=CLAIMS_MD]
                             [--parallel=1] [--dry_run]

To compare with the committed report, in a fresh clone:
``--results=repro_results --compare=docs/claims.md`` (then ``git diff docs/claims.md``
shows every number that moved, and claims.md lists the verdicts that changed).

Runs each line of launch/tasks_jobs.txt and launch/claims_jobs.txt whose workdir has no
finished launch of that line's config (lines of one workdir one after another,
``--parallel`` workdirs at a time; logs in workdirs/logs/), appends the time of each
line to workdirs/reproduce_times.jsonl as it ends, then ``python launch/report.py
--results=RESULTS``, which publishes only experiments whose launch finished. A failed
line is named in one line and the others still run. Stopped at any point (even killed),
rerun the same command: it continues where it stopped, and counts the time the stopped
lines had run. At the end it writes DOCS/reproduction.md, the time of every workdir and
the total, and once every line has finished and the report was written, the total into
the README (between "<!-- reproduce:begin -->" and "<!-- reproduce:end -->");
``--times_only --workdirs=CLONE/workdirs`` writes them here from a clone's reproduction.
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
  ap.add_argument("--docs", default="docs", help="where reproduction.md goes")
  ap.add_argument("--readme", default="README.md")
  ap.add_argument("--compare", default=None,
                  help="the report lists every verdict that differs from this claims.md's "
                       "(e.g. docs/claims.md with a scratch --results; default: the report's)")
  ap.add_argument("--workdirs", default="workdirs")
  ap.add_argument("--jobs", nargs="+", default=["launch/tasks_jobs.txt",
                                                 "launch/claims_jobs.txt"])
  ap.add_argument("--parallel", type=int, default=1, help="workdirs trained at once")
  ap.add_argument("--dry_run", action="store_true", help="list the lines to run and stop")
  ap.add_argument("--times_only", action="store_true",
                  help="train nothing: write DOCS/reproduction.md (and the README's total "
                       "once every line of WORKDIRS finished) from WORKDIRS' times")
  args = ap.parse_args()
  from gtickets import experiments  # noqa: F401  (registers the experiments)
  from gtickets.commands import reproduce
  from gtickets.commands.jobs import ReportError
  try:
    lines = reproduce.plan(args.jobs, args.workdirs, ROOT)
    with open(args.readme) as f:  # its markers are checked before hours of training
      reproduce.readme_with_total(f.read(), args.readme, "")
  except (ReportError, OSError) as e:
    sys.exit(f"error: {e}")
  todo = [l for l in lines if not l.done]
  print(f"{len(lines)} jobs lines: {len(lines) - len(todo)} finished, {len(todo)} to run")
  for line in todo:
    print(f"  {line.name} {line.args}")
  if args.dry_run:
    return
  if args.times_only:
    write_times(args, complete_report=True)
    return
  start = time.time()
  reproduce.stop_on_sigterm()
  try:
    times = reproduce.run(lines, args.workdirs, ROOT, args.parallel)
  except KeyboardInterrupt:
    sys.exit("interrupted: every running launch was stopped and saved; rerun the same "
             "command to continue where it stopped")
  total = time.time() - start
  failed = [name for name, runs in times.items() if any(rc for _, rc, _ in runs)]
  so_far = sum(r["seconds"] for r in reproduce.read_times(args.workdirs))
  print(f"trained in {total:.0f} s (every line so far: {so_far:.0f} s, "
        f"{os.path.join(args.workdirs, 'reproduce_times.jsonl')})"
        + (f"; failed: {', '.join(failed)}" if failed else ""))
  rc = subprocess.call([sys.executable, os.path.join(ROOT, "launch", "report.py"),
                        f"--results={args.results}", f"--workdirs={args.workdirs}",
                        f"--docs={args.docs}", f"--readme={args.readme}"]
                       + ([f"--compare={args.compare}"] if args.compare else []), cwd=ROOT)
  write_times(args, complete_report=not (failed or rc))
  sys.exit(1 if failed or rc else 0)


def write_times(args, complete_report):
  """DOCS/reproduction.md from the times so far; the README's total once all finished."""
  from gtickets import storage  # pylint: disable=import-outside-toplevel
  from gtickets.commands import reproduce  # pylint: disable=import-outside-toplevel
  from gtickets.commands.jobs import ReportError  # pylint: disable=import-outside-toplevel
  lines = reproduce.plan(args.jobs, args.workdirs, ROOT)
  records = reproduce.read_times(args.workdirs)
  text, total, all_done = reproduce.breakdown(records, lines)
  doc = os.path.join(args.docs, "reproduction.md")
  storage.write_text(doc, text)
  print(f"wrote {doc}: {total / 3600:.2f} h so far")
  if all_done and complete_report:
    with open(args.readme) as f:
      readme = f.read()
    machines = ", ".join(sorted({r.get("machine", "unknown machine") for r in records}))
    sentence = (f"{total / 3600:.1f} h on {machines}"
                f" (every experiment's share: [docs/reproduction.md](docs/reproduction.md))")
    try:
      storage.write_text(args.readme, reproduce.readme_with_total(readme, args.readme, sentence))
    except ReportError as e:
      sys.exit(f"error: {e}")


if __name__ == "__main__":
  main()
