import numpy as np
import pytest

from gtickets.config import default_config
from gtickets.tasks import make_task, modular


@pytest.mark.parametrize("op,a,b,p,want", [
    ("add", 60, 10, 67, 3), ("add", 5, 4, 67, 9), ("sub", 3, 5, 7, 5),
    ("mul", 6, 5, 7, 2), ("div", 3, 2, 7, 5), ("div", 1, 3, 67, 45),
    ("a2_b2", 3, 5, 7, 6), ("a2_b2", 60, 10, 67, 15), ("a2_ab_b2", 3, 5, 7, 0),
    ("a2_ab_b2", 2, 1, 7, 0), ("a2_ab_b2_a", 3, 5, 7, 3), ("a3_ab", 2, 5, 7, 4),
    ("a3_ab", 66, 66, 67, 0), ("a2_ab2_b", 2, 5, 7, 3), ("a2_ab2_b", 66, 2, 67, 66)])
def test_operation_labels_hand_checked(op, a, b, p, want):
  assert modular.labels(np.array([[a, b]]), p, op)[0] == want


def test_division_is_inverse_of_multiplication():
  p = 13
  x = modular.make_pairs(p, "all", "div")
  assert (x[:, 1] != 0).all() and len(x) == p * (p - 1)
  q = modular.labels(x, p, "div")
  np.testing.assert_array_equal((q * x[:, 1]) % p, x[:, 0])


@pytest.mark.parametrize("pairs,n", [("unordered", 2211), ("unordered_diag", 2278),
                                     ("all", 67 * 67)])
def test_pair_set_sizes(pairs, n):
  x = modular.make_pairs(67, pairs, "add")
  assert x.shape == (n, 2)
  assert len({tuple(r) for r in x}) == n


def test_default_split_is_paper_size_and_seeded():
  c = default_config().task
  t = make_task(c)
  assert (len(t.x_train), len(t.x_test)) == (884, 1327)  # 40% of 2211
  assert (t.x_train[:, 0] > t.x_train[:, 1]).all()
  np.testing.assert_array_equal(t.y_train, (t.x_train[:, 0] + t.x_train[:, 1]) % 67)
  # train and test are disjoint and cover every pair
  seen = {tuple(r) for r in t.x_train} | {tuple(r) for r in t.x_test}
  assert len(seen) == 2211
  again = make_task(c)
  np.testing.assert_array_equal(again.x_train, t.x_train)
  c.data_seed = 1
  other = make_task(c)
  assert not np.array_equal(other.x_train, t.x_train)


def test_random_table_is_seeded_and_covers_the_labels():
  x = modular.make_pairs(67, "all", "random")
  y0, y0_again = modular.labels(x, 67, "random", 0), modular.labels(x, 67, "random", 0)
  y1 = modular.labels(x, 67, "random", 1)
  np.testing.assert_array_equal(y0, y0_again)
  assert (y0 != y1).mean() > 0.9                 # another table
  assert y0.min() == 0 and y0.max() == 66         # labels in 0..p-1, all used
  assert (y0 != (x[:, 0] + x[:, 1]) % 67).mean() > 0.9   # no arithmetic structure
  table = modular.random_table(67, 0)
  np.testing.assert_array_equal(y0, table[x[:, 0], x[:, 1]])


def test_a_modular_operation_is_one_entry_and_titles_come_from_the_task(monkeypatch):
  from gtickets import models, tasks
  from gtickets.config import default_config
  monkeypatch.setitem(modular.OPERATIONS, "a_b2", modular.Operation(
      "a + b^2", lambda a, b, p, _: (a + b * b) % p))
  c = default_config().task
  c.operation, c.p = "a_b2", 7
  assert list(modular.check(c)) == []
  t = make_task(c)
  np.testing.assert_array_equal(t.y_train, (t.x_train[:, 0] + t.x_train[:, 1] ** 2) % 7)
  assert tasks.describe(c) == "(a + b^2) mod 7"
  c.operation = "random"
  assert tasks.describe(c) == "random table mod 7"
  assert tasks.describe(default_config(task="parity").task) == "sparse parity (3 of 40)"
  assert models.describe(default_config().model) == "MLP"
  m = default_config(task="mnist", model="feature_mlp").model
  assert models.describe(m) == "MLP, hidden 200-200"
