"""Analyses of the networks' structure (paper Sec. 5, Figs. 4b and 7, App. J/K).

Pure functions over params and masks (pytrees; vmap them over a leading run
axis where it helps):

  jaccard  Jaccard distance between masks (how fast the magnitude mask moves)
  fourier  Fourier spectrum and entropy of the MLP's effective input weights
  graphs   the masked MLP as networkx graphs: path length, clustering, spectral
           and Ramanujan gaps

The experiments that run them over finished workdirs are
``gtickets/experiments/jaccard.py``, ``fourier.py`` and ``graphs.py``.
"""
