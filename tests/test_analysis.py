"""The structural analyses on hand-made inputs whose values are known."""
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest

from gtickets.analysis import fourier, graphs, jaccard
from conftest import quiet


def test_jaccard_distance_by_hand():
  m1 = {"a": np.array([1, 1, 0, 0], bool), "b": np.array([[1, 0]], bool)}
  m2 = {"a": np.array([1, 0, 1, 0], bool), "b": np.array([[1, 0]], bool)}
  # a: |and| 1, |or| 3 -> 2/3; b: identical -> 0; together: |and| 2, |or| 4 -> 1/2
  per = jaccard.jaccard_per_leaf(m1, m2)
  assert float(per["a"]) == pytest.approx(2 / 3) and float(per["b"]) == 0.0
  assert float(jaccard.jaccard_distance(m1, m2)) == pytest.approx(0.5)
  assert float(jaccard.jaccard_distance(m1, m2, {"a": True, "b": False})) == pytest.approx(2 / 3)
  empty = {"a": np.zeros(4, bool)}
  assert float(jaccard.jaccard_distance(empty, empty)) == 0.0
  assert float(jaccard.jaccard_distance({"a": ~empty["a"]}, empty)) == 1.0


P = 67


def test_a_pure_cosine_has_one_spike_and_zero_entropy():
  t = np.arange(P)
  w = np.stack([np.cos(2 * np.pi * 5 * t / P),              # frequency 5 only
                np.cos(2 * np.pi * 3 * t / P) + np.sin(2 * np.pi * 7 * t / P),  # two, equal
                np.zeros(P)], axis=1)                       # a dead neuron
  s = np.asarray(fourier.spectrum(jnp.asarray(w)))
  assert s.shape == (33, 3)
  assert np.argmax(s[:, 0]) == 4 and s[4, 0] == pytest.approx(P / 2, rel=1e-4)
  assert np.sum(s[:, 0] > 1e-3) == 1
  ent, live = fourier.neuron_entropies(jnp.asarray(w))
  assert list(np.asarray(live)) == [True, True, False]
  assert float(ent[0]) == pytest.approx(0.0, abs=1e-4)
  assert float(ent[1]) == pytest.approx(np.log(2), abs=1e-4)
  # the mean skips the dead neuron
  assert float(fourier.fourier_entropy(jnp.asarray(w))) == pytest.approx(np.log(2) / 2, abs=1e-4)
  flat = np.zeros((P, 1))
  flat[0] = 1.0  # a delta: flat spectrum, the largest entropy
  assert float(fourier.fourier_entropy(jnp.asarray(flat))) == pytest.approx(np.log(33), abs=1e-5)
  # the authors' measure is something else (not 0 for the pure cosine)
  assert float(fourier.authors_entropy(jnp.asarray(w[:, :1]))) > 0.5


def test_effective_input_weights_are_masked():
  params = {"embed": np.ones((3, 2), np.float32), "w_in": np.ones((2, 4), np.float32)}
  mask = {"embed": np.array([[1, 0]] * 3, bool), "w_in": np.ones((2, 4), bool)}
  np.testing.assert_array_equal(fourier.effective_input_weights(params), 2 * np.ones((3, 4)))
  np.testing.assert_array_equal(fourier.effective_input_weights(params, mask), np.ones((3, 4)))


def test_complete_bipartite_graph_measures_by_hand():
  g = graphs.layered_graph([np.ones((2, 2))])  # K_{2,2}: a 4-cycle
  assert g.number_of_edges() == 4
  apl, frac = graphs.average_path_length(g)
  assert apl == pytest.approx(8 / 6) and frac == 1.0  # 4 pairs at 1 hop, 2 at 2
  assert graphs.spectral_gap(g) == pytest.approx(2.0)  # eigenvalues 2, 0, 0, -2
  # d = 2, mu = 0 (third-largest |eigenvalue|, bipartite): 2 sqrt(1) - 0
  assert graphs.ramanujan_gap(g) == pytest.approx(2.0)
  w = graphs.layered_graph([2 * np.ones((2, 2))])
  assert graphs.spectral_gap(w) == pytest.approx(4.0)  # weights scale the spectrum


