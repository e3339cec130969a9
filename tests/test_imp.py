"""Iterative magnitude pruning (experiments/imp.py): nested masks, rewinding, bad input."""
import json

import jax
import numpy as np
import pytest

from gtickets import experiments
from gtickets.config import ConfigError
from gtickets.experiments import imp
from gtickets.training import checkpoints
from gtickets.tickets import masks as masks_lib
from conftest import quiet


def _imp_config(tiny_config, **fields):
  c = experiments.use(tiny_config, "imp")
  c.imp.rates, c.imp.levels, c.imp.rewind_steps = (0.5, 0.3), 2, (0, 20)
  for name, value in fields.items():
    c.imp[name] = value
  return experiments.validate(c)


def _tree(tree, i):
  return jax.tree.map(lambda x: np.asarray(x[i]), tree)


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_a_level_is_one_phase_of_every_seed_rate_and_rewind_step_nested_in_the_last(
    tiny_config, tmp_path, scope):
  tiny_config.ticket.scope = scope
  c = _imp_config(tiny_config)
  assert imp.ratios(c) == [0.3, 0.5, 0.51, 0.75]
  text, files = experiments.EXPERIMENTS["imp"].run(c, quiet(tmp_path))
  runs = {L: json.loads((tmp_path / f"imp_wd1_level0{L}" / "runs.json").read_text())["runs"]
          for L in (1, 2)}
  chain = lambda r: (r["imp_rate"], r["imp_rewind"], r["seed"])
  # one phase per level: 2 rates x 2 rewind steps x 2 seeds, trained as one program
  assert sorted(map(chain, runs[1])) == sorted(map(chain, runs[2])) == sorted(
      (a, j, s) for a in (0.5, 0.3) for j in (0, 20) for s in (0, 1))
  assert {(r["imp_rate"], r["prune_ratio"]) for r in runs[2]} == {(0.5, 0.75), (0.3, 0.51)}
  masks = {L: checkpoints.load_tree(str(tmp_path / f"imp_wd1_level0{L}" / "masks"))
           for L in (1, 2)}
  n = int(masks_lib.count_total(_tree(masks[1], 0)))
  dense = {j: checkpoints.restore_params(str(tmp_path / "dense" / "checkpoints"), j)
           for j in (0, 20)}
  starts = {L: checkpoints.restore_params(str(tmp_path / f"imp_wd1_level0{L}" / "checkpoints"),
                                          0) for L in (1, 2)}
  for r in runs[2]:
    parent = runs[1][r["base_run"]]
    assert chain(parent) == chain(r)  # each run continues its own chain
    a, b = _tree(masks[1], parent["run"]), _tree(masks[2], r["run"])
    assert all(np.all(b[k] <= a[k]) for k in a)  # level 2 keeps a subset of level 1
    kept = n - round(n * r["prune_ratio"])
    assert abs(int(masks_lib.count_kept(b)) - kept) <= (1 if scope == "global" else len(b))
    if scope == "layer":  # each matrix keeps its own size - round(size k_L)
      per = {k: (int(b[k].sum()), b[k].size - round(b[k].size * r["prune_ratio"]))
             for k in b if not np.all(b[k] == 1)}
      assert per and all(abs(have - want) <= 1 for have, want in per.values()), per
    # every level starts from the dense weights at the chain's rewind step where it keeps
    for L, run, m in ((1, parent, a), (2, r, b)):
      start, theta = _tree(starts[L], run["run"]), _tree(dense[r["imp_rewind"]], r["seed"])
      for k in start:
        np.testing.assert_array_equal(start[k][m[k] > 0], theta[k][m[k] > 0])
  out = json.loads((tmp_path / "imp_wd1.json").read_text())
  for ch in out["chains"]:  # one level of IMP is the one-shot ticket at that k
    level1, oneshot = ch["imp"][0], ch["oneshot"][0]
    assert level1["k"] == ch["rate"] and {**level1, "level": None} == {**oneshot, "level": None}
  assert "Frontier" in text and sorted(files) == ["imp_wd1.json", "imp_wd1.md", "imp_wd1.png"]


