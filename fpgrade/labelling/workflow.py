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

The adjudication queue and decisions live in :mod:`.adjudication`, the rules every blind write
shares in :mod:`.passes`, model suggestions in :mod:`.suggestions`; this module re-exports their
public names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling._tx import transaction
from fpgrade.labelling.adjudication import (
    AdjudicationCase, CheckView, Decision, PassView, QueueItem, adjudication_case,
    adjudication_queue, decide,
)
from fpgrade.labelling.model import (
    Action, AssignmentError, AssignmentLostError, AssignmentState, Outcome, PassKind, Status,
    SuggestionNotAllowedError,
)
from fpgrade.labelling.names import free_text
from fpgrade.labelling.passes import (
    annotations_of, first_check_again, medium_rows, open_adjudication, open_blind_write,
    open_campaign, pass_label, status_of,
)
from fpgrade.labelling.playback import require_played
from fpgrade.labelling.state import may_show_suggestion, medium_status
from fpgrade.labelling.suggestions import Suggestion, latest_suggestion, suggestion_fields
from fpgrade.labelling.units import UnitMedium, unit_media
from fpgrade.labelling.users import Account, require
from fpgrade.registry import Registry, get_registry
from fpgrade.storage.tables import (
    Annotation, AnnotationSource, Assignment, Campaign, CheckResult, FinalLabel, Media, MediaKind,
    utcnow,
)

#: a claimed assignment not submitted within this time may be claimed by another rater
CLAIM_LEASE = timedelta(minutes=30)
#: candidates read at a time by :func:`next_assignment`
CANDIDATES = 20

# the names other modules (fpgrade.sync.apply) imported before the split
_medium_rows, _after_blind_pass = medium_rows, first_check_again


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
    must_play: bool = False      # a video its page must report played before a label counts
    #: a per-subject campaign: every medium the grade covers, anchor first (:mod:`.units`);
    #: empty in a per-medium campaign
    unit_media: tuple[UnitMedium, ...] = ()


@dataclass(frozen=True)
class SubmitResult:
    annotation_id: int
    duplicate: bool        # this submit had already been stored (a double submit stores once)
    status: Status
    label: str | None = None          # what is stored (for a duplicate: the first submit's)
    cannot_grade: str | None = None



# -- reading --------------------------------------------------------------------------------


def _task(session: Session, campaign: Campaign, assignment: Assignment) -> Task:
    media = session.get(Media, assignment.media_id)
    show = may_show_suggestion(assignment.pass_kind, campaign.suggestions_in_blind)
    return Task(assignment.id, campaign.id, media.id, Path(media.path), MediaKind(media.kind).value,
                media.movement, campaign.scale, assignment.pass_kind, assignment.pass_number, show,
                latest_suggestion(session, media.id, campaign.scale) if show else None,
                campaign.videos_must_play and MediaKind(media.kind) is MediaKind.VIDEO,
                unit_media(session, campaign, media.id))


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
        blind = [pass_label(annotations[a.id]) for a in rows
                 if a.pass_kind == PassKind.BLIND and a.id in annotations]
        decided = [annotations[a.id] for a in rows
                   if a.pass_kind == PassKind.ADJUDICATION and a.id in annotations]
        out[media_id] = medium_status(blind, campaign.blind_passes, checks.get(media_id),
                                      pass_label(decided[0]) if decided else None,
                                      media_id in finals)
    return out


# -- claiming -------------------------------------------------------------------------------

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


