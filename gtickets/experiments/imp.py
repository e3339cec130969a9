"""imp: iterative magnitude pruning of grokked networks, against one-shot tickets (issue 27;
this project's questions I1-I3, not the paper's).

Level 0 is the dense base (phase ``dense``). Level L is a ticket phase (variant ``imp``)
whose base is level L-1: it removes ``imp.rate`` of the weights L-1 still kept, by the
magnitude of L-1's final weights (``ticket.scope``: over all matrices or per matrix),
so its total ratio is k_L = 1 - (1 - rate)^L and its mask nests in L-1's; the kept
weights start from the dense base's weights at the rewind step j (level 1 rewinds to
dense step j; level L >= 2 takes L-1's step-0 weights, which are those on every weight
still kept) and train ``train.num_steps`` steps with ``ticket.weight_decay``. One chain
per rewind step of ``imp.rewind_steps``; each level's runs (one per seed) are one
batched phase ``imp_wd<wd>_rewind<j>_level<L>``, resumable as any phase. Beside each
chain, one-shot grokked tickets at the same k_1 ... k_levels, cut from the dense
base's final weights and rewound to j (phase ``oneshot_wd<wd>_rewind<j>``).

Writes ``imp_wd<wd>.md`` / ``.json`` / ``.png``: t_gen and final test accuracy against
the fraction of weights kept, and the frontier (the highest sparsity where every seed
still reaches the threshold).

  python launch/main.py --config=configs/modadd_imp.py        # weight decay 1
  python launch/main.py --config=configs/modadd_imp.py:wd0    # tickets without it
"""
import dataclasses
import os

import ml_collections
import numpy as np

from gtickets import config as config_lib
from gtickets import identity, storage
from gtickets.experiment import report
from gtickets.experiment.claims import SOME, Finding, claim, speedup, summarize
from gtickets.experiment.pipeline import (make_setup, run_dense, run_tickets, ticket_identity,
                                          weight_count)
from gtickets.experiment.registry import experiment


def section():
  c = ml_collections.ConfigDict()
  c.rate = 0.2               # fraction of the still-kept weights each level removes
  c.levels = 14              # 1 - 0.8^14 = 95.6% removed
  c.rewind_steps = (0, 200)  # one chain per rewind step (dense steps)
  return c


NEUTRAL = {"imp.rate": 0.2, "imp.levels": 14, "imp.rewind_steps": [0, 200]}  # identity.py


def ratios(config):
  """k_L = 1 - (1 - rate)^L for L = 1 .. levels (the fraction removed in total)."""
  r = config.imp
  return [round(1.0 - (1.0 - r.rate) ** level, 10) for level in range(1, r.levels + 1)]


def check(config):
  r = config.imp
  if not 0 < r.rate < 1:
    config_lib.fail("imp.rate", r.rate, "must be in (0, 1)")
  if not isinstance(r.levels, int) or isinstance(r.levels, bool) or r.levels < 1:
    config_lib.fail("imp.levels", r.levels, "must be a positive integer")
  config_lib.check_steps(config, "imp.rewind_steps", tuple(r.rewind_steps))
  config_lib.distinct("imp.rewind_steps", tuple(r.rewind_steps))
  n = weight_count(make_setup(config), prunable_only=True)
  if round(n * (1 - ratios(config)[-1])) < 1:
    config_lib.fail("imp.levels", r.levels, f"would prune every one of the {n:,} prunable "
                    f"weights at rate {r.rate:g}: at most "
                    f"{int(np.log(0.5 / n) / np.log(1 - r.rate))} levels")


def tag(config):
  """The weight decay the tickets train with, for phase and file names."""
  wd = config.ticket.weight_decay if config.ticket.weight_decay >= 0 else config.optim.weight_decay
  return f"wd{wd:g}"


def _phase_config(config, name, variant, ks, rewind_step):
  c = config.copy_and_resolve_references()
  c.ticket.phase, c.ticket.variants = name, (variant,)
  c.ticket.prune_ratios, c.ticket.mask_steps, c.ticket.rewind_step = tuple(ks), (-1,), rewind_step
  return c


def _identity(c, setup):
  return identity.of(c, identity.TICKETS + ("imp",), NEUTRAL, setup.task.data_digest)


