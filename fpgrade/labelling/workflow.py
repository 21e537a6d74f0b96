"""The triple-check state machine: claim, skip, submit blind passes, the first check, the
adjudication queue and its decisions. (The second check: :mod:`.checks`, :mod:`.second_check`.)

A medium of a campaign moves ``blind`` -> (all blind passes done) -> agreed: ``awaiting_check``
-> second check agrees: ``final`` (method ``agreed_checked``); blind passes disagree, a "cannot
grade", or the second check disagrees or is undecided: ``adjudication`` -> the adjudicator
decides a label (``final``, method ``adjudicated``) or that it cannot be graded (``excluded``).
Where a medium stands is always computed from its labels (:func:`.state.medium_status`).

Races are decided by the database: a claim or a decision is a conditional ``UPDATE ... WHERE
state = ...`` that only one writer can win; the rows of the medium are locked first (``SELECT
... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers) so that the
rules about a medium's other passes are checked against committed data; an assignment holds at
most one annotation (unique key). Every function runs its writes in
:func:`~fpgrade.storage.retry.in_transaction` and logs each change in the audit log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling.campaigns import get_campaign
from fpgrade.labelling.final import set_final
from fpgrade.labelling.model import (
    Action, AlreadyDecidedError, AssignmentError, AssignmentLostError, AssignmentState,
    CampaignError, CannotGrade, LabellingError, Method, Outcome, PassKind, Status,
    SuggestionNotAllowedError,
)
from fpgrade.labelling.state import PassLabel, first_check, may_show_suggestion, medium_status
from fpgrade.labelling.names import free_text
from fpgrade.labelling.users import Account, require
from fpgrade.registry import Registry, get_registry
from fpgrade.labelling._tx import transaction
from fpgrade.storage.tables import (
    Annotation, AnnotationSource, Assignment, Campaign, CheckResult, FinalLabel, Media, MediaKind,
    ModelVersion, Prediction, Subject, Visit, utcnow,
)

#: a claimed assignment not submitted within this time may be claimed by another rater
CLAIM_LEASE = timedelta(minutes=30)
CANDIDATES = 200


@dataclass(frozen=True)
class Suggestion:
    """A model's suggestion as shown to a rater."""

    model_version: str
    label: str
    probability: float | None = None


@dataclass(frozen=True)
class Task:
    """What the labelling view shows for one claimed assignment."""

    assignment_id: int
    campaign_id: int
    media_id: int
    path: Path
    kind: str
    movement: str | None
    scale: str
    pass_kind: str
    pass_number: int
    show_suggestion: bool
    suggestion: Suggestion | None


@dataclass(frozen=True)
class SubmitResult:
    annotation_id: int
    duplicate: bool        # this submit had already been stored (a double submit stores once)
    status: Status
    label: str | None = None          # what is stored (for a duplicate: the first submit's)
    cannot_grade: str | None = None


@dataclass(frozen=True)
class PassView:
    annotator: str
    pass_number: int
    label: str | None
    cannot_grade: str | None
    note: str | None


@dataclass(frozen=True)
class QueueItem:
    """One undecided adjudication in the queue."""

    assignment_id: int
    campaign_id: int
    media_id: int
    state: str
    subject: str = ""                       # the pseudonymous subject code
    movement: str | None = None
    passes: tuple[PassView, ...] = ()       # the blind passes that disagreed (or the check did)


@dataclass(frozen=True)
class CheckView:
    """The second check of a medium as the adjudicator sees it."""

    method: str
    version: str
    label: str
    indices: dict
    ranges: dict
    outcome: str
    reason: str | None


@dataclass(frozen=True)
class Decision:
    """An adjudicator's decision: the final label it wrote (``None``: cannot be graded)."""

    assignment_id: int
    media_id: int
    label: str | None
    decided_by: str
    final_id: int | None


