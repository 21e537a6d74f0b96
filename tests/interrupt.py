"""A real ``fpgrade`` process killed (SIGKILL) as soon as it has written its first checkpoint:
what the resume tests of training and retraining start from."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def kill_once_checkpointed(args: list, checkpoint: Path, what: str, env: dict | None = None) -> None:
    """Run ``fpgrade ARGS`` and SIGKILL it once ``checkpoint`` exists (at most 300 s)."""
    process = subprocess.Popen([sys.executable, "-m", "fpgrade", *map(str, args)],
                               env=env or dict(os.environ), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not checkpoint.is_file() and process.poll() is None:
        assert time.monotonic() < deadline, f"{what} never checkpointed"
        time.sleep(0.002)
    process.kill()
    process.wait()
