"""One-off (issue 25): rewrites the phases under the given folders from whole-section
identities ({"config": {section: fields}}) to declared-field identities (gtickets/identity.py),
with the new phase id in curves.npz, metrics/*.npz and checkpoints/digests.json.

  python launch/migrate_identities.py docs/results workdirs
"""
import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gtickets import identity, storage  # noqa: E402
from gtickets.experiments.edge_popup import NEUTRAL as EDGE_POPUP_NEUTRAL  # noqa: E402
from gtickets.experiment.phase import phase_manifest  # noqa: E402

PINNED = {**identity.NEUTRAL, **EDGE_POPUP_NEUTRAL}


def migrate(directory):
  path = os.path.join(directory, "runs.json")
  old = storage.read_json(path)
  if "identity" in old:
    return "already"
  old_id = storage.json_digest(old)
  flat = identity.flatten(old["config"])
  new = {p: v for p, v in sorted(flat.items()) if identity.plain(PINNED.get(p, object())) != v}
  manifest, new_id = phase_manifest(old["runs"], new)
  files = [os.path.join(directory, "curves.npz")] + sorted(
      glob.glob(os.path.join(directory, "metrics", "*.npz")))
  for f in files:
    if not os.path.exists(f):
      continue
    with np.load(f) as z:
      arrays = {k: z[k] for k in z.files}
    if str(arrays.get("phase_id")) != old_id:
      print(f"  {f}: phase id {arrays.get('phase_id')} is not the runs.json's {old_id}")
    arrays["phase_id"] = np.array(new_id)
    storage.save_npz(f, **arrays)
  digests = os.path.join(directory, "checkpoints", "digests.json")
  if os.path.exists(digests):
    d = storage.read_json(digests)
    if d.get("phase_id") not in (None, old_id):
      print(f"  {digests}: phase id {d.get('phase_id')} is not the runs.json's {old_id}")
    storage.write_json(digests, {**d, "phase_id": new_id})
  storage.write_json(path, manifest)
  return "migrated"


if __name__ == "__main__":
  for root in sys.argv[1:]:
    for path in sorted(glob.glob(os.path.join(root, "**", "runs.json"), recursive=True)):
      print(migrate(os.path.dirname(path)), os.path.dirname(path))
