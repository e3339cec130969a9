"""The claims report: effect sizes, verdict rules, and launch/report.py end to end."""
import json
import re
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from gtickets import signals
from gtickets.experiment import claims
from helpers import file_digests
from gtickets.experiments import (accelerators, critical_ratio, main, other_tasks, pai,
                                  precision, prune_ratio, pruning_time)
from gtickets.training.trainer import METRICS

ROOT = pathlib.Path(__file__).parents[1]
from gtickets.commands import claims_report, jobs as jobs_lib  # noqa: E402


def test_speedup_counts_not_reached_as_the_budget_and_says_so():
  assert claims.speedup(25_500, 1_200, 30_000) == claims.Speedup(21.25)
  assert claims.speedup(None, 1_000, 30_000) == claims.Speedup(30.0, ">=")
  assert claims.speedup(3_000, None, 30_000) == claims.Speedup(0.1, "<=")
  assert claims.speedup(None, None, 30_000).value is None
  assert str(claims.speedup(None, 1_000, 30_000)) == ">=30x"
  assert str(claims.speedup(None, None, 30_000)) == "n/a"


def test_summarize_median_range_and_bounds():
  med, text = claims.summarize([claims.Speedup(2.0), claims.Speedup(10.0),
                                claims.Speedup(30.0, ">="), claims.Speedup(None)])
  assert med == 10.0
  assert text == ("median 10x (range 2x-30x; 1 lower bound: the slower run never reached it; "
                  "1 with neither reaching it)")
  assert claims.summarize([claims.Speedup(None)])[0] is None


def _phase(directory, rows, steps=(0, 100, 200)):
  directory.mkdir(parents=True)
  (directory / "summary.json").write_text(json.dumps(rows))
  n = len(rows)
  np.savez(directory / "curves.npz", steps=np.array(steps),
           **{k: np.zeros((n, len(steps)), np.float32) for k in METRICS})


def _row(variant, seed, t_gen, **kw):
  return {"run": 0, "variant": variant, "seed": seed, "prune_ratio": kw.pop("k", 0.6),
          "t_gen": t_gen, "t_mem": kw.pop("t_mem", 100), "tau_grok": kw.pop("tau", None),
          "final_test_acc": kw.pop("final", 1.0), "mask_step": kw.pop("mask_step", None),
          "base_run": kw.pop("base_run", seed), **kw}


class _Root(dict):
  task_rows = []


def test_c1_per_seed_speedups_and_verdict(tmp_path):
  _phase(tmp_path / "dense", [_row("dense", 0, 20_000), _row("dense", 1, None),
                              _row("dense", 2, 15_000)], steps=(0, 15_000, 30_000))
  _phase(tmp_path / "tickets", [_row("grokked", s, t, mask_step=30_000) for s, t in
                                ((0, 1_000), (1, 3_000), (2, 15_000))]
         + [_row("random", 0, None)], steps=(0, 15_000, 30_000))
  curves = dict(np.load(tmp_path / "dense" / "curves.npz"))
  curves["test_acc"][:, -1] = [0.99, 0.5, 1.0]  # seed 1's base had not generalized
  np.savez(tmp_path / "dense" / "curves.npz", **curves)
  split = tmp_path / "split"
  root = _Root(modadd=claims.Results(str(tmp_path)), modadd_split_seeds=claims.Results(
      str(split)))
  f = main.main_speedup(root, str(tmp_path))
  assert "With a split per seed (`task.data_seed = -1`): not measured yet" in f.details
  # speed-ups 20, >=10 (dense never reached: budget 30,000 / 3,000), 1: median 10
  assert f.measured.endswith("median >=10x (range 1x-20x; 1 lower bound: the slower run "
                             "never reached it)")
  assert f.verdict == "agrees"
  squeezed = re.sub(" +", " ", f.details)  # table cells, whatever their padding
  assert ("| 1 | - | 3,000 | 100 | 0.500 (below threshold: not grokked) | | >=10x | "
          "1.000 / 1.000 / - |") in squeezed
  assert "| 0 | 20,000 | 1,000 | 100 | 0.990 | - | 20x |" in squeezed
  assert (tmp_path / "claim_c1.png").exists()
  # the split-per-seed workdir: its own table and median, the verdict unchanged
  _phase(split / "dense", [_row("dense", s, 20_000, data_seed=s) for s in (0, 1)],
         steps=(0, 15_000, 30_000))
  _phase(split / "tickets", [_row("grokked", s, t, data_seed=s)
                             for s, t in ((0, 500), (1, 4_000))], steps=(0, 15_000, 30_000))
  g = main.main_speedup(root, str(tmp_path))
  assert g.verdict == f.verdict and g.measured == f.measured
  assert "seed s on split s" in g.details and "median 22x (range 5x-40x)" in g.details
  assert "| 1 | 1 | 20,000 | 4,000 | | 5x |" in re.sub(" +", " ", g.details)
  # the same numbers with a median of 2: only "partly"
  (tmp_path / "tickets" / "summary.json").write_text(json.dumps(
      [_row("grokked", 0, 10_000), _row("grokked", 1, 30_000), _row("grokked", 2, 7_500)]))
  assert main.main_speedup(root, str(tmp_path)).verdict == "partly"