@dataclass(frozen=True)
class AdjudicationCase:
    """What an adjudicator sees: both passes, the second check with its ranges, the model."""

    assignment_id: int
    campaign_id: int
    media_id: int
    path: Path
    kind: str
    movement: str | None
    scale: str
    state: str
    passes: tuple[PassView, ...]
    check: CheckView | None
    suggestion: Suggestion | None


# -- reading --------------------------------------------------------------------------------

def latest_suggestion(session: Session, media_id: int, scale: str,
                      model_version: str | None = None) -> Suggestion | None:
    """The latest stored prediction for a medium on ``scale`` (of one model version if given)."""
    query = (select(Prediction, ModelVersion.version)
             .join(ModelVersion, Prediction.model_version_id == ModelVersion.id)
             .where(Prediction.media_id == media_id, Prediction.scale == scale))
    if model_version is not None:
        query = query.where(ModelVersion.version == model_version)
    row = session.exec(query.order_by(Prediction.created_at.desc(), Prediction.id.desc())).first()
    if row is None:
        return None
    found, version = row
    return Suggestion(version, found.label, (found.probabilities or {}).get(found.label))


def _task(session: Session, campaign: Campaign, assignment: Assignment) -> Task:
    media = session.get(Media, assignment.media_id)
    show = may_show_suggestion(assignment.pass_kind, campaign.suggestions_in_blind)
    return Task(assignment.id, campaign.id, media.id, Path(media.path), MediaKind(media.kind).value,
                media.movement, campaign.scale, assignment.pass_kind, assignment.pass_number, show,
                latest_suggestion(session, media.id, campaign.scale) if show else None)


def _medium_rows(session: Session, campaign_id: int, media_id: int) -> list[Assignment]:
    """The assignments of one medium, locked until the transaction ends (PostgreSQL)."""
    return list(session.exec(
        select(Assignment).where(Assignment.campaign_id == campaign_id,
                                 Assignment.media_id == media_id)
        .order_by(Assignment.id).with_for_update()
        .execution_options(populate_existing=True)).all())


def _annotations(session: Session, assignment_ids: list[int]) -> dict[int, Annotation]:
    if not assignment_ids:
        return {}
    rows = session.exec(select(Annotation).where(Annotation.assignment_id.in_(assignment_ids))
                        .execution_options(populate_existing=True)).all()
    return {a.assignment_id: a for a in rows}


def _pass(annotation: Annotation) -> PassLabel:
    return PassLabel(annotation.label, annotation.cannot_grade)


def media_statuses(session: Session, campaign_id: int) -> dict[int, Status]:
    """The :class:`Status` of every medium of a campaign."""
    campaign = session.get(Campaign, campaign_id)
    assignments = session.exec(
        select(Assignment).where(Assignment.campaign_id == campaign_id)).all()
    annotations = {a.assignment_id: a for a in session.exec(
        select(Annotation).where(Annotation.campaign_id == campaign_id)).all()}
    checks = {c.media_id: c.outcome for c in session.exec(
        select(CheckResult).where(CheckResult.campaign_id == campaign_id)).all()}
    finals = set(session.exec(select(FinalLabel.media_id).where(
        FinalLabel.campaign_id == campaign_id)).all())
    by_media: dict[int, list[Assignment]] = {}
    for assignment in assignments:
        by_media.setdefault(assignment.media_id, []).append(assignment)
    out = {}
    for media_id, rows in by_media.items():
        blind = [_pass(annotations[a.id]) for a in rows
                 if a.pass_kind == PassKind.BLIND and a.id in annotations]
        decided = [annotations[a.id] for a in rows
                   if a.pass_kind == PassKind.ADJUDICATION and a.id in annotations]
        out[media_id] = medium_status(blind, campaign.blind_passes, checks.get(media_id),
                                      _pass(decided[0]) if decided else None, media_id in finals)
    return out


# -- claiming -------------------------------------------------------------------------------

