"""progress: the Fourier circuit's progress measures for dense and tickets (issue 37;
this project's claims M1-M3, beyond the paper).

  python launch/main.py --config=configs/modadd_progress.py               # the MLP
  python launch/main.py --config=configs/modadd_progress.py:transformer   # the Transformer

For the dense runs, the grokked and random tickets and a non-grokked ticket (mask at
``progress.nongrokked_mask_step``), at every step of ``progress.steps``, the measures of
analysis/progress.py (Nanda et al. 2023): train and test loss, the restricted loss (the
logits' key-frequency terms cos / sin w(a + b - c) only), the excluded loss (those terms
removed; on train and on test pairs), the share of the embedding's squared Fourier norm
at the key frequencies, and the weight norm. Key frequencies: the ``progress.n_key``
largest Fourier norms of each run's *final* embedding (MLP: embed @ w_in; Transformer:
W_E; masked), used at every step, as Nanda et al. use the final model's. The states are
replayed from the phases' checkpoints (``phase.replay``: trained forward where none is
saved, nothing stored), all runs of a phase at once.

Reads and extends the main experiment's workdir (dense, tickets; the phase
``nongrokked`` it shares with the fourier experiment; on a config without random
tickets, its own phase ``random_ticket``). Writes progress.md / .json / .png.
"""
import os

import jax
import ml_collections
import numpy as np
from tqdm.auto import tqdm

from gtickets import config as config_lib
from gtickets import storage
from gtickets.analysis import fourier as fourier_lib
from gtickets.analysis import progress as progress_lib
from gtickets.experiment import report
from gtickets.experiment.claims import Finding, NotMeasured, claim, seed_table
from gtickets.experiment.phase import replay
from gtickets.experiment.pipeline import Tickets, make_setup, run_main, run_tickets
from gtickets.experiment.registry import experiment
from gtickets.training import checkpoints, masked

MODELS = ("mlp", "transformer")  # models whose embedding is read (``embedding``)


def section():
  c = ml_collections.ConfigDict()
  c.steps = ((0, 100, 200, 300, 400, 500, 700, 1_000, 1_500)
             + tuple(range(2_000, 30_001, 1_000)))  # where the measures are taken
  c.n_key = 5                    # key frequencies per run (Nanda et al. find 5 at p = 113)
  c.nongrokked_mask_step = 2_000  # a mask cut while the base only memorizes
  return c


def check(config):
  """Only modular addition of one modulus, with a model whose embedding is read: the
  circuit's directions are those of (a + b - c) mod p."""
  g = config.progress
  if config.task.name != "modular" or config.task.operation != "add":
    what = (f"operation {config.task.operation!r}" if config.task.name == "modular"
            else f"task {config.task.name!r}")
    config_lib.fail("experiment", "progress", f"needs logits over (a, b) pairs of (a + b) mod p "
                    f"(task modular, operation 'add'), not {what}")
  if config.model.name not in MODELS:
    config_lib.fail("experiment", "progress", f"reads the token embedding of a model in "
                    f"{MODELS}, not {config.model.name!r}")
  config_lib.check_steps(config, "progress.steps", g.steps)
  config_lib.check_steps(config, "progress.nongrokked_mask_step", (g.nongrokked_mask_step,))
  if not isinstance(g.n_key, int) or not 1 <= g.n_key <= (config.task.p - 1) // 2:
    config_lib.fail("progress.n_key", g.n_key, f"an integer in 1 .. {(config.task.p - 1) // 2}")


def embedding(model_name, params, mask):
  """The token embedding whose Fourier norms give the key frequencies: [p, d]."""
  if model_name == "mlp":
    return fourier_lib.effective_input_weights(params, mask)
  return params["embed"] * mask["embed"]


def _phases(config, workdir):
  """(label, phase result, variant) of the four networks compared."""
  dense, tickets = run_main(config, workdir)
  nongrokked = run_tickets(config, workdir, dense, Tickets("nongrokked"), variants=("grokked",),
                           mask_steps=(config.progress.nongrokked_mask_step,))
  random = tickets if "random" in config.ticket.variants else run_tickets(
      config, workdir, dense, Tickets("random_ticket"), variants=("random",))
  return [("dense", dense, None), ("grokked ticket", tickets, "grokked"),
          ("random ticket", random, "random"), ("non-grokked ticket", nongrokked, "grokked")]