def test_c5_verdict_rule(tmp_path):
  rows = []
  for k, taus in {0.3: (40, 50), 0.6: (20, 30), 0.9: (None, None)}.items():
    for s, tau in enumerate(taus):
      rows.append(_row("grokked", s, None if tau is None else tau * 100, k=k, tau=tau))
  _phase(tmp_path / "prune_ratio", rows)
  root = _Root(modadd_prune_ratio=claims.Results(str(tmp_path)))
  f = prune_ratio.tau_grok_by_k(root, str(tmp_path))
  assert f.verdict == "agrees"
  assert f.measured == "smallest mean tau_grok at k = 0.6 (25.0); k = 0.9 fails on every seed"
  rows[-1]["t_gen"], rows[-1]["tau_grok"] = 9_000, 90  # k = 0.9 generalizes on seed 1
  (tmp_path / "prune_ratio" / "summary.json").write_text(json.dumps(rows))
  assert prune_ratio.tau_grok_by_k(root, str(tmp_path)).verdict == "partly"


def test_missing_results_are_not_measured():
  root = _Root(modadd=claims.Results("/nonexistent"))
  with pytest.raises(claims.NotMeasured):
    main.main_speedup(root, "/tmp")


def test_every_claim_is_registered_once():
  ids = [c.id for c in claims.CLAIMS]
  assert len(ids) == len(set(ids))
  assert {"C1", "C2", "C3", "C4", "C5", "C9", "C10", "P1"} <= set(ids)


def _report_args(tmp_path, *extra):
  return [f"--workdirs={tmp_path / 'workdirs'}", f"--results={tmp_path / 'results'}",
          f"--docs={tmp_path / 'docs'}", f"--readme={tmp_path / 'README.md'}",
          f"--jobs={tmp_path / 'jobs.txt'}", f"--claims_jobs={tmp_path / 'claims_jobs.txt'}",
          *extra]


def _report(tmp_path, *extra):
  """launch/report.py as a command."""
  return subprocess.run([sys.executable, str(ROOT / "launch" / "report.py"),
                         *_report_args(tmp_path, *extra)], cwd=ROOT, capture_output=True,
                        text=True)


def _report_here(tmp_path, capsys, monkeypatch, *extra):
  """The same report in this process (what launch/report.py runs, without its start-up
  cost): a CompletedProcess-like result with the exit status and the printed text."""
  from gtickets.commands import report  # pylint: disable=import-outside-toplevel
  monkeypatch.setattr(signals, "ignore_stops", lambda: None)  # the test process keeps its own
  monkeypatch.chdir(ROOT)
  capsys.readouterr()
  code = 0
  try:
    report.write(report.parser().parse_args(_report_args(tmp_path, *extra)), str(ROOT))
  except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 1
    if not isinstance(e.code, int) and e.code is not None:
      print(e.code, file=sys.stderr)
  out = capsys.readouterr()
  return subprocess.CompletedProcess([], code, out.out, out.err)


