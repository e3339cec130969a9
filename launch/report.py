"""Writes the claims report, docs/claims.md, and its figures from finished workdirs.

  python launch/report.py [--workdirs=workdirs] [--results=docs/results] [--docs=docs]
                          [--readme=README.md] [--jobs=launch/tasks_jobs.txt]

1. Copies the small result files of every finished phase (summary.json,
   curves.npz, runs.json; the workdir's launches.jsonl and experiment JSONs; no
   checkpoints) of the workdirs the claims read from WORKDIRS into RESULTS, a
   folder that is committed: results measured in an earlier session stay
   reportable after its workdirs are gone.
2. Measures each claim (registered in its experiment's module, gtickets/experiments/)
   from RESULTS and writes
   DOCS/claims.md (a summary table, then per claim its command, seeds, machine,
   per-seed values, effect size and verdict) and DOCS/figures/claim_*.png.
3. Replaces the README's table between the markers "<!-- claims:begin -->" and
   "<!-- claims:end -->" with the summary table.
4. With ``--compare=FILE`` (default: docs/archive/claims_before_issue24.md, the report
   before edge-popup followed the authors' scripts; docs/archive/claims_before_issue23.md is
   the one before the contraction order), lists in claims.md every claim whose
   verdict differs from FILE's summary table.
A claim whose results are missing is listed as "not measured yet" with its command.

The committed results are what the report last wrote: RESULTS/manifest.json holds the
digest of every file there, and a file that no longer matches it (edited, cut, added
or gone) stops the report with one line naming it before anything is copied
(``--accept_edits`` takes the folder as it is). Launch records are merged, never
dropped. Every jobs line is resolved first (a bad one: one line, nothing changed).
Everything is built in a staging folder inside DOCS and published only at the end,
by renames that a Ctrl-C or SIGTERM waits for: an interrupted, refused or failed
report leaves docs/ and the README as they were. A claim that was measured and would
now be "not measured" is named on the terminal with its reason, and nothing is
published unless ``--allow_unmeasured``.
"""
import argparse
import os
import shlex
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from gtickets import signals  # noqa: E402  (the standard library only)


def _stop(signum, frame):
  """SIGINT / SIGTERM: stop (KeyboardInterrupt, raised again before publishing if a
  callback swallowed it); later signals are ignored."""
  signals.ignore_stops()
  signals.request_stop(signum)
  raise KeyboardInterrupt(f"signal {signum}")


UNPUBLISHED = "interrupted: nothing was published (docs/ and the README are as they were)"
if __name__ == "__main__":  # before the imports below (JAX): a stop during them is one line
  signals.stop_on(_stop)
try:
  import gtickets.experiments  # noqa: E402  (registers every experiment's claims)
  from gtickets import storage  # noqa: E402
  from gtickets.experiment import claims as claims_lib  # noqa: E402
except KeyboardInterrupt:
  sys.exit(UNPUBLISHED)

BEGIN, END = "<!-- claims:begin -->", "<!-- claims:end -->"
PHASE_FILES = ("summary.json", "curves.npz", "runs.json")
MANIFEST = "manifest.json"


class ReportError(RuntimeError):
  """The report cannot go on: one line, and nothing is published."""


def read_jobs(path):
  """[(workdir name, launcher arguments)] of a run_jobs.sh jobs file."""
  return [(name, args) for name, args, _ in _jobs_lines(path)]


def _jobs_lines(path):
  """[(workdir name, launcher arguments, "FILE line N")] of a jobs file."""
  out = []
  with open(path) as f:
    for n, ln in enumerate(f, 1):
      if ln.strip() and not ln.lstrip().startswith("#"):
        name, _, args = ln.strip().partition(" ")
        out.append((name, args.strip(), f"{path} line {n}"))
  return out


def resolve_jobs(paths):
  """{(workdir name, arguments): resolved config} of every line of the jobs files, or
  ReportError naming the first line that does not resolve (before anything changes)."""
  resolved = {}
  for path in paths:
    for name, args, where in _jobs_lines(path):
      if not args:
        raise ReportError(f"{where}: {name!r} has no launcher arguments")
      try:
        resolved[name, args] = config_of(args)
      except Exception as e:  # pylint: disable=broad-except  (any fault of a line is one line)
        first = (str(e).strip().splitlines() or [""])[0]
        raise ReportError(f"{where} ({name}) does not resolve: {type(e).__name__}: {first}")
  return resolved


