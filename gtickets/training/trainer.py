"""Batched, scanned training of masked networks (purejaxrl style).

A *run* is (params, mask, optimizer state, step); a batch of runs is the same
tree with a leading run axis. ``Trainer.train_chunk`` advances every run of a
batch by ``n_evals * eval_every`` steps (full batch, or minibatches of
``train.batch_size`` in an order fixed by ``train.batch_seed``) in one jit-compiled, vmapped program
(``lax.scan`` over evaluations, each a ``lax.scan`` over steps) and returns the
metrics at each evaluation. The mask multiplies the weights in the forward pass,
so pruned weights get zero gradient; since they start at zero with a fresh AdamW
state, both Adam's update and the decoupled weight decay leave them exactly zero.
How the runs of a batch share a device is ``train.vmap_runs``
(``run_groups``): on a CPU one run after another (each device scans its own
runs), which trains the paper's MLP 1.03x (4 runs) to 1.5x (64 runs) faster than
one vmap over all of them, and on one device gives a run the same numbers, bit
for bit, whatever other runs share its batch; on an accelerator, one vmap over all runs.
The loss is the task's (a classification task's cross-entropy in the mode of
``train.cross_entropy``); ``evaluate`` and ``train_chunk`` trace it inside
``task.loss_context()`` (x64 for the float64 mode; params stay float32).
"""
import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import optax

from gtickets.training import accelerators, masked

METRICS = ("train_loss", "train_acc", "test_loss", "test_acc", "l1", "l2")


def make_optimizer(optim_config, lr=None, weight_decay=None):
  """AdamW with torch semantics (decoupled decay), no schedule, after the grokking
  accelerators the config asks for (training/accelerators.py). ``lr`` and
  ``weight_decay`` (e.g. traced per run) replace the config's."""
  o = optim_config
  adamw = optax.adamw(o.lr if lr is None else lr, b1=o.b1, b2=o.b2, eps=o.eps,
                      weight_decay=o.weight_decay if weight_decay is None else weight_decay)
  pre = accelerators.pre_adamw(o)
  return optax.chain(*pre, adamw) if pre else adamw


@dataclasses.dataclass(frozen=True)
class Trainer:
  """Pure functions over a batch of runs (leading axis = run). ``hparams``: the
  per-run values the trainer reads ({name: [R]}, e.g. a sweep's lr and weight decay;
  None = none), an argument of its own beside the masks."""
  init_params: Callable  # keys [R] -> params [R, ...]
  init_state: Callable   # params [R, ...], masks [R, ...], hparams=None -> state
  evaluate: Callable     # state, masks, data, hparams=None -> {metric: [R]}
  train_chunk: Callable  # state, masks, data, n_evals, hparams=None -> state, {metric: [R, n_evals]}
  step: Callable         # one run, unbatched, not jitted: state, mask, data, hparams=None -> state
  eval_every: int
  per_run_data: bool = False  # data with a leading run axis (one split per run)


