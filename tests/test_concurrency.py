"""Several ``fpgrade import`` processes at once on one database: every row stored exactly once.

Real processes (the installed script), each with its own manifest of real PNG files (distinct
bytes, so distinct sha256) and labels; all of them share the same subjects and visits, so they
race for the same unique keys. The database is brand new, so they also race to create the schema.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import create_engine, func
from sqlmodel import Session, select

from fpgrade.media import sha256_file
from fpgrade.storage.tables import Annotation, Media, Subject, Visit
from tests.media_factory import astronaut

PROCESSES = 4
ROWS = 300
SUBJECTS = 12  # shared by every manifest


def write_manifests(folder: Path) -> dict[str, tuple[str, str]]:
    """One manifest per process; returns sha256 -> (subject, label) of every file."""
    face = np.asarray(Image.fromarray(astronaut()).resize((24, 24)))
    expected: dict[str, tuple[str, str]] = {}
    labels = ("N", "L1", "L2", "L3", "R1", "R2", "R3")
    for process in range(PROCESSES):
        media = folder / f"media{process}"
        media.mkdir()
        rows = []
        for row in range(ROWS):
            pixels = face.copy()
            pixels[0, 0] = (process, row // 256, row % 256)  # distinct bytes per file
            path = media / f"{row:04d}.png"
            Image.fromarray(pixels).save(path)
            subject, label = f"S{(row * 7 + process) % SUBJECTS:02d}", labels[(row + process) % 7]
            rows.append([subject, str(path), "MV0", "sided7", label])
            expected[sha256_file(path)] = (subject, label)
        with open(folder / f"manifest{process}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["subject", "path", "movement", "scale", "label"])
            writer.writerows(rows)
    assert len(expected) == PROCESSES * ROWS
    return expected


def import_at_once(folder: Path, url: str, data_dir: Path) -> float:
    """Start every import at once; returns the wall time (s) until all ended. All must exit 0."""
    script = os.path.join(os.path.dirname(sys.executable), "fpgrade")
    env = {**os.environ, "FPGRADE_DATABASE_URL": url, "FPGRADE_DATA_DIR": str(data_dir),
           "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    processes = [
        subprocess.Popen([script, "import", str(folder / f"manifest{i}.csv")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(PROCESSES)
    ]
    results = [p.communicate(timeout=600) for p in processes]
    elapsed = time.perf_counter() - start
    for process, (out, err) in zip(processes, results):
        assert process.returncode == 0, f"exit {process.returncode}\n{out}\n{err}"
        assert "Traceback" not in err
        assert f"{ROWS} rows:" in out and "0 refused" in out
    return elapsed


def assert_stored_exactly_once(url: str, expected: dict[str, tuple[str, str]]) -> None:
    with Session(create_engine(url)) as session:
        stored = session.exec(select(Media.sha256, Subject.code, Annotation.label)
                              .join(Visit, Media.visit_id == Visit.id)
                              .join(Subject, Visit.subject_id == Subject.id)
                              .join(Annotation, Annotation.media_id == Media.id)).all()
        assert len(stored) == len(expected)  # one media and one label per row, no duplicate
        assert {sha: (code, label) for sha, code, label in stored} == expected
        assert session.exec(select(func.count()).select_from(Media)).one() == len(expected)
        assert session.exec(select(func.count()).select_from(Subject)).one() == SUBJECTS
        assert session.exec(select(func.count()).select_from(Visit)).one() == SUBJECTS


def test_four_importers_at_once_on_a_new_sqlite_database(tmp_path):
    expected = write_manifests(tmp_path)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    elapsed = import_at_once(tmp_path, url, tmp_path / "data")
    print(f"{PROCESSES} importers x {ROWS} rows on SQLite: {elapsed:.1f} s")
    assert_stored_exactly_once(url, expected)


def test_four_importers_at_once_on_a_new_postgresql_database(tmp_path, fresh_postgres_database):
    expected = write_manifests(tmp_path)
    elapsed = import_at_once(tmp_path, fresh_postgres_database, tmp_path / "data")
    print(f"{PROCESSES} importers x {ROWS} rows on PostgreSQL: {elapsed:.1f} s")
    assert_stored_exactly_once(fresh_postgres_database, expected)


def test_a_subject_that_another_import_stores_meanwhile_is_reused(tmp_path, fresh_postgres_database,
                                                                   registry, monkeypatch):
    """The race itself, made certain: between this import's look-up and its insert of subject
    P1, another connection commits P1. The unique key fails, the row's savepoint is rolled back,
    and the row is tried again and finds the stored subject (PostgreSQL: on SQLite, BEGIN
    IMMEDIATE makes the race impossible, the other writer would wait for us)."""
    from sqlalchemy import event

    from fpgrade.importer import import_manifest
    from fpgrade.settings import get_settings
    from fpgrade.storage import database
    from tests.media_factory import write_image

    monkeypatch.setenv("FPGRADE_DATABASE_URL", fresh_postgres_database)
    get_settings.cache_clear()
    write_image(tmp_path / "a.png")
    (tmp_path / "m.csv").write_text("subject,path,movement,scale,label\nP1,a.png,MV0,sided7,L1\n")
    other = create_engine(fresh_postgres_database)
    raced = []

    def other_import_first(_mapper, _connection, subject):
        if not raced:
            raced.append(subject.code)
            with Session(other) as session:
                session.add(Subject(code=subject.code))
                session.commit()

    event.listen(Subject, "before_insert", other_import_first)
    try:
        with database.session() as session:
            report = import_manifest(tmp_path / "m.csv", session=session, registry=registry)
    finally:
        event.remove(Subject, "before_insert", other_import_first)
        other.dispose()
    assert raced == ["P1"]
    assert report.errors == [] and (report.subjects_added, report.media_added) == (0, 1)
    with Session(create_engine(fresh_postgres_database)) as session:
        assert session.exec(select(Subject.code)).all() == ["P1"]
        assert session.exec(select(Annotation.label)).all() == ["L1"]
