"""Critical prune ratio without weight decay (paper Sec. 4; the paper finds 0.81).

Grokked tickets (masks from the usual weight-decay base runs) retrained with
weight decay 0 at k = 0.1..0.9, then 0.01 steps above the largest k at which
every seed reaches the test threshold within 30k steps; the dense model at
weight decay 0 for comparison:

  python launch/main.py --config=configs/modadd_critical_ratio.py
"""
from configs import modadd
from gtickets import experiments


def get_config(arg=None):
  c = modadd.ablation_config(arg)
  experiments.use(c, "critical_ratio")
  c.ticket.variants = ("grokked",)
  return c
