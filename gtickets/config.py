"""The experiment config: defaults (the paper's main setup) and validation.

``default_config()`` is the one schema every ``configs/*.py`` starts from; the
launcher locks it, so an unknown field is an error. ``validate`` checks values
before anything is compiled and raises :class:`ConfigError` with one line that
names the field and what is allowed.
"""
import math
import re

import ml_collections

from gtickets import models, tasks
from gtickets.tasks.cross_entropy import MODES as CROSS_ENTROPY_MODES
from gtickets.tickets import variants
from gtickets.tickets.masks import SCOPES


MATMUL_PRECISIONS = ("default", "high", "highest")
THRESHOLD_ON = ("accuracy", "loss")


class ConfigError(ValueError):
  """An invalid config value; the message is one line naming the field."""


def default_config(task="modular", model="mlp"):
  """The paper's main setup, with the default fields of the named task and model."""
  c = ml_collections.ConfigDict()
  c.name = "modadd"            # default workdir: workdirs/<name>
  c.experiment = "main"        # one of gtickets/experiments/ (experiments.use adds its section)
  c.seeds = (0, 1, 2)          # one base run per seed; the seed drives the init
  c.threshold = 0.95           # threshold for t_mem and t_gen ...
  c.threshold_on = "accuracy"  # ... on accuracy (reach >=) or "loss" (reach <=)
  # float32 matmuls at full precision: GPUs would otherwise use TF32 (10-bit
  # mantissa), which the paper's PyTorch code does not; "default" is faster.
  c.matmul_precision = "highest"

  c.task = tasks.default_config(task)    # fields: gtickets/tasks/<task>.py
  c.model = models.default_config(model)  # fields: gtickets/models/<model>.py

  c.optim = ml_collections.ConfigDict()
  c.optim.lr = 1e-3
  c.optim.b1 = 0.9
  c.optim.b2 = 0.98
  c.optim.eps = 1e-8
  c.optim.weight_decay = 1.0
  # grokking accelerators placed before AdamW (gtickets/training/accelerators.py)
  c.optim.grokfast = ""             # "", "ema" or "ma" (Lee et al. 2024)
  c.optim.grokfast_alpha = 0.98     # EMA: mu = alpha mu + (1 - alpha) g
  c.optim.grokfast_lamb = 2.0       # EMA: g + lamb mu
  c.optim.grokfast_window = 100     # MA: mean of the last window gradients ...
  c.optim.grokfast_ma_lamb = 5.0    # ... added times this once the window is full
  c.optim.perpendicular = False     # perpendicular gradient (Prieto et al. 2025)
  c.optim.perpendicular_rescale = True  # ... rescaled to the norm of the gradient

  c.train = ml_collections.ConfigDict()
  c.train.num_steps = 30_000   # full-batch steps (one step = one epoch)
  c.train.eval_every = 100
  c.train.ckpt_every = 2_000
  c.train.batch_size = 0       # 0: full batch; else minibatches, reshuffled each epoch
  c.train.batch_seed = 0       # the minibatch order (the same for every run)
  # runs vmapped together on a device: -1 = by backend (1 on a CPU: one run after
  # another, faster there; 0 on a GPU/TPU: all at once); training/trainer.py
  c.train.vmap_runs = -1
  # cross-entropy of classification tasks: "exact" (float32, accurate at any
  # margin), "float64" (the authors' log-softmax), "float32" (collapses after
  # memorization); see gtickets/tasks/cross_entropy.py. MSE tasks ignore it.
  c.train.cross_entropy = "exact"

  # The tickets cut from each base run (experiment/pipeline.py; an experiment may cut
  # others, e.g. with weight decay 0, through its own section).
  c.ticket = ml_collections.ConfigDict()
  c.ticket.variants = ("grokked", "random")  # see gtickets/tickets/variants.py
  c.ticket.prune_ratios = (0.6,)  # k = fraction of weights REMOVED
  c.ticket.scope = "global"       # magnitude ranking over all matrices, or "layer"
  c.ticket.mask_steps = (-1,)     # base checkpoints masks are cut from; -1 = final
  c.ticket.rewind_step = 0        # base checkpoint the kept weights are rewound to

  # each variant's own settings (``config.variants.<name>.<setting>``), declared with
  # the variant: grasp.temperature, synflow.rounds
  c.variants = variants.default_config()
  return c


