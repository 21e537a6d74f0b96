"""One Label Studio annotation into the triple-check workflow: its lifecycle mirrored (issue 17).

A Label Studio annotation is a source of one pass (:mod:`.pull` reads them):

- new: stored as an :class:`~fpgrade.storage.tables.Annotation` (pass kind ``label-studio``)
  that takes an *open* blind assignment of the medium (atomically, as a page's claim would);
  when the medium's last blind pass is in, the first check runs. A new annotation by a rater
  who already holds a pass of the medium from this project replaces that pass (where the
  campaign forbids one rater twice): the old one is withdrawn, the new one takes its place.
  With no open pass left, or a rater whose pass came from fpgrade's own pages, it is stored
  without a pass (reported).
- edited: the pass gets the new label (:func:`fpgrade.labelling.withdraw.relabel_pass`:
  audited, the decisions that rested on it reopened, the first check run again);
- edited into something that is not a level of the scale (``mild`` with no side): its pass is
  withdrawn and the problem reported; a later valid edit counts again;
- deleted: its pass is withdrawn (:func:`fpgrade.labelling.withdraw.withdraw_pass`: audited, its
  blind assignment open again, a final label, second check or adjudication that rested on it
  reopened) and reported.

A new choice that is not a level of the scale is reported and recorded (not reported again
unless edited). :class:`~fpgrade.storage.tables.LsAnnotation` keeps each Label Studio
annotation id with the ``updated_at`` last applied, so a re-run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, func, select

from fpgrade.errors import FpgradeError
from fpgrade.labelling.withdraw import relabel_pass, withdraw_pass
from fpgrade.registry import Registry
from fpgrade.storage.tables import (Annotation, AnnotationSource, Assignment, AuditEvent, Campaign,
                                    LsAnnotation, LsProject)
from fpgrade.sync.config import level_of

ACTOR = "label-studio-sync"


@dataclass(frozen=True)
class Remote:
    """A live Label Studio annotation of a pushed task."""

    id: int
    task_id: int
    media_id: int
    annotator: str
    updated_at: str
    result: list


def _reopened(words: list[str]) -> str:
    return f" (reopened: {'; '.join(words)})" if words else ""


def take_blind_pass(session: Session, campaign: Campaign, media_id: int, annotator: str):
    """An open blind assignment of the medium, marked done for ``annotator``, or (None, why)."""
    from fpgrade.labelling.model import AssignmentState, PassKind
    from fpgrade.storage.tables import utcnow

    if campaign.state != "open":
        return None, f"campaign {campaign.name!r} is {campaign.state}"
    if not campaign.allow_same_rater and session.exec(select(Annotation.id).where(
            Annotation.media_id == media_id, Annotation.campaign_id == campaign.id,
            Annotation.annotator == annotator, Annotation.assignment_id.is_not(None))).first():
        return None, f"{annotator} already gave a blind pass of this medium"
    candidates = session.exec(select(Assignment).where(
        Assignment.campaign_id == campaign.id, Assignment.media_id == media_id,
        Assignment.pass_kind == PassKind.BLIND.value,
        Assignment.state == AssignmentState.OPEN.value).order_by(Assignment.pass_number)).all()
    for assignment in candidates:
        won = session.execute(update(Assignment).where(
            Assignment.id == assignment.id, Assignment.state == AssignmentState.OPEN.value)
            .values(state=AssignmentState.DONE.value, done_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if won == 1:
            session.refresh(assignment)
            return assignment, None
    return None, "no open blind pass left for this medium"


def _replaced_pass(session: Session, ls_project: LsProject, campaign: Campaign,
                   remote: Remote) -> int | None:
    """The pass this rater already holds of the medium from this project (to be replaced by
    ``remote``), where the campaign forbids one rater twice."""
    if campaign.allow_same_rater:
        return None
    return session.exec(select(Annotation.id).join(
        LsAnnotation, LsAnnotation.annotation_id == Annotation.id).where(
        LsAnnotation.ls_project_id == ls_project.id, LsAnnotation.ls_annotation_id != remote.id,
        Annotation.media_id == remote.media_id, Annotation.campaign_id == campaign.id,
        Annotation.annotator == remote.annotator, Annotation.assignment_id.is_not(None))).first()


def withdraw_deleted(session: Session, row: LsAnnotation, campaign: Campaign | None,
                     report) -> None:
    """A pulled annotation gone from Label Studio: its pass withdrawn, reported."""
    ours = session.get(Annotation, row.annotation_id) if row.annotation_id else None
    what = f"{ours.annotator}'s pass {ours.label or ours.cannot_grade}" if ours else "its copy"
    reopened = (withdraw_pass(session, row.annotation_id, ACTOR,
                              f"Label Studio annotation {row.ls_annotation_id} deleted")
                if ours else [])
    row.deleted, row.annotation_id = True, None
    session.add(row)
    session.add(AuditEvent(actor=ACTOR, action="ls_annotation_deleted",
                           campaign_id=campaign.id if campaign else None,
                           media_id=ours.media_id if ours else None, details={
                               "ls_annotation_id": row.ls_annotation_id,
                               "annotation_id": ours.id if ours else None}))
    report.deleted.append(row.ls_annotation_id)
    report.withdrawn += 1 if ours else 0
    report.problems.append(f"Label Studio annotation {row.ls_annotation_id} was deleted in Label "
                           f"Studio: {what} is withdrawn{_reopened(reopened)}")


def apply(session: Session, registry: Registry, ls_project: LsProject, remote: Remote,
          report) -> None:
    """Apply one live annotation (new, edited or unchanged); see the module docstring."""
    from fpgrade.labelling.workflow import _after_blind_pass, _medium_rows

    scale = registry.scale(ls_project.scale)
    seen = session.exec(select(LsAnnotation).where(
        LsAnnotation.ls_project_id == ls_project.id,
        LsAnnotation.ls_annotation_id == remote.id)).first()
    if seen is not None and seen.updated_at == remote.updated_at and not seen.deleted:
        report.unchanged += 1
        return
    where = f"Label Studio annotation {remote.id} (task {remote.task_id}, {remote.annotator})"
    try:
        label = level_of(scale, remote.result)
    except FpgradeError as exc:
        label, invalid = None, str(exc)
    campaign = session.get(Campaign, ls_project.campaign_id) if ls_project.campaign_id else None
    ours = session.get(Annotation, seen.annotation_id) if seen and seen.annotation_id else None
    if ours is not None:  # an edit of a pulled pass
        seen.updated_at, seen.deleted = remote.updated_at, False
        if label is None:
            old = ours.label or ours.cannot_grade
            reopened = withdraw_pass(session, ours.id, ACTOR, f"{where} edited: {invalid}")
            seen.annotation_id = None
            report.withdrawn += 1
            report.problems.append(f"{where} was edited: {invalid}; the earlier label {old} is "
                                   f"withdrawn{_reopened(reopened)}")
        elif ours.label != label:
            old = ours.label or ours.cannot_grade
            reopened = relabel_pass(session, ours.id, label, ACTOR, f"{where} edited")
            report.updated += 1
            if reopened:
                report.problems.append(f"{where} was edited from {old} to {label}"
                                       f"{_reopened(reopened)}")
        session.add(seen)
        return
    seen = seen or LsAnnotation(ls_project_id=ls_project.id, ls_annotation_id=remote.id,
                                updated_at=remote.updated_at)
    seen.updated_at, seen.deleted = remote.updated_at, False
    if label is None:
        report.problems.append(f"{where}: {invalid}; skipped")
        session.add(seen)
        return
    if campaign is not None and (old := _replaced_pass(session, ls_project, campaign, remote)):
        before = session.get(Annotation, old)
        old_label = before.label or before.cannot_grade
        reopened = withdraw_pass(session, old, ACTOR, f"replaced by {where}")
        report.withdrawn += 1
        report.problems.append(f"{where} replaces the same rater's earlier label {old_label}, "
                               f"which is withdrawn{_reopened(reopened)}")
    assignment, why = (take_blind_pass(session, campaign, remote.media_id, remote.annotator)
                       if campaign else (None, "no campaign"))
    if assignment is None:
        report.problems.append(f"{where} stored but not counted as a blind pass: {why}")
        taken = session.exec(select(func.max(Annotation.pass_number)).where(
            Annotation.media_id == remote.media_id, Annotation.annotator == remote.annotator,
            Annotation.scale == scale.id)).one()
        number = (taken or 0) + 1
    else:
        number = assignment.pass_number
        clash = session.exec(select(Annotation.id).where(
            Annotation.media_id == remote.media_id, Annotation.annotator == remote.annotator,
            Annotation.pass_number == number, Annotation.scale == scale.id)).first()
        if clash is not None:  # a pass number this rater holds without a pass: the next free
            number = (session.exec(select(func.max(Annotation.pass_number)).where(
                Annotation.media_id == remote.media_id, Annotation.annotator == remote.annotator,
                Annotation.scale == scale.id)).one() or 0) + 1
    ours = Annotation(media_id=remote.media_id, annotator=remote.annotator, pass_number=number,
                      scale=scale.id, label=label, source=AnnotationSource.LABEL_STUDIO,
                      pass_kind="label-studio", campaign_id=campaign.id if campaign else None,
                      assignment_id=assignment.id if assignment else None,
                      note=f"Label Studio annotation {remote.id} of task {remote.task_id}")
    session.add(ours)
    session.flush()
    seen.annotation_id = ours.id
    session.add(seen)
    session.add(AuditEvent(actor=ACTOR, action="ls_annotation_pull",
                           campaign_id=ours.campaign_id, media_id=ours.media_id,
                           assignment_id=ours.assignment_id, details={
                               "annotation_id": ours.id, "ls_annotation_id": remote.id,
                               "annotator": remote.annotator, "label": label}))
    report.added += 1
    if assignment is not None:
        report.as_blind_pass += 1
        rows = _medium_rows(session, campaign.id, remote.media_id)
        _after_blind_pass(session, campaign, remote.media_id, rows, ACTOR)
