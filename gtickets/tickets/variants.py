"""How each kind of run of a ticket phase starts: its mask and its weights.

A ticket-phase run is derived from a base (dense) run. ``VARIANTS`` maps each
variant name to a :class:`Variant`: whether its runs take a ``mask_step`` and
``start(group)``, which builds the starting weights and masks of a whole group
of runs (same variant, mask step and rewind step) at once, vmapped over the
runs: ``group.theta`` holds their base runs' params at the rewind step and
``group.base(step)`` at any other checkpointed step, stacked in run order.

  dense       all weights kept, from theta_0 (retrains the base under the
              ticket phase's settings, e.g. weight decay 0)
  grokked     magnitude mask (ratio k) of the base weights at ``mask_step``,
              kept weights rewound to ``rewind_step``
  imp         the same, from the previous level of iterative magnitude pruning
  random      uniformly random mask at ratio k (key from the run's seed)
  snip, grasp, synflow
              pruning at initialization (tickets/pai.py) at ratio k, from the
              weights at ``rewind_step`` (theta_0 by default)
  l1_matched, l2_matched
              dense, from r_p * theta_0 with r_p = ||theta_0 * m||_p / ||theta_0||_p
              and m the grokked mask (the paper's norm controls)

Add a variant with ``@variant(name)`` on its start function. A variant with settings
declares them there with their neutral values (``settings={"temperature": 1.0}``, and
``check``: settings -> a complaint or None); a config sets them as
``config.variants.<name>.<setting>`` and the start function reads ``group.settings``.
"""
import dataclasses
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from gtickets import models
from gtickets.tickets import masks as masks_lib
from gtickets.tickets import pai


@dataclasses.dataclass(frozen=True)
class Variant:
  start: Callable          # Group -> (params, masks), stacked over the group's runs
  uses_mask_step: bool     # its runs take a mask from the base at ``mask_step``
  settings: dict = dataclasses.field(default_factory=dict)  # name -> neutral value
  check: Optional[Callable] = None  # settings -> None, or what is wrong (one line)


VARIANTS = {}


def variant(name, uses_mask_step=False, settings=None, check=None):
  """Registers the decorated start function as variant ``name``, with its own
  ``settings`` (name -> neutral value, which is also its default) and their ``check``."""
  def register(fn):
    if name in VARIANTS:
      raise ValueError(f"variant {name!r} is registered twice")
    VARIANTS[name] = Variant(fn, uses_mask_step, dict(settings or {}), check)
    return fn
  return register


def default_config():
  """``config.variants``: one section per variant with settings, at their neutral values."""
  c = ml_collections.ConfigDict()
  for name, v in VARIANTS.items():
    if v.settings:
      c[name] = ml_collections.ConfigDict(v.settings)
  return c


def neutral():
  """{"variants.<name>.<setting>": neutral value} of every declared setting (identity)."""
  return {f"variants.{name}.{k}": value for name, v in VARIANTS.items()
          for k, value in v.settings.items()}


def check_settings(section):
  """(field, value, what is allowed) of the first wrong variant setting of ``section``
  (``config.variants``), or None: a section per variant with settings, exactly its
  declared settings, each passing its variant's check."""
  have, want = set(section.keys()), {n for n, v in VARIANTS.items() if v.settings}
  for name in sorted(have - want):
    has = "is not a variant" if name not in VARIANTS else "has no settings"
    return (f"variants.{name}", "...", f"{name!r} {has}; variants with settings: "
            f"{sorted(want)}")
  for name in sorted(want):
    if name not in have:
      return (f"variants.{name}", None, "missing: start from gtickets.config.default_config()")
    got, declared = dict(section[name]), VARIANTS[name].settings
    for key in sorted(set(got) ^ set(declared)):
      return (f"variants.{name}.{key}", got.get(key), f"variant {name!r} has the settings "
              f"{sorted(declared)}")
    complaint = VARIANTS[name].check(got) if VARIANTS[name].check else None
    if complaint:
      field, allowed = complaint
      return (f"variants.{name}.{field}", got[field], allowed)
  return None


@dataclasses.dataclass
class Group:
  """Runs of one variant sharing (mask step, rewind step, scope)."""
  runs: list
  theta: dict               # params at the rewind step, [n, ...]
  base: Callable            # step -> params of the group's base runs at step, [n, ...]
  setup: object
  settings: dict            # the variant's own settings (``Variant.settings``), resolved

  @property
  def ks(self):
    return jnp.asarray([r["prune_ratio"] for r in self.runs], jnp.float32)

  @property
  def scope(self):
    return self.runs[0]["scope"]

  @property
  def prunable(self):
    return models.prunable(self.setup.model, self.theta)


def norm_ratio(theta0, mask, p, prunable=None):
  """||theta_0 * m||_p / ||theta_0||_p over all prunable weights together."""
  use = masks_lib.prunable_leaves(theta0, prunable)
  pairs = [(w, m) for w, m, u in zip(jax.tree.leaves(theta0), jax.tree.leaves(mask), use) if u]
  flat = jnp.concatenate([w.ravel() for w, _ in pairs])
  kept = jnp.concatenate([(w * m).ravel() for w, m in pairs])
  return jnp.linalg.norm(kept, ord=p) / jnp.linalg.norm(flat, ord=p)