@experiment("progress", section, check)
def run(config, workdir):
  """The measures at every step of ``progress.steps`` for the four networks."""
  n, every = config.train.num_steps, config.train.eval_every
  steps = sorted({min(int(s), n) for s in config.progress.steps if s % every == 0})
  setup = make_setup(config)
  p, model_name = config.task.p, config.model.name
  table = np.stack(np.meshgrid(np.arange(p), np.arange(p), indexing="ij"), -1).reshape(-1, 2)
  logits_of = jax.jit(jax.vmap(lambda w, m: setup.model.apply(
      {"params": masked.apply(w, m)}, table.astype(np.int32))))
  embed_of = jax.jit(jax.vmap(lambda w, m: embedding(model_name, w, m)))
  data = setup.data
  splits = {s: (np.asarray(data[f"x_{s}"]), np.asarray(data[f"y_{s}"])) for s in ("train", "test")}
  kinds = {}  # phase name -> (result, [(label, run indices, masks, key frequencies)])
  for label, res, variant in _phases(config, workdir):
    runs = np.asarray([i for i, r in enumerate(res.runs) if variant is None
                       or r["variant"] == variant])
    pick = lambda tree, runs=runs: jax.tree.map(lambda x: np.asarray(x)[runs], tree)  # host
    final = pick(checkpoints.restore_params(res.checkpoint_dir, n))
    masks = (jax.vmap(masked.ones_like)(final) if variant is None
             else pick(checkpoints.load_tree(os.path.join(res.directory, "masks"))))
    keys = [progress_lib.key_frequencies(e, config.progress.n_key)
            for e in np.asarray(embed_of(final, masks))]
    kinds.setdefault(res.name, (res, []))[1].append((label, runs, masks, keys))
  series = {}
  for res, members in kinds.values():  # each phase replayed once, for all its kinds
    rows = {label: {k: [] for k in MEASURES} for label, *_ in members}
    for _, state in tqdm(replay(res, steps), total=len(steps), desc=f"progress: {res.name}",
                         disable=not workdir.progress):
      for label, runs, masks, keys in members:
        w = jax.tree.map(lambda x, runs=runs: np.asarray(x)[runs], state["params"])
        for k, v in _measures(w, masks, keys, logits_of, embed_of, splits, p).items():
          rows[label][k].append(v)
    for label, runs, masks, keys in members:
      series[label] = {
          "seeds": [res.runs[i]["seed"] for i in runs],
          "key_frequencies": [k.tolist() for k in keys],
          "t_mem": [res.measures[i]["t_mem"] for i in runs],
          "t_gen": [res.measures[i]["t_gen"] for i in runs],
          **{k: np.asarray(v).T.tolist() for k, v in rows[label].items()}}  # [runs, steps]
  series = {label: series[label] for label in LABELS if label in series}
  payload = {"steps": steps, "n_key": config.progress.n_key, "p": p, "model": model_name,
             "nongrokked_mask_step": config.progress.nongrokked_mask_step,
             "num_steps": n, "series": series}
  report.write_payload(workdir.path, "progress", payload)
  plot(workdir.file("progress.png"), payload)
  text = report.markdown_table(frequency_rows(payload))
  storage.write_text(workdir.file("progress.md"), text + "\n")
  return text, ["progress.md", "progress.json", "progress.png"]


MEASURES = ("train_loss", "test_loss", "restricted_loss", "excluded_train", "excluded_test",
            "key_share", "weight_norm")
LABELS = ("dense", "grokked ticket", "random ticket", "non-grokked ticket")


def _measures(w, masks, keys, logits_of, embed_of, splits, p):
  """Each measure of ``MEASURES`` for the runs of weights ``w`` (run axis first)."""
  cube = np.asarray(logits_of(w, masks), np.float64).reshape(-1, p, p, p)
  emb = np.asarray(embed_of(w, masks))
  kept = jax.tree.leaves(masked.apply(w, masks))
  out = {k: [] for k in MEASURES}
  for i, table in enumerate(cube):
    restricted, excluded = progress_lib.split_logits(table, keys[i])
    for s, (x, y) in splits.items():
      out[f"{s}_loss"].append(progress_lib.cross_entropy(table, x, y))
      out[f"excluded_{s}"].append(progress_lib.cross_entropy(excluded, x, y))
    out["restricted_loss"].append(progress_lib.cross_entropy(restricted, *splits["train"]))
    out["key_share"].append(progress_lib.key_share(emb[i], keys[i]))
    out["weight_norm"].append(float(np.sqrt(sum(np.sum(np.asarray(x[i], np.float64) ** 2)
                                                for x in kept))))
  return out


