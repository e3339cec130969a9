"""The claims report, built in a staging folder and published by renames.

``write(options)`` resolves every jobs line first, checks the committed results
against their manifest, copies what finished launches verified, measures every claim,
and publishes docs/claims.md, its figures, the results and the README's table at
once; an interrupted, refused or failed report leaves them as they were
(``ReportError``: one line). ``options`` holds the command line's fields
(launch/report.py).
"""
import argparse
import os
import shutil
import sys
import tempfile

from gtickets import signals, storage
from gtickets.commands import UNPUBLISHED
from gtickets.commands.claims_report import (Root, changed_verdicts, claims_markdown, evaluate,
                                             newest_launch, readme_table, readme_with_table,
                                             summary_table, unmeasured_now, verdicts_of)
from gtickets.commands.committed import MANIFEST, check_manifest, manifest_digests, mirror
from gtickets.commands.jobs import ReportError, read_jobs, resolve_jobs
from gtickets.experiment import claims as claims_lib

def parser(description=None):
  """The report's command line (launch/report.py)."""
  ap = argparse.ArgumentParser(description=description)
  ap.add_argument("--workdirs", default="workdirs")
  ap.add_argument("--results", default="docs/results")
  ap.add_argument("--docs", default="docs")
  ap.add_argument("--readme", default="README.md")
  ap.add_argument("--jobs", default="launch/tasks_jobs.txt",
                  help="the per-task rows (C10), one workdir and its launch arguments a line")
  ap.add_argument("--claims_jobs", default="launch/claims_jobs.txt",
                  help="the other claims' workdirs and launch arguments")
  ap.add_argument("--compare", default="docs/archive/claims_before_issue24.md",
                  help="an earlier claims report whose verdicts to compare ('' for none)")
  ap.add_argument("--accept_edits", action="store_true",
                  help="take RESULTS as it is now (its manifest.json is rewritten)")
  ap.add_argument("--allow_unmeasured", action="store_true",
                  help="publish even if a claim measured before is now not measured")
  return ap


def check_writable(paths):
  """ReportError naming the first of ``paths`` (files or folders) that cannot be written."""
  for p in paths:
    target = p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p))
    if os.path.exists(p) and not os.path.isdir(p) and not os.access(p, os.W_OK):
      raise ReportError(f"{p} is not writable: nothing was published")
    if not os.access(target, os.W_OK | os.X_OK):
      raise ReportError(f"{target} is not writable: nothing was published")


def publish(stage, args):
  """Moves the staged results, figures, claims.md and README into place (renames, which
  a signal waits for), the manifest last."""
  moves = []
  for d, _, files in os.walk(os.path.join(stage, "results")):
    for name in files:
      rel = os.path.relpath(os.path.join(d, name), os.path.join(stage, "results"))
      dst = os.path.join(args.results, rel)
      if rel == MANIFEST or not (os.path.exists(dst) and storage.digest(dst)
                                 == storage.digest(os.path.join(d, name))):
        moves.append((os.path.join(d, name), dst))
  moves.sort(key=lambda m: m[1].endswith(MANIFEST))  # the manifest last
  figures = os.path.join(args.docs, "figures")
  moves = [(os.path.join(stage, "figures", f), os.path.join(figures, f))
           for f in sorted(os.listdir(os.path.join(stage, "figures")))] + moves
  moves.insert(0, (os.path.join(stage, "claims.md"), os.path.join(args.docs, "claims.md")))
  if os.path.exists(os.path.join(stage, "README.md")):
    moves.insert(0, (os.path.join(stage, "README.md"), args.readme))
  with signals.deferred():
    for src, dst in moves:
      os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
      try:
        os.replace(src, dst)
      except OSError:  # another file system: copy, then rename beside the target
        shutil.copyfile(src, dst + ".tmp")
        os.replace(dst + ".tmp", dst)


