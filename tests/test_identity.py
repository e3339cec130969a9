"""A phase's identity (gtickets/identity.py): declared fields less their neutral values."""
import pathlib
import shutil
import subprocess
import sys


from gtickets import config as config_lib
from gtickets import identity, models, tasks
from gtickets import experiments
from gtickets.experiments import edge_popup as edge_popup_exp
from gtickets.experiments import imp as imp_exp

ROOT = pathlib.Path(__file__).parents[1]


def every_field():
  """Every field a phase can declare: the shared sections, each task's and model's."""
  c = config_lib.default_config()
  fields = set(identity.declared_fields(c, identity.TICKETS))
  for name in tasks.MODULES:
    fields |= set(identity.flatten({"task": tasks.default_config(name).to_dict()}))
  for name, module in models.MODULES.items():
    fields |= set(identity.flatten({"model": module.default_config().to_dict()}))
  return fields


def test_every_field_has_a_pinned_neutral_value():
  unpinned = every_field() - set(identity.NEUTRAL)
  assert not unpinned, f"pin these in identity.NEUTRAL: {sorted(unpinned)}"
  for name, module in (("edge_popup", edge_popup_exp), ("imp", imp_exp)):
    assert set(identity.flatten({name: module.section().to_dict()})) == set(module.NEUTRAL)


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


def test_report_regenerates_from_the_stored_results_unchanged(tmp_path):
  """docs/claims.md and the README's table come back byte for byte from docs/results
  (after the one migration of their identities)."""
  for name in ("README.md", "launch"):
    src = ROOT / name
    (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
  shutil.copytree(ROOT / "docs", tmp_path / "docs")
  (tmp_path / "workdirs").mkdir()  # no workdirs: everything from docs/results
  # from a copy of the checkout, as `python launch/report.py` runs there
  out = subprocess.run([sys.executable, str(ROOT / "launch" / "report.py")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  assert (tmp_path / "docs" / "claims.md").read_text() == (ROOT / "docs" / "claims.md").read_text()
  assert (tmp_path / "README.md").read_text() == (ROOT / "README.md").read_text()
