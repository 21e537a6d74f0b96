"""A rater changes her own blind label before the medium's check has run (issue 20).

Allowed while the medium has no second-check result, no final label and no adjudicator's
decision, in an open campaign, on the rater's own blind pass only. The change is logged in the
audit log (``change_label``, with the label before and after). Because the first check may
already have run on the old label (every blind pass in), it is run again on the new one: a
disagreement now opens an adjudication; an agreement now withdraws the adjudication the old
label opened, as long as nobody decided it (``adjudication_withdrawn`` in the audit log).

Same locking as :mod:`.workflow`: the medium's assignment rows are locked first, so a change
and a concurrent submit or decision of the same medium are serialised.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling._tx import transaction
from fpgrade.labelling.model import Action, AssignmentError, AssignmentState, LabellingError, PassKind
from fpgrade.labelling.names import free_text
from fpgrade.labelling.state import first_check
from fpgrade.labelling.users import Account, require
from fpgrade.labelling.workflow import (
    SubmitResult, _annotations, _checked_answer, _medium_rows, _open_campaign, _pass, _status_of,
    open_adjudication,
)
from fpgrade.registry import Registry, get_registry
from fpgrade.storage.tables import Annotation, Assignment, CheckResult, FinalLabel


class TooLateError(LabellingError):
    """The medium's check has run (or it was adjudicated): the label can no longer change."""


def my_changeable(session: Session, user: Account, campaign_id: int) -> list[Annotation]:
    """The user's blind labels of a campaign that may still change, newest first."""
    me = require(session, user, Action.LABEL)
    done = set(session.exec(select(CheckResult.media_id).where(
        CheckResult.campaign_id == campaign_id)).all())
    done |= set(session.exec(select(FinalLabel.media_id).where(
        FinalLabel.campaign_id == campaign_id)).all())
    done |= set(session.exec(select(Annotation.media_id).where(
        Annotation.campaign_id == campaign_id,
        Annotation.pass_kind == PassKind.ADJUDICATION.value)).all())
    mine = session.exec(select(Annotation).where(
        Annotation.campaign_id == campaign_id, Annotation.user_id == me.id,
        Annotation.pass_kind == PassKind.BLIND.value).order_by(Annotation.id.desc())).all()
    return [a for a in mine if a.media_id not in done]


def change_label(session: Session, user: Account, assignment_id: int, *,
                 label: str | None = None, cannot_grade: str | None = None,
                 note: str | None = None, registry: Registry | None = None) -> SubmitResult:
    """Change the user's stored blind pass of ``assignment_id`` (label or "cannot grade", and
    the note: ``None`` keeps the stored one) until the medium's check has run.

    :raises AssignmentError: not the user's blind pass; :class:`TooLateError`: the second
        check ran, or an adjudicator decided, or a final label exists;
        :class:`LabellingError`: bad label or reason.
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
        rows = _medium_rows(session, campaign.id, assignment.media_id)
        annotations = _annotations(session, [a.id for a in rows])
        mine = annotations.get(assignment_id)
        if mine is None or mine.user_id != me.id:
            raise AssignmentError(f"assignment {assignment_id} holds no label of {me.name!r}")
        medium = assignment.media_id
        if session.exec(select(CheckResult.id).where(CheckResult.campaign_id == campaign.id,
                                                     CheckResult.media_id == medium)).first():
            raise TooLateError(f"medium #{medium}: its second check has run; the label can no "
                               "longer change (ask the adjudicator)")
        if session.exec(select(FinalLabel.id).where(FinalLabel.campaign_id == campaign.id,
                                                    FinalLabel.media_id == medium)).first() \
                or any(a.pass_kind == PassKind.ADJUDICATION and a.state == AssignmentState.DONE
                       for a in rows):
            raise TooLateError(f"medium #{medium} was decided already; the label can no longer "
                               "change")
        before = (mine.label, mine.cannot_grade)
        mine.label, mine.cannot_grade = answer, reason
        mine.note = note if note is not None else mine.note   # no comment given: kept
        session.add(mine)
        session.flush()
        audit.record(session, me.name, "change_label", campaign_id=campaign.id, media_id=medium,
                     assignment_id=assignment_id, label_before=before[0],
                     cannot_grade_before=before[1], label=answer, cannot_grade=reason)
        _first_check_again(session, campaign, medium, rows, me.name)
        return SubmitResult(mine.id, False, _status_of(session, campaign, rows), answer, reason)

    return transaction(session, work)


def _first_check_again(session: Session, campaign, medium: int, rows: list[Assignment],
                       actor: str) -> None:
    blind = [a for a in rows if a.pass_kind == PassKind.BLIND]
    if any(a.state != AssignmentState.DONE for a in blind):
        return  # the first check has not run yet: it runs at the last blind pass
    annotations = _annotations(session, [a.id for a in blind])
    passes = [_pass(annotations[a.id]) for a in blind if a.id in annotations]
    agreed = first_check(passes, campaign.blind_passes)
    audit.record(session, actor, "first_check", campaign_id=campaign.id, media_id=medium,
                 outcome="agree" if agreed else "disagree", label=agreed, after="change_label")
    pending = [a for a in rows if a.pass_kind == PassKind.ADJUDICATION
               and a.state != AssignmentState.DONE]
    if agreed is None:
        reason = ("cannot grade" if any(p.cannot_grade for p in passes)
                  else "blind passes disagree")
        open_adjudication(session, campaign, medium, actor, reason)
    elif pending:
        session.execute(delete(Assignment).where(Assignment.id.in_([a.id for a in pending])))
        audit.record(session, actor, "adjudication_withdrawn", campaign_id=campaign.id,
                     media_id=medium, reason="blind passes agree after a change")
