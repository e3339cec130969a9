"""The paper's claims, each measured from finished results (``launch/report.py``).

A claim is one function registered with :func:`claim`: it reads the phases it
needs through a :class:`Results` (a workdir's small result files: per-run
summaries, curves, run records) and returns a :class:`Finding`: a one-line
measurement, per-seed tables, an effect size, a figure and a verdict computed by
the rule written in the function. Nothing in a finding is typed by hand; adding
a claim is one more decorated function.

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

from gtickets import identity, storage
from gtickets.experiment import report
from gtickets.experiment.phase import PhaseResult
from gtickets.tasks import modular
from gtickets.training.trainer import METRICS

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


def claim(id, statement, workdirs, command, experiment):
  """Registers ``fn(root, figures_dir) -> Finding`` as a claim of the report;
  ``root[name]`` is the :class:`Results` of the workdir ``name``."""
  def register(fn):
    CLAIMS.append(Claim(id, statement, tuple(workdirs), command, experiment, fn))
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
    with open(os.path.join(d, "summary.json")) as f:
      rows = json.load(f)
    with np.load(os.path.join(d, "curves.npz")) as z:
      steps, curves = z["steps"], {k: z[k] for k in METRICS}
    return PhaseResult(name, d, rows, steps, curves, [{} for _ in rows])

  def loss_name(self, phase):
    """The loss a phase trained with, from its runs.json: 'cross-entropy (MODE)' or 'MSE'."""
    stored = self.json(os.path.join(phase, "runs.json"))["identity"]
    from gtickets import tasks
    if tasks.MODULES[identity.value(stored, "task.name")].LOSS != "cross_entropy":
      return "MSE"
    return f"cross-entropy ({identity.value(stored, 'train.cross_entropy')})"

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
    with open(path) as f:
      return json.load(f)

  def finished_command(self, experiment, fallback):
    """The command of the last finished launch of ``experiment``, else ``fallback``."""
    finished = [e for e in self.launches(experiment) if e["status"] == "finished"]
    return finished[-1]["command"] if finished else fallback

  def launches(self, experiment):
    """Launch records (launch/main.py) of ``experiment`` in this workdir."""
    path = os.path.join(self.directory, "launches.jsonl")
    if not os.path.exists(path):
      return []
    with open(path) as f:
      entries = [json.loads(l) for l in f if l.strip()]
    return [e for e in entries if e["experiment"] == experiment]


def describe_machine(launches):
  """Where the results were measured, from the launch records."""
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
  bound: str = "="         # "=", ">=" (the slower never reached), "<=" (the faster never did)

  def __str__(self):
    if self.value is None:
      return "n/a"
    return ("" if self.bound == "=" else self.bound) + f"{self.value:.2g}x"


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
  """(median or None, 'median Mx (range a-b; notes)') over the defined speed-ups."""
  vals = [s for s in speedups if s.value is not None]
  if not vals:
    return None, "no ratio (neither reached the threshold on any seed)"
  v = np.array([s.value for s in vals])
  med = float(np.median(v))
  notes = []
  lower = sum(s.bound == ">=" for s in vals)
  upper = sum(s.bound == "<=" for s in vals)
  if lower:
    notes.append(f"{lower} lower bound{'s' * (lower > 1)}: the slower run never reached it")
  if upper:
    notes.append(f"{upper} upper bound{'s' * (upper > 1)}: the faster run never reached it")
  if len(vals) < len(speedups):
    notes.append(f"{len(speedups) - len(vals)} with neither reaching it")
  text = f"median {med:.2g}x (range {v.min():.2g}x-{v.max():.2g}x"
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


def seed_table(columns, seeds):
  """Markdown: one row per seed; ``columns`` = [(header, {seed: text})]."""
  head = "| seed | " + " | ".join(h for h, _ in columns) + " |"
  rule = "| --- " * (len(columns) + 1) + "|"
  body = [f"| {s} | " + " | ".join(str(c.get(s, "")) for _, c in columns) + " |"
          for s in seeds]
  return "\n".join([head, rule] + body)


def budget_of(phase):
  return int(phase.steps[-1])


# ---------------------------------------------------------------- the claims

MAIN = "python launch/main.py --config=configs/modadd.py"


SPLIT_SEEDS = "python launch/main.py --config=configs/modadd_split_seeds.py"


def _main_speedups(res):
  """(dense, grokked, random rows by seed, seeds, {seed: speed-up}, median, text) of a
  main-experiment workdir."""
  dense, tickets = res.phase("dense"), res.phase("tickets")
  budget = budget_of(tickets)
  d = by_seed(dense.rows(), variant="dense")
  g = by_seed(tickets.rows(), variant="grokked")
  rnd = by_seed(tickets.rows(), variant="random")
  seeds = sorted(g)
  sp = {s: speedup(d[s]["t_gen"], g[s]["t_gen"], budget) for s in seeds}
  med, text = summarize(list(sp.values()))
  return d, g, rnd, seeds, sp, med, text


def _split_seed_table(res):
  """C1's second table: the same experiment with a split per seed (or why not)."""
  try:
    d, g, rnd, seeds, sp, med, text = _main_speedups(res)
  except NotMeasured:
    return ("\n\nWith a split per seed (`task.data_seed = -1`): not measured yet "
            f"(`{SPLIT_SEEDS}`).")
  table = seed_table([
      ("data split", {s: str(g[s]["data_seed"]) for s in seeds}),
      ("dense t_gen", {s: steps(d[s]["t_gen"]) for s in seeds}),
      ("grokked ticket t_gen", {s: steps(g[s]["t_gen"]) for s in seeds}),
      ("random ticket t_gen", {s: steps(rnd[s]["t_gen"]) if s in rnd else "" for s in seeds}),
      ("speed-up dense / grokked", {s: str(sp[s]) for s in seeds})], seeds)
  command = res.finished_command("main", SPLIT_SEEDS)
  return (f"\n\nWith a split per seed (`task.data_seed = -1`, seed s on split s; "
          f"`{command} --workdir=workdirs/modadd_split_seeds`): {text}. Not part of the "
          "verdict, which reads the fixed split above.\n\n" + table)


