"""imp: iterative magnitude pruning of grokked networks, against one-shot tickets (issue 27;
this project's questions I1-I3, not the paper's).

Level 0 is the dense base (phase ``dense``). Level L is one ticket phase
``imp_wd<wd>_level<LL>`` (variant ``imp``) whose runs, seeds x ``imp.rates`` x
``imp.rewind_steps``, train as one batched program, each from its own run of level L-1:
it removes its rate r of the weights that run still kept, by the magnitude of its final
weights (``ticket.scope``: over all matrices or per matrix), so its total ratio is
k_L = 1 - (1 - r)^L and its mask nests in L-1's; the kept weights start from the dense
base's weights at its rewind step j (level 1 rewinds to dense step j; level L >= 2 takes
L-1's step-0 weights, which are those on every weight still kept) and train
``train.num_steps`` steps with ``imp.weight_decay``. Every level is a resumable phase.
Beside it, one-shot grokked tickets at every k_L, cut from the dense base's final weights
and rewound to j (phase ``oneshot_wd<wd>_rewind<j>``).

Writes ``imp_wd<wd>.md`` / ``.json`` / ``.png``: t_gen and final test accuracy against
the fraction of weights kept, and the frontier (the highest sparsity where every seed
still reaches the threshold).

  python launch/main.py --config=configs/modadd_imp.py        # weight decay 1
  python launch/main.py --config=configs/modadd_imp.py:wd0    # tickets without it
"""
import os

import ml_collections
import numpy as np

from gtickets import config as config_lib
from gtickets import identity, storage
from gtickets.experiment import report
from gtickets.experiment.claims import SOME, Finding, claim, median_bound, speedup, summarize
from gtickets.experiment.pipeline import (PER_RUN_OPTIM, Tickets, make_setup, run_dense,
                                          run_tickets, weight_count)
from gtickets.experiment.registry import experiment


def section():
  c = ml_collections.ConfigDict()
  c.rates = (0.2,)           # fractions of the still-kept weights a level removes (one chain each)
  c.levels = 14              # 1 - 0.8^14 = 95.6% removed
  c.rewind_steps = (0, 200)  # dense steps the kept weights rewind to (one chain each)
  c.weight_decay = -1.0      # the tickets' (every level and one-shot); -1: optim.weight_decay
  return c


NEUTRAL = {"imp.rates": [0.2], "imp.levels": 14, "imp.rewind_steps": [0, 200],
           "imp.weight_decay": -1.0}  # identity.py


def ratio(rate, level):
  """k_L = 1 - (1 - rate)^L: the fraction removed in total after ``level`` levels."""
  return round(1.0 - (1.0 - rate) ** level, 10)


def ratios(config):
  """Every k_L of every rate, L = 1 .. levels, ascending (the one-shot tickets' ks)."""
  r = config.imp
  return sorted({ratio(rate, level) for rate in r.rates for level in range(1, r.levels + 1)})


def check(config):
  r = config.imp
  rates = tuple(r.rates)
  if not rates or any(isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 < x < 1
                      for x in rates):
    config_lib.fail("imp.rates", rates, "one or more rates, each in (0, 1)")
  config_lib.distinct("imp.rates", rates)
  if not isinstance(r.levels, int) or isinstance(r.levels, bool) or r.levels < 1:
    config_lib.fail("imp.levels", r.levels, "must be a positive integer")
  config_lib.check_steps(config, "imp.rewind_steps", tuple(r.rewind_steps))
  config_lib.distinct("imp.rewind_steps", tuple(r.rewind_steps))
  if r.weight_decay != -1 and not r.weight_decay >= 0:
    config_lib.fail("imp.weight_decay", r.weight_decay, "must be -1 (optim.weight_decay) or >= 0")
  n, top = weight_count(make_setup(config), prunable_only=True), max(rates)
  if round(n * (1 - ratio(top, r.levels))) < 1:
    config_lib.fail("imp.levels", r.levels, f"would prune every one of the {n:,} prunable "
                    f"weights at rate {top:g}: at most "
                    f"{int(np.log(0.5 / n) / np.log(1 - top))} levels")


def largest_phase(config):
  """Runs of IMP's largest phase: a one-shot phase (a run per seed and k) or a level
  (a run per seed, rate and rewind step)."""
  n, r = len(config.seeds), config.imp
  return max(n * len(ratios(config)), n * len(r.rates) * len(r.rewind_steps))


def tag(config):
  """The weight decay the tickets train with, for phase and file names."""
  wd = config.imp.weight_decay if config.imp.weight_decay >= 0 else config.optim.weight_decay
  return f"wd{wd:g}"


def _ticket_fields(variant, ks, rewind_step):
  return {"variants": (variant,), "prune_ratios": tuple(ks), "mask_steps": (-1,),
          "rewind_step": rewind_step}


