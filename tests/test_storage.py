"""Storage: migrations create the schema, match the tables, and constraints hold."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from fpgrade.storage import database
from fpgrade.storage.tables import (Annotation, Media, MediaKind, ModelVersion, Prediction, Subject,
                                    Visit)


def test_default_database_is_sqlite_in_the_data_dir(isolated_settings):
    engine = database.get_engine()
    assert engine.url.drivername == "sqlite"
    assert engine.url.database == str(isolated_settings / "fpgrade.db")


def test_migrations_create_exactly_the_tables_of_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    database.upgrade(url)
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    assert names == set(SQLModel.metadata.tables) | {"alembic_version"}
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"tables and migrations disagree; write a migration: {diff}"


def test_upgrade_twice_is_harmless(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    database.upgrade(url)
    database.upgrade(url)


def test_constraints_protect_the_data():
    engine = database.get_engine()
    with Session(engine) as session:
        subject = Subject(code="P001")
        session.add(subject)
        session.commit()
        visit = Visit(subject_id=subject.id)
        session.add(visit)
        session.commit()
        media = Media(visit_id=visit.id, path="/x.jpg", sha256="a" * 64, kind=MediaKind.IMAGE)
        session.add(media)
        session.commit()
        session.add(Annotation(media_id=media.id, annotator="a", scale="sided7", label="L1"))
        session.commit()
        version = ModelVersion(model_id="m", version="m-" + "b" * 12, scale="sided7",
                               weights_sha256="b" * 64, weights_path="/w.safetensors")
        session.add(version)
        session.commit()
        assert version.status == "candidate"
        session.add(Prediction(media_id=media.id, model_version_id=version.id, scale="sided7",
                               label="L1", probabilities={"N": 0.1, "L1": 0.9}))
        session.commit()
        session.add(Prediction(media_id=media.id, model_version_id=999, scale="sided7", label="L1"))
        with pytest.raises(IntegrityError):  # a prediction names a registered version
            session.commit()
        session.rollback()
        session.add(Annotation(media_id=media.id, annotator="a", scale="sided7", label="L2"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        session.add(Media(visit_id=visit.id, path="/y.jpg", sha256="a" * 64, kind=MediaKind.IMAGE))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        session.add(Visit(subject_id=999))  # foreign keys are enforced on SQLite too
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert session.get(Prediction, 1).probabilities == {"N": 0.1, "L1": 0.9}


def test_database_url_setting_selects_the_database(tmp_path, monkeypatch):
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_DATABASE_URL", f"sqlite:///{tmp_path / 'team.db'}")
    get_settings.cache_clear()
    assert get_settings().resolved_database_url.endswith("team.db")
    database.get_engine()
    assert (tmp_path / "team.db").is_file()


def test_postgresql_through_the_database_url(postgres_url, monkeypatch, tmp_path, capsys):
    """The same migrations and import run on a real PostgreSQL server."""
    from fpgrade.cli import main
    from fpgrade.settings import get_settings
    from tests.media_factory import write_image

    monkeypatch.setenv("FPGRADE_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    assert main(["db", "upgrade"]) == 0
    assert "postgresql+psycopg://fpgrade@127.0.0.1" in capsys.readouterr().out
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    write_image(tmp_path / "face.jpg")
    (tmp_path / "m.csv").write_text("subject,path,movement,scale,label\nP9,face.jpg,MV0,sided7,L3\n")
    assert main(["import", str(tmp_path / "m.csv")]) == 0
    with Session(engine) as session:
        (annotation,) = session.exec(select(Annotation)).all()
        assert annotation.label == "L3"
    assert main(["import", str(tmp_path / "m.csv")]) == 0
    assert "0 media, 0 annotations added; 1 already stored" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://fpgrade:secret@127.0.0.1:9/fpgrade", "cannot be reached"),
        ("not a database url", "is not valid"),
    ],
)
def test_a_database_that_is_down_or_misnamed_is_one_line(url, message, monkeypatch, capsys):
    from fpgrade.cli import main
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_DATABASE_URL", url)
    get_settings.cache_clear()
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") <= 2 and "Traceback" not in err
    assert "secret" not in err  # the password is never printed


def _cli_with_database_url(url, monkeypatch, capsys, *args):
    from fpgrade.cli import main
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_DATABASE_URL", url)
    get_settings.cache_clear()
    code = main(list(args or ["db", "upgrade"]))
    return code, capsys.readouterr().err


def test_a_sqlite_url_in_a_missing_folder_is_an_error_not_a_new_database(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "nonexistent" / "dir"
    code, err = _cli_with_database_url(f"sqlite:///{folder / 'x.db'}", monkeypatch, capsys)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert f"folder {folder} does not exist" in err
    assert not (tmp_path / "nonexistent").exists()


def test_the_default_database_creates_its_folder(tmp_path, monkeypatch):
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_DATA_DIR", str(tmp_path / "new" / "data"))
    get_settings.cache_clear()
    database.get_engine()
    assert (tmp_path / "new" / "data" / "fpgrade.db").is_file()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://fpgrade:secret@db.example/fpgrade", "'mysql' is not supported"),
        ("mssql+pyodbc://fpgrade:secret@dsn", "'mssql' is not supported"),
        ("postgresql+pg8000://fpgrade:secret@127.0.0.1/fpgrade", "driver 'postgresql+pg8000' is not available"),
    ],
)
def test_an_unsupported_database_or_driver_is_one_line(url, message, monkeypatch, capsys):
    code, err = _cli_with_database_url(url, monkeypatch, capsys)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert message in err and "SQLite" in err and "PostgreSQL" in err
    assert "secret" not in err


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = database.get_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_read_session_neither_waits_for_nor_blocks_a_writer(tmp_path, monkeypatch):
    """A writer holds the write lock (an open transaction that wrote); a read session still reads
    the last committed state at once, and a second writer is not blocked by the reader."""
    from fpgrade.storage import sqlite

    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_S", 0.2)  # a blocked reader would fail fast
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with database.session(url) as writer:
        writer.add(Subject(code="committed"))
        writer.commit()
        writer.add(Subject(code="in flight"))
        writer.flush()  # BEGIN IMMEDIATE: the write lock is held from here until commit
        with database.read_session(url) as reader:
            assert reader.exec(select(Subject.code)).all() == ["committed"]
            reading_open = reader.exec(select(Subject.code)).all()  # its snapshot stays open
            writer.commit()
            with database.session(url) as second:  # the open reader does not block a writer
                second.add(Subject(code="second"))
                second.commit()
            assert reading_open == ["committed"]


def test_savepoints_roll_back_on_sqlite(tmp_path):
    """pysqlite ignores SAVEPOINT unless SQLAlchemy emits BEGIN itself (our SQLite setup)."""
    engine = database.get_engine(f"sqlite:///{tmp_path / 's.db'}")
    with Session(engine) as session:
        session.add(Subject(code="kept"))
        session.flush()
        nested = session.begin_nested()
        session.add(Subject(code="rolled back"))
        session.flush()
        nested.rollback()
        session.commit()
        assert session.exec(select(Subject.code)).all() == ["kept"]


def test_migration_0002_marks_existing_media_not_synthetic(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    database.upgrade(url, "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO subject (id, code, created_at) VALUES (1, 'P1', '2026-01-01')")
        connection.exec_driver_sql("INSERT INTO visit (id, subject_id, name, created_at) "
                                   "VALUES (1, 1, 'default', '2026-01-01')")
        connection.exec_driver_sql("INSERT INTO media (visit_id, path, sha256, kind, source, created_at) "
                                   f"VALUES (1, '/a.jpg', '{'b' * 64}', 'IMAGE', 'IMPORT', '2026-01-01')")
    database.upgrade(url)
    with Session(create_engine(url)) as session:
        (media,) = session.exec(select(Media)).all()
        assert media.synthetic is False


def test_a_transaction_that_lost_a_race_is_retried_and_others_are_not(tmp_path):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from fpgrade.storage.retry import in_transaction

    engine = database.get_engine(f"sqlite:///{tmp_path / 'r.db'}")
    attempts = []

    def work():
        attempts.append(1)
        session.add(Subject(code=f"S{len(attempts)}"))
        session.flush()
        if len(attempts) < 3:
            raise OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
        return "done"

    with Session(engine) as session:
        assert in_transaction(session, work, sleep=lambda s: None) == "done"
        assert session.exec(select(Subject.code)).all() == ["S3"]  # the lost attempts rolled back
    attempts.clear()

    def broken():
        attempts.append(1)
        raise OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))

    with Session(engine) as session, pytest.raises(OperationalError, match="no such table"):
        in_transaction(session, broken, sleep=lambda s: None)
    assert len(attempts) == 1


def test_the_default_database_spelt_out_creates_its_folder(tmp_path, monkeypatch):
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_DATA_DIR", str(tmp_path / "fresh" / "data"))
    get_settings.cache_clear()
    database.get_engine.cache_clear()
    engine = database.get_engine(get_settings().resolved_database_url)  # as `fpgrade demo` does
    assert (tmp_path / "fresh" / "data" / "fpgrade.db").is_file() and engine is not None
