"""Per-subject labelling (issue 20): a campaign with unit ``visit`` asks one grade per visit, on
one anchor medium, and writes the decided grade to every medium of the visit; per-medium
campaigns are unchanged (the other labelling tests)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from fpgrade.labelling.agreement import campaign_agreement
from fpgrade.labelling.campaigns import (
    campaign_progress, close_campaign, create_campaign, reopen_campaign,
)
from fpgrade.labelling.export import write_csv
from fpgrade.labelling.final import final_labels
from fpgrade.labelling.model import CampaignError, Outcome
from fpgrade.labelling.second_check import run_second_check
from fpgrade.labelling.workflow import (
    adjudication_case, adjudication_queue, decide, media_statuses, next_assignment,
)
from fpgrade.storage import database
from fpgrade.storage.tables import Assignment, FinalLabel, Media, MediaKind, Subject, Visit
from tests.labelling_helpers import users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture
from tests.test_labelling_workflow import label_pass

MOVEMENTS = ("MV2", "MV0", "MV1")   # stored out of order: the anchor is MV0 all the same


def add_visits(count: int, *, movements=MOVEMENTS, prefix: str = "S") -> list[list[int]]:
    """``count`` subjects with one visit each, one photo per movement; their media ids per visit
    (in the order stored)."""
    out = []
    with database.session() as session:
        for index in range(count):
            subject = Subject(code=f"{prefix}{index:03d}")
            session.add(subject)
            session.flush()
            visit = Visit(subject_id=subject.id, name="baseline")
            session.add(visit)
            session.flush()
            ids = []
            for movement in movements:
                media = Media(visit_id=visit.id, path=f"/data/{subject.code}_{movement}.jpg",
                              sha256=f"{subject.code}{movement}".ljust(64, "0"),
                              kind=MediaKind.IMAGE, movement=movement)
                session.add(media)
                session.flush()
                ids.append(media.id)
            out.append(ids)
        session.commit()
    return out


def anchor_of(visit: list[int]) -> int:
    return visit[MOVEMENTS.index("MV0")]


def test_a_visit_campaign_has_one_assignment_per_visit_showing_every_movement(registry):
    visits = add_visits(3)
    team = users(ann="labeller")
    with database.session() as session:
        c = create_campaign(session, "visits", "house_brackmann", registry=registry,
                            unit="visit", seed=1)
        assert c.unit == "visit"
        rows = session.exec(select(Assignment).where(Assignment.campaign_id == c.id)).all()
        assert sorted({a.media_id for a in rows}) == sorted(anchor_of(v) for v in visits)
        assert len(rows) == 2 * 3
        task = next_assignment(session, team["ann"], c.id)
    (visit,) = [v for v in visits if anchor_of(v) == task.media_id]
    assert [m.movement for m in task.unit_media] == ["MV0", "MV1", "MV2"]
    assert [m.media_id for m in task.unit_media] == [visit[1], visit[2], visit[0]]
    assert len({m.path.name.split("_")[0] for m in task.unit_media}) == 1   # one subject


def test_unit_is_checked_and_per_medium_campaigns_stay_as_before(registry):
    visits = add_visits(1)
    with database.session() as session:
        with pytest.raises(CampaignError, match="campaign unit 'subject'"):
            create_campaign(session, "bad", "house_brackmann", registry=registry, unit="subject")
        c = create_campaign(session, "media", "house_brackmann", registry=registry)
        assert c.unit == "medium"
        rows = session.exec(select(Assignment.media_id).where(
            Assignment.campaign_id == c.id)).all()
        assert sorted(set(rows)) == sorted(visits[0])
        assert campaign_progress(session, c.id).media == 3


def test_raters_disagree_on_a_visit_the_adjudicator_decides_every_medium_gets_the_label(
        registry):
    visits = add_visits(2)
    team = users(ann="labeller", bob="labeller", cara="adjudicator")
    first, second = (anchor_of(v) for v in visits)
    with database.session() as session:
        c = create_campaign(session, "visits", "house_brackmann", registry=registry,
                            unit="visit", seed=3)
    label_pass(team["ann"], c.id, {first: "II", second: "III"})
    label_pass(team["bob"], c.id, {first: "IV", second: "III"})
    with database.session() as session:
        statuses = media_statuses(session, c.id)
        assert set(statuses) == {first, second}          # one status per visit
        assert statuses[first].value == "adjudication"
        report = campaign_agreement(session, c.id, registry.scale("house_brackmann"))
        assert report.first_check == {"media": 2, "agreed": 1, "percent": 50.0}
        (case,) = adjudication_queue(session, team["cara"], c.id)
        assert case.media_id == first
        opened = adjudication_case(session, team["cara"], case.assignment_id)
        assert [m.media_id for m in opened.unit_media] == sorted(
            visits[0], key=lambda i: MOVEMENTS[visits[0].index(i)])
        decision = decide(session, team["cara"], case.assignment_id, label="III",
                          reason="the eye closes with effort on the closing photo")
        assert decision.label == "III"
        finals = {f.media_id: (f.label, f.method) for f in session.exec(select(FinalLabel)).all()}
    assert finals == {m: ("III", "adjudicated") for m in visits[0]}
    # the agreed visit: the second check measures its anchor (too few other agreed visits to
    # learn ranges from: undecided, so it goes to adjudication too)
    measured = []
    with database.session() as session:
        counts = run_second_check(session, c.id, indices_of=lambda path, kind: measured.append(
            path.name) or {"RgAs": .3, "AnAs": 2.0})
        assert measured == ["S001_MV0.jpg"] and dict(counts) == {Outcome.UNDECIDED: 1}
        (case,) = adjudication_queue(session, team["cara"], c.id)
        assert case.media_id == second
        decide(session, team["cara"], case.assignment_id, label="III", reason="agreed")
        finals = {f.media_id: f.label for f in session.exec(select(FinalLabel)).all()}
        progress = campaign_progress(session, c.id)
    assert finals == {m: "III" for v in visits for m in v}
    assert progress.media == 2 and progress.state == "closed"


def test_export_has_one_row_per_visit_with_the_media_it_covers(registry):
    visits = add_visits(1) + add_visits(1, prefix="T", movements=("MV0",))
    team = users(ann="labeller", bob="labeller", cara="adjudicator")
    anchors = [anchor_of(visits[0]), visits[1][0]]
    with database.session() as session:
        c = create_campaign(session, "visits", "house_brackmann", registry=registry,
                            unit="visit", seed=5)
    label_pass(team["ann"], c.id, {anchors[0]: "II", anchors[1]: "I"})
    label_pass(team["bob"], c.id, {anchors[0]: "V", anchors[1]: "II"})
    with database.session() as session:
        for case in adjudication_queue(session, team["cara"], c.id):
            decide(session, team["cara"], case.assignment_id,
                   label="II" if case.media_id == anchors[0] else "I", reason="looked again")
        records = final_labels(session, "house_brackmann")
        assert len(records) == 4 and {r.unit for r in records} == {"visit"}
        assert campaign_progress(session, c.id).state == "closed"   # every visit decided
    handle = io.StringIO()
    assert write_csv(records, handle) == 2
    rows = list(csv.DictReader(io.StringIO(handle.getvalue())))
    by_subject = {r["subject"]: r for r in rows}
    s = by_subject["S000"]
    assert (s["unit"], s["label"], s["visit"]) == ("visit", "II", "baseline")
    assert s["movement"] == "MV0;MV1;MV2" and int(s["media_id"]) == anchors[0]
    assert sorted(map(int, s["covers_media"].split(";"))) == sorted(visits[0])
    t = by_subject["T000"]      # a visit with one movement: a unit of one
    assert (t["covers_media"], t["label"], t["movement"]) == (str(visits[1][0]), "I", "MV0")


def test_a_visit_campaign_keeps_its_other_movements_out_of_other_campaigns(registry):
    visits = add_visits(1)
    with database.session() as session:
        c = create_campaign(session, "visits", "house_brackmann", registry=registry,
                            unit="visit")
        with pytest.raises(CampaignError, match="no medium to label"):
            create_campaign(session, "again", "house_brackmann", registry=registry,
                            movements=["MV1"])
        close_campaign(session, c.id)
        other = create_campaign(session, "mv1", "house_brackmann", registry=registry,
                                movements=["MV1"])
        assert other.unit == "medium"
        with pytest.raises(CampaignError, match="cannot reopen.*'mv1'"):
            reopen_campaign(session, c.id)
    assert visits


def test_the_command_line_creates_a_visit_campaign_and_refuses_a_bad_unit(capsys, registry):
    from tests.test_labelling_cli import run

    add_visits(2)
    code, _, err = run(capsys, "campaign", "create", "x", "--scale", "house_brackmann",
                       "--unit", "patient")
    assert code == 1 and "campaign unit 'patient': choose medium or visit" in err
    assert err.count("\n") == 1
    code, out, _ = run(capsys, "campaign", "create", "x", "--scale", "house_brackmann",
                       "--unit", "visit")
    assert code == 0 and "one grade per visit" in out
    code, out, _ = run(capsys, "campaign", "status", "x")
    assert "campaign x: 2 visits, 0/4 assignments done" in out


def test_a_visit_campaign_is_not_pushed_to_label_studio(registry, tmp_path):
    """A Label Studio task shows one medium: pushing a per-subject campaign is refused before
    any request (no server is needed to see it)."""
    from fpgrade.sync.config import LabelConfigError
    from fpgrade.sync.push import push_campaign

    add_visits(1)
    with database.session() as session:
        create_campaign(session, "visits", "house_brackmann", registry=registry, unit="visit")
        with pytest.raises(LabelConfigError, match="one grade per subject's visit"):
            push_campaign(session, None, registry, "visits", files_root=tmp_path)
