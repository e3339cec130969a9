"""Results in one call: every finished phase of a workdir as pandas tables.

  from gtickets import results
  r = results.load("workdirs/modadd")
  r.runs     # one row per run per phase: phase, run, its settings (seed, variant,
             # prune_ratio, mask_step, lr, weight_decay, task, model, ...) and measures
             # (t_mem, t_gen, tau_grok, final accuracies; "not reached" is NaN)
  r.curves   # long form: phase, run, step, metric, value (every evaluated step)
  results.load_many(["workdirs/a", "workdirs/b"]).runs   # stacked, column "workdir"

A phase is a folder with a ``runs.json`` (nested ones too: a sweep's groups, the
precision experiment's bases). One that is not finished, or whose curves belong to
another run table, is refused with one line (``ResultsError``), as the claims report
refuses it; ``phases=`` picks the ones to read.
"""
import dataclasses
import os

from gtickets import identity, storage
from gtickets.training.trainer import METRICS


class ResultsError(RuntimeError):
  """A folder holds no phase, or a phase that cannot be read as finished (one line)."""


@dataclasses.dataclass
class Results:
  runs: object    # pandas.DataFrame: a row per run per phase
  curves: object  # pandas.DataFrame: phase, run, step, metric, value


def phases_in(workdir):
  """The phase folders below ``workdir`` (relative paths, sorted)."""
  out = []
  for d, dirs, files in os.walk(workdir):
    dirs[:] = sorted(x for x in dirs if x not in ("checkpoints", "metrics", "tb", "masks",
                                                    "start_params"))
    if "runs.json" in files:
      out.append(os.path.relpath(d, workdir))
  return sorted(out)


def _phase_settings(stored):
  """What every run of a phase shares, from its stored identity (neutral values filled
  in): task and model in words, lr, weight decay, steps."""
  from gtickets import models, tasks  # pylint: disable=import-outside-toplevel
  return {"task": tasks.describe(identity.stored_section(stored, "task")),
          "model": models.describe(identity.stored_section(stored, "model")),
          "lr": identity.value(stored, "optim.lr"),
          "weight_decay": identity.value(stored, "optim.weight_decay"),
          "steps": identity.value(stored, "train.num_steps")}


def _read_phase(workdir, phase):
  d = os.path.join(workdir, phase)
  where = os.path.join(workdir, phase)
  for f in ("runs.json", "summary.json", "curves.npz"):
    if not os.path.exists(os.path.join(d, f)):
      raise ResultsError(f"{where}: not finished (no {f}); rerun its launch to finish it, "
                         "or load other phases (phases=[...])")
  try:
    manifest = storage.read_json(os.path.join(d, "runs.json"), "restore it or rerun")
    rows = storage.read_json(os.path.join(d, "summary.json"), "restore it or rerun")
    z = storage.load_npz(os.path.join(d, "curves.npz"), ("steps", "phase_id") + METRICS,
                         "restore it or rerun")
  except storage.CorruptFile as e:
    raise ResultsError(str(e)) from None
  if str(z["phase_id"]) != storage.json_digest(manifest):
    raise ResultsError(f"{where}: its curves belong to another run table than its runs.json "
                       "(a foreign or half-rewritten phase); rerun its launch")
  if len(rows) != len(manifest["runs"]) or z["test_acc"].shape[0] != len(rows):
    raise ResultsError(f"{where}: summary.json has {len(rows)} runs, runs.json "
                       f"{len(manifest['runs'])}: rerun its launch")
  return manifest, rows, z


def load(workdir, phases=None):
  """The finished phases of ``workdir`` (all of them, or those named in ``phases``) as
  ``Results``; ResultsError (one line) for a folder with no phase or a phase that is
  not finished."""
  import pandas as pd  # pylint: disable=import-outside-toplevel
  if not os.path.isdir(workdir):
    raise ResultsError(f"{workdir} is not a folder")
  names = phases_in(workdir) if phases is None else list(phases)
  if not names:
    raise ResultsError(f"{workdir} holds no phase (no runs.json below it): is it a workdir?")
  runs, curves = [], []
  for phase in names:
    manifest, rows, z = _read_phase(workdir, phase)
    shared = _phase_settings(manifest["identity"])
    for i, row in enumerate(rows):
      runs.append({"phase": phase, **shared, **row})
      for metric in METRICS:
        curves.append(pd.DataFrame({"phase": phase, "run": row.get("run", i),
                                    "step": z["steps"], "metric": metric,
                                    "value": z[metric][i]}))
  table = pd.DataFrame(runs)
  for m in ("t_mem", "t_gen", "tau_grok"):
    if m in table:
      table[m] = pd.to_numeric(table[m], errors="coerce")  # None (not reached) -> NaN
  long = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
      columns=["phase", "run", "step", "metric", "value"])
  return Results(table, long)


def load_many(workdirs, phases=None):
  """``load`` of each workdir, stacked, with a column ``workdir`` naming each."""
  import pandas as pd  # pylint: disable=import-outside-toplevel
  parts = [(str(w), load(w, phases)) for w in workdirs]
  stack = lambda attr: pd.concat([getattr(r, attr).assign(workdir=w) for w, r in parts],
                                 ignore_index=True)
  return Results(stack("runs"), stack("curves"))


__all__ = ["Results", "ResultsError", "load", "load_many", "phases_in"]