# The neutral value of each field this module declares (identity.py): the value that
# reproduces what the code did before the field existed; it never changes (change the
# default above instead). Several differ from today's defaults.
NEUTRAL = {
    "seeds": [0, 1, 2], "matmul_precision": "highest",
    "optim.lr": 0.001, "optim.b1": 0.9, "optim.b2": 0.98, "optim.eps": 1e-08,
    "optim.weight_decay": 1.0, "optim.grokfast": "", "optim.grokfast_alpha": 0.98,
    "optim.grokfast_lamb": 2.0, "optim.grokfast_window": 100, "optim.grokfast_ma_lamb": 5.0,
    "optim.perpendicular": False, "optim.perpendicular_rescale": True,
    "train.num_steps": 30000, "train.eval_every": 100, "train.ckpt_every": 2000,
    "train.batch_size": 0, "train.batch_seed": 0, "train.vmap_runs": 0,
    "train.cross_entropy": "exact",
    "ticket.variants": ["grokked", "random"], "ticket.prune_ratios": [0.6],
    "ticket.scope": "global", "ticket.mask_steps": [-1], "ticket.rewind_step": 0,
}


def neutral(c):
  """Every declared field's neutral value for config ``c``: this module's, its task's
  and model's (their modules'), and every variant setting's."""
  return {**NEUTRAL, **tasks.neutral(c.task.name), **models.neutral(c.model.name),
          **variants.neutral()}


def _same_fields(fail, section, got, want):
  """A task or model section must carry exactly its module's fields."""
  if set(got.keys()) != set(want.keys()):
    fail(f"{section}.name", got.name,
         f"its fields are {sorted(want.keys())}, this config has {sorted(got.keys())}: "
         f"choose the {section} in the config file with default_config({section}=...)")


def fail(field, value, allowed):
  """Raises the one-line ConfigError naming ``config.<field>``."""
  raise ConfigError(f"config.{field}={value!r} is invalid: {allowed}")


def validate(c):
  """Raises ConfigError on the first invalid field; returns the config.

  Checks every field this layer and the layers below define (tasks, models,
  training, masks). The names defined above it, ``experiment`` and
  ``ticket.variants``, are checked by ``gtickets.experiments.validate``, which
  calls this first: the config module imports nothing from the experiment layer.
  """
  for check in (_check_finite, _check_run, _check_task_and_model, _check_optim, _check_train,
                _check_ticket):
    check(c)
  return c


def _check_finite(c, prefix=""):
  """Every number of the config (any section) is finite."""
  for key, value in c.items():
    if hasattr(value, "items"):
      _check_finite(value, f"{prefix}{key}.")
    values = value if isinstance(value, (tuple, list)) else (value,)
    if any(isinstance(v, float) and not math.isfinite(v) for v in values):
      fail(f"{prefix}{key}", value, "must be finite (not nan or inf)")


def distinct(field, values, shown=None):
  """Fails if ``values`` (a run-defining tuple) repeats an entry."""
  if len(set(values)) != len(values):
    fail(field, values if shown is None else shown,
         "must not repeat a value (each would be a duplicate run)")


def _positive_int(field, value):
  if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
    fail(field, value, "must be a positive integer")


