"""Fourier entropy of the input weights over training (paper Fig. 7; claim C7).

The effective input weights W = embed @ w_in (masked) of the dense runs, the
grokked and random tickets and a non-grokked ticket (mask at step 2,000, its own
phase `nongrokked`, 5 runs of 30k steps) at steps 0 ... 30k; entropy curves and
heatmaps of W and its spectrum.

Reads the main experiment's workdir (workdirs/modadd, 5 seeds; its phases are
read back, or trained first if missing) and writes fourier.md / .json / .png there;
``python launch/report.py`` turns the JSON into the claims report's rows:

  python launch/main.py --config=configs/modadd_fourier.py
"""
from configs import modadd


def get_config(arg=None):
  return modadd.analysis_config(arg, "fourier")
