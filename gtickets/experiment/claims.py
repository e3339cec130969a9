"""The paper's claims, each measured from finished results (``launch/report.py``).

A claim is one function registered with :func:`claim`: it reads the phases it
needs through a :class:`Results` (a workdir's small result files: per-run
summaries, curves, run records) and returns a :class:`Finding`: a one-line
measurement, per-seed tables, an effect size, a figure and a verdict computed by
the rule written in the function. Nothing in a finding is typed by hand; adding
a claim is one more decorated function, in the module of its experiment
(gtickets/experiments/).

Effect sizes are speed-ups: t_gen(slower) / t_gen(faster) per seed. A run that
never reaches the threshold counts as reaching it at the step budget, so its
speed-up is a bound (">=" or "<=") and is shown as one; when neither reaches it
there is no ratio ("n/a"). Speed-up words: "many times" >= MUCH (3x), "sooner"
> SOME (1.25x), else "no faster".
"""
import dataclasses
import json
import os
from typing import Callable, Optional

import numpy as np
import pandas as pd

from gtickets import identity, storage
from gtickets.experiment import report
from gtickets.experiment.phase import PhaseResult
from gtickets.experiment.pipeline import base_at_mask
from gtickets.training.trainer import METRICS

THRESHOLD = 0.95  # the test accuracy the claims read t_gen at (the launches' default)
MUCH = 3.0    # a median speed-up >= MUCH is "many times sooner"
SOME = 1.25   # a median speed-up <= SOME is "no faster"


class NotMeasured(Exception):
  """The results a claim needs are not there (yet)."""


@dataclasses.dataclass
class Finding:
  measured: str            # one line for the summary table
  verdict: str             # "agrees", "partly", "no", or "finding" (not a paper claim)
  rule: str                # how the verdict follows from the numbers
  details: str = ""        # markdown: per-seed tables
  figures: tuple = ()      # file names written under the figures folder


@dataclasses.dataclass(frozen=True)
class Claim:
  id: str
  statement: str           # the paper's claim, in a line
  workdirs: tuple          # the folders under the results root it reads (first: its own)
  command: str             # the command that produces the first folder's results
  experiment: str          # that command's experiment (its launch records)
  measure: Callable        # (root: {workdir name: Results}, figures_dir) -> Finding


CLAIMS = []


KINDS = "CGPAIMX"  # the report's order: the paper's claims, its findings, this project's,
#                   then claims of experiments added outside the package (X)


def claim(id, statement, workdirs, command, experiment):
  """Registers ``fn(root, figures_dir) -> Finding`` as a claim of the report;
  ``root[name]`` is the :class:`Results` of the workdir ``name``. Claims are kept in
  the report's order: by kind (``KINDS``), then number."""
  def register(fn):
    if id[:1] not in KINDS or not id[1:].isdigit():
      raise ValueError(f"claim id {id!r}: a letter of {KINDS!r} and a number, e.g. X1")
    if any(c.id == id for c in CLAIMS):
      raise ValueError(f"claim {id} is registered twice")
    CLAIMS.append(Claim(id, statement, tuple(workdirs), command, experiment, fn))
    CLAIMS.sort(key=lambda c: (KINDS.index(c.id[0]), int(c.id[1:])))
    return fn
  return register


