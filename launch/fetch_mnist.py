"""Downloads the official MNIST IDX files and checks their MD5 sums.

  python launch/fetch_mnist.py [--dir=~/.cache/gtickets/mnist]

Files already there with the right sum are kept. With ``task.data_dir="auto"``
(the default of configs/mnist.py) the launcher finds them there. Offline, or on
a wrong sum, it stops with one line saying what to do.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gtickets.tasks import mnist  # noqa: E402


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--dir", default=mnist.CACHE_DIR)
  ap.add_argument("--mirror", action="append", help="base URL (repeatable); default: "
                  + ", ".join(mnist.MIRRORS))
  args = ap.parse_args(argv)
  try:
    mnist.fetch(args.dir, mirrors=tuple(args.mirror or mnist.MIRRORS))
  except mnist.DataError as e:
    sys.exit(f"error: {e}")


if __name__ == "__main__":
  main()
