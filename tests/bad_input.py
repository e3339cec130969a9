"""Bad input and foreign results, one case each (not collected by pytest: minutes).

  python tests/bad_input.py [--only=SUBSTRING]

The classes of issues 26 and 33, each case on a fresh tiny workdir: the report
publishing foreign, half-finished or hand-edited results (and losing launch records or
measurements), refused launches that change files, identity gaps (data files, device
layout), checkpoints read on another layout, invalid values, what a new user meets
first (--help, :quick, a resumed phase, a sweep's overrides, a second ticket phase),
signals at any moment, full disks and broken files. A case holds
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
  """The launcher on ``workdir`` (TINY settings first unless ``tiny=False``)."""
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

def report_args(tmp, *extra):
  return [sys.executable, str(ROOT / "launch" / "report.py"), f"--workdirs={tmp / 'workdirs'}",
          f"--results={tmp / 'results'}", f"--docs={tmp / 'docs'}", f"--readme={tmp / 'R.md'}",
          f"--jobs={tmp / 'jobs.txt'}", f"--claims_jobs={tmp / 'claims_jobs.txt'}",
          "--compare=", *extra]


def report(tmp, *extra):
  return subprocess.run(report_args(tmp, *extra), capture_output=True, text=True, cwd=ROOT,
                        timeout=600)


def report_env(tmp, hook, *extra):
  return subprocess.run(report_args(tmp, *extra), capture_output=True, text=True, cwd=ROOT,
                        timeout=600, env={**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{ROOT}"})


def launch_hooked(tmp, workdir, code):
  """The tiny launch on ``workdir`` with ``code`` run first in its process (hook_file)."""
  return launch(workdir, env={"PYTHONPATH": f"{hook_file(tmp, code)}{os.pathsep}{ROOT}"})


def hook_file(tmp, code):
  """A folder with a sitecustomize.py of ``code``: every process started with it on its
  PYTHONPATH runs it first (a fault injected at an exact moment)."""
  hook = tmp / "hook"
  hook.mkdir(exist_ok=True)
  (hook / "sitecustomize.py").write_text(code)
  return hook


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


def refused_unpublished(tmp, r, words):
  """The report stopped with one line holding ``words`` and published nothing."""
  return one_line(r, words) or ("" if not list((tmp / "docs").glob(".report-*")) else
                                "a staging folder was left")


def edited(tmp, rel, change):
  """Edits a committed result file by hand: the report names it and publishes nothing."""
  report_tree(tmp)
  p = tmp / "results" / rel
  change(p)
  docs, results = file_digests(tmp / "docs"), file_digests(tmp / "results")
  r = report(tmp)
  return refused_unpublished(tmp, r, f"{p} does not match the digest the report wrote") or (
      "files changed" if (file_digests(tmp / "docs"), file_digests(tmp / "results")) != (
          docs, results) else "")


def case_report_cut_launch_record(tmp):
  return edited(tmp, "modadd/launches.jsonl", lambda p: p.write_text(p.read_text()[:-30]))


def case_report_cut_summary(tmp):
  return edited(tmp, "modadd/dense/summary.json", lambda p: p.write_text(p.read_text()[:-30]))


def case_report_edited_t_gen(tmp):
  def change(p):
    rows = json.loads(p.read_text())
    for r in rows[:2]:
      r["t_gen"] = 100
    p.write_text(json.dumps(rows))
  return edited(tmp, "modadd/tickets/summary.json", change)


def case_report_keeps_every_launch_record(tmp):
  report_tree(tmp)
  before = (tmp / "results" / "modadd" / "launches.jsonl").read_text().splitlines()
  shutil.rmtree(tmp / "workdirs" / "modadd")  # a fresh workdir: only the new launch there
  assert launch(tmp / "workdirs" / "modadd").returncode == 0
  r = report(tmp)
  after = (tmp / "results" / "modadd" / "launches.jsonl").read_text().splitlines()
  if r.returncode != 0:
    return f"rc {r.returncode}: {r.stderr[-200:]}"
  return "" if after[:len(before)] == before and len(after) == len(before) + 1 else (
      f"{len(before)} records before, {len(after)} after")


def case_report_claim_lost(tmp):
  report_tree(tmp)
  shutil.rmtree(tmp / "workdirs" / "modadd")  # nothing to copy the results from again
  (tmp / "results" / "modadd" / "tickets" / "summary.json").unlink()
  docs = file_digests(tmp / "docs")
  r = report(tmp, "--accept_edits")
  return refused_unpublished(tmp, r, "would move from measured to not measured") or (
      "" if "C1 was measured (" in r.stderr and "tickets" in r.stderr else "C1 not named") or (
      "docs changed" if file_digests(tmp / "docs") != docs else "")


def case_report_bad_jobs_line(tmp):
  report_tree(tmp)
  shutil.rmtree(tmp / "workdirs" / "modadd")
  assert launch(tmp / "workdirs" / "modadd").returncode == 0  # a verified new launch
  (tmp / "claims_jobs.txt").write_text("# a comment\nmodadd_x --config=configs/modadd.py "
                                       "--config.optim.lrr=1\n")
  before = file_digests(tmp / "results"), file_digests(tmp / "docs")
  r = report(tmp)
  return refused_unpublished(tmp, r, "claims_jobs.txt line 2 (modadd_x) does not resolve") or (
      "files changed" if (file_digests(tmp / "results"), file_digests(tmp / "docs")) != before
      else "")


def case_report_interrupted(tmp):
  """SIGINT at the start of the staging copy, and real ones at five moments."""
  report_tree(tmp)
  before = file_digests(tmp / "results"), file_digests(tmp / "docs")
  hook = hook_file(tmp, "import os, shutil, signal\n_real = shutil.copytree\n"
                   "def copytree(*a, **k):\n  os.kill(os.getpid(), signal.SIGINT)\n"
                   "  return _real(*a, **k)\nshutil.copytree = copytree\n")
  r = report_env(tmp, hook)
  why = refused_unpublished(tmp, r, "interrupted: nothing was published")
  if why:
    return why
  for delay in (0.5, 1.0, 1.5, 2.0, 3.0):
    p = subprocess.Popen(report_args(tmp), cwd=ROOT, text=True, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=300)
    if "Traceback" in err:
      return f"traceback after {delay} s: {err[-300:]}"
    if p.returncode != 0 and (file_digests(tmp / "results"), file_digests(tmp / "docs")) != before:
      return f"stopped after {delay} s with files changed"
  return ""


# A stop that lands while jaxlib's extension initializes, made exact: the import of
# jaxlib._jax sends SIGINT to its own process, and the KeyboardInterrupt surfaces as an
# ImportError, as a real Ctrl-C there does (seen on busy cores at 0.5 s).
STOP_IN_JAX_IMPORT = (
    "import os, signal, sys, time\n"
    "class StopInJax:\n"
    "  def find_spec(self, name, path=None, target=None):\n"
    "    if name == 'jaxlib._jax':\n"
    "      sys.meta_path.remove(self)\n"
    "      try:\n"
    "        os.kill(os.getpid(), signal.SIGINT)\n"
    "        time.sleep(5)\n"
    "      except KeyboardInterrupt as e:\n"
    "        raise ImportError('Encountered an error while initializing the extension.') from e\n"
    "    return None\n"
    "sys.meta_path.insert(0, StopInJax())\n")


def case_report_stop_in_jax_import(tmp):
  """Ctrl-C while jaxlib initializes (an ImportError, not a KeyboardInterrupt): one line."""
  report_tree(tmp)
  before = file_digests(tmp / "results"), file_digests(tmp / "docs")
  r = report_env(tmp, hook_file(tmp, STOP_IN_JAX_IMPORT))
  return refused_unpublished(tmp, r, "interrupted: nothing was published") or (
      "files changed" if (file_digests(tmp / "results"), file_digests(tmp / "docs")) != before
      else "")


def case_launch_stop_in_jax_import(tmp):
  """The same stop in a launch: one line, nothing trained or recorded."""
  r = launch_hooked(tmp, tmp / "w", STOP_IN_JAX_IMPORT)
  return one_line(r, "interrupted before the launch started") or (
      "files written" if (tmp / "w").exists() and any((tmp / "w").iterdir()) else "")


def _ro_mount(path, size="4m", ro=True):
  """A tmpfs at ``path`` (read-only, or of ``size``); False where mounting is not allowed."""
  path.mkdir(exist_ok=True)
  r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}" + (",ro" if ro else ""),
                      "tmpfs", str(path)], capture_output=True)
  return r.returncode == 0


def _umount(path):
  subprocess.run(["umount", str(path)], capture_output=True)


def case_report_read_only_docs(tmp):
  report_tree(tmp)
  docs = tmp / "docs_ro"
  if not _ro_mount(docs):
    docs.chmod(0o555)
  try:
    r = report(tmp, f"--docs={docs}")
    return refused_unpublished(tmp, r, "is not writable: nothing was published")
  finally:
    _umount(docs)


def case_report_full_docs(tmp):
  report_tree(tmp)
  docs = tmp / "docs_full"
  if not _ro_mount(docs, "64k", ro=False):
    return ""  # no tmpfs here (not root): the case cannot be made
  try:
    (docs / "claims.md").write_text("old")
    before = file_digests(docs), file_digests(tmp / "results")
    r = report(tmp, f"--docs={docs}")
    return one_line(r, "No space left on device; nothing was published") or (
        "files changed" if (file_digests(docs), file_digests(tmp / "results")) != before
        else "")
  finally:
    _umount(docs)


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




# ------------------------------------------------------------------ issue 33: layouts, checkpoints

def _trees(d):
  sys.path.insert(0, str(ROOT))
  from gtickets.training import checkpoints  # pylint: disable=import-outside-toplevel
  return {t: checkpoints.load_tree(str(d / "tickets" / t)) for t in ("masks", "start_params")}


def _same_trees(a, b):
  import numpy as np  # pylint: disable=import-outside-toplevel
  import jax  # pylint: disable=import-outside-toplevel
  return all(jax.tree.leaves(jax.tree.map(lambda x, y: bool(np.array_equal(x, y)), a[t], b[t]))
             for t in a)


def layout_case(base, other):
  def case(tmp):
    w = tmp / "w"
    assert launch(w, f"--host_devices={base}").returncode == 0
    cut = tmp / "cut"
    shutil.copytree(w, cut)
    shutil.rmtree(cut / "tickets")
    dense = file_digests(cut / "dense")
    r = launch(cut, f"--host_devices={other}")
    if r.returncode != 0 or "unreadable" in r.stderr:
      return f"rc {r.returncode}: {r.stderr.strip().splitlines()[-1:]}"
    if file_digests(cut / "dense") != dense:
      return "the base's files changed"
    return "" if _same_trees(_trees(w), _trees(cut)) else "masks or start weights differ"
  return case


def case_restore_failure_of_a_valid_file(tmp):
  """orbax refuses a valid checkpoint (as it did for another device layout): one line
  that does not advise deleting it, the workdir as it was (no partial phase folder)."""
  w = tmp / "w"
  assert launch(w).returncode == 0
  shutil.rmtree(w / "tickets")
  before = file_digests(w)
  r = launch_hooked(tmp, w, "import orbax.checkpoint as ocp\n"
                            "def restore(self, *a, **k):\n"
                            "  raise ValueError('Topology mismatch detected. Please provide "
                            "a target sharding for every array ' + 'x' * 300)\n"
                            "ocp.CheckpointManager.restore = restore\n")
  return one_line(r, "matches its digest (it is not corrupt: keep it) but could not be "
                  "restored here (ValueError: Topology mismatch") or (
      "advises deleting" if "delete" in r.stderr else "") or (
      "files changed" if file_digests(w) != before else "")


def case_unknown_layout_other_devices(tmp):
  w = tmp / "w"
  assert launch(w, "--host_devices=1").returncode == 0
  interrupted(w)
  (w / "tickets" / "layout.json").unlink()
  before = file_digests(w)
  r = launch(w, "--host_devices=2")
  why = one_line(r, "was trained on 1 cpu device and this launch has 2 cpu devices") or (
      "files changed" if file_digests(w) != before else "")
  if why:
    return why
  r = launch(w, "--host_devices=1")
  return "" if r.returncode == 0 and "was not recorded" in r.stdout + r.stderr else (
      f"not resumed on its own layout: {r.stderr[-200:]}")


def case_corrupt_theta0_as_advised(tmp):
  w = tmp / "w"
  assert launch(w).returncode == 0
  clean = _trees(w)
  shutil.rmtree(w / "tickets")
  ckpt0 = w / "dense" / "checkpoints" / "0"
  big = max((p for p in ckpt0.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
  data = bytearray(big.read_bytes())
  data[-20] ^= 0xFF
  big.write_bytes(bytes(data))
  r = launch(w)
  why = one_line(r, "delete that folder and rerun")
  if why:
    return why
  shutil.rmtree(ckpt0)  # as the line says
  r = launch(w)
  if r.returncode != 0:
    return f"after deleting: rc {r.returncode}: {r.stderr.strip().splitlines()[-1:]}"
  return "" if _same_trees(clean, _trees(w)) else "the rebuilt theta_0 gave other tickets"


def case_memory_p5000(tmp):
  r = launch(tmp / "w", "--config=configs/modadd.py", "--config.task.p=5000", tiny=False)
  return one_line(r, "GiB of activations in a training step and its evaluation) but") or (
      "workdir created" if (tmp / "w").exists() else "")


# ------------------------------------------------------------------ issue 33: what a new user meets

def case_help(tmp):
  for flag in ("--help", "-h", "--helpfull"):
    r = subprocess.run([sys.executable, str(ROOT / "launch" / "main.py"), flag,
                        "--config=configs/modadd.py:quick"], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    if r.returncode != 0 or "--host_devices" not in r.stdout:
      return f"{flag}: rc {r.returncode} {r.stderr[-200:]}"
  return "" if "--config.optim.lr=0.003" in r.stdout else "--helpfull lists no config fields"


def case_resume_line_without_progress(tmp):
  w = tmp / "w"
  assert launch(w).returncode == 0
  interrupted(w)
  r = launch(w)
  return "" if r.returncode == 0 and "resuming tickets from step 20" in r.stdout else (
      f"rc {r.returncode}, no resume line: {r.stdout[-300:]}")


def case_nongrokked_base_warned(tmp):
  w = tmp / "w"
  r = launch(w)
  warnings = [l for l in (r.stdout + r.stderr).splitlines() if "below the threshold" in l]
  rows = json.loads((w / "tickets" / "summary.json").read_text())
  flagged = [x for x in rows if x["variant"] == "grokked" and x["base_generalized"] is False]
  if len(warnings) != 1 or not flagged:
    return f"{len(warnings)} warnings, {len(flagged)} flagged rows"
  return "" if "not grokked" in (w / "summary.md").read_text() else "the table does not flag"


def case_quick_groks(tmp):
  w = tmp / "w"
  t = time.time()
  r = launch(w, "--config=configs/modadd.py:quick", tiny=False)
  took = time.time() - t
  runs = json.loads((w / "summary.json").read_text())["runs"]
  dense = {x["seed"]: x["t_gen"] for x in runs["dense"]}
  grok = {x["seed"]: x["t_gen"] for x in runs["tickets"] if x["variant"] == "grokked"}
  ok = r.returncode == 0 and all(dense[s] is not None and grok[s] is not None
                                 and grok[s] < dense[s] for s in dense)
  return "" if ok else f"dense {dense}, grokked {grok} ({took:.0f} s)"


def case_sweep_axes_overridden(tmp):
  w = tmp / "w"
  r = launch(w, "--config=configs/sweep_modadd.py:quick", "--config.task.p=11",
             "--config.model.d_embed=16", "--config.model.d_hidden=8",
             "--config.sweep.axes=(('seed',(3,4)),('optim.lr',(0.01,)))", tiny=False)
  if r.returncode != 0:
    return f"rc {r.returncode}: {r.stderr[-200:]}"
  seeds = json.loads((w / "launches.jsonl").read_text().splitlines()[-1])["seeds"]
  header = "mean +- std over seeds [3, 4]" in r.stdout
  return "" if seeds == [3, 4] and header else f"recorded {seeds}, header {header}"


def case_unknown_variant_setting(tmp):
  r = launch(tmp / "w", "--config.variants.grasp.temp=2.0")
  return one_line(r, "unknown field config.variants.grasp.temp: config.variants.grasp has "
                  "fields temperature") or _untouched(tmp / "w")


def case_progress_on_another_operation(tmp):
  r = launch(tmp / "w", "--config=configs/modadd_progress.py", "--config.task.operation=mul",
             tiny=False)
  return one_line(r, "needs logits over (a, b) pairs of (a + b) mod p (task modular, "
                  "operation 'add'), not operation 'mul'") or _untouched(tmp / "w")


def case_setting_of_a_variant_without_settings(tmp):
  r = launch(tmp / "w", "--config.variants.snip.rounds=2")
  return one_line(r, "unknown field config.variants.snip.rounds: config.variants has fields "
                  "grasp, synflow") or _untouched(tmp / "w")


def _untouched(w):
  return f"left {sorted(p.name for p in w.iterdir())}" if w.exists() and any(w.iterdir()) else ""


# ------------------------------------------------------------------ issue 33: signals, full disk

LONG = ["--config.train.num_steps=3000", "--config.train.ckpt_every=100"]


def case_two_sigterms_at_any_moment(tmp):
  for delay in (0.3, 1.0, 2.0, 3.5, 5.0):
    w = tmp / f"w{delay}"
    p = subprocess.Popen([sys.executable, str(ROOT / "launch" / "main.py"), *TINY, *LONG,
                          f"--workdir={w}", "--noprogress"], cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    time.sleep(delay)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=300)
    if "Traceback" in err or p.returncode != 1 or "interrupted" not in err.strip().splitlines()[-1]:
      return f"after {delay} s: rc {p.returncode}: {err[-300:]}"
    last = json.loads((w / "launches.jsonl").read_text().splitlines()[-1])
    if last["status"] != "interrupted":
      return f"after {delay} s: last record {last['status']}"
  return ""


def case_sigterm_while_recording(tmp):
  w = tmp / "w"
  r = launch_hooked(tmp, w, "import builtins, os, signal, time\n_open = builtins.open\n"
                            "def _hooked(f, mode='r', *a, **k):\n"
                            "  if str(f).endswith('launches.jsonl') and 'a' in mode:\n"
                            "    os.kill(os.getpid(), signal.SIGTERM)\n    time.sleep(0.2)\n"
                            "  return _open(f, mode, *a, **k)\nbuiltins.open = _hooked\n")
  records = [json.loads(l)["status"] for l in (w / "launches.jsonl").read_text().splitlines()]
  return one_line(r, "the launch had finished and is recorded as finished") or (
      "" if records == ["finished"] else f"records {records}")


def case_sigterm_during_a_checkpoint_save(tmp):
  w, clean = tmp / "w", tmp / "clean"
  assert launch(clean).returncode == 0
  r = launch_hooked(tmp, w, "import os, signal\nimport orbax.checkpoint as ocp\n"
                            "_real, _n = ocp.CheckpointManager.wait_until_finished, [0]\n"
                            "def wait(self):\n  _n[0] += 1\n"
                            "  if _n[0] == 3:\n    os.kill(os.getpid(), signal.SIGTERM)\n"
                            "  return _real(self)\n"
                            "ocp.CheckpointManager.wait_until_finished = wait\n")
  why = one_line(r, "rerun the same command to resume")
  if why:
    return why
  r = launch(w)
  same = json.loads((w / "summary.json").read_text())["table"] == json.loads(
      (clean / "summary.json").read_text())["table"]
  return "" if r.returncode == 0 and same else f"rerun rc {r.returncode}, same table {same}"


def case_full_disk_real(tmp):
  disk = tmp / "disk"
  if not _ro_mount(disk, "300k", ro=False):
    return ""  # no tmpfs here (not root): tests/test_faults.py fakes ENOSPC instead
  try:
    r = launch(disk / "w")
    return one_line(r, "the disk is full") or (
        "more than one line" if len([l for l in r.stderr.splitlines() if l.strip()
                                     and not l.startswith(("warning:", "note:"))]) != 1 else "")
  finally:
    _umount(disk)


def case_fetch_mnist_bad_url(tmp):
  r = subprocess.run([sys.executable, str(ROOT / "launch" / "fetch_mnist.py"),
                      "--mirror=notaurl", f"--dir={tmp / 'm'}"], capture_output=True, text=True,
                     cwd=ROOT, timeout=120)
  return one_line(r, "'notaurl' is not a URL")


def case_fetch_mnist_bad_home(tmp):
  r = subprocess.run([sys.executable, str(ROOT / "launch" / "fetch_mnist.py")],
                     capture_output=True, text=True, cwd=ROOT, timeout=120,
                     env={**os.environ, "HOME": "/proc/no_home"})
  return one_line(r, "give a folder you can write to (--dir)")


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}
CASES.update({"layout_base_2_tickets_1": layout_case(2, 1),
              "layout_base_1_tickets_2": layout_case(1, 2)})
CASES.update({f"invalid_{k}": v for k, v in CASES_INVALID.items()})
CASES.update({"digests_list": digests_hold("[]"), "digests_null": digests_hold("null")})


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--only", default="", help="run the cases whose name holds one of these "
                  "comma-separated words")
  args = ap.parse_args()
  held = 0
  names = [n for n in CASES if any(o in n for o in args.only.split(","))]
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
