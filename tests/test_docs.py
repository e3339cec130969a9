"""docs/ is for readers: the guides and the generated report at its top, nothing of one
machine anywhere (issue 34)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).parents[1]


def test_docs_top_level_holds_the_guides_and_the_report_only():
  files = sorted(p.name for p in (ROOT / "docs").iterdir() if p.is_file())
  assert len(files) <= 8, files
  assert "claims.md" in files


def test_no_machine_path_in_docs_or_readme():
  pattern = re.compile(r"(/t[m]p/|/w[o]rk/|/h[o]me/|/r[o]ot/)")
  texts = [ROOT / "README.md"] + [p for p in (ROOT / "docs").rglob("*")
                                  if p.is_file() and p.suffix in (".md", ".txt", ".jsonl", ".json")]
  found = [str(p.relative_to(ROOT)) for p in texts if pattern.search(p.read_text(errors="replace"))]
  assert not found, found


def test_the_exploring_example_recomputes_c1_from_the_committed_results(tmp_path, monkeypatch,
                                                                         capsys):
  """docs/exploring.md's pandas example runs as written (from a scratch folder) and
  prints C1's per-seed speed-ups and the median the claims report states."""
  import matplotlib
  matplotlib.use("Agg")
  text = (ROOT / "docs" / "exploring.md").read_text()
  code = text.split("```python\n", 1)[1].split("```", 1)[0]
  assert len(code.strip().splitlines()) <= 12
  monkeypatch.chdir(tmp_path)
  exec(code.replace('"docs/results/modadd"', repr(str(ROOT / "docs" / "results" / "modadd"))), {})
  printed = capsys.readouterr().out
  median = float(printed.rsplit("median", 1)[1])
  claims = (ROOT / "docs" / "claims.md").read_text()
  c1 = re.search(r"\| \[C1\]\(#c1\) \|.*?median (\d+(?:\.\d+)?)x", claims).group(1)
  assert round(median) == round(float(c1)), (printed, c1)
  assert (tmp_path / "c1.png").stat().st_size > 10_000
