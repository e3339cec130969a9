"""fourier: periodicity of the input weights over training (paper Fig. 7; claim C7).

  python launch/main.py --config=configs/modadd_fourier.py
"""
import os

import jax
import ml_collections
import numpy as np

from gtickets import config as config_lib
from gtickets import storage
from gtickets.analysis import fourier as fourier_lib
from gtickets.experiment import report
from gtickets.experiment.claims import Finding, claim, seed_table
from gtickets.experiment.phase import add_checkpoints
from gtickets.experiment.pipeline import Tickets, run_main, run_tickets
from gtickets.experiment.registry import experiment
from gtickets.training import checkpoints
from gtickets.tickets import masks as masks_lib


def section():
  c = ml_collections.ConfigDict()
  c.steps = (0, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000)  # entropy measured
  c.heatmap_steps = (0, 1_000, 30_000)  # W and its spectrum drawn (first seed)
  c.early_step = 1_000                  # where "periodic early" is compared (claim C7)
  c.nongrokked_mask_step = 2_000        # a mask cut while the base only memorizes
  return c


def check(config):
  f = config.fourier
  for field in ("steps", "heatmap_steps"):
    config_lib.check_steps(config, f"fourier.{field}", f[field])
  config_lib.check_steps(config, "fourier.nongrokked_mask_step", (f.nongrokked_mask_step,))
  if f.early_step not in f.steps:
    config_lib.fail("fourier.early_step", f.early_step, "must be one of fourier.steps")


def _on_grid(config, steps):
  n, every = config.train.num_steps, config.train.eval_every
  return sorted({min(int(s), n) for s in steps if s % every == 0})