def frequency_rows(payload):
  """Per network and seed: its final key frequencies and their overlap with the dense
  run's of the same seed."""
  dense = dict(zip(payload["series"]["dense"]["seeds"], payload["series"]["dense"]["key_frequencies"]))
  return [{"network": label, "seed": s, "key frequencies": " ".join(map(str, sorted(k))),
           "overlap with dense": f"{progress_lib.overlap(dense[s], k):.1f}"}
          for label, d in payload["series"].items()
          for s, k in zip(d["seeds"], d["key_frequencies"])]


CURVES = (("train_loss", "train loss", "C0", "-"), ("test_loss", "test loss", "C1", "-"),
          ("restricted_loss", "restricted loss", "C2", "-"),
          ("excluded_train", "excluded loss (train)", "C3", "--"))


def plot(path, payload):
  """Nanda et al.'s picture: train, test, restricted and excluded loss against the step,
  one panel per network; median over seeds, band = min-max."""
  plt = report.pyplot()
  labels = list(payload["series"])
  fig, axes = plt.subplots(1, len(labels), figsize=(4.2 * len(labels), 3.6), sharey=True)
  x = np.maximum(np.asarray(payload["steps"], float), 10)
  for ax, label in zip(axes, labels):
    d = payload["series"][label]
    for key, name, color, style in CURVES:
      v = np.asarray(d[key])
      ax.plot(x, np.median(v, 0), style, color=color, label=name)
      ax.fill_between(x, v.min(0), v.max(0), color=color, alpha=0.15)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(label)
    ax.set_xlabel("step (0 drawn at 10)")
    ax.grid(alpha=0.3)
  axes[0].set_ylabel("cross-entropy (nats)")
  axes[0].legend(fontsize=7)
  fig.suptitle(f"{payload['model']}: progress measures, {payload['n_key']} key frequencies "
               "of each run's final embedding")
  storage.save_figure(fig, path, 120)


