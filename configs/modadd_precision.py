"""Where the loss's precision matters (issue 10): base phase x ticket phase.

Dense base runs trained with the float32 and with the exact cross-entropy
(gtickets/tasks/cross_entropy.py); from each, grokked tickets (k = 0.6, final
mask, rewound to theta_0) retrained with each of the two: a 2 x 2 grid at
5 seeds. Is it the mask cut from float32-trained weights, or the ticket's own
training in float32, that mutes the speed-up?

  python launch/main.py --config=configs/modadd_precision.py
"""
from configs import modadd
from gtickets import experiments


def get_config(arg=None):
  c = modadd.ablation_config(arg)
  c.name = "modadd_precision" + ("_quick" if arg == "quick" else "")
  experiments.use(c, "precision")
  c.ticket.variants = ("grokked",)
  c.precision.modes = ("float32", "exact")
  return c
