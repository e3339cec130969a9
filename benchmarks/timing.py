"""Timing shared by the benchmarks: the best of several calls, alternatives interleaved."""
import time

import jax


def interleaved_best(calls, repeats):
  """{name: fn} -> {name: best seconds of ``repeats`` calls}. The calls take turns
  within each repeat, so load from other work on the machine hits them alike.
  Compile (call once) before timing."""
  best = {name: float("inf") for name in calls}
  for _ in range(repeats):
    for name, fn in calls.items():
      t0 = time.perf_counter()
      jax.block_until_ready(fn())
      best[name] = min(best[name], time.perf_counter() - t0)
  return best


def ms_per_step(calls, steps, repeats, unit="ms per step"):
  """Compiles each call, times them interleaved (``interleaved_best``), prints and
  returns {name: milliseconds per step} for calls that each run ``steps`` steps."""
  for fn in calls.values():
    jax.block_until_ready(fn())  # compile
  best = interleaved_best(calls, repeats)
  ms = {name: 1e3 * t / steps for name, t in best.items()}
  width = max(map(len, ms))
  for name, v in ms.items():
    print(f"{name:{width}s} {v:8.3f} {unit}")
  return ms
