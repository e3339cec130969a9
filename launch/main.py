"""Runs an experiment of the paper (``config.experiment``, default: the main one).

  python launch/main.py --config=configs/modadd.py [--workdir=DIR] [--config.FIELD=VALUE]
  python launch/main.py --config=configs/modadd_prune_ratio.py   # an ablation

The main experiment writes into the workdir: config.json, dense/ and tickets/
(checkpoints, masks, curves, per-run summaries), summary.json, summary.md and
curves.png; an ablation writes its phase folder, table and figure beside them,
reusing the workdir's dense base runs. Rerunning the same command on the same
workdir skips finished phases and resumes an interrupted one from its last
checkpoint.
"""
import datetime
import errno
import fcntl
import json
import logging
import os
import platform
import re
import shlex
import sys
import threading

# Config files may import each other as `configs.<name>` (ablations extend modadd).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gtickets import signals  # noqa: E402  (the standard library only)


def _stop(signum, frame):
  """SIGINT / SIGTERM: stop the launch (KeyboardInterrupt, raised again between training
  chunks if a callback swallowed it: ``signals.check_stop``); later signals are ignored,
  so the interrupted launch is recorded whatever else arrives."""
  signals.ignore_stops()
  signals.request_stop(signum)
  raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":  # before any import that takes time: a stop there is one line
  signals.stop_on(_stop)
try:
  from absl import flags  # noqa: E402
except KeyboardInterrupt:
  print("interrupted before the launch started: nothing was trained or recorded",
        file=sys.stderr)
  sys.exit(1)

_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Where results go (default: workdirs/<config.name>).")
_PROGRESS = flags.DEFINE_bool("progress", True, "Show progress bars.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator", "127.0.0.1:12355", "Multi-process jobs: host:port of process 0.")
_NUM_PROCESSES = flags.DEFINE_integer(
    "num_processes", 1, "Multi-process jobs (jax.distributed): how many processes; each "
    "runs this same command with its --process_id.")
_PROCESS_ID = flags.DEFINE_integer("process_id", 0, "Multi-process jobs: this process's index.")
_JOIN_TIMEOUT = flags.DEFINE_integer(
    "join_timeout", 120, "Multi-process jobs: seconds to wait for every process to join.")
_HOST_DEVICES = flags.DEFINE_integer(
    "host_devices", 0, "CPU only: how many host devices the run axis is sharded over; 0 = one "
    "per core this process may run on (XLA_FLAGS' --xla_force_host_platform_device_count, "
    "when set, wins).")


HELP = ("-h", "-?", "--help", "--helpshort", "--helpfull")


CONFIG_HELP = ("  --config: the experiment's config file, e.g. configs/modadd.py[:variant]; then\n"
               "    --config.FIELD=VALUE overrides any of its fields")


def print_help(argv):
  """This docstring and the launcher's flags; with --helpfull also every field of the
  config named by --config (its value after the overrides given)."""
  own = "\n".join(l for l in flags.FLAGS.module_help(sys.modules[__name__]).splitlines()
                  if l.startswith("  "))  # the flags, less the module's name
  print(__doc__.strip() + "\n\nflags:\n" + CONFIG_HELP + "\n" + own)
  if "--helpfull" not in argv:
    print("\n--helpfull also lists every field of the --config file given, with its value.")
    return
  if not any(a.startswith("--config=") for a in argv):
    print("\n(give --config=FILE[:VARIANT] to list its fields)")
    return
  from gtickets import experiments
  from gtickets.identity import flatten
  config = experiments.config_from_args(argv[1:])
  fields = flatten(json.loads(json.dumps(config.to_dict())))
  name = next(a for a in argv if a.startswith("--config=")).split("=", 1)[1]
  print(f"\nfields of {name} (override: --config.FIELD=VALUE):")
  for field, value in fields.items():
    print(f"  --config.{field}={value!r}")


