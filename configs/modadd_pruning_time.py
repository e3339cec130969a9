"""Pruning time (paper Fig. 4a): grokked tickets cut from many base checkpoints.

Masks (k = 0.6) from the base runs at every 200 steps up to 2000 (memorization
phase) and every 2000 steps to 30k, each rewound to theta_0 and retrained. Reuses
the dense base runs of workdirs/modadd_ablations (5 seeds) (missing early checkpoints are added by
training forward from step 0, not by retraining the base):

  python launch/main.py --config=configs/modadd_pruning_time.py
"""
from configs import modadd
from gtickets import experiments


def get_config(arg=None):
  c = modadd.ablation_config(arg)
  experiments.use(c, "pruning_time")
  c.ticket.variants = ("grokked",)
  t = c.train
  fine = max(t.eval_every, t.ckpt_every // 10)
  c.ticket.mask_steps = (tuple(range(fine, t.ckpt_every, fine))
                         + tuple(range(t.ckpt_every, t.num_steps + 1, t.ckpt_every)))
  return c