def level_runs(config, base, level):
  """Level ``level``'s run table: level 1, one run per rate x rewind step x dense run;
  level L >= 2, one run per run of level L-1 (its ``base_run``), same rate and chain."""
  if level == 1:
    sources = [(rate, j, b) for rate in config.imp.rates for j in config.imp.rewind_steps
               for b in base.runs]
  else:
    sources = [(b["imp_rate"], b["imp_rewind"], b) for b in base.runs]
  final = config_lib.resolve_step(-1, config)
  return [{"run": i, "variant": "imp", "seed": b["seed"],
           **{f: b[f] for f in PER_RUN_OPTIM if f in b},
           "prune_ratio": ratio(rate, level), "data_seed": b["data_seed"], "base_run": b["run"],
           "mask_step": final, "rewind_step": j if level == 1 else 0,
           "scope": config.ticket.scope, "imp_rate": rate, "imp_rewind": j}
          for i, (rate, j, b) in enumerate(sources)]


def _identity(config, tickets, fields, level):
  """An IMP phase's identity: the ticket fields it cuts with (``fields``), the builder's
  own (``tickets``: its name and weight decay, as ``ticket.*``), and for a level the IMP
  section; the weight decay is named once, as the tickets train it is not (as trained)."""
  c = Tickets().settings(config, **fields)
  declared = identity.TICKETS + (("imp",) if level else ())
  fields = identity.of(c, declared, NEUTRAL, make_setup(c).task.data_digest)
  fields.pop("imp.weight_decay", None)  # named by the builder: ticket.weight_decay
  return dict(sorted({**fields, **tickets.identity()}.items()))


@experiment("imp", section, check, largest_phase)
def run(config, workdir):
  dense = run_dense(config, workdir)
  wd = tag(config)
  oneshot = {}
  for j in config.imp.rewind_steps:
    tickets = Tickets(f"oneshot_{wd}_rewind{j}", config.imp.weight_decay)
    fields = _ticket_fields("grokked", ratios(config), j)
    oneshot[j] = run_tickets(config, workdir, dense, tickets,
                             identity=_identity(config, tickets, fields, level=False), **fields)
  levels, base = [], dense
  for level in range(1, config.imp.levels + 1):
    runs = level_runs(config, base, level)
    tickets = Tickets(f"imp_{wd}_level{level:02d}", config.imp.weight_decay)
    fields = _ticket_fields("imp", sorted({r["prune_ratio"] for r in runs}), 0)
    base = run_tickets(config, workdir, base, tickets, runs=runs,
                       identity=_identity(config, tickets, fields, level=True), **fields)
    levels.append(base)
  payload = table_payload(config, dense, levels, oneshot)
  report.write_payload(workdir.path, f"imp_{wd}", payload)
  text = report.markdown_table(table_rows(payload)) + "\n\n" + frontier_text(payload)
  storage.write_text(workdir.file(f"imp_{wd}.md"), text + "\n")
  plot(workdir.file(f"imp_{wd}.png"), payload)
  return text, [f"imp_{wd}.md", f"imp_{wd}.json", f"imp_{wd}.png"]


def _point(k, rows, seeds, **extra):
  by = {r["seed"]: r for r in rows}
  return {"k": k, **extra, "t_gen": [by[s]["t_gen"] for s in seeds],
          "final_test_acc": [by[s]["final_test_acc"] for s in seeds],
          "diverged": [bool(by[s]["diverged"]) for s in seeds]}


def table_payload(config, dense, levels, oneshot):
  """Per chain (rate, rewind step): IMP per level, and the one-shot tickets at the same
  ks; per rewind step: the one-shot tickets at every k. Each point: t_gen and final test
  accuracy per seed."""
  seeds, ks = list(config.seeds), ratios(config)
  one = {str(j): [_point(k, [r for r in res.rows() if r["prune_ratio"] == k], seeds)
                  for k in ks] for j, res in oneshot.items()}
  chains = []
  for rate in config.imp.rates:
    for j in config.imp.rewind_steps:
      imp = [_point(ratio(rate, level), [r for r in res.rows() if r["imp_rate"] == rate
                                         and r["imp_rewind"] == j], seeds, level=level)
             for level, res in enumerate(levels, 1)]
      at = {p["k"]: p for p in one[str(j)]}
      chains.append({"rate": rate, "rewind": j, "imp": imp,
                     "oneshot": [at[p["k"]] for p in imp]})
  d = dense.rows()
  return {"seeds": seeds, "ks": ks, "budget": config.train.num_steps, "tag": tag(config),
          "threshold": config.threshold, "rates": list(config.imp.rates),
          "rewind_steps": list(config.imp.rewind_steps), "scope": config.ticket.scope,
          "dense": _point(0.0, d, seeds), "oneshot": one, "chains": chains}


