"""A throw-away PostgreSQL server on loopback for the tests (Debian's postgresql binaries)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.machine import free_port

BIN_DIRS = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15", "14")]


def find_bin(name: str) -> Path | None:
    for directory in BIN_DIRS:
        if (directory / name).is_file():
            return directory / name
    found = shutil.which(name)
    return Path(found) if found else None


def _as_server_user(command: list[str]) -> list[str]:
    """postgres refuses to run as root: run it as ``nobody`` then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "nobody", "--", *command]
    return command


@contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """Start a server in ``workdir``; yields a SQLAlchemy URL; stops and removes it afterwards."""
    initdb, postgres = find_bin("initdb"), find_bin("postgres")
    if initdb is None or postgres is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, postgres) not found")
    data = workdir / "pgdata"
    workdir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(workdir, "nobody", "nogroup")
    subprocess.run(
        _as_server_user([str(initdb), "-D", str(data), "-U", "fpgrade", "-A", "trust", "-E", "UTF8"]),
        check=True, capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        _as_server_user([str(postgres), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                         "-k", str(workdir), "-F"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg://fpgrade@127.0.0.1:{port}/postgres"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("PostgreSQL did not start") from None
                time.sleep(0.2)
        _wait_ready(url)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_ready(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(url)
    for _ in range(50):
        try:
            with engine.connect() as connection:
                connection.execute(text("select 1"))
            return
        except OperationalError:
            time.sleep(0.2)
        finally:
            engine.dispose()
    raise RuntimeError("PostgreSQL accepts connections but does not answer")
