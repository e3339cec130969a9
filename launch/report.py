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
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from gtickets import signals  # noqa: E402  (the standard library only)
from gtickets.commands import UNPUBLISHED  # noqa: E402  (a string: nothing heavy)


def _stop(signum, frame):
  """SIGINT / SIGTERM: stop (KeyboardInterrupt, raised again before publishing if a
  callback swallowed it); later signals are ignored."""
  signals.ignore_stops()
  signals.request_stop(signum)
  raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":  # before the imports below (JAX): a stop during them is one line
  signals.stop_on(_stop)
try:
  import gtickets.experiments  # noqa: E402,F401  (registers every experiment's claims)
  from gtickets.commands import report  # noqa: E402
except KeyboardInterrupt:
  sys.exit(UNPUBLISHED)
except ImportError:
  if signals.stopped():  # the stop landed in jaxlib's initialization
    sys.exit(UNPUBLISHED)
  raise


def main():
  report.write(report.parser(__doc__.splitlines()[0]).parse_args(), ROOT)


if __name__ == "__main__":
  try:
    main()
  except KeyboardInterrupt:  # while the table is printed, after publishing
    sys.exit("interrupted after the report was published")
