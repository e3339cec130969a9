"""The run axis sharded over 4 (forced host) devices gives the same results."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import os, sys, json
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import jax, numpy as np
    sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
    from conftest import make_tiny_config
    from gtickets.experiment.pipeline import make_setup, run_dense
    from gtickets.training.sharding import run_sharding
    assert len(jax.devices()) == 4
    assert run_sharding(4).mesh.devices.size == 4
    assert run_sharding(6).mesh.devices.size == 3 and run_sharding(7) is None
    c = make_tiny_config()
    c.seeds = (0, 1, 2, 3)
    res = run_dense(make_setup(c), sys.argv[2], progress=False)
    np.save(sys.argv[3], res.curves["train_loss"])
""")


def test_sharded_runs_match_unsharded(tmp_path):
  from conftest import make_tiny_config
  from gtickets.experiment.pipeline import make_setup, run_dense
  import numpy as np
  script = tmp_path / "s.py"
  script.write_text(SCRIPT)
  out = tmp_path / "loss.npy"
  r = subprocess.run([sys.executable, str(script), ROOT, str(tmp_path / "w4"), str(out)],
                     capture_output=True, text=True, timeout=300)
  assert r.returncode == 0, r.stderr[-2000:]
  c = make_tiny_config()
  c.seeds = (0, 1, 2, 3)
  single = run_dense(make_setup(c), str(tmp_path / "w1"), progress=False)
  np.testing.assert_allclose(np.load(out), single.curves["train_loss"], rtol=1e-5, atol=1e-7)
