"""main: dense vs grokked vs random tickets (paper Fig. 1; claim C1).

Phase ``dense`` (one base run per seed), then phase ``tickets`` (every variant of
``ticket.variants`` at every k, cut from each base run); writes ``summary.md`` /
``.json`` and ``curves.png``. The other per-task workdirs run this experiment too
(claims C10 and P2: experiments/other_tasks.py); pai, norm_controls, prune_ratio and
pruning_time run its pipeline with a ticket phase named after them.

  python launch/main.py --config=configs/modadd.py
"""
import os

from gtickets import tasks
from gtickets.experiment import report
from gtickets.experiment.claims import (MUCH, SOME, Finding, NotMeasured, base_cells, budget_of,
                                        by_seed, claim, seed_table, speedup, steps, summarize)
from gtickets.experiment.pipeline import Tickets, run_main
from gtickets.experiment.registry import experiment


@experiment("main", config_file=lambda c: "config.json")
def run(config, workdir):
  dense, tickets = run_main(config, workdir)
  name, figure = "summary", "curves.png"
  text = report.write_summary(workdir.path, [dense, tickets], config, name=name)
  score = tasks.MODULES[config.task.name].SCORE
  loss = "loss" + (f" (threshold {config.threshold:g})" if config.threshold_on == "loss" else "")
  report.plot_curves(workdir.file(figure), [dense, tickets],
                     title=f"{tasks.describe(config.task)}, {config.model.name}",
                     metrics=[("test_acc", "train_acc"), ("test_loss", "train_loss")],
                     ylabels=[score, loss])
  return text, [f"{name}.json", f"{name}.md", figure]


def run_with_curves(config, workdir, norms=False):
  """The main pipeline with a ticket phase named after the experiment: its summary table
  and curves (and L1 / L2 norms with ``norms``) in ``<phase>.md`` / ``.json`` / ``.png``."""
  name = config.experiment
  dense, res = run_main(config, workdir, Tickets(name))
  metrics = [("test_acc", "train_acc")] + ([("l1", None), ("l2", None)] if norms else [])
  report.plot_curves(workdir.file(f"{name}.png"), [dense, res], title=name,
                     metrics=metrics, ylabels=["accuracy"] + (["L1 norm", "L2 norm"] if norms else []))
  return report.write_summary(workdir.path, [dense, res], config, name=name), [
      f"{name}.md", f"{name}.json", f"{name}.png"]


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
      ("base test acc at mask step", base_cells(res.phase("dense"), g)),
      ("random ticket t_gen", {s: steps(rnd[s]["t_gen"]) if s in rnd else "" for s in seeds}),
      ("speed-up dense / grokked", {s: str(sp[s]) for s in seeds}),
      ("final test acc: dense / grokked / random", {s: " / ".join(
          f"{x[s]['final_test_acc']:.3f}" if s in x else "-" for x in (d, g, rnd))
          for s in seeds})], seeds) + _split_seed_table(root["modadd_split_seeds"])
  measured = (f"grokked t_gen {' / '.join(steps(g[s]['t_gen']) for s in seeds)} vs dense "
              f"{' / '.join(steps(d[s]['t_gen']) for s in seeds)}: {text}")
  return Finding(measured, verdict, f"median speed-up >= {MUCH:g}x: agrees; > {SOME:g}x: "
                 "partly; else no", details, ("claim_c1.png",))
