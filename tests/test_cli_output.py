"""What the command line prints: user-supplied names verbatim (no rich markup, no emoji codes),
and tables not cut at 80 columns when the output is not a terminal."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fpgrade.cli import main
from tests.media_factory import write_image

# Rich would turn these into a style ([red] vanishes), an emoji (:100:), or a MarkupError ([/]).
ODD_NAMES = ["[red]face", "x:100:y", "x[/]y", "a[bold]b[/bold]:thumbs_up:"]


def run_cli(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("name", ODD_NAMES)
def test_import_prints_paths_verbatim(tmp_path, capsys, name):
    folder = tmp_path / name  # "/" in a name is a folder: x[/]y is the file ]y in the folder x[
    (folder / name).parent.mkdir(parents=True)
    write_image(folder / f"{name}.jpg")
    manifest = folder / f"{name}.csv"
    manifest.write_text(f"subject,path,movement,scale,label\nP1,{folder / name}.jpg,MV0,sided7,N\n"
                        f"P1,{folder / name}-missing.jpg,MV0,sided7,N\n")
    code, out, err = run_cli(capsys, "import", str(manifest))
    assert code == 2 and "1 media" in out
    assert f"refused {manifest}:3: {folder / (name + '-missing.jpg')}: file not found" in err
    code, _, err = run_cli(capsys, "import", str(tmp_path / f"{name}.csv"))
    assert code == 1 and err.strip() == f"Error: {tmp_path / (name + '.csv')}: no such file or folder"


@pytest.mark.parametrize("name", ODD_NAMES)
def test_synth_prints_paths_verbatim(tmp_path, capsys, name):
    out_dir = tmp_path / name
    code, out, err = run_cli(capsys, "synth", str(out_dir), "--subjects", "1", "--images-per-subject", "1")
    assert code == 0, err
    assert out.strip() == f"SYNTHETIC data: 1 subjects, manifest {out_dir / 'manifest.csv'}"
    code, _, err = run_cli(capsys, "synth", str(out_dir), "--subjects", "1")
    assert code == 1 and f"Error: {out_dir}: folder exists" in err


def test_db_upgrade_prints_the_url_verbatim(tmp_path, monkeypatch, capsys):
    from fpgrade.settings import get_settings

    folder = tmp_path / "[red]db:100:x[/]y"
    folder.mkdir(parents=True)
    monkeypatch.setenv("FPGRADE_DATABASE_URL", f"sqlite:///{folder / 'a.db'}")
    get_settings.cache_clear()
    code, out, _ = run_cli(capsys, "db", "upgrade")
    from fpgrade.storage.database import revision

    assert code == 0 and out.strip() == f"database at head ({revision()[0]}): sqlite:///{folder / 'a.db'}"


def test_measure_writes_an_overlay_with_brackets_in_its_name(tmp_path, capsys):
    photo = write_image(tmp_path / "[red]face:100:.jpg")
    overlay = tmp_path / "x[/]ov.png"  # the file ]ov.png in the folder x[
    overlay.parent.mkdir()
    code, out, err = run_cli(capsys, "measure", str(photo), "--overlay", str(overlay))
    assert code == 0, err
    assert f"overlay written to {overlay}" in out and overlay.is_file()
    assert "[red]face:100:.jpg: photo" in out


def test_a_broken_plugin_message_is_printed_verbatim(install_plugin, capsys):
    install_plugin("broken", "raise ImportError('needs [red]libfoo:100: x[/]y')\n")
    code, out, err = run_cli(capsys, "plugins")
    assert code == 0
    row = next(line for line in out.splitlines() if "broken" in line)
    assert "failed" in row and "ImportError: needs [red]libfoo:100: x[/]y" in row
    assert "plugin 'broken' failed: ImportError: needs [red]libfoo:100: x[/]y" in err


def test_tables_are_not_cut_when_piped(isolated_settings):
    """Through a pipe (not a terminal) and without COLUMNS: every name whole, nothing elided."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["FPGRADE_DATA_DIR"] = str(isolated_settings)
    script = os.path.join(os.path.dirname(sys.executable), "fpgrade")
    for command in (["scales"], ["plugins"], ["models"]):
        done = subprocess.run([script, *command], capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        assert "…" not in done.stdout, (command, done.stdout)
    done = subprocess.run([script, "scales"], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL)
    assert "Moderately severe dysfunction" in done.stdout


def test_a_long_plugin_name_is_not_cut_when_piped(install_plugin, capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    name = "clinic_" + "very_long_plugin_name_" * 5 + "end"
    install_plugin(name, "")
    code, out, _ = run_cli(capsys, "plugins")
    assert code == 0 and name in out and "…" not in out