def test_average_path_length_equals_networkx_on_a_random_pruned_graph():
  rng = np.random.default_rng(0)
  mats = [rng.normal(size=s) * (rng.random(s) < 0.3) for s in [(9, 14), (14, 5), (5, 12)]]
  g = graphs.layered_graph(mats)
  largest = g.subgraph(max(nx.connected_components(g), key=len))
  apl, frac = graphs.average_path_length(g)
  assert apl == nx.average_shortest_path_length(largest)
  assert frac == largest.number_of_nodes() / g.number_of_nodes()


def test_pruning_cuts_units_off_and_a_triangle_closes_in_the_projection():
  g = graphs.layered_graph([np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[1.0], [0.0]])])
  apl, frac = graphs.average_path_length(g)
  assert frac == pytest.approx(3 / 5) and apl == pytest.approx((1 + 1 + 2) / 3)
  # hidden neurons 0, 1, 2 share embedding unit 0 on their input side: a triangle
  w_in = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
  proj = graphs.hidden_projection(w_in, np.zeros((3, 2)))
  assert sorted(proj.edges) == [(0, 1), (0, 2), (1, 2)]
  assert graphs.clustering(proj) == pytest.approx(1.0)
  # a path 0 - 1 - 2 (no shared unit between 0 and 2): no triangle
  w_in = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
  assert graphs.clustering(graphs.hidden_projection(w_in, np.zeros((3, 2)))) == 0.0
  # a non-bipartite graph: mu is the second-largest |eigenvalue| (triangle: 2, -1, -1)
  assert graphs.ramanujan_gap(nx.complete_graph(3)) == pytest.approx(2.0 - 1.0)


def _tiny_analysis_config(tiny_config, experiment):
  from gtickets import experiments
  c = experiments.use(tiny_config.copy_and_resolve_references(), experiment)
  if experiment == "jaccard":
    c.jaccard.every, c.jaccard.from_step = 10, 20
  if experiment == "fourier":
    f = c.fourier
    f.nongrokked_mask_step, f.early_step = 20, 10
    f.steps, f.heatmap_steps = (0, 10, 30, 60), (0, 60)
  if experiment == "graphs":
    c.graphs.nongrokked_mask_step, c.graphs.variants = 20, ("grokked", "random", "snip")
  if experiment == "progress":
    c.progress.steps, c.progress.nongrokked_mask_step, c.progress.n_key = (0, 10, 30, 60), 20, 2
  return c


def test_analysis_experiments_end_to_end(tiny_config, tmp_path):
  import json
  from gtickets import experiments
  from gtickets.experiment import claims
  from gtickets.experiments import fourier, graphs, jaccard
  c = experiments.validate(_tiny_analysis_config(tiny_config, "jaccard"))
  experiments.EXPERIMENTS["jaccard"].run(c, quiet(tmp_path))
  j = json.loads((tmp_path / "jaccard.json").read_text())
  assert j["steps"] == [0, 10, 20, 30, 40, 50, 60] and j["from"] == 20
  to_final = np.asarray(j["to_final"]["all"])
  assert to_final.shape == (2, 7) and np.all(to_final[:, -1] == 0) and np.all(to_final[:, 0] > 0)
  assert np.all((np.asarray(j["consecutive"]["w_in"]) >= 0) & (np.asarray(j["consecutive"]["w_in"]) <= 1))
  assert j["coarse_steps"] == [0, 20, 40, 60]

  c = experiments.validate(_tiny_analysis_config(tiny_config, "fourier"))
  experiments.EXPERIMENTS["fourier"].run(c, quiet(tmp_path))
  f = json.loads((tmp_path / "fourier.json").read_text())
  assert list(f["series"]) == ["dense", "grokked ticket", "random ticket", "non-grokked ticket"]
  ent = np.asarray(f["series"]["dense"]["entropy"])
  assert ent.shape == (2, 4) and np.all((ent > 0) & (ent <= f["max_entropy"] + 1e-6))
  runs = json.loads((tmp_path / "nongrokked" / "runs.json").read_text())["runs"]
  assert {r["mask_step"] for r in runs} == {20}
  assert np.asarray(f["heatmaps"]["grokked ticket"]["60"]["w"]).shape == (11, 8)

  # progress (issue 37) shares the fourier run's phases here (nongrokked: mask step 20)
  c = experiments.validate(_tiny_analysis_config(tiny_config, "progress"))
  experiments.EXPERIMENTS["progress"].run(c, quiet(tmp_path))
  d = json.loads((tmp_path / "progress.json").read_text())
  assert d["steps"] == [0, 10, 30, 60]
  assert list(d["series"]) == ["dense", "grokked ticket", "random ticket", "non-grokked ticket"]
  for label, s in d["series"].items():
    assert s["seeds"] == [0, 1] and all(len(k) == 2 for k in s["key_frequencies"])
    for m in ("train_loss", "test_loss", "restricted_loss", "excluded_train", "key_share"):
      v = np.asarray(s[m])
      assert v.shape == (2, 4) and np.all(np.isfinite(v)), (label, m)
    assert np.all((np.asarray(s["key_share"]) > 0) & (np.asarray(s["key_share"]) <= 1 + 1e-9))
  # the train loss measured here is the trainer's own (its stored curves)
  curves = np.load(tmp_path / "dense" / "curves.npz")
  at = [list(curves["steps"]).index(s) for s in d["steps"]]
  np.testing.assert_allclose(d["series"]["dense"]["train_loss"], curves["train_loss"][:, at],
                             rtol=2e-4)

  c = experiments.validate(_tiny_analysis_config(tiny_config, "graphs"))
  experiments.EXPERIMENTS["graphs"].run(c, quiet(tmp_path))
  g = json.loads((tmp_path / "graphs.json").read_text())
  assert [r["kind"] for r in g["rows"]][::2] == ["dense", "grokked", "non-grokked", "random", "snip"]
  dense = [r for r in g["rows"] if r["kind"] == "dense"][0]
  assert dense["connected_fraction"] == 1.0
  # dense: every layer fully connected -> 2 hops between units two layers apart
  assert 1.0 < dense["avg_path_length"] < 4.0
  root = type("R", (dict,), {"task_rows": []})(modadd=claims.Results(str(tmp_path)))
  for fn in (jaccard.mask_changes, fourier.periodic_early, graphs.graph_measures):
    assert fn(root, str(tmp_path)).verdict in ("agrees", "partly", "no")


