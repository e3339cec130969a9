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
