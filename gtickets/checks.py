"""Field checks shared by the task and model modules' ``check(config)``.

Each yields (field, value, what is allowed) for every field that fails, the form
``gtickets.config.validate`` turns into a one-line ConfigError.
"""


def _is_int(v):
  return isinstance(v, int) and not isinstance(v, bool)


def positive_ints(c, *fields):
  for f in fields:
    if not _is_int(c[f]) or c[f] < 1:
      yield f, c[f], "must be a positive integer"


def positive(c, *fields):
  for f in fields:
    if not c[f] > 0:
      yield f, c[f], "must be > 0"


def bools(c, *fields):
  for f in fields:
    if not isinstance(c[f], bool):
      yield f, c[f], "must be True or False"