@experiment("imp", section, check)
def run(config, workdir, progress=True):
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  ks, wd = ratios(config), tag(config)
  chains = {}
  for j in config.imp.rewind_steps:
    base, levels = dense, []
    for level, k in enumerate(ks, 1):
      c = _phase_config(config, f"imp_{wd}_rewind{j}_level{level:02d}", "imp", (k,),
                        j if level == 1 else 0)
      s = dataclasses.replace(setup, config=c)
      base = run_tickets(s, workdir, base, progress, identity=_identity(c, setup))
      levels.append(base)
    c = _phase_config(config, f"oneshot_{wd}_rewind{j}", "grokked", ks, j)
    oneshot = run_tickets(dataclasses.replace(setup, config=c), workdir, dense, progress,
                          identity=ticket_identity(c, setup.task))
    chains[j] = (levels, oneshot)
  payload = table_payload(config, dense, chains)
  report.write_payload(workdir, f"imp_{wd}", payload)
  text = report.markdown_table(table_rows(payload)) + "\n\n" + frontier_text(payload)
  storage.write_text(os.path.join(workdir, f"imp_{wd}.md"), text + "\n")
  plot(os.path.join(workdir, f"imp_{wd}.png"), payload)
  return text, [f"imp_{wd}.md", f"imp_{wd}.json", f"imp_{wd}.png"]


def _by_seed(rows):
  return {r["seed"]: r for r in rows}


def table_payload(config, dense, chains):
  """Per rewind step and method (imp, oneshot): per k, t_gen and final test acc per seed."""
  seeds, ks = list(config.seeds), ratios(config)
  d = _by_seed(dense.rows())
  out = {"seeds": seeds, "ks": ks, "budget": config.train.num_steps, "tag": tag(config),
         "threshold": config.threshold, "rate": config.imp.rate, "scope": config.ticket.scope,
         "dense": {"t_gen": [d[s]["t_gen"] for s in seeds],
                   "final_test_acc": [d[s]["final_test_acc"] for s in seeds]},
         "chains": {}}
  for j, (levels, oneshot) in chains.items():
    imp = [_by_seed(res.rows()) for res in levels]
    one = {k: _by_seed([r for r in oneshot.rows() if r["prune_ratio"] == k]) for k in ks}
    out["chains"][str(j)] = {
        method: [{"k": k, "t_gen": [by[s]["t_gen"] for s in seeds],
                  "final_test_acc": [by[s]["final_test_acc"] for s in seeds],
                  "diverged": [bool(by[s]["diverged"]) for s in seeds]}
                 for k, by in zip(ks, table)]
        for method, table in (("imp", imp), ("oneshot", [one[k] for k in ks]))}
  return out


def frontier(points):
  """The largest k whose runs all reach the threshold (None if none)."""
  ok = [p["k"] for p in points if all(t is not None for t in p["t_gen"])]
  return max(ok) if ok else None


def frontier_text(payload):
  parts = []
  for j, chain in payload["chains"].items():
    for method in ("imp", "oneshot"):
      f = frontier(chain[method])
      parts.append(f"{method}, rewind {j}: " + (f"k = {f:.3f} ({1 - f:.1%} kept)" if f is not None
                                                else "no k"))
  return (f"Frontier (highest k where every seed reaches {payload['threshold']:g}), "
          f"{payload['tag']}: " + "; ".join(parts))


def table_rows(payload):
  rows = []
  for j, chain in payload["chains"].items():
    for i, k in enumerate(payload["ks"]):
      row = {"rewind": j, "level": i + 1, "k": f"{k:.3f}", "kept": f"{1 - k:.3f}"}
      for method in ("imp", "oneshot"):
        p = chain[method][i]
        row[f"{method} t_gen"] = report.steps_text(p["t_gen"])
        row[f"{method} final acc"] = " / ".join(f"{a:.2f}" for a in p["final_test_acc"])
      rows.append(row)
  return rows


def plot(path, payload):
  """t_gen (median over seeds; open: not reached) and mean final test accuracy against
  the fraction kept, IMP and one-shot per rewind step."""
  plt = report.pyplot()
  fig, axes = plt.subplots(1, 2, figsize=(11, 4))
  budget = payload["budget"]
  for c, (j, chain) in enumerate(payload["chains"].items()):
    for method, style in (("imp", "-"), ("oneshot", "--")):
      pts = chain[method]
      kept = [1 - p["k"] for p in pts]
      med = [float(np.median([budget if t is None else t for t in p["t_gen"]])) for p in pts]
      line, = axes[0].plot(kept, med, style, marker="o", color=f"C{c}",
                           label=f"{method}, rewind {j}")
      out = [(x, m) for x, m, p in zip(kept, med, pts) if None in p["t_gen"]]
      if out:
        axes[0].plot(*zip(*out), "o", mfc="white", color=line.get_color())
      axes[1].plot(kept, [np.mean(p["final_test_acc"]) for p in pts], style, marker="o",
                   color=f"C{c}", label=f"{method}, rewind {j}")
  axes[0].set_ylabel(f"median t_gen (open: some seed not reached in {budget:,})")
  axes[1].set_ylabel("mean final test accuracy")
  for ax in axes:
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("fraction of weights kept")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
  fig.suptitle(f"IMP (rate {payload['rate']:g}) vs one-shot grokked tickets, {payload['tag']}")
  storage.save_figure(fig, path, 130)


