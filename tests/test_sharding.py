"""The run axis over 4 (forced host) devices, padded to a multiple of 4, gives the
same results as one device on this tiny config (not on every config: per-seed numbers
depend on the layout, so a phase is never resumed on another); padding runs are never
stored."""
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import os, sys, json
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + " --xla_force_host_platform_device_count=4")
    import jax, numpy as np
    sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
    from conftest import quiet, make_tiny_config
    from gtickets.experiment.pipeline import run_dense
    from gtickets.training import checkpoints
    from gtickets.training.sharding import run_layout
    assert len(jax.devices()) == 4
    assert [(run_layout(n).n_padded, run_layout(n).sharding.mesh.devices.size)
            for n in (4, 6, 27)] == [(4, 4), (8, 4), (28, 4)]
    c = make_tiny_config()
    c.seeds = (0, 1, 2)   # 3 runs: padded to 4, one per device
    res = run_dense(c, quiet(sys.argv[2]))
    state = checkpoints.StateCheckpoints(res.checkpoint_dir).restore(c.train.num_steps)
    assert all(x.shape[0] == 3 for x in jax.tree.leaves(state)), "padding run stored"
    x = jax.device_put(np.arange(6.0))
    lay = run_layout(6)
    placed = lay.place({"x": x})["x"]
    assert placed.shape == (8,) and len(placed.sharding.device_set) == 4
    assert lay.to_host({"x": placed})["x"].tolist() == list(range(6))
    np.save(sys.argv[3], res.curves["train_loss"])
    # a phase interrupted on one device is not resumed on four (its curves would match
    # no uninterrupted run); a finished one is read back here, its checkpoints (written
    # on one device) restore on four, but none is added by training forward on them
    from gtickets.experiment import phase
    from gtickets.experiment.store import WorkdirMismatch
    try:
      run_dense(c, quiet(sys.argv[4]))
      raise SystemExit("an interrupted phase was resumed on another device layout")
    except WorkdirMismatch as e:
      assert "was trained on 1 cpu device and this launch has 4 cpu devices" in str(e), e
    resumed = run_dense(c, quiet(sys.argv[6]))
    try:
      phase.add_checkpoints(resumed, [10])
      raise SystemExit("a checkpoint was added by training forward on another layout")
    except WorkdirMismatch as e:
      assert "1 cpu device, and this launch has 4 cpu devices" in str(e), e
    np.save(sys.argv[5], resumed.curves["train_loss"])
    # checkpoints written with 1 device and with 4 restore onto these 4 and combine
    one = checkpoints.StateCheckpoints(resumed.checkpoint_dir).restore(20)["params"]
    four = checkpoints.StateCheckpoints(res.checkpoint_dir).restore(20)["params"]
    jax.tree.map(lambda a, b: jax.numpy.concatenate([a, b]), one, four)
""")


def test_padded_sharded_runs_match_one_device(tmp_path):
  from conftest import make_tiny_config, quiet
  from gtickets.experiment.pipeline import run_dense
  c = make_tiny_config()
  c.seeds = (0, 1, 2)
  single = run_dense(c, quiet(tmp_path / "w1"))
  # the same phase interrupted after step 40 on one device (its checkpoints there)
  interrupted = tmp_path / "w1_interrupted" / "dense"
  shutil.copytree(tmp_path / "w1" / "dense", interrupted)
  (interrupted / "curves.npz").unlink()
  sorted((interrupted / "metrics").glob("upto_*.npz"))[-1].unlink()
  script = tmp_path / "s.py"
  script.write_text(SCRIPT)
  out, out_resumed = tmp_path / "loss.npy", tmp_path / "loss_resumed.npy"
  shutil.copytree(tmp_path / "w1", tmp_path / "w1_finished")
  r = subprocess.run([sys.executable, str(script), ROOT, str(tmp_path / "w4"), str(out),
                      str(interrupted.parent), str(out_resumed), str(tmp_path / "w1_finished")],
                     capture_output=True, text=True, timeout=300)
  assert r.returncode == 0, r.stderr[-2000:]
  np.testing.assert_allclose(np.load(out), single.curves["train_loss"], rtol=1e-5, atol=1e-7)
  assert np.load(out).shape[0] == 3
  np.testing.assert_allclose(np.load(out_resumed), single.curves["train_loss"], rtol=1e-5,
                             atol=1e-7)
  assert not (tmp_path / "w1_finished" / "dense" / "checkpoints" / "10").exists()
  assert not (interrupted / "curves.npz").exists()  # refused: left as it was
