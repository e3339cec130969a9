"""Each experiment of the paper as a function of (config, workdir).

``config.experiment`` names one; ``launch/main.py`` runs it. All share the
workdir's base phase ``dense`` (trained once, reused by every experiment with
the same task/model/optimizer/training config) and write their own ticket
phase(s), table (``<phase>/report.md``/``.json``) and PNG figure into the workdir:

  main            dense vs grokked vs random tickets (paper Fig. 1)
  pruning_time    tickets from many base checkpoints (Fig. 4a)
  prune_ratio     grokked tickets over a grid of k (Fig. 3)
  norm_controls   dense from r_p * theta_0, p = 1, 2 (Figs. 5a, 6)
  pai             random, SNIP, GraSP, SynFlow at the ticket's k (Fig. 5b)
  critical_ratio  largest k that still generalizes without weight decay (Sec. 4)
  precision       base-phase x ticket-phase cross-entropy precision (issue 10)
  jaccard         how fast the dense model's magnitude mask moves (Fig. 4b)
  fourier         periodicity of the input weights over training (Fig. 7)
  graphs          graph measures of grokked and other masks (App. J/K)
  edge_popup      learning only a mask over memorizing weights (Sec. 5.3, Table 1)
  sweep           the product of value lists over config fields (experiment/sweep.py)
  accelerators    dense + Grokfast / StableMax / perpendicular gradient vs grokked
                  tickets, same seeds (experiment/accelerators.py)
"""
import dataclasses
import os

import jax
import numpy as np
from tqdm.auto import tqdm

from gtickets import config as config_lib
from gtickets import identity, models, storage, tasks
from gtickets.analysis import fourier as fourier_lib
from gtickets.analysis import graphs as graphs_lib
from gtickets.analysis import jaccard as jaccard_lib
from gtickets.experiment import report, variants
from gtickets.experiment import accelerators as accelerators_lib
from gtickets.experiment import sweep as sweep_lib
from gtickets.experiment.phase import run_phase
from gtickets.experiment.pipeline import (data_seed_of, ensure_base_checkpoints,
                                          ensure_phase_checkpoints, make_setup, run_dense,
                                          run_main, run_tickets, ticket_config)
from gtickets.tickets import checkpoints
from gtickets.tickets import masks as masks_lib
from gtickets.tickets.edge_popup import make_edge_popup_trainer


def _measure_series(table, xs, x_of, keys):
  """{key: (means, stds)} of the table's entries ordered by ``xs``."""
  by_x = {x_of(e): e for e in table}
  return {k: ([by_x[x][k]["mean"] for x in xs], [by_x[x][k]["std"] for x in xs])
          for k in keys}


def _write(directory, name, payload):
  storage.write_json(os.path.join(directory, f"{name}.json"), payload)


def main(config, workdir, progress=True):
  dense, tickets = run_main(config, workdir, progress)
  text = report.write_summary(workdir, [dense, tickets], config)
  score = tasks.MODULES[config.task.name].SCORE
  loss = "loss" + (f" (threshold {config.threshold:g})" if config.threshold_on == "loss" else "")
  report.plot_curves(os.path.join(workdir, "curves.png"), [dense, tickets],
                     title=f"{tasks.describe(config.task)}, {config.model.name}",
                     metrics=[("test_acc", "train_acc"), ("test_loss", "train_loss")],
                     ylabels=[score, loss])
  return text, ["summary.json", "summary.md", "curves.png"]


def pruning_time(config, workdir, progress=True):
  dense, res = run_main(config, workdir, progress)
  table = report.summary_table([res])
  steps = sorted({e["mask_step"] for e in table})
  base_acc = {s: dense.curves["test_acc"][:, list(dense.steps).index(s)] for s in steps}
  series = _measure_series(table, steps, lambda e: e["mask_step"],
                           ["t_gen", "final_test_acc"])
  series["base test acc at pruning step"] = (
      [float(base_acc[s].mean()) for s in steps], [float(base_acc[s].std()) for s in steps])
  name = config.ticket.phase
  report.plot_measures_against(os.path.join(workdir, f"{name}.png"), steps, series,
                               "pruning step (base checkpoint)", "tickets by pruning time")
  text = report.write_summary(workdir, [res], config, name=name)
  _write(workdir, f"{name}_base_acc", {str(s): base_acc[s].tolist() for s in steps})
  return text, [f"{name}.md", f"{name}.json", f"{name}.png"]