def _open_campaign(session: Session, campaign_id: int | str) -> Campaign:
    campaign = get_campaign(session, campaign_id)
    if campaign.state != "open":
        raise CampaignError(f"campaign {campaign.name!r} is {campaign.state}")
    return campaign


def _may_take(campaign: Campaign, mine: list[Assignment], now: datetime) -> bool:
    """Whether a rater holding ``mine`` (their other blind assignments of the same medium) may
    take one more pass of it: never with two raters required; with one rater allowed, only
    after their other passes are done at least ``min_gap_s`` ago."""
    if not mine:
        return True
    if not campaign.allow_same_rater:
        return False
    gap = timedelta(seconds=campaign.min_gap_s)
    return all(a.state == AssignmentState.DONE and a.done_at is not None
               and a.done_at <= now - gap for a in mine)


def next_assignment(session: Session, user: Account, campaign: int | str, *,
                    now: datetime | None = None, lease: timedelta = CLAIM_LEASE) -> Task | None:
    """Claim the user's next blind assignment of a campaign (or return the one they hold).

    Never the same assignment for two raters: the claim is ``UPDATE ... WHERE state = 'open'``
    (or a claim whose lease ran out). A medium the user skipped is never offered to them again in
    this campaign, in no pass (before, only the skipped assignment was withheld, so a skipped
    photo came back as the rater's other pass).
    ``None`` when nothing is left for this user.

    :raises PermissionDeniedError: the user may not label; :class:`CampaignError`: closed.
    """

    def work() -> Task | None:
        me = require(session, user, Action.LABEL)
        found = _open_campaign(session, campaign)
        moment = now or utcnow()
        expired = moment - lease
        held = session.exec(select(Assignment).where(
            Assignment.campaign_id == found.id, Assignment.user_id == me.id,
            Assignment.pass_kind == PassKind.BLIND.value,
            Assignment.state == AssignmentState.CLAIMED.value,
            Assignment.claimed_at >= expired).order_by(Assignment.claimed_at)).first()
        if held is not None:
            return _task(session, found, held)
        skipped = skipped_media(session, found.id, me.name)
        mine: dict[int, list[Assignment]] = {}
        for a in session.exec(select(Assignment).where(
                Assignment.campaign_id == found.id, Assignment.user_id == me.id,
                Assignment.pass_kind == PassKind.BLIND.value)).all():
            mine.setdefault(a.media_id, []).append(a)
        claimable = or_(Assignment.state == AssignmentState.OPEN.value,
                        and_(Assignment.state == AssignmentState.CLAIMED.value,
                             Assignment.claimed_at < expired))
        candidates = session.exec(
            select(Assignment).where(Assignment.campaign_id == found.id,
                                     Assignment.pass_kind == PassKind.BLIND.value, claimable)
            .order_by(Assignment.pass_number, Assignment.order_key).limit(CANDIDATES)).all()
        for candidate in candidates:
            held_before = [a for a in mine.get(candidate.media_id, []) if a.id != candidate.id]
            if candidate.media_id in skipped or not _may_take(found, held_before, moment):
                continue
            rows = _medium_rows(session, found.id, candidate.media_id)
            others = [a for a in rows if a.id != candidate.id and a.user_id == me.id
                      and a.pass_kind == PassKind.BLIND]
            if not _may_take(found, others, moment):
                continue
            previous = next((a.user_id for a in rows if a.id == candidate.id), None)
            won = session.execute(
                update(Assignment).where(Assignment.id == candidate.id, claimable)
                .values(state=AssignmentState.CLAIMED.value, user_id=me.id, claimed_at=moment)
                .execution_options(synchronize_session=False)).rowcount
            if won != 1:
                continue
            audit.record(session, me.name, "claim", campaign_id=found.id,
                         media_id=candidate.media_id, assignment_id=candidate.id,
                         pass_number=candidate.pass_number,
                         **({"took_over_from_user_id": previous} if previous else {}))
            claimed = session.exec(select(Assignment).where(Assignment.id == candidate.id)
                                   .execution_options(populate_existing=True)).one()
            return _task(session, found, claimed)
        return None

    return transaction(session, work)


