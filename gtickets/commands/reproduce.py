"""The whole paper in one command: every jobs line not yet finished, then the report.

``plan(jobs_files, workdirs, root)`` resolves every line (one line names a bad one,
before anything runs) and keeps those whose workdir has no finished launch of that
line's resolved config (a finished one would only be read back). ``run(plan, ...)``
trains them: the lines of one workdir one after another (one launcher per workdir),
``parallel`` workdirs at a time, each launch's output in ``<workdirs>/logs/<name>.log``
and its time appended to ``<workdirs>/reproduce_times.jsonl`` as it ends; a failed line is
named in one line and the others go on. Stopped at any point (even killed), rerunning
continues where it stopped (every phase resumes from its last checkpoint), and the time a
stopped line had run is not lost: each running line rewrites its heartbeat
(``<workdirs>/logs/<name>.running.json``) every ``HEARTBEAT_S``, and the next ``run``
appends a heartbeat left behind as a ``"stopped"`` record. ``breakdown(records)`` is the
per-workdir table of those times (docs/reproduction.md).
"""
import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time

from gtickets.commands.claims_report import between_markers
from gtickets.commands.committed import verified_files
from gtickets.commands.jobs import resolve_jobs
from gtickets.commands.launches import cpu_model


@dataclasses.dataclass
class Line:
  name: str    # the workdir under --workdirs
  args: str    # the launcher's arguments
  done: bool   # a finished launch of its resolved config is there


def plan(jobs_files, workdirs, root):
  """[Line] of every jobs line, in file order (ReportError names a line that does not
  resolve)."""
  out = []
  for (name, args), config in resolve_jobs(jobs_files, root).items():
    src = os.path.join(workdirs, name)
    done = os.path.isdir(src) and verified_files(src, config)[0] is not None
    out.append(Line(name, args, done))
  return out


HEARTBEAT_S = 30
TIMES = "reproduce_times.jsonl"
BEGIN, END = "<!-- reproduce:begin -->", "<!-- reproduce:end -->"


# This process only starts launchers: its files are written with plain writes, not
# storage's (which ask JAX for the process index, and JAX would then take the
# accelerator's memory that the launchers need).
def _append(workdirs, record):
  with open(os.path.join(workdirs, TIMES), "a") as f:
    f.write(json.dumps(record) + "\n")


def settle_stopped(workdirs):
  """Appends every heartbeat a stopped ``run`` left (a line cut before it ended) to the
  times as ``"stopped"`` with the seconds it had run, and removes it; returns them."""
  logs, out = os.path.join(workdirs, "logs"), []
  for fname in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
    if fname.endswith(".running.json"):
      path = os.path.join(logs, fname)
      try:
        with open(path) as f:
          record = dict(json.load(f), rc="stopped")
      except (OSError, ValueError):
        record = None  # cut while it was written: its last seconds are lost (<= HEARTBEAT_S)
      if record is not None:
        _append(workdirs, record)
        out.append(record)
      os.remove(path)
  return out