def prune_ratio(config, workdir, progress=True):
  _, res = run_main(config, workdir, progress)
  table = report.summary_table([res])
  ks = [e["prune_ratio"] for e in table]
  series = _measure_series(table, ks, lambda e: e["prune_ratio"],
                           ["t_mem", "t_gen", "tau_grok"])
  name = config.ticket.phase
  report.plot_measures_against(os.path.join(workdir, f"{name}.png"), ks, series,
                               "prune ratio k (fraction removed)", "grokked tickets by k")
  return report.write_summary(workdir, [res], config, name=name), [
      f"{name}.md", f"{name}.json", f"{name}.png"]


def _curves_experiment(config, workdir, progress, norms=False):
  dense, res = run_main(config, workdir, progress)
  name = config.ticket.phase
  metrics = [("test_acc", "train_acc")] + ([("l1", None), ("l2", None)] if norms else [])
  report.plot_curves(os.path.join(workdir, f"{name}.png"), [dense, res], title=name,
                     metrics=metrics, ylabels=["accuracy"] + (["L1 norm", "L2 norm"] if norms else []))
  return report.write_summary(workdir, [dense, res], config, name=name), [
      f"{name}.md", f"{name}.json", f"{name}.png"]


def norm_controls(config, workdir, progress=True):
  return _curves_experiment(config, workdir, progress, norms=True)


def pai(config, workdir, progress=True):
  return _curves_experiment(config, workdir, progress)


def critical_ratio_search(passes, levels=(0.1, 0.01), hi=1.0, zero_passes=lambda: True):
  """Largest k < hi with ``passes``, coarse to fine.

  ``passes(ks) -> [bool]`` evaluates one grid at once (one batched phase). The
  first level tries k = s, 2s, ... < hi; each next level tries its finer grid
  strictly between the best k so far and the next coarser point. When no k of
  the first grid passes, the grid below its first point is tried only if
  ``zero_passes()`` (k -> 0, the dense model, generalizes): passing need not be
  monotone in k (without weight decay, lightly pruned tickets fail as dense does).
  Returns (k or None, history of the grids tried).
  """
  best, history, lo, span = None, [], 0.0, hi
  for step in levels:
    top = min(hi, lo + span)
    ks = [round(lo + i * step, 10) for i in range(1, int(round(span / step)) + 1)]
    ks = [k for k in ks if k < top - 1e-9]
    if not ks:
      break
    ok = [bool(x) for x in passes(ks)]
    history.append({"step": step, "ks": ks, "passes": ok})
    passing = [k for k, o in zip(ks, ok) if o]
    if passing:
      best = max(passing)
    elif best is None and not zero_passes():
      break
    lo, span = (best if best is not None else 0.0), step
  return best, history


def critical_ratio(config, workdir, progress=True):
  """Grokked tickets (and dense) without weight decay; the largest k that generalizes.

  A k passes when every seed's ticket reaches the test-accuracy threshold within
  ``train.num_steps``. Each level of the search is one batched ticket phase.
  """
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  base_phase = config.ticket.phase
  results = []

  def passes(ks):
    c = config.copy_and_resolve_references()
    c.ticket.prune_ratios = tuple(ks)
    c.ticket.phase = f"{base_phase}_{len(results)}"
    c.ticket.variants = ("grokked",) + (("dense",) if not results else ())
    res = run_tickets(dataclasses.replace(setup, config=c), workdir, dense, progress)
    results.append(res)
    rows = [r for r in res.rows() if r["variant"] == "grokked"]
    return [all(r["t_gen"] is not None for r in rows if r["prune_ratio"] == k) for k in ks]

  def dense_passes():  # the first level's dense runs, at this weight decay
    return all(r["t_gen"] is not None for r in results[0].rows() if r["variant"] == "dense")

  k_crit, history = critical_ratio_search(passes, tuple(config.critical.levels),
                                          zero_passes=dense_passes)
  table = report.summary_table(results)
  _write(workdir, base_phase, {"critical_ratio": k_crit, "weight_decay": config.ticket.weight_decay,
                               "history": history, "table": table})
  ks = sorted({e["prune_ratio"] for e in table if e["variant"] == "grokked"})
  grok = [e for e in table if e["variant"] == "grokked"]
  series = _measure_series(grok, ks, lambda e: e["prune_ratio"], ["final_test_acc", "t_gen"])
  report.plot_measures_against(os.path.join(workdir, f"{base_phase}.png"), ks, series,
                               "prune ratio k", ("no weight decay: critical k = " + (
                                 f"{k_crit}" if k_crit is not None else "none (no k generalizes)")))
  text = report.format_table(table) + f"\ncritical prune ratio (all seeds reach the threshold): {k_crit}"
  storage.write_text(os.path.join(workdir, f"{base_phase}.md"), text + "\n")
  return text, [f"{base_phase}.md", f"{base_phase}.json", f"{base_phase}.png"]


