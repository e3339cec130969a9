"""Launching an experiment: devices, the validated config, the workdir and its lock,
the run with its launch record, and one line for every way it can fail
(launch/main.py is the command line)."""
import datetime
import errno
import fcntl
import logging
import os
import sys
import threading

from gtickets.commands.launches import available_memory, record_launch


def print_config_fields(args):
  """--helpfull: every field of the config the launcher arguments name, with its value."""
  if not any(a.startswith("--config=") for a in args):
    print("\n(give --config=FILE[:VARIANT] to list its fields)")
    return
  from gtickets import experiments, identity  # pylint: disable=import-outside-toplevel
  config = experiments.config_from_args(args)
  name = next(a for a in args if a.startswith("--config=")).split("=", 1)[1]
  print(f"\nfields of {name} (override: --config.FIELD=VALUE):")
  for field, value in identity.flatten(identity.plain(config.to_dict())).items():
    print(f"  --config.{field}={value!r}")


def use_host_devices(n):
  """Splits the CPU into ``n`` host devices (0: one per core this process may use),
  before anything starts JAX's backend. On 2 cores the main experiment took 181 s
  against 303 s with one device, whose small matmuls do not use both cores
  (docs/workdirs.md). A GPU/TPU backend is unaffected; so is an explicit XLA_FLAGS count."""
  if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
    return
  import jax
  jax.config.update("jax_num_cpu_devices", n or len(os.sched_getaffinity(0)))