def test_report_end_to_end_on_a_quick_workdir(tmp_path, capsys, monkeypatch):
  workdirs = tmp_path / "workdirs"
  tiny = ["--config=configs/modadd.py:quick", "--config.task.p=11", "--config.model.d_embed=16",
          "--config.model.d_hidden=8", "--config.train.num_steps=40",
          "--config.train.eval_every=10", "--config.train.ckpt_every=20"]
  launch = lambda *a: subprocess.run(
      [sys.executable, str(ROOT / "launch" / "main.py"), *tiny,
       f"--workdir={workdirs / 'modadd'}", "--noprogress", *a], cwd=ROOT, check=True,
      capture_output=True)
  launch()
  readme = tmp_path / "README.md"
  readme.write_text("intro\n<!-- claims:begin -->\nold table\n<!-- claims:end -->\nrest\n")
  (tmp_path / "jobs.txt").write_text("modadd " + " ".join(tiny) + "\n")
  (tmp_path / "claims_jobs.txt").write_text("# none\n")
  out = _report(tmp_path)
  assert out.returncode == 0, out.stderr
  assert "verified files copied" in out.stdout
  mirrored = sorted(file_digests(tmp_path / "results"))
  assert "modadd/launches.jsonl" in mirrored and "modadd/tickets/curves.npz" in mirrored
  assert not any("checkpoints" in p or "masks" in p or "metrics" in p for p in mirrored)
  text = readme.read_text()
  assert "old table" not in text and text.startswith("intro\n") and text.endswith("rest\n")
  assert "| [C1](docs/claims.md#c1): A grokked ticket" in text and "| not measured yet |" in text
  md = (tmp_path / "docs" / "claims.md").read_text()
  assert f"`python launch/main.py {' '.join(tiny)}` | 0, 1, 2 |" in md
  assert "## C2" in md and "Not measured yet" in md
  assert (tmp_path / "docs" / "figures" / "claim_c1.png").exists()

  # another config's launch in the claim's workdir (here: another threshold, which
  # re-measures the phases' summaries) is never published; the committed files stay
  committed = file_digests(tmp_path / "results")
  launch("--config.threshold=0.5")
  out = _report_here(tmp_path, capsys, monkeypatch)
  assert out.returncode == 0, out.stderr
  assert "kept the committed results" in out.stdout and "changed after its launch" in out.stdout
  assert file_digests(tmp_path / "results") == committed
  # a cut line in a committed launches.jsonl: refused by the manifest (one line naming
  # the file, nothing written); taken as it is (--accept_edits), C1 would lose its
  # measurement: named on the terminal, refused unless --allow_unmeasured
  path = tmp_path / "results" / "modadd" / "launches.jsonl"
  path.write_text(path.read_text()[:-40])
  docs = file_digests(tmp_path / "docs")
  out = _report_here(tmp_path, capsys, monkeypatch)
  assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
  assert out.stderr.strip().splitlines() == [
      f"error: {path} does not match the digest the report wrote: committed results change "
      f"only through this report; restore them (git checkout -- {tmp_path / 'results'}) or, "
      "if the change is meant, rerun with --accept_edits"]
  out = _report_here(tmp_path, capsys, monkeypatch, "--accept_edits")
  assert out.returncode == 1 and "C1 was measured (" in out.stderr and (
      "launches.jsonl line" in out.stderr), out.stderr
  assert file_digests(tmp_path / "docs") == docs
  out = _report_here(tmp_path, capsys, monkeypatch, "--accept_edits", "--allow_unmeasured")
  assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
  assert "launches.jsonl line" in (tmp_path / "docs" / "claims.md").read_text()
  assert not list((tmp_path / "docs").glob(".report-*"))  # no staging left behind
  # a missing jobs file: one line
  out = _report_here(tmp_path, capsys, monkeypatch, f"--jobs={tmp_path / 'nope.txt'}")
  assert out.returncode != 0 and out.stderr.strip().splitlines() == [
      f"error: --jobs={tmp_path / 'nope.txt'} is not a file"]


def test_readme_headline_is_the_first_clause_without_parentheses():
  assert claims_report.headline("grokked t_gen 500 / - vs dense 9,000 / -: median 18x (range "
                             "5x-31x; 1 with (neither) reaching it); more") == (
      "grokked t_gen 500 / - vs dense 9,000 / -: median 18x")


