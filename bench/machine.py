"""What every benchmark (and the tests that start servers) shares: a description of the machine,
a median timer, a free port."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import time
from collections.abc import Callable


def median_seconds(function: Callable[[], object], repeats: int,
                   sync: Callable[[], object] | None = None) -> float:
    """Median wall time of ``repeats`` calls after one warm-up call (``sync`` waits for a GPU)."""
    sync = sync or (lambda: None)
    function()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def describe() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except ImportError:
        gpu = "torch not installed"
    return (f"{model}, {os.cpu_count()} cores visible, {gpu}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