def skipped_media(session: Session, campaign_id: int, user_name: str) -> set[int]:
    """The media a user skipped in a campaign (from the audit log's ``skip`` events)."""
    return {e.media_id for e in audit.events(session, campaign_id=campaign_id, actor=user_name,
                                             action="skip")}


def skip_assignment(session: Session, user: Account, assignment_id: int) -> None:
    """Give a claimed assignment back (the medium is not offered to this user again in this
    campaign, in no pass: :func:`skipped_media`).

    :raises AssignmentError: not claimed by this user.
    """

    def work() -> None:
        me = require(session, user, Action.LABEL)
        released = session.execute(
            update(Assignment).where(Assignment.id == assignment_id,
                                     Assignment.state == AssignmentState.CLAIMED.value,
                                     Assignment.user_id == me.id)
            .values(state=AssignmentState.OPEN.value, user_id=None, claimed_at=None)
            .execution_options(synchronize_session=False)).rowcount
        if released != 1:
            raise AssignmentError(f"assignment {assignment_id} is not claimed by {me.name!r}")
        assignment = session.get(Assignment, assignment_id)
        audit.record(session, me.name, "skip", campaign_id=assignment.campaign_id,
                     media_id=assignment.media_id, assignment_id=assignment_id)

    transaction(session, work)


# -- submitting a blind pass ----------------------------------------------------------------

def _checked_answer(campaign: Campaign, registry: Registry, label: str | None,
                    cannot_grade: str | None) -> tuple[str | None, str | None]:
    if (label is None) == (cannot_grade is None):
        raise LabellingError("give either a label or a reason why the medium cannot be graded")
    if cannot_grade is not None:
        try:
            return None, CannotGrade(cannot_grade).value
        except ValueError:
            raise LabellingError(f"cannot-grade reason {cannot_grade!r} is not one of "
                                 f"{', '.join(c.value for c in CannotGrade)}") from None
    return registry.scale(campaign.scale).normalise(label), None


def _suggestion_fields(suggestion: Suggestion | None, label: str | None) -> dict[str, object]:
    if suggestion is None:
        return {"suggestion_shown": False}
    return {"suggestion_shown": True, "suggestion_model_version": suggestion.model_version,
            "suggestion_label": suggestion.label, "suggestion_probability": suggestion.probability,
            "suggestion_accepted": label is not None and label == suggestion.label}