def test_report_refuses_a_readme_without_markers(tmp_path):
  readme = tmp_path / "README.md"
  readme.write_text("no markers\n")
  with pytest.raises(jobs_lib.ReportError, match="markers"):
    claims_report.readme_with_table(readme.read_text(), str(readme), "table")
  assert readme.read_text() == "no markers\n"


def test_c2_non_grokked_tickets_chosen_by_the_base_test_accuracy(tmp_path):
  steps = (0, 100, 200, 300)
  _phase(tmp_path / "dense", [_row("dense", 0, 300), _row("dense", 1, None)], steps=steps)
  with np.load(tmp_path / "dense" / "curves.npz") as z:
    curves = {k: z[k] for k in z.files}
  curves["test_acc"] = np.array([[0.0, 0.05, 0.5, 0.96], [0.0, 0.0, 0.08, 0.2]], np.float32)
  np.savez(tmp_path / "dense" / "curves.npz", **curves)
  rows = [_row("grokked", s, t, mask_step=m, base_run=s)
          for s, m, t in [(0, 100, 300), (0, 200, 100), (1, 100, None), (1, 200, 200)]]
  _phase(tmp_path / "pruning_time", rows, steps=steps)
  f = pruning_time.non_grokked_tickets(_Root(modadd_ablations=claims.Results(str(tmp_path))),
                                 str(tmp_path))
  # non-grokked (base test acc <= 0.1): seed 0 @100 (1x), seed 1 @100 (n/a), seed 1 @200 (>=1.5x)
  assert f.measured.startswith("3 tickets cut at base test acc <= 0.1 (steps 100-200): 2 reach")
  assert "median >=1.2x (range 1x-1.5x" in f.measured
  assert f.verdict == "agrees"
  assert "| 200 | 100 (0.50) | 200 (0.08) |" in f.details


def test_c3_no_faster_than_dense_rule(tmp_path):
  _phase(tmp_path / "dense", [_row("dense", 0, 1_000), _row("dense", 1, 2_000)])
  _phase(tmp_path / "pai", [_row("grokked", 0, 100), _row("grokked", 1, 100),
                            _row("random", 0, None), _row("random", 1, 4_000),
                            _row("snip", 0, 500), _row("snip", 1, 500),
                            _row("grasp", 0, 1_000), _row("grasp", 1, 2_000),
                            _row("synflow", 0, None), _row("synflow", 1, None)],
         steps=(0, 5_000, 10_000))
  root = _Root(modadd_ablations=claims.Results(str(tmp_path)))
  f = pai.pai_masks(root, str(tmp_path))
  assert f.verdict == "partly"  # SNIP is 2x / 4x faster than dense, the others are not
  assert "snip: over dense median 3x (range 2x-4x)" in f.measured
  assert "random: over dense median <=0.3x (range 0.1x-0.5x; 1 upper bound" in f.measured
  # variants with the same ratios share one clause
  (tmp_path / "pai" / "summary.json").write_text(json.dumps(
      [_row("grokked", 0, 100), _row("grokked", 1, 100)]
      + [_row(v, s, t) for v in ("random", "snip", "grasp", "synflow")
         for s, t in ((0, None), (1, 4_000))]))
  f = pai.pai_masks(root, str(tmp_path))
  assert f.measured.startswith("random, snip, grasp, synflow: over dense median <=0.3x")
  assert f.measured.count("over dense") == 1


def test_c9_critical_ratio_rule(tmp_path):
  (tmp_path / "critical_ratio.json").write_text(json.dumps(
      {"critical_ratio": 0.8, "history": [{"step": 0.1, "ks": [0.7, 0.8, 0.9]}]}))
  _phase(tmp_path / "critical_ratio_0",
         [_row("dense", 0, None, k=0.0, final=0.0)]
         + [_row("grokked", 0, t, k=k, final=f)
            for k, t, f in [(0.7, 900, 0.99), (0.8, 1_000, 0.97), (0.9, None, 0.2)]])
  root = _Root(modadd_ablations=claims.Results(str(tmp_path)))
  f = critical_ratio.critical_prune_ratio(root, str(tmp_path))
  assert f.verdict == "agrees"  # 0.8 is within 0.05 of 0.81 and dense fails
  assert f.measured == ("critical k = 0.8 (every seed reaches 0.95 within 200 steps at k = "
                        "0.7, 0.8); mean final test acc of the tickets peaks at k = 0.7 (0.99) "
                        "and is 0.20 at k = 0.9; dense at wd 0 reaches 0.95 on 0/1 seeds (mean "
                        "final 0.00)")
  (tmp_path / "critical_ratio.json").write_text(json.dumps(
      {"critical_ratio": None, "history": [{"step": 0.1, "ks": [0.7, 0.8, 0.9]}]}))
  f = critical_ratio.critical_prune_ratio(root, str(tmp_path))
  assert f.verdict == "no" and f.measured.startswith(
      "no k reaches 0.95 on every seed within 200 steps; mean final test acc")


