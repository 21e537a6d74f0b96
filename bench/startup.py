"""Benchmark of the command line's start: ``fpgrade --help`` and ``fpgrade scales --json``.

    .venv/bin/python -m bench.startup [--repeats 10]

Each command runs as a new process (the way a user types it), ``--repeats`` times after one
warm-up run; the median wall time is printed. The target (issue 7) is under 1 s on a 2-core
machine: no command may import the deep-learning stack before it needs it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from bench.machine import describe, median_seconds

COMMANDS = (("--help",), ("scales", "--json"), ("models", "--json"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    script = os.path.join(os.path.dirname(sys.executable), "fpgrade")
    print(describe())
    for command in COMMANDS:
        seconds = median_seconds(
            lambda: subprocess.run([script, *command], check=True, stdout=subprocess.DEVNULL),
            args.repeats)
        print(f"fpgrade {' '.join(command):<16} median of {args.repeats}: {seconds * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
