"""Stopping signals (Ctrl-C's SIGINT, a time limit's SIGTERM) that wait for a write.

A save of a checkpoint, of a launch record or of the report's files must not be cut
in the middle: inside ``with deferred():`` SIGINT and SIGTERM are only noted, and
delivered to the handler that was there before once the block ends (at once, as if
they had arrived then). Blocks nest (the outermost delivers). Outside the main
thread (where Python runs no signal handler) it does nothing.

A stop raised as KeyboardInterrupt can be lost: Python drops an exception raised
while it runs a garbage-collection or weakref callback ("Exception ignored in ..."),
which is where a signal lands when it arrives during a compile. So a handler also
notes the stop (``request_stop``), and ``check_stop`` (called between training
chunks) raises it again.
"""
import os
import signal
import sys
import threading

STOPPING = (signal.SIGINT, signal.SIGTERM)

_held = []      # signals noted by the outermost open block
_depth = [0]    # open blocks


class deferred:  # pylint: disable=invalid-name  (used as a context manager, like a function)
  """Holds SIGINT and SIGTERM until the block ends, then delivers them (if the block
  raised, the exception goes on and the held signals are delivered after it is handled
  no more: they are dropped, the exception already stops the work)."""

  def __enter__(self):
    if threading.current_thread() is not threading.main_thread():
      self._active = False
      return self
    self._active = True
    _depth[0] += 1
    if _depth[0] == 1:
      _held.clear()
      self._outer = {s: signal.signal(s, lambda signum, frame: _held.append(signum))
                     for s in STOPPING}
    return self

  def __exit__(self, exc_type, exc, tb):
    if not self._active:
      return False
    _depth[0] -= 1
    if _depth[0]:
      return False
    for s, handler in self._outer.items():
      signal.signal(s, handler)
    if exc_type is None:
      for signum in list(_held):
        deliver(signum, self._outer[signum])
    _held.clear()
    return False


def deliver(signum, handler):
  """Acts on ``signum`` as ``handler`` (a callable, SIG_DFL or SIG_IGN) would have."""
  if handler == signal.SIG_IGN or handler is None:
    return
  if handler == signal.SIG_DFL:
    if signum == signal.SIGINT:
      raise KeyboardInterrupt
    os.kill(os.getpid(), signum)
    return
  handler(signum, None)


_requested = []  # signals that asked this process to stop


def request_stop(signum):
  """Notes that ``signum`` asked this process to stop (see ``check_stop``)."""
  _requested.append(signum)


def stopped():
  """Whether a stop was asked for: a stop that lands in a C extension's initialization
  (jaxlib's, during ``import jax``) surfaces as that import's ImportError."""
  return bool(_requested)


def check_stop():
  """Raises KeyboardInterrupt if a stop was asked for (its first raise may have been
  lost in a callback that swallows exceptions)."""
  if _requested:
    raise KeyboardInterrupt(f"signal {_requested[0]}")


def stop_on(handler):
  """Installs ``handler`` for SIGINT and SIGTERM, and keeps Python from printing a
  traceback for a stop it swallows in a callback ("Exception ignored in ..."): the
  stop is noted (``request_stop``) and ``check_stop`` raises it again."""
  for s in STOPPING:
    signal.signal(s, handler)
  if not getattr(sys.unraisablehook, "quiet_stops", False):
    previous = sys.unraisablehook

    def hook(args):
      if not isinstance(args.exc_value, KeyboardInterrupt):
        previous(args)
    hook.quiet_stops = True
    sys.unraisablehook = hook


def ignore_stops():
  """From now on SIGINT and SIGTERM do nothing (a launch that is already stopping)."""
  for s in STOPPING:
    signal.signal(s, signal.SIG_IGN)