def load_config(argv):
  """Parses the launcher's flags and loads the config (``experiments.config_from_args``,
  as the claims report reads a jobs line); any error exits with one line, no traceback.
  ``--help``/``--helpfull`` print the flags (and the config's fields) and exit 0."""
  from gtickets import experiments
  from gtickets.config import ConfigError
  try:
    if any(a in HELP for a in argv[1:]):
      print_help(argv)
      sys.exit(0)
    rest = flags.FLAGS(argv, known_only=True)[1:]
    unknown = [a for a in rest if not a.startswith("--config")]
    if unknown:
      raise ConfigError(f"unknown flag {unknown[0]} (python launch/main.py --help lists them)")
    return experiments.config_from_args(argv[1:])
  except ConfigError as e:
    sys.exit(f"config error: {e}")
  except flags.Error as e:
    sys.exit(f"config error: {(str(e).strip().splitlines() or [type(e).__name__])[-1]}")


def use_host_devices(n):
  """Splits the CPU into ``n`` host devices (0: one per core this process may use),
  before anything starts JAX's backend. On 2 cores the main experiment took 181 s
  against 303 s with one device, whose small matmuls do not use both cores
  (docs/workdirs.md). A GPU/TPU backend is unaffected; so is an explicit XLA_FLAGS count."""
  if "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
    return
  import jax
  jax.config.update("jax_num_cpu_devices", n or len(os.sched_getaffinity(0)))


def machine():
  """Where this ran: CPU model and cores, JAX backend and devices."""
  import jax
  cpu = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
  except (OSError, StopIteration):
    pass
  devices = jax.devices()
  return {"cpu": cpu, "cpu_count": os.cpu_count(), "backend": jax.default_backend(),
          "devices": f"{len(devices)} x {devices[0].device_kind}", "device_count": len(devices),
          "jax": jax.__version__,
          "processes": jax.process_count()}


def available_memory():
  """Bytes the runs may use: the accelerators' memory, or the host's available memory."""
  import jax
  stats = [d.memory_stats() or {} for d in jax.local_devices()]
  if jax.default_backend() != "cpu" and all("bytes_limit" in s for s in stats):
    return sum(s["bytes_limit"] for s in stats)
  with open("/proc/meminfo") as f:
    info = {l.split(":")[0]: int(l.split()[1]) * 1024 for l in f if ":" in l}
  return info.get("MemAvailable", info.get("MemTotal", 1 << 40))


def shell_word(arg):
  """``arg`` as one word of a bash command line: as it is when bash leaves it alone,
  in double quotes when it holds ( ) ' or spaces, else in shlex's single quotes."""
  if re.fullmatch(r"[\w@%+=:,./-]*", arg) and arg:
    return arg
  if not re.search(r'["$`\\!]', arg):
    return f'"{arg}"'
  return shlex.quote(arg)


def record_launch(workdir, config, argv, started, status, done=None, files=()):
  """Appends this launch (command, machine, wall time, status) to launches.jsonl:
  the claims report (launch/report.py) says from it where each result was measured.
  A finished launch (``done``: its Workdir) also records the digest of its
  resolved config, every phase it used (id and summary digest) and the digests of its
  output files: the report publishes only results that match such a record."""
  args = [a for a in argv[1:] if not a.startswith((
      "--workdir", "--progress", "--noprogress", "--host_devices", "--process_id",
      "--coordinator"))]
  entry = {"experiment": config.experiment,
           "phase": None if config.experiment == "main" else config.ticket.phase,
           "command": "python launch/main.py " + " ".join(map(shell_word, args)),
           "status": status,
           "seeds": list(config.seeds), "machine": machine(),
           **({"settings": config[config.experiment].to_dict()}
              if config.experiment in config else {}),
           "started": started.isoformat(timespec="seconds"),
           "wall_s": round((datetime.datetime.now() - started).total_seconds(), 1)}
  from gtickets import storage
  if done is not None:
    entry["config_digest"] = storage.json_digest(config.to_dict())
    entry["phases"] = {
        os.path.relpath(d, workdir): {"id": pid, "summary": storage.digest(
            os.path.join(d, "summary.json"))} for d, pid in sorted(done.phases.items())}
    entry["outputs"] = {f: storage.digest(os.path.join(workdir, f)) for f in files
                        if os.path.isfile(os.path.join(workdir, f))}
  storage.write_text(os.path.join(workdir, "launches.jsonl"), json.dumps(entry) + "\n", "a")