def precision(config, workdir, progress=True):
  """Where the loss's precision matters: grokked tickets for every pair (base-phase
  cross-entropy, ticket-phase cross-entropy) of ``config.precision.modes``.

  Per base mode, its dense base runs in ``<workdir>/base_<mode>/dense`` and one
  ticket phase per ticket mode in ``<workdir>/base_<mode>/ticket_<mode>``. Is the
  speed-up in the mask (cut from weights trained with that precision) or in the
  ticket's own training? The table gives t_gen per seed for each cell.
  """
  modes = tuple(config.precision.modes)
  cells, bases = [], {}
  for base_mode in modes:
    c = config.copy_and_resolve_references()
    c.train.cross_entropy = base_mode
    c.ticket.variants = ("grokked",)
    sub = os.path.join(workdir, f"base_{base_mode}")
    setup = make_setup(c)
    bases[base_mode] = dense = run_dense(setup, sub, progress)
    for ticket_mode in modes:
      ct = c.copy_and_resolve_references()
      ct.ticket.cross_entropy = ticket_mode
      ct.ticket.phase = f"ticket_{ticket_mode}"
      res = run_tickets(dataclasses.replace(setup, config=ct), sub, dense, progress)
      cells.append((base_mode, ticket_mode, res))
  rows = [{"base": m, "ticket": "(dense)", "runs": bases[m].rows()} for m in modes]
  rows += [{"base": b, "ticket": t, "runs": res.rows()} for b, t, res in cells]
  _write(workdir, "precision", {"threshold": config.threshold, "seeds": list(config.seeds),
                                "modes": list(modes), "rows": rows})
  text = report.format_precision_table(rows, config.seeds)
  storage.write_text(os.path.join(workdir, "precision.md"), text + "\n")
  report.plot_precision(os.path.join(workdir, "precision.png"), bases, cells)
  return text, ["precision.md", "precision.json", "precision.png"]


# ---------------------------------------------------------------- structural analyses

def _analysis_steps(config, steps):
  n, every = config.train.num_steps, config.train.eval_every
  return sorted({min(int(s), n) for s in steps if s % every == 0})


def jaccard(config, workdir, progress=True):
  """Mask trajectory of the dense runs (paper Fig. 4b; claim C6): magnitude masks
  (ratio k = ticket.prune_ratios[0]) of the dense weights every
  ``analysis.jaccard_every`` steps (checkpoints added by training forward), the
  Jaccard distance between consecutive ones and to the final one, per matrix and
  over all, beside the test accuracy at the same steps. The largest change is
  looked for after ``analysis.jaccard_from``: the first steps, where the network
  memorizes, move the mask most of all and are not the transition the paper means
  (its curve starts at 2k)."""
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  every, n = config.analysis.jaccard_every, config.train.num_steps
  steps = list(range(0, n + 1, every))
  ensure_base_checkpoints(setup, dense, steps)
  k, scope = config.ticket.prune_ratios[0], config.ticket.scope
  theta = checkpoints.restore_params(dense.checkpoint_dir, 0)
  prunable = models.prunable(setup.model, jax.tree.map(lambda x: x[0], theta))
  cut = jax.jit(jax.vmap(lambda w: masks_lib.magnitude_mask(w, k, scope, prunable)))
  masks = [cut(checkpoints.restore_params(dense.checkpoint_dir, s)) for s in steps]
  jd = jax.jit(jax.vmap(lambda a, b: (jaccard_lib.jaccard_per_leaf(a, b),
                                      jaccard_lib.jaccard_distance(a, b, prunable))))
  def series(pairs):
    out = [jd(a, b) for a, b in pairs]
    return {"all": np.stack([o[1] for o in out], 1).tolist(),
            **{name: np.stack([o[0][name] for o in out], 1).tolist() for name in out[0][0]}}
  coarse = [i for i, s in enumerate(steps) if s % config.train.ckpt_every == 0 or s == n]
  index = {s: i for i, s in enumerate(dense.steps.tolist())}
  payload = {
      "k": k, "scope": scope, "seeds": list(config.seeds), "steps": steps,
      "from": config.analysis.jaccard_from,
      "test_acc": dense.curves["test_acc"][:, [index[s] for s in steps]].tolist(),
      "consecutive": series(zip(masks[:-1], masks[1:])),
      "to_final": series((m, masks[-1]) for m in masks),
      "coarse_steps": [steps[i] for i in coarse],
      "coarse_consecutive": series((masks[a], masks[b]) for a, b in zip(coarse[:-1], coarse[1:])),
  }
  _write(workdir, "jaccard", payload)
  report.plot_jaccard(os.path.join(workdir, "jaccard.png"), payload)
  rows = report.jaccard_rows(payload)
  text = report.markdown_table(rows)
  storage.write_text(os.path.join(workdir, "jaccard.md"), text + "\n")
  return text, ["jaccard.md", "jaccard.json", "jaccard.png"]