def submit_label(session: Session, user: Account, assignment_id: int, *, label: str | None = None,
                 cannot_grade: str | None = None, note: str | None = None,
                 suggestion: Suggestion | None = None,
                 registry: Registry | None = None) -> SubmitResult:
    """Store the user's blind pass of a claimed assignment (a label, or "cannot grade" with a
    reason); ``suggestion`` is the model suggestion the page showed, if any.

    A second submit of a done assignment by the same user stores nothing and returns the stored
    annotation (``duplicate``). When the medium's last blind pass is in, the first check runs:
    a disagreement (or a "cannot grade") opens an adjudication.

    :raises AssignmentLostError: the assignment is someone else's (claim expired and taken over,
        or never this user's); :class:`SuggestionNotAllowedError`: a suggestion shown in a blind
        pass of a campaign that hides them; :class:`LabellingError`: bad label or reason.
    """
    registry = registry or get_registry()
    note = free_text(note, "note")

    def work() -> SubmitResult:
        me = require(session, user, Action.LABEL)
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or assignment.pass_kind != PassKind.BLIND:
            raise AssignmentError(f"no blind assignment {assignment_id}")
        campaign = _open_campaign(session, assignment.campaign_id)
        answer, reason = _checked_answer(campaign, registry, label, cannot_grade)
        if suggestion is not None and not may_show_suggestion(PassKind.BLIND,
                                                              campaign.suggestions_in_blind):
            raise SuggestionNotAllowedError(f"campaign {campaign.name!r} hides model "
                                            "suggestions in blind passes")
        rows = _medium_rows(session, campaign.id, assignment.media_id)
        assignment = next(a for a in rows if a.id == assignment_id)
        if assignment.state == AssignmentState.DONE:
            stored = _annotations(session, [assignment_id]).get(assignment_id)
            if stored is not None and stored.user_id == me.id:
                return SubmitResult(stored.id, True, _status_of(session, campaign, rows),
                                    stored.label, stored.cannot_grade)
            raise AssignmentLostError(f"assignment {assignment_id} was submitted by another rater")
        moment = utcnow()
        won = session.execute(
            update(Assignment).where(Assignment.id == assignment_id,
                                     Assignment.state == AssignmentState.CLAIMED.value,
                                     Assignment.user_id == me.id)
            .values(state=AssignmentState.DONE.value, done_at=moment)
            .execution_options(synchronize_session=False)).rowcount
        if won != 1:
            raise AssignmentLostError(f"assignment {assignment_id} is not claimed by {me.name!r} "
                                      "(its claim may have expired and been taken over)")
        annotation = Annotation(
            media_id=assignment.media_id, annotator=me.name, pass_number=assignment.pass_number,
            scale=campaign.scale, label=answer, source=AnnotationSource.UI,
            pass_kind=PassKind.BLIND.value, campaign_id=campaign.id, assignment_id=assignment_id,
            user_id=me.id, cannot_grade=reason, note=note,
            **_suggestion_fields(suggestion, answer))
        session.add(annotation)
        session.flush()
        audit.record(session, me.name, "submit", campaign_id=campaign.id,
                     media_id=assignment.media_id, assignment_id=assignment_id,
                     pass_number=assignment.pass_number, label=answer, cannot_grade=reason,
                     suggestion_shown=suggestion is not None)
        rows = _medium_rows(session, campaign.id, assignment.media_id)
        _after_blind_pass(session, campaign, assignment.media_id, rows, me.name)
        return SubmitResult(annotation.id, False, _status_of(session, campaign, rows), answer,
                            reason)

    return transaction(session, work)


def _status_of(session: Session, campaign: Campaign, rows: list[Assignment]) -> Status:
    annotations = _annotations(session, [a.id for a in rows])
    blind = [_pass(annotations[a.id]) for a in rows
             if a.pass_kind == PassKind.BLIND and a.id in annotations]
    decided = [annotations[a.id] for a in rows
               if a.pass_kind == PassKind.ADJUDICATION and a.id in annotations]
    media_id = rows[0].media_id
    check = session.exec(select(CheckResult.outcome).where(
        CheckResult.campaign_id == campaign.id, CheckResult.media_id == media_id)).first()
    final = session.exec(select(FinalLabel.id).where(
        FinalLabel.campaign_id == campaign.id, FinalLabel.media_id == media_id)).first()
    return medium_status(blind, campaign.blind_passes, check,
                         _pass(decided[0]) if decided else None, final is not None)


def _after_blind_pass(session: Session, campaign: Campaign, media_id: int,
                      rows: list[Assignment], actor: str) -> None:
    """The first check, once every blind pass of the medium is in."""
    blind = [a for a in rows if a.pass_kind == PassKind.BLIND]
    if any(a.state != AssignmentState.DONE for a in blind):
        return
    annotations = _annotations(session, [a.id for a in blind])
    passes = [_pass(annotations[a.id]) for a in blind if a.id in annotations]
    agreed = first_check(passes, campaign.blind_passes)
    audit.record(session, actor, "first_check", campaign_id=campaign.id, media_id=media_id,
                 outcome="agree" if agreed else "disagree", label=agreed)
    if agreed is None:
        reason = ("cannot grade" if any(p.cannot_grade for p in passes)
                  else "blind passes disagree")
        open_adjudication(session, campaign, media_id, actor, reason)


