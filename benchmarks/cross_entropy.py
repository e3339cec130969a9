"""Cost per training step of each cross-entropy mode (gtickets/tasks/cross_entropy.py).

  python benchmarks/cross_entropy.py [--runs=1,16] [--steps=200] [--repeats=5]

The default modadd MLP (p = 67, full batch), R runs in one vmapped program,
``--steps`` AdamW steps + one evaluation per timed call. The modes are timed in
turn within each repeat (interleaved, so load from other work on the machine
hits them alike); the best of ``--repeats`` per mode. Prints ms per step of the
whole batch and each mode's time relative to float32; writes ``--out`` (JSON).
"""
import argparse
import json
import os
import platform
import sys

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from configs.modadd import get_config  # noqa: E402
from gtickets.experiment.pipeline import make_setup  # noqa: E402
from gtickets.tasks.cross_entropy import MODES  # noqa: E402
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training.trainer import init_keys  # noqa: E402
from timing import interleaved_best  # noqa: E402


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--runs", default="1,16")
  ap.add_argument("--steps", type=int, default=200)
  ap.add_argument("--repeats", type=int, default=5)
  ap.add_argument("--out", default="benchmarks/cross_entropy.json")
  args = ap.parse_args()
  jax.config.update("jax_default_matmul_precision", "highest")
  rows = []
  for r in [int(x) for x in args.runs.split(",")]:
    calls = {}
    for mode in MODES:
      config = get_config()
      config.train.cross_entropy = mode
      config.train.eval_every = args.steps
      setup = make_setup(config)
      params = setup.trainer.init_params(init_keys(list(range(r))))
      mask = jax.vmap(masks_lib.ones_like)(params)
      state = setup.trainer.init_state(params, mask)
      call = (lambda s=setup, st=state, m=mask:
              s.trainer.train_chunk(st, m, s.data, 1)[1])
      jax.block_until_ready(call())  # compile
      calls[mode] = call
    best = interleaved_best(calls, args.repeats)
    for mode in MODES:
      row = {"runs": r, "mode": mode, "ms_per_step": 1e3 * best[mode] / args.steps,
             "relative_to_float32": best[mode] / best["float32"]}
      rows.append(row)
      print(f"R={r:3d} {mode:8s} {row['ms_per_step']:7.2f} ms/step "
            f"x{row['relative_to_float32']:.3f} of float32", flush=True)
  info = {"device": str(jax.devices()[0]), "platform": platform.platform(),
          "cpu_count": os.cpu_count(), "jax": jax.__version__, "steps": args.steps,
          "repeats": args.repeats, "rows": rows}
  with open(args.out, "w") as f:
    json.dump(info, f, indent=1)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
