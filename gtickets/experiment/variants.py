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

from gtickets.tickets import masks as masks_lib
from gtickets.tickets import pai

MASKED = ("grokked", "random", "snip", "grasp", "synflow")
NORM_MATCHED = {"l1_matched": 1, "l2_matched": 2}
VARIANTS = ("dense",) + MASKED + tuple(NORM_MATCHED)
USES_MASK_STEP = ("grokked",) + tuple(NORM_MATCHED)


def norm_ratio(theta0, mask, p):
  """||theta_0 * m||_p / ||theta_0||_p over all weights together."""
  flat = jnp.concatenate([w.ravel() for w in jax.tree.leaves(theta0)])
  kept = jnp.concatenate([(w * m).ravel() for w, m in
                          zip(jax.tree.leaves(theta0), jax.tree.leaves(mask))])
  return jnp.linalg.norm(kept, ord=p) / jnp.linalg.norm(flat, ord=p)


def run_start(run, base_at, setup, ticket_config):
  """(params, mask) at step 0 of one ticket-phase run."""
  variant, k, scope = run["variant"], run["prune_ratio"], run["scope"]
  theta = base_at(run["rewind_step"])
  if variant == "dense":
    return theta, masks_lib.ones_like(theta)
  if variant in NORM_MATCHED:
    grokked = masks_lib.magnitude_mask(base_at(run["mask_step"]), k, scope)
    r = norm_ratio(theta, grokked, NORM_MATCHED[variant])
    return jax.tree.map(lambda w: r * w, theta), masks_lib.ones_like(theta)
  if variant == "grokked":
    return theta, masks_lib.magnitude_mask(base_at(run["mask_step"]), k, scope)
  if variant == "random":
    key = jax.random.fold_in(jax.random.key(run["seed"]), 1)
    return theta, masks_lib.random_mask(key, theta, k, scope)
  data, task, model = setup.data, setup.task, setup.model
  if variant in ("snip", "grasp"):
    t = ticket_config.grasp_temperature if variant == "grasp" else 1.0
    loss = lambda p: task.loss(model.apply({"params": p}, data["x_train"]) / t,
                               data["y_train"])
    rule = pai.snip_mask if variant == "snip" else pai.grasp_mask
    return theta, rule(loss, theta, k, scope)
  if variant == "synflow":
    ones = jnp.ones((1, model.vocab))
    forward = lambda p: model.apply({"params": p}, ones, method=model.from_inputs)
    return theta, pai.synflow_mask(forward, theta, k, ticket_config.synflow_rounds, scope)
  raise ValueError(f"unknown variant {variant!r}; known: {VARIANTS}")
