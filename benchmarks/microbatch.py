"""R = 64 runs of the modadd MLP as one vmap vs sequential vmaps of G runs inside one
program (``lax.map(..., batch_size=G)``), 50 steps, side by side in one process:

  python benchmarks/microbatch.py [--runs=64] [--groups=64,4,2,1]
"""
import argparse
import os
import sys
import time

import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from configs.modadd import get_config  # noqa: E402
from gtickets.experiment.pipeline import make_setup  # noqa: E402
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training.trainer import init_keys  # noqa: E402


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--runs", type=int, default=64)
  ap.add_argument("--steps", type=int, default=50)
  ap.add_argument("--groups", default="64,4,2,1")
  args = ap.parse_args()
  setup = make_setup(get_config())
  tr = setup.trainer
  params = tr.init_params(init_keys(list(range(args.runs))))
  masks = jax.vmap(masks_lib.ones_like)(params)
  state = tr.init_state(params, masks)

  def one(s, m):
    return jax.lax.scan(lambda s, _: (tr.step(s, m, setup.data), None), s, None,
                        length=args.steps)[0]

  for g in [int(x) for x in args.groups.split(",")]:
    f = jax.jit(lambda s, m, g=g: jax.lax.map(lambda sm: one(*sm), (s, m), batch_size=g))
    jax.block_until_ready(f(state, masks))
    t0 = time.perf_counter()
    jax.block_until_ready(f(state, masks))
    print(f"G={g:3d}: {args.runs * args.steps / (time.perf_counter() - t0):8.1f} run-steps/s",
          flush=True)


if __name__ == "__main__":
  main()
