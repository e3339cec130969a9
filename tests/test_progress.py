"""Progress measures of the Fourier circuit (analysis/progress.py) on hand-made weights
and logit tables with known frequencies."""
import numpy as np
import pytest

from gtickets.analysis import progress

P = 13


def _cube(fn):
  a, b, c = np.meshgrid(np.arange(P), np.arange(P), np.arange(P), indexing="ij")
  return fn(a, b, c).astype(np.float64)


def _wave(w, a, b, c, sign_b=1, phase=0.0):
  return np.cos(2 * np.pi * w * (a + sign_b * b - c) / P + phase)


def test_key_frequencies_and_share_of_a_two_frequency_embedding():
  t = np.arange(P)[:, None]
  rng = np.random.default_rng(0)
  phases = rng.uniform(0, 2 * np.pi, (1, 8))
  e = 3.0 * np.cos(2 * np.pi * 4 * t / P + phases) + 1.0 * np.sin(2 * np.pi * 2 * t / P + phases)
  e = np.concatenate([e, 5.0 + 0 * e[:, :1]], axis=1)  # a constant column: frequency 0, dropped
  assert list(progress.key_frequencies(e, 2)) == [4, 2]
  norms = progress.fourier_norms(e)
  assert norms.shape == ((P - 1) // 2,)
  np.testing.assert_allclose(norms[[0, 2, 4, 5]], 0, atol=1e-9)
  assert progress.key_share(e, [4, 2]) == pytest.approx(1.0)
  assert progress.key_share(e, [4]) == pytest.approx(9 / 10)  # amplitudes 3 and 1: 9 : 1
  assert progress.overlap([4, 2], [2, 6]) == 0.5


def test_split_keeps_the_key_frequency_terms_and_removes_the_rest():
  circuit = 2.0 * _cube(lambda a, b, c: _wave(5, a, b, c)) + 0.5 * _cube(
      lambda a, b, c: _wave(3, a, b, c, phase=1.0))
  other = _cube(lambda a, b, c: _wave(5, a, b, c, sign_b=-1))  # a - b - c: orthogonal
  per_pair = _cube(lambda a, b, c: a * b + 0 * c)              # constant over c: centred away
  restricted, excluded = progress.split_logits(circuit + other + per_pair, [5, 3])
  np.testing.assert_allclose(restricted, circuit, atol=1e-9)
  np.testing.assert_allclose(excluded, other - other.mean(-1, keepdims=True), atol=1e-9)
  # one key frequency: the other circuit term moves to the excluded logits
  restricted, excluded = progress.split_logits(circuit + other, [5])
  np.testing.assert_allclose(restricted, 2.0 * _cube(lambda a, b, c: _wave(5, a, b, c)),
                             atol=1e-9)
  # stacked tables split one by one
  both = np.stack([circuit, 3 * circuit])
  np.testing.assert_allclose(progress.split_logits(both, [5, 3])[0][1], 3 * circuit, atol=1e-9)


def test_losses_of_an_ideal_circuit_and_of_what_it_excludes():
  pairs = np.array([(a, b) for a in range(P) for b in range(a)])
  answers = (pairs[:, 0] + pairs[:, 1]) % P
  logits = 20.0 * _cube(lambda a, b, c: _wave(1, a, b, c)) + 7.0 * _cube(
      lambda a, b, c: _wave(2, a, b, c))
  full = progress.cross_entropy(logits, pairs, answers)
  # by hand, pair by pair
  rows = logits[pairs[:, 0], pairs[:, 1]]
  by_hand = np.mean(np.log(np.exp(rows).sum(1)) - rows[np.arange(len(pairs)), answers])
  assert full == pytest.approx(by_hand, rel=1e-12)
  restricted, excluded = progress.split_logits(logits, [1, 2])
  assert progress.cross_entropy(restricted, pairs, answers) == pytest.approx(full, rel=1e-9)
  # nothing left outside the circuit: uniform logits, loss log p
  assert progress.cross_entropy(excluded, pairs, answers) == pytest.approx(np.log(P))
  # the restricted logits depend on a + b - c only: every pair has the same loss
  noisy = logits + np.random.default_rng(1).normal(0, 3, logits.shape)
  restricted, _ = progress.split_logits(noisy, [1, 2])
  per_pair = [progress.cross_entropy(restricted, pairs[i:i + 1], answers[i:i + 1])
              for i in range(0, len(pairs), 7)]
  np.testing.assert_allclose(per_pair, per_pair[0], rtol=1e-9)


def _tiny_progress(tiny_config):
  from gtickets import experiments  # pylint: disable=import-outside-toplevel
  c = experiments.use(tiny_config.copy_and_resolve_references(), "progress")
  c.progress.steps, c.progress.nongrokked_mask_step, c.progress.n_key = (0, 10, 30, 60), 20, 2
  return c


def test_replay_gives_the_states_added_checkpoints_hold(tiny_config, tmp_path):
  import chex  # pylint: disable=import-outside-toplevel
  from conftest import quiet  # pylint: disable=import-outside-toplevel
  from gtickets.experiment.phase import add_checkpoints, replay  # pylint: disable=import-outside-toplevel
  from gtickets.experiment.pipeline import run_dense  # pylint: disable=import-outside-toplevel
  from gtickets.training import checkpoints  # pylint: disable=import-outside-toplevel
  dense = run_dense(tiny_config, quiet(tmp_path))
  saved = set(dense.store.checkpoints.steps())
  states = dict(replay(dense, [30, 10, 20]))  # 20 is saved, 10 and 30 are not
  assert sorted(states) == [10, 20, 30] and set(dense.store.checkpoints.steps()) == saved
  assert add_checkpoints(dense, [10, 30]) == [10, 30]
  for step, state in states.items():
    chex.assert_trees_all_equal(jax_to_numpy(state["params"]),
                                checkpoints.restore_params(dense.checkpoint_dir, step))


def jax_to_numpy(tree):
  import jax  # pylint: disable=import-outside-toplevel
  return jax.tree.map(np.asarray, tree)


@pytest.mark.parametrize("field,value", [("task.operation", "mul"), ("task.name", "parity")])
def test_progress_refuses_what_is_not_modular_addition_in_one_line(tiny_config, field, value):
  from gtickets import experiments  # pylint: disable=import-outside-toplevel
  from gtickets.config import ConfigError, default_config  # pylint: disable=import-outside-toplevel
  c = _tiny_progress(tiny_config)
  if field == "task.name":
    parity = default_config(task="parity", model="feature_mlp")
    c.task, c.model = parity.task, parity.model
  else:
    c.task.operation = value
  with pytest.raises(ConfigError, match=r"needs logits over \(a, b\) pairs of \(a \+ b\) mod p"):
    experiments.validate(c)


def _payload(ticket_restricted, ticket_keys=(1, 2)):
  """Two seeds, steps 0..1000: the dense restricted loss falls at its t_gen (800)."""
  steps = [0, 100, 200, 400, 800, 1000]
  dense = [[4.0, 4.0, 3.0, 2.0, 0.01, 0.001]] * 2
  def series(restricted, keys, t_mem, t_gen):
    return {"seeds": [0, 1], "key_frequencies": [list(keys)] * 2, "t_mem": [t_mem] * 2,
            "t_gen": [t_gen] * 2, "restricted_loss": restricted}
  return {"steps": steps, "n_key": 2, "series": {
      "dense": series(dense, (1, 2), 100, 800),
      "grokked ticket": series([ticket_restricted] * 2, ticket_keys, 100, 200),
      "random ticket": series([[4.0] * 6] * 2, (3, 4), None, None),
      "non-grokked ticket": series([[4.0] * 6] * 2, (1, 5), 100, None)}}


@pytest.mark.parametrize("ticket,keys,m1,m2,m3", [
    ([4.0, 0.5, 0.005, 0.001, 0.001, 0.001], (2, 1), "agrees", "agrees", "agrees"),
    # the ticket's restricted loss reaches the level only at step 800 (8 t_mem)
    ([4.0, 3.0, 2.0, 1.0, 0.005, 0.001], (1, 3), "no", "no", "agrees")])
def test_m_claims_follow_their_rules(tmp_path, monkeypatch, ticket, keys, m1, m2, m3):
  import json  # pylint: disable=import-outside-toplevel
  from gtickets.experiment import claims  # pylint: disable=import-outside-toplevel
  from gtickets.experiments import progress as exp  # pylint: disable=import-outside-toplevel
  monkeypatch.setattr(exp, "plot", lambda path, payload: None)
  monkeypatch.setattr(exp, "plot_frequencies", lambda path, payload: None)
  (tmp_path / "progress.json").write_text(json.dumps(_payload(ticket, keys)))
  root = type("R", (dict,), {"task_rows": [], "__missing__": lambda self, name: claims.Results(
      str(tmp_path / name))})(modadd=claims.Results(str(tmp_path)))
  assert "Transformer (mod_add_transformer): not measured" in exp.same_frequencies(
      root, str(tmp_path)).details
  assert exp.same_frequencies(root, str(tmp_path)).verdict == m1
  assert exp.restricted_soon(root, str(tmp_path)).verdict == m2
  assert exp.controls_have_neither(root, str(tmp_path)).verdict == m3
