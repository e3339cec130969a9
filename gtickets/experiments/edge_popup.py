"""edge_popup: learning only a mask over memorizing weights (paper Sec. 5.3, Table 1;
claim C8).

  python launch/main.py --config=configs/edge_popup.py
"""
import dataclasses
import os

import jax
import ml_collections
import numpy as np
from tqdm.auto import tqdm

from gtickets import config as config_lib
from gtickets import identity, storage
from gtickets.experiment import report
from gtickets.experiment.claims import Finding, NotMeasured, claim, seed_table
from gtickets.experiment.phase import PhaseSpec, run_phase
from gtickets.experiment.pipeline import run_dense
from gtickets.experiment.setup import data_seed_of, make_setup
from gtickets.experiment.registry import experiment
from gtickets.training import checkpoints
from gtickets.tickets.edge_popup import make_edge_popup_trainer


def section():
  c = ml_collections.ConfigDict()
  c.base_lr = 1e-2        # the memorizing base: dense, this lr, ...
  c.base_step = 1_000     # ... checkpoint at this step
  c.base_weight_decay = -1.0  # >= 0: the base's weight decay (else optim's)
  c.prune_ratio = 0.6     # k removed per matrix (the authors keep 0.4)
  c.lr = 1e-2             # AdamW on weights and scores (the authors' lr)
  c.score_weight_decay = -1.0  # < 0: the run's weight decay (the authors)
  c.variants = ("wd", "ep", "ep_wd")
  c.report_steps = (600, 1_000, 1_400, 2_000)
  return c


PAPER_TABLE1 = {"wd": {600: (0.53, 0.31), 1000: (0.95, 0.03), 1400: (1.00, None), 2000: (1.00, None)},
                "ep": {600: (0.68, 0.19), 1000: (0.80, 0.17), 1400: (0.84, 0.16), 2000: (0.92, 0.06)},
                "ep_wd": {600: (0.82, 0.04), 1000: (0.96, 0.01), 1400: (0.99, None), 2000: (1.00, None)}}


VARIANTS = {  # use_scores, train_weights, weight decay (from config.optim)
    "wd": (0.0, 1.0, True), "ep": (1.0, 0.0, False), "ep_wd": (1.0, 1.0, True)}


LABELS = {"wd": "WD", "ep": "EP w/o WD", "ep_wd": "EP w/ WD"}


FIELDS = identity.DENSE + ("edge_popup", "seeds")  # the edge_popup phase's


NEUTRAL = {  # pinned (identity.py)
    "edge_popup.base_lr": 0.01, "edge_popup.base_step": 1000, "edge_popup.base_weight_decay": -1.0,
    "edge_popup.lr": 0.01, "edge_popup.prune_ratio": 0.6,
    "edge_popup.report_steps": [600, 1000, 1400, 2000], "edge_popup.score_weight_decay": -1.0,
    "edge_popup.variants": ["wd", "ep", "ep_wd"]}


MEMORIZING_RULE = "train acc 1 and test acc < 0.1 at the base step"


def memorizing(base_row):
  """Whether a base run memorizes at the base step (``MEMORIZING_RULE``)."""
  return base_row["final_train_acc"] == 1.0 and base_row["final_test_acc"] < 0.1


def check(config):
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
  if not ep.variants or len(set(ep.variants)) != len(ep.variants) or any(
      v not in VARIANTS for v in ep.variants):
    config_lib.fail("edge_popup.variants", ep.variants, f"distinct, each one of {tuple(VARIANTS)}")
  if any(s % t.eval_every or not 0 < s <= t.num_steps for s in ep.report_steps):
    config_lib.fail("edge_popup.report_steps", ep.report_steps, "steps in (0, train.num_steps], "
                    f"multiples of train.eval_every={t.eval_every}")


@dataclasses.dataclass(frozen=True)
class FromMemorizing:
  """Edge-popup runs start from their base run's memorizing weights at ``step`` (all
  weights; the scores choose the mask), read only if the phase has to train."""
  base: object  # the dense PhaseResult
  step: int

  def build(self, spec, store):
    theta = checkpoints.restore_params(self.base.checkpoint_dir, self.step)
    take = np.asarray([r["base_run"] for r in spec.runs])
    return jax.tree.map(lambda x: x[take], theta), None