def stop_on_sigterm():
  """SIGTERM (a scheduler's or a time limit's stop) raises KeyboardInterrupt as Ctrl-C
  does, so ``run`` stops its launchers rather than leaving them running."""
  def stop(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")
  signal.signal(signal.SIGTERM, stop)


def run(lines, workdirs, root, parallel=1, launcher=None, say=print):
  """Launches every line not done (see the module docstring); returns
  {name: [(args, rc, seconds)]}. A KeyboardInterrupt here (Ctrl-C; launch/reproduce.py
  turns SIGTERM into one) stops every running launcher with SIGINT (each records its
  launch as interrupted), records their lines as ``"stopped"``, starts no other line,
  and is raised again."""
  import shlex  # pylint: disable=import-outside-toplevel
  launcher = launcher or [sys.executable, os.path.join(root, "launch", "main.py")]
  os.makedirs(os.path.join(workdirs, "logs"), exist_ok=True)
  for r in settle_stopped(workdirs):
    say(f"{r['workdir']}: {r['seconds']:.0f} s of an earlier stopped run counted")
  chains = {}
  for line in lines:
    if not line.done:
      chains.setdefault(line.name, []).append(line)
  times, lock, start, machine = {}, threading.Lock(), time.time(), f"{os.cpu_count()} x {cpu_model()}"
  queue, live, stopping = list(chains.items()), set(), threading.Event()

  def worker(done):
    try:
      work()
    finally:
      done.set()

  def work():
    while True:
      with lock:
        if not queue or stopping.is_set():
          return
        name, chain = queue.pop(0)
      for line in chain:
        began = time.time()
        beat = os.path.join(workdirs, "logs", f"{name}.running.json")
        record = {"workdir": name, "args": line.args, "machine": machine,
                  "load_at_start": round(os.getloadavg()[0], 2),
                  "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
        with open(os.path.join(workdirs, "logs", f"{name}.log"), "a") as log:
          with lock:
            if stopping.is_set():
              return
            proc = subprocess.Popen(launcher + shlex.split(line.args) + [
                f"--workdir={os.path.join(workdirs, name)}", "--noprogress"],
                                    stdout=log, stderr=subprocess.STDOUT, cwd=root)
            live.add(proc)
          while True:
            try:
              rc = proc.wait(timeout=HEARTBEAT_S)
              break
            except subprocess.TimeoutExpired:
              tmp = beat + ".tmp"
              with open(tmp, "w") as f:
                json.dump(dict(record, seconds=round(time.time() - began, 1)), f)
              os.replace(tmp, beat)
        took = time.time() - began
        with lock:
          live.discard(proc)
          if stopping.is_set() and rc != 0:
            rc = "stopped"
          times.setdefault(name, []).append((line.args, rc, round(took, 1)))
          _append(workdirs, dict(record, rc=rc, seconds=round(took, 1),
                                 ended=time.strftime("%Y-%m-%dT%H:%M:%S")))
          if os.path.exists(beat):
            os.remove(beat)
          say(f"{name} rc={rc} t={took:.0f}s (at {time.time() - start:.0f}s)"
              + ("" if rc in (0, "stopped") else
                 f": failed, see {os.path.join(workdirs, 'logs', name)}.log"))
          if stopping.is_set():
            return
  done = [threading.Event() for _ in range(max(1, parallel))]
  for d in done:
    threading.Thread(target=worker, args=(d,)).start()
  # waits by polling: after a KeyboardInterrupt inside Thread.join, a second join
  # returned at once here and the process exited under the worker (its record lost)
  try:
    while not all(d.is_set() for d in done):
      time.sleep(0.2)
  except KeyboardInterrupt:
    with lock:
      stopping.set()
      for proc in live:
        proc.send_signal(signal.SIGINT)
    while not all(d.is_set() for d in done):  # each records its line as the launcher ends
      time.sleep(0.2)
    raise
  return times


def read_times(workdirs):
  """[{workdir, args, rc, seconds, ...}] of every line run so far (all invocations)."""
  path = os.path.join(workdirs, TIMES)
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(l) for l in f if l.strip()]


def breakdown(records, lines):
  """Markdown: the time of every jobs line (its finished, failed, stopped and resumed
  launches all counted), the machines and the largest load seen at a line's start, and
  the total; ``lines`` (plan's) say which are still to run. Launches of lines the jobs
  files no longer hold (a line replaced while the reproduction ran) are listed apart and
  left out of the total. Returns (text, total seconds, whether every line has finished)."""
  current = {(l.name, l.args) for l in lines}
  old = [r for r in records if (r["workdir"], r["args"]) not in current]
  records = [r for r in records if (r["workdir"], r["args"]) in current]
  per = _per_line(records)
  todo = [l for l in lines if not l.done]
  total = sum(r["seconds"] for r in records)
  machines = sorted({r.get("machine", "unknown machine") for r in records})
  load = max((r.get("load_at_start", 0.0) for r in records), default=0.0)
  out = ["# The whole paper: the time of one reproduction", "",
         f"Generated by `python launch/reproduce.py` from the `{TIMES}` of its workdirs "
         "(every launch it made, stopped and resumed ones included); do not edit.", "",
         f"Total: **{total / 3600:.2f} h** ({total:.0f} s) on {', '.join(machines) or '-'}; "
         f"the largest 1-minute load average at the start of a line: {load:.2f}.", "",
         ("Every jobs line finished." if not todo else
          f"**Not complete**: {len(todo)} of {len(lines)} jobs lines still to run."), "",
         "| workdir | jobs line | hours | share | launches | stopped, resumed | failed |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
  for (name, args), row in sorted(per.items(), key=lambda kv: -kv[1]["seconds"]):
    out.append(f"| {name} | `{args}` | {row['seconds'] / 3600:.2f} | "
               f"{row['seconds'] / max(total, 1e-9):.0%} | {row['runs']} | "
               f"{row['stopped']} | {row['failed']} |")
  for l in todo:
    if (l.name, l.args) not in per:
      out.append(f"| {l.name} | `{l.args}` | not run yet | | | | |")
  if old:
    out += ["", f"Not in the total: {sum(r['seconds'] for r in old) / 3600:.2f} h of launches "
            "of lines the jobs files no longer hold (replaced while this reproduction ran):", "",
            "| workdir | jobs line | hours | launches |", "| --- | --- | ---: | ---: |"]
    for (name, args), row in _per_line(old).items():
      out.append(f"| {name} | `{args}` | {row['seconds'] / 3600:.2f} | {row['runs']} |")
  return "\n".join(out) + "\n", total, not todo


def _per_line(records):
  """{(workdir, args): seconds, launches, stopped and failed ones} over ``records``."""
  per = {}
  for r in records:
    row = per.setdefault((r["workdir"], r["args"]),
                         {"seconds": 0.0, "runs": 0, "stopped": 0, "failed": 0})
    row["seconds"] += r["seconds"]
    row["runs"] += 1
    row["stopped"] += r["rc"] == "stopped"
    row["failed"] += r["rc"] not in (0, "stopped")
  return per


def readme_with_total(text, path, sentence):
  """The README ``text`` with ``sentence`` between its reproduce markers."""
  return between_markers(text, path, BEGIN, END, sentence, "the reproduction time")
