"""Prune ratio (paper Fig. 3): grokked tickets at k = 0.1, 0.2, ..., 0.9.

All ratios and seeds train as one batched program. 10 seeds (0-9; :quick 3),
with their own dense base runs (workdirs/modadd_prune_ratio): the claim (C5)
compares mean tau_grok between neighbouring k, differences that sit inside the
seed-to-seed spread at 5 seeds:

  python launch/main.py --config=configs/modadd_prune_ratio.py
"""
from configs import modadd
from gtickets import experiments


def get_config(arg=None):
  c = modadd.ablation_config(arg)
  experiments.use(c, "prune_ratio")
  if arg != "quick":
    c.seeds = tuple(range(10))
    c.name = "modadd_prune_ratio"
  c.ticket.variants = ("grokked",)
  c.ticket.prune_ratios = tuple(round(0.1 * i, 1) for i in range(1, 10))
  return c
