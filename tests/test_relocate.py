"""``fpgrade db relocate``: stored paths follow a moved data folder, only for the same bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, create_engine, select

from fpgrade.cli import main
from fpgrade.settings import get_settings
from fpgrade.storage.tables import Annotation, AuditEvent, Media
from tests.conftest import SHARED_FACES

PHOTOS = ("single_face.jpg", "0-f1-su-ph.jpg", "45-m7-di-ph.jpg", "multi_face.jpg")


def _data_folder(root: Path) -> Path:
    """A folder of real photos, <subject>/<movement>.jpg, as ``fpgrade import`` expects."""
    for number, name in enumerate(PHOTOS):
        subject = root / f"S{number // 2 + 1:03d}"
        subject.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED_FACES / name, subject / f"MV{number % 2}.jpg")
    labels = root.parent / f"{root.name}-labels.csv"
    labels.write_text("subject,scale,label\nS001,house_brackmann,II\nS002,house_brackmann,IV\n")
    return labels


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _paths(url: str | None = None) -> dict[str, str]:
    from fpgrade.storage import database

    with Session(database.get_engine(url)) as session:
        return {m.sha256: m.path for m in session.exec(select(Media)).all()}


@pytest.fixture
def moved(tmp_path, capsys):
    """Real photos imported from ``old``, then the folder moved to ``new``."""
    old, new = tmp_path / "old" / "data", tmp_path / "new" / "data"
    labels = _data_folder(old)
    code, _, err = _run(capsys, "import", old, "--labels", labels)
    assert code == 0, err
    new.parent.mkdir()
    shutil.move(old, new)
    return old, new


def test_relocate_rewrites_every_path_after_checking_hashes(moved, capsys):
    old, new = moved
    before = _paths()
    assert len(before) == 4 and all(path.startswith(str(old.resolve().parent)) or
                                    path.startswith(str(old)) for path in before.values())
    code, out, err = _run(capsys, "db", "relocate", old, new)
    assert code == 0, err
    assert "relocated 4 media" in out
    after = _paths()
    assert set(after) == set(before)  # same media (same rows), only the paths changed
    for digest, path in after.items():
        assert Path(path).is_file() and Path(path).is_relative_to(new.resolve())
        assert Path(path).relative_to(new.resolve()) == Path(before[digest]).relative_to(old)
    from fpgrade.storage import database
    with Session(database.get_engine()) as session:
        assert len(session.exec(select(Annotation)).all()) == 4  # labels kept with their media
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "media_relocated")).all()
        assert event.details["relocated"] == 4
    # A second run finds everything in place: nothing to do, no error.
    code, out, _ = _run(capsys, "db", "relocate", old, new)
    assert code == 0 and "relocated 0 media" in out and "4 already there" in out


def test_a_missing_or_changed_file_is_named_and_nothing_changes(moved, capsys):
    old, new = moved
    before = _paths()
    (new / "S001" / "MV1.jpg").unlink()
    changed = new / "S002" / "MV0.jpg"
    changed.write_bytes(changed.read_bytes() + b"\0")
    code, out, err = _run(capsys, "db", "relocate", old, new)
    assert code == 1
    assert "nothing relocated" in err
    assert f"{new.resolve() / 'S001' / 'MV1.jpg'}: missing" in err
    assert f"{new.resolve() / 'S002' / 'MV0.jpg'}: not the file that was imported" in err
    assert _paths() == before
    code, out, _ = _run(capsys, "db", "relocate", old, new, "--json")
    report = json.loads(out)
    assert code == 1 and report["written"] is False and len(report["errors"]) == 1
    # --partial moves the two that match and names the two it left.
    code, out, err = _run(capsys, "db", "relocate", old, new, "--partial", "--json")
    report = json.loads(out)
    assert code == 1 and report["relocated"] == 2 and len(report["errors"]) == 2
    after = _paths()
    assert sum(Path(p).is_relative_to(new.resolve()) for p in after.values()) == 2
    assert sum(p == before[d] for d, p in after.items()) == 2


def test_dry_run_checks_everything_and_writes_nothing(moved, capsys):
    old, new = moved
    before = _paths()
    code, out, _ = _run(capsys, "db", "relocate", old, new, "--dry-run")
    assert code == 0 and "would relocate 4 media" in out
    assert _paths() == before


def test_wrong_folders_are_one_line_each(moved, tmp_path, capsys):
    old, new = moved
    code, _, err = _run(capsys, "db", "relocate", tmp_path / "elsewhere", new)
    assert code == 1 and "no stored medium is under this folder" in err and str(old) in err
    code, _, err = _run(capsys, "db", "relocate", old, tmp_path / "nowhere")
    assert code == 1 and "nowhere: not a folder" in err


def test_train_on_stale_paths_points_at_relocate(moved, capsys):
    code, _, err = _run(capsys, "train", "--model", "asymmetry_classifier", "--scale",
                        "house_brackmann", "--data", "db", "--epochs", "1", "--out",
                        moved[1].parent / "run")
    assert code == 1 and "missing" in err and "fpgrade db relocate OLD_FOLDER NEW_FOLDER" in err


def test_relocate_on_postgresql(fresh_postgres_database, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FPGRADE_DATABASE_URL", fresh_postgres_database)
    get_settings.cache_clear()
    old, new = tmp_path / "old", tmp_path / "moved" / "data"
    labels = _data_folder(old)
    assert _run(capsys, "import", old, "--labels", labels)[0] == 0
    new.parent.mkdir()
    shutil.move(old, new)
    (new / "S002" / "MV1.jpg").unlink()
    assert _run(capsys, "db", "relocate", old, new)[0] == 1
    engine = create_engine(fresh_postgres_database)
    with Session(engine) as session:
        assert all(m.path.startswith(str(old)) for m in session.exec(select(Media)).all())
    code, out, _ = _run(capsys, "db", "relocate", old, new, "--partial")
    assert code == 1 and "relocated 3 media" in out
    with Session(engine) as session:
        paths = [m.path for m in session.exec(select(Media)).all()]
    engine.dispose()
    assert sum(Path(p).is_relative_to(new) for p in paths) == 3