@claim("C1", "A grokked ticket (k = 0.6) generalizes many times sooner than the dense "
       "model (Fig. 1)", ["modadd", "modadd_split_seeds"], MAIN, "main")
def main_speedup(root, figures):
  res = root["modadd"]
  d, g, rnd, seeds, sp, med, text = _main_speedups(res)
  verdict = "agrees" if med is not None and med >= MUCH else (
      "partly" if med is not None and med > SOME else "no")
  report.plot_curves(os.path.join(figures, "claim_c1.png"), [res.phase("dense"),
                                                             res.phase("tickets")],
                     title="(a + b) mod 67: dense vs tickets (k = 0.6)",
                     metrics=[("test_acc", "train_acc")], ylabels=["accuracy"])
  details = seed_table([
      ("dense t_gen", {s: steps(d[s]["t_gen"]) for s in seeds}),
      ("grokked ticket t_gen", {s: steps(g[s]["t_gen"]) for s in seeds}),
      ("grokked t_mem", {s: steps(g[s]["t_mem"]) for s in seeds}),
      ("random ticket t_gen", {s: steps(rnd[s]["t_gen"]) if s in rnd else "" for s in seeds}),
      ("speed-up dense / grokked", {s: str(sp[s]) for s in seeds}),
      ("final test acc: dense / grokked / random", {s: " / ".join(
          f"{x[s]['final_test_acc']:.3f}" if s in x else "-" for x in (d, g, rnd))
          for s in seeds})], seeds) + _split_seed_table(root["modadd_split_seeds"])
  measured = (f"grokked t_gen {' / '.join(steps(g[s]['t_gen']) for s in seeds)} vs dense "
              f"{' / '.join(steps(d[s]['t_gen']) for s in seeds)}: {text}")
  return Finding(measured, verdict, f"median speed-up >= {MUCH:g}x: agrees; > {SOME:g}x: "
                 "partly; else no", details, ("claim_c1.png",))


def _verdict_no_faster(medians):
  """Agrees when every median speed-up (over dense) is <= SOME."""
  known = [m for m in medians if m is not None]
  if not known or all(m <= SOME for m in known):
    return "agrees"
  return "partly" if any(m <= SOME for m in known) else "no"


ABLATIONS = "modadd_ablations"


@claim("C2", "Non-grokked tickets (masks cut before the dense model generalizes) are no "
       "faster than the dense model (Fig. 4a)", [ABLATIONS],
       "python launch/main.py --config=configs/modadd_pruning_time.py", "pruning_time")
def non_grokked_tickets(root, figures, before=0.1):
  """Non-grokked: masks cut where the base's test accuracy was still <= ``before``
  (memorized, not yet generalizing). Speed-up over the dense run of the same seed."""
  res = root[ABLATIONS]
  dense, phase = res.phase("dense"), res.phase("pruning_time")
  budget = budget_of(phase)
  d = by_seed(dense.rows(), variant="dense")
  index = {s: i for i, s in enumerate(dense.steps.tolist())}
  base_acc = lambda r: float(dense.curves["test_acc"][r["base_run"], index[r["mask_step"]]])
  rows = [r for r in phase.rows() if r["variant"] == "grokked"]
  seeds = sorted({r["seed"] for r in rows})
  mask_steps = sorted({r["mask_step"] for r in rows})
  early = [r for r in rows if base_acc(r) <= before]
  sp = [speedup(d[r["seed"]]["t_gen"], r["t_gen"], budget) for r in early]
  med, text = summarize(sp)
  verdict = "agrees" if med is None or med <= SOME else ("partly" if med < MUCH else "no")
  cell = lambda s, m: next((f"{steps(r['t_gen'])} ({base_acc(r):.2f})" for r in rows
                            if r["seed"] == s and r["mask_step"] == m), "")
  lines = ["| pruning step | " + " | ".join(f"seed {s}: ticket t_gen (base test acc)"
                                            for s in seeds) + " |",
           "| --- " * (len(seeds) + 1) + "|"]
  lines += [f"| {m:,} | " + " | ".join(cell(s, m) for s in seeds) + " |" for m in mask_steps]
  lines.append("| dense t_gen | " + " | ".join(steps(d[s]["t_gen"]) for s in seeds) + " |")
  _plot_pruning_time(os.path.join(figures, "claim_c2.png"), rows, dense, d, base_acc, seeds,
                     budget)
  reached = sum(r["t_gen"] is not None for r in early)
  measured = (f"{len(early)} tickets cut at base test acc <= {before:g} (steps "
              f"{min(r['mask_step'] for r in early):,}-{max(r['mask_step'] for r in early):,}): "
              f"{reached} reach 0.95; speed-up over dense {text}" if early else
              "no mask step before generalization")
  return Finding(measured, verdict, f"non-grokked = cut at base test acc <= {before:g}; "
                 f"median speed-up over dense <= {SOME:g}x: agrees; < {MUCH:g}x: partly; "
                 "else no", "\n".join(lines), ("claim_c2.png",))


