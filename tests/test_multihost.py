"""Two local processes (jax.distributed, CPU collectives over gloo) train one launch
together and give the same curves as one process with the same two devices."""
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import os, sys
    root, workdir, n_proc, pid, port = sys.argv[1:6]
    if n_proc == "1":
      os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                 + " --xla_force_host_platform_device_count=2")
    sys.path.insert(0, os.path.join(root, "tests"))
    from gtickets import distributed
    distributed.initialize(f"127.0.0.1:{port}", int(n_proc), int(pid))
    import jax, numpy as np
    from conftest import make_tiny_config, quiet
    from gtickets.experiment.pipeline import run_main
    assert jax.device_count() == 2 and jax.process_count() == int(n_proc)
    c = make_tiny_config()
    c.seeds = (0, 1, 2)   # 3 runs over 2 devices: padded to 4
    dense, tickets = run_main(c, quiet(workdir))
    np.savez(os.path.join(workdir, f"curves_{pid}.npz"), dense=dense.curves["test_loss"],
             tickets=tickets.curves["test_loss"])
""")


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _launch(script, workdir, n_proc):
  port = str(_free_port())
  return [subprocess.Popen([sys.executable, str(script), ROOT, str(workdir), str(n_proc),
                            str(i), port], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True) for i in range(n_proc)]


def test_two_processes_match_one(tmp_path):
  script = tmp_path / "s.py"
  script.write_text(SCRIPT)
  # both launches at once (three processes): the test waits for the slower one only
  for p in _launch(script, tmp_path / "two", 2) + _launch(script, tmp_path / "one", 1):
    _, err = p.communicate(timeout=400)
    assert p.returncode == 0, err[-3000:]
  one = np.load(tmp_path / "one" / "curves_0.npz")
  for pid in (0, 1):  # every process holds the gathered curves of all real runs
    two = np.load(tmp_path / "two" / f"curves_{pid}.npz")
    for phase in ("dense", "tickets"):
      assert two[phase].shape == one[phase].shape and two[phase].shape[0] in (3, 6)
      np.testing.assert_array_equal(two[phase], one[phase])
  # process 0 wrote the phase files; nothing of a padding run is stored
  stored = np.load(tmp_path / "two" / "dense" / "curves.npz")
  np.testing.assert_array_equal(stored["test_loss"], one["dense"])
  assert (tmp_path / "two" / "tickets" / "masks.digest").exists()
