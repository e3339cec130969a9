"""A phase's identity (gtickets/identity.py): declared fields less their neutral values."""
import pathlib
import shutil


from gtickets import config as config_lib
from gtickets import identity, models, tasks
import pytest

from gtickets import experiments  # noqa: F401  (registers the experiments)
from gtickets.tickets import variants
from gtickets.experiments import edge_popup as edge_popup_exp
from gtickets.experiments import imp as imp_exp

ROOT = pathlib.Path(__file__).parents[1]


def test_every_module_declares_a_neutral_value_for_each_of_its_fields():
  """Beside its defaults, each owner declares exactly its own fields' neutral values:
  config.py its sections, each task and model module its fields, each variant its
  settings, each experiment its section; no table lists another module's fields."""
  c = config_lib.default_config()
  shared = set(identity.declared_fields(c, ("seeds", "matmul_precision", "optim", "train",
                                            "ticket")))
  assert shared == set(config_lib.NEUTRAL)
  for registry in (tasks, models):
    for name, module in registry.MODULES.items():
      fields = set(module.default_config().keys()) - {"name"}
      assert fields == set(module.NEUTRAL), (name, sorted(fields ^ set(module.NEUTRAL)))
  assert set(identity.flatten({"variants": c.variants.to_dict()})) == set(variants.neutral())
  for name, module in (("edge_popup", edge_popup_exp), ("imp", imp_exp)):
    assert set(identity.flatten({name: module.section().to_dict()})) == set(module.NEUTRAL)


def test_a_field_without_a_neutral_value_or_declared_twice_is_one_line():
  c = config_lib.default_config()
  with c.unlocked():
    c.optim.new_field = 1
  with pytest.raises(ValueError, match="config.optim.new_field has no declared neutral value"):
    identity.of(c, identity.DENSE)
  with pytest.raises(ValueError, match="config.optim.lr is declared twice"):
    identity.of(config_lib.default_config(), identity.DENSE, {"optim.lr": 1e-3})


def test_file_locations_stay_out_of_an_identity_with_the_data_digest():
  c = config_lib.default_config("mnist", "feature_mlp")
  c.task.data_dir = "/somewhere/else"
  assert identity.of(c, identity.DENSE)["task.data_dir"] == "/somewhere/else"
  ided = identity.of(c, identity.DENSE, data_digest="0123456789abcdef")
  assert "task.data_dir" not in ided and ided["task.data_digest"] == "0123456789abcdef"


def test_identity_lists_exactly_the_fields_off_their_neutral_value():
  c = config_lib.default_config()
  c.model.contraction = "batch_first"
  c.train.vmap_runs = 0
  assert identity.of(c, identity.TICKETS) == {}
  c.optim.lr, c.ticket.prune_ratios = 3e-3, (0.6, 0.9)
  assert identity.of(c, identity.TICKETS) == {"optim.lr": 3e-3, "ticket.prune_ratios": [0.6, 0.9]}
  assert identity.of(c, identity.DENSE) == {"optim.lr": 3e-3}  # tickets not declared
  stored = identity.of(c, identity.TICKETS)
  assert identity.value(stored, "optim.lr") == 3e-3 and identity.value(stored, "task.p") == 67
  assert identity.first_difference(stored, {"optim.lr": 1e-2}) == (
      "config.optim.lr: stored 0.003, now 0.01")


def test_report_regenerates_from_the_stored_results_unchanged(tmp_path, monkeypatch):
  """docs/claims.md and the README's table come back byte for byte from docs/results
  (after the one migration of their identities)."""
  for name in ("README.md", "launch"):
    src = ROOT / name
    (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
  shutil.copytree(ROOT / "docs", tmp_path / "docs")
  (tmp_path / "workdirs").mkdir()  # no workdirs: everything from docs/results
  # in a copy of the checkout, what `python launch/report.py` runs there (in this process:
  # launch/report.py's own command line is tested in tests/test_claims.py)
  from gtickets import signals  # pylint: disable=import-outside-toplevel
  from gtickets.commands import report  # pylint: disable=import-outside-toplevel
  monkeypatch.setattr(signals, "ignore_stops", lambda: None)
  monkeypatch.chdir(tmp_path)
  report.write(report.parser().parse_args([]), str(ROOT))
  assert (tmp_path / "docs" / "claims.md").read_text() == (ROOT / "docs" / "claims.md").read_text()
  assert (tmp_path / "README.md").read_text() == (ROOT / "README.md").read_text()
