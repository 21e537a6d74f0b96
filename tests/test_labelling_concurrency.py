"""Many raters at once, in real processes, on SQLite and on PostgreSQL: no assignment reaches two
raters, a double submit stores once (also when two processes send it at the same moment), and an
adjudication is decided once while the other adjudicator is told."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, update
from sqlmodel import Session, select

from fpgrade.labelling.campaigns import create_campaign
from fpgrade.registry import get_registry
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, Assignment, FinalLabel, utcnow
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture

ROOT = Path(__file__).resolve().parents[1]
RATERS = 4
MEDIA = 40
DOUBLE = 10


def run_workers(url: str, data_dir: Path, go: Path, commands: list[list[str]]) -> tuple[list[dict], float]:
    env = {**os.environ, "FPGRADE_DATABASE_URL": url, "FPGRADE_DATA_DIR": str(data_dir),
           "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, "-m", "tests.labelling_worker", *command[:4],
                                   str(go), *command[4:]],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for command in commands]
    # all start at once, when each has imported (and read what it reads first): whatever the
    # machine's load, no worker begins before another is ready
    deadline = time.monotonic() + 300
    while len(list(go.parent.glob(go.name + ".ready.*"))) < len(processes):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), \
            "a worker did not start"
        time.sleep(0.05)
    start = time.perf_counter()
    go.touch()
    results = [p.communicate(timeout=600) for p in processes]
    elapsed = time.perf_counter() - start
    for process, (out, err) in zip(processes, results):
        assert process.returncode == 0, f"exit {process.returncode}\n{out}\n{err}"
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in results], elapsed


def race(url: str, tmp_path: Path) -> None:
    registry = get_registry()
    team = users(url, **{f"r{i}": "labeller" for i in range(RATERS)}, a0="adjudicator",
                 a1="adjudicator")
    add_media(MEDIA, url=url)
    double_media = add_media(DOUBLE, prefix="Q", movement="MV4", url=url)
    with database.session(url) as session:
        campaign = create_campaign(session, "race", "sided7", registry=registry, movements=["MV0"])
        doubles = create_campaign(session, "double", "sided7", registry=registry,
                                  movements=["MV4"])

    def who(name):
        account = team[name]
        return [str(account.id), account.name, account.role]

    # 1. four raters claim and submit (each submit twice) at once
    rated, elapsed = run_workers(url, tmp_path, tmp_path / "go1",
                                 [["rate", *who(f"r{i}"), str(campaign.id)] for i in range(RATERS)])
    done = [d for worker in rated for d in worker["done"]]
    latencies = sorted(x for worker in rated for x in worker["latencies"])
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"{RATERS} raters, {len(done)} submissions (+{len(done)} double submits) on "
          f"{url.split(':')[0]}: {elapsed:.1f} s, {len(done) / elapsed:.1f} per s, "
          f"median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
          "per claim + submit + double submit")
    assert len(done) == 2 * MEDIA
    assert len({d["assignment"] for d in done}) == 2 * MEDIA  # no assignment reached two raters
    assert all(not d["first_duplicate"] and d["again_duplicate"] and d["same"] for d in done)
    raters_of = {}
    for worker in rated:
        for d in worker["done"]:
            raters_of.setdefault(d["media"], []).append(worker["user"])
    assert all(len(set(r)) == 2 for r in raters_of.values())  # two different raters per medium

    # 2. two adjudicators work through the same queue at once
    with Session(create_engine(url)) as session:
        queue = session.exec(select(Assignment.id).where(Assignment.pass_kind == "adjudication")).all()
    assert queue, "the raters' disagreements should reach adjudication"
    decided, _ = run_workers(url, tmp_path, tmp_path / "go2",
                             [["adjudicate", *who(name)] for name in ("a0", "a1")])
    wins = Counter(a for worker in decided for a in worker["done"])
    assert sorted(wins) == sorted(queue) and set(wins.values()) == {1}  # each decided once
    assert sum(w["told"] for w in decided) == 2 * len(queue) - len(queue)

    # 3. the same submit from two processes at the same moment
    with Session(create_engine(url)) as session:
        claimed = session.exec(select(Assignment.id).where(
            Assignment.campaign_id == doubles.id, Assignment.pass_number == 1)).all()
        session.execute(update(Assignment).where(Assignment.id.in_(claimed)).values(
            state="claimed", user_id=team["r0"].id, claimed_at=utcnow()))
        session.commit()
    assert len(claimed) == DOUBLE and len(double_media) == DOUBLE
    sent, _ = run_workers(url, tmp_path, tmp_path / "go3",
                          [["submit", *who("r0"), *map(str, claimed)] for _ in range(2)])
    stored_once = Counter(d["assignment"] for w in sent for d in w["done"] if not d["duplicate"])
    assert sorted(stored_once) == sorted(claimed) and set(stored_once.values()) == {1}

    with Session(create_engine(url)) as session:
        per_assignment = Counter(session.exec(select(Annotation.assignment_id)).all())
        assert set(per_assignment.values()) == {1}
        assert len(per_assignment) == 2 * MEDIA + len(queue) + DOUBLE
        finals = Counter(session.exec(select(FinalLabel.media_id)).all())
        assert set(finals.values()) == {1} and len(finals) == len(queue)


def test_raters_and_adjudicators_at_once_on_sqlite(tmp_path):
    race(f"sqlite:///{tmp_path / 'race.db'}", tmp_path)


def test_raters_and_adjudicators_at_once_on_postgresql(tmp_path, fresh_postgres_database):  # noqa: F811
    race(fresh_postgres_database, tmp_path)
