"""A phase's identity: the config fields it declares, less those at their neutral value.

A phase declares what its results depend on (sections such as ``"optim"`` stand for
all their fields; ``DENSE``, ``TICKETS``); its identity is the flat
``{"optim.lr": 0.01, ...}`` of those fields *except* the ones holding their neutral
value, as OpenLTH leaves hparams at None out of a hash. A rerun checks it
(experiment/store.py), and its digest is the phase id stored with every result file.

Each module that owns fields declares their neutral values beside their defaults
(``NEUTRAL`` in config.py, in each task and model module, in an experiment module for
its section; a variant's declared settings): give a new field the value that
reproduces what the code did before it existed, so no old identity changes. Never
change a neutral value: change the field's *default* instead; results trained with
the new default then carry the field. Fields naming files (a task's ``LOCATIONS``)
stay out of an identity that has the data digest of their contents.
"""
import json

from gtickets import config as config_lib
from gtickets import models, tasks
from gtickets.tickets import variants

DENSE = ("task", "model", "optim", "train", "matmul_precision")  # a base phase's fields
TICKETS = DENSE + ("ticket", "variants", "seeds")  # a ticket phase's: its bases' and the
#                                                    ticket and variant settings

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
  """The identity: the declared fields not at their neutral value (``config_lib.neutral``:
  the declared values of the modules owning them, and ``neutral`` for the fields of an
  experiment's own section), sorted by path; with ``data_digest`` (a task read from
  files: Task.data_digest) also ``task.data_digest``, and no field naming those files."""
  owned = config_lib.neutral(config)
  twice = sorted(set(owned) & set(neutral or {}))
  if twice:
    raise ValueError(f"config.{twice[0]} is declared twice: by the module owning it and by "
                     "an experiment's neutral values")
  pinned = {**owned, **(neutral or {})}
  fields = declared_fields(config, declared)
  if data_digest:
    fields["task.data_digest"] = data_digest
    for path in tasks.locations(config.task.name):
      fields.pop(path, None)
  missing = sorted(p for p in fields if p not in pinned and p != "task.data_digest")
  if missing:
    raise ValueError(f"config.{missing[0]} has no declared neutral value: declare it beside "
                     "its default (NEUTRAL of the module owning it)")
  return {p: v for p, v in sorted(fields.items())
          if p == "task.data_digest" or plain(pinned[p]) != v}


def stored_neutral(identity):
  """The neutral values that apply to a stored identity (of its task and model)."""
  return {**config_lib.NEUTRAL, **tasks.neutral(identity.get("task.name", tasks.DEFAULT)),
          **models.neutral(identity.get("model.name", models.DEFAULT)), **variants.neutral()}


def stored_section(identity, name):
  """The ``task`` or ``model`` section of a stored identity as a ConfigDict (every field
  of its module, neutral values filled in), e.g. for its module's ``describe``."""
  import ml_collections  # pylint: disable=import-outside-toplevel
  registry = {"task": tasks, "model": models}[name]
  fields = registry.default_config(value(identity, f"{name}.name")).keys()
  return ml_collections.ConfigDict({f: value(identity, f"{name}.{f}") for f in fields})


def value(identity, path, neutral=None):
  """A field's value in a stored identity (its neutral value where left out)."""
  return identity[path] if path in identity else {**stored_neutral(identity),
                                                  **(neutral or {})}[path]


def first_difference(old, new):
  """'FIELD: stored X, now Y' for the first field where two identities differ, or None."""
  for path in sorted(set(old) | set(new)):
    a, b = old.get(path, _ABSENT), new.get(path, _ABSENT)
    if a != b:
      show = lambda v: "neutral" if v is _ABSENT else repr(v)
      return f"config.{path}: stored {show(a)}, now {show(b)}"
  return None