def plot_frequencies(path, payload):
  """Each run's final key frequencies: one row per (seed, network), a dot per frequency,
  filled where the dense run of that seed has it too."""
  plt = report.pyplot()
  series = payload["series"]
  dense = dict(zip(series["dense"]["seeds"], series["dense"]["key_frequencies"]))
  rows = [(seed, label, keys) for seed in series["dense"]["seeds"]
          for label, d in series.items() for s, keys in zip(d["seeds"], d["key_frequencies"])
          if s == seed]
  fig, ax = plt.subplots(figsize=(7.5, 0.22 * len(rows) + 1.2))
  for y, (seed, label, keys) in enumerate(rows):
    color = f"C{list(series).index(label)}"
    for f in keys:
      shared = f in dense[seed]
      ax.plot(f, y, "o", color=color, mfc=color if shared else "white", ms=6)
  ax.set_yticks(range(len(rows)))
  ax.set_yticklabels([f"seed {s}: {label}" for s, label, _ in rows], fontsize=6)
  ax.invert_yaxis()
  ax.set_xlim(0, (payload["p"] - 1) // 2 + 1)
  ax.set_xlabel("frequency w (filled: one of the dense run's key frequencies)")
  ax.grid(alpha=0.3, axis="x")
  ax.set_title(f"{payload['model']}: the {payload['n_key']} key frequencies of each final "
               "embedding", fontsize=9)
  storage.save_figure(fig, path, 120)


RESTRICTED_FACTOR = 10.0  # "at the dense model's final level": within this factor of it
FEW = 5                   # "within a few t_mem": at most this many times the run's t_mem
MATCH = 0.8               # key frequencies "the dense model's": this share of them shared


def t_restricted(payload, label, i, level):
  """The first measured step where run ``i`` of ``label`` has a restricted loss at most
  ``level`` (None: never)."""
  v = np.asarray(payload["series"][label]["restricted_loss"][i])
  hit = np.flatnonzero(v <= level)
  return payload["steps"][hit[0]] if hit.size else None


def _per_seed(payload):
  """Per seed whose dense run generalized: each network's overlap with the dense final
  key frequencies, restricted-loss time, t_mem (and the dense t_gen)."""
  s = payload["series"]
  dense = s["dense"]
  out = {}
  for i, seed in enumerate(dense["seeds"]):
    if dense["t_gen"][i] is None:
      continue
    level = RESTRICTED_FACTOR * dense["restricted_loss"][i][-1]
    row = {"dense_t_gen": dense["t_gen"][i], "level": level}
    for label, d in s.items():
      j = d["seeds"].index(seed)
      row[label] = {"overlap": progress_lib.overlap(dense["key_frequencies"][i],
                                                    d["key_frequencies"][j]),
                    "t_r": t_restricted(payload, label, j, level), "t_mem": d["t_mem"][j]}
    out[seed] = row
  return out


def _soon(cell):
  """Restricted loss at the level within FEW t_mem of the run's own memorization."""
  return cell["t_r"] is not None and cell["t_mem"] is not None and (
      cell["t_r"] <= FEW * max(cell["t_mem"], 1))


def _verdict(hits, n):
  return "agrees" if n and hits == n else "partly" if n and 2 * hits >= n else "no"


def _not_measured_if_empty(rows):
  if not rows:
    raise NotMeasured("no seed whose dense run generalized")


WORKDIRS = ["modadd"]
COMMAND = "python launch/main.py --config=configs/modadd_progress.py"
TRANSFORMER = "mod_add_transformer"  # reported beside the MLP's verdict (its own command)
TRANSFORMER_COMMAND = ("python launch/main.py --config=configs/modadd_progress.py:transformer "
                       "--workdir=workdirs/mod_add_transformer")


def _also_transformer(root, judge, figure=None):
  """``judge(payload, rows)`` -> (line, table) for the Transformer's workdir, as a paragraph
  beside the MLP's (not part of the verdict), with its curves drawn into ``figure`` (a
  path) if given; a "not measured" line when it was not measured."""
  try:
    payload = root[TRANSFORMER].json("progress.json")
    rows = _per_seed(payload)
    _not_measured_if_empty(rows)
  except NotMeasured as e:
    return f"\n\nTransformer ({TRANSFORMER}): not measured ({e}); `{TRANSFORMER_COMMAND}`."
  line, table = judge(payload, rows)
  shown = ""
  if figure:
    plot(figure, payload)
    shown = f"\n\n![M2, Transformer](figures/{os.path.basename(figure)})"
  return (f"\n\n**Transformer** ((a + b) mod {payload['p']}, workdir {TRANSFORMER}, "
          f"`{TRANSFORMER_COMMAND}`; reported, not part of the verdict): {line}\n\n{table}"
          + shown)


def _m1(payload, rows):
  shares = {seed: r["grokked ticket"]["overlap"] for seed, r in rows.items()}
  hits = sum(v >= MATCH for v in shares.values())
  cols = [(label, {seed: f"{r[label]['overlap']:.1f}" for seed, r in rows.items()})
          for label in payload["series"] if label != "dense"]
  measured = (f"{payload['n_key']} key frequencies: the grokked ticket shares >= {MATCH:g} of "
              f"the dense model's on {hits} of {len(rows)} seeds (median share "
              f"{np.median(list(shares.values())):.1f}); random "
              f"{np.median([r['random ticket']['overlap'] for r in rows.values()]):.1f}, "
              f"non-grokked {np.median([r['non-grokked ticket']['overlap'] for r in rows.values()]):.1f}")
  return measured, seed_table(cols, sorted(rows)), hits


@claim("M1", "This project's question (issue 37, beyond the paper): does the grokked ticket "
       "compute with the dense model's key frequencies (top frequencies of the final "
       "embeddings shared, per seed)?", WORKDIRS, COMMAND, "progress")
def same_frequencies(root, figures):
  """Rule (written before the runs): per seed whose dense run generalized, the share of
  the dense final top-n frequencies the grokked ticket's final top-n also holds; every
  seed at >= MATCH: agrees; at least half: partly; else no."""
  payload = root["modadd"].json("progress.json")
  rows = _per_seed(payload)
  _not_measured_if_empty(rows)
  measured, table, hits = _m1(payload, rows)
  plot_frequencies(os.path.join(figures, "claim_m1.png"), payload)
  details = ("Share of the dense run's final key frequencies each network's final ones hold "
             "(seeds whose dense run generalized):\n\n" + table
             + "\n\n" + report.markdown_table(frequency_rows(payload))
             + _also_transformer(root, lambda p, r: _m1(p, r)[:2]))
  return Finding(measured, _verdict(hits, len(rows)), f"every seed whose dense run generalized "
                 f"at share >= {MATCH:g}: agrees; at least half: partly; else no", details,
                 ("claim_m1.png",))


@claim("M2", "This project's question (issue 37): does the grokked ticket's restricted loss "
       "fall to the dense model's final level within a few t_mem, the dense model's only "
       "around its test-accuracy jump?", WORKDIRS,
       COMMAND, "progress")
def restricted_soon(root, figures):
  """Rule (written before the runs): level = RESTRICTED_FACTOR x the dense run's final
  restricted loss (same seed); t_R = first measured step at or below it. Per seed whose
  dense run generalized: the ticket's t_R <= FEW x its t_mem, and the dense t_R >= half its
  t_gen. Both on every seed: agrees; the ticket's part on at least half: partly; else no."""
  payload = root["modadd"].json("progress.json")
  rows = _per_seed(payload)
  _not_measured_if_empty(rows)
  measured, table, (ticket, dense, n) = _m2(payload, rows)
  plot(os.path.join(figures, "claim_m2.png"), payload)
  verdict = "agrees" if ticket == n and dense == n else "partly" if 2 * ticket >= n else "no"
  return Finding(measured, verdict, f"ticket t_R <= {FEW} t_mem and dense t_R >= t_gen / 2 on "
                 "every seed whose dense run generalized: agrees; the ticket's part on at "
                 "least half: partly; else no",
                 table + _also_transformer(root, lambda p, r: _m2(p, r)[:2], os.path.join(
                     figures, "claim_m2_transformer.png")), ("claim_m2.png",))


def _m2(payload, rows):
  ticket = sum(_soon(r["grokked ticket"]) for r in rows.values())
  dense = sum(r["dense"]["t_r"] is not None and r["dense"]["t_r"] >= 0.5 * r["dense_t_gen"]
              for r in rows.values())
  n = len(rows)
  fmt = lambda v: "-" if v is None else f"{v:,}"
  cols = [("level", {s: f"{r['level']:.3g}" for s, r in rows.items()}),
          ("dense t_R / t_gen", {s: f"{fmt(r['dense']['t_r'])} / {fmt(r['dense_t_gen'])}"
                                 for s, r in rows.items()})]
  cols += [(f"{label} t_R / t_mem", {s: f"{fmt(r[label]['t_r'])} / {fmt(r[label]['t_mem'])}"
                                     for s, r in rows.items()})
           for label in payload["series"] if label != "dense"]
  span = lambda vs: ("never" if not [v for v in vs if v is not None] else
                      f"{min(v for v in vs if v is not None):,}-{max(v for v in vs if v is not None):,}"
                      + (f" ({sum(v is None for v in vs)} never)" if None in vs else ""))
  measured = (f"grokked ticket at the dense model's final restricted-loss level (x"
              f"{RESTRICTED_FACTOR:g}) within {FEW} t_mem on {ticket} of {n} seeds (at steps "
              f"{span([r['grokked ticket']['t_r'] for r in rows.values()])}, t_mem "
              f"{span([r['grokked ticket']['t_mem'] for r in rows.values()])}); the dense model "
              f"reaches it no earlier than half its t_gen on {dense} of {n} (at steps "
              f"{span([r['dense']['t_r'] for r in rows.values()])})")
  return measured, seed_table(cols, sorted(rows)), (ticket, dense, n)


@claim("M3", "This project's question (issue 37): do random and non-grokked tickets have "
       "neither (not the dense model's key frequencies, no early fall of the restricted "
       "loss)?", WORKDIRS, COMMAND, "progress")
def controls_have_neither(root, figures):
  """Rule (written before the runs): per seed whose dense run generalized and per control
  (random, non-grokked ticket): share of the dense key frequencies < MATCH and the
  restricted loss not at the level within FEW t_mem. Every (seed, control): agrees; at
  least half: partly; else no."""
  payload = root["modadd"].json("progress.json")
  rows = _per_seed(payload)
  _not_measured_if_empty(rows)
  measured, hits, cells = _m3(payload, rows)
  return Finding(measured, _verdict(hits, cells), f"key-frequency share < {MATCH:g} and "
                 f"restricted loss not at the level within {FEW} t_mem, for every seed and "
                 "control: agrees; at least half: partly; else no",
                 "Per seed: M1's and M2's tables; the curves: M2's figure." + _also_transformer(
                     root, lambda p, r: (_m3(p, r)[0], "")), ("claim_m2.png",))


CONTROLS = ("random ticket", "non-grokked ticket")


def _m3(payload, rows):
  held = {label: sum(r[label]["overlap"] < MATCH and not _soon(r[label]) for r in rows.values())
          for label in CONTROLS}
  measured = "; ".join(f"{label}: neither on {held[label]} of {len(rows)} seeds"
                       for label in CONTROLS)
  return measured, sum(held.values()), len(rows) * len(CONTROLS)
