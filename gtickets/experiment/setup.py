"""What phases of one resolved config share: its task, model and trainer (``Setup``).

``make_setup(settings)`` builds them from the settings a phase trains with (a resolved
config: task, model, optim, train); the same settings give the same ``Setup`` object
within a process (cached by digest), so phases trained with them share compiled
programs, and a phase whose settings differ gets its own: a trainer cannot go stale.
"""
import dataclasses

import numpy as np

from gtickets import storage
from gtickets.models import make_model
from gtickets.tasks import files_stamp, make_task
from gtickets.training.trainer import make_trainer, per_run_split


@dataclasses.dataclass
class Setup:
  """What every phase of one config shares: the task, model and trainer.

  With ``task.data_seed = -1`` each run trains on the split of its own seed, and with
  ``make_setup(per_run_task=True)`` on the task its run table names (``PER_RUN_TASK``,
  e.g. a sweep over modular operations): ``task`` is then the config's (for shapes),
  ``trainer.per_run_data`` is set and ``data_for`` stacks one dataset per run."""
  config: object
  task: object
  model: object
  trainer: object
  per_run_optim: bool = False  # each run's lr and weight decay from its run table (a sweep)
  _arrays: dict = dataclasses.field(default_factory=dict)  # (data_seed, task fields) -> arrays

  def hparams_for(self, runs):
    """The trainer's per-run values for ``runs``: their lr and weight decay (a sweep), or
    none."""
    if not self.per_run_optim:
      return None
    return {f: np.asarray([r[f] for r in runs], np.float32) for f in PER_RUN_OPTIM}

  def arrays(self, data_seed, **task_fields):
    key = (data_seed, tuple(sorted(task_fields.items())))
    if key not in self._arrays:
      self._arrays[key] = _task(self.config, data_seed, **task_fields).arrays()
    return self._arrays[key]

  @property
  def data(self):
    """The one split every run shares (refused where each run has its own data)."""
    if self.trainer.per_run_data:
      raise ValueError("each run has its own data (config.task.data_seed=-1, or task fields "
                       "per run): this step needs one shared split")
    return self.arrays(self.config.task.data_seed)

  def data_for(self, runs):
    """The arrays ``runs`` train on: the shared split, or one per run (leading axis)."""
    if not self.trainer.per_run_data:
      return self.data
    per_run = [self.arrays(r["data_seed"], **task_fields_of(r)) for r in runs]
    return {k: np.stack([a[k] for a in per_run]) for k in per_run[0]}


def data_seed_of(config, seed):
  """The data seed of a run with ``seed``: ``task.data_seed``, or the run's seed for -1."""
  return seed if config.task.data_seed == -1 else config.task.data_seed


PER_RUN_OPTIM = ("lr", "weight_decay")  # run-table fields of a per-run-optimizer setup
# Run-table fields that set a task field per run: data of the same shapes for every run
# (a sweep over modular operations of one pair set), trained as data with a run axis.
PER_RUN_TASK = ("operation",)


def task_fields_of(run):
  """{task field: value} a run's table sets (``PER_RUN_TASK``)."""
  return {f: run[f] for f in PER_RUN_TASK if f in run}


def has_per_run_task(runs):
  """Whether any run of ``runs`` sets a task field of its own."""
  return any(task_fields_of(r) for r in runs)


def _task(config, data_seed, **task_fields):
  """``config``'s task on the split of ``data_seed``, with ``task_fields`` set."""
  task_config = config.task.copy_and_resolve_references()
  task_config.data_seed = data_seed
  for field, value in task_fields.items():
    task_config[field] = value
  return make_task(task_config, config.train.cross_entropy)


_SETUPS = {}  # (settings digest, per_run_optim, per_run_task) -> Setup; a few per process


def make_setup(config, per_run_optim=False, per_run_task=False):
  """The task, model and trainer of ``config``; with ``per_run_optim`` every run trains
  with the lr and weight decay of its run table (``PER_RUN_OPTIM``), with
  ``per_run_task`` on the task fields of its run table (``PER_RUN_TASK``). The same
  settings give the same Setup (and its compiled programs) again (unless the task's
  files changed)."""
  key = (storage.json_digest(config.to_dict()), per_run_optim, per_run_task,
         files_stamp(config.task))
  if key not in _SETUPS:
    if len(_SETUPS) >= 16:
      _SETUPS.pop(next(iter(_SETUPS)))
    _SETUPS[key] = _make_setup(config.copy_and_resolve_references(), per_run_optim,
                               per_run_task)
  return _SETUPS[key]


def _make_setup(config, per_run_optim, per_run_task):
  data_seed = data_seed_of(config, config.seeds[0])
  task = _task(config, data_seed)
  model = make_model(config.model, task)
  trainer = make_trainer(config, task, model, per_run_optim,
                         per_run_data=per_run_split(config) or per_run_task)
  setup = Setup(config, task, model, trainer, per_run_optim)
  setup._arrays[(data_seed, ())] = task.arrays()
  return setup
