import os
import gzip

import numpy as np
import pytest

from gtickets.config import default_config
from gtickets.tasks import make_task, mnist, parity, polynomial


def test_parity_labels_by_hand():
  bits = np.array([[1, 0, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1], [0, 1, 0, 0]])
  np.testing.assert_array_equal(parity.parity_labels(bits, [0, 2]), [0, 0, 0, 0])
  np.testing.assert_array_equal(parity.parity_labels(bits, [0, 3]), [0, 1, 0, 0])
  np.testing.assert_array_equal(parity.parity_labels(bits, [1, 2, 3]), [0, 1, 1, 1])


def test_parity_task_labels_follow_its_subset():
  c = default_config(task="parity").task
  c.num_bits, c.k, c.num_train, c.num_test = 12, 3, 50, 30
  t = make_task(c)
  subset = t.info["subset"]
  assert len(subset) == 3 and set(np.unique(t.x_train)) == {-1.0, 1.0}
  want = ((t.x_train[:, subset] > 0).sum(1) % 2)
  np.testing.assert_array_equal(t.y_train, want)
  assert t.x_train.shape == (50, 12) and t.x_test.shape == (30, 12)


def test_polynomial_targets_by_hand():
  x = np.array([[1.0, 2.0], [0.5, -1.0]])
  beta = np.array([3.0, -1.0])
  np.testing.assert_allclose(polynomial.targets(x, beta), [0.5, 3.125])  # (1)^2/2, (2.5)^2/2


def test_polynomial_task_scale_and_determinism():
  c = default_config(task="polynomial").task
  t = make_task(c)
  assert t.x_train.shape == (c.num_train, 40) and t.x_test.shape == (c.num_test, 40)
  # x ~ N(0, I/d): squared norms ~ 1; y = (x.beta)^2/2 >= 0, Var(y) = (|beta|^2/d)^2 / 2
  assert 0.9 < np.mean(np.sum(t.x_test ** 2, 1)) < 1.1
  assert (t.y_test >= 0).all() and 0.05 < t.info["var_y_test"] < 1.5
  np.testing.assert_array_equal(make_task(c).y_train, t.y_train)
  # R^2 of predicting the targets exactly is 1, of predicting their mean is 0
  y = t.y_test
  assert float(t.accuracy(y[:, None], y)) == pytest.approx(1.0)
  assert float(t.accuracy(np.full((len(y), 1), y.mean()), y)) == pytest.approx(0.0, abs=1e-5)


def _write_fixture(d, n=30, gz=True, seed=0):
  rng = np.random.default_rng(seed)
  images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
  labels = rng.integers(0, 10, size=n, dtype=np.uint8)
  ext = ".gz" if gz else ""
  mnist.write_idx(str(d / f"img-idx3-ubyte{ext}"), images)
  mnist.write_idx(str(d / f"lab-idx1-ubyte{ext}"), labels)
  return images, labels


def _mnist_config(d, num_train=20):
  c = default_config(task="mnist").task
  c.data_dir, c.images_file, c.labels_file = str(d), "img-idx3-ubyte.gz", "lab-idx1-ubyte.gz"
  c.num_train = num_train
  return c


@pytest.mark.parametrize("gz", [True, False])
def test_idx_fixture_round_trip(tmp_path, gz):
  images, labels = _write_fixture(tmp_path, gz=gz)
  if gz:  # really gzip'd
    assert gzip.open(tmp_path / "img-idx3-ubyte.gz").read(4) == b"\x00\x00\x08\x03"
  # names are found with or without .gz
  t = make_task(_mnist_config(tmp_path))
  x = np.concatenate([t.x_train, t.x_test])
  y = np.concatenate([t.y_train, t.y_test])
  order = np.random.default_rng(0).permutation(30)
  np.testing.assert_allclose(x, images[order].reshape(30, -1) / 255.0, rtol=1e-6)
  np.testing.assert_array_equal(y, labels[order])
  assert (len(t.x_train), len(t.x_test)) == (20, 10)


@pytest.mark.parametrize("damage,words", [
    (lambda raw: raw[:-5], "header says"),                            # truncated data
    (lambda raw: b"\x00\x00\x08\x01" + raw[4:], "magic number 2049"),  # labels magic
    (lambda raw: raw[:3], "not an IDX file"),
])
def test_corrupt_idx_is_rejected_with_the_file_named(tmp_path, damage, words):
  _write_fixture(tmp_path, gz=False)
  path = tmp_path / "img-idx3-ubyte"
  path.write_bytes(damage(path.read_bytes()))
  with pytest.raises(mnist.DataError, match=words) as e:
    make_task(_mnist_config(tmp_path))
  assert "img-idx3-ubyte" in str(e.value) and "\n" not in str(e.value)


