"""Grokking measures from evaluated curves.

t_mem / t_gen: the first *evaluated* step at which train / test accuracy reaches
the threshold (default 0.95, after Kumar et al.), or for regression the first at
which train / test loss falls to it. A curve that never reaches it
gives ``None`` ("not reached"), never a made-up step; tau_grok = t_gen / t_mem is
``None`` unless both are reached (and t_mem > 0).
"""
import numpy as np


def first_reach(steps, values, threshold):
  """First step with value >= threshold, or None."""
  hit = np.flatnonzero(np.asarray(values) >= threshold)
  return int(np.asarray(steps)[hit[0]]) if hit.size else None


def tau_grok(t_mem, t_gen):
  if t_mem is None or t_gen is None or t_mem == 0:
    return None
  return t_gen / t_mem


def first_below(steps, values, threshold):
  """First step with value <= threshold, or None."""
  return first_reach(steps, -np.asarray(values), -threshold)


def run_measures(steps, curves, threshold, threshold_on="accuracy"):
  """Per-run measures from ``curves`` = {metric: [n_evals]} of one run.

  ``threshold_on="accuracy"``: t_mem / t_gen are the first steps with train /
  test accuracy >= threshold; ``"loss"``: with train / test loss <= threshold.
  """
  if threshold_on == "loss":
    t_mem = first_below(steps, curves["train_loss"], threshold)
    t_gen = first_below(steps, curves["test_loss"], threshold)
  else:
    t_mem = first_reach(steps, curves["train_acc"], threshold)
    t_gen = first_reach(steps, curves["test_acc"], threshold)
  finite = bool(np.all(np.isfinite(curves["train_loss"])))
  return {
      "t_mem": t_mem, "t_gen": t_gen, "tau_grok": tau_grok(t_mem, t_gen),
      "final_train_acc": float(curves["train_acc"][-1]),
      "final_test_acc": float(curves["test_acc"][-1]),
      "final_train_loss": float(curves["train_loss"][-1]),
      "final_test_loss": float(curves["test_loss"][-1]),
      "final_l1": float(curves["l1"][-1]), "final_l2": float(curves["l2"][-1]),
      "diverged": not finite,
  }


def mean_std(values):
  """(mean, std, n) over the values that are not None; (None, None, 0) if none."""
  vals = [v for v in values if v is not None]
  if not vals:
    return None, None, 0
  return float(np.mean(vals)), float(np.std(vals)), len(vals)
