"""CLI parity: ``fpgrade user``, ``fpgrade campaign``, ``fpgrade labels export`` call the same
core as the pages; passwords never appear in arguments or output; ``--help`` stays light."""

from __future__ import annotations

import csv
import io
import json

import pytest

from fpgrade.cli import main
from tests.labelling_helpers import PASSWORD, add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture
from tests.test_labelling_workflow import label_pass
from tests.test_startup import _heavy_after


def run(capsys, *args, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_users_from_the_command_line(capsys, monkeypatch):
    code, out, err = run(capsys, "user", "add", "ann", "--role", "labeller", "--password-stdin",
                         stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert code == 0 and out.strip() == "user ann added (labeller)"
    code, out, err = run(capsys, "user", "add", "ann", "--role", "labeller", "--password-stdin",
                         stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert code == 1 and "exists already" in err and err.count("\n") == 1
    code, _, err = run(capsys, "user", "add", "bob", "--role", "surgeon", "--password-stdin",
                       stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert code == 1 and "role 'surgeon' is not one of" in err
    code, _, err = run(capsys, "user", "add", "bob", "--role", "admin", "--password-stdin",
                       stdin="short\n", monkeypatch=monkeypatch)
    assert code == 1 and "at least 8 characters" in err and "short" not in err.split("characters")[1]
    assert run(capsys, "user", "disable", "ann")[1].strip() == "user ann disabled"
    code, out, _ = run(capsys, "user", "list", "--json")
    assert json.loads(out) == [{"name": "ann", "role": "labeller", "disabled": True}]
    assert PASSWORD not in out
    assert run(capsys, "user", "disable", "ann", "--enable")[1].strip() == "user ann enabled"
    code, _, err = run(capsys, "user", "disable", "nobody")
    assert code == 1 and "no user 'nobody'" in err


def test_a_campaign_from_creation_to_export(capsys, tmp_path, registry, monkeypatch):
    team = users(ann="labeller", bob="labeller")
    media = add_media(4)
    code, out, _ = run(capsys, "campaign", "create", "study1", "--scale", "sided7",
                       "--movement", "MV0", "--json")
    assert code == 0 and json.loads(out)["blind_passes"] == 2
    campaign_id = json.loads(out)["id"]
    label_pass(team["ann"], campaign_id, {m: "L2" for m in media})
    label_pass(team["bob"], campaign_id, {m: "L2" for m in media})
    monkeypatch.setattr("fpgrade.labelling.checks.indices_of_file",
                        lambda path, kind: {"RgAs": 0.4, "AnAs": 2.0})
    code, out, _ = run(capsys, "campaign", "check", "study1")
    assert code == 0 and "4 agree, 0 disagree, 0 undecided" in out
    code, out, _ = run(capsys, "campaign", "status", "study1")
    assert "first check: 4/4 agree (100.0%)" in out and "final: 4" in out
    status = json.loads(run(capsys, "campaign", "status", "study1", "--json")[1])
    assert status["progress"]["statuses"]["final"] == 4
    assert status["agreement"]["between_raters"][0]["n"] == 4
    assert "study1" in run(capsys, "campaign", "status")[1]
    code, _, err = run(capsys, "labels", "export", "--out", tmp_path / "final.csv")
    assert code == 0 and "4 final labels written" in err
    rows = list(csv.DictReader(open(tmp_path / "final.csv")))
    assert {(r["label"], r["method"], r["campaign"], r["decided_by"]) for r in rows} == {
        ("L2", "agreed_checked", "study1", "cli")}
    assert all(len(r["annotation_ids"].split(";")) == 2 and r["check_result_id"] for r in rows)
    code, out, _ = run(capsys, "labels", "export", "--scale", "house_brackmann")
    assert code == 0 and out.strip().splitlines() == [",".join(
        __import__("fpgrade.labelling.export", fromlist=["COLUMNS"]).COLUMNS)]


def test_a_formula_in_a_free_text_cell_is_neutralised():
    from datetime import datetime, timezone
    from pathlib import Path

    from fpgrade.labelling.export import write_csv
    from fpgrade.labelling.final import FinalRecord

    record = FinalRecord(1, "P1", Path("/a.jpg"), "a" * 64, "MV0", False, "sided7", "L1",
                         "adjudicated", "cara", "c", (1, 2), None, "=HYPERLINK(\"x\")",
                         datetime(2026, 1, 1, tzinfo=timezone.utc))
    handle = io.StringIO()
    write_csv([record], handle)
    assert "'=HYPERLINK" in handle.getvalue()


@pytest.mark.parametrize("argv", [["user", "--help"], ["campaign", "create", "--help"],
                                  ["labels", "export", "--help"]])
def test_labelling_help_imports_nothing_heavy(argv):
    assert _heavy_after(argv) == []
