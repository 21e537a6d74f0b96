"""The command line: listings as tables and JSON, one-line errors, --debug tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fpgrade.cli import main
from tests.media_factory import write_image


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plugins_json_lists_built_ins_with_the_five_scales(capsys):
    code, out, _ = run_cli(capsys, "plugins", "--json")
    assert code == 0
    plugins = json.loads(out)
    for entry in plugins:
        assert {"name", "version", "scales", "preprocessors", "models"} <= set(entry)
    scales = {s for entry in plugins for s in entry["scales"]}
    assert {"house_brackmann", "severity3", "sided7", "palsy_binary", "mouth_motion"} <= scales
    assert all(e["version"] for e in plugins if e["distribution"] == "fpgrade")


def test_plugins_table_reports_a_broken_plugin(install_plugin, capsys):
    install_plugin("broken", "raise ImportError('needs libfoo')\n")
    code, out, err = run_cli(capsys, "plugins")
    assert code == 0
    row = next(line for line in out.splitlines() if "broken" in line)
    assert "failed" in row and "ImportError: needs libfoo" in row
    assert "house_brackmann" in out
    assert "plugin 'broken' failed: ImportError: needs libfoo" in err


def test_scales_json_gives_ids_and_levels(capsys):
    code, out, _ = run_cli(capsys, "scales", "--json")
    scales = {s["id"]: s for s in json.loads(out)}
    assert code == 0
    assert [lv["code"] for lv in scales["house_brackmann"]["levels"]] == ["I", "II", "III", "IV", "V", "VI"]
    l2 = scales["sided7"]["levels"][2]
    assert (l2["code"], l2["side"]) == ("L2", "left") and l2["description"]
    assert scales["house_brackmann"]["converts_to"] == ["palsy_binary", "severity3"]


def test_scales_and_models_tables(capsys):
    code, out, _ = run_cli(capsys, "scales")
    assert code == 0 and "Moderately severe dysfunction" in out and "converts to" in out
    code, out, _ = run_cli(capsys, "models", "--json")
    assert code == 0 and isinstance(json.loads(out), list)


def test_import_reports_refused_rows_and_exits_2(tmp_path, capsys):
    write_image(tmp_path / "face.jpg")
    (tmp_path / "m.csv").write_text(
        "subject,path,movement,scale,label\nP1,face.jpg,MV0,sided7,R1\nP1,face.jpg,MV0,sided7,X9\n"
    )
    code, out, err = run_cli(capsys, "import", str(tmp_path / "m.csv"), "--json")
    report = json.loads(out)
    assert code == 2
    assert (report["media_added"], report["annotations_added"]) == (1, 1)
    assert report["errors"][0]["origin"].endswith("m.csv:3")
    code, out, err = run_cli(capsys, "import", str(tmp_path / "m.csv"))
    assert "0 media, 0 annotations added; 1 already stored; 1 refused" in out
    assert "m.csv:3: label 'X9' is not in scale 'sided7'" in err


def test_errors_are_one_line_without_traceback(tmp_path, capsys):
    code, out, err = run_cli(capsys, "import", str(tmp_path / "nowhere.csv"))
    assert code == 1 and out == ""
    assert err.strip() == f"Error: {tmp_path / 'nowhere.csv'}: no such file or folder"
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path):
    from fpgrade.errors import FpgradeError

    with pytest.raises(FpgradeError, match="no such file"):
        main(["--debug", "import", str(tmp_path / "nowhere.csv")])


def test_usage_errors_exit_2(capsys):
    code, _, err = run_cli(capsys, "scales", "--bogus")
    assert code == 2 and "No such option" in err


def test_db_upgrade_creates_the_default_sqlite_database(isolated_settings, capsys):
    code, out, _ = run_cli(capsys, "db", "upgrade")
    assert code == 0 and "database at head" in out
    assert (isolated_settings / "fpgrade.db").is_file()


def test_the_installed_script_runs(isolated_settings):
    env = {**os.environ, "FPGRADE_DATA_DIR": str(isolated_settings)}
    script = os.path.join(os.path.dirname(sys.executable), "fpgrade")
    done = subprocess.run([script, "scales", "--json"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) >= 5
    bad = subprocess.run([script, "import", "/nonexistent.csv"], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1


def test_warnings_are_one_line_each_and_once(install_plugin, capsys):
    install_plugin(
        "warner",
        """
        import warnings
        from fpgrade.hookspecs import hookimpl

        @hookimpl
        def register_commands(cli):
            @cli.command()
            def warn_twice():
                for fold in range(3):
                    warnings.warn("same message every fold")
                warnings.warn("another [red]message[/red] :100:")
        """,
    )
    from fpgrade.cli import main

    assert main(["warn-twice"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == ["warning: same message every fold",
                                "warning: another [red]message[/red] :100:"]


def test_scales_lists_the_composite_scales_too(capsys):
    from fpgrade.cli import main

    assert main(["scales", "--json"]) == 0
    listed = {s["id"]: s for s in json.loads(capsys.readouterr().out)}
    assert listed["eface"]["composite"] and listed["sunnybrook"]["items"]
    assert main(["scales"]) == 0
    assert "sunnybrook" in capsys.readouterr().out