def frontier(points):
  """The largest k whose runs all reach the threshold (None if none)."""
  ok = [p["k"] for p in points if all(t is not None for t in p["t_gen"])]
  return max(ok) if ok else None


def _k_text(k, points):
  """The frontier in words; at the highest k measured it is a bound (>=)."""
  if k is None:
    return "no k"
  bound = k == max(p["k"] for p in points)
  return f"k {'>=' if bound else '='} {k:.3f} ({1 - k:.1%} kept" + (
      ", the last k measured)" if bound else ")")


def frontier_text(payload):
  parts = [f"IMP rate {ch['rate']:g}, rewind {ch['rewind']}: "
           + _k_text(frontier(ch["imp"]), ch["imp"]) for ch in payload["chains"]]
  parts += [f"one-shot, rewind {j}: {_k_text(frontier(pts), pts)}"
            for j, pts in payload["oneshot"].items()]
  return (f"Frontier (highest k where every seed reaches {payload['threshold']:g}), "
          f"{payload['tag']}: " + "; ".join(parts))


def table_rows(payload):
  rows = []
  for ch in payload["chains"]:
    for p, o in zip(ch["imp"], ch["oneshot"]):
      row = {"rate": f"{ch['rate']:g}", "rewind": ch["rewind"], "level": p["level"],
             "k": f"{p['k']:.3f}", "kept": f"{1 - p['k']:.3f}"}
      for method, q in (("imp", p), ("oneshot", o)):
        row[f"{method} t_gen"] = report.steps_text(q["t_gen"])
        row[f"{method} final acc"] = " / ".join(f"{a:.2f}" for a in q["final_test_acc"])
      rows.append(row)
  return rows


def _median_t(points, budget):
  """Per point: (median t_gen over seeds, its bound), a seed not reached counted at the
  budget (claims.median_bound)."""
  return [median_bound([(budget, ">=") if t is None else (t, "=") for t in p["t_gen"]])
          for p in points]


def plot(path, payload):
  """t_gen (median over seeds; open: a lower bound, seeds not reached counted at the
  budget) and mean final test accuracy against the fraction kept: IMP per chain (solid),
  one-shot per rewind step (dashed)."""
  plt = report.pyplot()
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  budget = payload["budget"]
  lines = [(f"IMP rate {ch['rate']:g}, rewind {ch['rewind']}", "-", ch["imp"])
           for ch in payload["chains"]]
  lines += [(f"one-shot, rewind {j}", "--", pts) for j, pts in payload["oneshot"].items()]
  for c, (label, style, pts) in enumerate(lines):
    kept, meds = [1 - p["k"] for p in pts], _median_t(pts, budget)
    axes[0].plot(kept, [m for m, _ in meds], style, marker="o", color=f"C{c}", label=label)
    out = [(x, m) for x, (m, b) in zip(kept, meds) if b != "="]
    if out:
      axes[0].plot(*zip(*out), "o", mfc="white", color=f"C{c}")
    axes[1].plot(kept, [np.mean(p["final_test_acc"]) for p in pts], style, marker="o",
                 color=f"C{c}", label=label)
  axes[0].set_yscale("log")
  axes[0].set_ylabel(f"median t_gen (open: a lower bound, not reached in {budget:,})")
  axes[1].set_ylabel("mean final test accuracy")
  ticks = [0.8, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01]
  for ax in axes:
    ax.set_xscale("log")
    ax.set_xticks([t for t in ticks if t >= 0.5 * min(1 - k for k in payload["ks"])],
                  minor=False)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.invert_xaxis()
    ax.set_xlabel("fraction of weights kept")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
  fig.suptitle(f"IMP vs one-shot grokked tickets, {payload['tag']} "
               f"({len(payload['seeds'])} seeds, {budget:,} steps)")
  storage.save_figure(fig, path, 130)


# ---------------------------------------------------------------- this project's questions

WORKDIR = "modadd_imp"
COMMAND = "python launch/main.py --config=configs/modadd_imp.py"
TAGS = ("wd1", "wd0")


def _payloads(root):
  return {t: root[WORKDIR].json(f"imp_{t}.json") for t in TAGS}


COST = ("t_gen counts the steps of a ticket's own training. Finding the mask costs more "
        "for IMP: level L's mask comes after L trainings of train.num_steps each (besides the "
        "dense base, which one-shot also uses).")


def _chains(payload, rewind):
  return [ch for ch in payload["chains"] if ch["rewind"] == rewind]


def _pairs(slow, fast, budget):
  """Per (k, seed) of two point lists: the speed-up t_gen(slow) / t_gen(fast)."""
  return [speedup(x, y, budget) for pa, pb in zip(slow, fast)
          for x, y in zip(pa["t_gen"], pb["t_gen"])]


