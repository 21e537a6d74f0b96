"""The core under Label Studio's lifecycle (issue 17): withdrawing or relabelling a pass
reopens every decision that rested on it, audited, and nothing else (no server needed)."""

from __future__ import annotations

from sqlmodel import select

from fpgrade.labelling.campaigns import create_campaign
from fpgrade.labelling.final import final_labels
from fpgrade.labelling.withdraw import relabel_pass, withdraw_pass
from fpgrade.labelling.workflow import adjudication_queue, decide, media_statuses
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, Assignment, AuditEvent
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture
from tests.test_labelling_workflow import label_pass


def _blind(session, medium: int, annotator: str) -> Annotation:
    return session.exec(select(Annotation).where(Annotation.media_id == medium,
                                                 Annotation.annotator == annotator)).one()


def test_withdrawing_a_pass_reopens_the_adjudicated_final_label_it_rested_on(registry):
    team = users(ann="labeller", bob="labeller", cara="adjudicator")
    first, other = add_media(2)
    with database.session() as session:
        c = create_campaign(session, "c", "sided7", registry=registry)
    label_pass(team["ann"], c.id, {first: "L1", other: "N"})
    label_pass(team["bob"], c.id, {first: "L3", other: "R1"})
    with database.session() as session:
        for case in adjudication_queue(session, team["cara"], c.id):
            decide(session, team["cara"], case.assignment_id, label="L1" if case.media_id == first
                   else "N", reason="read again")
        assert {r.media_id: r.label for r in final_labels(session, "sided7")} == {first: "L1", other: "N"}

        withdrawn = _blind(session, first, "bob")
        reopened = withdraw_pass(session, withdrawn.id, "label-studio-sync", "deleted in Label Studio")
        session.commit()
        assert reopened[0].startswith("blind pass") and any("final label L1" in r for r in reopened)
        assert any("adjudication decided by cara" in r for r in reopened)
        assert any("it had closed itself" in r for r in reopened)   # every medium was decided
        assert {r.media_id: r.label for r in final_labels(session, "sided7")} == {other: "N"}  # only it
        assert media_statuses(session, c.id)[first].value == "blind"
        assert adjudication_queue(session, team["cara"], c.id) == []
        assert session.exec(select(Assignment).where(Assignment.media_id == first,
                                                     Assignment.state == "open")).one()
        events = {e.action: e for e in session.exec(select(AuditEvent)).all()}
        assert events["pass_withdrawn"].details["annotation"]["label"] == "L3"
        assert events["final_label_reopened"].details["final_label"]["label"] == "L1"
        assert events["adjudication_reopened"].details["decision"]["annotator"] == "cara"
        assert session.get(Annotation, withdrawn.id) is None

    label_pass(team["bob"], c.id, {first: "L1"})  # the pass is open again: redone, agreed
    with database.session() as session:
        assert media_statuses(session, c.id)[first].value == "awaiting_check"


def test_relabelling_a_pass_runs_the_first_check_again(registry):
    team = users(ann="labeller", bob="labeller")
    (medium,) = add_media(1)
    with database.session() as session:
        c = create_campaign(session, "c", "sided7", registry=registry)
    label_pass(team["ann"], c.id, {medium: "R2"})
    label_pass(team["bob"], c.id, {medium: "R2"})
    with database.session() as session:
        assert media_statuses(session, c.id)[medium].value == "awaiting_check"
        assert relabel_pass(session, _blind(session, medium, "bob").id, "R2", "x", "same") == []
        relabel_pass(session, _blind(session, medium, "bob").id, "R3", "x", "edited")
        session.commit()
        assert media_statuses(session, c.id)[medium].value == "adjudication"
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "pass_relabelled")).one()
        assert (event.details["from"], event.details["to"]) == ("R2", "R3")