def _phase_masks(result):
  return checkpoints.load_tree(os.path.join(result.directory, "masks"))


def fourier(config, workdir, progress=True):
  """Fourier entropy of the effective input weights over training (paper Fig. 7;
  claim C7) for the dense runs, the grokked and random tickets of the main
  experiment and a non-grokked ticket (mask at ``analysis.nongrokked_mask_step``,
  its own phase ``nongrokked``), at ``analysis.fourier_steps``; W and its
  spectrum at ``analysis.heatmap_steps`` for the first seed."""
  setup = make_setup(config)
  dense, tickets = run_main(config, workdir, progress)
  c = config.copy_and_resolve_references()
  c.ticket.phase, c.ticket.variants = "nongrokked", ("grokked",)
  c.ticket.mask_steps = (config.analysis.nongrokked_mask_step,)
  nongrokked = run_tickets(dataclasses.replace(setup, config=c), workdir, dense, progress)
  steps = _analysis_steps(config, config.analysis.fourier_steps)
  ticket_setup = make_setup(ticket_config(config))
  kinds = [("dense", dense, None, setup), ("grokked ticket", tickets, "grokked", ticket_setup),
           ("random ticket", tickets, "random", ticket_setup),
           ("non-grokked ticket", nongrokked, "grokked", ticket_setup)]
  entropy = jax.jit(jax.vmap(lambda p, m: (
      fourier_lib.fourier_entropy(fourier_lib.effective_input_weights(p, m)),
      fourier_lib.authors_entropy(fourier_lib.effective_input_weights(p, m)))))
  draw = set(_analysis_steps(config, config.analysis.heatmap_steps))
  series, heatmaps = {}, {}
  for label, res, variant, s in kinds:
    ensure_phase_checkpoints(s, res, steps + sorted(draw))
    runs = [i for i, r in enumerate(res.runs) if variant is None or r["variant"] == variant]
    masks = None if variant is None else jax.tree.map(lambda x: x[np.asarray(runs)],
                                                      _phase_masks(res))
    ent, authors = [], []
    for step in steps:
      p = jax.tree.map(lambda x: x[np.asarray(runs)],
                       checkpoints.restore_params(res.checkpoint_dir, step))
      m = masks if masks is not None else jax.vmap(masks_lib.ones_like)(p)
      e, a = entropy(p, m)
      ent.append(np.asarray(e))
      authors.append(np.asarray(a))
      if step in draw:
        w = fourier_lib.effective_input_weights(jax.tree.map(lambda x: x[0], p),
                                                jax.tree.map(lambda x: x[0], m))
        heatmaps.setdefault(label, {})[str(step)] = {
            "w": np.asarray(w).tolist(), "spectrum": np.asarray(fourier_lib.spectrum(w)).tolist()}
    series[label] = {"seeds": [res.runs[i]["seed"] for i in runs],
                     "entropy": np.stack(ent, 1).tolist(),
                     "authors": np.stack(authors, 1).tolist()}
  payload = {"steps": steps, "early_step": config.analysis.early_step,
             "nongrokked_mask_step": config.analysis.nongrokked_mask_step,
             "max_entropy": float(np.log((config.task.p - 1) // 2)),
             "series": series, "heatmaps": heatmaps}
  _write(workdir, "fourier", payload)
  report.plot_fourier(os.path.join(workdir, "fourier.png"), payload)
  report.plot_fourier_heatmaps(os.path.join(workdir, "fourier_heatmaps.png"), payload)
  text = report.markdown_table(report.fourier_rows(payload))
  storage.write_text(os.path.join(workdir, "fourier.md"), text + "\n")
  return text, ["fourier.md", "fourier.json", "fourier.png", "fourier_heatmaps.png"]


def graphs(config, workdir, progress=True):
  """Graph measures (paper App. J/K) of masks at the same k from each seed:
  the grokked mask (final weights), a non-grokked one (``analysis.nongrokked_mask_step``),
  random and the pruning-at-initialization masks of ``analysis.graph_variants``,
  and the dense network; every graph weighted by theta_0 * mask (analysis/graphs.py)."""
  setup = make_setup(config)
  dense = run_dense(setup, workdir, progress)
  c = ticket_config(config)
  final, early = config.train.num_steps, config.analysis.nongrokked_mask_step
  kinds = [("dense", "dense", None)] + [
      ("grokked" if v == "grokked" else v, v, final if v == "grokked" else None)
      for v in config.analysis.graph_variants]
  if "grokked" in config.analysis.graph_variants:
    kinds.insert(2, ("non-grokked", "grokked", early))
  k = config.ticket.prune_ratios[0]
  runs = [{"variant": v, "kind": label, "seed": s, "base_run": b,
           "prune_ratio": 0.0 if v == "dense" else k, "mask_step": ms, "rewind_step": 0,
           "scope": config.ticket.scope}
          for label, v, ms in kinds for b, s in enumerate(config.seeds)]
  ensure_base_checkpoints(setup, dense, {final, early, 0})
  params, masks = variants.build_starts(
      runs, lambda step: checkpoints.restore_params(dense.checkpoint_dir, step), setup,
      c.ticket)
  theta = checkpoints.restore_params(dense.checkpoint_dir, 0)
  rows = []
  for i, r in enumerate(tqdm(runs, desc="graphs", disable=not progress)):
    w = jax.tree.map(lambda x: np.asarray(x[r["base_run"]]), theta)
    m = jax.tree.map(lambda x: np.asarray(x[i]), masks)
    rows.append({"kind": r["kind"], "seed": r["seed"], "prune_ratio": r["prune_ratio"],
                 "mask_step": r["mask_step"], **graphs_lib.mlp_measures(w, m)})
  payload = {"k": k, "seeds": list(config.seeds), "rows": rows}
  _write(workdir, "graphs", payload)
  report.plot_graphs(os.path.join(workdir, "graphs.png"), payload)
  text = report.markdown_table(report.graph_rows(payload))
  storage.write_text(os.path.join(workdir, "graphs.md"), text + "\n")
  return text, ["graphs.md", "graphs.json", "graphs.png"]


# ---------------------------------------------------------------- edge-popup (Table 1)

# The paper's Table 1 (test accuracy, mean +- std; ../shared/reference/PAPER.md).
PAPER_TABLE1 = {"wd": {600: (0.53, 0.31), 1000: (0.95, 0.03), 1400: (1.00, None), 2000: (1.00, None)},
                "ep": {600: (0.68, 0.19), 1000: (0.80, 0.17), 1400: (0.84, 0.16), 2000: (0.92, 0.06)},
                "ep_wd": {600: (0.82, 0.04), 1000: (0.96, 0.01), 1400: (0.99, None), 2000: (1.00, None)}}
EDGE_POPUP_VARIANTS = {  # use_scores, train_weights, weight decay (from config.optim)
    "wd": (0.0, 1.0, True), "ep": (1.0, 0.0, False), "ep_wd": (1.0, 1.0, True)}
EDGE_POPUP_LABELS = {"wd": "WD", "ep": "EP w/o WD", "ep_wd": "EP w/ WD"}


EDGE_POPUP_FIELDS = identity.DENSE + ("edge_popup", "seeds")  # the edge_popup phase's
EDGE_POPUP_NEUTRAL = {  # pinned (identity.py)
    "edge_popup.base_lr": 0.01, "edge_popup.base_step": 1000, "edge_popup.base_weight_decay": -1.0,
    "edge_popup.lr": 0.01, "edge_popup.prune_ratio": 0.6,
    "edge_popup.report_steps": [600, 1000, 1400, 2000], "edge_popup.score_weight_decay": -1.0,
    "edge_popup.variants": ["wd", "ep", "ep_wd"]}
MEMORIZING_RULE = "train acc 1 and test acc < 0.1 at the base step"


def memorizing(base_row):
  """Whether a base run memorizes at the base step (``MEMORIZING_RULE``)."""
  return base_row["final_train_acc"] == 1.0 and base_row["final_test_acc"] < 0.1


def edge_popup(config, workdir, progress=True):
  """Edge-popup from memorizing weights (paper Sec. 5.3, Table 1; claim C8).

  Base: dense runs (one per seed) trained with ``edge_popup.base_lr`` for
  ``edge_popup.base_step`` steps (phase ``dense``: they memorize). From their
  weights, for ``train.num_steps``: WD (dense training with weight decay), EP w/o WD
  (weights frozen, only the scores learn) and EP w/ WD (scores and weights learn,
  weight decay ``optim.weight_decay``); all variants and seeds in one batched phase
  ``edge_popup`` (tickets/edge_popup.py). A seed whose base does not memorize
  (``MEMORIZING_RULE``) is reported as such and left out of the table and of C8.
  """
  ep = config.edge_popup
  base = config.copy_and_resolve_references()
  base.optim.lr = ep.base_lr
  if ep.base_weight_decay >= 0:
    base.optim.weight_decay = ep.base_weight_decay
  base.train.num_steps = base.train.ckpt_every = ep.base_step
  dense = run_dense(make_setup(base), workdir, progress)
  base_rows = [{**r, "memorizing": memorizing(r)} for r in dense.rows()]
  for r in base_rows:
    if not r["memorizing"]:
      tqdm.write(f"note: edge_popup: the base of seed {r['seed']} does not memorize (train / "
                 f"test acc {r['final_train_acc']:.3f} / {r['final_test_acc']:.3f} at step "
                 f"{ep.base_step:,}): reported, left out of the table")
  theta = checkpoints.restore_params(dense.checkpoint_dir, ep.base_step)
  runs = [{"run": i, "variant": v, "seed": s, "base_run": b, "prune_ratio": ep.prune_ratio,
           "data_seed": data_seed_of(config, s)}
          for i, (v, (b, s)) in enumerate((v, bs) for v in ep.variants
                                          for bs in enumerate(config.seeds))]
  settings = {
      "seed": np.asarray([r["seed"] for r in runs], np.uint32),
      "use_scores": np.asarray([EDGE_POPUP_VARIANTS[r["variant"]][0] for r in runs], np.float32),
      "train_weights": np.asarray([EDGE_POPUP_VARIANTS[r["variant"]][1] for r in runs],
                                  np.float32),
      "weight_decay": np.asarray([config.optim.weight_decay * EDGE_POPUP_VARIANTS[
          r["variant"]][2] for r in runs], np.float32)}
  params = jax.tree.map(lambda x: x[np.asarray([r["base_run"] for r in runs])], theta)
  setup = make_setup(config)
  trainer = make_edge_popup_trainer(config, setup.task, setup.model)
  res = run_phase("edge_popup", workdir, trainer, setup.data_for(runs), runs, params, None,
                  config, identity.of(config, EDGE_POPUP_FIELDS, EDGE_POPUP_NEUTRAL),
                  progress=progress, hparams=settings)
  payload = {"seeds": list(config.seeds), "k": ep.prune_ratio, "base_step": ep.base_step,
             "base_lr": ep.base_lr, "base_weight_decay": base.optim.weight_decay,
             "train_fraction": config.task.train_fraction, "data_seed": config.task.data_seed,
             "score_weight_decay": ep.score_weight_decay, "lr": ep.lr,
             "pairs": getattr(config.task, "pairs", None),
             "cross_entropy": config.train.cross_entropy,
             "memorizing_rule": MEMORIZING_RULE,
             "report_steps": list(ep.report_steps),
             "base": base_rows, "runs": res.rows(), "steps": res.steps.tolist(),
             "test_acc": res.curves["test_acc"].tolist(),
             "train_acc": res.curves["train_acc"].tolist(),
             "paper": {v: {str(s): list(x) for s, x in t.items()} for v, t in PAPER_TABLE1.items()}}
  _write(workdir, "edge_popup", payload)
  report.plot_edge_popup(os.path.join(workdir, "edge_popup.png"), payload)
  text = report.markdown_table(report.edge_popup_rows(payload))
  storage.write_text(os.path.join(workdir, "edge_popup.md"), text + "\n")
  return text, ["edge_popup.md", "edge_popup.json", "edge_popup.png"]


ANALYSES = ("jaccard", "fourier", "graphs")


EXPERIMENTS = {f.__name__: f for f in (main, pruning_time, prune_ratio, norm_controls,
                                       pai, critical_ratio, precision, jaccard, fourier, graphs,
                                       edge_popup)}
EXPERIMENTS["sweep"] = sweep_lib.sweep
EXPERIMENTS["accelerators"] = accelerators_lib.accelerators


def validate(config):
  """``gtickets.config.validate``, then the names this layer defines: the
  experiment and the ticket variants (registries: EXPERIMENTS, variants.VARIANTS)."""
  config_lib.validate(config)
  if config.experiment not in EXPERIMENTS:
    config_lib.fail("experiment", config.experiment, f"must be one of {tuple(EXPERIMENTS)}")
  names, known = config.ticket.variants, tuple(variants.VARIANTS)
  if (not names and config.experiment != "sweep") or len(set(names)) != len(names) or any(
      v not in known for v in names):
    config_lib.fail("ticket.variants", names, f"distinct, each one of {known}"
                    + (" (empty: a sweep of dense runs only)" if config.experiment == "sweep"
                       else ""))
  if config.experiment in ANALYSES:
    _validate_analysis(config)
  if config.experiment == "edge_popup":
    _validate_edge_popup(config)
  if config.experiment == "sweep":
    sweep_lib.validate(config)
  if config.experiment == "accelerators":
    accelerators_lib.validate(config)
  return config


def _validate_edge_popup(config):
  ep, t = config.edge_popup, config.train
  if not 0 < ep.prune_ratio < 1:
    config_lib.fail("edge_popup.prune_ratio", ep.prune_ratio, "must be in (0, 1)")
  if ep.base_weight_decay < 0 and ep.base_weight_decay != -1:
    config_lib.fail("edge_popup.base_weight_decay", ep.base_weight_decay,
                    "-1 (optim.weight_decay) or >= 0")
  if ep.score_weight_decay < 0 and ep.score_weight_decay != -1:
    config_lib.fail("edge_popup.score_weight_decay", ep.score_weight_decay,
                    "-1 (the run's weight decay) or >= 0")
  for field in ("base_lr", "lr"):
    if not ep[field] > 0:
      config_lib.fail(f"edge_popup.{field}", ep[field], "must be > 0")
  if not isinstance(ep.base_step, int) or ep.base_step <= 0 or ep.base_step % t.eval_every:
    config_lib.fail("edge_popup.base_step", ep.base_step,
                    f"a positive multiple of train.eval_every={t.eval_every}")
  if not ep.variants or any(v not in EDGE_POPUP_VARIANTS for v in ep.variants):
    config_lib.fail("edge_popup.variants", ep.variants, f"each one of {tuple(EDGE_POPUP_VARIANTS)}")
  if any(s % t.eval_every or not 0 < s <= t.num_steps for s in ep.report_steps):
    config_lib.fail("edge_popup.report_steps", ep.report_steps, "steps in (0, train.num_steps], "
                    f"multiples of train.eval_every={t.eval_every}")


def _validate_analysis(config):
  a, t = config.analysis, config.train
  def on_grid(field, steps):
    if not steps or any(not isinstance(s, int) or not 0 <= s <= t.num_steps
                        or s % t.eval_every for s in steps):
      config_lib.fail(f"analysis.{field}", steps, "steps in [0, train.num_steps], multiples "
                      f"of train.eval_every={t.eval_every}")
  on_grid("jaccard_every", (a.jaccard_every,))
  if a.jaccard_every <= 0:
    config_lib.fail("analysis.jaccard_every", a.jaccard_every, "must be > 0")
  on_grid("jaccard_from", (a.jaccard_from,))
  on_grid("nongrokked_mask_step", (a.nongrokked_mask_step,))
  on_grid("fourier_steps", a.fourier_steps)
  on_grid("heatmap_steps", a.heatmap_steps)
  if a.early_step not in a.fourier_steps:
    config_lib.fail("analysis.early_step", a.early_step, "must be one of analysis.fourier_steps")
  known = tuple(v for v in variants.VARIANTS if v not in ("dense", "l1_matched", "l2_matched"))
  if not a.graph_variants or any(v not in known for v in a.graph_variants):
    config_lib.fail("analysis.graph_variants", a.graph_variants, f"each one of {known}")
