"""What every write of a blind pass shares: the rows of a medium, the opening checks of a
rater's write, the answer's checks, and changing a stored pass with the first check run again.

Three writers use it: :func:`.workflow.submit_label` (a new blind pass),
:func:`.revise.change_label` (a rater changes her own pass before the check) and :func:`.withdraw.relabel_pass` (a Label Studio
annotation edited). Before, the second copied the first one's opening checks and called its private
helpers, and the third ran the first check again its own way; one helper now serves all three.

Locking as in :mod:`.workflow`: :func:`medium_rows` locks the medium's assignment rows (``FOR
UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers), so the rules about a
medium's other passes are checked against committed data. Everything runs in the caller's
transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling.campaigns import get_campaign, reopen_if_closed_by_itself
from fpgrade.labelling.model import (
    Action, AssignmentLostError, AssignmentState, CampaignError, CannotGrade, LabellingError,
    PassKind, Status,
)
from fpgrade.labelling.state import PassLabel, first_check, medium_status
from fpgrade.labelling.users import Account, require
from fpgrade.registry import Registry
from fpgrade.storage.tables import Annotation, Assignment, Campaign, CheckResult, FinalLabel, User


# -- the rows of one medium -------------------------------------------------------------------

def medium_rows(session: Session, campaign_id: int, media_id: int) -> list[Assignment]:
    """The assignments of one medium, locked until the transaction ends (PostgreSQL)."""
    return list(session.exec(
        select(Assignment).where(Assignment.campaign_id == campaign_id,
                                 Assignment.media_id == media_id)
        .order_by(Assignment.id).with_for_update()
        .execution_options(populate_existing=True)).all())


def annotations_of(session: Session, assignment_ids: list[int]) -> dict[int, Annotation]:
    """The annotation of each assignment that holds one, by assignment id."""
    if not assignment_ids:
        return {}
    rows = session.exec(select(Annotation).where(Annotation.assignment_id.in_(assignment_ids))
                        .execution_options(populate_existing=True)).all()
    return {a.assignment_id: a for a in rows}


def pass_label(annotation: Annotation) -> PassLabel:
    return PassLabel(annotation.label, annotation.cannot_grade)


def status_of(session: Session, campaign: Campaign, rows: list[Assignment]) -> Status:
    """Where the medium of ``rows`` (:func:`medium_rows`) stands in ``campaign``."""
    annotations = annotations_of(session, [a.id for a in rows])
    blind = [pass_label(annotations[a.id]) for a in rows
             if a.pass_kind == PassKind.BLIND and a.id in annotations]
    decided = [annotations[a.id] for a in rows
               if a.pass_kind == PassKind.ADJUDICATION and a.id in annotations]
    media_id = rows[0].media_id
    check = session.exec(select(CheckResult.outcome).where(
        CheckResult.campaign_id == campaign.id, CheckResult.media_id == media_id)).first()
    final = session.exec(select(FinalLabel.id).where(
        FinalLabel.campaign_id == campaign.id, FinalLabel.media_id == media_id)).first()
    return medium_status(blind, campaign.blind_passes, check,
                         pass_label(decided[0]) if decided else None, final is not None)


# -- the opening checks of a write ------------------------------------------------------------

def open_campaign(session: Session, campaign_id: int | str) -> Campaign:
    """A campaign that takes writes. :raises CampaignError: unknown or not open."""
    campaign = get_campaign(session, campaign_id)
    if campaign.state != "open":
        raise CampaignError(f"campaign {campaign.name!r} is {campaign.state}")
    return campaign


def checked_answer(campaign: Campaign, registry: Registry, label: str | None,
                   cannot_grade: str | None) -> tuple[str | None, str | None]:
    """``(label, None)`` with the label normalised on the campaign's scale, or ``(None,
    reason)``. :raises LabellingError: both or neither given, an unknown reason or label."""
    if (label is None) == (cannot_grade is None):
        raise LabellingError("give either a label or a reason why the medium cannot be graded")
    if cannot_grade is not None:
        try:
            return None, CannotGrade(cannot_grade).value
        except ValueError:
            raise LabellingError(f"cannot-grade reason {cannot_grade!r} is not one of "
                                 f"{', '.join(c.value for c in CannotGrade)}") from None
    return registry.scale(campaign.scale).normalise(label), None


@dataclass(frozen=True)
class BlindWrite:
    """A rater's write of a blind pass that passed its opening checks."""

    me: User
    assignment: Assignment
    campaign: Campaign
    label: str | None
    cannot_grade: str | None