class Results:
  """The result files of one workdir: phases (summary.json + curves.npz), the
  experiments' JSON outputs and ``launches.jsonl``."""

  def __init__(self, directory):
    self.directory = directory

  def exists(self, *parts):
    return os.path.exists(os.path.join(self.directory, *parts))

  def phase(self, name) -> PhaseResult:
    d = os.path.join(self.directory, name)
    if not (os.path.exists(os.path.join(d, "summary.json"))
            and os.path.exists(os.path.join(d, "curves.npz"))):
      raise NotMeasured(f"phase {name!r} of {self.directory} is not finished")
    try:
      rows = storage.read_json(os.path.join(d, "summary.json"), "restore it (git checkout)")
      z = storage.load_npz(os.path.join(d, "curves.npz"), ("steps",) + METRICS,
                           "restore it (git checkout)")
    except storage.CorruptFile as e:
      raise NotMeasured(str(e)) from None
    steps, curves = z["steps"], {k: z[k] for k in METRICS}
    return PhaseResult(name, d, rows, steps, curves, [{} for _ in rows])

  def loss_name(self, phase):
    """The loss a phase trained with, from its runs.json: 'cross-entropy (MODE)' or 'MSE'."""
    stored = self.json(os.path.join(phase, "runs.json"))["identity"]
    from gtickets import tasks
    if tasks.MODULES[identity.value(stored, "task.name")].LOSS != "cross_entropy":
      return "MSE"
    return f"cross-entropy ({identity.value(stored, 'train.cross_entropy')})"

  def labels(self, phase, **task_fields):
    """(task, model) of a phase in words, from the settings its runs.json stores (with
    ``task_fields`` in place: a run's own operation): the task's and the model's own
    ``describe`` (with ', layer-wise masks' for masks cut per matrix)."""
    stored = self.json(os.path.join(phase, "runs.json"))["identity"]
    from gtickets import models, tasks
    model = models.describe(identity.stored_section(stored, "model"))
    if identity.value(stored, "ticket.scope") == "layer":
      model += ", layer-wise masks"
    task = identity.stored_section(stored, "task")
    task.update(task_fields)
    return tasks.describe(task), model

  def contraction(self, phase):
    """The model's contraction order a phase trained with (models/contraction.py);
    '' for models without one."""
    stored = self.json(os.path.join(phase, "runs.json"))["identity"]
    if identity.value(stored, "model.name") not in ("mlp", "transformer"):
      return ""
    return identity.value(stored, "model.contraction")

  def json(self, name):
    path = os.path.join(self.directory, name)
    if not os.path.exists(path):
      raise NotMeasured(f"{path} is missing")
    try:
      return storage.read_json(path, "restore it (git checkout)")
    except storage.CorruptFile as e:
      raise NotMeasured(str(e)) from None

  def finished_command(self, experiment, fallback):
    """The commands of the finished launches of ``experiment``, each once ("; " between:
    a workdir two configs share, as IMP's weight decays), else ``fallback``."""
    finished = [e["command"] for e in self.launches(experiment) if e["status"] == "finished"]
    return "; ".join(dict.fromkeys(finished)) or fallback

  def launches(self, experiment):
    """Launch records (launch/main.py) of ``experiment`` in this workdir."""
    return [e for e in self.launches_all() if e["experiment"] == experiment]

  def launches_all(self):
    path = os.path.join(self.directory, "launches.jsonl")
    if not os.path.exists(path):
      return []
    out = []
    with open(path) as f:
      for n, line in enumerate(f, 1):
        if line.strip():
          try:
            out.append(json.loads(line))
          except json.JSONDecodeError:
            raise NotMeasured(f"{path} line {n} is not valid JSON (cut?): restore it "
                              "(git checkout) or delete that line") from None
    return out


def describe_machine(launches):
  """Where the results were measured, from the launch records: the finished launches of
  the newest finished launch's seeds (a rerun at other seeds replaced the older results;
  one at the same seeds shows each machine that measured them)."""
  finished = [e for e in launches if e.get("status") == "finished"]
  if finished and "seeds" in finished[-1]:
    launches = [e for e in finished if e.get("seeds") == finished[-1]["seeds"]]
  seen = []
  for e in launches:
    m = e["machine"]
    # "device_count" since 2026-12-01; earlier records say it only as "N x kind"
    n_dev = m.get("device_count") or int(str(m.get("devices", "1")).split(" x ")[0] or 1)
    where = (f"{m['cpu_count']} CPU cores ({m['cpu']})"
             + (f" as {n_dev} host devices" if n_dev > 1 else "") if m["backend"] == "cpu"
             else f"{m['devices']} ({m['backend']})") + f", jax {m['jax']}"
    if where not in seen:
      seen.append(where)
  return "; ".join(seen) if seen else "not recorded"


