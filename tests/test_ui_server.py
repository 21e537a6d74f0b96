"""``fpgrade demo`` as a server: it serves, and Ctrl-C (SIGINT) stops it within 2 s, removing its
temporary folder (SIGTERM with a page open is checked in test_ui_browser.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_ctrl_c_stops_the_server_within_2_s(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "FPGRADE_DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(tmp_path / "tmp")}
    proc = subprocess.Popen([sys.executable, "-m", "fpgrade", "demo", "--port", str(port)],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.2)
        assert list((tmp_path / "tmp").glob("fpgrade-demo-*"))
        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
        assert time.monotonic() - start < 2.0
        assert not list((tmp_path / "tmp").glob("fpgrade-demo-*"))
        assert b"stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.slow
def test_a_port_in_use_is_one_line_and_a_failure(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        (tmp_path / "tmp").mkdir()
        env = {**os.environ, "FPGRADE_DATA_DIR": str(tmp_path / "data"),
               "TMPDIR": str(tmp_path / "tmp")}
        done = subprocess.run([sys.executable, "-m", "fpgrade", "demo", "--port", str(port)],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
    assert not list((tmp_path / "tmp").glob("fpgrade-demo-*"))
