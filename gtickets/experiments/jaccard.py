"""jaccard: how fast the dense model's magnitude mask moves (paper Fig. 4b; claim C6).

  python launch/main.py --config=configs/modadd_jaccard.py
"""
import os

import jax
import ml_collections
import numpy as np

from gtickets import config as config_lib
from gtickets import models, storage
from gtickets.analysis import jaccard as jaccard_lib
from gtickets.experiment import report
from gtickets.experiment.claims import Finding, claim, steps
from gtickets.experiment.phase import add_checkpoints
from gtickets.experiment.pipeline import run_dense
from gtickets.experiment.registry import experiment
from gtickets.training import checkpoints
from gtickets.tickets import masks as masks_lib


def section():
  c = ml_collections.ConfigDict()
  c.every = 500         # dense checkpoints the mask trajectory uses
  c.from_step = 2_000   # the largest change is looked for after this step
  return c


def check(config):
  a = config.jaccard
  config_lib.check_steps(config, "jaccard.every", (a.every,))
  if a.every <= 0:
    config_lib.fail("jaccard.every", a.every, "must be > 0")
  config_lib.check_steps(config, "jaccard.from_step", (a.from_step,))


@experiment("jaccard", section, check)
def run(config, workdir):
  """Mask trajectory of the dense runs (paper Fig. 4b; claim C6): magnitude masks
  (ratio k = ticket.prune_ratios[0]) of the dense weights every
  ``jaccard.every`` steps (checkpoints added by training forward), the
  Jaccard distance between consecutive ones and to the final one, per matrix and
  over all, beside the test accuracy at the same steps. The largest change is
  looked for after ``jaccard.from_step``: the first steps, where the network
  memorizes, move the mask most of all and are not the transition the paper means
  (its curve starts at 2k)."""
  dense = run_dense(config, workdir)
  every, n = config.jaccard.every, config.train.num_steps
  steps = list(range(0, n + 1, every))
  add_checkpoints(dense, steps)
  k, scope = config.ticket.prune_ratios[0], config.ticket.scope
  theta = checkpoints.restore_params(dense.checkpoint_dir, 0)
  prunable = models.prunable(dense.spec.setup.model, jax.tree.map(lambda x: x[0], theta))
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
      "from": config.jaccard.from_step,
      "test_acc": dense.curves["test_acc"][:, [index[s] for s in steps]].tolist(),
      "consecutive": series(zip(masks[:-1], masks[1:])),
      "to_final": series((m, masks[-1]) for m in masks),
      "coarse_steps": [steps[i] for i in coarse],
      "coarse_consecutive": series((masks[a], masks[b]) for a, b in zip(coarse[:-1], coarse[1:])),
  }
  report.write_payload(workdir.path, "jaccard", payload)
  plot(workdir.file("jaccard.png"), payload)
  text = report.markdown_table(table_rows(payload))
  storage.write_text(workdir.file("jaccard.md"), text + "\n")
  return text, ["jaccard.md", "jaccard.json", "jaccard.png"]


def first_at_least(steps, values, level):
  hit = [s for s, v in zip(steps, values) if v >= level]
  return hit[0] if hit else None


def largest_change(ends, jds, start):
  """(step, JD) of the largest change among the intervals starting at >= ``start``
  (``ends``: the step ending each interval)."""
  starts = [0] + list(ends[:-1])
  idx = [i for i, s in enumerate(starts) if s >= start] or list(range(len(ends)))
  best = max(idx, key=lambda i: jds[i])
  return ends[best], float(jds[best])


def transitions(payload):
  """Per run: the step ending the largest consecutive-mask change after
  ``payload["from"]`` (fine and coarse series), the steps where test accuracy
  first reaches 0.1, 0.5 and 0.9."""
  steps, out = payload["steps"], []
  start = payload.get("from", 0)
  for r, seed in enumerate(payload["seeds"]):
    fine, fine_jd = largest_change(steps[1:], payload["consecutive"]["all"][r], start)
    coarse, _ = largest_change(payload["coarse_steps"][1:],
                               payload["coarse_consecutive"]["all"][r], start)
    acc = payload["test_acc"][r]
    out.append({"seed": seed, "largest": fine, "largest_jd": fine_jd, "largest_coarse": coarse,
                "acc_0.1": first_at_least(steps, acc, 0.1),
                "acc_0.5": first_at_least(steps, acc, 0.5),
                "acc_0.9": first_at_least(steps, acc, 0.9)})
  return out


def table_rows(payload):
  every = payload["steps"][1] - payload["steps"][0]
  fmt = lambda s: "-" if s is None else f"{s:,}"
  return [{"seed": t["seed"],
           f"largest mask change (every {every})": f"{fmt(t['largest'])} (JD {t['largest_jd']:.3f})",
           "largest (every ckpt)": fmt(t["largest_coarse"]),
           "test acc >= 0.1 / 0.5 / 0.9 at": " / ".join(fmt(t[k]) for k in
                                                       ("acc_0.1", "acc_0.5", "acc_0.9"))}
          for t in transitions(payload)]


def plot(path, payload):
  """Per seed: JD between consecutive masks (fine: solid, coarse: dots) and to the
  final mask (dashed), with test accuracy on a second axis."""
  plt = report.pyplot()
  seeds = payload["seeds"]
  fig, axes = plt.subplots(1, len(seeds), figsize=(4.2 * len(seeds), 3.6), squeeze=False)
  steps = payload["steps"]
  for r, (ax, seed) in enumerate(zip(axes[0], seeds)):
    ax.plot(steps[1:], payload["consecutive"]["all"][r], lw=1.2, label="JD to previous")
    ax.plot(payload["coarse_steps"][1:], payload["coarse_consecutive"]["all"][r], "o",
            ms=3, label="JD to previous (every ckpt)")
    ax.plot(steps, payload["to_final"]["all"][r], "--", lw=1, label="JD to final")
    ax.set_xlabel("step")
    ax.set_ylabel(f"Jaccard distance (k = {payload['k']:g})")
    ax2 = ax.twinx()
    ax2.plot(steps, payload["test_acc"][r], color="k", lw=1, alpha=0.6)
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("test acc (black)")
    ax.set_title(f"seed {seed}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="upper right")
  storage.save_figure(fig, path, 120)


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
  trans = transitions(payload)
  jumps = [t for t in trans if t["acc_0.5"] is not None]
  inside = [t for t in jumps if t["acc_0.1"] - every <= t["largest"]
            <= (t["acc_0.9"] if t["acc_0.9"] is not None else end) + every]
  verdict = ("agrees" if jumps and len(inside) == len(jumps) else
             "partly" if inside else "no")
  plot(os.path.join(figures, "claim_c6.png"), payload)
  names = [n for n in payload["consecutive"] if n != "all"]
  start = payload.get("from", 0)
  per_matrix = [{"seed": seed, **{n: f"{largest_change(grid[1:], payload['consecutive'][n][r], start)[0]:,}"
                                  for n in names}} for r, seed in enumerate(payload["seeds"])]
  details = (report.markdown_table(table_rows(payload))
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
