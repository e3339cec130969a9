"""MNIST from the standard IDX files (after Omnigrok: 1000 training images).

``data_dir`` holds an images file (IDX, magic 2051: uint8 [n, rows, cols]) and a
labels file (IDX, magic 2049: uint8 [n]), gzip'd or not; their names are
``images_file`` / ``labels_file`` (``.gz`` is tried with and without). The
images are shuffled once with ``data_seed``; the first ``num_train`` train and
all the rest test (the authors' code swaps the two; this does not). Pixels are
scaled to [0, 1] and flattened. Loss: MSE against one-hot targets; accuracy:
argmax.

``data_dir="auto"`` (the default) uses the first of ``AUTO_SOURCES`` that has its
two files: the 10,000 real digits of this workplace (``../shared/data/mnist``),
then the official training files in ``CACHE_DIR``, which
``python launch/fetch_mnist.py`` downloads and checks (:func:`fetch`); with
"auto", ``images_file`` / ``labels_file`` are those of the source found. Any
other ``data_dir`` is read with ``images_file`` / ``labels_file``.
"""
import gzip
import hashlib
import os
import urllib.error
import urllib.request

import ml_collections
import numpy as np

from gtickets import checks
from gtickets.tasks.base import Task, argmax_accuracy, one_hot_mse

INPUT_KIND = "features"
SCORE = "accuracy"  # what Task.accuracy measures
LOSS = "mse"
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


class DataError(ValueError):
  """A missing or malformed data file; the message is one line naming it."""


CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "gtickets", "mnist")
# The official MNIST files and their MD5 sums (as torchvision checks them).
OFFICIAL_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
           "https://storage.googleapis.com/cvdf-datasets/mnist/")
