"""graphs: graph measures of grokked and other masks (paper App. J/K; finding G1).

  python launch/main.py --config=configs/modadd_graphs.py
"""
import os

import jax
import ml_collections
import numpy as np
from tqdm.auto import tqdm

from gtickets import config as config_lib
from gtickets import storage
from gtickets.analysis import graphs as graphs_lib
from gtickets.experiment import report
from gtickets.tickets import variants
from gtickets.experiment.claims import Finding, claim
from gtickets.experiment.phase import add_checkpoints
from gtickets.experiment.pipeline import run_dense
from gtickets.experiment.setup import make_setup
from gtickets.experiment.registry import experiment
from gtickets.training import checkpoints


def section():
  c = ml_collections.ConfigDict()
  c.variants = ("grokked", "random", "snip", "grasp", "synflow")  # masks compared
  c.nongrokked_mask_step = 2_000  # a mask cut while the base only memorizes
  return c


def check(config):
  g = config.graphs
  config_lib.check_steps(config, "graphs.nongrokked_mask_step", (g.nongrokked_mask_step,))
  known = tuple(v for v in variants.VARIANTS
                if v not in ("dense", "l1_matched", "l2_matched", "imp"))
  if not g.variants or any(v not in known for v in g.variants):
    config_lib.fail("graphs.variants", g.variants, f"each one of {known}")


@experiment("graphs", section, check)
def run(config, workdir):
  """Graph measures (paper App. J/K) of masks at the same k from each seed:
  the grokked mask (final weights), a non-grokked one (``graphs.nongrokked_mask_step``),
  random and the pruning-at-initialization masks of ``graphs.variants``,
  and the dense network; every graph weighted by theta_0 * mask (analysis/graphs.py)."""
  dense = run_dense(config, workdir)
  final, early = config.train.num_steps, config.graphs.nongrokked_mask_step
  kinds = [("dense", "dense", None)] + [
      ("grokked" if v == "grokked" else v, v, final if v == "grokked" else None)
      for v in config.graphs.variants]
  if "grokked" in config.graphs.variants:
    kinds.insert(2, ("non-grokked", "grokked", early))
  k = config.ticket.prune_ratios[0]
  runs = [{"variant": v, "kind": label, "seed": s, "base_run": b,
           "prune_ratio": 0.0 if v == "dense" else k, "mask_step": ms, "rewind_step": 0,
           "scope": config.ticket.scope}
          for label, v, ms in kinds for b, s in enumerate(config.seeds)]
  add_checkpoints(dense, {final, early, 0})
  params, masks = variants.build_starts(
      runs, lambda step: checkpoints.restore_params(dense.checkpoint_dir, step),
      make_setup(config), config.variants)
  theta = checkpoints.restore_params(dense.checkpoint_dir, 0)
  rows = []
  for i, r in enumerate(tqdm(runs, desc="graphs", disable=not workdir.progress)):
    w = jax.tree.map(lambda x: np.asarray(x[r["base_run"]]), theta)
    m = jax.tree.map(lambda x: np.asarray(x[i]), masks)
    rows.append({"kind": r["kind"], "seed": r["seed"], "prune_ratio": r["prune_ratio"],
                 "mask_step": r["mask_step"], **graphs_lib.mlp_measures(w, m)})
  payload = {"k": k, "seeds": list(config.seeds), "rows": rows}
  report.write_payload(workdir.path, "graphs", payload)
  plot(workdir.file("graphs.png"), payload)
  text = report.markdown_table(table_rows(payload))
  storage.write_text(workdir.file("graphs.md"), text + "\n")
  return text, ["graphs.md", "graphs.json", "graphs.png"]


GRAPH_MEASURES = ("avg_path_length", "clustering", "spectral_gap", "ramanujan_gap",
                  "connected_fraction")


def table_rows(payload):
  kinds = list(dict.fromkeys(r["kind"] for r in payload["rows"]))
  return [{"mask": kind, **{m: report.mean_std_text([r[m] for r in payload["rows"] if r["kind"] == kind])
                            for m in GRAPH_MEASURES}} for kind in kinds]


def plot(path, payload):
  """Each graph measure per kind of mask: one dot per seed, bar = mean."""
  plt = report.pyplot()
  kinds = list(dict.fromkeys(r["kind"] for r in payload["rows"]))
  fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
  for ax, m in zip(axes, GRAPH_MEASURES[:4]):
    for i, kind in enumerate(kinds):
      v = [r[m] for r in payload["rows"] if r["kind"] == kind]
      ax.bar(i, np.mean(v), color=f"C{i}", alpha=0.5)
      ax.plot([i] * len(v), v, "k.", ms=4)
    ax.set_xticks(range(len(kinds)))
    ax.set_xticklabels(kinds, rotation=45, ha="right", fontsize=7)
    ax.set_title(m)
    ax.grid(alpha=0.3, axis="y")
  fig.suptitle(f"graph measures of masks at k = {payload['k']:g} (weights theta_0 * mask)")
  storage.save_figure(fig, path, 120)


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
  for m in GRAPH_MEASURES[:4]:
    lo, hi, mean = band("grokked", m)
    others = [band(k, m) for k in kinds]
    if all(hi < o[0] for o in others):
      separating.append(f"{m} (lowest)")
    elif all(lo > o[1] for o in others):
      separating.append(f"{m} (highest)")
  plot(os.path.join(figures, "claim_g1.png"), payload)
  verdict = "agrees" if separating else "no"
  measured = (f"k = {payload['k']:g}, {len(payload['seeds'])} seeds: the grokked mask is "
              + (f"separated from every other mask by {', '.join(separating)}" if separating
                 else "not separated from the other masks by any measure"))
  return Finding(measured, verdict, "some measure whose mean +- std for the grokked mask "
                 "overlaps no other mask's: agrees; none: no",
                 report.markdown_table(table_rows(payload)), ("claim_g1.png",))
