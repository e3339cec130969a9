"""Bad input and foreign results, one case each (not collected by pytest: minutes).

  python tests/bad_input.py [--only=SUBSTRING]

The classes of issue 26, each case on a fresh tiny workdir: the report publishing
foreign or half-finished runs, refused launches that change files, identity gaps
(data files, device layout), invalid values, signals and broken files. A case holds
when the launcher (or the report) ends as the case says: with one line and no
traceback, with every file as it was, or with the same results. Prints one line per
case and the count that held (docs/bad_input.txt keeps the last pass).
"""
import argparse
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from helpers import file_digests

ROOT = pathlib.Path(__file__).parents[1]
TINY = ["--config=configs/modadd.py:quick", "--config.seeds=(0,1)", "--config.task.p=11",
        "--config.model.d_embed=16", "--config.model.d_hidden=8",
        "--config.train.num_steps=40", "--config.train.eval_every=10",
        "--config.train.ckpt_every=20"]


def launch(workdir, *args, env=None, tiny=True):
  return subprocess.run([sys.executable, str(ROOT / "launch" / "main.py"),
                         *(TINY if tiny else []), *args, f"--workdir={workdir}", "--noprogress"],
                        capture_output=True, text=True, cwd=ROOT, timeout=600,
                        env={**os.environ, **(env or {})})


def one_line(r, words):
  lines = r.stderr.strip().splitlines()
  if r.returncode == 0 or not lines or words not in lines[-1] or "Traceback" in r.stderr:
    return f"rc {r.returncode}, last line {lines[-1][:150] if lines else ''!r}"
  return ""


def refused_unchanged(tmp, *args, words="holds runs of a different config"):
  w = tmp / "w"
  assert launch(w).returncode == 0
  before = file_digests(w)
  r = launch(w, *args)
  return one_line(r, words) or ("files changed" if file_digests(w) != before else "")


def interrupted(w):
  """Removes what marks the tickets phase finished (it resumes from step 20)."""
  d = w / "tickets"
  (d / "curves.npz").unlink()
  sorted((d / "metrics").glob("upto_*.npz"))[-1].unlink()


# ------------------------------------------------------------------ the report

def report(tmp, *extra):
  return subprocess.run(
      [sys.executable, str(ROOT / "launch" / "report.py"), f"--workdirs={tmp / 'workdirs'}",
       f"--results={tmp / 'results'}", f"--docs={tmp / 'docs'}", f"--readme={tmp / 'R.md'}",
       f"--jobs={tmp / 'jobs.txt'}", f"--claims_jobs={tmp / 'claims_jobs.txt'}", "--compare=",
       *extra], capture_output=True, text=True, cwd=ROOT, timeout=600)


def report_tree(tmp):
  """A claim workdir trained with its jobs line, published once: the committed state."""
  (tmp / "R.md").write_text("<!-- claims:begin -->\n<!-- claims:end -->\n")
  (tmp / "jobs.txt").write_text("modadd " + " ".join(f'"{a}"' for a in TINY) + "\n")
  (tmp / "claims_jobs.txt").write_text("")
  assert launch(tmp / "workdirs" / "modadd").returncode == 0
  assert report(tmp).returncode == 0
  return file_digests(tmp / "results")


def report_keeps(tmp, change):
  committed = report_tree(tmp)
  change(tmp / "workdirs" / "modadd")
  r = report(tmp)
  if r.returncode != 0 or "Traceback" in r.stderr:
    return f"report failed: {r.stderr[-300:]}"
  if "kept the committed results" not in r.stdout:
    return "no line saying the results were kept"
  return "" if file_digests(tmp / "results") == committed else "committed results changed"


def case_report_quick_run(tmp):
  return report_keeps(tmp, lambda w: launch(w, "--config.threshold=0.5"))


def case_report_half_finished(tmp):
  def half(w):
    interrupted(w)
    (w / "launches.jsonl").write_text((w / "launches.jsonl").read_text()
                                      .replace('"finished"', '"interrupted"'))
  return report_keeps(tmp, half)


def case_report_other_seeds(tmp):
  def other(w):
    shutil.rmtree(w)
    args = [a for a in TINY if not a.startswith("--config.seeds")]
    assert launch(w, *args, "--config.seeds=(0,1,2)", tiny=False).returncode == 0
  return report_keeps(tmp, other)


