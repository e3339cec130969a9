"""Prints the fraction of each weight matrix a ticket phase's masks keep, per run.

  python launch/mask_fractions.py workdirs/mod_mul_transformer [PHASE]

PHASE is the folder holding ``masks/`` (default: tickets). Runs are listed as in
that folder's runs.json (variant, seed, prune ratio).
"""
import json
import os
import sys

import numpy as np

from gtickets.tickets import masks
from gtickets.training import checkpoints


def main(workdir, phase="tickets"):
  folder = os.path.join(workdir, phase)
  runs = json.load(open(os.path.join(folder, "runs.json")))["runs"]
  fractions = masks.kept_fractions(checkpoints.load_tree(os.path.join(folder, "masks")))
  names = sorted(fractions)
  if len(np.asarray(fractions[names[0]])) != len(runs):
    sys.exit(f"{folder}: masks hold {len(np.asarray(fractions[names[0]]))} runs, runs.json {len(runs)}")
  print("| run | variant | seed | k | " + " | ".join(names) + " |")
  print("| --- " * (4 + len(names)) + "|")
  for i, r in enumerate(runs):
    cells = " | ".join(f"{float(np.asarray(fractions[n])[i]):.2f}" for n in names)
    print(f"| {i} | {r['variant']} | {r['seed']} | {r['prune_ratio']} | {cells} |")


if __name__ == "__main__":
  if len(sys.argv) not in (2, 3):
    sys.exit(__doc__)
  main(*sys.argv[1:])
