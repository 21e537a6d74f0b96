"""A throw-away Label Studio server on loopback for the sync tests.

It runs from its own venv (``.venv-labelstudio``, made by ``make labelstudio``: the server needs
numpy >= 2.2, fpgrade's venv has numpy < 2) with a temporary data directory, an admin user and an
API token created from environment variables (no browser), local-file serving under
``files_root``, no version check and no analytics. Stopped by its PID afterwards.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.machine import free_port

VENV = Path(__file__).resolve().parents[1] / ".venv-labelstudio"
EXECUTABLE = VENV / "bin" / "label-studio"
START_TIMEOUT_S = 240


@dataclass
class LabelStudioServer:
    url: str
    token: str
    username: str
    files_root: Path
    pid: int


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def labelstudio_server(workdir: Path, files_root: Path) -> Iterator[LabelStudioServer]:
    """Start a server with its data in ``workdir``, serving local files under ``files_root``."""
    if not EXECUTABLE.is_file():
        raise FileNotFoundError(f"{EXECUTABLE} not found (run `make labelstudio`)")
    port, token = free_port(), secrets.token_hex(20)
    username = "admin@fpgrade.test"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "FPGRADE_"))}
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": str(workdir / "data"),
        "LABEL_STUDIO_USERNAME": username,
        "LABEL_STUDIO_PASSWORD": secrets.token_urlsafe(16),
        "LABEL_STUDIO_USER_TOKEN": token,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(files_root),
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
    })
    log = (workdir / "server.log").open("wb")
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(EXECUTABLE), "start", "--no-browser", "--host", "127.0.0.1",
                               "--port", str(port)], cwd=workdir, env=env, stdout=log,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _up(url):
            if server.poll() is not None:
                raise RuntimeError(f"Label Studio exited with {server.returncode}; "
                                   f"see {workdir / 'server.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"Label Studio not up at {url} after {START_TIMEOUT_S} s")
            time.sleep(1)
        yield LabelStudioServer(url, token, username, files_root, server.pid)
    finally:
        if server.poll() is None:  # its own process group: the server and its children only
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()
