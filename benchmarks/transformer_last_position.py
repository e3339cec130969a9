"""Training-step cost of the Transformer computing only the last position's stream
(the logits' only input; gtickets/models/transformer.py) against the full stream.

  python benchmarks/transformer_last_position.py [--runs=3] [--steps=100] [--repeats=5]

Config: configs/modular.py:add,transformer (p = 67, d_model = d_mlp = 128, full
batch, exact cross-entropy), R runs in one vmapped program, ``--steps`` AdamW
steps + one evaluation per timed call. The two forwards are timed in turn within
each repeat (interleaved, so load from other work hits both alike); the best of
``--repeats`` each. Also records each metric's largest relative difference
between the two after the first timed call, and the forward pass's FLOPs by
XLA's cost analysis. Writes ``--out``.
"""
import argparse
import dataclasses
import json
import os
import platform
import sys

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from configs.modular import get_config  # noqa: E402
from gtickets.experiment.pipeline import make_setup  # noqa: E402
from gtickets.models.transformer import Transformer  # noqa: E402
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training.trainer import init_keys, make_trainer  # noqa: E402
from timing import interleaved_best  # noqa: E402


class FullStreamTransformer(Transformer):
  """The Transformer as it was: every position's stream, then the last one read."""

  def from_inputs(self, x):
    return self.stream(x)[..., -1, :] @ self.unembed


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--runs", type=int, default=3)
  ap.add_argument("--steps", type=int, default=100)
  ap.add_argument("--repeats", type=int, default=5)
  ap.add_argument("--out", default="benchmarks/transformer_last_position.json")
  args = ap.parse_args()
  config = get_config("add,transformer")
  config.train.eval_every = args.steps
  # the one-hot stream that this benchmark is about (the default "cheapest" order
  # gathers composed tables instead: benchmarks/step_parts.py)
  config.model.contraction = "batch_first"
  setup = make_setup(config)
  full_model = FullStreamTransformer(**{f.name: getattr(setup.model, f.name)
                                         for f in dataclasses.fields(Transformer)
                                         if f.init and f.name not in ("parent", "name")})
  trainers = {"last position": setup.trainer,
              "full stream": make_trainer(config, setup.task, full_model)}
  params = setup.trainer.init_params(init_keys(list(range(args.runs))))
  mask = jax.vmap(masks_lib.ones_like)(params)
  calls, losses = {}, {}
  for name, tr in trainers.items():
    state = tr.init_state(params, mask)
    calls[name] = lambda tr=tr, st=state: tr.train_chunk(st, mask, setup.data, 1)[1]
    losses[name] = jax.tree.map(np.asarray, jax.block_until_ready(calls[name]()))  # compile
  difference = jax.tree.map(lambda a, b: float(np.max(np.abs(a - b) / (np.abs(b) + 1e-6))),
                            losses["last position"], losses["full stream"])
  one = jax.tree.map(lambda a: a[0], params)
  flops = {name: jax.jit(lambda p, m=m: m.apply({"params": p}, setup.task.x_train))
           .lower(one).compile().cost_analysis()["flops"]
           for name, m in (("last position", setup.model), ("full stream", full_model))}
  best = interleaved_best(calls, args.repeats)
  out = {"runs": args.runs, "steps": args.steps, "repeats": args.repeats,
         "backend": jax.default_backend(), "devices": jax.device_count(),
         "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus",
         "ms_per_step": {n: 1e3 * t / args.steps for n, t in best.items()},
         "full_over_last": best["full stream"] / best["last position"],
         "forward_flops": flops, "full_over_last_forward_flops": flops["full stream"]
         / flops["last position"], "max_relative_metric_difference": difference}
  print(json.dumps(out, indent=1))
  with open(args.out, "w") as f:
    json.dump(out, f, indent=1)


if __name__ == "__main__":
  main()