@experiment("fourier", section, check)
def run(config, workdir):
  """Fourier entropy of the effective input weights over training (paper Fig. 7;
  claim C7) for the dense runs, the grokked and random tickets of the main
  experiment and a non-grokked ticket (mask at ``fourier.nongrokked_mask_step``,
  its own phase ``nongrokked``), at ``fourier.steps``; W and its
  spectrum at ``fourier.heatmap_steps`` for the first seed."""
  dense, tickets = run_main(config, workdir)
  nongrokked = run_tickets(config, workdir, dense, Tickets("nongrokked"), variants=("grokked",),
                           mask_steps=(config.fourier.nongrokked_mask_step,))
  steps = _on_grid(config, config.fourier.steps)
  kinds = [("dense", dense, None), ("grokked ticket", tickets, "grokked"),
           ("random ticket", tickets, "random"), ("non-grokked ticket", nongrokked, "grokked")]
  entropy = jax.jit(jax.vmap(lambda p, m: (
      fourier_lib.fourier_entropy(fourier_lib.effective_input_weights(p, m)),
      fourier_lib.authors_entropy(fourier_lib.effective_input_weights(p, m)))))
  draw = set(_on_grid(config, config.fourier.heatmap_steps))
  series, heatmaps = {}, {}
  for label, res, variant in kinds:
    add_checkpoints(res, steps + sorted(draw))
    runs = [i for i, r in enumerate(res.runs) if variant is None or r["variant"] == variant]
    masks = None if variant is None else jax.tree.map(lambda x: x[np.asarray(runs)],
                                                      checkpoints.load_tree(os.path.join(res.directory, "masks")))
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
  payload = {"steps": steps, "early_step": config.fourier.early_step,
             "nongrokked_mask_step": config.fourier.nongrokked_mask_step,
             "max_entropy": float(np.log((config.task.p - 1) // 2)),
             "series": series, "heatmaps": heatmaps}
  report.write_payload(workdir.path, "fourier", payload)
  plot(workdir.file("fourier.png"), payload)
  plot_heatmaps(workdir.file("fourier_heatmaps.png"), payload)
  text = report.markdown_table(table_rows(payload))
  storage.write_text(workdir.file("fourier.md"), text + "\n")
  return text, ["fourier.md", "fourier.json", "fourier.png", "fourier_heatmaps.png"]


def table_rows(payload):
  steps = payload["steps"]
  return [{"network": label, **{f"{s:,}": report.mean_std_text(np.asarray(d["entropy"])[:, i])
                                for i, s in enumerate(steps)}}
          for label, d in payload["series"].items()]


def plot(path, payload):
  """Fourier entropy (Shannon) of the effective input weights against the step."""
  plt = report.pyplot()
  fig, ax = plt.subplots(figsize=(6.5, 4))
  for label, d in payload["series"].items():
    e = np.asarray(d["entropy"])
    x = np.asarray(payload["steps"], float)
    ax.plot(np.maximum(x, 10), e.mean(0), "o-", label=label)
    ax.fill_between(np.maximum(x, 10), e.min(0), e.max(0), alpha=0.15)
  ax.axhline(payload["max_entropy"], color="k", ls=":", lw=1, label="flat spectrum")
  ax.set_xscale("log")
  ax.set_xlabel("step (0 drawn at 10)")
  ax.set_ylabel("Fourier entropy of W = embed @ w_in (nats)")
  ax.set_title("mean over seeds, band = min-max")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  storage.save_figure(fig, path, 130)


def plot_heatmaps(path, payload):
  """W (tokens x neurons) and its spectrum (frequencies x neurons) of the first seed:
  one row per network, a (W, spectrum) pair per drawn step; neurons sorted by their
  main frequency. The "periodic weights" pictures."""
  plt = report.pyplot()
  labels = list(payload["heatmaps"])
  steps = list(payload["heatmaps"][labels[0]])
  fig, axes = plt.subplots(len(labels), 2 * len(steps), squeeze=False,
                           figsize=(1.9 * 2 * len(steps), 2.0 * len(labels)))
  for i, label in enumerate(labels):
    for j, step in enumerate(steps):
      d = payload["heatmaps"][label][step]
      w, s = np.asarray(d["w"]), np.asarray(d["spectrum"])
      order = np.argsort(np.argmax(s, axis=0))
      axes[i][2 * j].imshow(w[:, order], aspect="auto", cmap="RdBu")
      axes[i][2 * j + 1].imshow(s[:, order], aspect="auto", cmap="viridis")
      axes[i][2 * j].set_title(f"W, step {int(step):,}", fontsize=7)
      axes[i][2 * j + 1].set_title(f"|DFT|, step {int(step):,}", fontsize=7)
      for ax in axes[i][2 * j:2 * j + 2]:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[i][0].set_ylabel(label, fontsize=8)
  storage.save_figure(fig, path, 110)


@claim("C7", "The grokked ticket's input weights are periodic early: lower Fourier entropy "
       "than the dense model, random and non-grokked tickets (Fig. 7)", ["modadd"],
       "python launch/main.py --config=configs/modadd_fourier.py", "fourier")
def periodic_early(root, figures):
  """Per seed, at ``fourier.early_step``: is the grokked ticket's Fourier entropy
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
  plot(os.path.join(figures, "claim_c7.png"), payload)
  plot_heatmaps(os.path.join(figures, "claim_c7_heatmaps.png"), payload)
  details = (f"Fourier entropy (nats; flat spectrum {payload['max_entropy']:.3f}) at step "
             f"{payload['early_step']:,}:\n\n" + seed_table(cols, seeds)
             + "\n\nMean +- std over seeds at each step:\n\n"
             + report.markdown_table(table_rows(payload)))
  measured = (f"at step {payload['early_step']:,} the grokked ticket's entropy is the lowest "
              f"on {len(lowest)} of {len(seeds)} seeds (margin to the lowest other: median "
              f"{np.median(margin):+.3f} nats, range {min(margin):+.3f} to {max(margin):+.3f})")
  return Finding(measured, verdict, "lowest on every seed: agrees; on at least half: partly; "
                 "else no", details, ("claim_c7.png", "claim_c7_heatmaps.png"))
