"""The per-step extras beside the paper's MLP step, each against the form it replaced,
timed side by side (interleaved, best of ``--repeats``), per run-step in ms:

* edge-popup's four per-matrix masks (k = 0.6 of |scores|): the bisection cut of
  ``tickets/masks.py`` vs a stable argsort ranking (the form before);
* Grokfast-MA's filter over the 115k gradients (window 100): the block sums of
  ``training/accelerators.py``, each a chain of row adds (now), vs the same block sums
  by XLA's reduce over the leading axis (before), vs the mean of the whole window each
  step (the first form);
* AdamW alone, for scale.

The gradient filters run ``--runs`` (5) runs vmapped, as the trainer runs its seeds:
the reduce's cost showed only there.

  taskset -c 0 python benchmarks/per_step_extras.py [--steps=100] [--repeats=5] [--runs=5]
      [--out=F.json]

The replaced forms live here only, as references; tests/test_masks.py and
tests/test_accelerators.py check that the new forms give the same values.
"""
import argparse
import json
import os
import sys

import jax
import jax.numpy as jnp
import optax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training import accelerators  # noqa: E402
from timing import ms_per_step  # noqa: E402

SHAPES = {"embed": (67, 500), "w_in": (500, 48), "w_out": (48, 500), "unembed": (500, 67)}


def argsort_keep_top(scores, k):
  """The mask as before: ranks from a stable argsort."""
  flat = scores.ravel()
  n_remove = jnp.round(k * flat.size).astype(jnp.int32)
  ranks = jnp.empty(flat.size, jnp.int32).at[jnp.argsort(flat, stable=True)].set(
      jnp.arange(flat.size, dtype=jnp.int32))
  return (ranks >= n_remove).reshape(scores.shape)


def window_mean_ma(window=100, lamb=5.0):
  """Grokfast-MA as before: the mean over the whole ring buffer every step."""
  def init(params):
    return (jax.tree.map(lambda p: jnp.zeros((window,) + p.shape), params),
            jnp.zeros((), jnp.int32))

  def update(grads, state, params=None):
    buf, count = state
    buf = jax.tree.map(lambda b, g: b.at[count % window].set(g), buf, grads)
    out = jax.tree.map(lambda g, b: jnp.where(count + 1 >= window, g + lamb * b.mean(0), g),
                       grads, buf)
    return out, (buf, count + 1)
  return optax.GradientTransformation(init, update)


def block_reduce_ma(window=100, lamb=5.0):
  """Grokfast-MA's block sums as before: ``.sum(axis=0)`` over the block and over the
  block sums (XLA's reduce over a leading axis)."""
  b = accelerators.ma_block(window)

  def init(params):
    zeros = lambda n: jax.tree.map(lambda p: jnp.zeros((n,) + p.shape, p.dtype), params)
    return zeros(window), zeros(window // b), jnp.zeros((), jnp.int32)

  def update(grads, state, params=None):
    window_buf, block_sums, count = state
    slot = count % window
    buf = jax.tree.map(lambda w, g: w.at[slot].set(g), window_buf, grads)
    block = slot // b
    sums = jax.tree.map(lambda s, w: s.at[block].set(
        jax.lax.dynamic_slice_in_dim(w, block * b, b).sum(axis=0)), block_sums, buf)
    full = count + 1 >= window
    out = jax.tree.map(lambda g, s: jnp.where(full, g + lamb * (s.sum(axis=0) / window), g),
                       grads, sums)
    return out, (buf, sums, count + 1)
  return optax.GradientTransformation(init, update)


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--steps", type=int, default=100)
  ap.add_argument("--repeats", type=int, default=5)
  ap.add_argument("--runs", type=int, default=5,
                  help="runs vmapped in the gradient filters' programs (the seeds)")
  ap.add_argument("--out", default="")
  args = ap.parse_args()
  keys = jax.random.split(jax.random.key(0), len(SHAPES))
  tree = {n: jax.random.normal(kk, s) for kk, (n, s) in zip(keys, SHAPES.items())}

  def masks_program(keep_top):
    def step(c, i):
      scale = 1.0 + i.astype(jnp.float32) * 1e-3  # new scores each step
      return c + sum(keep_top(jnp.abs(w) * scale, 0.6).sum() for w in tree.values()), None
    f = jax.jit(lambda: jax.lax.scan(step, 0, jnp.arange(args.steps))[0])
    return f

  def filter_program(tx):
    """``--runs`` runs vmapped, as the trainer runs its seeds."""
    def one_run(r):
      params = jax.tree.map(lambda w: w * (1.0 + r), tree)
      def step(state, i):
        g = jax.tree.map(lambda w: w * (1.0 + i.astype(jnp.float32) * 1e-3), params)
        out, state = tx.update(g, state, params)
        return state, jax.tree.map(jnp.sum, out)
      return jax.lax.scan(step, tx.init(params), jnp.arange(args.steps))[1]
    runs = jnp.arange(args.runs, dtype=jnp.float32)
    return jax.jit(lambda: jax.vmap(one_run)(runs))

  calls = {"masks: bisection (now)": masks_program(masks_lib.keep_top),
           "masks: stable argsort (before)": masks_program(argsort_keep_top),
           "grokfast-ma: block sums (now)": filter_program(accelerators.grokfast_ma()),
           "grokfast-ma: block sums by reduce (before)": filter_program(block_reduce_ma()),
           "grokfast-ma: window mean (before)": filter_program(window_mean_ma()),
           "adamw": filter_program(optax.adamw(1e-3))}
  ms = ms_per_step(calls, args.steps, args.repeats, "ms per program step")
  for name in calls:  # the filters' programs step --runs runs at once
    if not name.startswith("masks"):
      ms[name] /= args.runs
      print(f"{name}: {ms[name]:.3f} ms per run-step")
  print(f"masks: {ms['masks: stable argsort (before)'] / ms['masks: bisection (now)']:.1f}x; "
        f"grokfast-ma: {ms['grokfast-ma: block sums by reduce (before)'] / ms['grokfast-ma: block sums (now)']:.1f}x "
        f"(over the window mean: {ms['grokfast-ma: window mean (before)'] / ms['grokfast-ma: block sums (now)']:.1f}x)")
  if args.out:
    with open(args.out, "w") as f:
      json.dump({"steps": args.steps, "repeats": args.repeats, "runs": args.runs,
                 "ms_per_run_step": ms,
                 "backend": jax.default_backend()}, f, indent=1)


if __name__ == "__main__":
  main()
