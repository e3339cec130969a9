"""What writing TensorBoard logs costs a launch: the same command with logs on and off
(``--tensorboard`` / ``--notensorboard``), side by side, alternating which goes first.

  python benchmarks/tb_logs.py --config=configs/modadd.py --pairs=1
  python benchmarks/tb_logs.py --config=configs/modadd.py:quick --pairs=3

Each launch trains into a fresh temporary workdir (nothing is read back); prints and
writes (``--out``) every wall time, the median ratio on / off and the logs' size.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def launch(config, logs, workdir):
  t = time.perf_counter()
  subprocess.run([sys.executable, os.path.join(ROOT, "launch", "main.py"), f"--config={config}",
                  f"--workdir={workdir}", "--noprogress",
                  "--tensorboard" if logs else "--notensorboard"],
                 check=True, capture_output=True, cwd=ROOT)
  return time.perf_counter() - t


def log_bytes(workdir):
  total = 0
  for d, _, files in os.walk(workdir):
    if "tb" in os.path.relpath(d, workdir).split(os.sep):
      total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
  return total


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--config", default="configs/modadd.py")
  ap.add_argument("--pairs", type=int, default=1)
  ap.add_argument("--out", default="")
  args = ap.parse_args()
  rows = []
  for i in range(args.pairs):
    for logs in ((True, False) if i % 2 == 0 else (False, True)):
      with tempfile.TemporaryDirectory() as tmp:
        w = os.path.join(tmp, "w")
        wall = launch(args.config, logs, w)
        rows.append({"pair": i, "logs": logs, "wall_s": round(wall, 2),
                     "log_bytes": log_bytes(w)})
        print(json.dumps(rows[-1]), flush=True)
  on = sorted(r["wall_s"] for r in rows if r["logs"])
  off = sorted(r["wall_s"] for r in rows if not r["logs"])
  ratios = sorted(a["wall_s"] / b["wall_s"] for a, b in zip(
      [r for r in rows if r["logs"]], [r for r in rows if not r["logs"]]))
  out = {"config": args.config, "cpu_count": os.cpu_count(), "runs": rows,
         "median_on_s": on[len(on) // 2], "median_off_s": off[len(off) // 2],
         "median_ratio_on_off": round(ratios[len(ratios) // 2], 4),
         "log_bytes": max(r["log_bytes"] for r in rows)}
  print(json.dumps({k: v for k, v in out.items() if k != "runs"}))
  if args.out:
    with open(args.out, "w") as f:
      json.dump(out, f, indent=1)


if __name__ == "__main__":
  main()
