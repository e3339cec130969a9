import numpy as np

from gtickets.training.measures import first_reach, mean_std, run_measures, tau_grok


def test_first_reach_uses_evaluated_steps():
  steps = np.array([0, 100, 200, 300, 400])
  assert first_reach(steps, [0.1, 0.5, 0.95, 0.99, 1.0], 0.95) == 200
  assert first_reach(steps, [0.1, 0.96, 0.2, 0.2, 0.2], 0.95) == 100
  assert first_reach(steps, [0.1, 0.5, 0.94, 0.949, 0.9], 0.95) is None


def test_run_measures_on_hand_made_curves():
  steps = np.arange(0, 1001, 100)
  train = np.array([0, .5, .97, 1, 1, 1, 1, 1, 1, 1, 1])
  test = np.array([0, 0, .1, .1, .2, .3, .5, .9, .96, 1, 1])
  curves = {"train_acc": train, "test_acc": test, "train_loss": np.ones(11),
            "test_loss": np.ones(11), "l1": np.arange(11.0), "l2": np.arange(11.0)}
  m = run_measures(steps, curves, 0.95)
  assert (m["t_mem"], m["t_gen"]) == (200, 800)
  assert m["tau_grok"] == 4.0
  assert m["final_test_acc"] == 1.0 and m["final_l2"] == 10.0
  assert not m["diverged"]
  curves["test_acc"] = np.minimum(test, 0.5)
  curves["train_loss"] = np.array([1.0] * 10 + [np.nan])
  m = run_measures(steps, curves, 0.95)
  assert m["t_gen"] is None and m["tau_grok"] is None and m["diverged"]


def test_tau_and_mean_std_with_not_reached():
  assert tau_grok(None, 300) is None and tau_grok(100, None) is None
  assert mean_std([None, None]) == (None, None, 0)
  assert mean_std([100, None, 300]) == (200.0, 100.0, 2)


def test_measures_on_loss_thresholds():
  steps = np.array([0, 10, 20, 30])
  curves = {"train_loss": np.array([1.0, 0.05, 0.001, 0.0005]),
            "test_loss": np.array([1.0, 0.5, 0.2, 0.009]),
            "train_acc": np.zeros(4), "test_acc": np.zeros(4),
            "l1": np.ones(4), "l2": np.ones(4)}
  m = run_measures(steps, curves, 0.01, threshold_on="loss")
  assert (m["t_mem"], m["t_gen"], m["tau_grok"]) == (20, 30, 1.5)
  assert run_measures(steps, curves, 0.95)["t_gen"] is None   # accuracy never reaches
