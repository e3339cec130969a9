"""A *phase* trains one batch of runs to the end, resumably, in one program.

Files under ``workdir/<phase>/``:
  runs.json          run index -> settings, plus the config that trained them
  checkpoints/       orbax training states (all runs) at step 0, every
                     ``ckpt_every`` steps and at the end
  metrics/           curves of each finished chunk (npz), written before the
                     chunk's checkpoint, so a checkpoint always has its curves
  curves.npz         the full curves: ``steps`` and one [run, eval] array per metric
  summary.json/.csv  per-run measures (t_mem, t_gen, tau_grok, finals) + settings
  progress.jsonl     a log line per checkpoint: the step and each run's last metrics
                     (append-only; a resumed phase logs its redone chunk again)

A phase with ``curves.npz`` is finished and is read back, not retrained. An
interrupted phase resumes from its latest checkpoint; training is deterministic,
so the result equals an uninterrupted run. A workdir whose ``runs.json`` records
different runs or config is refused rather than mixed.
"""
import csv
import dataclasses
import json
import os

import numpy as np
from tqdm.auto import tqdm

from gtickets.tickets.checkpoints import StateCheckpoints
from gtickets.training.measures import run_measures
from gtickets.training.sharding import run_sharding, shard_runs
from gtickets.training.trainer import METRICS


class WorkdirMismatch(RuntimeError):
  """The workdir holds a phase trained with other runs or another config."""


@dataclasses.dataclass
class PhaseResult:
  name: str
  directory: str
  runs: list          # dicts: run index and its settings
  steps: np.ndarray   # evaluated steps, starting at 0
  curves: dict        # metric -> [n_runs, n_evals]
  measures: list      # per-run dicts (see training.measures.run_measures)

  @property
  def checkpoint_dir(self):
    return os.path.join(self.directory, "checkpoints")

  def rows(self):
    return [{**r, **m} for r, m in zip(self.runs, self.measures)]


def chunk_ends(num_steps, ckpt_every):
  """Steps at which a chunk ends and a checkpoint is written."""
  return list(range(ckpt_every, num_steps, ckpt_every)) + [num_steps]


def _atomic_savez(path, **arrays):
  tmp = path + ".tmp.npz"
  np.savez(tmp, **arrays)
  os.replace(tmp, path)


def _write_json(path, obj):
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(obj, f, indent=1)
  os.replace(tmp, path)


def claim_directory(name, workdir, runs, manifest_config):
  """The phase folder, after checking (or writing) its ``runs.json``.

  Raises WorkdirMismatch if the folder holds runs of another run table or config.
  Call it before writing anything else of the phase there.
  """
  directory = os.path.abspath(os.path.join(workdir, name))
  os.makedirs(os.path.join(directory, "metrics"), exist_ok=True)
  manifest = json.loads(json.dumps({"runs": runs, "config": manifest_config}))
  path = os.path.join(directory, "runs.json")
  if os.path.exists(path):
    with open(path) as f:
      old = json.load(f)
    if old != manifest:
      raise WorkdirMismatch(
          f"{directory} holds runs of a different config or run table; "
          "use another --workdir (or delete that folder to retrain it)")
  else:
    _write_json(path, manifest)
  return directory


def _to_host(metrics):
  return {k: np.asarray(v) for k, v in metrics.items()}


