"""The masked MLP as graphs, with networkx (paper App. J/K).

The paper views the pruned network "as a relational graph" (You et al. 2020)
without giving the construction; a plain layered graph has no triangles, so
its clustering coefficient is always 0. Two graphs are used here, built from a
chain of weight matrices (for the paper's MLP: embed, w_in, w_out, unembed),
each entry kept by the mask an edge weighted by |w|:

* **layered graph**: one node per unit of each layer (tokens, embedding units,
  hidden neurons, output-embedding units, logits), an edge per kept weight.
  Average shortest path length (hops, over the largest connected component:
  pruning can cut units off), weighted spectral gap lambda_0 - lambda_1 of the
  weighted adjacency matrix, and the Ramanujan gap 2 sqrt(d_avg - 1) - mu of the
  unweighted graph (d_avg = mean degree, mu = largest non-trivial |eigenvalue|:
  the third-largest for a bipartite graph, whose spectrum is symmetric, as this
  layered graph is; 2 sqrt(d - 1) is the Ramanujan bound for d-regular graphs;
  PAPER.md writes sqrt(2 d_avg - 1), which we take for a transcription slip).
* **hidden-neuron projection**: the relational graph among the hidden neurons,
  which exchange messages through the embedding units: neurons i and j are
  linked with weight sum_e |w_in[e, i] w_in[e, j]| + sum_e |w_out[i, e] w_out[j, e]|
  (a one-mode projection of the two bipartite layers around them). Its average
  clustering coefficient (networkx, weighted: geometric mean of the triangle's
  weights, normalized by the largest) is the clustering reported.

Which weights: the caller's; the graphs analysis uses theta_0 * mask, so every
kind of mask is compared on the same initial weights without training.
"""
import networkx as nx
import numpy as np
from scipy.sparse import csgraph


def layered_graph(matrices):
  """Graph with nodes (layer, unit) and an edge per nonzero entry of each matrix
  (matrix l maps layer l to layer l + 1), weighted by its absolute value."""
  g = nx.Graph()
  for l, m in enumerate(matrices):
    m = np.asarray(m)
    if l == 0:
      g.add_nodes_from((0, i) for i in range(m.shape[0]))
    g.add_nodes_from((l + 1, j) for j in range(m.shape[1]))
    rows, cols = np.nonzero(m)
    g.add_weighted_edges_from(((l, int(i)), (l + 1, int(j)), float(abs(m[i, j])))
                              for i, j in zip(rows, cols))
  return g


def hidden_projection(w_in, w_out):
  """The hidden neurons' relational graph: weights |w_in|^T |w_in| + |w_out| |w_out|^T
  off the diagonal (an edge where the weight is > 0)."""
  a, b = np.abs(np.asarray(w_in, np.float64)), np.abs(np.asarray(w_out, np.float64))
  shared = a.T @ a + b @ b.T
  np.fill_diagonal(shared, 0.0)
  g = nx.Graph()
  g.add_nodes_from(range(shared.shape[0]))
  i, j = np.nonzero(np.triu(shared))
  g.add_weighted_edges_from((int(x), int(y), float(shared[x, y])) for x, y in zip(i, j))
  return g


def average_path_length(g):
  """(average shortest path length in hops over the largest connected component,
  the fraction of nodes in that component)."""
  if g.number_of_nodes() == 0:
    return float("nan"), 0.0
  largest = list(max(nx.connected_components(g), key=len))
  n = len(largest)
  if n == 1:
    return 0.0, 1 / g.number_of_nodes()
  # hop counts from every node by scipy's breadth-first search (compiled): the
  # same integers, summed exactly, as nx.average_shortest_path_length, ~100x faster
  hops = csgraph.shortest_path(nx.to_scipy_sparse_array(g, nodelist=largest, weight=None),
                               unweighted=True, directed=False)
  return float(hops.sum() / (n * (n - 1))), n / g.number_of_nodes()


def _eigenvalues(g, weight):
  a = nx.to_numpy_array(g, weight=weight)
  return np.sort(np.linalg.eigvalsh(a))[::-1]


def spectral_gap(g):
  """lambda_0 - lambda_1 of the weighted adjacency matrix."""
  ev = _eigenvalues(g, "weight")
  return float(ev[0] - ev[1])


def ramanujan_gap(g):
  """2 sqrt(d_avg - 1) - mu of the unweighted graph (mu: the largest non-trivial
  |eigenvalue|, skipping -lambda_0 too when the graph is bipartite)."""
  ev = _eigenvalues(g, None)
  d_avg = 2.0 * g.number_of_edges() / g.number_of_nodes()
  mags = np.sort(np.abs(ev))[::-1]
  mu = mags[2] if nx.is_bipartite(g) else mags[1]
  return float(2.0 * np.sqrt(max(d_avg - 1.0, 0.0)) - mu)


def clustering(g):
  """Weighted average clustering coefficient (networkx)."""
  return float(nx.average_clustering(g, weight="weight"))


def mlp_measures(params, mask):
  """All graph measures of the paper's MLP (embed, w_in, w_out, unembed) under ``mask``."""
  names = ("embed", "w_in", "w_out", "unembed")
  m = [np.asarray(params[k]) * np.asarray(mask[k]) for k in names]
  layered = layered_graph(m)
  apl, connected = average_path_length(layered)
  return {"avg_path_length": apl, "connected_fraction": connected,
          "spectral_gap": spectral_gap(layered), "ramanujan_gap": ramanujan_gap(layered),
          "clustering": clustering(hidden_projection(m[1], m[2]))}
