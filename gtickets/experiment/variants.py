"""How each kind of run of a ticket phase starts: its mask and its weights.

A ticket-phase run is derived from a base (dense) run: ``base_at(step)`` gives
that base run's params at a checkpointed step (read back from orbax). Each
variant maps (run settings, base_at, context) -> (params, mask):

  dense       all weights kept, from theta_0 (retrains the base under the
              ticket phase's settings, e.g. weight decay 0)
  grokked     magnitude mask (ratio k) of the base weights at ``mask_step``,
              kept weights rewound to ``rewind_step``
  random      uniformly random mask at ratio k (key from the run's seed)
  snip, grasp, synflow
              pruning at initialization (tickets/pai.py) at ratio k, from the
              weights at ``rewind_step`` (theta_0 by default)
  l1_matched, l2_matched
              dense, from r_p * theta_0 with r_p = ||theta_0 * m||_p / ||theta_0||_p
              and m the grokked mask (the paper's norm controls)
"""
import jax
import jax.numpy as jnp

from gtickets import models
from gtickets.tickets import masks as masks_lib
from gtickets.tickets import pai

MASKED = ("grokked", "random", "snip", "grasp", "synflow")
NORM_MATCHED = {"l1_matched": 1, "l2_matched": 2}
VARIANTS = ("dense",) + MASKED + tuple(NORM_MATCHED)
USES_MASK_STEP = ("grokked",) + tuple(NORM_MATCHED)


def norm_ratio(theta0, mask, p, prunable=None):
  """||theta_0 * m||_p / ||theta_0||_p over all prunable weights together."""
  use = masks_lib.prunable_leaves(theta0, prunable)
  pairs = [(w, m) for w, m, u in zip(jax.tree.leaves(theta0), jax.tree.leaves(mask), use) if u]
  flat = jnp.concatenate([w.ravel() for w, _ in pairs])
  kept = jnp.concatenate([(w * m).ravel() for w, m in pairs])
  return jnp.linalg.norm(kept, ord=p) / jnp.linalg.norm(flat, ord=p)


def run_start(run, base_at, setup, ticket_config):
  """(params, mask) at step 0 of one ticket-phase run."""
  variant, k, scope = run["variant"], run["prune_ratio"], run["scope"]
  theta = base_at(run["rewind_step"])
  model = setup.model
  prunable = models.prunable(model, theta)
  if variant == "dense":
    return theta, masks_lib.ones_like(theta)
  if variant in NORM_MATCHED:
    grokked = masks_lib.magnitude_mask(base_at(run["mask_step"]), k, scope, prunable)
    r = norm_ratio(theta, grokked, NORM_MATCHED[variant], prunable)
    return (jax.tree.map(lambda w, u: r * w if u else w, theta, prunable),
            masks_lib.ones_like(theta))
  if variant == "grokked":
    return theta, masks_lib.magnitude_mask(base_at(run["mask_step"]), k, scope, prunable)
  if variant == "random":
    key = jax.random.fold_in(jax.random.key(run["seed"]), 1)
    return theta, masks_lib.random_mask(key, theta, k, scope, prunable)
  data, task = setup.data, setup.task
  if variant in ("snip", "grasp"):
    t = ticket_config.grasp_temperature if variant == "grasp" else 1.0
    loss = lambda p: task.loss(model.apply({"params": p}, data["x_train"]) / t,
                               data["y_train"])
    rule = pai.snip_mask if variant == "snip" else pai.grasp_mask
    with task.loss_context():
      return theta, rule(loss, theta, k, scope, prunable)
  if variant == "synflow":
    ones = model.synflow_inputs()
    forward = lambda p: model.apply({"params": p}, ones, method=model.from_inputs)
    return theta, pai.synflow_mask(forward, theta, k, ticket_config.synflow_rounds, scope,
                                   prunable)
  raise ValueError(f"unknown variant {variant!r}; known: {VARIANTS}")