def _in_batches(session: Session, query, size: int = CANDIDATES):
    """The rows of an ordered query, read ``size`` at a time (a rater's next medium is almost
    always among the first few; all of them are still reached when races take those)."""
    offset = 0
    while True:
        batch = session.exec(query.offset(offset).limit(size)).all()
        yield from batch
        if len(batch) < size:
            return
        offset += size


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
        found = open_campaign(session, campaign)
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
        query = select(Assignment).where(Assignment.campaign_id == found.id,
                                         Assignment.pass_kind == PassKind.BLIND.value, claimable)
        # what the rules below would pass over anyway, left in the database: the media this
        # rater skipped, and (one pass per rater) those of which they have done a pass
        barred = skipped | (set() if found.allow_same_rater else {
            media for media, rows in mine.items()
            if any(a.state == AssignmentState.DONE for a in rows)})
        if barred:
            query = query.where(Assignment.media_id.not_in(barred))
        for candidate in _in_batches(session, query.order_by(Assignment.pass_number,
                                                             Assignment.order_key, Assignment.id)):
            held_before = [a for a in mine.get(candidate.media_id, []) if a.id != candidate.id]
            if candidate.media_id in skipped or not _may_take(found, held_before, moment):
                continue
            rows = medium_rows(session, found.id, candidate.media_id)
            others = [a for a in rows if a.id != candidate.id and a.user_id == me.id
                      and a.pass_kind == PassKind.BLIND]
            if not _may_take(found, others, moment):
                continue
            previous = next((a.user_id for a in rows if a.id == candidate.id), None)
            won = session.execute(
                update(Assignment).where(Assignment.id == candidate.id, claimable)
                .values(state=AssignmentState.CLAIMED.value, user_id=me.id, claimed_at=moment,
                        played_at=None)
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


def upcoming_photos(session: Session, campaign_id: int, count: int) -> list[Path]:
    """The photos of the next ``count`` open blind assignments of a campaign (each photo once),
    in the order :func:`next_assignment` offers them (whoever takes them): what a server may
    prepare ahead.
    A per-subject campaign's visits are composed when shown, so none of them here."""
    found = session.get(Campaign, campaign_id)
    if found is None or found.unit != "medium":
        return []
    rows = session.exec(
        select(Media.path).join(Assignment, Assignment.media_id == Media.id)
        .where(Assignment.campaign_id == campaign_id,
               Assignment.pass_kind == PassKind.BLIND.value,
               Assignment.state == AssignmentState.OPEN.value,
               Media.kind == MediaKind.IMAGE.value)
        .order_by(Assignment.pass_number, Assignment.order_key).limit(count)).all()
    return [Path(path) for path in dict.fromkeys(rows)]   # a photo once, whatever its passes


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
            .values(state=AssignmentState.OPEN.value, user_id=None, claimed_at=None,
                    played_at=None)
            .execution_options(synchronize_session=False)).rowcount
        if released != 1:
            raise AssignmentError(f"assignment {assignment_id} is not claimed by {me.name!r}")
        assignment = session.get(Assignment, assignment_id)
        audit.record(session, me.name, "skip", campaign_id=assignment.campaign_id,
                     media_id=assignment.media_id, assignment_id=assignment_id)

    transaction(session, work)


# -- submitting a blind pass ----------------------------------------------------------------

def submit_label(session: Session, user: Account, assignment_id: int, *, label: str | None = None,
                 cannot_grade: str | None = None, note: str | None = None,
                 suggestion: Suggestion | None = None,
                 registry: Registry | None = None) -> SubmitResult:
    """Store the user's blind pass of a claimed assignment (a label, or "cannot grade" with a
    reason); ``suggestion`` is the model suggestion the page showed, if any.

    A second submit of a done assignment by the same user stores nothing and returns the stored
    annotation (``duplicate``). When the medium's last blind pass is in, the first check runs:
    a disagreement (or a "cannot grade") opens an adjudication.

    :raises VideoNotPlayedError: a video's label before the page reported the video played to
        its end (:mod:`.playback`); :class:`AssignmentLostError`: the assignment is someone else's (claim expired and taken over,
        or never this user's); :class:`SuggestionNotAllowedError`: a suggestion shown in a blind
        pass of a campaign that hides them; :class:`LabellingError`: bad label or reason.
    """
    registry = registry or get_registry()
    note = free_text(note, "note")

    def work() -> SubmitResult:
        opened = open_blind_write(session, user, assignment_id, registry, label, cannot_grade)
        me, assignment, campaign = opened.me, opened.assignment, opened.campaign
        answer, reason = opened.label, opened.cannot_grade
        if suggestion is not None and not may_show_suggestion(PassKind.BLIND,
                                                              campaign.suggestions_in_blind):
            raise SuggestionNotAllowedError(f"campaign {campaign.name!r} hides model "
                                            "suggestions in blind passes")
        rows = medium_rows(session, campaign.id, assignment.media_id)
        assignment = next(a for a in rows if a.id == assignment_id)
        if assignment.state == AssignmentState.DONE:
            stored = annotations_of(session, [assignment_id]).get(assignment_id)
            if stored is not None and stored.user_id == me.id:
                return SubmitResult(stored.id, True, status_of(session, campaign, rows),
                                    stored.label, stored.cannot_grade)
            raise AssignmentLostError(f"assignment {assignment_id} was submitted by another rater")
        if assignment.user_id == me.id:
            require_played(session, campaign, assignment, answer)
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
            **suggestion_fields(suggestion, answer))
        session.add(annotation)
        session.flush()
        audit.record(session, me.name, "submit", campaign_id=campaign.id,
                     media_id=assignment.media_id, assignment_id=assignment_id,
                     pass_number=assignment.pass_number, label=answer, cannot_grade=reason,
                     suggestion_shown=suggestion is not None)
        rows = medium_rows(session, campaign.id, assignment.media_id)
        first_check_again(session, campaign, assignment.media_id, rows, me.name)
        return SubmitResult(annotation.id, False, status_of(session, campaign, rows), answer,
                            reason)

    return transaction(session, work)



__all__ = ["CLAIM_LEASE", "AdjudicationCase", "CheckView", "Decision", "Outcome", "PassView",
           "QueueItem", "Status", "SubmitResult", "Suggestion", "Task", "adjudication_case",
           "adjudication_queue", "decide", "latest_suggestion", "media_statuses",
           "next_assignment", "open_adjudication", "skip_assignment", "submit_label",
           "upcoming_photos"]
