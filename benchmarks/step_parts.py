"""Where a training step of the paper's MLP spends its time, in each contraction order.

  python benchmarks/step_parts.py [--steps=200] [--repeats=5] [--out=benchmarks/step_parts.json]
                                  [--config=modadd] (or e.g. --config=modular:add,transformer)

One run (R = 1), the config (default: the paper's MLP) with a k = 0.6 magnitude mask, each part
scanned ``--steps`` times inside one jit-compiled program, all parts and both
orders (``model.contraction``) timed in turn, best of ``--repeats``:
  forward           the masked network's logits on the 884 training pairs
  loss              forward + the exact cross-entropy
  gradient          the loss's gradient with respect to every weight
  adamw             the optimizer update alone (optax AdamW, weight decay 1)
  step              gradient + AdamW: the trainer's step
  trainer chunk     ``Trainer.train_chunk``: steps with one evaluation (train and
                    test loss, accuracy, L1 / L2 norms) every ``train.eval_every``
Run it on one core (``taskset -c 0``) for the per-core figures.
"""
import argparse
import json
import os
import platform
import sys

import jax
import jax.numpy as jnp
import optax

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import importlib  # noqa: E402
from gtickets.experiment.pipeline import make_setup  # noqa: E402
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training.trainer import init_keys, make_optimizer  # noqa: E402
from timing import ms_per_step  # noqa: E402


def get_config(spec):
  """configs/<name>.py's config for ``spec`` = "name[:arg]"."""
  name, _, arg = spec.partition(":")
  return importlib.import_module(f"configs.{name}").get_config(arg or None)


def parts(spec, order, steps):
  """{part: zero-argument callable running it ``steps`` times} for one order."""
  config = get_config(spec)
  config.model.contraction = order
  setup = make_setup(config)
  task, model, data = setup.task, setup.model, setup.data
  params = model.init(jax.random.key(0), data["x_train"][:1])["params"]
  mask = masks_lib.magnitude_mask(params, 0.6)
  params = masks_lib.apply(params, mask)
  tx = make_optimizer(config.optim)
  x, y = data["x_train"], data["y_train"]
  logits = lambda p: model.apply({"params": masks_lib.apply(p, mask)}, x)
  loss = lambda p: task.loss(logits(p), y)
  nudge = lambda p, c: jax.tree.map(lambda w: w + 1e-9 * c, p)  # keeps each step live

  def scanned(body, carry):
    return jax.jit(lambda c: jax.lax.scan(lambda c, _: (body(c), None), c, None,
                                          length=steps)[0])

  def adamw(c):
    p, s = c
    u, s = tx.update(jax.tree.map(lambda w: 1e-3 * w, p), s, p)
    return optax.apply_updates(p, u), s

  def step(c):
    p, s = c
    u, s = tx.update(jax.grad(loss)(p), s, p)
    return optax.apply_updates(p, u), s

  state0 = (params, tx.init(params))
  fns = {
      "forward": (scanned(lambda c: c + jnp.sum(logits(nudge(params, c))) * 1e-9, 0.0), 0.0),
      "loss": (scanned(lambda c: c + loss(nudge(params, c)) * 1e-9, 0.0), 0.0),
      "gradient": (scanned(lambda p: jax.tree.map(lambda w, g: w - 1e-6 * g, p,
                                                  jax.grad(loss)(p)), params), params),
      "adamw": (scanned(adamw, state0), state0),
      "step": (scanned(step, state0), state0),
  }
  calls = {name: (lambda f=f, a=a: f(a)) for name, (f, a) in fns.items()}
  batch = jax.tree.map(lambda w: w[None], params)
  masks = jax.tree.map(lambda m: m[None], mask)
  tr = setup.trainer
  state = tr.init_state(batch, masks)
  n_evals = steps // config.train.eval_every
  calls["trainer chunk"] = lambda: tr.train_chunk(state, masks, data, n_evals)[1]
  return calls


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--steps", type=int, default=200)
  ap.add_argument("--repeats", type=int, default=5)
  ap.add_argument("--orders", default="cheapest,batch_first")
  ap.add_argument("--config", default="modadd", help="configs/<name>.py[:arg]")
  ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "step_parts.json"))
  args = ap.parse_args()
  every = get_config(args.config).train.eval_every
  if args.steps % every:
    raise SystemExit(f"--steps={args.steps} must be a multiple of train.eval_every={every}")
  calls = {}
  for order in args.orders.split(","):
    for name, fn in parts(args.config, order, args.steps).items():
      calls[f"{order}: {name}"] = fn
  ms = ms_per_step(calls, args.steps, args.repeats)
  info = {"config": args.config, "ms_per_step": ms, "steps": args.steps, "repeats": args.repeats,
          "cpus_usable": len(os.sched_getaffinity(0)), "jax": jax.__version__,
          "platform": platform.platform()}
  with open(args.out, "w") as f:
    json.dump(info, f, indent=1)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
