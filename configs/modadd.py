"""Grokked tickets on (a + b) mod 67 with the paper's MLP (the main experiment).

Dense base runs (5 seeds, 30k full-batch AdamW steps), then grokked tickets
(k = 0.6 magnitude masks from the final checkpoint, rewound to init) and
random-pruning tickets at the same k, all retrained for 30k steps:

  python launch/main.py --config=configs/modadd.py --workdir=workdirs/modadd

A cheap variant that still shows the effect, in 21 s on 2 cores: the paper's task
(p = 67, unordered pairs) with 60% of the pairs for training, an embedding of 128 (not
500), lr 3e-3 and 2,000 steps (evaluated every 50). Its dense runs grok (test accuracy
0.95 at steps 950 / 950 / 900 on seeds 0-2), its grokked tickets reach it at 350 / 150 /
400 (2.3-6.3x sooner), its random tickets not within the 2,000 steps:

  python launch/main.py --config=configs/modadd.py:quick --workdir=workdirs/quick
"""
from gtickets.config import default_config


def get_config(arg=None):
  c = default_config()
  c.seeds = (0, 1, 2, 3, 4)
  if arg == "quick":
    c.seeds = (0, 1, 2)
    c.name = "modadd_quick"
    c.task.train_fraction = 0.6
    c.model.d_embed = 128
    c.optim.lr = 3e-3
    c.train.num_steps = 2_000
    c.train.eval_every = 50
    c.train.ckpt_every = 500
  elif arg:
    raise ValueError(f"unknown config variant {arg!r}; known: 'quick'")
  return c


def ablation_config(arg=None):
  """What the ablations (configs/modadd_*.py) start from: the main setup at 5
  seeds (0-4; :quick 3), sharing the dense base runs of workdirs/modadd_ablations."""
  c = get_config(arg)
  c.name = "modadd_ablations" + ("_quick" if arg == "quick" else "")
  return c


def analysis_config(arg, experiment):
  """The structural analyses (configs/modadd_jaccard.py, _fourier.py, _graphs.py):
  the main setup and workdir, ``experiment`` in it; :quick with steps that fit
  its 2,000."""
  from gtickets import experiments
  c = experiments.use(get_config(arg), experiment)
  if arg == "quick" and experiment == "jaccard":
    c.jaccard.every, c.jaccard.from_step = 100, 200
  if arg == "quick" and experiment == "fourier":
    f = c.fourier
    f.nongrokked_mask_step, f.early_step = 200, 100
    f.steps, f.heatmap_steps = (0, 50, 100, 200, 400, 1000, 2000), (0, 100, 2000)
  if arg == "quick" and experiment == "graphs":
    c.graphs.nongrokked_mask_step = 200
  return c
