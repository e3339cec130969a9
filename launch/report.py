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
4. With ``--compare=FILE`` (default: docs/claims_before_issue24.md, the report
   before edge-popup followed the authors' scripts; docs/claims_before_issue23.md is
   the one before the contraction order), lists in claims.md every claim whose
   verdict differs from FILE's summary table.
A claim whose results are missing is listed as "not measured yet" with its command.
"""
import argparse
import os
import ast
import importlib.util
import shlex
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from ml_collections.config_flags import config_path  # noqa: E402

import gtickets.experiments  # noqa: E402  (registers every experiment's claims)
from gtickets import storage  # noqa: E402
from gtickets.experiment import claims as claims_lib  # noqa: E402

BEGIN, END = "<!-- claims:begin -->", "<!-- claims:end -->"
PHASE_FILES = ("summary.json", "curves.npz", "runs.json")


def read_jobs(path):
  """[(workdir name, launcher arguments)] of a run_jobs.sh jobs file."""
  with open(path) as f:
    entries = [ln.split(None, 1) for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
  return [(name, args.strip()) for name, args in entries]


def config_of(args):
  """The resolved config of a launcher command line's ``args`` (``--config=FILE[:ARG]``
  and ``--config.FIELD=VALUE`` overrides), as launch/main.py builds it."""
  words = shlex.split(args)
  path, _, arg = next(w for w in words if w.startswith("--config=")).split("=", 1)[1].partition(":")
  spec = importlib.util.spec_from_file_location("_claim_config", os.path.join(ROOT, path))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  c = module.get_config(arg or None)
  for w in words:
    if w.startswith("--config."):
      field, _, raw = w[len("--config."):].partition("=")
      old = config_path.get_value(field, c)
      try:
        value = ast.literal_eval(raw)
      except (ValueError, SyntaxError):
        value = raw
      if isinstance(old, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
      config_path.set_value(field, c, value)
  return gtickets.experiments.validate(c)


def verified_files(src, args):
  """(the files of workdir ``src`` that the last finished launch of the jobs line's
  ``args`` wrote or read, each still as that launch left it: relative paths, "") or
  (None, one line saying why nothing of it can be published)."""
  config = config_of(args)
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
  launch of one of its ``jobs`` lines (launcher arguments) wrote, verified (see
  ``verified_files``), each file atomically; a jobs line with nothing verified keeps
  the committed results and says why. Returns (files copied, [why lines])."""
  copied, why = 0, []
  for args in jobs:
    files, reason = verified_files(src, args)
    if files is None:
      why.append(f"{src}: kept the committed results of `{args}`: {reason}")
      continue
    for rel in sorted(files):
      if not os.path.isfile(os.path.join(src, rel)):
        continue
      out = os.path.join(dst, rel)
      os.makedirs(os.path.dirname(out), exist_ok=True)
      shutil.copyfile(os.path.join(src, rel), out + ".tmp")
      os.replace(out + ".tmp", out)
      copied += 1
    shutil.copyfile(os.path.join(src, "launches.jsonl"), os.path.join(dst, "launches.jsonl.tmp"))
    os.replace(os.path.join(dst, "launches.jsonl.tmp"), os.path.join(dst, "launches.jsonl"))
  return copied, why


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


def update_readme(path, table):
  with open(path) as f:
    text = f.read()
  if BEGIN not in text or END not in text:
    raise SystemExit(f"error: {path} has no {BEGIN} ... {END} markers for the claims table")
  head, rest = text.split(BEGIN, 1)
  _, tail = rest.split(END, 1)
  storage.write_text(path, head + BEGIN + "\n" + table + "\n" + END + tail)


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
  ap.add_argument("--compare", default="docs/claims_before_issue24.md",
                  help="an earlier claims report whose verdicts to compare ('' for none)")
  args = ap.parse_args()
  for flag in ("jobs", "claims_jobs", "readme"):
    if getattr(args, flag) and not os.path.isfile(getattr(args, flag)):
      raise SystemExit(f"error: --{flag}={getattr(args, flag)} is not a file")
  task_rows = read_jobs(args.jobs)
  jobs = {}
  for name, line in task_rows + read_jobs(args.claims_jobs):
    jobs.setdefault(name, []).append(line)
  names = dict.fromkeys([w for c in claims_lib.CLAIMS for w in c.workdirs]
                        + [n for n, _ in task_rows])
  for name in names:
    src = os.path.join(args.workdirs, name)
    if not os.path.isdir(src):
      continue
    if name not in jobs:
      print(f"{src}: kept the committed results: no line of the jobs files names it")
      continue
    n, why = mirror(src, os.path.join(args.results, name), jobs[name])
    print("\n".join(why + ([f"{src}: {n} verified files copied to {args.results}/{name}"]
                           if n else [])))
  figures = os.path.join(args.docs, "figures")
  os.makedirs(figures, exist_ok=True)
  rows = evaluate(Root(args.results, task_rows), figures)
  text = claims_markdown(rows, newest_launch(Root(args.results, task_rows), names))
  if args.compare and os.path.exists(args.compare):
    text += "\n" + "\n".join(changed_verdicts(rows, verdicts_of(args.compare), args.compare))
  storage.write_text(os.path.join(args.docs, "claims.md"), text)
  table = summary_table(rows)
  if args.readme:
    update_readme(args.readme, readme_table(rows))
  print(table)
  print(f"wrote {os.path.join(args.docs, 'claims.md')}" + (f" and the table in {args.readme}"
                                                            if args.readme else ""))


if __name__ == "__main__":
  main()
