"""Mask Jaccard distance over training (paper Fig. 4b; claim C6).

Magnitude masks (k = 0.6) of the dense runs every 500 steps (the missing
checkpoints are added by training forward), the Jaccard distance between
consecutive ones and to the final mask, beside test accuracy.

Reads the main experiment's workdir (workdirs/modadd, 5 seeds; its phases are
read back, or trained first if missing) and writes jaccard.md / .json / .png there;
``python launch/report.py`` turns the JSON into the claims report's rows:

  python launch/main.py --config=configs/modadd_jaccard.py
"""
from configs import modadd


def get_config(arg=None):
  return modadd.analysis_config(arg, "jaccard")