@experiment('edge_popup', section, check)
def run(config, workdir):
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
  dense = run_dense(base, workdir)
  base_rows = [{**r, "memorizing": memorizing(r)} for r in dense.rows()]
  for r in base_rows:
    if not r["memorizing"]:
      tqdm.write(f"note: edge_popup: the base of seed {r['seed']} does not memorize (train / "
                 f"test acc {r['final_train_acc']:.3f} / {r['final_test_acc']:.3f} at step "
                 f"{ep.base_step:,}): reported, left out of the table")
  runs = [{"run": i, "variant": v, "seed": s, "base_run": b, "prune_ratio": ep.prune_ratio,
           "data_seed": data_seed_of(config, s)}
          for i, (v, (b, s)) in enumerate((v, bs) for v in ep.variants
                                          for bs in enumerate(config.seeds))]
  settings = {
      "seed": np.asarray([r["seed"] for r in runs], np.uint32),
      "use_scores": np.asarray([VARIANTS[r["variant"]][0] for r in runs], np.float32),
      "train_weights": np.asarray([VARIANTS[r["variant"]][1] for r in runs],
                                  np.float32),
      "weight_decay": np.asarray([config.optim.weight_decay * VARIANTS[
          r["variant"]][2] for r in runs], np.float32)}
  spec = PhaseSpec(
      "edge_popup", runs, config,
      identity.of(config, FIELDS, NEUTRAL, make_setup(config).task.data_digest),
      FromMemorizing(dense, ep.base_step),
      make_trainer=lambda s: make_edge_popup_trainer(config, s.task, s.model),
      hparams=settings)
  res = run_phase(spec, workdir.store(spec.name))
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
  report.write_payload(workdir.path, "edge_popup", payload)
  plot(workdir.file("edge_popup.png"), payload)
  text = report.markdown_table(table_rows(payload))
  storage.write_text(workdir.file("edge_popup.md"), text + "\n")
  return text, ["edge_popup.md", "edge_popup.json", "edge_popup.png"]


def memorizing_seeds(payload):
  """The seeds whose base memorizes (all of them for results without the check)."""
  return [r["seed"] for r in payload["base"] if r.get("memorizing", True)]


def table_rows(payload):
  """Test accuracy at the report steps, mean +- std over the seeds whose base
  memorizes (n), beside the paper's."""
  steps = payload["steps"]
  acc = np.asarray(payload["test_acc"])
  seeds = set(memorizing_seeds(payload))
  rows = []
  for v in dict.fromkeys(r["variant"] for r in payload["runs"]):
    idx = [i for i, r in enumerate(payload["runs"]) if r["variant"] == v and r["seed"] in seeds]
    row = {"variant": LABELS.get(v, v),
           "n": len(idx)}
    for s in payload["report_steps"]:
      a = acc[idx, steps.index(s)]
      mean, std = payload["paper"].get(v, {}).get(str(s), (None, None))
      paper = "-" if mean is None else f"{mean:.2f}" + (f" +- {std:.2f}" if std else "")
      row[f"step {s:,}: here"] = f"{a.mean():.2f} +- {a.std():.2f}" if idx else "-"
      row[f"step {s:,}: paper"] = paper
    rows.append(row)
  return rows


def plot(path, payload):
  """Test (solid) and train (dashed) accuracy of each variant; seeds thin."""
  plt = report.pyplot()
  fig, ax = plt.subplots(figsize=(7, 4.2))
  steps = payload["steps"]
  acc, tr = np.asarray(payload["test_acc"]), np.asarray(payload["train_acc"])
  seeds = set(memorizing_seeds(payload))
  for c, v in enumerate(dict.fromkeys(r["variant"] for r in payload["runs"])):
    idx = [i for i, r in enumerate(payload["runs"]) if r["variant"] == v and r["seed"] in seeds]
    if not idx:
      continue
    label = LABELS.get(v, v)
    for i in idx:
      ax.plot(steps, acc[i], color=f"C{c}", alpha=0.25, lw=0.8)
    ax.plot(steps, acc[idx].mean(0), color=f"C{c}", lw=2, label=f"{label}: test")
    ax.plot(steps, tr[idx].mean(0), color=f"C{c}", lw=1, ls="--", label=f"{label}: train")
  for s in payload["report_steps"]:
    ax.axvline(s, color="k", lw=0.5, alpha=0.3)
  ax.set_xlabel(f"step (from the dense weights at step {payload['base_step']:,}, lr "
                f"{payload['base_lr']:g})")
  ax.set_ylabel("accuracy")
  ax.set_ylim(-0.02, 1.02)
  ax.set_title(f"edge-popup, k = {payload['k']:g} removed per matrix; {len(seeds)} seeds whose "
               "base memorizes", fontsize=9)
  ax.grid(alpha=0.3)
  if ax.get_legend_handles_labels()[0]:
    ax.legend(fontsize=7)
  storage.save_figure(fig, path, 130)