def disk_full(e):
  """Whether an exception (or one it was raised from) is a full disk."""
  while e is not None:
    if (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space left" in str(e):
      return True
    e = e.__cause__ or e.__context__
  return False


def _not_joined(flags):
  print(f"error: the {flags.num_processes} processes did not all join at "
        f"{flags.coordinator} within {flags.join_timeout} s: start every --process_id "
        f"0..{flags.num_processes - 1} with the same command (--join_timeout waits longer)",
        file=sys.stderr, flush=True)
  os._exit(1)



def lock_workdir(workdir):
  """Holds an exclusive lock on the workdir folder itself for this process's life (one
  launcher per workdir; the OS holds it, so no file can be deleted to break it), or
  exits with one line if another launcher holds it."""
  handle = os.open(workdir, os.O_RDONLY)
  try:
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    sys.exit(f"error: another launcher is running on {workdir}; wait for it to finish "
             "(rerunning then resumes or reads back its results) or use another --workdir")
  return handle


def write_config(workdir, config):
  """The resolved config beside the results, written once the experiment ran
  (a refused launch leaves the workdir's files as they were)."""
  from gtickets import experiments, storage
  # one file per experiment (or per ticket phase where its outputs are): the analyses
  # sharing a workdir (jaccard, fourier, graphs, accelerators in workdirs/modadd) and
  # launches of two ticket phases each keep their own
  storage.write_json(os.path.join(workdir, experiments.config_file(config)), config.to_dict())


def checked_config(config):
  """The validated config on a working backend, its data readable and its runs fitting
  in memory; anything else ends here with one line, before a workdir or a compile."""
  from gtickets import experiments
  from gtickets.config import ConfigError
  try:
    config = experiments.validate(config)
  except ConfigError as e:
    sys.exit(f"config error: {e}")
  import jax
  jax.config.update("jax_default_matmul_precision", config.matmul_precision)
  try:
    jax.devices()
  except Exception as e:  # pylint: disable=broad-except
    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
    sys.exit(f"error: JAX found no usable backend (JAX_PLATFORMS="
             f"{os.environ.get('JAX_PLATFORMS', '')!r}): {first}; is that backend installed?")
  from gtickets.experiment.pipeline import make_setup, memory_estimate
  from gtickets.tasks.mnist import DataError
  try:
    setup = make_setup(config)
  except (DataError, ValueError) as e:
    sys.exit(f"error: {e}")
  largest = experiments.EXPERIMENTS[config.experiment].largest_phase
  need, what = memory_estimate(setup, largest(config) if largest else None)
  have = available_memory()
  if need > 0.9 * have:
    sys.exit(f"error: this launch would hold about {need / 2**30:.1f} GiB ({what}) but "
             f"{have / 2**30:.1f} GiB is available: launch fewer seeds, ratios or variants "
             "at once (one workdir each)")
  return config


def join_processes(flags):
  """Host devices (one process) or the multi-process job, before any JAX use (``flags``:
  the launcher's host_devices, coordinator, num_processes, process_id, join_timeout)."""
  if not 0 <= flags.process_id < max(flags.num_processes, 1):
    sys.exit(f"error: --process_id={flags.process_id} must be in [0, --num_processes="
             f"{flags.num_processes})")
  if flags.num_processes == 1:
    use_host_devices(flags.host_devices)
  from gtickets import distributed
  if flags.num_processes > 1:
    print(f"process {flags.process_id} of {flags.num_processes}: waiting up to "
          f"{flags.join_timeout} s for the others at {flags.coordinator}", flush=True)
  # XLA aborts the process (a C++ abort, no Python error) when the others do not join
  # in its timeout: a watchdog ends it first with one line, and XLA's timeout is later.
  give_up = threading.Timer(flags.join_timeout, lambda: _not_joined(flags))
  give_up.daemon = True
  if flags.num_processes > 1:
    give_up.start()
  distributed.initialize(flags.coordinator, flags.num_processes, flags.process_id,
                         flags.join_timeout + 60)
  give_up.cancel()


def open_workdir(config, path=None):
  """(the workdir ``path`` (default workdirs/<config.name>), created and writable,
  whether this launch created it, its lock for this launcher (process 0))."""
  from gtickets import distributed
  workdir = os.path.abspath(path or os.path.join("workdirs", config.name))
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    sys.exit(f"error: --workdir={workdir} is a file, not a folder")
  created = not os.path.exists(workdir)
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as e:
    sys.exit(f"error: cannot create the workdir {workdir}: {e.strerror}")
  if not os.access(workdir, os.W_OK | os.X_OK):
    sys.exit(f"error: the workdir {workdir} is not writable")
  return workdir, created, lock_workdir(workdir) if distributed.is_writer() else None



class HeldLogs(logging.Handler):
  """Holds what libraries report on the side during a launch: absl's log records (orbax
  logs through it) and exceptions of background threads (orbax's and tensorstore's
  writers); replayed on stderr when the launch ends well or with a traceback, dropped
  when it ends with one line (a full disk, say, where orbax's writer threads each print
  a traceback of their own)."""

  def __init__(self):
    super().__init__()
    self.records = []

  def emit(self, record):
    self.records.append(record)

  def hold(self):
    logger = logging.getLogger("absl")
    logger.addHandler(self)
    logger.propagate = False
    self._hooks = threading.excepthook, sys.unraisablehook
    threading.excepthook = lambda args: self.records.append(("thread", args))
    sys.unraisablehook = lambda args: self.records.append(("unraisable", args))

  def replay(self):
    threading.excepthook, sys.unraisablehook = self._hooks
    for record in self.records:
      if isinstance(record, logging.LogRecord):
        logging.lastResort.handle(record)
      elif record[0] == "thread":
        threading.excepthook(record[1])
      else:
        sys.unraisablehook(record[1])
    self.records = []

  def drop(self):
    """Forgets what it held (a launch ending with one line); keeps holding until exit."""
    self.records = []


def run(config, path, argv, created, held, progress=True, logs=True):
  """Runs the experiment in a launch's Workdir; records the launch (finished or
  interrupted); returns (text, files). A launch that fails with one line first removes
  the phase folders it made that hold nothing trained (and the workdir, if it made it
  and left it empty)."""
  from gtickets import experiments, signals
  from gtickets.experiment.store import Workdir, WorkdirMismatch
  from gtickets.storage import CorruptFile
  from gtickets.tasks.mnist import DataError
  from gtickets.training.checkpoints import RestoreError
  started = datetime.datetime.now()
  workdir = Workdir(path, progress=progress, launch=True, logs=logs)
  recorded = False

  def fail(message):
    held.drop()
    workdir.discard_unstarted()
    if created and os.path.isdir(path) and not os.listdir(path):
      os.rmdir(path)
    # without the interpreter's teardown, where orbax's writer threads (still failing on
    # a full disk, say) would print tracebacks under the line
    print(message, file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(1)

  try:
    text, files = experiments.EXPERIMENTS[config.experiment].run(config, workdir)
    signals.check_stop()
    with signals.deferred():  # a signal now waits until the launch is recorded
      workdir.commit()
      record_launch(path, config, argv, started, "finished", workdir, files)
      write_config(path, config)
      recorded = True
  except (WorkdirMismatch, FileNotFoundError, DataError, CorruptFile, RestoreError) as e:
    fail(f"error: {e}")
  except KeyboardInterrupt:
    signals.ignore_stops()
    held.drop()
    if not recorded:
      record_launch(path, config, argv, started, "interrupted")
      write_config(path, config)
    # Exit without the interpreter's teardown: XLA's compile threads may still run (a
    # signal during the first compile), and tearing down under them segfaults.
    print("interrupted: " + ("the launch had finished and is recorded as finished"
                             if recorded else
                             "rerun the same command to resume from the last checkpoint"),
          file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(1)
  except Exception as e:  # pylint: disable=broad-except
    if disk_full(e):
      fail(f"error: the disk is full (writing in {path}); free some space and rerun "
           "the same command: it resumes from the last complete checkpoint")
    held.replay()
    raise
  held.replay()
  return text, files

