"""Claims over the main experiment run on other tasks and models (C10, P2).

The per-task workdirs are the lines of ``launch/tasks_jobs.txt``: experiment ``main``
(experiments/main.py), one row each, or a sweep over modular operations
(configs/modular_ops.py), one row per operation, its runs picked by the operation
they name. P2 reads the sparse-parity rows trained with each cross-entropy precision.
No experiment of its own: this module holds only claims.

  bash launch/run_jobs.sh launch/tasks_jobs.txt 1
"""
import os

import numpy as np

from gtickets import storage
from gtickets.experiment import report
from gtickets.experiment.claims import (SOME, Finding, NotMeasured, budget_of, by_seed, claim,
                                        describe_machine, speedup, summarize, t_gen_cell)


FINAL_GAP = 0.05  # a mean final test-accuracy lead worth naming where neither generalizes


@claim("C10", "Grokked tickets also generalize sooner than dense on other tasks and "
       "architectures (Fig. 2, App. B)", [], "bash launch/run_jobs.sh launch/tasks_jobs.txt 1",
       "main")
def other_tasks(root, figures):
  lines = ["| task | model | loss | seeds | steps | dense t_gen (per seed; final test score) | "
           "grokked ticket t_gen (per seed; final) | speed-up dense / ticket | random ticket "
           "t_gen (per seed; final), where run | speed-up random / grokked ticket | machine "
           "| command |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
  medians, missing, flat, controls, points, ahead, old_order = {}, [], [], {}, {}, [], []
  for res, command, experiment, name, op, dense_rows, ticket_rows, tickets in _rows(root,
                                                                                   missing):
    loss = res.loss_name("tickets")
    budget = budget_of(tickets)
    d = by_seed(dense_rows, variant="dense")
    g = by_seed(ticket_rows, variant="grokked")
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
      points[f"{name}: " + ", ".join(res.labels("tickets", **op))] = [
          (d[s]["t_gen"], g[s]["t_gen"], budget) for s in seeds]
    cell = lambda rows: t_gen_cell(rows, seeds)
    r = by_seed(ticket_rows, variant="random")
    random_cells = ("not run", "")
    if all(s in r for s in seeds):
      controls[name], random_text = summarize(
          [speedup(r[s]["t_gen"], g[s]["t_gen"], budget) for s in seeds])
      random_cells = (cell(r), random_text)
    task, model = res.labels("tickets", **op)
    if res.contraction("tickets") == "batch_first":
      model += " (batch-first order)"
      old_order.append(name)
    lines.append(f"| {task} | {model} | {loss} | {', '.join(map(str, seeds))} | {budget:,} "
                 f"| {cell(d)} | {cell(g)} | {text} | {' | '.join(random_cells)} "
                 f"| {describe_machine(res.launches(experiment))} | `{command}` |")
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
    plot_t_gen_scatter(os.path.join(figures, "claim_c10.png"), points,
                              "grokked ticket vs dense, per seed (rows where either generalizes)")
    figs = ("claim_c10.png",)
  return Finding(measured, verdict, f"every row where dense or ticket generalizes has a median "
                 f"speed-up > {SOME:g}x: agrees; some: partly; none: no", details, figs)


def _rows(root, missing):
  """Per row of C10, in the jobs' order: (Results, command, experiment, row name,
  {"operation": op} or {}, dense rows, ticket rows, ticket PhaseResult); a
  line's workdir with no finished phases goes to ``missing``. A sweep over operations
  gives one row per operation, named ``workdir[op]``."""
  for name, args in root.task_rows:
    res = root[name]
    command = f"python launch/main.py {args} --workdir=workdirs/{name}"
    try:
      dense, tickets = res.phase("dense"), res.phase("tickets")
    except NotMeasured:
      missing.append(name)
      continue
    dense_rows, ticket_rows = dense.rows(), tickets.rows()
    ops = list(dict.fromkeys(r.get("operation") for r in dense_rows))
    if ops == [None]:
      yield res, command, "main", name, {}, dense_rows, ticket_rows, tickets
      continue
    for op in ops:
      pick = lambda rows: [r for r in rows if r.get("operation") == op]
      yield (res, command, "sweep", f"{name}[{op}]", {"operation": op}, pick(dense_rows),
             pick(ticket_rows), tickets)


def plot_t_gen_scatter(path, rows, title=""):
  """Ticket t_gen against dense t_gen, one point per seed, one colour per row.

  ``rows``: {label: [(dense t_gen or None, ticket t_gen or None, budget)]}; a run that
  never reached the threshold is drawn at its budget with an open marker. Points below
  the diagonal are seeds where the ticket is the sooner one.
  """
  plt = report.pyplot()
  fig, ax = plt.subplots(figsize=(12, 5.6))
  colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
  markers = "osD^vP*Xh<>"
  lo, hi = np.inf, 0
  for i, (label, points) in enumerate(rows.items()):
    color, marker = colors[i % len(colors)], markers[(i // len(colors)) % len(markers)]
    ax.plot([], [], marker, color=color, ms=7, label=label)
    for dense, ticket, budget in points:
      x, y = (budget if dense is None else dense), (budget if ticket is None else ticket)
      lo, hi = min(lo, x, y), max(hi, x, y)
      reached = dense is not None and ticket is not None
      ax.plot(x, y, marker, color=color, mfc=color if reached else "white", ms=7)
  if hi > 0:
    span = np.array([lo / 2, hi * 2])
    for ratio, style in ((1, "-"), (10, "--"), (100, ":")):
      ax.plot(span, span / ratio, color="gray", lw=0.8, ls=style,
              label="ticket = dense" if ratio == 1 else f"ticket = dense / {ratio}")
    ax.set_xlim(*span)
    ax.set_ylim(*span)
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.set_xlabel("dense t_gen (first step at the row's threshold; open: either not reached, "
                "drawn at the budget)")
  ax.set_ylabel("grokked ticket t_gen")
  ax.set_title(title)
  ax.grid(alpha=0.3, which="both")
  ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), ncol=1)  # beside
  storage.save_figure(fig, path, 130)


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
