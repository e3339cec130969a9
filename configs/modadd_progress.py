"""The Fourier circuit's progress measures for dense and tickets (issue 37; M1-M3).

Restricted and excluded loss (Nanda et al. 2023), the share of the embedding's Fourier
norm at its key frequencies and the weight norm, at steps 0 ... 30k, for the dense runs,
the grokked and random tickets and a non-grokked ticket (mask at step 2,000, the phase
``nongrokked`` it shares with configs/modadd_fourier.py), 5 seeds, replayed from the
main experiment's checkpoints (gtickets/experiments/progress.py):

  python launch/main.py --config=configs/modadd_progress.py

``:transformer``: the same for the Transformer row of (a + b) mod 67 (C10's
mod_add_transformer, 5 seeds, grokked tickets; random tickets in their own phase):

  python launch/main.py --config=configs/modadd_progress.py:transformer --workdir=workdirs/mod_add_transformer

``:quick``: the quick setup (2,000 steps).
"""
from configs import modadd, modular
from gtickets import experiments

VARIANTS = (None, "quick", "transformer")


def get_config(arg=None):
  if arg not in VARIANTS:
    raise ValueError(f"unknown config variant {arg!r}; known: {VARIANTS[1:]}")
  if arg == "transformer":
    c = experiments.use(modular.get_config("add,transformer"), "progress")
    c.ticket.variants = ("grokked",)
    return c
  c = modadd.analysis_config(arg, "progress")
  if arg == "quick":
    c.progress.steps = (0, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000)
    c.progress.nongrokked_mask_step = 200
  return c
