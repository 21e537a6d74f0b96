"""Load test of the labelling pages through their HTTP API (not a timed test).

    .venv/bin/python -m bench.labelling_load [--raters 8] [--media 200] [--postgres URL]
                                             [--json OUT.json]

Starts ``fpgrade label`` on a fresh database (SQLite in a temporary folder, or a new database on
the PostgreSQL server ``--postgres`` names), with ``--raters`` labellers and a campaign of
``--media`` small PNG photos and two blind passes (2 x media submissions: 400 by default). Each
simulated rater is a :class:`gradio_client.Client` in its own thread (its own session, as a
browser tab is): it logs in, opens its next medium, submits a level, sends the same submit again
(a double click), and goes on until nothing is left. Reported: submissions per second over the
whole run, and the median and p95 latency of one submit request (which also claims and returns
the next medium, as the page does). Then the database is read: every assignment must be done,
with exactly one annotation, and each first submit must have been answered "Stored" once and
each repeat "Already stored" (:func:`check_exactly_once`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from bench.machine import free_port

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password"
LEVELS = ["I", "II", "III", "IV", "V", "VI"]


def prepare(url: str, folder: Path, raters: int, media: int) -> int:
    """Raters ``r0``..., ``media`` photos (pseudonymous subjects L000...) and a campaign with
    two blind passes; returns the campaign's id."""
    import numpy as np
    from argon2 import PasswordHasher
    from PIL import Image

    from fpgrade.labelling.campaigns import create_campaign
    from fpgrade.registry import get_registry
    from fpgrade.storage import database
    from fpgrade.storage.tables import User
    from tests.media_rows import add_medium

    folder.mkdir(parents=True, exist_ok=True)
    # small argon2 costs: logins are not what is measured (the server upgrades the hash at login)
    hashed = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with database.session(url) as session:
        for index in range(raters):
            session.add(User(name=f"r{index}", password_hash=hashed, role="labeller"))
        for index in range(media):
            path = folder / f"L{index:04d}_MV0.png"
            Image.fromarray(np.full((64, 64, 3), index % 256, np.uint8)).save(path)
            add_medium(session, f"L{index:04d}", path, f"{index:064d}")
        session.commit()
        return create_campaign(session, "load", "house_brackmann", registry=get_registry(),
                               seed=1).id