def test_c10_rows_from_the_jobs_list(tmp_path):
  for name, dense_t, ticket_t, dense_final, ticket_final in [
      ("mod_mul_mlp", 2_000, 500, 1.0, 1.0), ("mod_random_mlp", None, None, 0.2, 0.3)]:
    _phase(tmp_path / name / "dense", [_row("dense", 0, dense_t, final=dense_final)])
    controls = [_row("random", 0, 1_500)] if name == "mod_mul_mlp" else []
    _phase(tmp_path / name / "tickets",
           [_row("grokked", 0, ticket_t, final=ticket_final)] + controls)
    # mod_random_mlp was trained before the contraction order was a field: batch first
    model = {"model.contraction": "cheapest"} if name == "mod_mul_mlp" else {}
    op = {"task.operation": name.split("_")[1]}  # the labels come from the stored settings
    (tmp_path / name / "tickets" / "runs.json").write_text(json.dumps(
        {"identity": {"train.cross_entropy": "exact", **model, **op}}))
  root = claims_report.Root(str(tmp_path), [("mod_mul_mlp", "--config=configs/modular.py:mul"),
                                         ("mod_random_mlp", "--config=configs/modular.py:random"),
                                         ("parity", "--config=configs/parity.py")])
  f = other_tasks.other_tasks(root, str(tmp_path))
  assert f.verdict == "agrees"
  assert f.measured == ("ticket sooner (median > 1.25x) on 1 of 1 rows where something "
                        "generalizes (mod_mul_mlp); 1 rows where neither generalizes (the "
                        "ticket's mean final test accuracy is higher by > 0.05 on 1 of them: "
                        "mod_random_mlp +0.10); "
                        "1 rows not measured yet; where the random-mask control was run, "
                        "the grokked ticket is sooner than it (median > 1.25x) on 1 of 1 rows "
                        "(mod_mul_mlp)")
  assert "| (a * b) mod 67 | MLP | cross-entropy (exact) | 0 | 200 | 2,000; final 1.00 |" in f.details
  # random ticket 1,500 vs grokked 500: 3x; the row without the control says so
  assert "| 1,500; final 1.00 | median 3x (range 3x-3x) |" in f.details
  assert "| not run |  |" in f.details
  assert "| random table mod 67 | MLP (batch-first order) | cross-entropy (exact) | 0 | 200 |" \
      in f.details
  assert 'Rows marked "batch-first order" were trained before issue 23' in f.details
  # the scatter of ticket vs dense t_gen shows the rows where something generalizes
  assert f.figures == ("claim_c10.png",) and (tmp_path / "claim_c10.png").exists()


