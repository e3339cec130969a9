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
