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
  # networkx and scipy load here, not with every launch (0.27 s)
  from gtickets.analysis import graphs as graphs_lib  # pylint: disable=import-outside-toplevel
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


# The two properties the paper's abstract names for grokked tickets, with their direction.
PAPER_PROPERTIES = (("avg_path_length", "higher", "increased average path length"),
                    ("clustering", "lower", "reduced clustering coefficient"))


def _band(rows, kind, m):
  v = np.asarray([r[m] for r in rows if r["kind"] == kind], float)
  return v.mean() - v.std(), v.mean() + v.std()


def separated(rows, m, direction, others):
  """Whether the grokked mask's mean +- std band for measure ``m`` lies wholly above
  (``direction`` "higher") or below ("lower") that of every kind in ``others``."""
  lo, hi = _band(rows, "grokked", m)
  bands = [_band(rows, k, m) for k in others]
  return all(lo > b[1] for b in bands) if direction == "higher" else all(hi < b[0] for b in bands)


@claim("G1", "Grokked tickets have distinctive graph properties among masks of the same "
       "sparsity (App. J/K)", ["modadd"], "python launch/main.py --config=configs/modadd_graphs.py",
       "graphs")
def graph_measures(root, figures):
  """Each property the abstract names (average path length increased, clustering reduced)
  judged on its own: it holds when the grokked mask's mean +- std band lies wholly on the
  named side of every other mask's of the same sparsity (non-grokked, random, PaI), the
  comparison of the claim; the dense network's side is reported beside it (App. J/K's
  comparison is not in our reference text, so both are shown)."""
  payload = root["modadd"].json("graphs.json")
  rows = payload["rows"]
  kinds = [k for k in dict.fromkeys(r["kind"] for r in rows) if k not in ("dense", "grokked")]
  held, parts = 0, []
  for m, direction, name in PAPER_PROPERTIES:
    same = separated(rows, m, direction, kinds)
    dense = separated(rows, m, direction, ["dense"])
    held += same
    parts.append(f"{name}: {'yes' if same else 'no'} against the other masks of the same "
                 f"sparsity, {'yes' if dense else 'no'} against the dense network")
  plot(os.path.join(figures, "claim_g1.png"), payload)
  verdict = {2: "agrees", 1: "partly", 0: "no"}[held]
  measured = f"k = {payload['k']:g}, {len(payload['seeds'])} seeds: " + "; ".join(parts)
  return Finding(measured, verdict, "each of the abstract's two properties (path length "
                 "higher, clustering lower) holds when the grokked mask's mean +- std lies "
                 "wholly on that side of every other mask's of the same sparsity: both hold: "
                 "agrees; one: partly; none: no (the dense network's side is reported)",
                 report.markdown_table(table_rows(payload)), ("claim_g1.png",))
