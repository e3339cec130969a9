import pytest

from gtickets.config import default_config


def make_tiny_config():
  """A config small enough to compile and train in a second or two."""
  c = default_config()
  c.seeds = (0, 1)
  c.task.p = 11
  c.task.pairs = "all"
  c.task.train_fraction = 0.5
  c.model.d_embed = 16
  c.model.d_hidden = 8
  c.optim.lr = 3e-3
  c.train.num_steps = 60
  c.train.eval_every = 10
  c.train.ckpt_every = 20
  return c


@pytest.fixture
def tiny_config():
  return make_tiny_config()