def _plot_pruning_time(path, rows, dense, d, base_acc, seeds, budget):
  plt = report.pyplot()
  fig, axes = plt.subplots(1, len(seeds), figsize=(5 * len(seeds), 3.8), squeeze=False)
  for ax, s in zip(axes[0], seeds):
    mine = sorted((r for r in rows if r["seed"] == s), key=lambda r: r["mask_step"])
    x = [r["mask_step"] for r in mine]
    y = [r["t_gen"] if r["t_gen"] is not None else np.nan for r in mine]
    ax.plot(x, y, "o-", label="ticket t_gen")
    miss = [r["mask_step"] for r in mine if r["t_gen"] is None]
    ax.plot(miss, [budget] * len(miss), "x", color="C3", label="ticket: not reached")
    if d[s]["t_gen"] is not None:
      ax.axhline(d[s]["t_gen"], color="k", ls="--", lw=1, label="dense t_gen")
    ax.set_xlabel("pruning step (base checkpoint)")
    ax.set_ylabel("steps to 0.95 test acc")
    ax2 = ax.twinx()
    ax2.plot(x, [base_acc(r) for r in mine], color="C2", lw=1, label="base test acc then")
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("base test acc at pruning step", color="C2")
    ax.set_title(f"seed {s}")
    ax.set_ylim(0, 1.3 * budget)  # the legend sits above the "not reached" marks
    ax.legend(fontsize=7, loc="upper center", ncol=2)
    ax.grid(alpha=0.3)
  storage.save_figure(fig, path, 130)


def _no_faster_than_dense(res, phase_name, variants, figures, figure, norms=False):
  """Finding: each variant's speed-up over dense (and the grokked ticket's over it)."""
  seeds, cols, medians, parts = _variants_vs_dense(res, phase_name, variants, figures, figure,
                                                   norms)
  same = {}  # variants with the same ratios share one clause
  for v, t, tt in parts:
    same.setdefault((t, tt), []).append(v)
  measured = "; ".join(f"{', '.join(vs)}: over dense {t}, grokked ticket over it {tt}"
                       for (t, tt), vs in same.items())
  return Finding(measured, _verdict_no_faster(medians.values()),
                 f"every variant's median speed-up over dense <= {SOME:g}x: agrees; some: "
                 "partly; none: no", seed_table(cols, seeds), (figure,))


def _variants_vs_dense(res, phase_name, variants, figures, figure, norms=False):
  """Per-seed t_gen of ``variants`` beside dense and the grokked ticket of a phase."""
  dense, phase = res.phase("dense"), res.phase(phase_name)
  budget = budget_of(phase)
  d = by_seed(dense.rows(), variant="dense")
  g = by_seed(phase.rows(), variant="grokked")
  seeds = sorted(d)
  cols = [("dense", {s: steps(d[s]["t_gen"]) for s in seeds}),
          ("grokked ticket", {s: steps(g[s]["t_gen"]) for s in seeds if s in g})]
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


@claim("C3", "Random and pruning-at-initialization masks (SNIP, GraSP, SynFlow) of the same "
       "sparsity are no faster than the dense model (Fig. 5b)", [ABLATIONS],
       "python launch/main.py --config=configs/modadd_pai.py", "pai")
def pai_masks(root, figures):
  return _no_faster_than_dense(root[ABLATIONS], "pai", ("random", "snip", "grasp", "synflow"),
                               figures, "claim_c3.png")


@claim("C4", "Dense models started from theta_0 scaled to the ticket's L1 or L2 norm are no "
       "faster than the dense model, much slower than the ticket (Figs. 5a, 6)", [ABLATIONS],
       "python launch/main.py --config=configs/modadd_norm_controls.py", "norm_controls")
def norm_controls(root, figures):
  return _no_faster_than_dense(root[ABLATIONS], "norm_controls", ("l1_matched", "l2_matched"),
                               figures, "claim_c4.png", norms=True)


@claim("C5", "tau_grok = t_gen / t_mem of grokked tickets is smallest near k = 0.7; at "
       "k = 0.9 the ticket fails (Fig. 3)", ["modadd_prune_ratio"],
       "python launch/main.py --config=configs/modadd_prune_ratio.py", "prune_ratio")
