"""Training throughput of the modadd MLP: R runs in one vmapped program vs one by one.

  python benchmarks/throughput.py [--runs=1,4,16,64] [--steps=100] [--repeats=3]

For each R, the same R runs (different seeds, dense masks, the default config)
are trained for ``--steps`` full-batch AdamW steps (a) as one jit-compiled,
vmapped, scanned program and (b) one after another with the single-run program
(compiled once). Both are timed after a warm-up call, best of ``--repeats``, side
by side in one process. FLOPs per run-step come from XLA's cost analysis of one
compiled training step; GFLOP/s = FLOPs per run-step x run-steps per second.
Writes a JSON file beside the printed table (``--out``).
"""
import argparse
import json
import os
import platform
import sys
import time

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from configs.modadd import get_config  # noqa: E402
from gtickets.experiment.pipeline import make_setup  # noqa: E402
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training.trainer import init_keys  # noqa: E402


def _time(fn, repeats):
  jax.block_until_ready(fn())  # warm-up (compile)
  best = float("inf")
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    best = min(best, time.perf_counter() - t0)
  return best


def flops_per_step(setup, params, mask, state):
  one = lambda t: jax.tree.map(lambda x: x[0], t)
  compiled = jax.jit(setup.trainer.step).lower(one(state), one(mask), setup.data).compile()
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float(cost["flops"])


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--runs", default="1,4,16,64")
  ap.add_argument("--steps", type=int, default=100)
  ap.add_argument("--repeats", type=int, default=3)
  ap.add_argument("--out", default="benchmarks/throughput.json")
  ap.add_argument("--matmul_precision", default="highest",
                  help="jax_default_matmul_precision, as config.matmul_precision")
  args = ap.parse_args()
  jax.config.update("jax_default_matmul_precision", args.matmul_precision)

  config = get_config()
  config.train.eval_every = args.steps  # one chunk = `steps` steps + one evaluation
  setup = make_setup(config)
  rows, flops = [], None
  for r in [int(x) for x in args.runs.split(",")]:
    params = setup.trainer.init_params(init_keys(list(range(r))))
    mask = jax.vmap(masks_lib.ones_like)(params)
    state = setup.trainer.init_state(params, mask)
    if flops is None:
      flops = flops_per_step(setup, params, mask, state)
    batched = _time(lambda: setup.trainer.train_chunk(state, mask, setup.data, 1)[1],
                    args.repeats)
    singles = [jax.tree.map(lambda x, i=i: x[i:i + 1], (state, mask)) for i in range(r)]
    sequential = _time(
        lambda: [setup.trainer.train_chunk(s, m, setup.data, 1)[1] for s, m in singles],
        args.repeats)
    row = {"runs": r, "steps": args.steps,
           "batched_s": batched, "sequential_s": sequential,
           "batched_run_steps_per_s": r * args.steps / batched,
           "sequential_run_steps_per_s": r * args.steps / sequential,
           "speedup": sequential / batched}
    row["batched_gflops"] = flops * row["batched_run_steps_per_s"] / 1e9
    row["sequential_gflops"] = flops * row["sequential_run_steps_per_s"] / 1e9
    rows.append(row)
    print(f"R={r:3d}  batched {row['batched_run_steps_per_s']:8.1f} run-steps/s "
          f"({row['batched_gflops']:6.1f} GFLOP/s)  sequential "
          f"{row['sequential_run_steps_per_s']:8.1f} run-steps/s "
          f"({row['sequential_gflops']:6.1f} GFLOP/s)  speedup x{row['speedup']:.2f}",
          flush=True)
  info = {"device": str(jax.devices()[0]), "platform": platform.platform(),
          "cpu_count": os.cpu_count(), "jax": jax.__version__,
          "matmul_precision": args.matmul_precision,
          "flops_per_run_step": flops, "rows": rows}
  with open(args.out, "w") as f:
    json.dump(info, f, indent=1)
  print(f"FLOPs per run-step (XLA cost analysis): {flops / 1e6:.1f} M; wrote {args.out}")


if __name__ == "__main__":
  main()
