"""Issue 20's core rules: a skipped medium never returns to the same rater in the campaign (in no
pass), a rater changes her own label until the medium's check has run (audited, the first check
run again), the duplicate submit reports what was really stored, the adjudication queue names
subject, movement and both passes."""

from __future__ import annotations

import pytest

from fpgrade.labelling import audit
from fpgrade.labelling.campaigns import create_campaign
from fpgrade.labelling.model import AssignmentError, Status
from fpgrade.labelling.revise import TooLateError, change_label, my_changeable
from fpgrade.labelling.second_check import run_second_check
from fpgrade.labelling.workflow import (
    adjudication_queue, decide, media_statuses, next_assignment, skip_assignment, submit_label,
)
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture


@pytest.fixture
def team():
    return users(ann="labeller", bob="labeller", cara="adjudicator", dan="admin")


def campaign(registry, **options):
    with database.session() as session:
        options.setdefault("allow_same_rater", True)
        return create_campaign(session, "c1", "house_brackmann", registry=registry, seed=1,
                               min_gap_s=0, **options)


def test_a_skipped_medium_never_returns_to_the_same_rater_in_any_pass(team, registry):
    add_media(1)
    # one rater may take both passes of a medium here: the old rule gave the skipped medium
    # back to her as its other pass
    c = campaign(registry, blind_passes=2)
    with database.session() as session:
        first = next_assignment(session, team["ann"], c.id)
        skip_assignment(session, team["ann"], first.assignment_id)
        assert next_assignment(session, team["ann"], c.id) is None
        # bob still gets both passes of it, one after the other
        got = next_assignment(session, team["bob"], c.id)
        assert got.media_id == first.media_id
        submit_label(session, team["bob"], got.assignment_id, label="II")
        again = next_assignment(session, team["bob"], c.id)
        assert again.media_id == first.media_id and again.assignment_id != got.assignment_id
        assert next_assignment(session, team["ann"], c.id) is None


def _both_passes(session, team, c, ann_label, bob_label):
    a = next_assignment(session, team["ann"], c.id)
    first = submit_label(session, team["ann"], a.assignment_id, label=ann_label, note="first")
    b = next_assignment(session, team["bob"], c.id)
    submit_label(session, team["bob"], b.assignment_id, label=bob_label)
    return a, b, first


def test_a_label_changes_until_the_check_has_run(team, registry):
    [medium] = add_media(1)
    c = campaign(registry, blind_passes=2, allow_same_rater=False)
    with database.session() as session:
        a, b, first = _both_passes(session, team, c, "III", "II")
        assert first.label == "III"
        assert media_statuses(session, c.id)[medium] is Status.ADJUDICATION
        assert [q.media_id for q in adjudication_queue(session, team["cara"], c.id)] == [medium]
        # bob may not change ann's label
        with pytest.raises(AssignmentError):
            change_label(session, team["bob"], a.assignment_id, label="II")
        # ann changes hers to II: the passes agree now, the adjudication is withdrawn
        changed = change_label(session, team["ann"], a.assignment_id, label="ii", note="looked again")
        assert changed.label == "II" and changed.status is Status.AWAITING_CHECK
        assert adjudication_queue(session, team["cara"], c.id) == []
        [event] = audit.events(session, campaign_id=c.id, action="change_label")
        assert event.actor == "ann"
        assert (event.details["label_before"], event.details["label"]) == ("III", "II")
        assert audit.events(session, campaign_id=c.id, action="adjudication_withdrawn")
        assert [x.media_id for x in my_changeable(session, team["ann"], c.id)] == [medium]
        # back to a disagreement: the adjudication opens again
        change_label(session, team["ann"], a.assignment_id, label="IV")
        assert session.get(Annotation, first.annotation_id).note == "looked again"  # kept
        assert [q.media_id for q in adjudication_queue(session, team["cara"], c.id)] == [medium]
        change_label(session, team["ann"], a.assignment_id, label="II")
        run_second_check(session, c.id, by=team["dan"], partial=True)
        with pytest.raises(TooLateError, match="second check has run"):
            change_label(session, team["ann"], a.assignment_id, label="III")
        assert my_changeable(session, team["ann"], c.id) == []


