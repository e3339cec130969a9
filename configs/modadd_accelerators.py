"""What makes (a + b) mod 67 grok soonest, and does a ticket add to it? (issue 15)

The main experiment's dense runs and grokked / random tickets (5 seeds, read back
from workdirs/modadd), dense runs with Grokfast-EMA, Grokfast-MA, StableMax and
the perpendicular gradient (with and without weight decay), and grokked tickets
trained with Grokfast-EMA, all on the same seeds (experiments/accelerators.py):

  python launch/main.py --config=configs/modadd_accelerators.py --workdir=workdirs/modadd

Writes accelerators.md / .json / .png in the workdir.
"""
from configs import modadd
from gtickets import experiments


def get_config(arg=None):
  c = modadd.get_config(arg)
  experiments.use(c, "accelerators")
  return c
