"""What data per run costs: the trainer's training chunk over the same runs of one
modular operation, its data shared by every run (a plain launch) against stacked once
per run (a sweep over operations, configs/modular_ops.py), timed side by side
(interleaved, best of ``--repeats``), per run-step in ms, on one device (the runs one
after another, as each CPU device runs its block):

  taskset -c 0 python benchmarks/per_run_data.py [--arch=transformer] [--runs=4]
      [--evals=5] [--repeats=3] [--out=F.json]

Both train the same numbers (tests/test_sweep.py: the weights bit for bit).
"""
import argparse
import json
import os
import sys

import jax
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from configs import modular  # noqa: E402
from gtickets import experiments  # noqa: E402
from gtickets.commands.launches import cpu_model  # noqa: E402
from gtickets.experiment import pipeline  # noqa: E402
from gtickets.experiment.setup import make_setup  # noqa: E402
from gtickets.training.trainer import init_keys  # noqa: E402
from timing import ms_per_step  # noqa: E402


def chunk_call(config, runs, per_run_task, n_evals):
  """A zero-argument call training ``runs`` for ``n_evals`` evaluations."""
  setup = make_setup(config, per_run_task=per_run_task)
  t = setup.trainer
  data = setup.data_for(runs)
  params = t.init_params(init_keys([r["seed"] for r in runs]))
  masks = jax.tree.map(lambda x: np.ones(x.shape, bool), params)
  state = t.init_state(params, masks, None)
  return lambda: t.train_chunk(state, masks, data, n_evals)


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--arch", default="transformer", choices=("mlp", "transformer"))
  ap.add_argument("--op", default="mul")
  ap.add_argument("--runs", type=int, default=4)
  ap.add_argument("--evals", type=int, default=5)
  ap.add_argument("--repeats", type=int, default=3)
  ap.add_argument("--out", default=None)
  args = ap.parse_args()
  config = experiments.validate(modular.get_config(f"{args.op},{args.arch}"))
  base = pipeline.dense_runs(config)[0]
  shared = [dict(base, seed=s, run=s) for s in range(args.runs)]
  own = [dict(r, operation=args.op) for r in shared]
  steps = args.evals * config.train.eval_every * args.runs
  print(f"{args.arch}, {args.op}: {args.runs} runs x {args.evals * config.train.eval_every} "
        f"steps on {jax.devices()[0].device_kind}, {jax.device_count()} device(s)")
  ms = ms_per_step({"shared data": chunk_call(config, shared, False, args.evals),
                    "data per run": chunk_call(config, own, True, args.evals)},
                   steps, args.repeats, "ms per run-step")
  out = {"arch": args.arch, "op": args.op, "runs": args.runs,
         "steps_per_run": args.evals * config.train.eval_every, "repeats": args.repeats,
         "ms_per_run_step": ms, "ratio_per_run_over_shared": ms["data per run"] / ms["shared data"],
         "machine": f"{os.cpu_count()} x {cpu_model()}", "jax": jax.__version__}
  print(f"data per run / shared: {out['ratio_per_run_over_shared']:.3f}")
  if args.out:
    with open(args.out, "w") as f:
      json.dump(out, f, indent=1)


if __name__ == "__main__":
  main()
