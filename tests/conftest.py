import atexit
import os
import shutil
import tempfile

# One persistent XLA compilation cache for the whole test session (and the
# processes tests start, which inherit these variables): many tests compile the
# same tiny programs from fresh closures, which the in-memory cache misses. It
# took tests/test_faults.py from 190 s to 106 s on 2 busy cores. Must be set
# before jax is imported.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  _cache = tempfile.mkdtemp(prefix="gtickets-test-xla-cache-")
  atexit.register(shutil.rmtree, _cache, ignore_errors=True)
  os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
  os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"

# The tests' programs are tiny and compiled many times over: XLA's CPU backend at
# optimization level 0 compiles them about a third faster (tests/test_task_pipelines.py
# and test_contraction.py: 142 s -> 93 s on 2 busy cores). Every process of the suite
# (and those it starts) uses the same level, so comparisons between them stay exact.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                             + " --xla_backend_optimization_level=0").strip()

import pytest  # noqa: E402

from gtickets.config import default_config  # noqa: E402


def make_tiny_config():
  """A config small enough to compile and train in a second or two."""
  c = default_config()
  c.seeds = (0, 1)
  c.task.p = 11
  c.task.pairs = "all"
  c.task.train_fraction = 0.5
  c.model.d_embed = 16
  c.model.d_hidden = 8
  c.optim.lr = 3e-3
  c.train.num_steps = 60
  c.train.eval_every = 10
  c.train.ckpt_every = 20
  return c


@pytest.fixture
def tiny_config():
  return make_tiny_config()


def quiet(path):
  """A Workdir over ``path`` without progress bars (the tests' phases)."""
  from gtickets.experiment.store import Workdir  # pylint: disable=import-outside-toplevel
  return Workdir(str(path), progress=False)


# The slowest tests (20-30 s each on 2 busy cores) start first: with one xdist worker
# per core, none of them is left running alone at the end of the suite.
SLOW_FIRST = ("test_multihost.py::", "test_layouts.py::", "test_claims.py::test_report_end_to_end",
              "test_committed_ids.py::", "test_recipes.py::", "test_tensorboard.py::",
              "test_config_and_launch.py::test_tiny_end_to_end", "test_analysis.py::test_analysis_experiments")


def pytest_collection_modifyitems(config, items):
  items.sort(key=lambda item: not any(s in item.nodeid for s in SLOW_FIRST))