def _batched(fn):
  return jax.jit(jax.vmap(fn))


@variant("dense")
def _dense(g):
  return g.theta, jax.vmap(masks_lib.ones_like)(g.theta)


def _grokked_masks(g):
  scope, prunable = g.scope, g.prunable
  return _batched(lambda w, k: masks_lib.magnitude_mask(w, k, scope, prunable))(
      g.base(g.runs[0]["mask_step"]), g.ks)


@variant("grokked", uses_mask_step=True)
def _grokked(g):
  return g.theta, _grokked_masks(g)


# A level of iterative magnitude pruning (experiments/imp.py) is a grokked ticket whose
# base is the level before: that base's final weights are exactly 0 where it pruned, so
# the magnitude mask at the level's total k removes those first and then the smallest
# weights it kept (the masks nest); its step-0 weights are the rewound ones on every
# weight still kept. Its own name keeps its runs apart from one-shot tickets.
variant("imp", uses_mask_step=True)(_grokked)


@variant("random")
def _random(g):
  scope, prunable = g.scope, g.prunable
  keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(s), 1))(
      jnp.asarray([r["seed"] for r in g.runs], jnp.uint32))
  return g.theta, _batched(lambda key, w, k: masks_lib.random_mask(key, w, k, scope, prunable))(
      keys, g.theta, g.ks)


def _norm_matched(p):
  def start(g):
    prunable = g.prunable
    def scaled(theta, mask):
      r = norm_ratio(theta, mask, p, prunable)
      return jax.tree.map(lambda w, u: r * w if u else w, theta, prunable)
    return _batched(scaled)(g.theta, _grokked_masks(g)), jax.vmap(masks_lib.ones_like)(g.theta)
  return start


variant("l1_matched", uses_mask_step=True)(_norm_matched(1))
variant("l2_matched", uses_mask_step=True)(_norm_matched(2))


def _gradient_rule(rule, temperature):
  """A pruning-at-initialization rule scored on the training split of each run."""
  def start(g):
    task, model, t = g.setup.task, g.setup.model, temperature(g)
    scope, prunable = g.scope, g.prunable
    def mask(w, k, data):
      loss = lambda p: task.loss(model.apply({"params": p}, data["x_train"]) / t,
                                 data["y_train"])
      return rule(loss, w, k, scope, prunable)
    data = g.setup.data_for(g.runs)
    with g.setup.task.loss_context():
      if g.setup.trainer.per_run_data:  # one split per run
        masks = _batched(mask)(g.theta, g.ks, data)
      else:
        masks = _batched(lambda w, k: mask(w, k, data))(g.theta, g.ks)
    return g.theta, masks
  return start


variant("snip")(_gradient_rule(pai.snip_mask, lambda g: 1.0))
variant("grasp", settings={"temperature": 1.0},  # the logits' temperature in its score
        check=lambda s: None if s["temperature"] > 0 else ("temperature", "must be > 0"))(
    _gradient_rule(pai.grasp_mask, lambda g: g.settings["temperature"]))


def _positive_rounds(s):
  ok = isinstance(s["rounds"], int) and not isinstance(s["rounds"], bool) and s["rounds"] > 0
  return None if ok else ("rounds", "must be a positive integer")


@variant("synflow", settings={"rounds": 100}, check=_positive_rounds)  # pruning rounds
def _synflow(g):
  model, scope, prunable = g.setup.model, g.scope, g.prunable
  rounds = g.settings["rounds"]
  ones = model.synflow_inputs()
  forward = lambda p: model.apply({"params": p}, ones, method=model.from_inputs)
  return g.theta, _batched(lambda w, k: pai.synflow_mask(forward, w, k, rounds, scope,
                                                         prunable))(g.theta, g.ks)


def build_starts(runs, base_at, setup, settings=None):
  """(params, masks) at step 0 of every run, stacked in run order.

  ``base_at(step)`` gives all base runs' params at a checkpointed step (leading
  axis = base run); ``settings``: {variant: its settings} (``config.variants``; the
  declared neutral values where absent). Runs are built in groups (one vmapped call
  per variant, mask step, rewind step and scope).
  """
  groups = {}
  for i, r in enumerate(runs):
    groups.setdefault((r["variant"], r["mask_step"], r["rewind_step"], r["scope"]), []).append(i)
  parts, order = [], []
  for (name, _, rewind_step, _), idx in groups.items():
    if name not in VARIANTS:
      raise ValueError(f"unknown variant {name!r}; known: {tuple(VARIANTS)}")
    base_idx = np.asarray([runs[i]["base_run"] for i in idx])
    take = lambda tree: jax.tree.map(lambda x: x[base_idx], tree)
    own = {**VARIANTS[name].settings, **dict((settings or {}).get(name, {}))}
    group = Group([runs[i] for i in idx], take(base_at(rewind_step)),
                  lambda step: take(base_at(step)), setup, own)
    parts.append(VARIANTS[name].start(group))
    order += idx
  inverse = np.argsort(np.asarray(order))
  return jax.tree.map(lambda *xs: jnp.concatenate(xs)[inverse], *parts)