def test_no_change_after_the_adjudicator_decided(team, registry):
    media = add_media(2)   # the other medium keeps the campaign open (it would close itself)
    c = campaign(registry, blind_passes=2, allow_same_rater=False)
    labels = {"ann": {media[0]: "III", media[1]: "II"}, "bob": {media[0]: "II", media[1]: "II"}}
    with database.session() as session:
        mine = {}
        for user in ("ann", "bob"):
            while (task := next_assignment(session, team[user], c.id)) is not None:
                submit_label(session, team[user], task.assignment_id,
                             label=labels[user][task.media_id])
                mine[user, task.media_id] = task.assignment_id
        [case] = adjudication_queue(session, team["cara"], c.id)
        decide(session, team["cara"], case.assignment_id, label="III", reason="forehead moves")
        with pytest.raises(TooLateError, match="decided already"):
            change_label(session, team["bob"], mine["bob", media[0]], label="III")


def test_the_duplicate_submit_reports_the_first_submit_and_the_queue_says_what_disagreed(
        team, registry):
    [medium] = add_media(1, movement="MV1")
    c = campaign(registry, blind_passes=2, allow_same_rater=False)
    with database.session() as session:
        a = next_assignment(session, team["ann"], c.id)
        submit_label(session, team["ann"], a.assignment_id, label="III")
        again = submit_label(session, team["ann"], a.assignment_id, label="I")
        assert again.duplicate and again.label == "III"
        b = next_assignment(session, team["bob"], c.id)
        submit_label(session, team["bob"], b.assignment_id, cannot_grade="bad_photo",
                     note="blurred <b>eyes</b>")
        [item] = adjudication_queue(session, team["cara"], c.id)
        assert (item.subject, item.movement) == ("P000", "MV1")
        assert [(p.annotator, p.label, p.cannot_grade, p.note) for p in item.passes] == \
            [("ann", "III", None, None), ("bob", None, "bad_photo", "blurred <b>eyes</b>")]


def test_per_labeller_figures_against_the_final_labels(team, registry):
    from datetime import timedelta

    from sqlmodel import select

    from fpgrade.labelling.raters import labeller_figures
    from fpgrade.storage.tables import Assignment, utcnow

    media = add_media(3)
    c = campaign(registry, blind_passes=2, allow_same_rater=False)
    ann = {media[0]: "I", media[1]: "III", media[2]: "IV"}
    bob = {media[0]: "I", media[1]: "III", media[2]: "V"}
    with database.session() as session:
        for user, labels in [("ann", ann), ("bob", bob)]:
            while (task := next_assignment(session, team[user], c.id)) is not None:
                submit_label(session, team[user], task.assignment_id,
                             label=labels[task.media_id])
        # known times per item: ann 10, 20, 30 s; bob 5 s each
        start = utcnow() - timedelta(hours=1)
        for row in session.exec(select(Assignment).where(Assignment.pass_kind == "blind")).all():
            ours = row.user_id == team["ann"].id
            row.claimed_at = start
            row.done_at = start + timedelta(seconds=10 * (media.index(row.media_id) + 1)
                                            if ours else 5)
            session.add(row)
        session.commit()
        [case] = adjudication_queue(session, team["cara"], c.id)
        decide(session, team["cara"], case.assignment_id, label="IV", reason="forehead moves")
        figures = {f.rater: f for f in labeller_figures(session, c.id, registry.scale(
            "house_brackmann").codes, by=team["dan"])}
    assert (figures["ann"].items, figures["ann"].median_seconds) == (3, 20.0)
    assert (figures["bob"].items, figures["bob"].median_seconds) == (3, 5.0)
    # one final label (IV, adjudicated); the agreed media await the second check
    assert (figures["ann"].with_final, figures["ann"].accuracy) == (1, 1.0)
    assert (figures["bob"].with_final, figures["bob"].accuracy) == (1, 0.0)
    assert figures["ann"].kappa is None  # one class only: kappa undefined
