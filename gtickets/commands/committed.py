"""The committed results (docs/results): verified copies of finished workdirs' small
files, their launch records merged, and the manifest that says what the report wrote."""
import os
import shutil

from gtickets import identity, storage
from gtickets.commands.jobs import ReportError
from gtickets.experiment import claims as claims_lib

PHASE_FILES = ("summary.json", "curves.npz", "runs.json")


MANIFEST = "manifest.json"



def verified_files(src, config):
  """(the files of workdir ``src`` that the last finished launch of a jobs line's
  resolved ``config`` wrote or read, each still as that launch left it: relative
  paths, "") or (None, one line saying why nothing of it can be published)."""
  resolved = identity.plain(config.to_dict())
  res = claims_lib.Results(src)
  try:
    launches = res.launches_all()
  except claims_lib.NotMeasured as e:
    return None, str(e)
  mine = [e for e in launches if e.get("status") == "finished"
          and e.get("experiment") == config.experiment and e.get("config") == resolved]
  if not mine:
    return None, ("no finished launch of it with a config record (launches there: "
                  + (", ".join(sorted({e.get('status', '?') + ' ' + e.get('experiment', '?')
                                      for e in launches})) or "none") + ")")
  last = mine[-1]
  files = set()
  for phase, rec in last["phases"].items():
    d = os.path.join(src, phase)
    try:
      stored_id = storage.json_digest(storage.read_json(os.path.join(d, "runs.json")))
      summary = storage.digest(os.path.join(d, "summary.json"))
    except (OSError, storage.CorruptFile) as e:
      return None, f"phase {phase}: {e}"
    if stored_id != rec["id"] or summary != rec["summary"]:
      return None, (f"phase {phase} changed after its launch of {last['started']} "
                    "(another launch used it since)")
    files.update(os.path.join(phase, f) for f in PHASE_FILES)
  for f, want in last.get("outputs", {}).items():
    path = os.path.join(src, f)
    if f.endswith(".json") and os.path.isfile(path) and storage.digest(path) == want:
      files.add(f)
    elif f.endswith(".json"):
      return None, f"{f} changed after its launch of {last['started']}"
  return files, ""


def mirror(src, dst, jobs):
  """Copies into ``dst`` the small result files of workdir ``src`` that a finished
  launch of one of its ``jobs`` lines ({arguments: resolved config}) wrote, verified
  (see ``verified_files``), and merges its launch records into dst's (none is
  dropped); a jobs line with nothing verified keeps the committed results and says
  why. Returns (files copied, [why lines])."""
  copied, why = 0, []
  for args, config in jobs.items():
    files, reason = verified_files(src, config)
    if files is None:
      why.append(f"{src}: kept the committed results of `{args}`: {reason}")
      continue
    for rel in sorted(files):
      if not os.path.isfile(os.path.join(src, rel)):
        continue
      out = os.path.join(dst, rel)
      os.makedirs(os.path.dirname(out), exist_ok=True)
      shutil.copyfile(os.path.join(src, rel), out)
      copied += 1
    merge_launches(os.path.join(src, "launches.jsonl"), os.path.join(dst, "launches.jsonl"))
  return copied, why


def merge_launches(src, dst):
  """dst's launch records, then those of ``src`` it lacks (each record once, in order)."""
  def lines(path):
    if not os.path.exists(path):
      return []
    with open(path) as f:
      return [ln.rstrip("\n") for ln in f if ln.strip()]
  have = lines(dst)
  new = [ln for ln in dict.fromkeys(lines(src)) if ln not in set(have)]
  if new:
    with open(dst, "w") as f:
      f.write("".join(ln + "\n" for ln in have + new))


def manifest_digests(results):
  """{relative path: sha256} of every file under ``results`` but the manifest."""
  out = {}
  for d, _, files in os.walk(results):
    for name in files:
      rel = os.path.relpath(os.path.join(d, name), results)
      if rel != MANIFEST:
        out[rel] = storage.digest(os.path.join(d, name))
  return dict(sorted(out.items()))


def check_manifest(results):
  """Raises ReportError naming the first committed file under ``results`` that differs
  from the manifest the report last wrote (edited, cut, gone or added); returns False
  when there is no manifest yet (the first report since manifests exist)."""
  path = os.path.join(results, MANIFEST)
  if not os.path.exists(path):
    return False
  try:
    want = storage.read_json(path, "restore it (git checkout)")["files"]
  except (storage.CorruptFile, KeyError, TypeError) as e:
    raise ReportError(f"{path} is unreadable ({e}): restore it (git checkout)") from None
  have = manifest_digests(results)
  bad = sorted(set(want) ^ set(have)) + sorted(f for f in set(want) & set(have)
                                               if want[f] != have[f])
  if bad:
    f = bad[0]
    what = ("is gone" if f not in have else "was added" if f not in want
            else "does not match the digest the report wrote")
    more = f" (and {len(bad) - 1} other file{'s' * (len(bad) > 2)})" if len(bad) > 1 else ""
    raise ReportError(
        f"{os.path.join(results, f)} {what}{more}: committed results change only through "
        "this report; restore them (git checkout -- " + results + ") or, if the change is "
        "meant, rerun with --accept_edits")
  return True