def case_report_cut_launch_record(tmp):
  report_tree(tmp)
  p = tmp / "results" / "modadd" / "launches.jsonl"
  p.write_text(p.read_text()[:-30])
  r = report(tmp)
  return "" if r.returncode == 0 and "Traceback" not in r.stderr else r.stderr[-300:]


def case_report_cut_summary(tmp):
  report_tree(tmp)
  p = tmp / "results" / "modadd" / "dense" / "summary.json"
  p.write_text(p.read_text()[:-30])
  r = report(tmp)
  return "" if r.returncode == 0 and "not valid JSON" in (tmp / "docs" / "claims.md").read_text() \
      else r.stderr[-300:]


def case_report_missing_jobs(tmp):
  report_tree(tmp)
  return one_line(report(tmp, f"--jobs={tmp / 'nope'}"), "is not a file")


def case_report_missing_readme(tmp):
  report_tree(tmp)
  return one_line(report(tmp, f"--readme={tmp / 'nope.md'}"), "is not a file")


# ------------------------------------------------------------------ refused launches, identity

def case_refused_threshold_and_k(tmp):
  return refused_unchanged(tmp, "--config.threshold=0.9", "--config.ticket.prune_ratios=(0.5,)")


def case_refused_lr(tmp):
  return refused_unchanged(tmp, "--config.optim.lr=0.01")


def case_refused_interrupted_other_k(tmp):
  w = tmp / "w"
  assert launch(w).returncode == 0
  interrupted(w)
  before = file_digests(w)
  r = launch(w, "--config.ticket.prune_ratios=(0.5,)")
  return one_line(r, "holds runs of a different config") or (
      "files changed" if file_digests(w) != before else "")


def case_runs_json_gone_other_k(tmp):
  w = tmp / "w"
  assert launch(w).returncode == 0
  d = w / "tickets"
  for p in ("runs.json", "curves.npz", "summary.json", "summary.csv"):
    (d / p).unlink()
  shutil.rmtree(d / "metrics")
  shutil.rmtree(d / "checkpoints")
  r = launch(w, "--config.ticket.prune_ratios=(0.5,)")
  if r.returncode != 0 or "saved for another phase" not in r.stdout:
    return f"rc {r.returncode}; the old masks were not rebuilt"
  runs = json.loads((d / "runs.json").read_text())["runs"]
  return "" if {x["prune_ratio"] for x in runs} == {0.5} else "wrong run table"


def mnist_args(tmp):
  sys.path.insert(0, str(ROOT))
  import numpy as np  # pylint: disable=import-outside-toplevel
  from gtickets.tasks import mnist  # pylint: disable=import-outside-toplevel
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 2, 80).astype(np.uint8)
  images = rng.integers(0, 255, (80, 8, 8)).astype(np.uint8)
  mnist.write_idx(str(tmp / "i-idx3-ubyte.gz"), images)
  mnist.write_idx(str(tmp / "l-idx1-ubyte.gz"), labels)
  return ["--config=configs/mnist.py:quick", f"--config.task.data_dir={tmp}",
          "--config.task.images_file=i-idx3-ubyte.gz", "--config.task.labels_file=l-idx1-ubyte.gz",
          "--config.task.num_train=40", "--config.seeds=(0,)", "--config.train.num_steps=40",
          "--config.train.eval_every=10", "--config.train.ckpt_every=20"]


