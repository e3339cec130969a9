"""Edge-popup (Ramanujan et al. 2020, "What's hidden in a randomly weighted neural
network?"): a score per weight; the forward pass uses W * 1[|score| among the top
(1 - k) of its matrix], and the scores learn through a straight-through gradient.

As in allenai/hidden-networks: the mask is computed from |score| and passed
through unchanged in the backward pass (``subnet``), so
d loss / d score = (d loss / d W_eff) * W * sign(score), the gradient with
respect to the effective weights times W, carried through the |.|: a useful
weight's score grows in magnitude whatever its sign. Exactly round(k * n) weights
of each matrix are removed (masks.mask_from_scores, ties broken by position).
Scores start kaiming-uniform as there (a = sqrt(5)): U(-1/sqrt(fan_in),
1/sqrt(fan_in)), fan_in = the matrix's first dimension ([fan_in, fan_out] here).

Training with scores (``make_edge_popup_trainer``), batched like any phase.

A run's state holds its weights, a score per weight, and an optimizer state for
each; it has no mask (pass None). What a run does is set per run, in the trainer's
``hparams`` argument, so the variants of Table 1 and all seeds train as one vmapped
program:

  seed           uint32: the key of the run's initial scores
  use_scores     1.0: the forward pass uses W * subnet(scores); 0.0: W (dense)
  train_weights  1.0: the weights learn; 0.0: they stay bitwise as they are
  weight_decay   decoupled weight decay of the weights (AdamW)

Weights: AdamW (``config.edge_popup.lr``, ``config.optim``'s betas and eps, the run's
weight decay); frozen weights are neither updated nor decayed. Scores: AdamW with the
same lr and decay ``edge_popup.score_weight_decay`` for every run (configs/edge_popup.py:
1, the authors' single AdamW with weight decay 1 over every trainable parameter), or,
when < 0, the run's weight decay. (A decay scales every score alike, so it never
reorders them by itself, but it makes each Adam step count for more.) Full batch.
"""
import jax
import jax.numpy as jnp
import optax

from gtickets import models
from gtickets.tickets import masks as masks_lib
from gtickets.training.trainer import (Trainer, batched_trainer, evaluate_weights,
                                       per_run_split)


@jax.custom_vjp
def _straight_through(scores, mask):
  return mask.astype(scores.dtype)


def _st_fwd(scores, mask):
  return mask.astype(scores.dtype), None


def _st_bwd(_, g):
  return g, None


_straight_through.defvjp(_st_fwd, _st_bwd)


def subnet(scores, k, prunable=None):
  """Per matrix, 1.0 where |score| is among the top (1 - k), else 0.0; its gradient
  with respect to |score| is the identity (straight through). ``prunable``: a tree
  of bools (None = all); unprunable leaves are all ones with no gradient."""
  use = masks_lib.prunable_leaves(scores, prunable)
  leaves, treedef = jax.tree.flatten(scores)
  out = []
  for s, u in zip(leaves, use):
    if u:
      magnitude = jnp.abs(s)
      keep = masks_lib.mask_from_scores(jax.lax.stop_gradient(magnitude), k, "layer")
      out.append(_straight_through(magnitude, keep))
    else:
      out.append(jnp.ones_like(s))
  return jax.tree.unflatten(treedef, out)


def init_scores(key, params):
  """Kaiming-uniform scores (hidden-networks' a = sqrt(5)): U(+-1/sqrt(fan_in))."""
  leaves, treedef = jax.tree.flatten(params)
  keys = jax.random.split(key, len(leaves))
  return jax.tree.unflatten(treedef, [
      jax.random.uniform(kk, w.shape, w.dtype, -1.0, 1.0) / jnp.sqrt(w.shape[0])
      for kk, w in zip(keys, leaves)])


SETTINGS = ("seed", "use_scores", "train_weights", "weight_decay")


def effective_weights(params, scores, settings, k, prunable):
  """W * subnet(scores) for a run that uses its scores, W for one that does not."""
  mask = subnet(scores, k, prunable)
  u = settings["use_scores"]
  return jax.tree.map(lambda w, m: w * (u * m + (1.0 - u)), params, mask)


def make_edge_popup_trainer(config, task, model) -> Trainer:
  o, ep = config.optim, config.edge_popup
  k = ep.prune_ratio
  example = task.x_train[:1]
  def adamw(weight_decay):
    return optax.chain(optax.scale_by_adam(b1=o.b1, b2=o.b2, eps=o.eps),
                       optax.add_decayed_weights(weight_decay), optax.scale(-ep.lr))

  weight_tx = score_tx = adamw

  def score_decay(settings):
    return settings["weight_decay"] if ep.score_weight_decay < 0 else ep.score_weight_decay

  def init_params(key):
    return model.init(key, example)["params"]

  def weights_of(state, settings):
    prunable = models.prunable(model, state["params"])
    return effective_weights(state["params"], state["scores"], settings, k, prunable)

  def init_state(params, _, settings):
    key = jax.random.fold_in(jax.random.key(settings["seed"]), 2)
    scores = init_scores(key, params)
    return {"params": params, "scores": scores,
            "opt_w": weight_tx(0.0).init(params), "opt_s": score_tx(0.0).init(scores),
            "step": jnp.zeros((), jnp.int32)}

  def evaluate(state, _, settings, data):
    return evaluate_weights(task, model, weights_of(state, settings), data)

  def step(state, _, settings, data):
    x, y = data["x_train"], data["y_train"]
    prunable = models.prunable(model, state["params"])

    def loss(params, scores):
      w = effective_weights(params, scores, settings, k, prunable)
      return task.loss(model.apply({"params": w}, x), y)

    g_w, g_s = jax.grad(loss, argnums=(0, 1))(state["params"], state["scores"])
    up_w, opt_w = weight_tx(settings["weight_decay"]).update(g_w, state["opt_w"],
                                                             state["params"])
    frozen = settings["train_weights"] == 0
    params = jax.tree.map(lambda w, u: jnp.where(frozen, w, w + u), state["params"], up_w)
    up_s, opt_s = score_tx(score_decay(settings)).update(g_s, state["opt_s"], state["scores"])
    return {"params": params,
            "scores": optax.apply_updates(state["scores"], up_s),
            "opt_w": opt_w, "opt_s": opt_s, "step": state["step"] + 1}

  return batched_trainer(task, init_params, init_state, evaluate, step,
                         config.train.eval_every, config.train.vmap_runs,
                         per_run_split(config))
