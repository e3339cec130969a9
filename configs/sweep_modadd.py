"""A sweep on (a + b) mod 67: seeds x learning rate x weight decay x prune ratio.

Every (seed, lr, weight decay) point trains a dense base run; from each, grokked
tickets at every k train with the base's lr and weight decay. The four axes vary
inside one vmapped program (experiments/sweep.py), so the whole grid is two
compiled programs (dense, tickets), its run axis spread over every device:

  python launch/main.py --config=configs/sweep_modadd.py --workdir=workdirs/sweep_modadd

Default: the paper's setup, 5 x 3 x 4 seeds/lr/wd = 60 dense runs and 3 x 60 =
180 tickets, 30k steps each (a GPU job: 7.2M run-steps). ``:small`` is the
``configs/modadd.py:quick`` setup (p = 23, a smaller MLP, 2,000 steps) with
4 x 3 x 3 dense runs and 2 x 36 tickets = 108 runs, a CPU job of minutes;
``:gpu1000`` is the paper's setup at 10 x 5 x 5 dense runs and 3 x 250 tickets =
1,000 runs (benchmarks/gpu_job.sh); ``:quick`` is a tiny grid for a smoke test. Output: sweep.md / .csv / .json /
.png in the workdir, one row per run with every swept field.
"""
from configs import modadd
from gtickets import experiments


def get_config(arg=None):
  if arg not in (None, "small", "gpu1000", "quick"):
    raise ValueError(f"unknown config variant {arg!r}; known: 'small', 'gpu1000', 'quick'")
  c = modadd.get_config("quick" if arg in ("small", "quick") else None)
  experiments.use(c, "sweep")
  c.name = "sweep_modadd" + (f"_{arg}" if arg else "")
  c.ticket.variants = ("grokked",)
  if arg == "small":
    c.train.num_steps, c.train.eval_every, c.train.ckpt_every = 2_000, 50, 1_000
    c.sweep.axes = (("seed", (0, 1, 2, 3)), ("optim.lr", (1e-3, 3e-3, 1e-2)),
                    ("optim.weight_decay", (0.3, 1.0, 3.0)),
                    ("ticket.prune_ratio", (0.6, 0.8)))
  elif arg == "gpu1000":  # 10 x 5 x 5 = 250 dense runs + 3 x 250 tickets = 1,000 runs
    c.sweep.axes = (("seed", tuple(range(10))), ("optim.lr", (3e-4, 5e-4, 1e-3, 2e-3, 3e-3)),
                    ("optim.weight_decay", (0.1, 0.3, 1.0, 2.0, 3.0)),
                    ("ticket.prune_ratio", (0.5, 0.6, 0.7)))
  elif arg == "quick":
    c.train.num_steps, c.train.eval_every, c.train.ckpt_every = 200, 50, 100
    c.sweep.axes = (("seed", (0, 1)), ("optim.lr", (3e-3, 1e-2)),
                    ("ticket.prune_ratio", (0.6,)))
  else:
    c.sweep.axes = (("seed", (0, 1, 2, 3, 4)), ("optim.lr", (3e-4, 1e-3, 3e-3)),
                    ("optim.weight_decay", (0.1, 0.3, 1.0, 3.0)),
                    ("ticket.prune_ratio", (0.5, 0.6, 0.7)))
  return c
