"""The triple-check state machine as plain functions: every transition and every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from fpgrade.errors import UnknownLabelError
from fpgrade.labelling import audit
from fpgrade.labelling.agreement import campaign_agreement
from fpgrade.labelling.campaigns import campaign_progress, close_campaign, create_campaign
from fpgrade.labelling.model import (
    AlreadyDecidedError, AssignmentError, AssignmentLostError, AuthenticationError,
    CampaignError, LabellingError, PermissionDeniedError, Status, SuggestionNotAllowedError,
    UserExistsError,
)
from fpgrade.labelling.second_check import run_second_check
from fpgrade.labelling.state import PassLabel, first_check, may_show_suggestion, medium_status
from fpgrade.labelling.users import (
    add_user, authenticate, require, require_role, set_disabled,
)
from fpgrade.labelling.workflow import (
    Suggestion, adjudication_case, adjudication_queue, decide, media_statuses, next_assignment,
    skip_assignment, submit_label,
)
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, FinalLabel, Prediction, User, utcnow
from tests.labelling_helpers import PASSWORD, add_media, users
from tests.labelling_helpers import fast_password_hashes  # noqa: F401 - autouse fixture


def _prediction(session, media_id, version, label, probabilities=None):
    """A stored prediction of the registered version named ``version`` (registered if new)."""
    from fpgrade.storage.tables import ModelVersion

    row = session.exec(select(ModelVersion).where(ModelVersion.version == version)).first()
    if row is None:
        model = version.rsplit("-", 1)[0]
        row = ModelVersion(model_id=model, version=version, scale="sided7",
                           weights_sha256="0" * 64, weights_path="/nowhere.safetensors")
        session.add(row)
        session.flush()
    session.add(Prediction(media_id=media_id, model_version_id=row.id, scale="sided7", label=label,
                           probabilities=probabilities or {}))


@pytest.fixture
def team():
    return users(ann="labeller", bob="labeller", cara="adjudicator", dan="admin", eve="clinician")


def campaign(registry, **options):
    with database.session() as session:
        return create_campaign(session, options.pop("name", "c1"), "sided7", registry=registry,
                               seed=1, **options)


def label_pass(user, campaign_id, labels: dict[int, str], **options) -> list:
    """Claim and submit assignments of ``user`` until it has labelled the given media once."""
    results, todo = [], dict(labels)
    with database.session() as session:
        while todo:
            task = next_assignment(session, user, campaign_id, **options)
            assert task is not None, f"{user.name} got nothing; left {todo}"
            assert task.media_id in todo
            results.append(submit_label(session, user, task.assignment_id,
                                        label=todo.pop(task.media_id)))
    return results


def statuses(campaign_id):
    with database.session() as session:
        return media_statuses(session, campaign_id)


def finals():
    with database.session() as session:
        return {(f.media_id, f.scale): (f.label, f.method)
                for f in session.exec(select(FinalLabel)).all()}


# -- pure rules ----------------------------------------------------------------------------

def test_first_check_and_status_rules():
    l1, l2 = PassLabel("L1"), PassLabel("L2")
    assert first_check([l1, l1], 2) == "L1"
    assert first_check([l1], 2) is None and first_check([l1, l2], 2) is None
    assert first_check([l1, PassLabel(None, "bad_photo")], 2) is None
    assert medium_status([l1], 2) is Status.BLIND
    assert medium_status([l1, l2], 2) is Status.ADJUDICATION
    assert medium_status([l1, l1], 2) is Status.AWAITING_CHECK
    assert medium_status([l1, l1], 2, "agree", final=True) is Status.FINAL
    assert medium_status([l1, l1], 2, "disagree") is Status.ADJUDICATION
    assert medium_status([l1, l1], 2, "undecided") is Status.ADJUDICATION
    assert medium_status([l1, l2], 2, adjudication=PassLabel(None, "bad_photo")) is Status.EXCLUDED
    assert medium_status([l1, l2], 2, adjudication=PassLabel("L2"), final=True) is Status.FINAL
    assert may_show_suggestion("adjudication", False) and not may_show_suggestion("blind", False)
    assert may_show_suggestion("blind", True) and not may_show_suggestion("imported", True)


# -- users and roles -----------------------------------------------------------------------

def test_passwords_are_argon2_hashes_and_logins_fail_alike(team):
    with database.session() as session:
        stored = session.exec(select(User).where(User.name == "ann")).one()
        assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
        assert authenticate(session, "ann", PASSWORD).role == "labeller"
        messages = set()
        for name, password in (("ann", "wrong password"), ("nobody", PASSWORD)):
            with pytest.raises(AuthenticationError) as caught:
                authenticate(session, name, password)
            messages.add(str(caught.value))
        set_disabled(session, "bob")
        with pytest.raises(AuthenticationError) as caught:
            authenticate(session, "bob", PASSWORD)
        messages.add(str(caught.value))
        assert len(messages) == 1  # no hint which part was wrong
        assert not any(PASSWORD in str(e.details) for e in audit.events(session))


@pytest.mark.parametrize(("name", "password", "role", "error"), [
    ("ann", PASSWORD, "labeller", UserExistsError),
    ("new", "short", "labeller", LabellingError),
    ("new", PASSWORD, "surgeon", LabellingError),
    ("Jane Doe", PASSWORD, "labeller", LabellingError),  # a login, not a person's name
])
def test_bad_accounts_are_refused(team, name, password, role, error):
    with database.session() as session, pytest.raises(error):
        add_user(session, name, password, role)


def test_roles_are_checked_by_one_function(team):
    with database.session() as session:
        for user, allowed in ((team["ann"], {"label"}),
                              (team["cara"], {"label", "adjudicate", "view"}),
                              (team["eve"], {"view"}),
                              (team["dan"], {"label", "adjudicate", "view", "admin"})):
            for action in ("label", "adjudicate", "view", "admin"):
                if action in allowed:
                    require(session, user, action)
                else:
                    with pytest.raises(PermissionDeniedError):
                        require(session, user, action)
        require_role(session, team["cara"], "adjudicator")
        require_role(session, team["dan"], "adjudicator")  # admin passes every role check
        with pytest.raises(PermissionDeniedError):
            require_role(session, team["ann"], "adjudicator")
        with pytest.raises(PermissionDeniedError):
            add_user(session, "mallory", PASSWORD, "admin", by=team["ann"])
        set_disabled(session, "cara")
        with pytest.raises(PermissionDeniedError):  # a disabled account is refused at once
            require(session, team["cara"], "label")


def test_a_labeller_cannot_reach_adjudication_or_admin_functions(team, registry):
    add_media(2)
    c = campaign(registry)
    label_pass(team["ann"], c.id, {1: "L1", 2: "L1"})
    label_pass(team["bob"], c.id, {1: "L2", 2: "L1"})
    with database.session() as session:
        (case,) = adjudication_queue(session, team["cara"], c.id)
        for call in (lambda: adjudication_queue(session, team["ann"]),
                     lambda: adjudication_case(session, team["ann"], case.assignment_id),
                     lambda: decide(session, team["ann"], case.assignment_id, label="L1", reason="x"),
                     lambda: run_second_check(session, c.id, by=team["ann"], indices_of=None),
                     lambda: create_campaign(session, "c2", "sided7", registry=registry,
                                             by=team["ann"]),
                     lambda: next_assignment(session, team["eve"], c.id)):  # clinicians view only
            with pytest.raises(PermissionDeniedError):
                call()


# -- campaigns -----------------------------------------------------------------------------

def test_a_campaign_makes_one_shuffled_assignment_per_medium_and_pass(team, registry):
    add_media(6)
    add_media(2, synthetic=True, prefix="S")
    c = campaign(registry, blind_passes=2)
    with database.session() as session:
        progress = campaign_progress(session, c.id)
        assert (progress.media, progress.assignments_total) == (6, 12)  # synthetic left out
        assert progress.statuses[Status.BLIND] == 6
        with pytest.raises(CampaignError, match="exists already"):
            create_campaign(session, "c1", "sided7", registry=registry)
        with pytest.raises(CampaignError, match="no medium"):  # all in the open campaign
            create_campaign(session, "c2", "sided7", registry=registry)
        with pytest.raises(CampaignError, match="blind passes"):
            create_campaign(session, "c3", "sided7", registry=registry, blind_passes=1)


# -- the first check -----------------------------------------------------------------------

def test_two_raters_agree_then_the_second_check_makes_the_label_final(team, registry):
    media = add_media(5)
    c = campaign(registry)
    label_pass(team["ann"], c.id, {m: "L2" for m in media})
    assert set(statuses(c.id).values()) == {Status.BLIND}
    results = label_pass(team["bob"], c.id, {m: "L2" for m in media})
    assert {r.status for r in results} == {Status.AWAITING_CHECK}
    assert finals() == {}  # a blind pass is never final on its own
    indices = {f"/data/P{i:03d}_MV0.jpg": {"RgAs": 0.2 + i / 100, "AnAs": 3.0} for i in range(5)}
    indices["/data/P004_MV0.jpg"] = {"RgAs": 0.9, "AnAs": 3.0}  # outside the others' range
    with database.session() as session:
        counts = run_second_check(session, c.id, indices_of=lambda path, kind: indices[str(path)])
        # leave-one-out: P000 (0.20) is below the range of the others (0.21-0.90): the ends of a
        # class go to adjudication; P004 (0.90) is far above 0.20-0.23
        assert dict(counts) == {"agree": 3, "disagree": 2}
        again = run_second_check(session, c.id, indices_of=lambda path, kind: indices[str(path)])
        assert sum(again.values()) == 0  # checked once
    assert [statuses(c.id)[m] for m in media] == [Status.ADJUDICATION, Status.FINAL, Status.FINAL,
                                                   Status.FINAL, Status.ADJUDICATION]
    methods = {label_method for label_method in finals().values()}
    assert methods == {("L2", "agreed_checked")}


def test_leave_one_out_ranges_and_too_few_samples_are_undecided():
    from fpgrade.labelling.checks import Sample, check_with_ranges

    samples = [Sample(i, "MV0", "L1", {"RgAs": 0.1 * i, "AnAs": 1.0}) for i in range(1, 5)]
    inside = check_with_ranges(2, "MV0", "L1", {"RgAs": 0.2, "AnAs": 1.0}, samples)
    assert inside.outcome == "agree" and inside.ranges["RgAs"] == [0.1, 0.4]  # (0.1, 0.3, 0.4)
    edge = check_with_ranges(4, "MV0", "L1", {"RgAs": 0.4, "AnAs": 1.0}, samples)
    assert edge.outcome == "disagree" and "RgAs 0.400 outside [0.100, 0.300]" in edge.reason
    few = check_with_ranges(9, "MV1", "L1", {"RgAs": 0.2, "AnAs": 1.0}, samples)
    assert few.outcome == "undecided" and few.ranges["n"] == 0
    none = check_with_ranges(9, "MV0", "L1", None, samples)
    assert none.outcome == "undecided"


def test_a_disagreement_goes_to_adjudication_and_is_decided_once(team, registry):
    media = add_media(2)
    c = campaign(registry)
    label_pass(team["ann"], c.id, {media[0]: "L1", media[1]: "N"})
    label_pass(team["bob"], c.id, {media[0]: "L3", media[1]: "N"})
    assert statuses(c.id) == {media[0]: Status.ADJUDICATION, media[1]: Status.AWAITING_CHECK}
    with database.session() as session:
        _prediction(session, media[0], "idfnp-abc", "L3", {"L3": 0.8})
        session.commit()
        (case,) = adjudication_queue(session, team["cara"], c.id)
        view = adjudication_case(session, team["cara"], case.assignment_id)
        assert [(p.annotator, p.label) for p in view.passes] == [("ann", "L1"), ("bob", "L3")]
        assert view.suggestion == Suggestion("idfnp-abc", "L3", 0.8)
        with pytest.raises(LabellingError, match="reason"):
            decide(session, team["cara"], case.assignment_id, label="L3", reason=" ")
        final = decide(session, team["cara"], case.assignment_id, label="L3", reason="brow clearly weak",
                       suggestion=view.suggestion)
        assert (final.label, final.decided_by) == ("L3", "cara")
        with pytest.raises(AlreadyDecidedError, match="decided already by cara"):
            decide(session, team["dan"], case.assignment_id, label="L1", reason="second opinion")
        stored = session.exec(select(Annotation).where(Annotation.pass_kind == "adjudication")).one()
        assert stored.suggestion_shown and stored.suggestion_accepted
        assert stored.suggestion_model_version == "idfnp-abc"
        assert adjudication_queue(session, team["cara"], c.id) == []
    assert finals()[(media[0], "sided7")] == ("L3", "adjudicated")
    assert statuses(c.id)[media[0]] is Status.FINAL


def test_cannot_grade_goes_to_adjudication_which_may_exclude_the_medium(team, registry):
    (medium,) = add_media(1)
    c = campaign(registry)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        with pytest.raises(LabellingError):  # a label and a reason at once
            submit_label(session, team["ann"], task.assignment_id, label="L1",
                         cannot_grade="bad_photo")
        with pytest.raises(LabellingError, match="cannot-grade reason"):
            submit_label(session, team["ann"], task.assignment_id, cannot_grade="blurry-ish")
        with pytest.raises(UnknownLabelError, match="not in scale"):
            submit_label(session, team["ann"], task.assignment_id, label="VII")
        submit_label(session, team["ann"], task.assignment_id, cannot_grade="bad_photo",
                     note="out of focus")
    label_pass(team["bob"], c.id, {medium: "L1"})
    with database.session() as session:
        (case,) = adjudication_queue(session, team["cara"], c.id)
        assert decide(session, team["cara"], case.assignment_id, cannot_grade="bad_photo",
                      reason="blurred").label is None
    assert statuses(c.id) == {medium: Status.EXCLUDED} and finals() == {}


def test_model_check_uses_the_stored_prediction_of_its_version(team, registry):
    media = add_media(3)
    c = campaign(registry, check_model_version="asymmetry_classifier-0123456789ab")
    label_pass(team["ann"], c.id, {m: "R1" for m in media})
    label_pass(team["bob"], c.id, {m: "R1" for m in media})
    with database.session() as session:
        for medium, label in ((media[0], "R1"), (media[1], "L1")):
            _prediction(session, medium, "asymmetry_classifier-0123456789ab", label)
        session.commit()
        counts = run_second_check(session, c.id, indices_of=None)
    assert dict(counts) == {"agree": 1, "disagree": 1, "undecided": 1}
    assert statuses(c.id) == {media[0]: Status.FINAL, media[1]: Status.ADJUDICATION,
                              media[2]: Status.ADJUDICATION}


# -- claiming, skipping, submitting --------------------------------------------------------

def test_one_rater_never_gets_two_passes_of_a_medium_unless_allowed(team, registry):
    media = add_media(2)
    c = campaign(registry)
    label_pass(team["ann"], c.id, {m: "N" for m in media})
    with database.session() as session:
        assert next_assignment(session, team["ann"], c.id) is None


def test_one_rater_twice_only_after_the_gap(team, registry):
    media = add_media(2)
    c = campaign(registry, allow_same_rater=True, min_gap_s=3600)
    label_pass(team["ann"], c.id, {m: "N" for m in media})
    with database.session() as session:
        assert next_assignment(session, team["ann"], c.id) is None
    later = utcnow() + timedelta(hours=2)
    results = label_pass(team["ann"], c.id, {m: "N" for m in media}, now=later)
    assert {r.status for r in results} == {Status.AWAITING_CHECK}


def test_the_next_medium_is_found_past_many_the_rater_may_not_take(team, registry):
    """More media than one batch of candidates (CANDIDATES) that the rater may not take yet
    (her first pass is within the gap) come first in the queue: the one she may take, last in
    the queue, is still found; and then nothing."""
    from fpgrade.labelling.workflow import CANDIDATES
    from fpgrade.storage.tables import Assignment

    media = add_media(CANDIDATES + 5)
    c = campaign(registry, allow_same_rater=True, min_gap_s=3600)
    with database.session() as session:
        second = session.exec(select(Assignment).where(
            Assignment.campaign_id == c.id, Assignment.pass_number == 2)
            .order_by(Assignment.order_key, Assignment.id)).all()
        last = second[-1].media_id                  # bob did its first pass, ann all others
        for row in session.exec(select(Assignment).where(Assignment.campaign_id == c.id,
                                                         Assignment.pass_number == 1)).all():
            row.state, row.done_at = "done", utcnow()
            row.user_id = team["bob" if row.media_id == last else "ann"].id
            session.add(row)
        session.commit()
        task = next_assignment(session, team["ann"], c.id)
        assert (task.media_id, task.pass_number) == (last, 2)
        assert len(media) > CANDIDATES and next_assignment(session, team["ann"], c.id
                                                           ).media_id == last   # she holds it


def test_a_double_submit_stores_once_and_a_foreign_submit_is_refused(team, registry):
    add_media(1)
    c = campaign(registry)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        assert next_assignment(session, team["ann"], c.id).assignment_id == task.assignment_id
        with pytest.raises(AssignmentLostError):
            submit_label(session, team["bob"], task.assignment_id, label="L1")
        first = submit_label(session, team["ann"], task.assignment_id, label="L1")
        again = submit_label(session, team["ann"], task.assignment_id, label="L1")
        assert again.duplicate and again.annotation_id == first.annotation_id
        assert len(session.exec(select(Annotation)).all()) == 1
        with pytest.raises(AssignmentLostError):
            submit_label(session, team["bob"], task.assignment_id, label="L2")
        with pytest.raises(AssignmentError):
            submit_label(session, team["ann"], 999, label="L1")


def test_skip_and_an_expired_claim(team, registry):
    media = add_media(2)
    c = campaign(registry)
    with database.session() as session:
        first = next_assignment(session, team["ann"], c.id)
        skip_assignment(session, team["ann"], first.assignment_id)
        with pytest.raises(AssignmentError):
            skip_assignment(session, team["ann"], first.assignment_id)
        second = next_assignment(session, team["ann"], c.id)
        assert second.assignment_id != first.assignment_id  # not offered again to ann
        # bob takes over ann's claim once its lease has run out; ann's submit is then refused
        later = utcnow() + timedelta(hours=1)
        taken = [next_assignment(session, team["bob"], c.id, now=later) for _ in range(1)]
        assert taken[0].media_id in media
        assert len(audit.events(session, campaign_id=c.id, action="skip")) == 1


def test_an_expired_claim_is_taken_over_and_the_late_submit_refused(team, registry):
    add_media(1)
    c = campaign(registry, blind_passes=2)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        other = next_assignment(session, team["bob"], c.id)
        assert other.assignment_id != task.assignment_id and other.media_id == task.media_id
        set_disabled(session, "bob", False)
    add_user_and_take = users(finn="labeller")["finn"]
    with database.session() as session:
        assert next_assignment(session, add_user_and_take, c.id) is None  # all claimed
        later = utcnow() + timedelta(minutes=31)
        stolen = next_assignment(session, add_user_and_take, c.id, now=later)
        assert stolen is not None
        lost = stolen.assignment_id
        holder = team["ann"] if lost == task.assignment_id else team["bob"]
        with pytest.raises(AssignmentLostError):
            submit_label(session, holder, lost, label="L1")


def test_suggestions_hidden_in_blind_passes_unless_the_campaign_allows(team, registry):
    (medium,) = add_media(1)
    shown = Suggestion("idfnp-abc", "L1", 0.7)
    with database.session() as session:
        _prediction(session, medium, "idfnp-abc", "L1", {"L1": 0.7})
        session.commit()
    c = campaign(registry)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        assert not task.show_suggestion and task.suggestion is None
        with pytest.raises(SuggestionNotAllowedError):
            submit_label(session, team["ann"], task.assignment_id, label="L1", suggestion=shown)
    add_media(1, prefix="Q")
    c2 = campaign(registry, name="c2", suggestions_in_blind=True)
    with database.session() as session:
        _prediction(session, medium + 1, "idfnp-abc", "L1", {"L1": 0.7})
        session.commit()
        task = next_assignment(session, team["ann"], c2.id)
        assert task.show_suggestion and task.suggestion == shown
        submit_label(session, team["ann"], task.assignment_id, label="L2", suggestion=task.suggestion)
        stored = session.exec(select(Annotation).where(Annotation.campaign_id == c2.id)).one()
        assert (stored.suggestion_shown, stored.suggestion_accepted,
                stored.suggestion_model_version, stored.suggestion_label) == (
            True, False, "idfnp-abc", "L1")


def test_a_disabled_rater_is_refused_mid_session(team, registry):
    add_media(1)
    c = campaign(registry)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        set_disabled(session, "ann")
        with pytest.raises(PermissionDeniedError):
            submit_label(session, team["ann"], task.assignment_id, label="L1")
        with pytest.raises(PermissionDeniedError):
            next_assignment(session, team["ann"], c.id)


def test_every_state_change_is_in_the_audit_log(team, registry):
    (medium,) = add_media(1)
    c = campaign(registry)
    label_pass(team["ann"], c.id, {medium: "L1"})
    label_pass(team["bob"], c.id, {medium: "L2"})
    with database.session() as session:
        (case,) = adjudication_queue(session, team["cara"], c.id)
        decide(session, team["cara"], case.assignment_id, label="L2", reason="mouth")
        actions = [(e.actor, e.action) for e in audit.events(session, campaign_id=c.id)]
    assert actions == [("cli", "campaign_create"), ("ann", "claim"), ("ann", "submit"),
                       ("bob", "claim"), ("bob", "submit"), ("bob", "first_check"),
                       ("bob", "adjudication_open"), ("cara", "decide"),
                       ("cara", "campaign_close")]   # its last medium decided: it closes


def test_views_need_the_view_permission(team, registry):
    add_media(1)
    c = campaign(registry)
    with database.session() as session:
        for viewer in (team["eve"], team["cara"], team["dan"]):
            assert campaign_progress(session, c.id, by=viewer).media == 1
            campaign_agreement(session, c.id, registry.scale("sided7"), by=viewer)
        with pytest.raises(PermissionDeniedError):
            campaign_progress(session, c.id, by=team["ann"])
        with pytest.raises(PermissionDeniedError):
            campaign_agreement(session, c.id, registry.scale("sided7"), by=team["ann"])
        with pytest.raises(PermissionDeniedError):
            close_campaign(session, c.id, by=team["cara"])


def test_a_closed_campaign_refuses_claims_submits_and_decisions(team, registry):
    media = add_media(2)
    c = campaign(registry)
    (done, _) = label_pass(team["ann"], c.id, {media[0]: "L1", media[1]: "N"})
    label_pass(team["bob"], c.id, {media[0]: "L2", media[1]: "N"})
    with database.session() as session:
        (case,) = adjudication_queue(session, team["cara"], c.id)
        task = session.get(Annotation, done.annotation_id)
        close_campaign(session, c.id, by=team["dan"])
        for call in (lambda: next_assignment(session, team["bob"], c.id),
                     lambda: submit_label(session, team["ann"], task.assignment_id, label="N"),
                     lambda: decide(session, team["cara"], case.assignment_id, label="L1",
                                    reason="r")):
            with pytest.raises(CampaignError, match="closed"):
                call()


def test_the_second_check_waits_for_the_whole_first_check(team, registry):
    media = add_media(3)
    c = campaign(registry)
    label_pass(team["ann"], c.id, {m: "N" for m in media})
    indices = lambda path, kind: {"RgAs": 0.1, "AnAs": 1.0}  # noqa: E731
    with database.session() as session:
        task = next_assignment(session, team["bob"], c.id)
        submit_label(session, team["bob"], task.assignment_id, label="N")
        with pytest.raises(CampaignError, match="2 blind assignments are not done"):
            run_second_check(session, c.id, indices_of=indices)
        counts = run_second_check(session, c.id, indices_of=indices, partial=True)
    assert dict(counts) == {"undecided": 1}  # no other agreed medium to learn a range from


def test_a_rater_may_take_back_their_own_expired_claim(team, registry):
    add_media(1)
    c = campaign(registry)
    with database.session() as session:
        task = next_assignment(session, team["ann"], c.id)
        later = utcnow() + timedelta(hours=1)
        again = next_assignment(session, team["ann"], c.id, now=later)
        assert again.assignment_id == task.assignment_id
        assert submit_label(session, team["ann"], task.assignment_id, label="N").status is Status.BLIND
