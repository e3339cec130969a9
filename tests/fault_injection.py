"""Fault injection over a tiny workdir (not collected by pytest: minutes, not seconds).

  python tests/fault_injection.py [--files=40] [--seed=0]

Trains a tiny main experiment once, then for a sample of its files and each
fault (delete, flip a byte, truncate) copies the workdir, damages that file, and
reruns the launcher, in two states: finished, and interrupted (curves and the
last metrics chunk of both phases removed, so the rerun resumes). Each rerun must
end with the same summary table as the clean run, or fail with one line and no
traceback. Prints one line per case and a count of each outcome.
"""
import argparse
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).parents[1]
TINY = ["--config=configs/modadd.py:quick", "--config.seeds=(0,1)", "--config.task.p=11",
        "--config.model.d_embed=16", "--config.model.d_hidden=8",
        "--config.train.num_steps=40", "--config.train.eval_every=10",
        "--config.train.ckpt_every=20"]


def launch(workdir):
  return subprocess.run([sys.executable, str(ROOT / "launch" / "main.py"), *TINY,
                         f"--workdir={workdir}", "--noprogress"], capture_output=True,
                        text=True, cwd=ROOT, timeout=600)


def table(workdir):
  return json.loads((workdir / "summary.json").read_text())["table"]


def damage(path, fault, rng):
  if fault == "delete":
    path.unlink()
    return
  data = bytearray(path.read_bytes())
  if not data:
    return
  if fault == "flip":
    data[rng.randrange(len(data))] ^= 0xFF
  else:  # truncate
    data = data[:rng.randrange(len(data))]
  path.write_bytes(bytes(data))


def interrupt(workdir):
  for phase in ("dense", "tickets"):
    (workdir / phase / "curves.npz").unlink()
    chunks = sorted((workdir / phase / "metrics").glob("upto_*.npz"))
    chunks[-1].unlink()


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--files", type=int, default=40)
  ap.add_argument("--seed", type=int, default=0)
  args = ap.parse_args()
  rng = random.Random(args.seed)
  tmp = pathlib.Path(tempfile.mkdtemp())
  clean = tmp / "clean"
  assert launch(clean).returncode == 0
  want = table(clean)
  outcomes = {}
  for state in ("finished", "interrupted"):
    base = tmp / f"base_{state}"
    shutil.copytree(clean, base)
    if state == "interrupted":
      interrupt(base)
    files = sorted(p.relative_to(base) for p in base.rglob("*") if p.is_file())
    for rel in rng.sample(files, min(args.files, len(files))):
      for fault in ("delete", "flip", "truncate"):
        work = tmp / "case"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(base, work)
        damage(work / rel, fault, rng)
        r = launch(work)
        err = [l for l in r.stderr.strip().splitlines() if l.strip()]
        if r.returncode == 0:
          outcome = "same results" if table(work) == want else "DIFFERENT RESULTS"
        elif "Traceback" in r.stderr or len([l for l in err if not l.startswith("note:")]) != 1:
          outcome = "TRACEBACK OR MANY LINES"
        else:
          outcome = "one line"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        tail = err[-1][:110] if err and r.returncode else ""
        print(f"{state:11s} {fault:8s} {str(rel):60s} {outcome} {tail}", flush=True)
  print(json.dumps(outcomes))
  shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
  main()
