"""Helpers shared by the tests and tests/bad_input.py (no pytest, no gtickets)."""
import hashlib
import pathlib


def file_digests(directory, with_times=False):
  """Every file under ``directory``: its path -> a digest of its bytes (with its size and
  modification time too, ``with_times``)."""
  out = {}
  for p in pathlib.Path(directory).rglob("*"):
    if p.is_file():
      digest = hashlib.sha256(p.read_bytes()).hexdigest()
      out[p.relative_to(directory).as_posix()] = (
          (p.stat().st_size, p.stat().st_mtime_ns, digest) if with_times else digest)
  return out