def test_p2_parity_modes_and_a_mislabelled_workdir(tmp_path):
  t_gen = {"exact": ([None, 2_000], [1_000, 500], [500, 400]),
           "float64": ([None, 2_000], [None, 1_000], [600, 400]),
           "float32": ([1_000, 1_000], [100, 100], [900, 900])}
  root = _Root()
  for name, mode in other_tasks.PARITY_MODES:
    dense, grokked, rnd = t_gen[mode]
    _phase(tmp_path / name / "dense", [_row("dense", s, t) for s, t in enumerate(dense)],
           steps=(0, 2_000, 4_000))
    _phase(tmp_path / name / "tickets", [_row("grokked", s, t) for s, t in enumerate(grokked)]
           + [_row("random", s, t) for s, t in enumerate(rnd)], steps=(0, 2_000, 4_000))
    (tmp_path / name / "tickets" / "runs.json").write_text(json.dumps(
        {"identity": {"task.name": "parity", "train.cross_entropy": mode}}))
    root[name] = claims.Results(str(tmp_path / name))
  f = other_tasks.parity_precision(root, str(tmp_path))
  # exact: dense >=4x (budget 4,000 / 1,000) and 4x; random 0.5x and 0.8x
  assert f.measured.startswith(
      "exact: dense reaches 0.95 on 1/2 seeds, grokked ticket 2/2, random 2/2; dense / grokked "
      "median >=4x, random / grokked median 0.65x; float64: dense reaches 0.95 on 1/2 seeds, "
      "grokked ticket 1/2")
  assert f.measured.endswith("float32: dense reaches 0.95 on 2/2 seeds, grokked ticket 2/2, "
                             "random 2/2; dense / grokked median 10x, random / grokked median 9x")
  assert "| float32 | 1,000 / 1,000; final 1.00 / 1.00 | 100 / 100; final 1.00 / 1.00 |" in f.details
  assert (tmp_path / "claim_p2.png").exists()
  # a workdir trained with another loss than its name says is refused, not reported
  (tmp_path / "parity_float32" / "tickets" / "runs.json").write_text(json.dumps(
      {"identity": {"task.name": "parity", "train.cross_entropy": "exact"}}))
  with pytest.raises(claims.NotMeasured, match="not the float32 cross-entropy"):
    other_tasks.parity_precision(root, str(tmp_path))


def test_p1_precision_cells_against_the_dense_of_the_tickets_precision(tmp_path):
  modes = ["float32", "exact"]
  dense_t = {"float32": [20_000, None], "exact": [10_000, 12_000]}
  ticket_t = {("float32", "float32"): [10_000, None], ("float32", "exact"): [None, None],
              ("exact", "float32"): [1_000, 500], ("exact", "exact"): [1_000, 400]}
  rows = [{"base": m, "ticket": "(dense)", "runs": [_row("dense", s, t) for s, t in
                                                    enumerate(dense_t[m])]} for m in modes]
  rows += [{"base": b, "ticket": t, "runs": [_row("grokked", s, x) for s, x in enumerate(v)]}
           for (b, t), v in ticket_t.items()]
  (tmp_path / "precision.json").write_text(json.dumps({"seeds": [0, 1], "modes": modes,
                                                       "rows": rows}))
  for b in modes:
    _phase(tmp_path / f"base_{b}" / "dense", rows[modes.index(b)]["runs"],
           steps=(0, 15_000, 30_000))
    for t in modes:
      _phase(tmp_path / f"base_{b}" / f"ticket_{t}",
             [_row("grokked", s, x) for s, x in enumerate(ticket_t[b, t])],
             steps=(0, 15_000, 30_000))
  f = precision.loss_precision(_Root(modadd_precision=claims.Results(str(tmp_path))),
                            str(tmp_path))
  # exact mask, float32 training: 20,000 / 1,000 = 20x and >= 30,000 / 500 = 60x: median 40x
  assert f.measured == ("float32 mask, float32 training: median 2x; float32 mask, exact "
                        "training: median <=0.37x; exact mask, float32 training: median >=40x; "
                        "exact mask, exact training: median 20x")
  assert (tmp_path / "claim_p1.png").exists()


def test_a1_ranks_accelerators_and_says_whether_a_ticket_adds_to_grokfast(tmp_path):
  rows = [("dense", [20_000, None, 10_000]), ("grokked ticket", [1_000, 2_000, 500]),
          ("dense + grokfast_ema", [5_000, 10_000, 5_000]),
          ("grokked ticket + grokfast_ema", [500, 4_000, 500])]
  payload = {"seeds": [0, 1, 2], "budget": 30_000, "threshold": 0.95,
             "rows": [{"label": l, "t_gen": t, "steps": [0, 30_000],
                       "test_acc_mean": [0.0, 1.0]} for l, t in rows]}
  (tmp_path / "accelerators.json").write_text(json.dumps(payload))
  f = accelerators.soonest(_Root(modadd=claims.Results(str(tmp_path))), str(tmp_path))
  # over dense: ticket 20 / 15 / 20 -> 20x; grokfast 4 / 3 / 2 -> 3x; ticket + grokfast
  # 40 / 7.5 / 20 -> 20x
  assert f.measured.startswith("median speed-up over dense: grokked ticket 20.0x; grokked "
                               "ticket + grokfast_ema >=20.0x; dense + grokfast_ema >=3.0x")
  # ticket + Grokfast over the ticket: 2, 0.5, 1; over dense + Grokfast: 10, 2.5, 10
  assert "grokked ticket + grokfast_ema over grokked ticket: median 1x (range 0.5x-2x)" in (
      f.measured)
  assert "grokked ticket + grokfast_ema over dense + grokfast_ema: median 10x (range 2.5x-10x)" \
      in f.measured
  assert f.verdict == "finding" and (tmp_path / "claim_a1.png").exists()


