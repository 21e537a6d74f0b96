"""A campaign's life (issue 20): an admin closes it when done and reopens it (both audited); it
closes itself when every medium is decided, and the progress page says so; a closed campaign
leaves the raters' lists. Also: the shared opening checks of a blind write refuse a change of
label in a closed campaign exactly as they refuse a submit."""

from __future__ import annotations

import pytest

from fpgrade.labelling import audit
from fpgrade.labelling.campaigns import (
    campaign_progress, close_campaign, create_campaign, reopen_campaign,
)
from fpgrade.labelling.model import CampaignError, LabellingError, PermissionDeniedError
from fpgrade.labelling.revise import change_label
from fpgrade.labelling.workflow import (
    adjudication_queue, decide, next_assignment, submit_label,
)
from fpgrade.storage import database
from tests.labelling_helpers import add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture


@pytest.fixture
def team():
    return users(ann="labeller", bob="labeller", cara="adjudicator", dan="admin")


def _campaign(registry, name="c1"):
    with database.session() as session:
        return create_campaign(session, name, "house_brackmann", registry=registry, seed=1)


def _label(session, team, c, ann, bob):
    """Both blind passes of every medium: ``ann`` and ``bob`` map media id -> label."""
    for user, labels in (("ann", ann), ("bob", bob)):
        while (task := next_assignment(session, team[user], c.id)) is not None:
            submit_label(session, team[user], task.assignment_id, label=labels[task.media_id])


def test_an_admin_closes_and_reopens_a_campaign_and_the_raters_lists_follow(team, registry):
    from fpgrade_ui.labelling_handlers import open_campaigns

    add_media(1)
    c = _campaign(registry)
    assert [v for _, v in open_campaigns(team["ann"])] == [c.id]
    with database.session() as session:
        with pytest.raises(PermissionDeniedError):
            close_campaign(session, c.id, by=team["cara"])
        close_campaign(session, c.id, by=team["dan"])
        with pytest.raises(CampaignError, match="closed already"):
            close_campaign(session, c.id, by=team["dan"])
    assert open_campaigns(team["ann"]) == []
    with database.session() as session:
        assert campaign_progress(session, c.id, by=team["dan"]).closed.startswith(
            "closed by dan on ")
        with pytest.raises(PermissionDeniedError):
            reopen_campaign(session, c.id, by=team["ann"])
        assert reopen_campaign(session, c.id, by=team["dan"]).state == "open"
        with pytest.raises(CampaignError, match="open already"):
            reopen_campaign(session, c.id, by=team["dan"])
        assert [(e.actor, e.action) for e in audit.events(session, campaign_id=c.id)
                if e.action in ("campaign_close", "campaign_reopen")] == [
            ("dan", "campaign_close"), ("dan", "campaign_reopen")]
        assert campaign_progress(session, c.id, by=team["dan"]).closed is None
    assert [v for _, v in open_campaigns(team["ann"])] == [c.id]


def test_a_campaign_closes_itself_when_every_medium_is_decided(team, registry):
    from fpgrade_ui.labelling_progress import progress

    first, second = add_media(2)
    c = _campaign(registry)
    with database.session() as session:
        _label(session, team, c, {first: "II", second: "III"}, {first: "III", second: "IV"})
        one, two = adjudication_queue(session, team["cara"], c.id)
        decide(session, team["cara"], one.assignment_id, label="III", reason="forehead moves")
        assert campaign_progress(session, c.id).state == "open"   # one medium still open
        # an excluded medium is decided too (it never gets a final label)
        decide(session, team["cara"], two.assignment_id, cannot_grade="bad_photo",
               reason="blurred")
        shown = campaign_progress(session, c.id, by=team["dan"])
        assert shown.state == "closed" and shown.closed.startswith("closed by itself on ")
        [event] = audit.events(session, campaign_id=c.id, action="campaign_close")
        assert event.actor == "cara" and event.details["auto"] is True
        with pytest.raises(CampaignError, match="closed"):
            next_assignment(session, team["ann"], c.id)
    page = progress(team["dan"], c.id)
    assert "This campaign is closed" in page and "closed by itself" in page
    assert "every medium has a final label" in page


def test_reopening_is_refused_while_its_media_are_in_another_open_campaign(team, registry):
    add_media(1)
    c = _campaign(registry)
    with database.session() as session:
        close_campaign(session, c.id, by=team["dan"])
    other = _campaign(registry, "c2")   # the undecided medium is free again: taken here
    with database.session() as session:
        with pytest.raises(CampaignError, match="c2"):
            reopen_campaign(session, c.id, by=team["dan"])
        close_campaign(session, other.id, by=team["dan"])
        assert reopen_campaign(session, c.id, by=team["dan"]).state == "open"


def test_a_change_of_label_meets_the_same_opening_checks_as_a_submit(team, registry):
    [medium] = add_media(1)
    c = _campaign(registry)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        submit_label(session, team["ann"], task.assignment_id, label="II")
        for call in (lambda **kw: submit_label(session, team["ann"], task.assignment_id, **kw),
                     lambda **kw: change_label(session, team["ann"], task.assignment_id, **kw)):
            with pytest.raises(LabellingError, match="either a label or a reason"):
                call(label="II", cannot_grade="bad_photo")
            with pytest.raises(LabellingError, match="not one of"):
                call(cannot_grade="sleepy")
        close_campaign(session, c.id, by=team["dan"])
        for call in (lambda: submit_label(session, team["ann"], task.assignment_id, label="I"),
                     lambda: change_label(session, team["ann"], task.assignment_id, label="I")):
            with pytest.raises(CampaignError, match="closed"):
                call()
