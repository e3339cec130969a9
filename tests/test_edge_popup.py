"""Edge-popup: straight-through scores, frozen weights, exact mask sizes, end to end."""
import json
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gtickets import experiments
from gtickets.experiments import edge_popup as edge_popup_exp
from gtickets.experiment.setup import make_setup
from gtickets.tickets import edge_popup
from helpers import assert_every_phase_logged
from gtickets.tickets.edge_popup import make_edge_popup_trainer
from gtickets.training.trainer import init_keys
from conftest import quiet


def test_straight_through_gradient_by_hand():
  w = jnp.array([[1.0, -2.0], [3.0, 0.5]])
  s = jnp.array([[0.3, -0.9], [-0.1, 0.2]])   # |s| ranks: 0.9 > 0.3 > 0.2 > 0.1
  x = jnp.array([[1.0, 2.0]])
  def loss(scores):
    m = edge_popup.subnet({"w": scores}, 0.5)["w"]  # keep the top 2 of 4
    return jnp.sum((x @ (w * m)) ** 2)
  m = np.array([[1.0, 1.0], [0.0, 0.0]])
  np.testing.assert_array_equal(edge_popup.subnet({"w": s}, 0.5)["w"], m)
  y = x @ (w * m)                                   # [[1, -2]]
  g_eff = np.asarray(x).T @ (2 * np.asarray(y))     # d loss / d W_eff
  want = g_eff * np.asarray(w) * np.sign(np.asarray(s))
  np.testing.assert_allclose(jax.grad(loss)(s), want, rtol=1e-6)


def test_scores_start_kaiming_uniform():
  params = {"a": jnp.zeros((400, 30)), "b": jnp.zeros((25, 4))}
  s = edge_popup.init_scores(jax.random.key(0), params)
  for name, fan_in in (("a", 400), ("b", 25)):
    bound = 1 / np.sqrt(fan_in)
    assert np.abs(s[name]).max() <= bound and np.abs(s[name]).max() > 0.9 * bound


def _tiny(tiny_config):
  c = experiments.use(tiny_config, "edge_popup")
  c.edge_popup.prune_ratio = 0.3
  return c


def test_frozen_weights_stay_bitwise_and_masks_keep_exactly_their_size(tiny_config):
  c = _tiny(tiny_config)
  s = make_setup(c)
  trainer = make_edge_popup_trainer(c, s.task, s.model)
  params = s.trainer.init_params(init_keys([0, 1]))
  settings = {"seed": np.array([0, 1], np.uint32), "use_scores": np.ones(2, np.float32),
              "train_weights": np.array([0.0, 1.0], np.float32),
              "weight_decay": np.array([0.0, 1.0], np.float32)}
  state = trainer.init_state(params, None, settings)
  scores0 = jax.tree.map(np.asarray, state["scores"])
  for _ in range(5):  # 5 x 10 x 6 = 300 steps, the mask checked after every 60
    state, _ = trainer.train_chunk(state, None, s.data, 6, settings)
    for run in range(2):
      mask = edge_popup.subnet(jax.tree.map(lambda x: x[run], state["scores"]), 0.3)
      for name, m in mask.items():
        assert int(np.sum(m)) == m.size - round(0.3 * m.size), name
  for name in params:
    np.testing.assert_array_equal(state["params"][name][0], params[name][0])  # frozen
    assert not np.array_equal(state["params"][name][1], params[name][1])       # learns
    assert not np.array_equal(state["scores"][name][0], scores0[name][0])      # scores learn


def test_score_decay_reaches_scores_and_never_frozen_weights_by_hand(tiny_config):
  """One AdamW step, weight decay 1 on the scores (the authors' EP w/o WD) and on a
  frozen run's weights: the scores move by -lr (g / (|g| + eps) + wd * s) (Adam's
  first step, bias-corrected), the weights stay bitwise."""
  c = _tiny(tiny_config)
  c.edge_popup.score_weight_decay, c.edge_popup.lr = 1.0, 1e-2
  s = make_setup(c)
  trainer = make_edge_popup_trainer(c, s.task, s.model)
  params = s.trainer.init_params(init_keys([0]))
  settings = {"seed": np.array([0], np.uint32), "use_scores": np.ones(1, np.float32),
              "train_weights": np.zeros(1, np.float32), "weight_decay": np.ones(1, np.float32)}
  state = trainer.init_state(params, None, settings)
  one = lambda t: jax.tree.map(lambda x: x[0], t)
  p0, s0 = one(params), jax.tree.map(np.asarray, one(state["scores"]))
  def loss(scores):
    mask = edge_popup.subnet(scores, 0.3)
    w = jax.tree.map(lambda a, m: a * m, p0, mask)
    return s.task.loss(s.model.apply({"params": w}, s.data["x_train"]), s.data["y_train"])
  g = jax.tree.map(np.asarray, jax.grad(loss)(one(state["scores"])))
  new = trainer.step(one(state), None, s.data, one(settings))
  eps, lr = c.optim.eps, 1e-2
  for name in p0:
    want = s0[name] - lr * (g[name] / (np.abs(g[name]) + eps) + 1.0 * s0[name])
    np.testing.assert_allclose(new["scores"][name], want, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(new["params"][name], p0[name])


def test_memorizing_rule():
  assert edge_popup_exp.memorizing({"final_train_acc": 1.0, "final_test_acc": 0.05})
  assert not edge_popup_exp.memorizing({"final_train_acc": 1.0, "final_test_acc": 0.1})
  assert not edge_popup_exp.memorizing({"final_train_acc": 0.99, "final_test_acc": 0.0})


def test_edge_popup_experiment_end_to_end(tiny_config, tmp_path):
  c = _tiny(tiny_config)
  c.edge_popup.base_step, c.edge_popup.report_steps = 20, (20, 40, 60)
  c.task.data_seed = -1  # each seed its own split, as the authors' seeds
  c = experiments.validate(c)
  text, files = experiments.EXPERIMENTS["edge_popup"].run(c, quiet(tmp_path))
  out = json.loads((tmp_path / "edge_popup.json").read_text())
  assert [r["variant"] for r in out["runs"]] == ["wd", "wd", "ep", "ep", "ep_wd", "ep_wd"]
  assert [r["data_seed"] for r in out["runs"]] == [0, 1] * 3
  assert [r["data_seed"] for r in out["base"]] == [0, 1]
  assert out["base"][0]["variant"] == "dense"
  assert json.loads((tmp_path / "dense" / "runs.json").read_text())["identity"]["optim.lr"] == 1e-2
  assert "| EP w/o WD |" in re.sub(" +", " ", text) and "step 60: paper" in text
  flags = [r["memorizing"] for r in out["base"]]
  assert flags == [edge_popup_exp.memorizing(r) for r in out["base"]]
  rows = edge_popup_exp.table_rows(out)
  assert [r["n"] for r in rows] == [sum(flags)] * 3  # seeds whose base memorizes
  assert len(assert_every_phase_logged(tmp_path)) == 2  # the base and edge-popup
  c.edge_popup.report_steps = (25,)
  with pytest.raises(Exception, match="config.edge_popup.report_steps"):
    experiments.validate(c)