def open_adjudication(session: Session, campaign: Campaign, media_id: int, actor: str,
                      reason: str) -> None:
    """Put a medium in the adjudication queue, in the caller's transaction (once: the
    assignment's unique key makes a second call a no-op)."""
    try:
        with session.begin_nested():
            session.add(Assignment(campaign_id=campaign.id, media_id=media_id,
                                   pass_kind=PassKind.ADJUDICATION.value,
                                   pass_number=campaign.blind_passes + 1,
                                   order_key=random.randrange(1 << 30)))
    except IntegrityError:
        return
    audit.record(session, actor, "adjudication_open", campaign_id=campaign.id,
                 media_id=media_id, reason=reason)


# -- adjudication ---------------------------------------------------------------------------

def adjudication_queue(session: Session, user: Account,
                       campaign: int | str | None = None) -> list[QueueItem]:
    """The undecided adjudications (of one campaign, or all), oldest first.

    :raises PermissionDeniedError: the user may not adjudicate.
    """
    require(session, user, Action.ADJUDICATE)
    query = select(Assignment).where(Assignment.pass_kind == PassKind.ADJUDICATION.value,
                                     Assignment.state != AssignmentState.DONE.value)
    if campaign is not None:
        query = query.where(Assignment.campaign_id == get_campaign(session, campaign).id)
    rows = session.exec(query.order_by(Assignment.id)).all()
    if not rows:
        return []
    media = {m.id: (m, code) for m, code in session.exec(
        select(Media, Subject.code).join(Visit, Media.visit_id == Visit.id)
        .join(Subject, Visit.subject_id == Subject.id)
        .where(Media.id.in_({a.media_id for a in rows}))).all()}
    passes: dict[tuple[int, int], list[PassView]] = {}
    for a in session.exec(select(Annotation).where(
            Annotation.media_id.in_({a.media_id for a in rows}),
            Annotation.pass_kind == PassKind.BLIND.value)
            .order_by(Annotation.pass_number)).all():
        passes.setdefault((a.campaign_id, a.media_id), []).append(
            PassView(a.annotator, a.pass_number, a.label, a.cannot_grade, a.note))
    out = []
    for a in rows:
        medium, code = media.get(a.media_id, (None, ""))
        out.append(QueueItem(a.id, a.campaign_id, a.media_id, a.state, code,
                             medium.movement if medium else None,
                             tuple(passes.get((a.campaign_id, a.media_id), ()))))
    return out


def adjudication_case(session: Session, user: Account, assignment_id: int) -> AdjudicationCase:
    """Everything an adjudicator needs to decide: both passes, the second check and its ranges,
    the model suggestion. Opening is logged; it changes no state (two may open one case; only
    the first decision counts).

    :raises PermissionDeniedError: the user may not adjudicate.
    """

    def work() -> AdjudicationCase:
        me = require(session, user, Action.ADJUDICATE)
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or assignment.pass_kind != PassKind.ADJUDICATION:
            raise AssignmentError(f"no adjudication {assignment_id}")
        campaign = session.get(Campaign, assignment.campaign_id)
        media = session.get(Media, assignment.media_id)
        passes = session.exec(select(Annotation).where(
            Annotation.campaign_id == campaign.id, Annotation.media_id == media.id)
            .order_by(Annotation.pass_number)).all()
        check = session.exec(select(CheckResult).where(
            CheckResult.campaign_id == campaign.id, CheckResult.media_id == media.id)).first()
        audit.record(session, me.name, "adjudication_view", campaign_id=campaign.id,
                     media_id=media.id, assignment_id=assignment_id)
        return AdjudicationCase(
            assignment_id, campaign.id, media.id, Path(media.path), MediaKind(media.kind).value,
            media.movement, campaign.scale, assignment.state,
            tuple(PassView(a.annotator, a.pass_number, a.label, a.cannot_grade, a.note)
                  for a in passes),
            None if check is None else CheckView(
                check.method, check.version, check.label, dict(check.indices or {}),
                dict(check.ranges or {}), check.outcome, check.reason),
            latest_suggestion(session, media.id, campaign.scale))

    return transaction(session, work)


