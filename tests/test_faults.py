"""Storage and configuration faults are one line that says what to do, and change nothing stored
(issue 17, item 11): read-only folders and databases, a file that is not SQLite, unknown or older
schema revisions, malformed FPGRADE_* variables, manifests in other encodings, symbolic link
loops, a full disk while training. The SQLite file and the data folder are private (issue 16).

File modes do not stop root: when the tests run as root, the commands that meet a read-only file
run in a subprocess without capabilities (``setpriv``), as an ordinary user would meet them.
"""

from __future__ import annotations

import codecs
import errno
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fpgrade.cli import main
from tests.media_factory import write_image

MANIFEST = "subject,path,movement,scale,label\nZoë,face.jpg,rest,sided7,N\n"


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line(code: int, err: str) -> str:
    """The error line, after checking it is the only output on stderr, with no traceback, and
    a non-zero exit."""
    assert code != 0, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("Error: "), err
    return err.strip()


def dump(database: Path) -> list[str]:
    """Everything stored in a SQLite file, as SQL (compared before and after a fault)."""
    connection = sqlite3.connect(database)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def media_rows(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        return connection.execute("SELECT count(*) FROM media").fetchone()[0]
    finally:
        connection.close()


@pytest.fixture
def manifest(tmp_path) -> Path:
    write_image(tmp_path / "face.jpg")
    path = tmp_path / "m.csv"
    path.write_text(MANIFEST, encoding="utf-8")
    return path


@pytest.fixture
def stored(isolated_settings, capsys) -> Path:
    """The default database, at the newest revision, with nothing in it."""
    assert run(capsys, "db", "upgrade")[0] == 0
    return isolated_settings / "fpgrade.db"


# --- read-only files: as a user without root's powers ---------------------------------------

def _unprivileged_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    probe = [setpriv, "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--"] if setpriv else []
    if not probe or subprocess.run([*probe, "true"], capture_output=True).returncode != 0:
        pytest.skip("running as root without setpriv able to drop capabilities: root ignores file modes")
    return probe


def run_as_user(*args, data_dir: Path) -> tuple[int, str, str]:
    """``fpgrade ARGS`` in a subprocess that file modes apply to (without root's capabilities)."""
    env = {**os.environ, "FPGRADE_DATA_DIR": str(data_dir)}
    env.pop("FPGRADE_DATABASE_URL", None)
    done = subprocess.run([*_unprivileged_prefix(), sys.executable, "-m", "fpgrade", *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def restore_modes():
    """Give back write permission to what a test made read-only (so tmp_path can be removed)."""
    changed: list[Path] = []
    yield changed.append
    for path in changed:
        for candidate in (path, *path.parent.glob(path.name + "*")):
            if candidate.exists():
                candidate.chmod(candidate.stat().st_mode | stat.S_IWUSR)


def test_a_read_only_data_folder_is_named_and_nothing_changes(stored, manifest, restore_modes):
    folder = stored.parent
    (folder / "fpgrade.db.migrate.lock").unlink()  # the lock must be created: PermissionError today
    before = dump(stored)
    folder.chmod(0o555)
    restore_modes(folder)
    for args in (("db", "upgrade"), ("import", manifest)):
        code, _, err = run_as_user(*args, data_dir=folder)
        line = one_line(code, err)
        assert f"folder {folder} of database {stored} is read-only" in line
        assert "make the folder writable" in line
    folder.chmod(0o755)
    assert dump(stored) == before


def test_a_read_only_empty_data_folder_is_named(tmp_path, restore_modes):
    folder = tmp_path / "shared-readonly"
    folder.mkdir()
    folder.chmod(0o555)
    restore_modes(folder)
    code, _, err = run_as_user("db", "upgrade", data_dir=folder)
    assert f"folder {folder} of database {folder / 'fpgrade.db'} is read-only" in one_line(code, err)
    assert list(folder.iterdir()) == []


def test_a_read_only_database_then_its_leftover_shm_file_are_named(stored, manifest, restore_modes):
    """A read-only database is named; once it is made writable again, the ``-shm`` file SQLite
    left read-only (it copies the database's mode) is named, not the database; once that is
    fixed too, the import stores its row."""
    folder = stored.parent
    before = dump(stored)
    stored.chmod(0o444)
    restore_modes(stored)
    code, _, err = run_as_user("import", manifest, data_dir=folder)
    line = one_line(code, err)
    assert f"database file {stored} is read-only" in line and f"chmod u+w {stored}" in line

    shm = stored.with_name("fpgrade.db-shm")
    assert shm.exists() and not shm.stat().st_mode & stat.S_IWUSR  # left by the read-only open
    stored.chmod(0o600)
    code, _, err = run_as_user("import", manifest, data_dir=folder)
    line = one_line(code, err)
    assert f"{shm} is read-only (left from a time the database was read-only)" in line
    assert "database file" not in line
    assert dump(stored) == before  # (as root: this also removes the leftover files)

    for leftover in folder.glob("fpgrade.db-*"):
        leftover.chmod(0o600)
    code, out, err = run_as_user("import", manifest, data_dir=folder)
    assert code == 0, err
    assert "1 media" in out and media_rows(stored) == 1


# --- the database file and its schema --------------------------------------------------------

def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path, manifest, monkeypatch, capsys):
    notes = tmp_path / "notes.db"
    notes.write_text("patient list, not a database\n" * 50)
    before = notes.read_bytes()
    monkeypatch.setenv("FPGRADE_DATABASE_URL", f"sqlite:///{notes}")
    for args in (("db", "upgrade"), ("import", manifest)):
        line = one_line(*run(capsys, *args)[::2])
        assert f"{notes} is not a SQLite database" in line
    assert notes.read_bytes() == before
    assert not notes.with_name("notes.db-wal").exists()


def test_a_database_of_a_newer_fpgrade_is_refused_by_its_revision(stored, manifest, capsys):
    connection = sqlite3.connect(stored)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_future'")
    connection.close()
    before = dump(stored)
    for args in (("db", "upgrade"), ("import", manifest), ("db", "upgrade", "head")):
        line = one_line(*run(capsys, *args)[::2])
        assert "is at schema revision '0099_future', which fpgrade" in line
        assert "made by a newer fpgrade; upgrade fpgrade" in line
    assert dump(stored) == before


def test_an_unknown_revision_is_refused_with_the_known_ones(stored, capsys):
    before = dump(stored)
    line = one_line(*run(capsys, "db", "upgrade", "nonsense_rev")[::2])
    assert "unknown schema revision 'nonsense_rev': give head (the newest) or one of 0001, 0002" in line
    assert dump(stored) == before


def test_an_older_revision_is_refused_not_reported_as_reached(stored, capsys):
    from fpgrade.storage import database

    at, newest = database.revision()
    assert newest
    before = dump(stored)
    line = one_line(*run(capsys, "db", "upgrade", "0001")[::2])
    assert f"is at schema revision {at}, newer than 0001; fpgrade does not downgrade" in line
    assert database.revision() == (at, True) and dump(stored) == before


def test_db_upgrade_says_the_revision_the_database_reached(isolated_settings, capsys):
    from fpgrade.storage import database

    code, out, _ = run(capsys, "db", "upgrade", "0002")
    assert code == 0 and out.startswith("database at 0002: ")
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and out.startswith(f"database at head ({database.revision()[0]}): ")


def test_the_data_folder_and_the_database_are_private(tmp_path, monkeypatch, capsys):
    data_dir = tmp_path / "new" / "fpgrade-data"
    monkeypatch.setenv("FPGRADE_DATA_DIR", str(data_dir))
    from tests.conftest import _clear_caches

    _clear_caches()
    assert run(capsys, "db", "upgrade")[0] == 0
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    database = data_dir / "fpgrade.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert media_rows(database) == 0  # a real database, migrated
    for journal in data_dir.glob("fpgrade.db-*"):  # SQLite copies the database's mode
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600, journal


def test_an_explicit_database_file_is_created_private(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FPGRADE_DATABASE_URL", f"sqlite:///{tmp_path / 'team.db'}")
    assert run(capsys, "db", "upgrade")[0] == 0
    assert stat.S_IMODE((tmp_path / "team.db").stat().st_mode) == 0o600


# --- configuration --------------------------------------------------------------------------

@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("FPGRADE_MAX_IMAGE_PIXELS", "lots", "expected a whole number above 0"),
    ("FPGRADE_MAX_IMAGE_PIXELS", "0", "greater than 0"),
    ("FPGRADE_BACKBONE_WEIGHTS", "{not json", "not valid JSON"),
    ("FPGRADE_BACKBONE_WEIGHTS", "[1, 2]", 'expected a JSON object of backbone and weight file'),
    ("FPGRADE_CACHE_ENABLED", "maybe", "expected true or false"),
])
def test_a_malformed_variable_is_one_line_naming_it(variable, value, expected, isolated_settings,
                                                    monkeypatch, capsys):
    monkeypatch.setenv(variable, value)
    line = one_line(*run(capsys, "db", "upgrade")[::2])
    assert line.startswith(f"Error: {variable}={value!r}: ") and expected in line
    assert list(isolated_settings.iterdir()) == []  # nothing created


def test_every_malformed_variable_is_named_in_the_one_line(monkeypatch, capsys):
    monkeypatch.setenv("FPGRADE_MAX_IMAGE_PIXELS", "lots")
    monkeypatch.setenv("FPGRADE_CACHE_ENABLED", "maybe")
    line = one_line(*run(capsys, "db", "upgrade")[::2])
    assert line.startswith("Error: FPGRADE_MAX_IMAGE_PIXELS='lots': ")
    assert line.endswith("; not valid either: FPGRADE_CACHE_ENABLED")


def test_a_data_folder_that_is_a_file_is_refused(tmp_path, monkeypatch, capsys):
    a_file = tmp_path / "fpgrade.db"
    a_file.write_text("not a folder")
    monkeypatch.setenv("FPGRADE_DATA_DIR", str(a_file))
    line = one_line(*run(capsys, "db", "upgrade")[::2])
    assert f"FPGRADE_DATA_DIR='{a_file}': it is a file, not a folder" in line
    monkeypatch.setenv("FPGRADE_DATA_DIR", str(a_file / "below"))
    line = one_line(*run(capsys, "db", "upgrade")[::2])
    assert f"{a_file} is a file, not a folder; set FPGRADE_DATA_DIR to a folder" in line
    assert a_file.read_text() == "not a folder"


# --- manifests and links --------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_a_manifest_with_a_byte_order_mark_is_read(encoding, manifest, isolated_settings, capsys):
    manifest.write_bytes(MANIFEST.encode(encoding))
    code, out, err = run(capsys, "import", manifest, "--json")
    assert code == 0, err
    assert json.loads(out)["media_added"] == 1
    connection = sqlite3.connect(isolated_settings / "fpgrade.db")
    assert connection.execute("SELECT code FROM subject").fetchall() == [("Zoë",)]
    connection.close()


@pytest.mark.parametrize(("data", "expected"), [
    (MANIFEST.encode("utf-16-le"), "looks like UTF-16 text without a byte-order mark; save it as \"CSV UTF-8\""),
    (MANIFEST.encode("latin-1"), "not UTF-8 text (invalid continuation byte); save it as \"CSV UTF-8\""),
])
def test_a_manifest_in_another_encoding_is_one_line(data, expected, manifest, stored, capsys):
    manifest.write_bytes(data)
    line = one_line(*run(capsys, "import", manifest)[::2])
    assert line == f"Error: {manifest}: {expected}"
    assert media_rows(stored) == 0


def test_a_symbolic_link_loop_is_named_as_such(tmp_path, manifest, stored, capsys):
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    line = one_line(*run(capsys, "import", tmp_path / "a.csv")[::2])
    assert line == f"Error: {tmp_path / 'a.csv'}: a symbolic link loop (the links point at each other, never at a file)"

    (tmp_path / "dangling.csv").symlink_to(tmp_path / "gone.csv")
    line = one_line(*run(capsys, "import", tmp_path / "dangling.csv")[::2])
    assert f"a symbolic link to {tmp_path / 'gone.csv'}, which does not exist" in line

    (tmp_path / "x.jpg").symlink_to(tmp_path / "y.jpg")
    (tmp_path / "y.jpg").symlink_to(tmp_path / "x.jpg")
    manifest.write_text(MANIFEST + "P2,x.jpg,rest,sided7,N\n")
    code, out, err = run(capsys, "import", manifest)
    assert code == 2 and "Traceback" not in err
    assert f"m.csv:3: {tmp_path / 'x.jpg'}: a symbolic link loop" in err
    assert media_rows(stored) == 1  # the good row is kept


def test_a_link_loop_in_an_imported_folder_is_reported(tmp_path, stored, capsys):
    subject = tmp_path / "data" / "P1"
    subject.mkdir(parents=True)
    write_image(subject / "rest.jpg")
    (subject / "smile.jpg").symlink_to(subject / "frown.jpg")
    (subject / "frown.jpg").symlink_to(subject / "smile.jpg")
    code, out, err = run(capsys, "import", tmp_path / "data")
    assert code == 2 and "Traceback" not in err
    assert f"refused {subject / 'smile.jpg'}: a symbolic link loop" in err
    assert media_rows(stored) == 1


# --- a full disk --------------------------------------------------------------------------------

def test_a_full_disk_elsewhere_is_one_line_naming_the_file(install_plugin, capsys):
    install_plugin(
        "filler",
        """
        import errno
        from fpgrade.hookspecs import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command()
            def fill():
                raise OSError(errno.ENOSPC, "No space left on device", "/srv/runs/out.csv")
        """,
    )
    line = one_line(*run(capsys, "fill")[::2])
    assert line == ("Error: no space left on the device holding /srv/runs/out.csv: "
                    "free some space and run the command again")


def test_an_unknown_error_keeps_its_traceback(install_plugin):
    """Only the faults of the machine become one line; a bug still shows where it is."""
    install_plugin(
        "buggy",
        """
        from fpgrade.hookspecs import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command()
            def crash():
                raise OSError(errno_is_not_defined)
        """,
    )
    with pytest.raises(NameError):
        main(["crash"])


FAST_TRAINING = ["--model", "asymmetry_classifier", "--scale", "sided7", "--batch-size", "8",
                 "--protocol", "split:8:3:3", "--epochs", "3"]


@pytest.fixture(scope="module")
def training_data_dir(tmp_path_factory):
    """One data folder (database, landmark cache) for the training tests: faces analysed once."""
    from tests.conftest import _clear_caches

    data_dir = tmp_path_factory.mktemp("faults-training")
    yield data_dir
    _clear_caches()


def _fail_second_call(real, error: Exception):
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # torch.save: in epoch 2; save_file: epoch 1's last (after best)
            raise error
        return real(*args, **kwargs)

    return failing


@pytest.mark.parametrize("how", ["torch.save", "safetensors"])
def test_a_full_disk_while_training_says_so_and_resume_finishes(how, synthetic_sided7, training_data_dir,
                                                                tmp_path, monkeypatch, capsys):
    """``torch.save`` reports a full disk as ``RuntimeError: basic_ios::clear`` (no errno):
    the free space decides; safetensors and Python raise ``OSError`` ENOSPC. Either way one line,
    the previous checkpoint kept whole, and ``--resume`` finishes once space is freed."""
    import torch

    from fpgrade.models import weights
    from fpgrade.training import engine
    from tests.conftest import _clear_caches

    monkeypatch.setenv("FPGRADE_DATA_DIR", str(training_data_dir))
    _clear_caches()
    out = tmp_path / "run"
    args = ["train", *FAST_TRAINING, "--data", synthetic_sided7, "--out", out]
    with monkeypatch.context() as full:
        if how == "torch.save":
            full.setattr(engine.torch, "save", _fail_second_call(
                torch.save, RuntimeError("basic_ios::clear: iostream error")))
            real_usage = shutil.disk_usage
            full.setattr(engine.shutil, "disk_usage",
                         lambda path: real_usage(path)._replace(free=4096))
        else:
            full.setattr(weights, "save_file", _fail_second_call(
                weights.save_file, OSError(errno.ENOSPC, "No space left on device")))
        code, _, err = run(capsys, *args)
    assert code == 1 and "Traceback" not in err  # the epoch lines, then the error
    line = err.strip().splitlines()[-1]
    assert line.startswith("Error: ") and err.count("Error") == 1
    assert f"no space left on the device holding {out / 'fold_0'}" in line
    assert "free some space, then run the same command with --resume" in line
    if how == "torch.save":  # epoch 2's state failed: epoch 1's is whole
        assert torch.load(out / "fold_0" / "state.pt", weights_only=True)["epoch"] == 0
    else:  # the first checkpoint's last.safetensors failed: no state yet, --resume starts the fold
        assert not (out / "fold_0" / "state.pt").exists()
    assert not list((out / "fold_0").glob(".*.tmp"))  # no half-written file left taking space

    code, stdout, err = run(capsys, *args, "--resume", "--json")
    assert code == 0, err
    history = json.loads((out / "fold_0" / "history.json").read_text())
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert json.loads(stdout)["folds_tested"] == 1