def minibatch_indices(key, step, n, batch_size):
  """Indices of minibatch ``step``: each epoch is a fresh permutation of range(n)
  (from ``key`` and the epoch number) cut into n // batch_size batches; the last
  partial batch is dropped, as torch's DataLoader(drop_last=True) does."""
  per_epoch = n // batch_size
  order = jax.random.permutation(jax.random.fold_in(key, step // per_epoch), n)
  return jax.lax.dynamic_slice(order, ((step % per_epoch) * batch_size,), (batch_size,))


def make_trainer(config, task, model, per_run_optim=False, per_run_data=None) -> Trainer:
  """The trainer of masked networks. With ``per_run_optim`` each run has its own
  learning rate and weight decay (a sweep): ``hparams = {"lr": [R], "weight_decay":
  [R]}``, and the optimizer is ``config.optim``'s AdamW with those two values traced.
  ``per_run_data``: the data has a run axis (default: a split per run,
  ``per_run_split``); ``task`` gives the shapes."""
  tx = make_optimizer(config.optim)
  o = config.optim
  if per_run_optim:
    def optimizer(hparams):
      return make_optimizer(o, hparams["lr"], hparams["weight_decay"])
  else:
    def optimizer(hparams):
      return tx
  example = task.x_train[:1]
  batch_size = config.train.batch_size
  n_train = len(task.x_train)
  if batch_size > n_train:
    raise ValueError(f"config.train.batch_size={batch_size} is larger than the "
                     f"{n_train} training examples of task {task.name}")
  batch_key = jax.random.key(config.train.batch_seed)

  def train_batch(data, step):
    """The full training set, or minibatch ``step`` of an epoch-wise reshuffle."""
    if not batch_size:
      return data["x_train"], data["y_train"]
    idx = minibatch_indices(batch_key, step, n_train, batch_size)
    return data["x_train"][idx], data["y_train"][idx]

  def init_params(key):
    return model.init(key, example)["params"]

  def forward(params, mask, x):
    return model.apply({"params": masked.apply(params, mask)}, x)

  def evaluate(state, mask, hparams, data):
    return evaluate_weights(task, model, masked.apply(state["params"], mask), data)

  def step(state, mask, hparams, data):
    tx = optimizer(hparams)
    x, y = train_batch(data, state["step"])
    grads = jax.grad(lambda p: task.loss(forward(p, mask, x), y))(state["params"])
    updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
    return {"params": optax.apply_updates(state["params"], updates),
            "opt_state": opt_state, "step": state["step"] + 1}

  def init_state(params, mask, hparams):
    params = masked.apply(params, mask)
    return {"params": params, "opt_state": optimizer(hparams).init(params),
            "step": jnp.zeros((), jnp.int32)}

  return batched_trainer(task, init_params, init_state, evaluate, step,
                         config.train.eval_every, config.train.vmap_runs,
                         per_run_split(config) if per_run_data is None else per_run_data)


def per_run_split(config):
  """Whether each run trains on its own split (``task.data_seed = -1``: the run's seed)."""
  return config.task.data_seed == -1


def evaluate_weights(task, model, weights, data):
  """Losses, scores (train and test) and L1 / L2 norms of the network ``weights``."""
  flat = jnp.concatenate([l.ravel() for l in jax.tree.leaves(weights)])
  out = {"l1": jnp.sum(jnp.abs(flat)), "l2": jnp.sqrt(jnp.sum(flat * flat))}
  for split in ("train", "test"):
    logits = model.apply({"params": weights}, data[f"x_{split}"])
    y = data[f"y_{split}"]
    out[f"{split}_loss"] = task.loss(logits, y)
    out[f"{split}_acc"] = task.accuracy(logits, y)
  return out


def group_size(vmap_runs, backend=None):
  """Runs per vmapped group (``train.vmap_runs``; 0 = all runs): -1 picks by
  backend, 1 (one run after another) on a CPU, 0 on a GPU or TPU."""
  if vmap_runs >= 0:
    return vmap_runs
  return 1 if (backend or jax.default_backend()) == "cpu" else 0


def run_groups(fn, group, n_per_run=2):
  """``fn(*per_run, *shared)`` of one run -> the same over a batch of runs, jit-traceable:
  the first ``n_per_run`` arguments (state, mask, hparams and, with one split per run, the
  data) have a leading run axis, the others are shared. ``group`` 0: one vmap over every run.
  Else each device takes its own block of runs (the run axis is sharded in blocks,
  training/sharding.py) and ``lax.map``s over it, ``group`` runs vmapped at a time:
  on one device a run's numbers are then the same, bit for bit, whatever other
  runs share its batch (tests/test_training.py)."""
  if not group:
    return lambda *args: jax.vmap(
        lambda *own: fn(*own, *args[n_per_run:]))(*args[:n_per_run])

  def batched(*args):
    own, shared = args[:n_per_run], args[n_per_run:]
    n = jax.tree.leaves(own)[0].shape[0]
    blocks = jax.device_count() if n % jax.device_count() == 0 else 1
    split = lambda t: jax.tree.map(lambda x: x.reshape((blocks, n // blocks) + x.shape[1:]), t)
    one = lambda o: fn(*o, *shared)
    per_block = lambda o: jax.lax.map(one, o, batch_size=group if group > 1 else None)
    out = jax.vmap(per_block)(split(own))
    return jax.tree.map(lambda x: x.reshape((n,) + x.shape[2:]), out)
  return batched


def batched_trainer(task, init_params, init_state, evaluate, step, eval_every,
                    vmap_runs=-1, per_run_data=False) -> Trainer:
  """A Trainer from one run's functions, jit-compiled over a batch of runs:
  ``train_chunk`` scans ``step`` ``eval_every`` times per evaluation, the runs
  grouped as ``vmap_runs`` says (``group_size``); the other functions vmap over
  every run. ``per_run_data``: the data has a leading run axis (each run its own
  split, ``task.data_seed = -1``), else every run shares it. The loss is traced in
  the task's loss context (x64 for a float64 cross-entropy)."""
  def train_chunk(state, mask, hparams, data, n_evals):
    def one_eval(state, _):
      state, _ = jax.lax.scan(lambda s, _: (step(s, mask, hparams, data), None), state,
                              None, length=eval_every)
      return state, evaluate(state, mask, hparams, data)
    return jax.lax.scan(one_eval, state, None, length=n_evals)

  def in_loss_context(f):
    def traced_in_context(*args):
      with task.loss_context():
        return f(*args)
    return traced_in_context

  data_axis = 0 if per_run_data else None
  init = jax.jit(jax.vmap(init_state))
  evaluate_all = in_loss_context(jax.jit(jax.vmap(evaluate, in_axes=(0, 0, 0, data_axis))))
  chunk = in_loss_context(jax.jit(
      run_groups(train_chunk, group_size(vmap_runs), 4 if per_run_data else 3),
      static_argnums=4))
  hp = lambda hparams: {} if hparams is None else hparams
  return Trainer(
      init_params=jax.jit(jax.vmap(init_params)),
      init_state=lambda params, masks, hparams=None: init(params, masks, hp(hparams)),
      evaluate=lambda state, masks, data, hparams=None: evaluate_all(state, masks,
                                                                     hp(hparams), data),
      train_chunk=lambda state, masks, data, n_evals, hparams=None: chunk(
          state, masks, hp(hparams), data, n_evals),
      step=lambda state, mask, data, hparams=None: step(state, mask, hp(hparams), data),
      eval_every=eval_every, per_run_data=per_run_data)


def init_keys(seeds):
  """The init key of each run: derived from the run's seed alone."""
  return jax.vmap(lambda s: jax.random.fold_in(jax.random.key(s), 0))(
      jnp.asarray(seeds, jnp.uint32))
