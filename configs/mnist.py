"""Grokked tickets on MNIST with 1000 training images (after Omnigrok; paper App. B).

MLP 784 -> 200 -> 200 -> 10, ReLU, no biases, init scale kappa = 8; MSE on
one-hot targets; AdamW lr 1e-3, weight decay 0.1; full batch (set
``train.batch_size`` for minibatches). t_mem / t_gen threshold: 0.85, not 0.95:
with 1000 training images MNIST test accuracy levels off near 0.9 (Omnigrok;
here 0.89 at 20k steps), so 0.95 would never be reached. Data:
``task.data_dir="auto"`` reads ../shared/data/mnist where it exists (10,000 real
digits: 1000 train, 9000 test), else the official training files that
``python launch/fetch_mnist.py`` downloads (and checks) into
~/.cache/gtickets/mnist (1000 train, 59,000 test); or name any folder with
``--config.task.data_dir=DIR`` (``images_file`` / ``labels_file``).

  python launch/main.py --config=configs/mnist.py
"""
from gtickets.config import default_config


def get_config(arg=None):
  c = default_config(task="mnist", model="feature_mlp")
  c.name = "mnist"
  c.seeds = (0, 1, 2, 3, 4)
  c.model.hidden = (200, 200)
  c.model.kappa = 8.0
  c.threshold = 0.85
  c.optim.weight_decay = 0.1
  c.train.num_steps, c.train.eval_every, c.train.ckpt_every = 100_000, 500, 10_000
  if arg == "quick":
    c.name = "mnist_quick"
    c.seeds = (0, 1, 2)
    c.task.num_train = 200
    c.model.hidden = (32, 32)
    c.train.num_steps, c.train.eval_every, c.train.ckpt_every = 200, 50, 100
  elif arg:
    raise ValueError(f"unknown config variant {arg!r}; known: 'quick'")
  return c