def case_data_replaced_before_resume(tmp):
  args = mnist_args(tmp)
  w = tmp / "w"
  assert launch(w, *args, tiny=False).returncode == 0
  interrupted(w)
  data = (tmp / "l-idx1-ubyte.gz").read_bytes()
  import gzip  # pylint: disable=import-outside-toplevel
  raw = bytearray(gzip.decompress(data))
  raw[-1] ^= 1
  (tmp / "l-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
  return one_line(launch(w, *args, tiny=False), "config.task.data_digest: stored")


def case_resume_on_other_devices(tmp):
  w = tmp / "w"
  assert launch(w, "--host_devices=1").returncode == 0
  interrupted(w)
  return one_line(launch(w, "--host_devices=2"), "was trained on 1 cpu device")


# ------------------------------------------------------------------ invalid values

def invalid(*args, words="is invalid"):
  return lambda tmp: one_line(launch(tmp / "w", *args), words) or (
      "workdir created" if (tmp / "w").exists() else "")


CASES_INVALID = {
    "eps_negative": invalid("--config.optim.eps=-1.0", words="config.optim.eps"),
    "eps_inf": invalid("--config.optim.eps=inf", words="must be finite"),
    "lr_nan": invalid("--config.optim.lr=nan", words="must be finite"),
    "lr_inf": invalid("--config.optim.lr=inf", words="must be finite"),
    "wd_nan": invalid("--config.optim.weight_decay=nan", words="must be finite"),
    "grokfast_lamb_nan": invalid("--config.optim.grokfast_lamb=nan", words="must be finite"),
    "duplicate_ratios": invalid("--config.ticket.prune_ratios=(0.6,0.6)", words="must not repeat"),
    "duplicate_mask_steps": invalid("--config.ticket.mask_steps=(-1,40)", words="must not repeat"),
    "name_dotdot": invalid("--config.name=..", words="must be a folder name"),
    "huge_p": invalid("--config.task.p=1000003", words="must be <= 5000"),
}


def case_ten_thousand_seeds(tmp):
  r = launch(tmp / "w", "--config=configs/modadd.py",
             "--config.seeds=" + str(tuple(range(10_000))), tiny=False)
  return one_line(r, "GiB is available")


def case_config_file_adds_a_field(tmp):
  (tmp / "c.py").write_text("from configs import modadd\ndef get_config(arg=None):\n"
                            "  c = modadd.get_config('quick')\n  c.train.num_step = 5\n  return c\n")
  return one_line(launch(tmp / "w", f"--config={tmp / 'c.py'}", tiny=False), "is not a field")


def case_config_returns_dict(tmp):
  (tmp / "c.py").write_text("def get_config(arg=None):\n  return {'seeds': (0,)}\n")
  return one_line(launch(tmp / "w", f"--config={tmp / 'c.py'}", tiny=False),
                  "must return an ml_collections.ConfigDict")


# ------------------------------------------------------------------ signals and broken files

def case_sigterm_in_first_compile(tmp):
  p = subprocess.Popen([sys.executable, str(ROOT / "launch" / "main.py"), *TINY,
                        f"--workdir={tmp / 'w'}", "--noprogress"], cwd=ROOT, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
  p.stdout.readline()
  time.sleep(0.5)
  p.send_signal(signal.SIGTERM)
  _, err = p.communicate(timeout=120)
  if p.returncode != 1 or "interrupted" not in err.strip().splitlines()[-1]:
    return f"rc {p.returncode}"
  return "" if launch(tmp / "w").returncode == 0 else "the rerun failed"


def case_lock_file_deleted(tmp):
  import fcntl  # pylint: disable=import-outside-toplevel
  w = tmp / "w"
  w.mkdir()
  held = os.open(w, os.O_RDONLY)
  fcntl.flock(held, fcntl.LOCK_EX)
  for p in w.glob(".lock"):
    p.unlink()
  r = launch(w)
  os.close(held)
  return one_line(r, "another launcher is running")


def case_workdir_is_a_file(tmp):
  (tmp / "w").write_text("x")
  return one_line(launch(tmp / "w"), "is a file, not a folder")


def digests_hold(content):
  def case(tmp):
    w = tmp / "w"
    assert launch(w).returncode == 0
    interrupted(w)
    (w / "tickets" / "checkpoints" / "digests.json").write_text(content)
    r = launch(w)
    return "" if r.returncode == 0 and "Traceback" not in r.stderr else r.stderr[-300:]
  return case


def case_missing_backend(tmp):
  return one_line(launch(tmp / "w", env={"JAX_PLATFORMS": "cuda"}), "no usable backend")


def case_process_started_alone(tmp):
  return one_line(launch(tmp / "w", "--num_processes=2", "--process_id=0", "--join_timeout=3",
                         "--coordinator=127.0.0.1:12397"), "did not all join")


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}
CASES.update({f"invalid_{k}": v for k, v in CASES_INVALID.items()})
CASES.update({"digests_list": digests_hold("[]"), "digests_null": digests_hold("null")})


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--only", default="")
  args = ap.parse_args()
  held = 0
  names = [n for n in CASES if args.only in n]
  for name in names:
    with tempfile.TemporaryDirectory() as tmp:
      try:
        why = CASES[name](pathlib.Path(tmp))
      except Exception as e:  # pylint: disable=broad-except
        why = f"the case itself failed: {type(e).__name__}: {e}"
    held += not why
    print(f"{'held' if not why else 'FAILED'}  {name}" + (f": {why}" if why else ""), flush=True)
  print(f"{held} of {len(names)} cases held")
  return 0 if held == len(names) else 1


if __name__ == "__main__":
  sys.exit(main())