def build(args, stage, root):
  """Stages the report: results (committed ones plus verified new ones), figures,
  claims.md and the README; returns the claims' rows."""
  resolved = resolve_jobs([p for p in (args.jobs, args.claims_jobs) if p], root)
  task_rows = read_jobs(args.jobs)
  check_writable([args.results if os.path.exists(args.results) else args.docs, args.docs,
                  os.path.join(args.docs, "figures") if os.path.isdir(
                      os.path.join(args.docs, "figures")) else args.docs]
                 + ([args.readme] if args.readme else []))
  if args.accept_edits:
    print(f"note: --accept_edits: {args.results} is taken as it is now")
  elif not check_manifest(args.results) and os.path.isdir(args.results):
    print(f"note: {args.results} has no {MANIFEST} yet; it records the committed files as "
          "they are now")
  results = os.path.join(stage, "results")
  if os.path.isdir(args.results):
    shutil.copytree(args.results, results, ignore=shutil.ignore_patterns(MANIFEST))
  else:
    os.makedirs(results)
  jobs = {}
  for (name, line), config in resolved.items():
    jobs.setdefault(name, {})[line] = config
  names = dict.fromkeys([w for c in claims_lib.CLAIMS for w in c.workdirs]
                        + [n for n, _ in task_rows])
  for name in names:
    src = os.path.join(args.workdirs, name)
    if not os.path.isdir(src):
      continue
    if name not in jobs:
      print(f"{src}: kept the committed results: no line of the jobs files names it")
      continue
    n, why = mirror(src, os.path.join(results, name), jobs[name])
    print("\n".join(why + ([f"{src}: {n} verified files copied to {args.results}/{name}"]
                           if n else [])))
  storage.write_json(os.path.join(results, MANIFEST), {"files": manifest_digests(results)})
  figures = os.path.join(stage, "figures")
  os.makedirs(figures)
  root = Root(results, task_rows)
  rows = [(c, f, error.replace(results, args.results), *rest)
          for c, f, error, *rest in evaluate(root, figures)]
  text = claims_markdown(rows, newest_launch(root, names)).replace(results, args.results)
  if args.compare and os.path.exists(args.compare):
    text += "\n" + "\n".join(changed_verdicts(rows, verdicts_of(args.compare), args.compare))
  storage.write_text(os.path.join(stage, "claims.md"), text)
  if args.readme:
    with open(args.readme) as f:
      text = readme_with_table(f.read(), args.readme, readme_table(rows))
    storage.write_text(os.path.join(stage, "README.md"), text)
  return rows


def write(args, root):
  """The whole report (``args``: the command line's options; ``root``: the checkout,
  against which jobs lines' config files resolve); exits with one line on a refusal."""
  stage = None
  try:
    for flag in ("jobs", "claims_jobs", "readme"):
      if getattr(args, flag) and not os.path.isfile(getattr(args, flag)):
        raise ReportError(f"--{flag}={getattr(args, flag)} is not a file")
    if os.path.exists(args.docs) and not os.path.isdir(args.docs):
      raise ReportError(f"--docs={args.docs} is not a folder")
    os.makedirs(args.docs, exist_ok=True)
    check_writable([args.docs])
    stage = tempfile.mkdtemp(prefix=".report-", dir=args.docs)
    rows = build(args, stage, root)
    signals.check_stop()  # a stop a callback swallowed: nothing is published
    lost = unmeasured_now(rows, verdicts_of(os.path.join(args.docs, "claims.md"))
                          if os.path.exists(os.path.join(args.docs, "claims.md")) else {})
    if lost and not args.allow_unmeasured:
      print("\n".join(lost), file=sys.stderr)
      raise ReportError(f"{len(lost)} claim{'s' * (len(lost) > 1)} would move from measured to "
                        "not measured (above); nothing was published (--allow_unmeasured "
                        "publishes anyway)")
    for line in lost:
      print(f"warning: {line}", file=sys.stderr)
    publish(stage, args)
  except ReportError as e:
    _exit(stage, f"error: {e}")
  except KeyboardInterrupt:
    _exit(stage, UNPUBLISHED)
  except OSError as e:
    if e.errno is None:
      raise
    _exit(stage, f"error: cannot write {e.filename or args.docs}: {e.strerror}; nothing was "
          "published")
  shutil.rmtree(stage, ignore_errors=True)
  print(summary_table(rows))
  print(f"wrote {os.path.join(args.docs, 'claims.md')}" + (f" and the table in {args.readme}"
                                                            if args.readme else ""))


def _exit(stage, message):
  signals.ignore_stops()
  if stage:
    shutil.rmtree(stage, ignore_errors=True)
  sys.exit(message)

