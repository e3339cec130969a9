"""Jobs files (launch/*_jobs.txt): a workdir name and launcher arguments a line, each
resolved to its config exactly as the launcher reads it."""
import shlex

from gtickets import experiments


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


def resolve_jobs(paths, root):
  """{(workdir name, arguments): resolved config} of every line of the jobs files, or
  ReportError naming the first line that does not resolve (before anything changes)."""
  resolved = {}
  for path in paths:
    for name, args, where in _jobs_lines(path):
      if not args:
        raise ReportError(f"{where}: {name!r} has no launcher arguments")
      try:
        resolved[name, args] = config_of(args, root)
      except Exception as e:  # pylint: disable=broad-except  (any fault of a line is one line)
        first = (str(e).strip().splitlines() or [""])[0]
        raise ReportError(f"{where} ({name}) does not resolve: {type(e).__name__}: {first}")
  return resolved


def config_of(args, root):
  """The resolved config of a launcher command line's ``args``, read as launch/main.py
  reads them (``experiments.config_from_args``, config files relative to ``root``, the
  checkout)."""
  return experiments.validate(experiments.config_from_args(shlex.split(args), root=root))