# ---------------------------------------------------------------- effect sizes

@dataclasses.dataclass(frozen=True)
class Speedup:
  value: Optional[float]   # None: neither run reached the threshold
  bound: str = "="         # "=", ">=" (the slower never reached), "<=" (the faster never
  #                          did), "~" (a median of bounds both ways: neither)

  def __str__(self):
    if self.value is None:
      return "n/a"
    return ("" if self.bound == "=" else self.bound) + f"{self.value:.2g}x"


def median_bound(pairs):
  """(median, bound) of (value, bound) pairs, a bound ">=" meaning the true value is at
  least ``value`` (a run that never reached the threshold, counted at the budget), "<="
  at most, "~" either. The true median lies between the medians of the lowest and
  highest values the pairs allow: "=" when those agree (the bounds do not reach the
  middle), ">=" or "<=" when one side is open, "~" when both are."""
  values = np.array([v for v, _ in pairs], float)
  lows = np.array([v if b in ("=", ">=") else 0.0 for v, b in pairs], float)
  highs = np.array([v if b in ("=", "<=") else np.inf for v, b in pairs], float)
  med, lo, hi = (float(np.median(x)) for x in (values, lows, highs))
  if lo == hi:
    return med, "="
  return med, ">=" if lo == med else "<=" if hi == med else "~"


def median_steps(ts, budget):
  """The median of t_gen values (None: not reached, counted at ``budget``), as text with
  its bound: '12,300', '>=15,150'."""
  med, bound = median_bound([(budget, ">=") if t is None else (t, "=") for t in ts])
  return ("" if bound == "=" else bound) + f"{med:,.0f}"


def speedup(t_slow, t_fast, budget):
  """t_slow / t_fast, a run that never reached the threshold counted at ``budget``."""
  if t_slow is None and t_fast is None:
    return Speedup(None)
  if t_slow is None:
    return Speedup(budget / t_fast, ">=")
  if t_fast is None:
    return Speedup(t_slow / budget, "<=")
  return Speedup(t_slow / t_fast)


def summarize(speedups):
  """(median or None, 'median Mx (range a-b; notes)') over the defined speed-ups; a
  median that bounds reach is shown as a bound (``median_bound``: '>=Mx', '<=Mx', '~Mx')."""
  vals = [s for s in speedups if s.value is not None]
  if not vals:
    return None, "no ratio (neither reached the threshold on any seed)"
  v = np.array([s.value for s in vals])
  med, bound = median_bound([(s.value, s.bound) for s in vals])
  notes = []
  lower = sum(s.bound == ">=" for s in vals)
  upper = sum(s.bound == "<=" for s in vals)
  if lower:
    notes.append(f"{lower} lower bound{'s' * (lower > 1)}: the slower run never reached it")
  if upper:
    notes.append(f"{upper} upper bound{'s' * (upper > 1)}: the faster run never reached it")
  if len(vals) < len(speedups):
    notes.append(f"{len(speedups) - len(vals)} with neither reaching it")
  text = f"median {Speedup(med, bound)} (range {v.min():.2g}x-{v.max():.2g}x"
  return med, text + ("; " + "; ".join(notes) if notes else "") + ")"


def speed_words(median):
  if median is None:
    return "no ratio"
  if median >= MUCH:
    return "many times sooner"
  if median > SOME:
    return "sooner, not many times"
  return "no faster"


def steps(t):
  return "-" if t is None else f"{t:,}"


def by_seed(rows, **match):
  """{seed: row} of the rows whose fields equal ``match``."""
  return {r["seed"]: r for r in rows if all(r.get(k) == v for k, v in match.items())}


def t_gen_cell(rows, seeds):
  """'t_gen per seed; final test acc per seed' of {seed: row}."""
  return (" / ".join(steps(rows[s]["t_gen"]) for s in seeds) + "; final "
          + " / ".join(f"{rows[s]['final_test_acc']:.2f}" for s in seeds))