# ---------------------------------------------------------------- this project's questions

WORKDIR = "modadd_imp"
COMMAND = "python launch/main.py --config=configs/modadd_imp.py"
TAGS = ("wd1", "wd0")


def _payloads(root):
  return {t: root[WORKDIR].json(f"imp_{t}.json") for t in TAGS}


def _pairs(payload, slow, fast, j_slow, j_fast):
  """Per (level, seed): speed-up t_gen(slow) / t_gen(fast)."""
  a, b = payload["chains"][j_slow][slow], payload["chains"][j_fast][fast]
  return [speedup(x, y, payload["budget"]) for pa, pb in zip(a, b)
          for x, y in zip(pa["t_gen"], pb["t_gen"])]


@claim("I1", "This project's question (issue 27): at equal sparsity, does an IMP ticket "
       "generalize sooner than a one-shot grokked ticket?", [WORKDIR], COMMAND, "imp")
def imp_sooner(root, figures):
  """Rule (written before running): per weight decay, the median over levels and seeds
  of t_gen(one-shot) / t_gen(IMP), rewinding to 0 (not reached = the budget, a bound);
  > 1.25 on both weight decays: yes; on one: partly; else no."""
  parts, meds = [], []
  for t, p in _payloads(root).items():
    j = sorted(p["chains"], key=int)[0]
    med, text = summarize(_pairs(p, "oneshot", "imp", j, j))
    meds.append(med)
    parts.append(f"{t}: one-shot / IMP {text}")
    plot(os.path.join(figures, f"claim_i_{t}.png"), p)
  yes = sum(m is not None and m > SOME for m in meds)
  verdict = "yes" if yes == len(meds) else "partly" if yes else "no"
  return Finding("; ".join(parts), verdict, "median t_gen(one-shot) / t_gen(IMP) over levels "
                 f"and seeds, rewind 0, > {SOME:g}x on both weight decays: yes; one: partly; "
                 "else no", "", tuple(f"claim_i_{t}.png" for t in TAGS))


@claim("I2", "This project's question (issue 27): does IMP reach 0.95 at a higher sparsity "
       "than one-shot (the frontier), with weight decay 1 and 0?", [WORKDIR], COMMAND, "imp")
def imp_frontier(root, figures):
  """Rule (written before running): per weight decay and rewind step, the frontier = the
  highest k where every seed reaches the threshold; IMP's above one-shot's (or IMP has
  one and one-shot none) on both weight decays (rewind 0): yes; on one: partly; else no."""
  parts, wins, rows = [], 0, []
  for t, p in _payloads(root).items():
    for j, chain in p["chains"].items():
      fi, fo = frontier(chain["imp"]), frontier(chain["oneshot"])
      rows.append({"weight decay": t, "rewind": j,
                   "IMP frontier k": "none" if fi is None else f"{fi:.3f}",
                   "one-shot frontier k": "none" if fo is None else f"{fo:.3f}"})
      if j == sorted(p["chains"], key=int)[0]:
        win = fi is not None and (fo is None or fi > fo)
        wins += win
        parts.append(f"{t}: IMP {'none' if fi is None else f'{fi:.3f}'} vs one-shot "
                     f"{'none' if fo is None else f'{fo:.3f}'}")
  verdict = "yes" if wins == len(TAGS) else "partly" if wins else "no"
  return Finding("frontier k, rewind 0: " + "; ".join(parts), verdict, "IMP's frontier above "
                 "one-shot's on both weight decays: yes; on one: partly; else no",
                 report.markdown_table(rows))


@claim("I3", "This project's question (issue 27): does rewinding to an early step j beat "
       "rewinding to theta_0 for IMP tickets?", [WORKDIR], COMMAND, "imp")
def early_rewinding(root, figures):
  """Rule (written before running): per weight decay, the median over levels and seeds of
  t_gen(IMP, rewind 0) / t_gen(IMP, rewind j), j the latest rewind step; > 1.25 on both
  weight decays: yes; on one: partly; else no."""
  parts, meds = [], []
  for t, p in _payloads(root).items():
    js = sorted(p["chains"], key=int)
    if len(js) < 2:
      parts.append(f"{t}: one rewind step only")
      meds.append(None)
      continue
    med, text = summarize(_pairs(p, "imp", "imp", js[0], js[-1]))
    meds.append(med)
    parts.append(f"{t}: rewind {js[0]} / rewind {js[-1]} {text}")
  yes = sum(m is not None and m > SOME for m in meds)
  verdict = "yes" if yes == len(meds) else "partly" if yes else "no"
  return Finding("; ".join(parts), verdict, "median t_gen(rewind 0) / t_gen(rewind j) over "
                 f"levels and seeds > {SOME:g}x on both weight decays: yes; one: partly; else "
                 "no")
