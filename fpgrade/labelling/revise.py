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

from sqlmodel import Session, select

from fpgrade.labelling._tx import transaction
from fpgrade.labelling.model import (
    Action, AssignmentError, AssignmentState, LabellingError, PassKind,
)
from fpgrade.labelling.names import free_text
from fpgrade.labelling.passes import (
    annotations_of, change_pass, medium_rows, open_blind_write, status_of,
)
from fpgrade.labelling.users import Account, require
from fpgrade.labelling.workflow import SubmitResult
from fpgrade.registry import Registry, get_registry
from fpgrade.storage.tables import Annotation, CheckResult, FinalLabel


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
        opened = open_blind_write(session, user, assignment_id, registry, label, cannot_grade)
        me, campaign, medium = opened.me, opened.campaign, opened.assignment.media_id
        rows = medium_rows(session, campaign.id, medium)
        mine = annotations_of(session, [a.id for a in rows]).get(assignment_id)
        if mine is None or mine.user_id != me.id:
            raise AssignmentError(f"assignment {assignment_id} holds no label of {me.name!r}")
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
        mine.note = note if note is not None else mine.note   # no comment given: kept
        change_pass(session, campaign, mine, label=opened.label, cannot_grade=opened.cannot_grade,
                    actor=me.name, action="change_label", details={
                        "label_before": mine.label, "cannot_grade_before": mine.cannot_grade,
                        "label": opened.label, "cannot_grade": opened.cannot_grade})
        return SubmitResult(mine.id, False, status_of(session, campaign, rows), opened.label,
                            opened.cannot_grade)

    return transaction(session, work)