def base_cells(dense, rows):
  """{seed: the base run's test accuracy at the mask step of that seed's row, flagged
  when below THRESHOLD (a ticket cut there is not a grokked one)} of {seed: row}."""
  seeds = list(rows)
  found = base_at_mask(dense, [rows[s] for s in seeds], THRESHOLD)
  return {s: f"{b['base_test_acc']:.3f}" + ("" if b["base_generalized"] else
                                             " (below threshold: not grokked)")
          for s, b in zip(seeds, found) if b["base_test_acc"] is not None}


def seed_table(columns, seeds):
  """Markdown: one row per seed; ``columns`` = [(header, {seed: text})]."""
  frame = pd.DataFrame({h: [str(c.get(s, "")) for s in seeds] for h, c in columns},
                       index=pd.Index([str(s) for s in seeds], name="seed"))
  return frame.reset_index().to_markdown(index=False, disable_numparse=True)


def budget_of(phase):
  return int(phase.steps[-1])


# ---------------------------------------------------------------- shared by several claims

ABLATIONS = "modadd_ablations"  # the workdir of the ablations' configs (configs/modadd.py)


def verdict_no_faster(medians):
  """Agrees when every median speed-up (over dense) is <= SOME."""
  known = [m for m in medians if m is not None]
  if not known or all(m <= SOME for m in known):
    return "agrees"
  return "partly" if any(m <= SOME for m in known) else "no"


def no_faster_than_dense(res, phase_name, variants, figures, figure, norms=False):
  """Finding: each variant's speed-up over dense (and the grokked ticket's over it)."""
  seeds, cols, medians, parts = variants_vs_dense(res, phase_name, variants, figures, figure,
                                                   norms)
  same = {}  # variants with the same ratios share one clause
  for v, t, tt in parts:
    same.setdefault((t, tt), []).append(v)
  measured = "; ".join(f"{', '.join(vs)}: over dense {t}, grokked ticket over it {tt}"
                       for (t, tt), vs in same.items())
  return Finding(measured, verdict_no_faster(medians.values()),
                 f"every variant's median speed-up over dense <= {SOME:g}x: agrees; some: "
                 "partly; none: no", seed_table(cols, seeds), (figure,))


def variants_vs_dense(res, phase_name, variants, figures, figure, norms=False):
  """Per-seed t_gen of ``variants`` beside dense and the grokked ticket of a phase."""
  dense, phase = res.phase("dense"), res.phase(phase_name)
  budget = budget_of(phase)
  d = by_seed(dense.rows(), variant="dense")
  g = by_seed(phase.rows(), variant="grokked")
  seeds = sorted(d)
  cols = [("dense", {s: steps(d[s]["t_gen"]) for s in seeds}),
          ("grokked ticket", {s: steps(g[s]["t_gen"]) for s in seeds if s in g}),
          ("base test acc at mask step", base_cells(dense, g))]
  medians, parts = {}, []
  for v in variants:
    rows = by_seed(phase.rows(), variant=v)
    cols.append((v, {s: f"{steps(rows[s]['t_gen'])} (final {rows[s]['final_test_acc']:.2f})"
                     for s in seeds}))
    over_dense = [speedup(d[s]["t_gen"], rows[s]["t_gen"], budget) for s in seeds]
    ticket_over = [speedup(rows[s]["t_gen"], g[s]["t_gen"], budget) for s in seeds if s in g]
    medians[v], text = summarize(over_dense)
    _, ttext = summarize(ticket_over)
    parts.append((v, text, ttext))
    cols.append((f"{v}: speed-up over dense", {s: str(x) for s, x in zip(seeds, over_dense)}))
  metrics = [("test_acc", "train_acc")] + ([("l1", None), ("l2", None)] if norms else [])
  report.plot_curves(os.path.join(figures, figure), [dense, phase], title=phase_name,
                     metrics=metrics,
                     ylabels=["accuracy"] + (["L1 norm", "L2 norm"] if norms else []))
  return seeds, cols, medians, parts
