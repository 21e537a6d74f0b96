"""What the browser tests share: Debian's chromium, and an fpgrade server in a subprocess.

Debian's chromium (never a downloaded browser), driven by Playwright, with the flags this
machine's closed network needs; screenshots go to ``build/test-artefacts/``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.machine import free_port

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "build" / "test-artefacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 120_000

#: the marks of a browser test module
BROWSER_TEST = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=(
        "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium; "
        "`make test` installs it when run as root): browser tests skipped")),
]


@contextmanager
def fpgrade_server(command: str, env: dict[str, str], log_path: Path,
                   timeout_s: float = 90, cwd: Path = ROOT) -> Iterator[dict]:
    """``fpgrade COMMAND --port P`` in a subprocess (working directory ``cwd``), until its port
    answers; yields ``url``, ``proc`` and ``ready_s`` (seconds from the command to a served
    port); killed afterwards if the test did not stop it."""
    port = free_port()
    with open(log_path, "w") as log:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "fpgrade", *command.split(), "--port",
                                 str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"the server exited: {log_path.read_text()}")
                if time.monotonic() - started > timeout_s:
                    pytest.fail(f"the server did not serve within {timeout_s} s: {log_path.read_text()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.2)
            yield {"url": f"http://127.0.0.1:{port}/", "proc": proc,
                   "ready_s": time.monotonic() - started}
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