def decide(session: Session, user: Account, assignment_id: int, *, reason: str,
           label: str | None = None, cannot_grade: str | None = None,
           suggestion: Suggestion | None = None, registry: Registry | None = None) -> Decision:
    """The adjudicator's decision: a label (it becomes the final label, method
    ``adjudicated``) or that the medium cannot be graded (excluded, no final label: the
    decision's ``label`` is ``None``); ``reason``
    is required. Decided once: the second adjudicator is told who decided first.

    :raises AlreadyDecidedError: decided already; :class:`PermissionDeniedError`: not an
        adjudicator; :class:`LabellingError`: no reason, bad label.
    """
    registry = registry or get_registry()
    reason = free_text(reason, "reason")
    if reason is None:
        raise LabellingError("an adjudication needs a reason")

    def work() -> Decision:
        me = require(session, user, Action.ADJUDICATE)
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or assignment.pass_kind != PassKind.ADJUDICATION:
            raise AssignmentError(f"no adjudication {assignment_id}")
        campaign = _open_campaign(session, assignment.campaign_id)
        answer, why_not = _checked_answer(campaign, registry, label, cannot_grade)
        rows = _medium_rows(session, campaign.id, assignment.media_id)
        won = session.execute(
            update(Assignment).where(Assignment.id == assignment_id,
                                     Assignment.state != AssignmentState.DONE.value)
            .values(state=AssignmentState.DONE.value, user_id=me.id, done_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if won != 1:
            first = _annotations(session, [assignment_id]).get(assignment_id)
            who = f" by {first.annotator} at {first.created_at:%Y-%m-%d %H:%M} UTC" if first else ""
            raise AlreadyDecidedError(f"adjudication {assignment_id} was decided already{who}")
        annotation = Annotation(
            media_id=assignment.media_id, annotator=me.name, pass_number=assignment.pass_number,
            scale=campaign.scale, label=answer, source=AnnotationSource.UI,
            pass_kind=PassKind.ADJUDICATION.value, campaign_id=campaign.id,
            assignment_id=assignment_id, user_id=me.id, cannot_grade=why_not, note=reason,
            **_suggestion_fields(suggestion, answer))
        session.add(annotation)
        session.flush()
        audit.record(session, me.name, "decide", campaign_id=campaign.id,
                     media_id=assignment.media_id, assignment_id=assignment_id, label=answer,
                     cannot_grade=why_not, reason=reason)
        if answer is None:
            return Decision(assignment_id, assignment.media_id, None, me.name, None)
        blind = _annotations(session, [a.id for a in rows if a.pass_kind == PassKind.BLIND])
        check = session.exec(select(CheckResult.id).where(
            CheckResult.campaign_id == campaign.id,
            CheckResult.media_id == assignment.media_id)).first()
        final, _ = set_final(session, media_id=assignment.media_id, scale=campaign.scale,
                             label=answer, method=Method.ADJUDICATED, decided_by=me.name,
                             campaign_id=campaign.id,
                             annotation_ids=[a.id for a in blind.values()] + [annotation.id],
                             check_result_id=check, reason=reason)
        return Decision(assignment_id, assignment.media_id, final.label, final.decided_by,
                        final.id)

    return transaction(session, work)


__all__ = ["CLAIM_LEASE", "AdjudicationCase", "CheckView", "Decision", "Outcome", "PassView",
           "QueueItem", "Status", "SubmitResult", "Suggestion", "Task", "adjudication_case",
           "adjudication_queue", "decide", "latest_suggestion", "media_statuses",
           "next_assignment", "open_adjudication", "skip_assignment", "submit_label"]
