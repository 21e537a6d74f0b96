"""Withdrawing a pass, and reopening what rested on it (issue 17).

Passes from a source whose lifecycle fpgrade mirrors (Label Studio: an annotation deleted,
replaced by a new one of the same rater, or edited into a choice that is not a level of the
scale) can be withdrawn or relabelled. Nothing that rested on the old label is kept silently:

- :func:`reopen_medium` removes the campaign's decisions about a medium: its final label, its
  second check and its adjudication (decided or not), each copied whole into an audit event
  (``final_label_reopened``, ``check_reopened``, ``adjudication_reopened``). The medium is then
  where its remaining passes put it (:func:`fpgrade.labelling.state.medium_status`).
- :func:`withdraw_pass` deletes the annotation (copied whole into ``pass_withdrawn``), reopens
  its blind assignment for the next pass, and reopens the medium.
- :func:`relabel_pass` changes a pass's label (``pass_relabelled``), reopens the medium and runs
  the first check again when every blind pass is in.

A campaign that closed itself (every medium decided) opens again when one of its media is
reopened here (:func:`.campaigns.reopen_if_closed_by_itself`); one an admin closed stays closed.

Deviation from :mod:`.final` ("nothing replaces a campaign's decision"): a decision whose blind
pass is withdrawn or changed is removed here, the only place that does so, always audited.
Everything runs in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

from fpgrade.labelling import audit
from fpgrade.labelling.campaigns import reopen_if_closed_by_itself
from fpgrade.labelling.model import AssignmentState, PassKind
from fpgrade.storage.tables import (Annotation, Assignment, Campaign, CheckResult, FinalLabel,
                                    LsAnnotation)


def _copy(row) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else getattr(v, "value", v))
            for k, v in row.model_dump().items()}


def reopen_medium(session: Session, campaign: Campaign, media_id: int, actor: str,
                  why: str) -> list[str]:
    """Remove the campaign's final label, second check and adjudication of a medium (each
    audited); returns what was reopened, in words."""
    reopened: list[str] = []
    final = session.exec(select(FinalLabel).where(FinalLabel.media_id == media_id,
                                                  FinalLabel.scale == campaign.scale)).first()
    if final is not None and final.campaign_id == campaign.id:
        audit.record(session, actor, "final_label_reopened", campaign_id=campaign.id,
                     media_id=media_id, why=why, final_label=_copy(final))
        reopened.append(f"final label {final.label} ({final.method.replace('_', ' ')}, "
                        f"by {final.decided_by})")
        session.delete(final)
        session.flush()
    check = session.exec(select(CheckResult).where(CheckResult.campaign_id == campaign.id,
                                                   CheckResult.media_id == media_id)).first()
    if check is not None:
        audit.record(session, actor, "check_reopened", campaign_id=campaign.id,
                     media_id=media_id, why=why, check=_copy(check))
        reopened.append(f"second check ({check.outcome})")
        session.delete(check)
    for adjudication in session.exec(select(Assignment).where(
            Assignment.campaign_id == campaign.id, Assignment.media_id == media_id,
            Assignment.pass_kind == PassKind.ADJUDICATION.value)).all():
        decided = session.exec(select(Annotation).where(
            Annotation.assignment_id == adjudication.id)).first()
        audit.record(session, actor, "adjudication_reopened", campaign_id=campaign.id,
                     media_id=media_id, assignment_id=adjudication.id, why=why,
                     decision=_copy(decided) if decided else None)
        if decided is not None:
            reopened.append(f"adjudication decided by {decided.annotator}")
            _forget(session, decided)
        else:
            reopened.append("adjudication (not decided)")
        session.flush()
        session.delete(adjudication)
    session.flush()
    return reopened


def _forget(session: Session, annotation: Annotation) -> None:
    session.execute(update(LsAnnotation).where(LsAnnotation.annotation_id == annotation.id)
                    .values(annotation_id=None).execution_options(synchronize_session=False))
    session.delete(annotation)


def withdraw_pass(session: Session, annotation_id: int, actor: str, why: str) -> list[str]:
    """Withdraw one pass: its annotation is deleted (audited whole), its blind assignment is
    open again, the medium reopened. Returns what was reopened, in words (empty for a pass that
    held no assignment and no decision rested on)."""
    annotation = session.get(Annotation, annotation_id)
    if annotation is None:
        return []
    campaign = session.get(Campaign, annotation.campaign_id) if annotation.campaign_id else None
    assignment = session.get(Assignment, annotation.assignment_id) if annotation.assignment_id else None
    reopened: list[str] = []
    if campaign is not None and assignment is not None:
        reopened = reopen_medium(session, campaign, annotation.media_id, actor, why)
        if reopen_if_closed_by_itself(session, campaign, actor, why):
            reopened.append(f"campaign {campaign.name} (it had closed itself)")
    audit.record(session, actor, "pass_withdrawn", campaign_id=annotation.campaign_id,
                 media_id=annotation.media_id, assignment_id=annotation.assignment_id, why=why,
                 annotation=_copy(annotation), reopened=reopened)
    if session.get(Annotation, annotation_id) is not None:
        _forget(session, annotation)
        session.flush()
    if assignment is not None and assignment.pass_kind == PassKind.BLIND:
        session.execute(update(Assignment).where(Assignment.id == assignment.id)
                        .values(state=AssignmentState.OPEN.value, user_id=None, claimed_at=None,
                                done_at=None).execution_options(synchronize_session=False))
        reopened.insert(0, f"blind pass {assignment.pass_number} open again")
    return reopened


def relabel_pass(session: Session, annotation_id: int, label: str, actor: str, why: str) -> list[str]:
    """Change a pass's label (audited with both labels); where it is a blind pass of a campaign,
    the medium is reopened and the first check runs again once every blind pass is in."""
    from fpgrade.labelling.passes import change_pass

    annotation = session.get(Annotation, annotation_id)
    if annotation is None or annotation.label == label:
        return []
    campaign = session.get(Campaign, annotation.campaign_id) if annotation.campaign_id else None
    return change_pass(session, campaign, annotation, label=label, cannot_grade=None, actor=actor,
                       action="pass_relabelled", details={
                           "why": why, "annotation_id": annotation.id,
                           "annotator": annotation.annotator, "from": annotation.label,
                           "to": label}, reopen_why=why)
