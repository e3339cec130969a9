"""Norm-matched dense controls (paper Figs. 5a, 6) beside the grokked ticket.

Dense models from r_p * theta_0, r_p = ||theta_0 * m||_p / ||theta_0||_p (p = 1, 2;
m = the grokked mask at k = 0.6); curves of accuracy and of L1/L2 norms:

  python launch/main.py --config=configs/modadd_norm_controls.py
"""
from configs import modadd
from gtickets import experiments


def get_config(arg=None):
  c = modadd.ablation_config(arg)
  experiments.use(c, "norm_controls")
  c.ticket.variants = ("grokked", "l1_matched", "l2_matched")
  return c