def test_broken_gzip_and_missing_files_are_named(tmp_path):
  _write_fixture(tmp_path)
  (tmp_path / "lab-idx1-ubyte.gz").write_bytes(b"\x1f\x8b" + b"garbage")
  with pytest.raises(mnist.DataError, match="lab-idx1-ubyte.gz: cannot read"):
    make_task(_mnist_config(tmp_path))
  with pytest.raises(mnist.DataError, match="'img-idx3-ubyte.gz'.*not found") as e:
    make_task(_mnist_config(tmp_path / "nowhere"))
  assert "labels file" in str(e.value)


def test_mismatched_counts_are_rejected(tmp_path):
  _write_fixture(tmp_path)
  mnist.write_idx(str(tmp_path / "lab-idx1-ubyte.gz"), np.zeros(29, np.uint8))
  with pytest.raises(mnist.DataError, match="disagree"):
    make_task(_mnist_config(tmp_path))


def _serve(directory):
  """An HTTP server on 127.0.0.1 serving ``directory``; returns (server, base URL)."""
  import functools
  import http.server
  import threading
  handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
  handler.log_message = lambda *a: None
  server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
  threading.Thread(target=server.serve_forever, daemon=True).start()
  return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _closed_port_url():
  import socket
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return f"http://127.0.0.1:{s.getsockname()[1]}/"


def test_fetch_mnist_downloads_checks_and_is_read_by_auto(tmp_path, monkeypatch):
  import hashlib
  served = tmp_path / "served"
  served.mkdir()
  _write_fixture(served, n=30)
  files = {f: hashlib.md5((served / f).read_bytes()).hexdigest()
           for f in ("img-idx3-ubyte.gz", "lab-idx1-ubyte.gz")}
  server, url = _serve(served)
  try:
    dest = tmp_path / "cache"
    logs = []
    # the first mirror is offline, the second serves the files
    mnist.fetch(str(dest), files, mirrors=(_closed_port_url(), url), log=logs.append)
    assert all((dest / f).read_bytes() == (served / f).read_bytes() for f in files)
    assert all("checksum ok" in l for l in logs) and len(logs) == 2
    mnist.fetch(str(dest), files, mirrors=(url,), log=logs.append)  # present: kept
    assert logs[-1].endswith("present, checksum ok")
    # a file that does not match its sum is refused and not kept
    bad = {"img-idx3-ubyte.gz": "0" * 32}
    with pytest.raises(mnist.DataError, match="does not match its MD5"):
      mnist.fetch(str(tmp_path / "other"), bad, mirrors=(url,))
    assert not (tmp_path / "other" / "img-idx3-ubyte.gz").exists()
  finally:
    server.shutdown()
  with pytest.raises(mnist.DataError, match=r"cannot download .*offline.*by hand") as e:
    mnist.fetch(str(tmp_path / "x"), files, mirrors=(_closed_port_url(),), timeout=5)
  assert "\n" not in str(e.value)
  # data_dir="auto" finds the first source with its files
  monkeypatch.setattr(mnist, "AUTO_SOURCES", (
      (str(tmp_path / "nowhere"), "a", "b"),
      (str(dest), "img-idx3-ubyte.gz", "lab-idx1-ubyte.gz")))
  c = default_config(task="mnist").task
  c.num_train = 20
  assert make_task(c).x_train.shape == (20, 28 * 28)
  monkeypatch.setattr(mnist, "AUTO_SOURCES", ((str(tmp_path / "nowhere"), "a", "b"),))
  with pytest.raises(mnist.DataError, match="launch/fetch_mnist.py"):
    make_task(c)


def test_fetch_mnist_command_offline_is_one_line(tmp_path):
  import subprocess
  import sys
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  r = subprocess.run([sys.executable, os.path.join(root, "launch", "fetch_mnist.py"),
                      f"--dir={tmp_path}", f"--mirror={_closed_port_url()}"],
                     capture_output=True, text=True, timeout=120)
  assert r.returncode == 1 and "Traceback" not in r.stderr
  assert r.stderr.strip().startswith("error: cannot download train-images-idx3-ubyte.gz")
