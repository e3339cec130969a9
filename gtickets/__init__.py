"""gtickets: grokked lottery tickets in JAX (Minegishi et al., arXiv 2310.19470).

The pipeline reads top to bottom in the package layout:
``tasks`` (data) -> ``models`` (Flax modules) -> ``training`` (batched, scanned
training programs and measures) -> ``tickets`` (masks, pruning, orbax checkpoints)
-> ``experiment`` (phases of runs with resume, reports and figures).
"""

__version__ = "0.1.0"