def config_of(args):
  """The resolved config of a launcher command line's ``args``, read as launch/main.py
  reads them (``experiments.config_from_args``, config files relative to the checkout)."""
  return gtickets.experiments.validate(
      gtickets.experiments.config_from_args(shlex.split(args), root=ROOT))


def verified_files(src, config):
  """(the files of workdir ``src`` that the last finished launch of a jobs line's
  resolved ``config`` wrote or read, each still as that launch left it: relative
  paths, "") or (None, one line saying why nothing of it can be published)."""
  digest = storage.json_digest(config.to_dict())
  res = claims_lib.Results(src)
  try:
    launches = res.launches_all()
  except claims_lib.NotMeasured as e:
    return None, str(e)
  mine = [e for e in launches if e.get("status") == "finished"
          and e.get("experiment") == config.experiment and e.get("config_digest") == digest]
  if not mine:
    return None, ("no finished launch of it with a config record (launches there: "
                  + (", ".join(sorted({e.get('status', '?') + ' ' + e.get('experiment', '?')
                                      for e in launches})) or "none") + ")")
  last = mine[-1]
  files = set()
  for phase, rec in last["phases"].items():
    d = os.path.join(src, phase)
    try:
      stored_id = storage.json_digest(storage.read_json(os.path.join(d, "runs.json")))
      summary = storage.digest(os.path.join(d, "summary.json"))
    except (OSError, storage.CorruptFile) as e:
      return None, f"phase {phase}: {e}"
    if stored_id != rec["id"] or summary != rec["summary"]:
      return None, (f"phase {phase} changed after its launch of {last['started']} "
                    "(another launch used it since)")
    files.update(os.path.join(phase, f) for f in PHASE_FILES)
  for f, want in last.get("outputs", {}).items():
    path = os.path.join(src, f)
    if f.endswith(".json") and os.path.isfile(path) and storage.digest(path) == want:
      files.add(f)
    elif f.endswith(".json"):
      return None, f"{f} changed after its launch of {last['started']}"
  return files, ""


def mirror(src, dst, jobs):
  """Copies into ``dst`` the small result files of workdir ``src`` that a finished
  launch of one of its ``jobs`` lines ({arguments: resolved config}) wrote, verified
  (see ``verified_files``), and merges its launch records into dst's (none is
  dropped); a jobs line with nothing verified keeps the committed results and says
  why. Returns (files copied, [why lines])."""
  copied, why = 0, []
  for args, config in jobs.items():
    files, reason = verified_files(src, config)
    if files is None:
      why.append(f"{src}: kept the committed results of `{args}`: {reason}")
      continue
    for rel in sorted(files):
      if not os.path.isfile(os.path.join(src, rel)):
        continue
      out = os.path.join(dst, rel)
      os.makedirs(os.path.dirname(out), exist_ok=True)
      shutil.copyfile(os.path.join(src, rel), out)
      copied += 1
    merge_launches(os.path.join(src, "launches.jsonl"), os.path.join(dst, "launches.jsonl"))
  return copied, why


def merge_launches(src, dst):
  """dst's launch records, then those of ``src`` it lacks (each record once, in order)."""
  def lines(path):
    if not os.path.exists(path):
      return []
    with open(path) as f:
      return [ln.rstrip("\n") for ln in f if ln.strip()]
  have = lines(dst)
  new = [ln for ln in dict.fromkeys(lines(src)) if ln not in set(have)]
  if new:
    with open(dst, "w") as f:
      f.write("".join(ln + "\n" for ln in have + new))


def manifest_digests(results):
  """{relative path: sha256} of every file under ``results`` but the manifest."""
  out = {}
  for d, _, files in os.walk(results):
    for name in files:
      rel = os.path.relpath(os.path.join(d, name), results)
      if rel != MANIFEST:
        out[rel] = storage.digest(os.path.join(d, name))
  return dict(sorted(out.items()))


