"""CLI parity: ``fpgrade user``, ``fpgrade campaign``, ``fpgrade labels export`` call the same
core as the pages; passwords never appear in arguments or output; ``--help`` stays light."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from fpgrade.cli import main
from fpgrade.labelling import audit
from fpgrade.labelling.campaigns import get_campaign
from fpgrade.labelling.export import ExportCount
from fpgrade.labelling.guideline import MAX_GUIDELINE
from fpgrade.labelling.raters_time import CSV_COLUMNS, FINAL, figures_over_time
from fpgrade.labelling.workflow import adjudication_queue, decide
from fpgrade.storage import database
from tests.labelling_helpers import PASSWORD, add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture
from tests.test_labelling_raters_time import labelled  # noqa: F401 - fixture
from tests.test_labelling_units import add_visits, anchor_of
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
    assert "closed by itself on " in out            # every medium is final: it closed itself
    listed = run(capsys, "campaign", "status")[1].strip().split("\t")
    assert listed[:4] == [str(campaign_id), "study1", "sided7", "closed"]
    assert listed[4].startswith("closed by itself on ") and "every medium has" in listed[4]
    (row,) = json.loads(run(capsys, "campaign", "status", "--json")[1])
    assert (row["state"], row["closed_by_itself"], row["unit"]) == ("closed", True, "medium")
    code, _, err = run(capsys, "labels", "export", "--out", tmp_path / "final.csv")
    assert code == 0
    assert err.strip() == f"4 final labels (4 media) written to {tmp_path / 'final.csv'}"
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
                                  ["campaign", "figures", "--help"],
                                  ["campaign", "guideline", "--help"],
                                  ["labels", "export", "--help"]])
def test_labelling_help_imports_nothing_heavy(argv):
    assert _heavy_after(argv) == []


def test_close_and_reopen_from_the_command_line(capsys, registry):
    add_media(3)
    assert run(capsys, "campaign", "create", "study1", "--scale", "sided7")[0] == 0
    code, out, _ = run(capsys, "campaign", "close", "study1")
    assert code == 0 and out.strip() == ("campaign study1 closed "
                                         "(reopen: fpgrade campaign reopen study1)")
    listed = run(capsys, "campaign", "status")[1].strip().split("\t")
    assert listed[3] == "closed" and listed[4].startswith("closed by cli on ")
    (row,) = json.loads(run(capsys, "campaign", "status", "--json")[1])
    assert (row["state"], row["closed_by_itself"]) == ("closed", False)
    assert "closed by cli on " in run(capsys, "campaign", "status", "study1")[1]
    code, out, err = run(capsys, "campaign", "close", "study1")
    assert (code, out) == (1, "") and err == "Error: campaign 'study1' is closed already\n"
    code, out, _ = run(capsys, "campaign", "reopen", "study1", "--json")
    shown = json.loads(out)
    assert code == 0 and (shown["state"], shown["closed"], shown["closed_by_itself"]) == (
        "open", None, False)
    assert run(capsys, "campaign", "status")[1].strip().split("\t")[3:] == ["open"]
    code, _, err = run(capsys, "campaign", "reopen", "study1")
    assert code == 1 and err == "Error: campaign 'study1' is open already\n"
    code, out, _ = run(capsys, "campaign", "close", "1", "--json")   # by number too
    assert code == 0 and json.loads(out)["closed"].startswith("closed by cli on ")
    # its media free again, a second campaign takes them: the first cannot reopen
    assert run(capsys, "campaign", "create", "study2", "--scale", "sided7")[0] == 0
    code, _, err = run(capsys, "campaign", "reopen", "study1")
    assert code == 1 and err.count("\n") == 1 and "cannot reopen" in err and "'study2'" in err
    code, _, err = run(capsys, "campaign", "close", "nothing")
    assert code == 1 and err == "Error: no campaign 'nothing'\n"
    with database.session() as session:
        logged = [(e.action, e.actor) for e in audit.events(session)
                  if e.action in ("campaign_close", "campaign_reopen")]
        assert logged == [("campaign_close", "cli"), ("campaign_reopen", "cli"),
                          ("campaign_close", "cli")]
        assert get_campaign(session, "study1").state == "closed"


def test_the_guideline_from_a_file_and_back(capsys, registry, tmp_path):
    add_media(2)
    run(capsys, "campaign", "create", "study1", "--scale", "sided7")
    guide = tmp_path / "guide.md"
    text = "# Règles\r\n\r\nGrade **L2** when the eye closes with effort.\r\n"
    guide.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))      # a BOM, Windows line ends
    code, out, _ = run(capsys, "campaign", "guideline", "study1", "--file", guide)
    stored = text.replace("\r\n", "\n").strip()
    assert code == 0 and out.strip() == (f"guideline of campaign study1 set from {guide} "
                                         f"({len(stored)} characters)")
    assert run(capsys, "campaign", "guideline", "study1", "--show")[1] == stored + "\n"
    assert json.loads(run(capsys, "campaign", "guideline", "study1", "--show", "--json")[1]) == {
        "campaign": "study1", "guideline": stored}
    with database.session() as session:
        (event,) = audit.events(session, action="guideline_set")
        assert (event.actor, event.details["after"]) == ("cli", stored)

    def refused(path, *words):
        code, out, err = run(capsys, "campaign", "guideline", "study1", "--file", path)
        assert code == 1 and out == "" and err.count("\n") == 1, err
        assert err.startswith(f"Error: {path}: ") and all(w in err for w in words), err

    refused(tmp_path / "missing.md", "no such file")
    refused(tmp_path, "is a folder")
    (tmp_path / "latin1.md").write_bytes("Règles".encode("latin-1"))
    refused(tmp_path / "latin1.md", "not UTF-8", "0xe8", "offset 1")
    (tmp_path / "empty.md").write_text(" \n\n")
    refused(tmp_path / "empty.md", "empty", "--clear")
    (tmp_path / "long.md").write_text("x" * (MAX_GUIDELINE + 1))
    refused(tmp_path / "long.md", f"{MAX_GUIDELINE + 1} characters long",
            f"at most {MAX_GUIDELINE}")
    (tmp_path / "huge.md").write_bytes(b"x" * (4 * MAX_GUIDELINE + 4))
    refused(tmp_path / "huge.md", "bytes", f"at most {MAX_GUIDELINE} characters")
    refused(Path("/dev/zero"), "more than", f"at most {MAX_GUIDELINE} characters")  # no size
    code, _, err = run(capsys, "campaign", "guideline", "study1", "--show", "--file", guide)
    assert code == 1 and "one of --file" in err
    # nothing refused touched the stored guideline
    assert run(capsys, "campaign", "guideline", "study1", "--show")[1] == stored + "\n"
    code, _, err = run(capsys, "campaign", "guideline", "nothing", "--file", guide)
    assert code == 1 and err == "Error: no campaign 'nothing'\n"
    assert run(capsys, "campaign", "guideline", "study1", "--clear")[1].strip() == (
        "guideline of campaign study1 removed")
    code, out, err = run(capsys, "campaign", "guideline", "study1", "--show")
    assert (code, out, err.strip()) == (0, "", "campaign study1 has no guideline yet")


def test_figures_over_time_as_the_progress_page_exports_them(capsys, labelled, tmp_path):
    _, c = labelled
    with database.session() as session:
        weeks = figures_over_time(session, c.id)
        blocks = figures_over_time(session, c.id, per_items=50)
    expected = [(f.rater, f.period, str(f.items), other, str(value.n))
                for f in weeks + blocks for other, value in f.agreement.items()]
    code, _, err = run(capsys, "campaign", "figures", "c1", "--out", tmp_path / "f.csv")
    assert code == 0
    assert err.strip() == ("12 rows of figures (2 raters, per week and per 50 items) written "
                           f"to {tmp_path / 'f.csv'}")
    with open(tmp_path / "f.csv", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert tuple(header) == CSV_COLUMNS
    table = [dict(zip(header, r)) for r in rows]
    assert [(r["rater"], r["period"], r["items"], r["compared_with"], r["n"])
            for r in table] == expected
    assert {("ann", "2026-W48"), ("bob", "2026-W49"), ("ann", "items 1-50")} <= {
        (r["rater"], r["period"]) for r in table}
    assert {"rater": "ann", "period": "2026-W49", "items": "2", "median_seconds": "12.5",
            "compared_with": "bob", "n": "2", "agreement": "0.500"} in table
    # the same bytes as the page's export, and on stdout without --out
    from fpgrade_ui.labelling_progress import export_figures_csv

    page_path, page_rows = export_figures_csv(labelled[0]["dan"], c.id, str(tmp_path))
    assert page_rows == 12
    assert open(page_path, newline="").read() == open(tmp_path / "f.csv", newline="").read()
    code, out, _ = run(capsys, "campaign", "figures", "c1")
    assert code == 0 and out.replace("\r\n", "\n") == open(page_path).read().replace("\r\n", "\n")
    shown = json.loads(run(capsys, "campaign", "figures", "c1", "--json")[1])
    assert len(shown) == 6 and shown[0]["agreement"][FINAL] == {"n": 1, "share": 1.0}
    code, _, err = run(capsys, "campaign", "figures", "nothing")
    assert code == 1 and err == "Error: no campaign 'nothing'\n"
    code, _, err = run(capsys, "campaign", "figures", "c1", "--out", tmp_path / "no" / "f.csv")
    assert code == 1 and err.startswith(f"Error: {tmp_path / 'no' / 'f.csv'}: cannot write")


def test_the_export_counts_visits_and_the_media_they_cover(capsys, registry, tmp_path):
    visits = add_visits(1) + add_visits(1, prefix="T", movements=("MV0",))
    team = users(ann="labeller", bob="labeller", cara="adjudicator")
    anchors = [anchor_of(visits[0]), visits[1][0]]
    code, out, _ = run(capsys, "campaign", "create", "visits", "--scale", "house_brackmann",
                       "--unit", "visit", "--json")
    campaign_id = json.loads(out)["id"]
    label_pass(team["ann"], campaign_id, {anchors[0]: "II", anchors[1]: "I"})
    label_pass(team["bob"], campaign_id, {anchors[0]: "V", anchors[1]: "II"})
    with database.session() as session:
        for case in adjudication_queue(session, team["cara"], campaign_id):
            decide(session, team["cara"], case.assignment_id,
                   label="II" if case.media_id == anchors[0] else "I", reason="looked again")
    code, _, err = run(capsys, "labels", "export", "--out", tmp_path / "final.csv")
    rows = list(csv.DictReader(open(tmp_path / "final.csv")))
    assert code == 0 and len(rows) == 2
    assert err.strip() == (f"2 final labels (2 visits, 4 media in all) written to "
                           f"{tmp_path / 'final.csv'}")


@pytest.mark.parametrize("count, words", [
    (ExportCount(4, 0, 4), "4 final labels (4 media)"),
    (ExportCount(1, 0, 1), "1 final label (1 medium)"),
    (ExportCount(1, 1, 3), "1 final label (1 visit, 3 media in all)"),
    (ExportCount(5, 2, 9),
     "5 final labels (3 media one by one, 2 visits of 6 media: 9 media in all)"),
    (ExportCount(0, 0, 0), "0 final labels (0 media)"),
])
def test_export_counts_in_words(count, words):
    assert count.words() == words