def test_analysis_fields_are_checked(tiny_config):
  from gtickets.config import ConfigError
  from gtickets import experiments
  c = _tiny_analysis_config(tiny_config, "fourier")
  c.fourier.steps = (0, 15)
  with pytest.raises(ConfigError, match="config.fourier.steps"):
    experiments.validate(c)
  c = _tiny_analysis_config(tiny_config, "graphs")
  c.graphs.variants = ("grokked", "l1_matched")
  with pytest.raises(ConfigError, match="config.graphs.variants"):
    experiments.validate(c)


def _graph_rows(values):
  """graphs.json rows: per kind, (path lengths, clusterings) over seeds."""
  return [{"kind": kind, "seed": s, "avg_path_length": p, "clustering": c, "spectral_gap": 1.0,
           "ramanujan_gap": 0.0, "connected_fraction": 1.0}
          for kind, (paths, clus) in values.items() for s, (p, c) in enumerate(zip(paths, clus))]


@pytest.mark.parametrize("grokked_paths,verdict,path_words", [
    ((2.30, 2.31, 2.32), "agrees", "increased average path length: yes against the other "
     "masks of the same sparsity, yes against the dense network"),
    # higher than dense, not than the other masks: the property fails its comparison
    ((2.13, 2.14, 2.13), "partly", "increased average path length: no against the other "
     "masks of the same sparsity, yes against the dense network")])
def test_g1_judges_each_property_of_the_abstract(tmp_path, grokked_paths, verdict, path_words):
  import json  # pylint: disable=import-outside-toplevel
  from gtickets.experiment import claims  # pylint: disable=import-outside-toplevel
  from gtickets.experiments import graphs as graphs_experiment  # pylint: disable=import-outside-toplevel
  rows = _graph_rows({"dense": ((1.94,) * 3, (0.86, 0.87, 0.88)),
                      "grokked": (grokked_paths, (0.26, 0.28, 0.30)),
                      "random": ((2.142,) * 3, (0.55, 0.60, 0.65)),
                      "snip": ((2.142,) * 3, (0.63, 0.66, 0.69))})
  (tmp_path / "graphs.json").write_text(json.dumps({"k": 0.6, "seeds": [0, 1, 2], "rows": rows}))
  root = type("R", (dict,), {"task_rows": []})(modadd=claims.Results(str(tmp_path)))
  f = graphs_experiment.graph_measures(root, str(tmp_path))
  assert f.verdict == verdict and path_words in f.measured, f.measured
  assert ("reduced clustering coefficient: yes against the other masks of the same sparsity, "
          "yes against the dense network") in f.measured
