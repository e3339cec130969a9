"""Pruning at initialization (paper Fig. 5b) at the grokked ticket's k = 0.6.

Random, SNIP, GraSP and SynFlow (100 rounds) masks from theta_0, trained like
the ticket, beside the grokked ticket and the dense base:

  python launch/main.py --config=configs/modadd_pai.py
"""
from configs import modadd
from gtickets import experiments


def get_config(arg=None):
  c = modadd.ablation_config(arg)
  experiments.use(c, "pai")
  c.ticket.variants = ("grokked", "random", "snip", "grasp", "synflow")
  return c