@pytest.mark.parametrize("fields,words", [
    ({"rates": (1.0,)}, "config.imp.rates=(1.0,) is invalid: one or more rates, each in (0, 1)"),
    ({"rates": ()}, "config.imp.rates=() is invalid"),
    ({"rates": (0.2, 0.2)}, "must not repeat a value"),
    ({"rates": (0.2, 0.9), "levels": 40}, "would prune every one of the"),
    ({"rewind_steps": (25,)}, "multiples of train.eval_every=10"),
    ({"rewind_steps": (0, 0)}, "must not repeat a value"),
])
def test_bad_imp_settings_stop_before_any_compute(tiny_config, fields, words):
  with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
    _imp_config(tiny_config, **fields)


def _payload(imp_t, oneshot_t, late_imp_t):
  """One rate, two levels x two seeds; t_gen lists per level, rewind 0 and rewind 200."""
  point = lambda k, t: {"k": k, "t_gen": t, "final_test_acc": [1.0, 1.0], "diverged": [0, 0]}
  pts = lambda ts: [{**point(k, t), "level": i} for i, (k, t) in enumerate(zip((0.2, 0.36), ts), 1)]
  chain = lambda j, imp_: {"rate": 0.2, "rewind": j, "imp": pts(imp_), "oneshot": pts(oneshot_t)}
  return {"budget": 1000, "threshold": 0.95, "ks": [0.2, 0.36], "rates": [0.2], "tag": "wd1",
          "seeds": [0, 1],
          "rewind_steps": [0, 200], "oneshot": {"0": pts(oneshot_t), "200": pts(oneshot_t)},
          "chains": [chain(0, imp_t), chain(200, late_imp_t)]}


def test_the_imp_questions_follow_their_rules(tmp_path):
  from gtickets.experiment import claims
  d = tmp_path / "modadd_imp"
  d.mkdir()
  # wd1: IMP 4x sooner than one-shot, one-shot fails at 0.36; rewind 200 2x sooner
  (d / "imp_wd1.json").write_text(json.dumps(_payload(
      [[100, 100], [100, 100]], [[400, 400], [None, 400]], [[50, 50], [50, 50]])))
  # wd0: IMP no sooner, same frontier; rewind 200 no sooner
  (d / "imp_wd0.json").write_text(json.dumps(_payload(
      [[100, 100], [100, 100]], [[100, 100], [100, 100]], [[100, 100], [100, 100]])))
  root = {"modadd_imp": claims.Results(str(d))}
  i1 = imp.imp_sooner(root, str(tmp_path))
  assert i1.verdict == "partly" and i1.measured.startswith("wd1: one-shot / IMP median 4x")
  assert "**wd0**" in i1.details and i1.details.count("Frontier (highest k") == 2
  i2 = imp.imp_frontier(root, str(tmp_path))
  assert i2.verdict == "partly" and "wd1: IMP >= 0.360 vs one-shot 0.200" in i2.measured
  assert "IMP rate 0.2, rewind 0: k >= 0.360 (64.0% kept, the last k measured)" in (
      imp.frontier_text(json.loads((d / "imp_wd1.json").read_text())))
  i3 = imp.early_rewinding(root, str(tmp_path))
  assert i3.verdict == "partly" and "wd1: rewind 0 / rewind 200 median 2x" in i3.measured


def test_the_report_names_every_command_that_filled_a_shared_workdir(tmp_path):
  from gtickets.experiment import claims
  launches = [("imp", "a", "finished"), ("imp", "b", "interrupted"), ("imp", "c", "finished"),
              ("main", "d", "finished"), ("imp", "a", "finished")]
  (tmp_path / "launches.jsonl").write_text("".join(
      json.dumps({"experiment": e, "command": c, "status": s}) + "\n" for e, c, s in launches))
  res = claims.Results(str(tmp_path))
  assert res.finished_command("imp", "x") == "a; c"
  assert res.finished_command("edge_popup", "x") == "x"


def test_the_memory_estimate_counts_imps_largest_phase(tiny_config):
  from gtickets.experiment.setup import make_setup
  from gtickets.experiment.pipeline import memory_estimate
  c = _imp_config(tiny_config)  # 2 seeds; 4 ks in one-shot; 2 rates x 2 rewind steps a level
  largest = experiments.EXPERIMENTS["imp"].largest_phase
  assert largest(c) == 8
  c.imp.rewind_steps = (0, 10, 20)
  assert largest(c) == 12  # a level: 2 seeds x 2 rates x 3 rewind steps
  need, what = memory_estimate(make_setup(c), largest(c))
  assert what.startswith("12 runs x ") and need > memory_estimate(make_setup(c))[0]