def _verdict(meds):
  yes = sum(m is not None and m > SOME for m in meds)
  return "yes" if yes == len(meds) else "partly" if yes else "no"


@claim("I1", "This project's question (issue 27): at equal sparsity, does an IMP ticket "
       "generalize sooner than a one-shot grokked ticket?", [WORKDIR], COMMAND, "imp")
def imp_sooner(root, figures):
  """Rule (written before running): per weight decay, the median over levels and seeds
  (and rates) of t_gen(one-shot) / t_gen(IMP), rewinding to the first rewind step (0;
  not reached = the budget, a bound); > 1.25 on both weight decays: yes; on one: partly;
  else no."""
  parts, meds, tables = [], [], [COST]
  for t, p in _payloads(root).items():
    tables.append(f"**{t}** (t_gen per seed, - = not reached; final test accuracy per seed):\n\n"
                  + report.markdown_table(table_rows(p)) + "\n\n" + frontier_text(p))
    j = min(p["rewind_steps"])
    med, text = summarize([s for ch in _chains(p, j)
                           for s in _pairs(ch["oneshot"], ch["imp"], p["budget"])])
    meds.append(med)
    parts.append(f"{t}: one-shot / IMP {text}")
    plot(os.path.join(figures, f"claim_i_{t}.png"), p)
  return Finding("; ".join(parts), _verdict(meds), "median t_gen(one-shot) / t_gen(IMP) over "
                 f"levels and seeds, rewind 0, > {SOME:g}x on both weight decays: yes; one: "
                 "partly; else no", "\n\n".join(tables), tuple(f"claim_i_{t}.png" for t in TAGS))


def _k(k, points):
  """A frontier k; at the highest k measured it is a bound (>=)."""
  if k is None:
    return "none"
  return (">= " if k == max(p["k"] for p in points) else "") + f"{k:.3f}"


@claim("I2", "This project's question (issue 27): does IMP reach 0.95 at a higher sparsity "
       "than one-shot (the frontier), with weight decay 1 and 0?", [WORKDIR], COMMAND, "imp")
def imp_frontier(root, figures):
  """Rule (written before running): per weight decay, the frontier = the highest k where
  every seed reaches the threshold; IMP's (best rate) above one-shot's, or IMP has one and
  one-shot none, rewinding to the first rewind step (0), on both weight decays: yes; on
  one: partly; else no."""
  parts, wins, rows = [], 0, []
  for t, p in _payloads(root).items():
    for j in p["rewind_steps"]:
      one = p["oneshot"][str(j)]
      fo, chains = frontier(one), _chains(p, j)
      fis = [frontier(ch["imp"]) for ch in chains]
      rows += [{"weight decay": t, "rewind": j, "rate": f"{ch['rate']:g}",
                "IMP frontier k": _k(fi, ch["imp"]), "one-shot frontier k": _k(fo, one)}
               for ch, fi in zip(chains, fis)]
      if j == min(p["rewind_steps"]):
        best = max(range(len(chains)), key=lambda i: -1 if fis[i] is None else fis[i])
        fi = fis[best]
        wins += fi is not None and (fo is None or fi > fo)
        parts.append(f"{t}: IMP {_k(fi, chains[best]['imp'])} vs one-shot {_k(fo, one)}")
  verdict = "yes" if wins == len(TAGS) else "partly" if wins else "no"
  return Finding("frontier k, rewind 0: " + "; ".join(parts), verdict, "IMP's frontier above "
                 "one-shot's on both weight decays: yes; on one: partly; else no",
                 report.markdown_table(rows))


@claim("I3", "This project's question (issue 27): does rewinding to an early step j beat "
       "rewinding to theta_0 for IMP tickets?", [WORKDIR], COMMAND, "imp")
def early_rewinding(root, figures):
  """Rule (written before running): per weight decay, the median over levels and seeds
  (and rates) of t_gen(IMP, rewind 0) / t_gen(IMP, rewind j), j the latest rewind step;
  > 1.25 on both weight decays: yes; on one: partly; else no."""
  parts, meds = [], []
  for t, p in _payloads(root).items():
    first, last = min(p["rewind_steps"]), max(p["rewind_steps"])
    if first == last:
      parts.append(f"{t}: one rewind step only")
      meds.append(None)
      continue
    late = {ch["rate"]: ch for ch in _chains(p, last)}
    med, text = summarize([s for ch in _chains(p, first)
                           for s in _pairs(ch["imp"], late[ch["rate"]]["imp"], p["budget"])])
    meds.append(med)
    parts.append(f"{t}: rewind {first} / rewind {last} {text}")
  return Finding("; ".join(parts), _verdict(meds), "median t_gen(rewind 0) / t_gen(rewind j) "
                 f"over levels and seeds > {SOME:g}x on both weight decays: yes; one: partly; "
                 "else no")