def _not_joined():
  print(f"error: the {_NUM_PROCESSES.value} processes did not all join at "
        f"{_COORDINATOR.value} within {_JOIN_TIMEOUT.value} s: start every --process_id "
        f"0..{_NUM_PROCESSES.value - 1} with the same command (--join_timeout waits longer)",
        file=sys.stderr, flush=True)
  os._exit(1)


def _disk_full(e):
  """Whether an exception (or one it was raised from) is a full disk."""
  while e is not None:
    if (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space left" in str(e):
      return True
    e = e.__cause__ or e.__context__
  return False


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


def join_processes():
  """Host devices (one process) or the multi-process job, before any JAX use."""
  if not 0 <= _PROCESS_ID.value < max(_NUM_PROCESSES.value, 1):
    sys.exit(f"error: --process_id={_PROCESS_ID.value} must be in [0, --num_processes="
             f"{_NUM_PROCESSES.value})")
  if _NUM_PROCESSES.value == 1:
    use_host_devices(_HOST_DEVICES.value)
  from gtickets import distributed
  if _NUM_PROCESSES.value > 1:
    print(f"process {_PROCESS_ID.value} of {_NUM_PROCESSES.value}: waiting up to "
          f"{_JOIN_TIMEOUT.value} s for the others at {_COORDINATOR.value}", flush=True)
  # XLA aborts the process (a C++ abort, no Python error) when the others do not join
  # in its timeout: a watchdog ends it first with one line, and XLA's timeout is later.
  give_up = threading.Timer(_JOIN_TIMEOUT.value, _not_joined)
  give_up.daemon = True
  if _NUM_PROCESSES.value > 1:
    give_up.start()
  distributed.initialize(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value,
                         _JOIN_TIMEOUT.value + 60)
  give_up.cancel()


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


def open_workdir(config):
  """(the workdir, created and writable, whether this launch created it, its lock for
  this launcher (process 0))."""
  from gtickets import distributed
  workdir = os.path.abspath(_WORKDIR.value or os.path.join("workdirs", config.name))
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


def run(config, path, argv, created, held):
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
  workdir = Workdir(path, progress=_PROGRESS.value, launch=True)
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
    if _disk_full(e):
      fail(f"error: the disk is full (writing in {path}); free some space and rerun "
           "the same command: it resumes from the last complete checkpoint")
    held.replay()
    raise
  held.replay()
  return text, files


def _interrupted_early():
  print("interrupted before the launch started: nothing was trained or recorded",
        file=sys.stderr, flush=True)
  os._exit(1)


def main(argv):
  signals.stop_on(_stop)  # Ctrl-C and SIGTERM alike: the launch is recorded, then it ends
  try:
    config = load_config(argv)
    join_processes()
    config = checked_config(config)
    signals.check_stop()  # one a callback swallowed (during imports, say)
    workdir, created, lock = open_workdir(config)
    held = HeldLogs()
    held.hold()
    print(f"workdir: {workdir}  experiment: {config.experiment}", flush=True)
  except KeyboardInterrupt:
    _interrupted_early()
  text, files = run(config, workdir, argv, created, held)
  from gtickets import distributed
  if distributed.is_writer():
    print(f"threshold {config.threshold}; steps are evaluated every "
          f"{config.train.eval_every}; mean +- std over seeds {list(config.seeds)}")
    print(text)
    print(f"wrote {', '.join(files)} in {workdir}", flush=True)
  if lock is not None:
    os.close(lock)


def entry(argv):
  """``main`` with a stop after the launch was recorded (while its results are printed)
  ending quietly too."""
  try:
    main(argv)
  except KeyboardInterrupt:
    print("interrupted: the launch had finished and is recorded as finished",
          file=sys.stderr, flush=True)
    os._exit(1)


if __name__ == "__main__":
  entry(sys.argv)