def run_phase(name, workdir, trainer, data, runs, params, masks, config,
              manifest_config=None, progress=True):
  """Trains ``runs`` (stacked ``params``/``masks``, leading axis = run).

  ``manifest_config``: a JSON-able dict of the settings that determine the
  result, checked against an existing workdir (default: the whole config).
  """
  if manifest_config is None:
    manifest_config = config.to_dict()
  directory = claim_directory(name, workdir, runs, manifest_config)
  runs = json.loads(json.dumps(runs))
  curves_path = os.path.join(directory, "curves.npz")
  threshold = (config.threshold, config.threshold_on)
  if os.path.exists(curves_path):
    with np.load(curves_path) as z:
      steps, curves = z["steps"], {k: z[k] for k in METRICS}
    return _finish(name, directory, runs, steps, curves, threshold)

  train = config.train
  ckpts = StateCheckpoints(os.path.join(directory, "checkpoints"))
  sharding = run_sharding(len(runs))
  params, masks = shard_runs((params, masks), sharding)
  state = trainer.init_state(params, masks)
  start = ckpts.latest_step()
  if start is None:
    start = 0
    _atomic_savez(os.path.join(directory, "metrics", f"upto_{0:08d}.npz"),
                  steps=np.array([0]),
                  **{k: v[:, None] for k, v in _to_host(
                      trainer.evaluate(state, masks, data)).items()})
    ckpts.save(0, state)
  else:
    state = shard_runs(ckpts.restore(start, like=state), sharding)

  ends = [e for e in chunk_ends(train.num_steps, train.ckpt_every) if e > start]
  bar = tqdm(total=train.num_steps, initial=start, desc=name, unit="step",
             disable=not progress, dynamic_ncols=True)
  diverged = set()
  for end in ends:
    n_evals = (end - start) // train.eval_every
    state, metrics = trainer.train_chunk(state, masks, data, n_evals)
    metrics = _to_host(metrics)
    steps = start + train.eval_every * np.arange(1, n_evals + 1)
    _atomic_savez(os.path.join(directory, "metrics", f"upto_{end:08d}.npz"),
                  steps=steps, **metrics)
    ckpts.save(end, state)
    with open(os.path.join(directory, "progress.jsonl"), "a") as f:
      f.write(json.dumps({"step": end, **{k: v[:, -1].tolist() for k, v in metrics.items()}})
              + "\n")
    bad = set(np.flatnonzero(~np.isfinite(metrics["train_loss"]).all(axis=1)).tolist())
    for i in sorted(bad - diverged):
      tqdm.write(f"warning: {name} run {i} ({runs[i]}) diverged by step {end} "
                 "(non-finite loss); it is marked diverged, other runs go on")
    diverged |= bad
    bar.update(end - start)
    bar.set_postfix(train_acc=f"{metrics['train_acc'][:, -1].mean():.3f}",
                    test_acc=f"{metrics['test_acc'][:, -1].mean():.3f}")
    start = end
  bar.close()
  ckpts.close()

  steps, curves = _gather_chunks(directory, train.num_steps)
  _atomic_savez(curves_path, steps=steps, **curves)
  return _finish(name, directory, runs, steps, curves, threshold)


def _gather_chunks(directory, num_steps):
  """Concatenates the chunk files of step 0 .. num_steps in order."""
  mdir = os.path.join(directory, "metrics")
  files = sorted(f for f in os.listdir(mdir)
                 if f.startswith("upto_") and f.endswith(".npz") and ".tmp" not in f)
  steps, parts = [], {k: [] for k in METRICS}
  for f in files:
    if int(f[5:13]) > num_steps:
      continue
    with np.load(os.path.join(mdir, f)) as z:
      steps.append(z["steps"])
      for k in METRICS:
        parts[k].append(z[k])
  steps = np.concatenate(steps)
  expected = np.unique(steps)
  if len(expected) != len(steps) or steps[-1] != num_steps:
    raise RuntimeError(f"metrics in {mdir} are incomplete or duplicated")
  return steps, {k: np.concatenate(v, axis=1) for k, v in parts.items()}


def _finish(name, directory, runs, steps, curves, threshold):
  """Measures from the curves, written as the phase's summary.json / .csv.

  Also when a finished phase is read back: the threshold is not part of the
  training, so the summaries always follow the config they were last read with.
  """
  measures = [run_measures(steps, {k: v[i] for k, v in curves.items()}, *threshold)
              for i in range(len(runs))]
  result = PhaseResult(name, directory, runs, steps, curves, measures)
  rows = result.rows()
  _write_json(os.path.join(directory, "summary.json"), rows)
  with open(os.path.join(directory, "summary.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows([{k: ("" if v is None else v) for k, v in r.items()} for r in rows])
  return result


def add_checkpoints(result, steps, trainer, data, params, masks, eval_every):
  """Adds checkpoints at ``steps`` to a finished phase, without retraining it.

  Each missing step is reached by training forward from the nearest earlier
  checkpoint; training is deterministic, so these are the states the original
  run passed through (tested). ``params``/``masks``: the phase's step-0 inputs,
  used for shapes. Returns the sorted list of steps added.
  """
  ckpts = StateCheckpoints(result.checkpoint_dir)
  have = ckpts.steps()
  missing = sorted(set(steps) - set(have))
  bad = [s for s in missing if s % eval_every or s > max(have)]
  if bad:
    raise ValueError(f"cannot add checkpoints at {bad}: steps must be multiples of "
                     f"eval_every={eval_every} within the trained {max(have)} steps")
  sharding = run_sharding(len(result.runs))
  params, masks = shard_runs((params, masks), sharding)
  like = trainer.init_state(params, masks)
  state, at = None, None
  for step in tqdm(missing, desc=f"{result.name}: adding checkpoints", disable=len(missing) < 2):
    start = max(s for s in have if s < step)
    if at is None or at < start:  # a nearer checkpoint than where we are
      state, at = shard_runs(ckpts.restore(start, like=like), sharding), start
    state, _ = trainer.train_chunk(state, masks, data, (step - at) // eval_every)
    at = step
    ckpts.save(step, state)
  ckpts.close()
  return missing