def test_machine_line_names_host_devices_and_accelerators():
  m = {"cpu": "X", "cpu_count": 2, "backend": "cpu", "devices": "2 x cpu", "jax": "0.10.2"}
  assert claims.describe_machine([{"machine": m}, {"machine": {**m, "devices": "1 x cpu"}},
                                  {"machine": {**m, "backend": "gpu", "devices": "1 x H200"}}]
                                 ) == ("2 CPU cores (X) as 2 host devices, jax 0.10.2; 2 CPU "
                                       "cores (X), jax 0.10.2; 1 x H200 (gpu), jax 0.10.2")
  # newer records carry the count as a number; it wins over the text
  assert claims.describe_machine([{"machine": {**m, "devices": "4 x TFRT_CPU", "device_count": 4}}]
                                 ) == "2 CPU cores (X) as 4 host devices, jax 0.10.2"


def test_report_lists_verdicts_that_changed_since_an_earlier_report(tmp_path):
  old = tmp_path / "old.md"
  old.write_text("| claim | paper | command | seeds | measured here | verdict |\n"
                 "| --- | --- | --- | --- | --- | --- |\n"
                 "| [C4](#c4) | norms | `cmd` | 0, 1, 2 | l1: 1.1x | partly |\n"
                 "| [C5](#c5) | ratio | `cmd` | 0, 1, 2 | k = 0.5 | partly |\n")
  before = claims_report.verdicts_of(str(old))
  assert before == {"C4": ("0, 1, 2", "partly"), "C5": ("0, 1, 2", "partly")}
  by_id = {c.id: c for c in claims.CLAIMS}
  finding = lambda verdict: claims.Finding("m", verdict, "rule")
  rows = [(by_id["C4"], finding("agrees"), "", "cmd", [0, 1, 2, 3, 4], "m"),
          (by_id["C5"], finding("partly"), "", "cmd", [0, 1], "m"),
          (by_id["C1"], None, "not measured", "cmd", [], "m")]
  text = "\n".join(claims_report.changed_verdicts(rows, before, "old.md"))
  assert "| C4 | partly (seeds 0, 1, 2) | agrees (seeds 0, 1, 2, 3, 4) |" in text
  assert "| C5 |" not in text and "| C1 |" not in text
  assert claims_report.changed_verdicts(rows[1:], before, "old.md")[2] == "None."


def test_the_jobs_files_and_the_claims_name_each_other():
  """Every workdir a claim reads has its line in launch/*_jobs.txt, every line feeds a
  claim, and a claim's own command is one of its workdir's lines (same resolved config)."""
  from gtickets import storage
  lines = [(n, a) for f in ("tasks_jobs.txt", "claims_jobs.txt")
           for n, a in jobs_lib.read_jobs(str(ROOT / "launch" / f))]
  task_rows = {n for n, _ in jobs_lib.read_jobs(str(ROOT / "launch" / "tasks_jobs.txt"))}
  read = {w for c in claims.CLAIMS for w in c.workdirs}
  assert not read - {n for n, _ in lines}, "claims read workdirs no jobs line fills"
  assert not {n for n, _ in lines} - read - task_rows, "jobs lines no claim reads"
  digest = lambda args: storage.json_digest(jobs_lib.config_of(args, str(ROOT)).to_dict())
  for c in claims.CLAIMS:
    if not c.workdirs or not c.command.startswith("python launch/main.py ") or "MODE" in c.command:
      continue
    own = {digest(a) for n, a in lines if n == c.workdirs[0]}
    assert digest(c.command[len("python launch/main.py "):]) in own, c.id


