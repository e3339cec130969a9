"""The README's recipes, followed from outside the package: a toy task, a toy mask
variant with a setting and a toy experiment with a claim, each a module in a temporary
folder exactly as the recipes say, launched at tiny size by launch/main.py, and the
claim found measured in a report written to a temporary folder by launch/report.py."""
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parents[1]

TOY_TASK = '''"""Toy task: the sign of the sum of a few features (2 classes)."""
import sys

import ml_collections
import numpy as np

from gtickets import checks, tasks
from gtickets.tasks import cross_entropy
from gtickets.tasks.base import Task, argmax_accuracy

INPUT_KIND, SCORE, LOSS = "features", "accuracy", "cross_entropy"


def default_config():
  c = ml_collections.ConfigDict()
  c.name = "toy_sign"
  c.dim = 6
  c.num_train = 96
  c.num_test = 96
  c.data_seed = 0
  return c


NEUTRAL = {"dim": 6, "num_train": 96, "num_test": 96, "data_seed": 0}


def describe(c):
  return f"toy sign ({c.dim} features)"


def check(c):
  yield from checks.positive_ints(c, "dim", "num_train", "num_test")


def make_task(config, cross_entropy_mode="exact"):
  rng = np.random.default_rng(config.data_seed)
  x = rng.normal(size=(config.num_train + config.num_test, config.dim)).astype(np.float32)
  y = (x[:, :3].sum(axis=1) > 0).astype(np.int32)
  n = config.num_train
  return Task(name="toy_sign", x_train=x[:n], y_train=y[:n], x_test=x[n:], y_test=y[n:],
              num_outputs=2, loss=cross_entropy.loss(cross_entropy_mode),
              cross_entropy_mode=cross_entropy_mode, accuracy=argmax_accuracy,
              input_kind=INPUT_KIND)


tasks.register(sys.modules[__name__])
'''

TOY_VARIANT = '''"""Toy variant: a random mask, kept weights scaled by its own setting ``scale``."""
import jax
import jax.numpy as jnp

from gtickets.tickets import masks
from gtickets.tickets.variants import variant


@variant("toy_scaled", settings={"scale": 1.0},
         check=lambda s: None if s["scale"] > 0 else ("scale", "must be > 0"))
def toy_scaled(g):
  keys = jax.vmap(jax.random.key)(jnp.asarray([r["seed"] for r in g.runs], jnp.uint32))
  cut = jax.vmap(lambda key, w, k: masks.random_mask(key, w, k, g.scope, g.prunable))
  return jax.tree.map(lambda w: g.settings["scale"] * w, g.theta), cut(keys, g.theta, g.ks)
'''

TOY_EXPERIMENT = '''"""Toy experiment: dense runs, then grokked and toy_scaled tickets; claim X1."""
import ml_collections

from gtickets import config as config_lib
from gtickets.experiment import report
from gtickets.experiment.claims import Finding, claim
from gtickets.experiment.pipeline import Tickets, run_main
from gtickets.experiment.registry import experiment


def section():
  c = ml_collections.ConfigDict()
  c.min_acc = 0.75  # the claim's bar
  return c


def check(config):
  if not 0 < config.toy.min_acc <= 1:
    config_lib.fail("toy.min_acc", config.toy.min_acc, "must be in (0, 1]")


@experiment("toy", section, check)
def run(config, workdir):
  dense, tickets = run_main(config, workdir, Tickets("toy"))
  return report.write_summary(workdir.path, [dense, tickets], config, name="toy"), [
      "toy.md", "toy.json"]


@claim("X1", "Toy: a scaled random ticket fits the toy task", ["toy"],
       "python launch/main.py --config=toy_config.py", "toy")
def toy_fits(root, figures):
  rows = [r for r in root["toy"].phase("toy").rows() if r["variant"] == "toy_scaled"]
  worst = min(r["final_train_acc"] for r in rows)
  return Finding(f"worst final train acc {worst:.2f} over {len(rows)} runs",
                 "agrees" if worst >= 0.75 else "no", "worst >= 0.75: agrees")
'''

TOY_CONFIG = '''"""The toy experiment at tiny size."""
import toy_experiment  # noqa: F401  (registers the experiment and its claim)
import toy_task  # noqa: F401  (registers the task)
import toy_variant  # noqa: F401  (registers the variant and its setting)
from gtickets import experiments
from gtickets.config import default_config


def get_config(arg=None):
  c = experiments.use(default_config(task="toy_sign", model="feature_mlp"), "toy")
  c.name, c.seeds = "toy", (0, 1)
  c.model.hidden = (32,)
  c.optim.lr, c.optim.weight_decay = 1e-2, 0.1
  c.ticket.variants = ("grokked", "toy_scaled")
  c.ticket.prune_ratios = (0.3,)
  c.variants.toy_scaled.scale = 0.5
  c.train.num_steps, c.train.eval_every, c.train.ckpt_every = 200, 50, 100
  return c
'''


def test_a_task_a_variant_and_an_experiment_added_from_outside(tmp_path):
  ext = tmp_path / "ext"
  ext.mkdir()
  for name, text in (("toy_task", TOY_TASK), ("toy_variant", TOY_VARIANT),
                     ("toy_experiment", TOY_EXPERIMENT), ("toy_config", TOY_CONFIG)):
    (ext / f"{name}.py").write_text(text)
  env = {**os.environ, "PYTHONPATH": f"{ext}{os.pathsep}{ROOT}"}
  config = f"--config={ext / 'toy_config.py'}"
  run = lambda *a: subprocess.run([sys.executable, *a], capture_output=True, text=True,
                                  cwd=ROOT, env=env, timeout=600)
  # a wrong setting of the toy variant: one line before anything is trained
  bad = run("launch/main.py", config, "--config.variants.toy_scaled.scale=-1.0",
            f"--workdir={tmp_path / 'workdirs' / 'toy'}")
  assert bad.returncode != 0 and bad.stderr.strip().splitlines() == [
      "config error: config.variants.toy_scaled.scale=-1.0 is invalid: must be > 0"]
  assert not (tmp_path / "workdirs" / "toy").exists()
  out = run("launch/main.py", config, f"--workdir={tmp_path / 'workdirs' / 'toy'}",
            "--noprogress")
  assert out.returncode == 0, out.stderr[-3000:]
  runs = json.loads((tmp_path / "workdirs" / "toy" / "toy" / "runs.json").read_text())
  assert runs["identity"]["variants.toy_scaled.scale"] == 0.5
  assert runs["identity"]["task.name"] == "toy_sign"
  assert sorted({r["variant"] for r in runs["runs"]}) == ["grokked", "toy_scaled"]
  (tmp_path / "jobs.txt").write_text(f"toy {config}\n")
  (tmp_path / "none.txt").write_text("")
  rep = run("launch/report.py", f"--workdirs={tmp_path / 'workdirs'}",
            f"--results={tmp_path / 'results'}", f"--docs={tmp_path / 'docs'}", "--readme=",
            f"--jobs={tmp_path / 'none.txt'}", f"--claims_jobs={tmp_path / 'jobs.txt'}",
            "--compare=")
  assert rep.returncode == 0, rep.stderr[-3000:]
  md = (tmp_path / "docs" / "claims.md").read_text()
  section = md[md.index("## X1"):]
  assert "**Measured:** worst final train acc" in section and "**Verdict:** agrees" in section
  assert (tmp_path / "results" / "toy" / "toy" / "summary.json").exists()
