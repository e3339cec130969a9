"""A screenshot of TensorBoard over a workdir, taken with headless Chromium.

  python launch/tensorboard_screenshot.py --logdir=workdirs/modadd \
      --out=docs/figures/tensorboard.png [--filter=accuracy/test]

Starts a TensorBoard server on a free 127.0.0.1 port, waits until it lists every run
of the workdir's logs, opens its Scalars dashboard (tags matching ``--filter``) in
Debian's ``chromium --headless --screenshot``, then stops the server.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def count_runs(logdir):
  return sum(1 for _, _, files in os.walk(logdir)
             if any(f.startswith("events.out.tfevents") for f in files))


def wait_for_runs(port, want, timeout):
  deadline = time.time() + timeout
  while time.time() < deadline:
    try:
      with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/runs", timeout=5) as r:
        if len(json.loads(r.read())) >= want:
          return
    except OSError:
      pass
    time.sleep(0.5)
  sys.exit(f"error: TensorBoard did not list the {want} runs within {timeout} s")


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--logdir", default="workdirs/modadd")
  ap.add_argument("--out", default="docs/figures/tensorboard.png")
  ap.add_argument("--filter", default="accuracy/test", help="tags shown (a regex)")
  ap.add_argument("--size", default="1600,1000", help="window width,height")
  ap.add_argument("--chromium", default="chromium")
  args = ap.parse_args()
  if not os.path.isdir(args.logdir) or not count_runs(args.logdir):
    sys.exit(f"error: {args.logdir} holds no TensorBoard logs (launch an experiment into it)")
  if shutil.which(args.chromium) is None:
    sys.exit(f"error: {args.chromium} not found (Debian: apt-get install chromium)")
  port = free_port()
  server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", f"--logdir={args.logdir}",
                             "--host=127.0.0.1", f"--port={port}", "--load_fast=false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    wait_for_runs(port, count_runs(args.logdir), 300)
    # the Scalars dashboard (the Time Series one draws no lines in headless Chromium)
    url = (f"http://127.0.0.1:{port}/#scalars&_smoothingWeight=0&tagFilter="
           + urllib.parse.quote(args.filter, safe=""))
    with tempfile.TemporaryDirectory() as profile:
      subprocess.run([args.chromium, "--headless", "--no-sandbox", "--disable-gpu",
                      f"--user-data-dir={profile}", "--hide-scrollbars",
                      f"--window-size={args.size}", "--virtual-time-budget=30000",
                      f"--screenshot={os.path.abspath(args.out)}", url],
                     check=True, capture_output=True, timeout=300)
  finally:
    server.terminate()
    server.wait(timeout=30)
  print(f"wrote {args.out} ({os.path.getsize(args.out):,} bytes) from {url}")


if __name__ == "__main__":
  main()
