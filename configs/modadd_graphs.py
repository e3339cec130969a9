"""Graph measures of masks (paper App. J/K).

Grokked (final weights), non-grokked (step 2,000), random, SNIP, GraSP and
SynFlow masks at k = 0.6 and the dense network, each as networkx graphs weighted
by theta_0 * mask: average path length, clustering, spectral and Ramanujan gaps
(gtickets/analysis/graphs.py says how the graphs are built). No training.

Reads the main experiment's workdir (workdirs/modadd, 5 seeds; its phases are
read back, or trained first if missing) and writes graphs.md / .json / .png there;
``python launch/report.py`` turns the JSON into the claims report's rows:

  python launch/main.py --config=configs/modadd_graphs.py
"""
from configs import modadd


def get_config(arg=None):
  return modadd.analysis_config(arg, "graphs")