@contextmanager
def serve(url: str, data_dir: Path):
    """``fpgrade label`` on ``url`` (a new process), until the block ends (SIGTERM)."""
    port = free_port()
    env = {**os.environ, "FPGRADE_DATA_DIR": str(data_dir), "FPGRADE_DATABASE_URL": url,
           "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(data_dir / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "fpgrade", "label", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError((data_dir / "server.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def client(address: str, name: str):
    """A client logged in as ``name`` (gradio_client's ``auth``: the server's login form, its
    session cookie on every request)."""
    from gradio_client import Client

    c = Client(address, auth=(name, PASSWORD), download_files=False, verbose=False,
               analytics_enabled=False, httpx_kwargs={"timeout": 120})
    whoami(c)   # what the page does when it opens: the campaign lists of this account
    return c


def whoami(c) -> str:
    return c.predict(api_name="/whoami")[0]


def _opened(result) -> tuple[int | None, int | None]:
    """(assignment id, medium id) of the medium a next/submit response opened."""
    title, shown = result[0], result[7]   # the outputs: title, ..., message, shown id[, note]
    found = re.search(r"Medium #(\d+)", title or "")
    return (int(shown) if shown not in (None, "") else None,
            int(found.group(1)) if found else None)


def rater(address: str, name: str, campaign: int, double: bool, out: dict,
          barrier: threading.Barrier) -> None:
    """One simulated rater: login, then next / submit (/ submit again) until nothing is left."""
    log = out.setdefault(name, {"stored": [], "again": [], "latencies": [], "errors": []})
    try:
        c = client(address, name)
    except Exception as exc:  # noqa: BLE001 - reported, and fails the exactly-once check
        log["errors"].append(f"login: {type(exc).__name__}: {exc}")
        return
    finally:
        barrier.wait()
    try:
        _rate(c, name, campaign, double, log)
    except Exception as exc:  # noqa: BLE001 - reported, and fails the exactly-once check
        log["errors"].append(f"{type(exc).__name__}: {exc}")


def _rate(c, name: str, campaign: int, double: bool, log: dict) -> None:
    result = c.predict(campaign, api_name="/next_medium")
    assignment, medium = _opened(result)
    while assignment is not None:
        level = LEVELS[(medium + (name == "r0")) % 3]
        start = time.perf_counter()
        result = c.predict(campaign, level, "", assignment, api_name="/submit_label")
        log["latencies"].append(time.perf_counter() - start)
        message = result[6] or ""
        if message.startswith("Stored"):
            log["stored"].append(assignment)
        else:
            log["errors"].append(message)
        if double:
            again = c.predict(campaign, level, "", assignment, api_name="/submit_label")
            said = again[6] or ""
            if said.startswith("Already stored"):
                log["again"].append(assignment)
            else:
                log["errors"].append(said)
            result = again
        assignment, medium = _opened(result)


def drive(address: str, campaign: int, raters: int, double: bool = True) -> dict:
    """All raters at once; returns what each did and the wall time."""
    out: dict = {}
    barrier = threading.Barrier(raters + 1)
    threads = [threading.Thread(target=rater, args=(address, f"r{i}", campaign, double, out,
                                                    barrier), daemon=True)
               for i in range(raters)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    return {"raters": out, "seconds": time.perf_counter() - start}


def check_exactly_once(url: str, campaign: int, run: dict) -> dict:
    """Every assignment done with exactly one annotation; each answered "Stored" once."""
    from sqlmodel import select

    from fpgrade.storage import database
    from fpgrade.storage.tables import Annotation, Assignment

    with database.session(url) as session:
        assignments = session.exec(select(Assignment).where(
            Assignment.campaign_id == campaign, Assignment.pass_kind == "blind")).all()
        annotations = session.exec(select(Annotation).where(
            Annotation.campaign_id == campaign, Annotation.pass_kind == "blind")).all()
    per_assignment = Counter(a.assignment_id for a in annotations)
    stored = Counter(a for r in run["raters"].values() for a in r["stored"])
    errors = [e for r in run["raters"].values() for e in r["errors"]]
    return {"assignments": len(assignments),
            "done": sum(a.state == "done" for a in assignments),
            "annotations": len(annotations),
            "stored_twice": sorted(a for a, n in per_assignment.items() if n != 1),
            "answered_stored": sum(stored.values()),
            "answered_stored_twice": sorted(a for a, n in stored.items() if n != 1),
            "answered_already": sum(len(r["again"]) for r in run["raters"].values()),
            "errors": errors,
            "same_rater_twice": _same_rater_twice(annotations)}


def _same_rater_twice(annotations) -> int:
    by_medium = Counter((a.media_id, a.annotator) for a in annotations)
    return sum(1 for n in by_medium.values() if n > 1)


def summary(run: dict) -> dict:
    latencies = sorted(x for r in run["raters"].values() for x in r["latencies"])
    count = len(latencies)
    return {"submissions": count, "seconds": round(run["seconds"], 2),
            "per_second": round(count / run["seconds"], 1) if run["seconds"] else None,
            "median_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(1000 * latencies[max(0, int(0.95 * count) - 1)], 1)
            if latencies else None}


def load_test(url: str, workdir: Path, raters: int = 8, media: int = 200,
              double: bool = True) -> dict:
    """Prepare, serve, drive, check: the figures and the exactly-once check."""
    campaign = prepare(url, workdir / "media", raters, media)
    with serve(url, workdir) as address:
        run = drive(address, campaign, raters, double)
    return {"database": url.split(":", 1)[0], "raters": raters, **summary(run),
            "check": check_exactly_once(url, campaign, run)}


def _postgres_database(server_url: str) -> str:
    import uuid

    from sqlalchemy import create_engine

    name = f"fpgrade_load_{uuid.uuid4().hex[:10]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=8)
    parser.add_argument("--media", type=int, default=200, help="photos (x2 blind passes)")
    parser.add_argument("--postgres", metavar="URL",
                        help="a PostgreSQL server URL (a new database is created on it); "
                             "default: SQLite")
    parser.add_argument("--single", action="store_true", help="no double submits")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from bench.machine import describe

    with tempfile.TemporaryDirectory(prefix="fpgrade-load-") as tmp:
        workdir = Path(tmp)
        url = (_postgres_database(args.postgres) if args.postgres
               else f"sqlite:///{workdir / 'load.db'}")
        result = {"machine": describe(), **load_test(url, workdir, args.raters, args.media,
                                                     not args.single)}
    check = result["check"]
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    ok = (check["annotations"] == check["assignments"] == check["done"]
          and not check["stored_twice"] and not check["errors"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
