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
from dataclasses import dataclass, field
from pathlib import Path

from bench.machine import free_port

VENV = Path(__file__).resolve().parents[1] / ".venv-labelstudio"
EXECUTABLE = VENV / "bin" / "label-studio"
START_TIMEOUT_S = 240


@dataclass
class LabelStudioServer:
    """A running server; :meth:`kill` and :meth:`start` stop it hard and bring it back on the
    same port with the same data (a restart takes seconds: the migrations are done)."""

    url: str
    token: str
    username: str
    files_root: Path
    pid: int
    workdir: Path
    env: dict = field(repr=False, default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = field(repr=False, default=None)

    def start(self) -> None:
        log = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [str(EXECUTABLE), "start", "--no-browser", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=self.workdir, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.pid = self.process.pid
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _up(self.url):  # a busy port would make it take the next one: ours must answer
            if self.process.poll() is not None:
                raise RuntimeError(f"Label Studio exited with {self.process.returncode}; "
                                   f"see {self.workdir / 'server.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"Label Studio not up at {self.url} after {START_TIMEOUT_S} s")
            time.sleep(0.5)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the server and its children (its own process group) with ``sig``."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def labelstudio_server(workdir: Path, files_root: Path,
                       settings: dict[str, str] | None = None) -> Iterator[LabelStudioServer]:
    """Start a server with its data in ``workdir``, serving local files under ``files_root``;
    ``settings`` override its environment (e.g. Label Studio's default SSRF protection)."""
    if not EXECUTABLE.is_file():
        raise FileNotFoundError(f"{EXECUTABLE} not found (run `make labelstudio`)")
    port, token = free_port(), secrets.token_hex(20)
    username = "admin@fpgrade.test"
    # it reads HOST, PORT, USERNAME and PASSWORD too: none of the caller's may leak in
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "FPGRADE_"))
           and k not in ("HOST", "PORT", "USERNAME", "PASSWORD")}
    env.update({
        "LABEL_STUDIO_BASE_DATA_DIR": str(workdir / "data"),
        "XDG_CONFIG_HOME": str(workdir / "config"),
        "LABEL_STUDIO_USERNAME": username,
        "LABEL_STUDIO_PASSWORD": secrets.token_urlsafe(16),
        "LABEL_STUDIO_USER_TOKEN": token,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED": "true",
        "LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT": str(files_root),
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        "LABEL_STUDIO_SSRF_PROTECTION_ENABLED": "false",  # webhooks to fpgrade on 127.0.0.1
        "LABEL_STUDIO_SENTRY_DSN": "", "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
        "LABEL_STUDIO_COLLECT_ANALYTICS": "false", "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
    })
    env.update(settings or {})
    server = LabelStudioServer(f"http://127.0.0.1:{port}", token, username, files_root, 0,
                               workdir, env, port)
    try:
        server.start()
        yield server
    finally:
        server.kill(signal.SIGTERM)


def add_user(server: LabelStudioServer, email: str) -> tuple[int, str]:
    """A second Label Studio user made with ``label-studio init`` on the server's data (the
    open-source edition has no roles): returns (user id, API token)."""
    token = secrets.token_hex(20)
    # hex: a token_urlsafe password may start with "-", which init's argparse takes for an option
    env = {**server.env, "LABEL_STUDIO_USERNAME": email, "LABEL_STUDIO_USER_TOKEN": token,
           "LABEL_STUDIO_PASSWORD": secrets.token_hex(16)}
    done = subprocess.run([str(EXECUTABLE), "init", "--username", email, "--password",
                           env["LABEL_STUDIO_PASSWORD"], "--user-token", token],
                          cwd=server.workdir, env=env, capture_output=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"label-studio init of {email} exited with {done.returncode}: "
                           f"{done.stderr.decode(errors='replace')[-2000:]}")
    from label_studio_sdk import LabelStudio

    client = LabelStudio(base_url=server.url, api_key=token)
    return client.users.whoami().id, token