def check_manifest(results):
  """Raises ReportError naming the first committed file under ``results`` that differs
  from the manifest the report last wrote (edited, cut, gone or added); returns False
  when there is no manifest yet (the first report since manifests exist)."""
  path = os.path.join(results, MANIFEST)
  if not os.path.exists(path):
    return False
  try:
    want = storage.read_json(path, "restore it (git checkout)")["files"]
  except (storage.CorruptFile, KeyError, TypeError) as e:
    raise ReportError(f"{path} is unreadable ({e}): restore it (git checkout)") from None
  have = manifest_digests(results)
  bad = sorted(set(want) ^ set(have)) + sorted(f for f in set(want) & set(have)
                                               if want[f] != have[f])
  if bad:
    f = bad[0]
    what = ("is gone" if f not in have else "was added" if f not in want
            else "does not match the digest the report wrote")
    more = f" (and {len(bad) - 1} other file{'s' * (len(bad) > 2)})" if len(bad) > 1 else ""
    raise ReportError(
        f"{os.path.join(results, f)} {what}{more}: committed results change only through "
        "this report; restore them (git checkout -- " + results + ") or, if the change is "
        "meant, rerun with --accept_edits")
  return True


class Root:
  """{workdir name: claims.Results} over the results folder, plus the per-task rows."""

  def __init__(self, results, task_rows):
    self.results, self.task_rows = results, task_rows

  def __getitem__(self, name):
    return claims_lib.Results(os.path.join(self.results, name))


def seeds_of(res, experiment):
  for entry in reversed(res.launches(experiment)):
    return entry["seeds"]
  try:
    return sorted({r["seed"] for r in res.phase("dense").rows()})
  except claims_lib.NotMeasured:
    return []


def evaluate(root, figures):
  """[(claim, finding or None, error text, command, seeds, machine)] for every claim."""
  out = []
  for c in claims_lib.CLAIMS:
    res = root[c.workdirs[0]] if c.workdirs else None
    command, seeds, machine = c.command, ["per row"], "per row"
    try:
      if res:
        command = res.finished_command(c.experiment, c.command)
        seeds = seeds_of(res, c.experiment)
        machine = claims_lib.describe_machine(res.launches(c.experiment))
      finding, error = c.measure(root, figures), ""
    except claims_lib.NotMeasured as e:
      finding, error = None, str(e)
    out.append((c, finding, error, command, seeds, machine))
  return out


def summary_table(rows):
  lines = ["| claim | paper | command | seeds | measured here | verdict |",
           "| --- | --- | --- | --- | --- | --- |"]
  for c, f, _, command, seeds, _ in rows:
    seeds = ", ".join(map(str, seeds)) or "-"
    measured = f.measured if f else "not measured yet"
    verdict = f.verdict if f else "-"
    lines.append(f"| [{c.id}](docs/claims.md#{c.id.lower()}) | {c.statement} | `{command}` "
                 f"| {seeds} | {measured} | {verdict} |")
  return "\n".join(lines)


def headline(measured):
  """The measurement cut to its first clause, parentheses dropped: the README's number."""
  out, depth = [], 0
  for ch in measured:
    depth += ch == "("
    if not depth:
      out.append(ch)
    depth -= ch == ")" and depth > 0
  return " ".join("".join(out).split(";")[0].split()).replace(" :", ":").replace(" ,", ",")


def readme_table(rows):
  """The README's table: claim, verdict, one number (docs/claims.md has the rest)."""
  lines = ["| claim | verdict | measured (details, commands and seeds: docs/claims.md) |",
           "| --- | --- | --- |"]
  for c, f, _, _, _, _ in rows:
    number = headline(f.measured) if f else "not measured yet"
    lines.append(f"| [{c.id}](docs/claims.md#{c.id.lower()}): {c.statement} | "
                 f"{f.verdict if f else '-'} | {number} |")
  return "\n".join(lines)


def newest_launch(root, names):
  """The day the newest finished launch behind the report started (the report is a
  function of its results, so it carries their date, not the day it was written)."""
  days = []
  for n in names:
    try:
      days += [e["started"][:10] for e in root[n].launches_all()
               if e.get("status") == "finished"]
    except claims_lib.NotMeasured:
      pass  # an unreadable record: said where a claim reads it
  return max(days) if days else "no date (no finished launch)"


