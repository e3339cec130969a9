"""This project's training step against the authors' PyTorch loop, side by side.

  python benchmarks/vs_pytorch.py [--steps=200] [--repeats=5] [--out=benchmarks/vs_pytorch.json]

Needs PyTorch (not a dependency of the project: ``pip install torch``). Run it on
one core (``taskset -c 0``) to compare like with like: PyTorch is set to one
thread, and JAX sees the cores it is allowed.

The PyTorch side is this project's transcription of what one epoch of the
authors' ``train.py`` does for the paper's MLP (gouki510/Grokking-Tickets; read,
not copied): the embedding as a column gather of W_E, the in-projection per
token then summed, ReLU, out-projection, unembedding, each weight times its mask
buffer; the loss with the log-softmax in float64; torch AdamW (lr 1e-3, betas
0.9 / 0.98, weight decay 1). Timed two ways:
  * "step": forward on the 884 training pairs, loss, backward, AdamW step;
  * "epoch": what their loop does every step on top: the labels rebuilt in Python
    from the pairs for both splits, the test forward and loss (with autograd on,
    as theirs), accuracies, the mean correct-class probability, and the weight
    norms read through ``state_dict`` (their wandb call is left out).
The JAX side is this project's trainer on the default config (the cheapest
contraction order, exact cross-entropy, one run, evaluation every 100 steps),
``--steps`` steps per call. All three are timed in turn, best of ``--repeats``.
"""
import argparse
import json
import os
import platform
import sys
import time

import jax
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from configs.modadd import get_config  # noqa: E402
from gtickets.experiment.pipeline import make_setup  # noqa: E402
from gtickets.tickets import masks as masks_lib  # noqa: E402
from gtickets.training.trainer import init_keys  # noqa: E402


def torch_loop(torch, pairs_train, pairs_test, p, d_emb=500, d_hidden=48):
  """(step, epoch): closures doing one training step of the authors' loop, and one
  step with everything else their loop computes every epoch."""
  nn, F = torch.nn, torch.nn.functional
  g = torch.Generator().manual_seed(0)
  normal = lambda *shape, fan_in: nn.Parameter(torch.randn(*shape, generator=g) / np.sqrt(fan_in))
  weights = {"W_E": normal(d_emb, p, fan_in=p), "W_in": normal(d_hidden, d_emb, fan_in=d_emb),
             "W_out": normal(d_emb, d_hidden, fan_in=d_hidden),
             "W_U": normal(d_emb, p, fan_in=d_emb)}
  masks = {k: torch.ones_like(w) for k, w in weights.items()}
  opt = torch.optim.AdamW(weights.values(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)

  def forward(x):
    w = {k: masks[k] * v for k, v in weights.items()}
    emb = torch.einsum("dbp->bpd", w["W_E"][:, x])
    h = F.relu((emb @ w["W_in"].T).sum(dim=1))
    return (h @ w["W_out"].T) @ w["W_U"]

  def loss_of(logits, labels):
    logp = F.log_softmax(logits.to(torch.float64), dim=-1)
    return -torch.gather(logp, index=labels[:, None], dim=-1).mean()

  x_train, x_test = torch.tensor(pairs_train), torch.tensor(pairs_test)
  fixed_labels = torch.tensor([(a + b) % p for a, b in pairs_train])

  def step():
    loss = loss_of(forward(x_train), fixed_labels)
    loss.backward()
    opt.step()
    opt.zero_grad()

  def full_loss(x, pairs):
    logits = forward(x)
    labels = torch.tensor([(a + b) % p for a, b in pairs])
    prob = F.softmax(logits, dim=1)
    acc = (logits.argmax(-1) == labels).float().mean().item()
    return loss_of(logits, labels), acc, torch.gather(prob, index=labels[:, None], dim=-1).mean()

  def epoch():
    train_loss, _, _ = full_loss(x_train, pairs_train)
    test_loss, _, _ = full_loss(x_test, pairs_test)
    _ = (train_loss.item(), test_loss.item())
    for k, v in weights.items():  # their get_weight_norm: per tensor, on the host
      w, m = v.detach().cpu(), masks[k].cpu()
      _ = (torch.norm(w * m, 2), torch.norm(w, 2), torch.norm(w * m, 1), torch.norm(w, 1))
    train_loss.backward()
    opt.step()
    opt.zero_grad()

  return step, epoch


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--steps", type=int, default=200)
  ap.add_argument("--repeats", type=int, default=5)
  ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "vs_pytorch.json"))
  args = ap.parse_args()
  import torch
  torch.set_num_threads(1)

  config = get_config()
  setup = make_setup(config)
  task = setup.task
  params = setup.trainer.init_params(init_keys([0]))
  masks = jax.vmap(masks_lib.ones_like)(params)
  state = setup.trainer.init_state(params, masks)
  n_evals = args.steps // config.train.eval_every
  jax_chunk = lambda: setup.trainer.train_chunk(state, masks, setup.data, n_evals)[1]
  step, epoch = torch_loop(torch, task.x_train.tolist(), task.x_test.tolist(), config.task.p)

  calls = {"jax (this project)": lambda: jax.block_until_ready(jax_chunk()),
           "pytorch step": lambda: [step() for _ in range(args.steps)],
           "pytorch epoch (their loop)": lambda: [epoch() for _ in range(args.steps)]}
  for fn in calls.values():
    fn()  # warm-up (compile)
  best = {name: float("inf") for name in calls}
  for _ in range(args.repeats):
    for name, fn in calls.items():
      t0 = time.perf_counter()
      fn()
      best[name] = min(best[name], time.perf_counter() - t0)
  ms = {name: 1e3 * t / args.steps for name, t in best.items()}
  jax_ms = ms["jax (this project)"]
  for name, v in ms.items():
    print(f"{name:28s} {v:8.3f} ms per step   ({v / jax_ms:6.1f}x this project's)")
  info = {"ms_per_step": ms, "steps": args.steps, "repeats": args.repeats,
          "cpus_usable": len(os.sched_getaffinity(0)), "torch_threads": torch.get_num_threads(),
          "torch": torch.__version__, "jax": jax.__version__,
          "platform": platform.platform(), "cpu": platform.processor()}
  with open(args.out, "w") as f:
    json.dump(info, f, indent=1)
  print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
