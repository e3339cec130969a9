"""Launch records (launches.jsonl): what ran where, with the resolved config, the phases
and the files a finished launch left; the report publishes only what matches one."""
import datetime
import json
import os
import platform
import re
import shlex

from gtickets import identity, storage


def cpu_model():
  """This machine's CPU model (/proc/cpuinfo's, else the platform's word)."""
  try:
    with open("/proc/cpuinfo") as f:
      return next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
  except (OSError, StopIteration):
    return platform.processor() or platform.machine()


def machine():
  """Where this ran: CPU model and cores, JAX backend and devices."""
  import jax
  devices = jax.devices()
  return {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "backend": jax.default_backend(),
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
  A finished launch (``done``: its Workdir) also records its resolved config, every
  phase it used (id and summary digest) and the digests of its output files: the report
  publishes only results that match such a record (the jobs line's resolved config
  equal to the recorded one)."""
  args = [a for a in argv[1:] if not a.startswith((
      "--workdir", "--progress", "--noprogress", "--host_devices", "--process_id",
      "--coordinator", "--tensorboard", "--notensorboard"))]
  entry = {"experiment": config.experiment,
           "command": "python launch/main.py " + " ".join(map(shell_word, args)),
           "status": status,
           "seeds": list(config.seeds), "machine": machine(),
           **({"settings": config[config.experiment].to_dict()}
              if config.experiment in config else {}),
           "started": started.isoformat(timespec="seconds"),
           "wall_s": round((datetime.datetime.now() - started).total_seconds(), 1)}
  if done is not None:
    entry["config"] = identity.plain(config.to_dict())
    entry["phases"] = {
        os.path.relpath(d, workdir): {"id": pid, "summary": storage.digest(
            os.path.join(d, "summary.json"))} for d, pid in sorted(done.phases.items())}
    entry["outputs"] = {f: storage.digest(os.path.join(workdir, f)) for f in files
                        if os.path.isfile(os.path.join(workdir, f))}
  storage.write_text(os.path.join(workdir, "launches.jsonl"), json.dumps(entry) + "\n", "a")

