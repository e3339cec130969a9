"""Files of a workdir: atomic writes, strict JSON, digests, and one-line errors.

Everything a phase writes goes through here or through orbax with a digest
(``training/checkpoints.py``), so what is read back is either what was written
or a :class:`CorruptFile` whose message is one line naming the file and what
to do. JSON is strict (a NaN or infinity is written as null).
"""
import csv
import hashlib
import json
import math
import os
import zipfile
import zlib

import numpy as np

from gtickets import distributed


class CorruptFile(RuntimeError):
  """A file of a workdir is unreadable or does not match its digest (one line)."""


def strict(obj):
  """``obj`` with every non-finite float replaced by None (for strict JSON)."""
  if isinstance(obj, float) and not math.isfinite(obj):
    return None
  if isinstance(obj, dict):
    return {k: strict(v) for k, v in obj.items()}
  if isinstance(obj, (list, tuple)):
    return [strict(v) for v in obj]
  return obj


def write_json(path, obj):
  """Writes strict JSON atomically (a reader sees the old file or the new one).
  Like every write here, only process 0 of a multi-process job writes."""
  if not distributed.is_writer():
    return
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(strict(obj), f, indent=1, allow_nan=False)
  os.replace(tmp, path)


def read_json(path, what_to_do="delete it and rerun"):
  try:
    with open(path) as f:
      return json.load(f)
  except (json.JSONDecodeError, UnicodeDecodeError) as e:
    raise CorruptFile(f"{path} is not valid JSON ({e.msg if hasattr(e, 'msg') else e}): "
                      f"{what_to_do}") from None


def write_text(path, text, mode="w"):
  """Writes text (UTF-8) atomically (or with ``mode="a"`` appends it); process 0 only."""
  write_bytes(path, text.encode("utf-8"), mode)


def write_bytes(path, data, mode="w"):
  """Writes bytes atomically (or with ``mode="a"`` appends them); process 0 only."""
  if not distributed.is_writer():
    return
  if mode == "a":
    with open(path, "ab") as f:
      f.write(data)
    return
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(data)
  os.replace(tmp, path)


def write_csv(path, rows):
  """Rows (dicts with the same keys) as CSV, None and non-finite as empty; process 0 only."""
  if not distributed.is_writer():
    return
  tmp = path + ".tmp"
  with open(tmp, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows([{k: ("" if v is None else v) for k, v in strict(r).items()} for r in rows])
  os.replace(tmp, path)


def save_figure(fig, path, dpi):
  """Lays out, saves (process 0 only) and closes a matplotlib figure."""
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  fig.tight_layout()
  if distributed.is_writer():
    root, ext = os.path.splitext(path)
    tmp = f"{root}.tmp{ext}"  # the format follows the extension
    fig.savefig(tmp, dpi=dpi)
    os.replace(tmp, path)
  plt.close(fig)


def save_npz(path, **arrays):
  if not distributed.is_writer():
    return
  tmp = path + ".tmp.npz"
  np.savez(tmp, **arrays)
  os.replace(tmp, path)


def load_npz(path, keys, what_to_do="delete it and rerun"):
  """{key: array} from an npz file; zip CRCs catch flipped or missing bytes."""
  try:
    with np.load(path) as z:
      return {k: np.asarray(z[k]) for k in keys}
  except (zipfile.BadZipFile, zlib.error, ValueError, KeyError, EOFError, OSError) as e:
    if isinstance(e, FileNotFoundError):
      raise
    raise CorruptFile(f"{path} is unreadable or truncated ({type(e).__name__}): "
                      f"{what_to_do}") from None


def digest(path):
  """sha256 over the relative names and contents of the files under ``path``."""
  h = hashlib.sha256()
  files = [path] if os.path.isfile(path) else sorted(
      os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs)
  for name in files:
    h.update(os.path.relpath(name, path).encode())
    with open(name, "rb") as f:
      for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
  return h.hexdigest()


def json_digest(obj):
  """A short stable id of a JSON-able object (a phase's identity)."""
  text = json.dumps(strict(obj), sort_keys=True, separators=(",", ":"))
  return hashlib.sha256(text.encode()).hexdigest()[:16]