def _check_run(c):
  """Seeds, name, threshold and matmul precision."""
  if not c.seeds or len(set(c.seeds)) != len(c.seeds) or any(
      not isinstance(s, int) or isinstance(s, bool) or not 0 <= s < 2 ** 32 for s in c.seeds):
    fail("seeds", c.seeds, "must be a non-empty tuple of distinct integers in [0, 2^32)")
  if not isinstance(c.name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", c.name):
    fail("name", c.name, "must be a folder name: letters, digits, '_', '.', '-', "
         "starting with a letter or digit")
  if c.threshold_on not in THRESHOLD_ON:
    fail("threshold_on", c.threshold_on, f"must be one of {THRESHOLD_ON}")
  if c.threshold_on == "accuracy" and not 0 < c.threshold <= 1:
    fail("threshold", c.threshold, "must be in (0, 1] for threshold_on='accuracy'")
  if c.threshold_on == "loss" and not c.threshold > 0:
    fail("threshold", c.threshold, "must be > 0 for threshold_on='loss'")
  if c.matmul_precision not in MATMUL_PRECISIONS:
    fail("matmul_precision", c.matmul_precision, f"must be one of {MATMUL_PRECISIONS}")


def _check_task_and_model(c):
  """The task and model sections, each by its module, and that they fit."""
  if c.task.name not in tasks.MODULES:
    fail("task.name", c.task.name, f"must be one of {tuple(tasks.MODULES)}")
  _same_fields(fail, "task", c.task, tasks.MODULES[c.task.name].default_config())
  ds = c.task.data_seed
  if not isinstance(ds, int) or isinstance(ds, bool) or not -1 <= ds < 2 ** 32:
    fail("task.data_seed", ds, "must be an integer in [0, 2^32) (one split for every run) "
         "or -1 (each run's split drawn from its own seed)")
  for field, value, allowed in tasks.MODULES[c.task.name].check(c.task):
    fail(f"task.{field}", value, allowed)
  if c.model.name not in models.MODULES:
    fail("model.name", c.model.name, f"must be one of {tuple(models.MODULES)}")
  _same_fields(fail, "model", c.model, models.MODULES[c.model.name].default_config())
  for field, value, allowed in models.MODULES[c.model.name].check(c.model):
    fail(f"model.{field}", value, allowed)
  task_kind = tasks.MODULES[c.task.name].INPUT_KIND
  model_kind = models.MODULES[c.model.name].INPUT_KIND
  if task_kind != model_kind:
    fine = tuple(n for n, m in models.MODULES.items() if m.INPUT_KIND == task_kind)
    fail("model.name", c.model.name, f"reads {model_kind} but task {c.task.name!r} gives "
         f"{task_kind}: use one of {fine}")


def _check_optim(c):
  """The optimizer and its accelerators."""
  if not c.optim.lr > 0:
    fail("optim.lr", c.optim.lr, "must be > 0")
  if not c.optim.weight_decay >= 0:
    fail("optim.weight_decay", c.optim.weight_decay, "must be >= 0")
  if not c.optim.eps > 0:
    fail("optim.eps", c.optim.eps, "must be > 0")
  for f in ("grokfast_lamb", "grokfast_ma_lamb"):
    if not c.optim[f] >= 0:
      fail(f"optim.{f}", c.optim[f], "must be >= 0")
  from gtickets.training.accelerators import GROKFAST
  if c.optim.grokfast not in GROKFAST:
    fail("optim.grokfast", c.optim.grokfast, f"must be one of {GROKFAST}")
  if not 0 <= c.optim.grokfast_alpha < 1:
    fail("optim.grokfast_alpha", c.optim.grokfast_alpha, "must be in [0, 1)")
  _positive_int("optim.grokfast_window", c.optim.grokfast_window)
  for b in ("b1", "b2"):
    if not 0 <= c.optim[b] < 1:
      fail(f"optim.{b}", c.optim[b], "must be in [0, 1)")


def _check_train(c):
  """Steps, evaluation and checkpoint grid, batching and the loss."""
  tr = c.train
  for f in ("num_steps", "eval_every", "ckpt_every"):
    _positive_int(f"train.{f}", tr[f])
  if not isinstance(tr.vmap_runs, int) or isinstance(tr.vmap_runs, bool) or tr.vmap_runs < -1:
    fail("train.vmap_runs", tr.vmap_runs,
         "must be -1 (by backend), 0 (all runs in one vmap) or a positive group size")
  if not isinstance(tr.batch_size, int) or tr.batch_size < 0:
    fail("train.batch_size", tr.batch_size, "must be 0 (full batch) or a positive integer")
  if tr.cross_entropy not in CROSS_ENTROPY_MODES:
    fail("train.cross_entropy", tr.cross_entropy, f"must be one of {CROSS_ENTROPY_MODES}")
  if tr.ckpt_every % tr.eval_every:
    fail("train.ckpt_every", tr.ckpt_every,
         f"must be a multiple of train.eval_every={tr.eval_every}")
  if tr.num_steps % tr.eval_every:
    fail("train.num_steps", tr.num_steps,
         f"must be a multiple of train.eval_every={tr.eval_every}")


def _check_ticket(c):
  """How tickets are cut, rewound and trained."""
  tk, tr = c.ticket, c.train
  if not tk.prune_ratios or any(not 0 <= k < 1 for k in tk.prune_ratios):
    fail("ticket.prune_ratios", tk.prune_ratios,
         "each prune ratio k (fraction removed) must be in [0, 1)")
  distinct("ticket.prune_ratios", tk.prune_ratios)
  distinct("ticket.mask_steps", tuple(resolve_step(x, c) for x in tk.mask_steps),
           tk.mask_steps)
  if tk.scope not in SCOPES:
    fail("ticket.scope", tk.scope, f"must be one of {SCOPES}")
  def is_base_step(s):  # missing base checkpoints are added by training forward
    s = resolve_step(s, c)
    return isinstance(s, int) and 0 <= s <= tr.num_steps and s % tr.eval_every == 0
  allowed_steps = ("must be -1 (final) or a step in [0, train.num_steps] that is a "
                   f"multiple of train.eval_every={tr.eval_every}")
  if not tk.mask_steps or not all(is_base_step(s) for s in tk.mask_steps):
    fail("ticket.mask_steps", tk.mask_steps, "each " + allowed_steps)
  if not is_base_step(tk.rewind_step):
    fail("ticket.rewind_step", tk.rewind_step, allowed_steps)
  wrong = variants.check_settings(c.variants)
  if wrong:
    fail(*wrong)


def check_fields(c, sections=()):
  """Fails on a field the schema does not have (a config file's typo, say): the
  top-level fields and the shared sections of ``default_config``, and ``sections``
  (an experiment's own, checked by it). Task and model fields: ``_same_fields``."""
  schema = default_config()
  for key in c.keys():
    if key not in schema and key not in sections:
      fail(key, "...", f"is not a field (a typo?); the config has {sorted(schema.keys())}"
           + (f" and {sorted(sections)}" if sections else ""))
  for section in ("optim", "train", "ticket"):
    extra = sorted(set(c[section].keys()) - set(schema[section].keys()))
    if extra:
      fail(f"{section}.{extra[0]}", c[section][extra[0]], f"is not a field of {section} "
           f"(a typo?); its fields are {sorted(schema[section].keys())}")


def check_steps(config, field, steps):
  """Fails unless every step of ``steps`` lies in [0, train.num_steps] on the eval grid."""
  t = config.train
  if not steps or any(not isinstance(s, int) or isinstance(s, bool) or not 0 <= s <= t.num_steps
                      or s % t.eval_every for s in steps):
    fail(field, tuple(steps) if len(steps) != 1 else steps[0], "steps in [0, train.num_steps], "
         f"multiples of train.eval_every={t.eval_every}")


def resolve_step(step, config):
  """-1 means the final step."""
  return config.train.num_steps if step == -1 else step