OPTIONS = {"edge_popup_options_diag_pairs": "a <= b pairs with the diagonal "
                      "(--config.task.pairs=unordered_diag)",
                      "edge_popup_options_float64": "float64 log-softmax "
                      "(--config.train.cross_entropy=float64)",
                      "edge_popup_options_embed_gain": "embedding init sqrt(2) larger "
                      "(kaiming for ReLU; --config.model.embed_gain=1.4142135623730951)"}


LONG = "edge_popup_10k"  # C8's workdir: the 10,000 steps of the authors' train_slth.py
VERDICT_STEP = max(PAPER_TABLE1["ep"])  # the paper's last Table 1 step (2,000); the 10,000-step
# run's first 2,000 steps are bitwise the default run's (no schedule): C8 reads both there


@claim("C8", "Edge-popup from memorizing weights reaches high test accuracy with the "
       "weights frozen (Sec. 5.3, Table 1)", [LONG, *OPTIONS],
       "python launch/main.py --config=configs/edge_popup.py:10k", "edge_popup")
def frozen_weights(root, figures):
  """EP w/o WD's mean test accuracy at step 2,000 (the paper's Table 1), over the seeds
  whose base memorizes: >= 0.9 agrees, >= 0.5 partly, else no (the paper: 0.92 +- 0.06).
  Read from the 10,000-step run (the authors' default length), whose table shows both."""
  payload = root[LONG].json("edge_popup.json")
  last = VERDICT_STEP
  paper_mean, paper_std = PAPER_TABLE1["ep"][last]
  if last not in payload["steps"]:
    raise NotMeasured(f"{LONG} has no evaluation at step {last:,}")
  acc = np.asarray(payload["test_acc"])[:, payload["steps"].index(last)]
  kept = set(memorizing_seeds(payload))
  ep = [i for i, r in enumerate(payload["runs"]) if r["variant"] == "ep" and r["seed"] in kept]
  base = payload["base"]
  plot(os.path.join(figures, "claim_c8.png"), payload)
  seeds = sorted({r["seed"] for r in payload["runs"]})
  per_seed = [(label, {r["seed"]: f"{acc[i]:.3f}" for i, r in enumerate(payload["runs"])
                       if r["variant"] == v})
              for v, label in LABELS.items()]
  per_seed.insert(0, ("base: train / test acc", {
      r["seed"]: f"{r['final_train_acc']:.3f} / {r['final_test_acc']:.3f}"
      + ("" if r.get("memorizing", True) else " (not memorizing)") for r in base}))
  if payload.get("data_seed") == -1:
    per_seed.insert(0, ("data split", {r["seed"]: str(r["data_seed"]) for r in base}))
  rule = payload.get("memorizing_rule")
  details = (report.markdown_table(table_rows(payload))
             + f"\n\nPer seed, test accuracy at step {last:,} (base: at step "
             f"{payload['base_step']:,} of lr {payload['base_lr']:g}"
             + (f"; memorizing = {rule}; the table above averages the seeds whose base "
                "memorizes" if rule else "") + "):\n\n" + seed_table(per_seed, seeds))
  details += _options_table(root, last)
  rule_text = (f"EP w/o WD mean test accuracy at step {last:,}"
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
              f"{len(base)} seeds (paper {paper_mean:.2f} +- {paper_std:.2f}), from bases at train / test acc "
              f"{np.mean([r['final_train_acc'] for r in kept_base]):.2f} / "
              f"{np.mean([r['final_test_acc'] for r in kept_base]):.2f} ("
              + ", ".join(settings) + ")")
  return Finding(measured, verdict, rule_text, details, ("claim_c8.png",))


def _options_table(root, last):
  """C8's table of the authors' other departures, each run once at the defaults' seeds."""
  lines = []
  for name, what in OPTIONS.items():
    try:
      payload = root[name].json("edge_popup.json")
    except NotMeasured:
      lines.append(f"| {what} | not measured yet | | | |")
      continue
    at_last = {r["variant"]: r[f"step {last:,}: here"] for r in table_rows(payload)}
    kept = memorizing_seeds(payload)
    cells = [at_last.get(label, "-") for label in LABELS.values()]
    lines.append(f"| {what} | {len(kept)} of {len(payload['base'])} | " + " | ".join(cells)
                 + " |")
  return (f"\n\nThe authors' other departures, one at a time on top of the defaults (test "
          f"accuracy at step {last:,} over the seeds whose base memorizes; not part of the "
          "verdict):\n\n| option | memorizing bases | WD | EP w/o WD | EP w/ WD |\n"
          "| --- | --- | --- | --- | --- |\n" + "\n".join(lines))
