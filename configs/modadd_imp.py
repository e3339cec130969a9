"""Iterative magnitude pruning of grokked networks vs one-shot tickets (issue 27).

The main setup (5 seeds, 30k steps); from its dense base, IMP at rate 0.2 for 14
levels (95.6% removed), each level one phase of 10 runs (5 seeds x rewinding to step 0
and to step 200), and one-shot grokked tickets at the same sparsities
(experiments/imp.py). Tickets with weight decay 1, or without it (``:wd0``, the base
still with 1); both share the dense base in workdirs/modadd_imp:

  python launch/main.py --config=configs/modadd_imp.py
  python launch/main.py --config=configs/modadd_imp.py:wd0

``:quick`` / ``:quick_wd0``: the quick setup, 3 levels, rewinding to 0 and 50. More IMP
rates train side by side in each level: ``--config.imp.rates=(0.2,0.5)``.
"""
from configs import modadd
from gtickets import experiments

VARIANTS = (None, "wd0", "quick", "quick_wd0")


def get_config(arg=None):
  if arg not in VARIANTS:
    raise ValueError(f"unknown config variant {arg!r}; known: {VARIANTS[1:]}")
  quick = arg in ("quick", "quick_wd0")
  c = experiments.use(modadd.get_config("quick" if quick else None), "imp")
  c.name = "modadd_imp" + ("_quick" if quick else "")
  c.ticket.variants = ("imp",)
  if arg in ("wd0", "quick_wd0"):
    c.imp.weight_decay = 0.0
  if quick:
    c.imp.levels, c.imp.rewind_steps = 3, (0, 50)
  return c
