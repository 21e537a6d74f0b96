"""Migration 0003 (labelling tables): upgrade with existing labels on SQLite and PostgreSQL,
downgrade, and the unique keys the workflow's race-safety rests on."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from fpgrade.storage import database
from fpgrade.storage.tables import (
    Annotation, Assignment, Campaign, FinalLabel, Media, MediaKind, Subject, Visit,
)

OLD_ROWS = [  # media, annotator, pass, scale, label, source
    (1, "dr_a", 1, "sided7", "L1", "IMPORT"),
    (1, "dr_b", 2, "sided7", "L1", "IMPORT"),      # agrees: final L1 (imported)
    (2, "dr_a", 1, "sided7", "L1", "IMPORT"),
    (2, "dr_b", 2, "sided7", "R2", "LABEL_STUDIO"),  # disagrees: no final label
    (3, "dr_a", 1, "house_brackmann", "III", "UI"),
]


def _fill_at_0002(url: str) -> None:
    database.upgrade(url, "0002")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO subject (id, code, created_at) VALUES (1, 'P1', '2026-01-01')")
        connection.exec_driver_sql("INSERT INTO visit (id, subject_id, name, created_at) "
                                   "VALUES (1, 1, 'default', '2026-01-01')")
        for media in (1, 2, 3):
            connection.exec_driver_sql(
                "INSERT INTO media (id, visit_id, path, sha256, kind, source, created_at, synthetic) "
                f"VALUES ({media}, 1, '/m{media}.jpg', '{str(media) * 64}', 'IMAGE', 'IMPORT', "
                "'2026-01-01', false)")
        for media, annotator, number, scale, label, source in OLD_ROWS:
            connection.exec_driver_sql(
                "INSERT INTO annotation (media_id, annotator, pass_number, scale, label, source, "
                f"created_at) VALUES ({media}, '{annotator}', {number}, '{scale}', '{label}', "
                f"'{source}', '2026-01-01')")
    engine.dispose()


def _assert_upgraded(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"tables and migrations disagree: {diff}"
    with Session(engine) as session:
        kinds = {(a.media_id, a.annotator): a.pass_kind for a in session.exec(select(Annotation))}
        assert kinds == {(1, "dr_a"): "imported", (1, "dr_b"): "imported",
                         (2, "dr_a"): "imported", (2, "dr_b"): "label-studio", (3, "dr_a"): "blind"}
        finals = {(f.media_id, f.scale): (f.label, f.method, len(f.annotation_ids))
                  for f in session.exec(select(FinalLabel))}
        assert finals == {(1, "sided7"): ("L1", "imported", 2),
                          (3, "house_brackmann"): ("III", "imported", 1)}
    engine.dispose()


def test_migration_0003_on_sqlite_keeps_only_unambiguous_labels_final(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _fill_at_0002(url)
    database.upgrade(url)
    _assert_upgraded(url)


def test_migration_0003_on_postgresql_up_down_up(fresh_postgres_database):  # noqa: F811
    from alembic import command

    _fill_at_0002(fresh_postgres_database)
    database.upgrade(fresh_postgres_database)
    _assert_upgraded(fresh_postgres_database)
    engine = create_engine(fresh_postgres_database)
    with engine.begin() as connection:
        config = database.alembic_config(fresh_postgres_database)
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    engine.dispose()
    database.upgrade(fresh_postgres_database)
    _assert_upgraded(fresh_postgres_database)


def test_migration_0003_downgrades_on_sqlite(tmp_path):
    from alembic import command

    url = f"sqlite:///{tmp_path / 'd.db'}"
    _fill_at_0002(url)
    database.upgrade(url)
    command.downgrade(database.alembic_config(url), "0002")
    with create_engine(url).connect() as connection:
        tables = {row[0] for row in connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "finallabel" not in tables and "useraccount" not in tables
        assert connection.exec_driver_sql("SELECT count(*) FROM annotation").scalar() == 5


def test_unique_keys_of_the_workflow():
    engine = database.get_engine()
    with Session(engine) as session:
        subject = Subject(code="P1")
        session.add(subject)
        session.flush()
        visit = Visit(subject_id=subject.id)
        session.add(visit)
        session.flush()
        media = Media(visit_id=visit.id, path="/x.jpg", sha256="a" * 64, kind=MediaKind.IMAGE)
        campaign = Campaign(name="c", scale="sided7", created_by="cli")
        session.add_all([media, campaign])
        session.commit()
        first = Assignment(campaign_id=campaign.id, media_id=media.id, pass_kind="blind",
                           pass_number=1)
        session.add(first)
        session.commit()
        session.add(Annotation(media_id=media.id, annotator="a", scale="sided7", label="L1",
                               assignment_id=first.id))
        session.commit()
        session.add(FinalLabel(media_id=media.id, scale="sided7", label="L1", method="imported",
                               decided_by="x"))
        session.commit()
        for duplicate in (
            Assignment(campaign_id=campaign.id, media_id=media.id, pass_kind="blind", pass_number=1),
            Annotation(media_id=media.id, annotator="b", scale="sided7", label="L1",
                       assignment_id=first.id),                       # one annotation per assignment
            FinalLabel(media_id=media.id, scale="sided7", label="L2", method="adjudicated",
                       decided_by="y"),                               # one final per medium and scale
        ):
            session.add(duplicate)
            with pytest.raises(IntegrityError):
                session.commit()
            session.rollback()