def claims_markdown(rows, when):
  parts = ["# Claims of the paper, measured here", "",
           f"Generated by `python launch/report.py` from the finished workdirs (launches up "
           f"to {when}; their small result files are kept in `docs/results/`). Nothing here "
           "is typed "
           "by hand; the rules behind each verdict are in each experiment's module "
           "(`gtickets/experiments/`). "
           "Speed-up = t_gen(slower) / t_gen(faster) per seed, t_gen = first evaluated step "
           "with test accuracy >= 0.95; a run that never reaches it counts as reaching it "
           "at the step budget, which makes its ratio a bound (shown as >= or <=).", "",
           summary_table(rows).replace("(docs/claims.md#", "(#"), ""]
  for c, f, error, command, seeds, machine in rows:
    parts += [f"## {c.id}", "", f"**Paper:** {c.statement}", "",
              f"**Command:** `{command}`", "",
              f"**Seeds:** {', '.join(map(str, seeds)) or '-'}; **machine:** {machine}", ""]
    if f is None:
      parts += [f"Not measured yet ({error}).", ""]
      continue
    parts += [f"**Measured:** {f.measured}", "", f"**Verdict:** {f.verdict} ({f.rule})", "",
              f.details, ""]
    parts += [f"![{c.id}](figures/{fig})" for fig in f.figures] + [""]
  return "\n".join(parts)


def verdicts_of(path):
  """{claim id: (seeds, verdict)} from the summary table of an earlier claims.md."""
  out = {}
  with open(path) as f:
    for line in f:
      cells = [c.strip() for c in line.strip().strip("|").split("|")]
      if len(cells) == 6 and cells[0].startswith("[") and "](" in cells[0]:
        out[cells[0][1:cells[0].index("]")]] = (cells[3], cells[5])
  return out


def changed_verdicts(rows, before, path):
  """A markdown section naming the claims whose verdict differs from ``before``."""
  lines = []
  for c, f, _, _, seeds, _ in rows:
    if c.id in before and f is not None and f.verdict != before[c.id][1]:
      lines.append(f"| {c.id} | {before[c.id][1]} (seeds {before[c.id][0]}) | {f.verdict} "
                   f"(seeds {', '.join(map(str, seeds))}) |")
  head = [f"## Verdicts that changed since `{path}`", ""]
  if not lines:
    return head + ["None.", ""]
  return head + ["Its per-seed tables stay there for comparison.", "",
                 "| claim | before | now |", "| --- | --- | --- |"] + lines + [""]


def readme_with_table(text, path, table):
  """The README ``text`` with ``table`` between its claims markers."""
  if BEGIN not in text or END not in text:
    raise ReportError(f"{path} has no {BEGIN} ... {END} markers for the claims table")
  head, rest = text.split(BEGIN, 1)
  _, tail = rest.split(END, 1)
  return head + BEGIN + "\n" + table + "\n" + END + tail


def unmeasured_now(rows, before):
  """Lines naming each claim that was measured in ``before`` (an earlier claims.md's
  {id: (seeds, verdict)}) and is not measured now, with the reason."""
  return [f"{c.id} was measured ({before[c.id][1]}) and is now not measured: {error}"
          for c, f, error, _, _, _ in rows
          if f is None and c.id in before and before[c.id][1] != "-"]


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


def build(args, stage):
  """Stages the report: results (committed ones plus verified new ones), figures,
  claims.md and the README; returns the claims' rows."""
  resolved = resolve_jobs([p for p in (args.jobs, args.claims_jobs) if p])
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


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
                  help=f"take RESULTS as it is now (its {MANIFEST} is rewritten)")
  ap.add_argument("--allow_unmeasured", action="store_true",
                  help="publish even if a claim measured before is now not measured")
  args = ap.parse_args()
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
    rows = build(args, stage)
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


if __name__ == "__main__":
  try:
    main()
  except KeyboardInterrupt:  # while the table is printed, after publishing
    sys.exit("interrupted after the report was published")