AUTO_SOURCES = (  # (directory, images file, labels file), first found wins
    ("../shared/data/mnist", "mnist10k-images-idx3-ubyte.gz", "mnist10k-labels-idx1-ubyte.gz"),
    (CACHE_DIR, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
)


def _md5(path):
  h = hashlib.md5()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      h.update(block)
  return h.hexdigest()


def fetch(directory=CACHE_DIR, files=None, mirrors=MIRRORS, timeout=30, log=print):
  """Downloads ``files`` ({name: md5}, default the official ones) into ``directory``
  from the first mirror that has each, checking every file's MD5. Files already
  there with the right sum are kept. Raises DataError (one line) when no mirror
  answers (offline) or a download does not match its sum. Returns the directory."""
  files = OFFICIAL_FILES if files is None else files
  try:
    os.makedirs(directory, exist_ok=True)
  except OSError as e:
    raise DataError(f"cannot create {directory} ({e.strerror}): give a folder you can write "
                    "to (--dir)") from None
  if not os.access(directory, os.W_OK | os.X_OK):
    raise DataError(f"{directory} is not writable: give a folder you can write to (--dir)")
  for name, md5 in files.items():
    path = os.path.join(directory, name)
    if os.path.exists(path) and _md5(path) == md5:
      log(f"{path}: present, checksum ok")
      continue
    errors = []
    for mirror in mirrors:
      tmp = path + ".part"
      try:
        with urllib.request.urlopen(mirror + name, timeout=timeout) as r, open(tmp, "wb") as f:
          for block in iter(lambda: r.read(1 << 20), b""):
            f.write(block)
      except (urllib.error.URLError, OSError, ValueError) as e:
        if isinstance(e, ValueError):  # not a URL urllib can open
          errors.append(f"{mirror!r} is not a URL ({e})")
        else:
          errors.append(f"{mirror}: {getattr(e, 'reason', e)}")
        if os.path.exists(tmp):
          os.remove(tmp)
        continue
      if _md5(tmp) != md5:
        os.remove(tmp)
        raise DataError(f"{mirror + name} does not match its MD5 {md5}: not the official "
                        "MNIST file; try again later or copy the files into "
                        f"{directory} by hand")
      os.replace(tmp, path)
      log(f"{path}: downloaded from {mirror}, checksum ok")
      break
    else:
      raise DataError(f"cannot download {name} ({'; '.join(errors)}): offline, or a wrong "
                      f"--mirror? Copy the official MNIST IDX files into {directory} by hand")
  return directory


def resolve(config):
  """(data_dir, images_file, labels_file) to read; "auto" picks from AUTO_SOURCES."""
  if config.data_dir != "auto":
    return config.data_dir, config.images_file, config.labels_file
  for directory, images, labels in AUTO_SOURCES:
    if all(os.path.isfile(os.path.join(directory, f)) for f in (images, labels)):
      return directory, images, labels
  raise DataError("no MNIST files found (task.data_dir='auto' looks in "
                  + " and ".join(repr(d) for d, _, _ in AUTO_SOURCES)
                  + "): run `python launch/fetch_mnist.py` to download and check them, or "
                  "set --config.task.data_dir")


def default_config():
  c = ml_collections.ConfigDict()
  c.name = "mnist"
  c.data_dir = "auto"   # see AUTO_SOURCES; relative paths: from the working directory
  c.images_file = "train-images-idx3-ubyte.gz"   # for an explicit data_dir
  c.labels_file = "train-labels-idx1-ubyte.gz"
  c.num_train = 1000
  c.data_seed = 0   # the shuffle that picks the training images (-1: each run its seed)
  return c


NEUTRAL = {"data_dir": "auto", "images_file": "train-images-idx3-ubyte.gz",
           "labels_file": "train-labels-idx1-ubyte.gz", "num_train": 1000,
           "data_seed": 0}  # identity.py: never change these
LOCATIONS = ("data_dir", "images_file", "labels_file")  # out of ids: data_digest covers them


def describe(c):
  """A short title: 'MNIST, 1000 train'."""
  return f"MNIST, {c.num_train} train"


def check(c):
  yield from checks.positive_ints(c, "num_train")
  if not isinstance(c.data_dir, str) or not c.data_dir:
    yield "data_dir", c.data_dir, "must be a directory path"


def find_file(data_dir, name):
  """The path of ``name`` in ``data_dir``, with or without ``.gz``; DataError if absent."""
  stem = name[:-3] if name.endswith(".gz") else name
  for candidate in (name, stem + ".gz", stem):
    path = os.path.join(data_dir, candidate)
    if os.path.isfile(path):
      return path
  raise DataError(f"MNIST file {name!r} (or {stem!r} / {stem + '.gz'!r}) not found in "
                  f"{os.path.abspath(data_dir)!r}; expected an IDX images file and an IDX "
                  "labels file there (config.task.images_file / labels_file)")


def read_idx(path, magic):
  """The uint8 array of an IDX file (gzip'd or not); DataError if malformed."""
  try:
    with open(path, "rb") as f:
      raw = f.read()
    if raw[:2] == b"\x1f\x8b":
      raw = gzip.decompress(raw)
  except (OSError, EOFError, gzip.BadGzipFile) as e:
    raise DataError(f"{path}: cannot read ({type(e).__name__}: {e})") from None
  if len(raw) < 4:
    raise DataError(f"{path}: not an IDX file (only {len(raw)} bytes)")
  got = int.from_bytes(raw[:4], "big")
  if got != magic:
    raise DataError(f"{path}: IDX magic number {got}, expected {magic} "
                    f"({'images' if magic == IMAGES_MAGIC else 'labels'} file)")
  ndim = raw[3]
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise DataError(f"{path}: truncated IDX header")
  shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
  size = int(np.prod(shape))
  if len(raw) - header != size:
    raise DataError(f"{path}: IDX header says {shape} ({size} bytes of data), "
                    f"file has {len(raw) - header}")
  return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def write_idx(path, array):
  """Writes a uint8 array as an IDX file (gzip'd if ``path`` ends in .gz)."""
  array = np.asarray(array, np.uint8)
  data = (bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
          + array.tobytes())
  with open(path, "wb") as f:
    f.write(gzip.compress(data) if path.endswith(".gz") else data)


def source_files(config):
  """The files the task reads (images, labels)."""
  data_dir, images_file, labels_file = resolve(config)
  return [find_file(data_dir, images_file), find_file(data_dir, labels_file)]


def load(config):
  """(images float32 [n, rows * cols] in [0, 1], labels int32 [n], digest of the files)."""
  data_dir = resolve(config)[0]
  paths = source_files(config)
  images, labels = read_idx(paths[0], IMAGES_MAGIC), read_idx(paths[1], LABELS_MAGIC)
  h = hashlib.sha256()
  for path in paths:
    with open(path, "rb") as f:
      h.update(hashlib.sha256(f.read()).digest())
  if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
    raise DataError(f"MNIST files in {data_dir!r} disagree: images {images.shape}, "
                    f"labels {labels.shape} (want [n, rows, cols] and [n])")
  if labels.max(initial=0) > 9:
    raise DataError(f"MNIST labels in {data_dir!r} go up to {labels.max()}, want 0-9")
  return (images.reshape(len(images), -1).astype(np.float32) / 255.0,
          labels.astype(np.int32), h.hexdigest()[:16])


def make_task(config) -> Task:
  x, y, digest = load(config)
  if config.num_train >= len(x):
    raise DataError(f"config.task.num_train={config.num_train} leaves no test images "
                    f"({len(x)} in {config.data_dir!r})")
  perm = np.random.default_rng(config.data_seed).permutation(len(x))
  tr, te = perm[:config.num_train], perm[config.num_train:]
  return Task(
      name=f"mnist_n{config.num_train}", x_train=x[tr], y_train=y[tr], x_test=x[te],
      y_test=y[te], num_outputs=10, loss=one_hot_mse, accuracy=argmax_accuracy,
      input_kind=INPUT_KIND, info={"num_train": len(tr), "num_test": len(te)},
      data_digest=digest)
