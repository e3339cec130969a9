"""pai: random, SNIP, GraSP and SynFlow masks at the ticket's k (paper Fig. 5b; claim C3).

  python launch/main.py --config=configs/modadd_pai.py
"""
from gtickets.experiment.claims import ABLATIONS, claim, no_faster_than_dense
from gtickets.experiment.registry import experiment
from gtickets.experiments.main import run_with_curves


@experiment("pai", )
def run(config, workdir):
  return run_with_curves(config, workdir)


@claim("C3", "Random and pruning-at-initialization masks (SNIP, GraSP, SynFlow) of the same "
       "sparsity are no faster than the dense model (Fig. 5b)", [ABLATIONS],
       "python launch/main.py --config=configs/modadd_pai.py", "pai")
def pai_masks(root, figures):
  return no_faster_than_dense(root[ABLATIONS], "pai", ("random", "snip", "grasp", "synflow"),
                               figures, "claim_c3.png")
