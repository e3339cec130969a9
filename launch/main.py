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
import os
import sys

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

# the launcher's flags (multi-process and device flags: gtickets/commands/launcher.py)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Where results go (default: workdirs/<config.name>).")
_PROGRESS = flags.DEFINE_bool("progress", True, "Show progress bars.")
_TENSORBOARD = flags.DEFINE_bool("tensorboard", True, "Write TensorBoard logs in every phase "
                                 "folder (tensorboard --logdir WORKDIR).")
flags.DEFINE_string(
    "coordinator", "127.0.0.1:12355", "Multi-process jobs: host:port of process 0.")
flags.DEFINE_integer(
    "num_processes", 1, "Multi-process jobs (jax.distributed): how many processes; each "
    "runs this same command with its --process_id.")
flags.DEFINE_integer("process_id", 0, "Multi-process jobs: this process's index.")
flags.DEFINE_integer(
    "join_timeout", 120, "Multi-process jobs: seconds to wait for every process to join.")
flags.DEFINE_integer(
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
  from gtickets.commands import launcher
  launcher.print_config_fields(argv[1:])


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


def _interrupted_early():
  print("interrupted before the launch started: nothing was trained or recorded",
        file=sys.stderr, flush=True)
  os._exit(1)


def main(argv):
  signals.stop_on(_stop)  # Ctrl-C and SIGTERM alike: the launch is recorded, then it ends
  try:
    config = load_config(argv)
    from gtickets.commands import launcher
    launcher.join_processes(flags.FLAGS)
    config = launcher.checked_config(config)
    signals.check_stop()  # one a callback swallowed (during imports, say)
    workdir, created, lock = launcher.open_workdir(config, _WORKDIR.value)
    held = launcher.HeldLogs()
    held.hold()
    print(f"workdir: {workdir}  experiment: {config.experiment}", flush=True)
  except KeyboardInterrupt:
    _interrupted_early()
  except ImportError:
    if signals.stopped():  # the stop landed in jaxlib's initialization
      _interrupted_early()
    raise
  text, files = launcher.run(config, workdir, argv, created, held, _PROGRESS.value,
                             _TENSORBOARD.value)
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