def prune_ratio(root, figures):
  phase = root["modadd_prune_ratio"].phase("prune_ratio")
  rows = [r for r in phase.rows() if r["variant"] == "grokked"]
  ks = sorted({r["prune_ratio"] for r in rows})
  seeds = sorted({r["seed"] for r in rows})
  at = {(r["prune_ratio"], r["seed"]): r for r in rows}
  taus = {k: [at[k, s]["tau_grok"] for s in seeds if at[k, s]["tau_grok"] is not None]
          for k in ks}
  mean_tau = {k: float(np.mean(v)) for k, v in taus.items() if v}
  best = min(mean_tau, key=mean_tau.get) if mean_tau else None
  fails_09 = 0.9 in ks and all(at[0.9, s]["t_gen"] is None for s in seeds)
  near = best is not None and 0.6 - 1e-9 <= best <= 0.8 + 1e-9
  verdict = "agrees" if near and fails_09 else ("partly" if near or fails_09 else "no")
  lines = ["| k | " + " | ".join(f"seed {s}: t_mem / t_gen / tau" for s in seeds)
           + " | mean tau (seeds reached) |", "| --- " * (len(seeds) + 2) + "|"]
  for k in ks:
    cells = [f"{steps(at[k, s]['t_mem'])} / {steps(at[k, s]['t_gen'])} / "
             + ("-" if at[k, s]["tau_grok"] is None else f"{at[k, s]['tau_grok']:.0f}")
             for s in seeds]
    lines.append(f"| {k:g} | " + " | ".join(cells) + " | "
                 + (f"{mean_tau[k]:.1f} ({len(taus[k])}/{len(seeds)})" if k in mean_tau
                    else "not reached") + " |")
  plt = report.pyplot()
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for s in seeds:
    axes[0].plot(ks, [at[k, s]["tau_grok"] if at[k, s]["tau_grok"] else np.nan for k in ks],
                 "o-", alpha=0.6, label=f"seed {s}")
    axes[1].plot(ks, [at[k, s]["final_test_acc"] for k in ks], "o-", alpha=0.6,
                 label=f"seed {s}")
  axes[0].plot(list(mean_tau), list(mean_tau.values()), "k-", lw=2, label="mean")
  axes[0].set_ylabel("tau_grok = t_gen / t_mem")
  axes[1].set_ylabel("final test acc")
  for ax in axes:
    ax.set_xlabel("prune ratio k (fraction removed)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
  storage.save_figure(fig, os.path.join(figures, "claim_c5.png"), 130)
  measured = (f"smallest mean tau_grok at k = {best:g} ({mean_tau[best]:.1f})"
              if best is not None else "no k reaches the threshold")
  measured += "; k = 0.9 " + ("fails on every seed" if fails_09 else "generalizes on some seed")
  return Finding(measured, verdict, "smallest mean tau_grok at k in [0.6, 0.8] and k = 0.9 "
                 "failing on every seed: agrees; one of the two: partly; else no",
                 "\n".join(lines), ("claim_c5.png",))


@claim("C9", "Without weight decay, grokked tickets still generalize up to a critical prune "
       "ratio (0.81 in the paper), while the dense model does not (Sec. 4)", [ABLATIONS],
       "python launch/main.py --config=configs/modadd_critical_ratio.py", "critical_ratio")
def critical_ratio(root, figures, paper_value=0.81):
  res = root[ABLATIONS]
  out = res.json("critical_ratio.json")
  k_crit = out["critical_ratio"]
  phases = [res.phase(f"critical_ratio_{i}") for i in range(len(out["history"]))]
  rows = [r for p in phases for r in p.rows()]
  budget = budget_of(phases[0])
  dense0 = by_seed(rows, variant="dense")
  seeds = sorted(dense0)
  grok = [r for r in rows if r["variant"] == "grokked"]
  ks = sorted({r["prune_ratio"] for r in grok})
  at = {(r["prune_ratio"], r["seed"]): r for r in grok}
  lines = ["| k | " + " | ".join(f"seed {s}: t_gen (final test acc)" for s in seeds) + " |",
           "| --- " * (len(seeds) + 1) + "|"]
  lines.append("| dense, wd 0 | " + " | ".join(
      f"{steps(dense0[s]['t_gen'])} ({dense0[s]['final_test_acc']:.3f})" for s in seeds) + " |")
  for k in ks:
    lines.append(f"| {k:g} | " + " | ".join(
        f"{steps(at[k, s]['t_gen'])} ({at[k, s]['final_test_acc']:.3f})" for s in seeds) + " |")
  plt = report.pyplot()
  fig, ax = plt.subplots(figsize=(6, 3.8))
  for s in seeds:
    ax.plot(ks, [at[k, s]["final_test_acc"] for k in ks], "o-", alpha=0.7, label=f"seed {s}")
  ax.axhline(np.mean([dense0[s]["final_test_acc"] for s in seeds]), color="k", ls="--",
             label="dense (wd 0), mean")
  ax.axvline(paper_value, color="C3", ls=":", label=f"paper's critical k = {paper_value}")
  ax.set_xlabel("prune ratio k")
  ax.set_ylabel(f"final test acc after {budget:,} steps, wd 0")
  ax.set_ylim(-0.02, 1.02)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  storage.save_figure(fig, os.path.join(figures, "claim_c9.png"), 130)
  dense_gen = sum(dense0[s]["t_gen"] is not None for s in seeds)
  if k_crit is None:
    verdict = "no"
  else:
    verdict = "agrees" if abs(k_crit - paper_value) <= 0.05 and dense_gen == 0 else "partly"
  passing = [k for k in ks if all(at[k, s]["t_gen"] is not None for s in seeds)]
  mean_final = {k: float(np.mean([at[k, s]["final_test_acc"] for s in seeds])) for k in ks}
  peak = max(ks, key=lambda k: mean_final[k])
  measured = ((f"critical k = {k_crit:g} (every seed reaches 0.95 within {budget:,} steps at "
               f"k = {', '.join(f'{k:g}' for k in passing)})" if k_crit is not None else
               f"no k reaches 0.95 on every seed within {budget:,} steps")
              + f"; mean final test acc of the tickets peaks at k = {peak:g} ({mean_final[peak]:.2f})"
              + f" and is {mean_final[ks[-1]]:.2f} at k = {ks[-1]:g}; dense at wd 0 reaches 0.95 "
              f"on {dense_gen}/{len(seeds)} seeds (mean final "
              f"{np.mean([dense0[s]['final_test_acc'] for s in seeds]):.2f})")
  return Finding(measured, verdict, f"a critical k within 0.05 of {paper_value} with the "
                 "dense model failing: agrees; another critical k: partly; none: no",
                 "\n".join(lines), ("claim_c9.png",))


# ---------------------------------------------------------------- structure (C6, C7, G1)

@claim("C6", "The dense model's magnitude mask changes fastest when its test accuracy "
       "jumps (Fig. 4b)", ["modadd"], "python launch/main.py --config=configs/modadd_jaccard.py",
       "jaccard")
def mask_changes(root, figures):
  """Inside the jump: the step ending the largest consecutive-mask change lies
  between the steps where test accuracy first reaches 0.1 and 0.9 (one interval
  of slack either side); seeds whose test accuracy never reaches 0.5 have no jump."""
  payload = root["modadd"].json("jaccard.json")
  grid = payload["steps"]
  every, end = grid[1] - grid[0], grid[-1]
  trans = report.jaccard_transitions(payload)
  jumps = [t for t in trans if t["acc_0.5"] is not None]
  inside = [t for t in jumps if t["acc_0.1"] - every <= t["largest"]
            <= (t["acc_0.9"] if t["acc_0.9"] is not None else end) + every]
  verdict = ("agrees" if jumps and len(inside) == len(jumps) else
             "partly" if inside else "no")
  report.plot_jaccard(os.path.join(figures, "claim_c6.png"), payload)
  names = [n for n in payload["consecutive"] if n != "all"]
  start = payload.get("from", 0)
  per_matrix = [{"seed": seed, **{n: f"{report.largest_change(grid[1:], payload['consecutive'][n][r], start)[0]:,}"
                                  for n in names}} for r, seed in enumerate(payload["seeds"])]
  details = (report.markdown_table(report.jaccard_rows(payload))
             + f"\n\nStep ending the largest change after step {start:,} per matrix "
             f"(every {every}):\n\n"
             + report.markdown_table(per_matrix))
  measured = (f"largest mask change after step {start:,} (k = {payload['k']:g}, every "
              f"{every} steps) inside the "
              f"test-accuracy jump on {len(inside)} of {len(jumps)} seeds with a jump ("
              + "; ".join(f"seed {t['seed']}: {t['largest']:,} vs acc 0.5 at "
                          f"{steps(t['acc_0.5'])}" for t in trans) + ")")
  return Finding(measured, verdict, "largest change between the steps where test accuracy "
                 f"reaches 0.1 and 0.9 (+- {every}) on every seed with a jump: agrees; some: "
                 "partly; none: no", details, ("claim_c6.png",))


@claim("C7", "The grokked ticket's input weights are periodic early: lower Fourier entropy "
       "than the dense model, random and non-grokked tickets (Fig. 7)", ["modadd"],
       "python launch/main.py --config=configs/modadd_fourier.py", "fourier")
def periodic_early(root, figures):
  """Per seed, at ``analysis.early_step``: is the grokked ticket's Fourier entropy
  the lowest of the four networks?"""
  payload = root["modadd"].json("fourier.json")
  i = payload["steps"].index(payload["early_step"])
  at = {label: dict(zip(d["seeds"], np.asarray(d["entropy"])[:, i].tolist()))
        for label, d in payload["series"].items()}
  g = at["grokked ticket"]
  others = [label for label in at if label != "grokked ticket"]
  seeds = sorted(g)
  lowest = [s for s in seeds if all(g[s] < at[o][s] for o in others)]
  margin = [min(at[o][s] for o in others) - g[s] for s in seeds]
  verdict = ("agrees" if len(lowest) == len(seeds) else
             "partly" if 2 * len(lowest) >= len(seeds) else "no")
  cols = [(label, {s: f"{at[label][s]:.3f}" for s in seeds}) for label in at]
  cols.append(("margin (lowest other - grokked)", {s: f"{m:+.3f}" for s, m in zip(seeds, margin)}))
  report.plot_fourier(os.path.join(figures, "claim_c7.png"), payload)
  report.plot_fourier_heatmaps(os.path.join(figures, "claim_c7_heatmaps.png"), payload)
  details = (f"Fourier entropy (nats; flat spectrum {payload['max_entropy']:.3f}) at step "
             f"{payload['early_step']:,}:\n\n" + seed_table(cols, seeds)
             + "\n\nMean +- std over seeds at each step:\n\n"
             + report.markdown_table(report.fourier_rows(payload)))
  measured = (f"at step {payload['early_step']:,} the grokked ticket's entropy is the lowest "
              f"on {len(lowest)} of {len(seeds)} seeds (margin to the lowest other: median "
              f"{np.median(margin):+.3f} nats, range {min(margin):+.3f} to {max(margin):+.3f})")
  return Finding(measured, verdict, "lowest on every seed: agrees; on at least half: partly; "
                 "else no", details, ("claim_c7.png", "claim_c7_heatmaps.png"))


@claim("G1", "Grokked tickets have distinctive graph properties among masks of the same "
       "sparsity (App. J/K)", ["modadd"], "python launch/main.py --config=configs/modadd_graphs.py",
       "graphs")
def graph_measures(root, figures):
  """A measure separates the grokked mask when its mean +- std over seeds overlaps
  with no other mask's (non-grokked, random, PaI; the dense network is shown only)."""
  payload = root["modadd"].json("graphs.json")
  rows = payload["rows"]
  kinds = [k for k in dict.fromkeys(r["kind"] for r in rows) if k not in ("dense", "grokked")]
  def band(kind, m):
    v = np.asarray([r[m] for r in rows if r["kind"] == kind], float)
    return v.mean() - v.std(), v.mean() + v.std(), v.mean()
  separating = []
  for m in report.GRAPH_MEASURES[:4]:
    lo, hi, mean = band("grokked", m)
    others = [band(k, m) for k in kinds]
    if all(hi < o[0] for o in others):
      separating.append(f"{m} (lowest)")
    elif all(lo > o[1] for o in others):
      separating.append(f"{m} (highest)")
  report.plot_graphs(os.path.join(figures, "claim_g1.png"), payload)
  verdict = "agrees" if separating else "no"
  measured = (f"k = {payload['k']:g}, {len(payload['seeds'])} seeds: the grokked mask is "
              + (f"separated from every other mask by {', '.join(separating)}" if separating
                 else "not separated from the other masks by any measure"))
  return Finding(measured, verdict, "some measure whose mean +- std for the grokked mask "
                 "overlaps no other mask's: agrees; none: no",
                 report.markdown_table(report.graph_rows(payload)), ("claim_g1.png",))


# C8's option workdirs: the authors' other departures, measured once (not in the verdict)
EDGE_POPUP_OPTIONS = {"edge_popup_options_diag_pairs": "a <= b pairs with the diagonal "
                      "(--config.task.pairs=unordered_diag)",
                      "edge_popup_options_float64": "float64 log-softmax "
                      "(--config.train.cross_entropy=float64)",
                      "edge_popup_options_embed_gain": "embedding init sqrt(2) larger "
                      "(kaiming for ReLU; --config.model.embed_gain=1.4142135623730951)"}


@claim("C8", "Edge-popup from memorizing weights reaches high test accuracy with the "
       "weights frozen (Sec. 5.3, Table 1)", ["edge_popup", *EDGE_POPUP_OPTIONS],
       "python launch/main.py --config=configs/edge_popup.py", "edge_popup")
def edge_popup(root, figures):
  """EP w/o WD's mean test accuracy at the last report step, over the seeds whose
  base memorizes: >= 0.9 agrees, >= 0.5 partly, else no (the paper: 0.92 +- 0.06
  at 2,000 steps)."""
  payload = root["edge_popup"].json("edge_popup.json")
  last = payload["report_steps"][-1]
  acc = np.asarray(payload["test_acc"])[:, payload["steps"].index(last)]
  kept = set(report.edge_popup_memorizing_seeds(payload))
  ep = [i for i, r in enumerate(payload["runs"]) if r["variant"] == "ep" and r["seed"] in kept]
  base = payload["base"]
  report.plot_edge_popup(os.path.join(figures, "claim_c8.png"), payload)
  seeds = sorted({r["seed"] for r in payload["runs"]})
  per_seed = [(label, {r["seed"]: f"{acc[i]:.3f}" for i, r in enumerate(payload["runs"])
                       if r["variant"] == v})
              for v, label in (("wd", "WD"), ("ep", "EP w/o WD"), ("ep_wd", "EP w/ WD"))]
  per_seed.insert(0, ("base: train / test acc", {
      r["seed"]: f"{r['final_train_acc']:.3f} / {r['final_test_acc']:.3f}"
      + ("" if r.get("memorizing", True) else " (not memorizing)") for r in base}))
  if payload.get("data_seed") == -1:
    per_seed.insert(0, ("data split", {r["seed"]: str(r["data_seed"]) for r in base}))
  rule = payload.get("memorizing_rule")
  details = (report.markdown_table(report.edge_popup_rows(payload))
             + f"\n\nPer seed, test accuracy at step {last:,} (base: at step "
             f"{payload['base_step']:,} of lr {payload['base_lr']:g}"
             + (f"; memorizing = {rule}; the table above averages the seeds whose base "
                "memorizes" if rule else "") + "):\n\n" + seed_table(per_seed, seeds))
  details += _edge_popup_options(root, last)
  rule_text = ("EP w/o WD mean test accuracy at the last step"
               + (", over the seeds whose base memorizes," if rule else "")
               + " >= 0.9: agrees; >= 0.5: partly; else no")
  if not ep:
    return Finding(f"no seed's base memorized ({rule})", "no", rule_text, details,
                   ("claim_c8.png",))
  mean = float(acc[ep].mean())
  verdict = "agrees" if mean >= 0.9 else "partly" if mean >= 0.5 else "no"
  kept_base = [r for r in base if r["seed"] in kept]
  settings = [f"lr {payload['base_lr']:g}", f"weight decay {payload['base_weight_decay']:g}"]
  if "train_fraction" in payload:
    settings.append(f"train fraction {payload['train_fraction']:g}")
  if "score_weight_decay" in payload:
    sd = payload["score_weight_decay"]
    settings.append("score decay " + ("as the run's" if sd < 0 else f"{sd:g}"))
  if payload.get("data_seed") == -1:
    settings.append("a split per seed")
  measured = (f"EP w/o WD (weights bitwise frozen, k = {payload['k']:g} per matrix): test acc "
              f"{mean:.2f} +- {acc[ep].std():.2f} at step {last:,} over {len(ep)} of "
              f"{len(base)} seeds (paper 0.92 +- 0.06), from bases at train / test acc "
              f"{np.mean([r['final_train_acc'] for r in kept_base]):.2f} / "
              f"{np.mean([r['final_test_acc'] for r in kept_base]):.2f} ("
              + ", ".join(settings) + ")")
  return Finding(measured, verdict, rule_text, details, ("claim_c8.png",))


def _edge_popup_options(root, last):
  """C8's table of the authors' other departures, each run once at the defaults' seeds."""
  lines = []
  for name, what in EDGE_POPUP_OPTIONS.items():
    try:
      payload = root[name].json("edge_popup.json")
    except NotMeasured:
      lines.append(f"| {what} | not measured yet | | | |")
      continue
    at_last = {r["variant"]: r[f"step {last:,}: here"] for r in report.edge_popup_rows(payload)}
    kept = report.edge_popup_memorizing_seeds(payload)
    cells = [at_last.get(label, "-") for label in ("WD", "EP w/o WD", "EP w/ WD")]
    lines.append(f"| {what} | {len(kept)} of {len(payload['base'])} | " + " | ".join(cells)
                 + " |")
  return (f"\n\nThe authors' other departures, one at a time on top of the defaults (test "
          f"accuracy at step {last:,} over the seeds whose base memorizes; not part of the "
          "verdict):\n\n| option | memorizing bases | WD | EP w/o WD | EP w/ WD |\n"
          "| --- | --- | --- | --- | --- |\n" + "\n".join(lines))


# ---------------------------------------------------------------- other tasks (C10)

_OTHER = {"modadd": ("(a + b) mod 67", "MLP"),
          "polynomial": ("polynomial regression", "MLP 40-48-1"),
          "parity": ("sparse parity (3 of 40)", "MLP 40-256-2"),
          "mnist": ("MNIST, 1000 train (20k steps)", "MLP 784-200-200-10"),
          "mnist_100k": ("MNIST, 1000 train (100k steps, the paper's)", "MLP 784-200-200-10")}


def task_label(name):
  """(task, model) of a per-task workdir name, e.g. mod_mul_transformer_layer."""
  if name in _OTHER:
    return _OTHER[name]
  op, model = name[len("mod_"):].split("_mlp")[0], "MLP"
  if "_transformer" in name:
    op, model = name[len("mod_"):].split("_transformer")[0], "Transformer"
    if "_transformer_appendix" in name:
      model += " as the appendix (width 500, positional embedding)"
    if name.endswith("_layer"):
      model += ", layer-wise masks"
  return (modular.FORMULAS["random"] if op == "random" else f"({modular.FORMULAS[op]})") \
      + " mod 67", model


FINAL_GAP = 0.05  # a mean final test-accuracy lead worth naming where neither generalizes


@claim("C10", "Grokked tickets also generalize sooner than dense on other tasks and "
       "architectures (Fig. 2, App. B)", [], "bash launch/run_jobs.sh launch/tasks_jobs.txt 1",
       "main")
def other_tasks(root, figures):
  lines = ["| task | model | loss | seeds | dense t_gen (per seed; final test score) | grokked "
           "ticket t_gen (per seed; final) | speed-up dense / ticket | random ticket t_gen "
           "(per seed; final), where run | speed-up random / grokked ticket | machine | command |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
  medians, missing, flat, controls, points, ahead, old_order = {}, [], [], {}, {}, [], []
  for name, args in root.task_rows:
    res = root[name]
    command = f"python launch/main.py {args} --workdir=workdirs/{name}"
    try:
      dense, tickets = res.phase("dense"), res.phase("tickets")
    except NotMeasured:
      missing.append(name)
      continue
    loss = res.loss_name("tickets")
    budget = budget_of(tickets)
    d = by_seed(dense.rows(), variant="dense")
    g = by_seed(tickets.rows(), variant="grokked")
    seeds = sorted(g)
    sp = [speedup(d[s]["t_gen"], g[s]["t_gen"], budget) for s in seeds]
    med, text = summarize(sp)
    if all(d[s]["t_gen"] is None for s in seeds) and all(g[s]["t_gen"] is None for s in seeds):
      flat.append(name)
      gap = np.mean([g[s]["final_test_acc"] - d[s]["final_test_acc"] for s in seeds])
      if gap > FINAL_GAP:
        ahead.append(f"{name} +{gap:.2f}")
      text = "neither generalizes within the budget"
    else:
      medians[name] = med
      points[", ".join(task_label(name))] = [(d[s]["t_gen"], g[s]["t_gen"], budget)
                                             for s in seeds]
    cell = lambda rows: t_gen_cell(rows, seeds)
    r = by_seed(tickets.rows(), variant="random")
    random_cells = ("not run", "")
    if all(s in r for s in seeds):
      controls[name], random_text = summarize(
          [speedup(r[s]["t_gen"], g[s]["t_gen"], budget) for s in seeds])
      random_cells = (cell(r), random_text)
    task, model = task_label(name)
    if res.contraction("tickets") == "batch_first":
      model += " (batch-first order)"
      old_order.append(name)
    lines.append(f"| {task} | {model} | {loss} | {', '.join(map(str, seeds))} "
                 f"| {cell(d)} | {cell(g)} | {text} | {' | '.join(random_cells)} "
                 f"| {describe_machine(res.launches('main'))} | `{command}` |")
  if len(medians) + len(flat) == 0:
    raise NotMeasured("no per-task row is finished")
  sooner = [n for n, m in medians.items() if m is not None and m > SOME]
  verdict = ("agrees" if medians and len(sooner) == len(medians) else
             "partly" if sooner else "no")
  measured = (f"ticket sooner (median > {SOME:g}x) on {len(sooner)} of {len(medians)} rows "
              f"where something generalizes ({', '.join(sooner) or 'none'}); "
              f"{len(flat)} rows where neither generalizes"
              + (f" (the ticket's mean final test accuracy is higher by > {FINAL_GAP:g} on "
                 f"{len(ahead)} of them: {', '.join(ahead) or 'none'})" if flat else "")
              + (f"; {len(missing)} rows not measured yet" if missing else ""))
  if controls:
    beats = [n for n, m in controls.items() if m is not None and m > SOME]
    measured += (f"; where the random-mask control was run, the grokked ticket is sooner "
                 f"than it (median > {SOME:g}x) on {len(beats)} of {len(controls)} rows "
                 f"({', '.join(beats) or 'none'})")
  details = "\n".join(lines) + ("\n\nNot measured yet: " + ", ".join(missing) if missing else "")
  if old_order:
    details += ("\n\nRows marked \"batch-first order\" were trained before issue 23, "
                "multiplying the batch through the embedding (`model.contraction=batch_first`): "
                "the same model up to float32 rounding, which moves per-seed t_gen; rerun with "
                "the row's command for the current order.")
  figs = ()
  if points:
    report.plot_t_gen_scatter(os.path.join(figures, "claim_c10.png"), points,
                              "grokked ticket vs dense, per seed (rows where either generalizes)")
    figs = ("claim_c10.png",)
  return Finding(measured, verdict, f"every row where dense or ticket generalizes has a median "
                 f"speed-up > {SOME:g}x: agrees; some: partly; none: no", details, figs)


@claim("P1", "Finding of this project (not a claim of the paper): the speed-up depends on "
       "the cross-entropy's precision; which phase needs it, the base (the mask) or the "
       "ticket's own training?", ["modadd_precision"],
       "python launch/main.py --config=configs/modadd_precision.py", "precision")
def loss_precision(root, figures):
  out = root["modadd_precision"].json("precision.json")
  budget = root["modadd_precision"].phase(os.path.join("base_exact", "dense")).steps[-1]
  dense = {r["base"]: {x["seed"]: x for x in r["runs"]} for r in out["rows"]
           if r["ticket"] == "(dense)"}
  cells = [r for r in out["rows"] if r["ticket"] != "(dense)"]
  seeds = sorted(out["seeds"])
  lines = ["| mask from base trained with | ticket trained with | ticket t_gen (seeds "
           + " / ".join(map(str, seeds)) + ") | dense t_gen, same precision as the ticket "
           "| speed-up over that dense |", "| --- | --- | --- | --- | --- |"]
  parts = []
  for r in cells:
    t = {x["seed"]: x for x in r["runs"]}
    ref = dense[r["ticket"]]
    sp = [speedup(ref[s]["t_gen"], t[s]["t_gen"], int(budget)) for s in seeds]
    _, text = summarize(sp)
    lines.append(f"| {r['base']} | {r['ticket']} | "
                 + " / ".join(steps(t[s]["t_gen"]) for s in seeds) + " | "
                 + " / ".join(steps(ref[s]["t_gen"]) for s in seeds) + f" | {text} |")
    parts.append(f"{r['base']} mask, {r['ticket']} training: {text.split(' (')[0]}")
  res = root["modadd_precision"]
  modes = out["modes"]
  bases = {m: res.phase(os.path.join(f"base_{m}", "dense")) for m in modes}
  grid = [(b, t, res.phase(os.path.join(f"base_{b}", f"ticket_{t}"))) for b in modes
          for t in modes]
  report.plot_precision(os.path.join(figures, "claim_p1.png"), bases, grid)
  figs = ("claim_p1.png",)
  return Finding("; ".join(parts), "finding", "descriptive: speed-up of each cell's "
                 "grokked ticket over the dense model trained with the ticket's precision",
                 "\n".join(lines), figs)


PARITY_MODES = (("parity", "exact"), ("parity_float64", "float64"),
                ("parity_float32", "float32"))


@claim("P2", "Finding of this project (not a claim of the paper): on sparse parity the "
       "loss's precision decides whether the dense model and the tickets generalize",
       [w for w, _ in PARITY_MODES],
       "python launch/main.py --config=configs/parity.py "
       "--config.train.cross_entropy=MODE \"--config.ticket.variants=('grokked','random')\"",
       "main")
def parity_precision(root, figures):
  """Descriptive: per cross-entropy mode, dense / grokked / random t_gen per seed."""
  lines = ["| cross-entropy | dense t_gen (per seed; final test acc) | grokked ticket | "
           "random ticket | speed-up dense / grokked | speed-up random / grokked | command |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
  parts, panels = [], []
  for name, mode in PARITY_MODES:
    res = root[name]
    dense, tickets = res.phase("dense"), res.phase("tickets")
    loss = res.loss_name("tickets")
    if loss != f"cross-entropy ({mode})":
      raise NotMeasured(f"{name} was trained with {loss}, not the {mode} cross-entropy")
    budget = budget_of(tickets)
    d = by_seed(dense.rows(), variant="dense")
    g = by_seed(tickets.rows(), variant="grokked")
    r = by_seed(tickets.rows(), variant="random")
    seeds = sorted(g)
    if not all(s in r and s in d for s in seeds):
      raise NotMeasured(f"{name} lacks the dense or random-ticket runs of seeds {seeds}")
    cell = lambda rows: t_gen_cell(rows, seeds)
    _, over_dense = summarize([speedup(d[s]["t_gen"], g[s]["t_gen"], budget) for s in seeds])
    _, over_random = summarize([speedup(r[s]["t_gen"], g[s]["t_gen"], budget) for s in seeds])
    reached = lambda rows: sum(rows[s]["t_gen"] is not None for s in seeds)
    lines.append(f"| {mode} | {cell(d)} | {cell(g)} | {cell(r)} | {over_dense} | "
                 f"{over_random} | `{res.finished_command('main', name)} --workdir=workdirs/{name}` |")
    parts.append(f"{mode}: dense reaches 0.95 on {reached(d)}/{len(seeds)} seeds, grokked "
                 f"ticket {reached(g)}/{len(seeds)}, random {reached(r)}/{len(seeds)}; "
                 f"dense / grokked {over_dense.split(' (')[0]}, random / grokked "
                 f"{over_random.split(' (')[0]}")
    panels.append((f"sparse parity, {mode} cross-entropy", [dense, tickets], "test_acc", None,
                   "accuracy"))
  report.plot_curve_panels(os.path.join(figures, "claim_p2.png"), panels)
  return Finding("; ".join(parts), "finding", "descriptive: how many seeds reach 0.95 test "
                 "accuracy in each mode, and the median speed-ups", "\n".join(lines),
                 ("claim_p2.png",))


@claim("A1", "Beyond the paper (issue 15): what makes the network grok soonest (Grokfast, "
       "StableMax, perpendicular gradient, a grokked ticket), and does a ticket add to "
       "Grokfast?", ["modadd"], "python launch/main.py --config=configs/modadd_accelerators.py",
       "accelerators")
def accelerators(root, figures):
  """Descriptive: each row's median speed-up over plain dense, same seeds."""
  from gtickets.experiment import accelerators as acc
  payload = root["modadd"].json("accelerators.json")
  rows = acc.table_rows(payload)
  acc.plot(os.path.join(figures, "claim_a1.png"), payload)
  ranked = sorted(rows, key=lambda r: -float(r["median speed-up"].rstrip("x")))
  measured = "median speed-up over dense: " + "; ".join(
      f"{r['run']} {r['median speed-up']}" for r in ranked if r["run"] != "dense")
  t_gen = {r["label"]: r["t_gen"] for r in payload["rows"]}
  prefix = "grokked ticket + "
  for faster in [l for l in t_gen if l.startswith(prefix)]:
    # does the ticket add to the accelerator: over the plain ticket and over dense + it
    for slower in ("grokked ticket", "dense + " + faster[len(prefix):]):
      if slower in t_gen:
        _, text = summarize([speedup(a, b, payload["budget"])
                             for a, b in zip(t_gen[slower], t_gen[faster])])
        measured += f"; {faster} over {slower}: {text}"
  return Finding(measured, "finding", "descriptive: t_gen of plain dense / t_gen of each "
                 "row, per seed (not reached = the step budget, a bound)",
                 report.markdown_table(rows), ("claim_a1.png",))
