"""The whole paper in one command: every jobs line not yet finished, then the report.

``plan(jobs_files, workdirs, root)`` resolves every line (one line names a bad one,
before anything runs) and keeps those whose workdir has no finished launch of that
line's resolved config (a finished one would only be read back). ``run(plan, ...)``
trains them: the lines of one workdir one after another (one launcher per workdir),
``parallel`` workdirs at a time, each launch's output in ``<workdirs>/logs/<name>.log``
and its time appended to ``<workdirs>/reproduce_times.jsonl`` as it ends (the breakdown
survives a stop); a failed line is named in one line and the others go on. Stopped at any point,
rerunning continues where it stopped (every phase resumes from its last checkpoint).
"""
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time

from gtickets.commands.committed import verified_files
from gtickets.commands.jobs import resolve_jobs


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


def run(lines, workdirs, root, parallel=1, launcher=None, say=print):
  """Launches every line not done (see the module docstring); returns
  {name: [(args, rc, seconds)]}."""
  import shlex  # pylint: disable=import-outside-toplevel
  launcher = launcher or [sys.executable, os.path.join(root, "launch", "main.py")]
  os.makedirs(os.path.join(workdirs, "logs"), exist_ok=True)
  chains = {}
  for line in lines:
    if not line.done:
      chains.setdefault(line.name, []).append(line)
  times, lock, start = {}, threading.Lock(), time.time()
  queue = list(chains.items())

  def worker():
    while True:
      with lock:
        if not queue:
          return
        name, chain = queue.pop(0)
      for line in chain:
        began = time.time()
        with open(os.path.join(workdirs, "logs", f"{name}.log"), "a") as log:
          rc = subprocess.call(launcher + shlex.split(line.args) + [
              f"--workdir={os.path.join(workdirs, name)}", "--noprogress"],
                               stdout=log, stderr=subprocess.STDOUT, cwd=root)
        took = time.time() - began
        with lock:
          times.setdefault(name, []).append((line.args, rc, round(took, 1)))
          with open(os.path.join(workdirs, "reproduce_times.jsonl"), "a") as f:
            f.write(json.dumps({"workdir": name, "args": line.args, "rc": rc,
                                "seconds": round(took, 1), "ended": time.strftime(
                                    "%Y-%m-%dT%H:%M:%S")}) + "\n")
          say(f"{name} rc={rc} t={took:.0f}s (at {time.time() - start:.0f}s)"
              + ("" if rc == 0 else f": failed, see {os.path.join(workdirs, 'logs', name)}.log"))
  threads = [threading.Thread(target=worker) for _ in range(max(1, parallel))]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  return times


def read_times(workdirs):
  """[{workdir, args, rc, seconds, ended}] of every line run so far (all invocations)."""
  path = os.path.join(workdirs, "reproduce_times.jsonl")
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(l) for l in f if l.strip()]
