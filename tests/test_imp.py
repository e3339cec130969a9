"""Iterative magnitude pruning (experiments/imp.py): nested masks, rewinding, bad input."""
import json

import jax
import numpy as np
import pytest

from gtickets import experiments
from gtickets.config import ConfigError
from gtickets.experiments import imp
from gtickets.tickets import checkpoints
from gtickets.tickets import masks as masks_lib


def _imp_config(tiny_config, **fields):
  c = experiments.use(tiny_config, "imp")
  c.imp.rate, c.imp.levels, c.imp.rewind_steps = 0.5, 2, (20,)
  for name, value in fields.items():
    c.imp[name] = value
  return experiments.validate(c)


def test_levels_nest_rewind_to_the_dense_step_and_match_one_shot_at_level_one(tiny_config,
                                                                               tmp_path):
  c = _imp_config(tiny_config)
  assert imp.ratios(c) == [0.5, 0.75]
  text, files = experiments.EXPERIMENTS["imp"].run(c, str(tmp_path), progress=False)
  load = lambda phase: checkpoints.load_tree(str(tmp_path / phase / "masks"))
  m1, m2 = load("imp_wd1_rewind20_level01"), load("imp_wd1_rewind20_level02")
  n = int(masks_lib.count_total(jax.tree.map(lambda x: x[0], m1)))
  for run in range(2):
    a, b = (jax.tree.map(lambda x: np.asarray(x[run]), m) for m in (m1, m2))
    assert all(np.all(b[k] <= a[k]) for k in a)  # level 2 keeps a subset of level 1
    removed = lambda m: n - int(masks_lib.count_kept(m))
    assert removed(b) - removed(a) > 0
  # every level starts from the dense weights at step 20 on the weights it keeps
  theta = checkpoints.restore_params(str(tmp_path / "dense" / "checkpoints"), 20)
  for phase, m in (("imp_wd1_rewind20_level01", m1), ("imp_wd1_rewind20_level02", m2)):
    start = checkpoints.restore_params(str(tmp_path / phase / "checkpoints"), 0)
    for k in start:
      kept = np.asarray(m[k], bool)
      np.testing.assert_array_equal(np.asarray(start[k])[kept], np.asarray(theta[k])[kept])
  runs = json.loads((tmp_path / "imp_wd1_rewind20_level02" / "runs.json").read_text())["runs"]
  assert [r["prune_ratio"] for r in runs] == [0.75, 0.75] and runs[0]["variant"] == "imp"
  out = json.loads((tmp_path / "imp_wd1.json").read_text())
  level1, oneshot = (out["chains"]["20"][m][0] for m in ("imp", "oneshot"))
  assert level1 == oneshot  # one level of IMP is the one-shot ticket at that k
  assert "Frontier" in text and sorted(files) == ["imp_wd1.json", "imp_wd1.md", "imp_wd1.png"]


@pytest.mark.parametrize("fields,words", [
    ({"rate": 1.0}, "config.imp.rate=1.0 is invalid: must be in (0, 1)"),
    ({"rate": 0.9, "levels": 40}, "would prune every one of the"),
    ({"rewind_steps": (25,)}, "multiples of train.eval_every=10"),
    ({"rewind_steps": (0, 0)}, "must not repeat a value"),
])
def test_bad_imp_settings_stop_before_any_compute(tiny_config, fields, words):
  with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
    _imp_config(tiny_config, **fields)


def _payload(imp_t, oneshot_t, late_imp_t):
  """Two levels x two seeds; t_gen lists per level, rewind 0 and rewind 200."""
  point = lambda k, t: {"k": k, "t_gen": t, "final_test_acc": [1.0, 1.0], "diverged": [0, 0]}
  chain = lambda imp_, one: {"imp": [point(k, t) for k, t in zip((0.2, 0.36), imp_)],
                             "oneshot": [point(k, t) for k, t in zip((0.2, 0.36), one)]}
  return {"budget": 1000, "threshold": 0.95, "ks": [0.2, 0.36], "rate": 0.2, "tag": "wd1",
          "chains": {"0": chain(imp_t, oneshot_t), "200": chain(late_imp_t, oneshot_t)}}


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
  i2 = imp.imp_frontier(root, str(tmp_path))
  assert i2.verdict == "partly" and "wd1: IMP 0.360 vs one-shot 0.200" in i2.measured
  i3 = imp.early_rewinding(root, str(tmp_path))
  assert i3.verdict == "partly" and "wd1: rewind 0 / rewind 200 median 2x" in i3.measured
