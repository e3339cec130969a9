"""R = 64 runs of the modadd MLP as one vmap vs sequential vmaps of G runs inside one
program (``lax.map(..., batch_size=G)``, what ``train.vmap_runs = G`` does), 50
steps, the group sizes timed in turn (interleaved), best of ``--repeats``:

  taskset -c 0 python benchmarks/microbatch.py [--runs=64] [--groups=64,4,2,1]
"""
import argparse
import os
import sys
import jax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from configs.modadd import get_config  # noqa: E402
from gtickets.experiment.pipeline import make_setup  # noqa: E402
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training.trainer import init_keys  # noqa: E402
from timing import interleaved_best  # noqa: E402


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--runs", type=int, default=64)
  ap.add_argument("--steps", type=int, default=50)
  ap.add_argument("--groups", default="64,4,2,1")
  ap.add_argument("--repeats", type=int, default=3)
  args = ap.parse_args()
  setup = make_setup(get_config())
  tr = setup.trainer
  params = tr.init_params(init_keys(list(range(args.runs))))
  masks = jax.vmap(masks_lib.ones_like)(params)
  state = tr.init_state(params, masks)

  def one(s, m):
    return jax.lax.scan(lambda s, _: (tr.step(s, m, setup.data), None), s, None,
                        length=args.steps)[0]

  calls = {}
  for g in [int(x) for x in args.groups.split(",")]:
    f = jax.jit(lambda s, m, g=g: jax.lax.map(lambda sm: one(*sm), (s, m), batch_size=g))
    jax.block_until_ready(f(state, masks))  # compile
    calls[g] = lambda f=f: f(state, masks)
  for g, t in interleaved_best(calls, args.repeats).items():
    print(f"G={g:3d}: {args.runs * args.steps / t:8.1f} run-steps/s, "
          f"{1e3 * t / (args.runs * args.steps):.3f} ms per run-step", flush=True)


if __name__ == "__main__":
  main()
