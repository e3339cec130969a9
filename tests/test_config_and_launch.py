import json
import os
import subprocess
import sys

import pytest

from gtickets.config import ConfigError, default_config
from gtickets.experiments import validate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--config.seeds=(0,1)", "--config.task.p=11", "--config.model.d_embed=16",
        "--config.model.d_hidden=8", "--config.train.num_steps=40",
        "--config.train.eval_every=10", "--config.train.ckpt_every=20"]


def launch(*args, workdir):
  return subprocess.run(
      [sys.executable, os.path.join(ROOT, "launch", "main.py"), *args,
       f"--workdir={workdir}", "--progress=false"],
      capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize("field,value,words", [
    ("matmul_precision", "fp16", "must be one of"),
    ("task.operation", "pow", "must be one of"),
    ("task.p", 1, ">= 2"),
    ("task.p", 12, "prime"),  # with operation div, set below
    ("task.train_fraction", 1.0, "(0, 1)"),
    ("task.train_fraction", 0.0, "(0, 1)"),
    ("task.pairs", "some", "must be one of"),
    ("ticket.prune_ratios", (0.5, 1.0), "[0, 1)"),
    ("ticket.prune_ratios", (-0.1,), "[0, 1)"),
    ("ticket.scope", "neuron", "must be one of"),
    ("ticket.variants", ("grokked", "obd"), "each one of"),
    ("ticket.mask_steps", (3050,), "multiple of train.eval_every"),
    ("ticket.mask_steps", (40000,), "multiple of train.eval_every"),
    ("experiment", "nope", "must be one of"),
    ("ticket.variants", ("grokked", "grokked"), "distinct"),
    ("variants.grasp.temperature", 0.0, "must be > 0"),
    ("variants.synflow.rounds", 0, "must be a positive integer"),
    ("train.num_steps", 0, "positive integer"),
    ("train.eval_every", -5, "positive integer"),
    ("train.ckpt_every", 150, "multiple of train.eval_every"),
    ("train.num_steps", 30050, "multiple of train.eval_every"),
    ("task.train_fraction", 0.0002, "0 of the 2211 examples for training"),
    ("task.train_fraction", 0.9999, "0 for testing"),
    ("seeds", (0, 2 ** 32), "[0, 2^32)"),
    ("task.data_seed", -2, "or -1 (each run's split drawn from its own seed)"),
    ("optim.eps", -1.0, "must be > 0"),
    ("optim.lr", float("nan"), "must be finite"),
    ("optim.weight_decay", float("inf"), "must be finite"),
    ("optim.grokfast_lamb", float("nan"), "must be finite"),
    ("ticket.prune_ratios", (0.6, 0.6), "must not repeat a value"),
    ("ticket.mask_steps", (-1, 30000), "must not repeat a value"),
    ("name", "..", "must be a folder name"),
    ("name", "a/b", "must be a folder name"),
    ("task.p", 10 ** 6, "must be <= 5000"),
])
def test_invalid_values_name_the_field(field, value, words):
  c = default_config()
  if field == "task.p" and value == 12:
    c.task.operation = "div"
  *sections, name = field.split(".")
  node = c
  for part in sections:
    node = node[part]
  node[name] = value
  with pytest.raises(ConfigError) as e:
    validate(c)
  msg = str(e.value)
  assert f"config.{field}=" in msg and words in msg and "\n" not in msg


def test_an_experiment_s_section_lives_only_in_its_configs():
  from gtickets import experiments
  c = default_config()
  assert not any(name in c for name in experiments.EXPERIMENTS)  # no experiment's section
  c.experiment = "jaccard"
  with pytest.raises(ConfigError, match=r"config.experiment='jaccard' is invalid: its settings "
                     r"config.jaccard are missing: start the config file with "
                     r"gtickets.experiments.use\(config, 'jaccard'\)"):
    experiments.validate(c)
  c = experiments.use(default_config(), "jaccard")
  assert c.jaccard.every == 500 and experiments.validate(c) is c
  c.experiment = "main"
  with pytest.raises(ConfigError, match="config.jaccard=.* is the section of experiment "
                     "'jaccard', not of 'main'"):
    experiments.validate(c)


def test_a_sweep_refuses_a_split_per_seed():
  from gtickets import experiments
  c = experiments.use(default_config(), "sweep")
  c.task.data_seed = -1
  c.sweep.axes = (("seed", (0, 1)),)
  with pytest.raises(ConfigError, match="config.task.data_seed=-1 is invalid: a sweep trains"):
    experiments.validate(c)


def test_a_split_without_test_examples_is_a_config_error():
  c = default_config()
  c.task.p = 2  # one pair (1, 0): nothing is left to test on
  with pytest.raises(ConfigError, match="config.task.train_fraction=0.4 is invalid: leaves "
                     "0 of the 1 examples for training and 1 for testing"):
    validate(c)


def test_defaults_are_valid_and_the_papers():
  c = validate(default_config())
  assert (c.task.p, c.task.train_fraction, c.optim.lr, c.optim.weight_decay) == (
      67, 0.4, 1e-3, 1.0)
  assert (c.optim.b1, c.optim.b2, c.train.num_steps, c.ticket.prune_ratios) == (
      0.9, 0.98, 30000, (0.6,))


@pytest.mark.parametrize("args,words", [
    (["--config.task.operation=pow"], "config.task.operation='pow' is invalid"),
    (["--config.task.operatoin=add"], "unknown field config.task.operatoin"),
    (["--config.ticket.prune_ratios=(1.5,)"], "config.ticket.prune_ratios"),
    (["--config.train.ckpt_every=150"], "config.train.ckpt_every=150"),
])
def test_launcher_rejects_bad_config_in_one_line(args, words, tmp_path):
  r = launch("--config=configs/modadd.py", *args, workdir=tmp_path / "w")
  assert r.returncode != 0
  lines = r.stderr.strip().splitlines()
  assert len(lines) == 1 and words in lines[0], r.stderr
  assert "Traceback" not in r.stderr and not (tmp_path / "w").exists()


def test_tiny_end_to_end_launch_writes_summary_and_resumes(tmp_path):
  work = tmp_path / "w"
  r = launch("--config=configs/modadd.py:quick", *TINY, workdir=work)
  assert r.returncode == 0, r.stderr[-2000:]
  s = json.loads((work / "summary.json").read_text())
  table = {row["variant"]: row for row in s["table"]}
  assert set(table) == {"dense", "grokked", "random"}
  assert all(row["n_runs"] == 2 for row in table.values())
  runs = s["runs"]["tickets"]
  assert [(x["variant"], x["seed"], x["prune_ratio"]) for x in runs] == [
      ("grokked", 0, 0.6), ("grokked", 1, 0.6), ("random", 0, 0.6), ("random", 1, 0.6)]
  assert all(0 <= x["final_test_acc"] <= 1 for x in runs)
  assert (work / "curves.png").stat().st_size > 10_000
  assert json.loads((work / "config.json").read_text())["task"]["p"] == 11
  assert "| dense" in r.stdout and "| grokked" in r.stdout
  # the same command again reads the finished phases back: same table, no training
  mtime = (work / "dense" / "curves.npz").stat().st_mtime
  r2 = launch("--config=configs/modadd.py:quick", *TINY, workdir=work)
  assert r2.returncode == 0
  assert json.loads((work / "summary.json").read_text())["table"] == s["table"]
  assert (work / "dense" / "curves.npz").stat().st_mtime == mtime
  # the launch record's command pastes into bash as the same words ("(0,1)" quoted)
  record = json.loads((work / "launches.jsonl").read_text().splitlines()[-1])
  assert record["command"].startswith("python launch/main.py ")
  words = subprocess.run(["bash", "-c", "printf '%s\\n' " + record["command"]],
                         capture_output=True, text=True, check=True).stdout.splitlines()
  assert words == ["python", "launch/main.py", "--config=configs/modadd.py:quick", *TINY]
  # on a CPU the launcher splits the cores it may use into as many host devices
  if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    assert record["machine"]["device_count"] == len(os.sched_getaffinity(0))


def test_model_must_read_what_the_task_gives():
  c = default_config(task="parity", model="mlp")
  with pytest.raises(ConfigError, match="reads tokens but task 'parity' gives features.*feature_mlp"):
    validate(c)
  validate(default_config(task="parity", model="feature_mlp"))
  validate(default_config(model="transformer"))


def test_task_named_on_the_command_line_without_its_fields_is_refused():
  c = default_config()
  c.task.name = "polynomial"   # still the modular task's fields
  with pytest.raises(ConfigError, match="config.task.name='polynomial'.*default_config"):
    validate(c)


@pytest.mark.parametrize("on,threshold,ok", [
    ("accuracy", 0.95, True), ("accuracy", 1.5, False), ("loss", 1.5, True),
    ("loss", 0.0, False), ("auc", 0.5, False)])
def test_threshold_depends_on_what_it_is_on(on, threshold, ok):
  c = default_config()
  c.threshold_on, c.threshold = on, threshold
  if ok:
    validate(c)
  else:
    with pytest.raises(ConfigError, match="config.threshold"):
      validate(c)


def test_launcher_names_missing_mnist_files_before_making_a_workdir(tmp_path):
  r = launch("--config=configs/mnist.py:quick", f"--config.task.data_dir={tmp_path}/none",
             workdir=tmp_path / "w")
  assert r.returncode != 0
  lines = r.stderr.strip().splitlines()
  assert len(lines) == 1 and "train-images-idx3-ubyte.gz" in lines[0] and "not found" in lines[0]
  assert not (tmp_path / "w").exists()


# The pipeline, bottom to top: a package imports only from packages before it (and
# from the shared helpers). config validates every section with the registries below
# the experiment layer.
LAYERS = ("tasks", "models", "training", "tickets", "analysis", "config", "experiment",
          "experiments", "commands")
HELPERS = ("checks", "storage", "distributed", "identity", "signals")


def test_each_package_imports_only_from_the_layers_below():
  import ast
  pkg_root = os.path.join(ROOT, "gtickets")
  for dirpath, _, files in os.walk(pkg_root):
    for f in files:
      if not f.endswith(".py"):
        continue
      path = os.path.join(dirpath, f)
      rel = os.path.relpath(path, pkg_root).split(os.sep)
      layer = rel[0] if len(rel) > 1 else rel[0][:-3]
      if layer not in LAYERS:
        continue
      below = set(LAYERS[:LAYERS.index(layer) + 1]) | set(HELPERS)
      for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gtickets"):
          parts = node.module.split(".")
          target = parts[1] if len(parts) > 1 else node.names[0].name
          assert target in below, f"gtickets/{'/'.join(rel)} imports gtickets.{target}"


def test_config_layer_imports_nothing_from_the_experiment_layer():
  code = ("import sys, gtickets.config, gtickets.training.trainer, gtickets.tickets.pai; "
          "print(sorted(m for m in sys.modules if m.startswith('gtickets.experiment')))")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       check=True).stdout.strip()
  assert out == "[]"


def test_a_config_file_cannot_add_fields(tmp_path):
  (tmp_path / "typo.py").write_text(
      "from gtickets.config import default_config\n"
      "def get_config(arg=None):\n  c = default_config()\n  c.optim.lrr = 0.01\n  return c\n")
  r = launch(f"--config={tmp_path / 'typo.py'}", workdir=tmp_path / "w")
  assert r.returncode != 0 and r.stderr.strip().splitlines() == [
      "config error: config.optim.lrr=0.01 is invalid: is not a field of optim (a typo?); its "
      "fields are ['b1', 'b2', 'eps', 'grokfast', 'grokfast_alpha', 'grokfast_lamb', "
      "'grokfast_ma_lamb', 'grokfast_window', 'lr', 'perpendicular', 'perpendicular_rescale', "
      "'weight_decay']"]
  assert not (tmp_path / "w").exists()


def test_memory_is_estimated_before_anything_compiles():
  from gtickets.experiment.setup import make_setup
  from gtickets.experiment.pipeline import memory_estimate
  c = default_config()
  c.seeds = tuple(range(10_000))
  need, what = memory_estimate(make_setup(c))
  assert need > 80 * 2 ** 30 and what.startswith("20,000 runs x ")
