"""Adjudication: the queue of undecided cases, one case as the adjudicator sees it, and the
decision (a final label, method ``adjudicated``, or that the medium cannot be graded). The last
decision of a campaign closes it (:func:`.campaigns.close_if_done`).

Decided once: the decision is a conditional ``UPDATE ... WHERE state != 'done'`` that only one
adjudicator wins; the second is told who decided first. (Split from :mod:`.workflow`, which
re-exports every name here.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling._tx import transaction
from fpgrade.labelling.campaigns import close_if_done, get_campaign
from fpgrade.labelling.units import UnitMedium, set_unit_final, unit_media
from fpgrade.labelling.model import (
    Action, AlreadyDecidedError, AssignmentError, AssignmentState, LabellingError, Method, PassKind,
)
from fpgrade.labelling.names import free_text
from fpgrade.labelling.passes import annotations_of, checked_answer, medium_rows, open_campaign
from fpgrade.labelling.suggestions import Suggestion, latest_suggestion, suggestion_fields
from fpgrade.labelling.users import Account, require
from fpgrade.registry import Registry, get_registry
from fpgrade.storage.tables import (
    Annotation, AnnotationSource, Assignment, Campaign, CheckResult, Media, MediaKind, Subject,
    Visit, utcnow,
)


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
    #: a per-subject campaign: the movements of the visit the grade covers, anchor first
    unit_movements: tuple[str | None, ...] = ()


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
    #: a per-subject campaign: every medium the grade covers, anchor first (:mod:`.units`)
    unit_media: tuple[UnitMedium, ...] = ()


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
    campaigns = {c.id: c for c in session.exec(select(Campaign).where(
        Campaign.id.in_({a.campaign_id for a in rows}))).all()}
    out = []
    for a in rows:
        medium, code = media.get(a.media_id, (None, ""))
        unit = unit_media(session, campaigns[a.campaign_id], a.media_id)
        out.append(QueueItem(a.id, a.campaign_id, a.media_id, a.state, code,
                             medium.movement if medium else None,
                             tuple(passes.get((a.campaign_id, a.media_id), ())),
                             tuple(m.movement for m in unit)))
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
            latest_suggestion(session, media.id, campaign.scale),
            unit_media(session, campaign, media.id))

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
        campaign = open_campaign(session, assignment.campaign_id)
        answer, why_not = checked_answer(campaign, registry, label, cannot_grade)
        rows = medium_rows(session, campaign.id, assignment.media_id)
        won = session.execute(
            update(Assignment).where(Assignment.id == assignment_id,
                                     Assignment.state != AssignmentState.DONE.value)
            .values(state=AssignmentState.DONE.value, user_id=me.id, done_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if won != 1:
            first = annotations_of(session, [assignment_id]).get(assignment_id)
            who = f" by {first.annotator} at {first.created_at:%Y-%m-%d %H:%M} UTC" if first else ""
            raise AlreadyDecidedError(f"adjudication {assignment_id} was decided already{who}")
        annotation = Annotation(
            media_id=assignment.media_id, annotator=me.name, pass_number=assignment.pass_number,
            scale=campaign.scale, label=answer, source=AnnotationSource.UI,
            pass_kind=PassKind.ADJUDICATION.value, campaign_id=campaign.id,
            assignment_id=assignment_id, user_id=me.id, cannot_grade=why_not, note=reason,
            **suggestion_fields(suggestion, answer))
        session.add(annotation)
        session.flush()
        audit.record(session, me.name, "decide", campaign_id=campaign.id,
                     media_id=assignment.media_id, assignment_id=assignment_id, label=answer,
                     cannot_grade=why_not, reason=reason)
        if answer is None:
            close_if_done(session, campaign, me.name)
            return Decision(assignment_id, assignment.media_id, None, me.name, None)
        blind = annotations_of(session, [a.id for a in rows if a.pass_kind == PassKind.BLIND])
        check = session.exec(select(CheckResult.id).where(
            CheckResult.campaign_id == campaign.id,
            CheckResult.media_id == assignment.media_id)).first()
        final, _ = set_unit_final(session, campaign, assignment.media_id,
                                  label=answer, method=Method.ADJUDICATED, decided_by=me.name,
                                  annotation_ids=[a.id for a in blind.values()] + [annotation.id],
                                  check_result_id=check, reason=reason)
        close_if_done(session, campaign, me.name)
        return Decision(assignment_id, assignment.media_id, final.label, final.decided_by,
                        final.id)

    return transaction(session, work)


__all__ = ["AdjudicationCase", "CheckView", "Decision", "PassView", "QueueItem",
           "adjudication_case", "adjudication_queue", "decide"]
