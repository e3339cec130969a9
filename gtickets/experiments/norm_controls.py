"""norm_controls: dense from r_p * theta_0, p = 1, 2 (paper Figs. 5a, 6; claim C4).

The ``l1_matched`` / ``l2_matched`` variants: dense models started from theta_0
scaled to the grokked ticket's L1 or L2 norm.

  python launch/main.py --config=configs/modadd_norm_controls.py
"""
from gtickets.experiment.claims import ABLATIONS, claim, no_faster_than_dense
from gtickets.experiment.registry import experiment
from gtickets.experiments.main import run_with_curves


@experiment("norm_controls", )
def run(config, workdir):
  return run_with_curves(config, workdir, norms=True)


@claim("C4", "Dense models started from theta_0 scaled to the ticket's L1 or L2 norm are no "
       "faster than the dense model, much slower than the ticket (Figs. 5a, 6)", [ABLATIONS],
       "python launch/main.py --config=configs/modadd_norm_controls.py", "norm_controls")
def norm_matched_dense(root, figures):
  return no_faster_than_dense(root[ABLATIONS], "norm_controls", ("l1_matched", "l2_matched"),
                               figures, "claim_c4.png", norms=True)