def open_blind_write(session: Session, user: Account, assignment_id: int, registry: Registry,
                     label: str | None, cannot_grade: str | None) -> BlindWrite:
    """The opening checks of a rater's blind write (a submit or a change): she may label, the
    assignment is a blind one, its campaign is open, the answer is valid.

    :raises PermissionDeniedError, AssignmentLostError (not her assignment), CampaignError,
        LabellingError: as said.
    """
    me = require(session, user, Action.LABEL)
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.pass_kind != PassKind.BLIND or assignment.user_id != me.id:
        # one answer whatever the assignment is (missing, open, another rater's, in another
        # campaign): a rater learns nothing of assignments that are not hers
        raise AssignmentLostError(f"assignment {assignment_id} is not yours: never claimed by "
                                  "you, or its claim ran out and another rater took it")
    campaign = open_campaign(session, assignment.campaign_id)
    answer, reason = checked_answer(campaign, registry, label, cannot_grade)
    return BlindWrite(me, assignment, campaign, answer, reason)


# -- the first check, and changing a stored pass ----------------------------------------------

def first_check_again(session: Session, campaign: Campaign, media_id: int,
                      rows: list[Assignment], actor: str, *, after: str | None = None) -> None:
    """The first check, once every blind pass of the medium is in: a disagreement (or a
    "cannot grade") opens an adjudication; an agreement withdraws an adjudication that an
    earlier label opened and nobody decided (``adjudication_withdrawn``). ``after``: the
    change that made it run again (kept in the audit event)."""
    blind = [a for a in rows if a.pass_kind == PassKind.BLIND]
    if any(a.state != AssignmentState.DONE for a in blind):
        return  # the first check runs at the last blind pass
    annotations = annotations_of(session, [a.id for a in blind])
    passes = [pass_label(annotations[a.id]) for a in blind if a.id in annotations]
    agreed = first_check(passes, campaign.blind_passes)
    audit.record(session, actor, "first_check", campaign_id=campaign.id, media_id=media_id,
                 outcome="agree" if agreed else "disagree", label=agreed,
                 **({"after": after} if after else {}))
    pending = [a for a in rows if a.pass_kind == PassKind.ADJUDICATION
               and a.state != AssignmentState.DONE]
    if agreed is None:
        reason = ("cannot grade" if any(p.cannot_grade for p in passes)
                  else "blind passes disagree")
        open_adjudication(session, campaign, media_id, actor, reason)
    elif pending:
        session.execute(delete(Assignment).where(Assignment.id.in_([a.id for a in pending])))
        audit.record(session, actor, "adjudication_withdrawn", campaign_id=campaign.id,
                     media_id=media_id, reason="blind passes agree after a change")


def change_pass(session: Session, campaign: Campaign | None, annotation: Annotation, *,
                label: str | None, cannot_grade: str | None, actor: str, action: str,
                details: dict, reopen_why: str | None = None) -> list[str]:
    """Change a stored pass's answer (audited as ``action`` with ``details``) and, for a blind
    pass of a campaign, run the first check again. ``reopen_why``: first remove the decisions
    that rested on the old label (:func:`.withdraw.reopen_medium`); returns what was reopened,
    in words."""
    from fpgrade.labelling.withdraw import reopen_medium

    audit.record(session, actor, action, campaign_id=annotation.campaign_id,
                 media_id=annotation.media_id, assignment_id=annotation.assignment_id, **details)
    annotation.label, annotation.cannot_grade = label, cannot_grade
    session.add(annotation)
    session.flush()
    if campaign is None or annotation.assignment_id is None:
        return []
    reopened = ([] if reopen_why is None
                else reopen_medium(session, campaign, annotation.media_id, actor, reopen_why))
    if reopen_why is not None and reopen_if_closed_by_itself(session, campaign, actor,
                                                              reopen_why):
        reopened.append(f"campaign {campaign.name} (it had closed itself)")
    rows = medium_rows(session, campaign.id, annotation.media_id)
    first_check_again(session, campaign, annotation.media_id, rows, actor,
                      after=None if reopen_why else action)
    return reopened


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
