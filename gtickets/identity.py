"""A phase's identity: the config fields it declares, less those at their neutral value.

A phase declares what its results depend on (sections such as ``"optim"`` stand for
all their fields; ``DENSE``, ``TICKETS``); its identity is the flat
``{"optim.lr": 0.01, ...}`` of those fields *except* the ones holding their pinned
neutral value (``NEUTRAL``), as OpenLTH leaves hparams at None out of a hash. A rerun
checks it (experiment/phase.py), and its digest is the phase id stored with every
result file.

So a new field never changes an old identity by construction: give it the value
that reproduces what the code did before it existed, and pin that value here when
you add the field (a test checks that every field is pinned). Never change a pinned
value: change the field's *default* in its config instead; the old value stays the
neutral one, and results trained with the new default carry the field.
"""
import json

# The pinned neutral values. Several differ from today's defaults (contraction,
# vmap_runs: the defaults changed after results were trained with these).
NEUTRAL = {
    "seeds": [0, 1, 2], "matmul_precision": "highest",
    # tasks (fields of gtickets/tasks/<name>.py; a name shared by tasks is one field)
    "task.name": "modular", "task.p": 67, "task.operation": "add", "task.pairs": "unordered",
    "task.table_seed": 0, "task.train_fraction": 0.4, "task.data_seed": 0, "task.dim": 40,
    "task.k": 3, "task.num_bits": 40, "task.num_train": 1000, "task.num_test": 2000,
    "task.data_dir": "auto", "task.images_file": "train-images-idx3-ubyte.gz",
    "task.labels_file": "train-labels-idx1-ubyte.gz",
    # models (gtickets/models/<name>.py)
    "model.name": "mlp", "model.d_embed": 500, "model.d_hidden": 48, "model.kappa": 1.0,
    "model.embed_gain": 1.0, "model.contraction": "batch_first", "model.d_model": 128,
    "model.d_mlp": 128, "model.causal": True, "model.pos_embed": False,
    "model.use_bias": False, "model.hidden": [200, 200],
    # optimizer and training
    "optim.lr": 0.001, "optim.b1": 0.9, "optim.b2": 0.98, "optim.eps": 1e-08,
    "optim.weight_decay": 1.0, "optim.grokfast": "", "optim.grokfast_alpha": 0.98,
    "optim.grokfast_lamb": 2.0, "optim.grokfast_window": 100, "optim.grokfast_ma_lamb": 5.0,
    "optim.perpendicular": False, "optim.perpendicular_rescale": True,
    "train.num_steps": 30000, "train.eval_every": 100, "train.ckpt_every": 2000,
    "train.batch_size": 0, "train.batch_seed": 0, "train.vmap_runs": 0,
    "train.cross_entropy": "exact",
    # tickets
    "ticket.phase": "tickets", "ticket.variants": ["grokked", "random"],
    "ticket.prune_ratios": [0.6], "ticket.scope": "global", "ticket.mask_steps": [-1],
    "ticket.rewind_step": 0, "ticket.weight_decay": -1.0, "ticket.cross_entropy": "",
    "ticket.grokfast": "", "ticket.synflow_rounds": 100, "ticket.grasp_temperature": 1.0,
}

DENSE = ("task", "model", "optim", "train", "matmul_precision")  # a base phase's fields
TICKETS = DENSE + ("ticket", "seeds")  # a ticket phase's: its bases' and every ticket field

_ABSENT = object()


def plain(value):
  """``value`` as JSON stores it (tuples as lists)."""
  return json.loads(json.dumps(value))


def flatten(tree, prefix=""):
  """{"a.b": leaf} of a nested dict."""
  out = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      out.update(flatten(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = value
  return out


def declared_fields(config, declared):
  """{path: value} of every field ``declared`` names (a section: all its fields)."""
  tree = plain(config.to_dict())
  return flatten({name: tree[name] for name in declared})


def of(config, declared, neutral=None, data_digest=""):
  """The identity: the declared fields not at their neutral value (``NEUTRAL``, and
  ``neutral`` for the fields of an experiment's own section), sorted by path; with
  ``data_digest`` (a task read from files: Task.data_digest) also ``task.data_digest``."""
  pinned = {**NEUTRAL, **(neutral or {})}
  fields = declared_fields(config, declared)
  if data_digest:
    fields["task.data_digest"] = data_digest
  return {p: v for p, v in sorted(fields.items())
          if p not in pinned or plain(pinned[p]) != v}


def value(identity, path, neutral=None):
  """A field's value in a stored identity (its neutral value where left out)."""
  return identity[path] if path in identity else {**NEUTRAL, **(neutral or {})}[path]


def first_difference(old, new):
  """'FIELD: stored X, now Y' for the first field where two identities differ, or None."""
  for path in sorted(set(old) | set(new)):
    a, b = old.get(path, _ABSENT), new.get(path, _ABSENT)
    if a != b:
      show = lambda v: "neutral" if v is _ABSENT else repr(v)
      return f"config.{path}: stored {show(a)}, now {show(b)}"
  return None
