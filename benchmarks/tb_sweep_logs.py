"""How big a sweep's TensorBoard logs are, and how long TensorBoard takes to load them.

  python launch/main.py --config=configs/sweep_modadd.py:gpu1000 --config.task.p=11 \
      --config.task.pairs=all --config.model.d_embed=16 --config.model.d_hidden=8 \
      --config.train.vmap_runs=0 --workdir=/tmp/sweep1000
  python benchmarks/tb_sweep_logs.py --logdir=/tmp/sweep1000 --out=benchmarks/tb_sweep_logs.json

The sweep is ``:gpu1000``'s grid (250 dense runs, 750 tickets, 30k steps evaluated
every 100: the paper's schedule, so the logs have a full-size sweep's events) on a tiny
model, which trains in minutes on a CPU. For each loader (TensorBoard's Rust data
server, ``--load_fast=true``, and its Python one, ``--load_fast=false``): seconds from
the server's start until ``/data/runs`` lists every run, until the scalars plugin lists
every run's tags, and until one run's series and the HParams dashboard's sessions come
back.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def get(port, path, body=None):
  req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                               data=None if body is None else json.dumps(body).encode(),
                               headers={"Content-Type": "application/json"})
  with urllib.request.urlopen(req, timeout=120) as r:
    return json.loads(r.read())


def log_runs(logdir):
  out = []
  for d, _, files in os.walk(logdir):
    if any(f.startswith("events.out.tfevents") for f in files):
      out.append(os.path.relpath(d, logdir))
  return out


def time_loader(logdir, want, load_fast, timeout=600):
  port = free_port()
  t0 = time.perf_counter()
  server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", f"--logdir={logdir}",
                             "--host=127.0.0.1", f"--port={port}", f"--load_fast={load_fast}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  out = {"load_fast": load_fast}
  try:
    while "runs_s" not in out or "tags_s" not in out:
      if time.perf_counter() - t0 > timeout:
        out["timed_out"] = True
        return out
      try:
        if "runs_s" not in out and len(get(port, "/data/runs")) >= want:
          out["runs_s"] = round(time.perf_counter() - t0, 1)
        if "runs_s" in out:
          tags = get(port, "/data/plugin/scalars/tags")
          if sum(1 for v in tags.values() if len(v) >= 6) >= want:
            out["tags_s"] = round(time.perf_counter() - t0, 1)
      except OSError:
        pass
      time.sleep(0.5)
    run = sorted(tags)[0]
    t = time.perf_counter()
    q = urllib.parse.urlencode({"run": run, "tag": "accuracy/test"})
    out["one_series_points"] = len(get(port, f"/data/plugin/scalars/scalars?{q}"))
    out["one_series_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    sessions = get(port, "/data/plugin/hparams/session_groups",
                   {"experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS",
                                                              "STATUS_FAILURE", "STATUS_RUNNING"],
                    "colParams": [], "startIndex": 0, "sliceSize": 2000})
    out["hparams_sessions"] = sessions.get("totalSize")
    out["hparams_s"] = round(time.perf_counter() - t, 2)
  finally:
    server.terminate()
    server.wait(timeout=30)
  return out


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--logdir", required=True)
  ap.add_argument("--out", default="")
  args = ap.parse_args()
  runs = log_runs(args.logdir)
  size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.logdir)
             if "tb" in os.path.relpath(d, args.logdir).split(os.sep) for f in fs)
  result = {"runs": len(runs), "log_bytes": size, "bytes_per_run": size // max(len(runs), 1),
            "cpu_count": os.cpu_count(),
            "loaders": [time_loader(args.logdir, len(runs), f) for f in ("true", "false")]}
  print(json.dumps(result, indent=1))
  if args.out:
    with open(args.out, "w") as f:
      json.dump(result, f, indent=1)


if __name__ == "__main__":
  main()
