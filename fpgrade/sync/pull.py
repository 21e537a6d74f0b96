"""``fpgrade sync pull``: Label Studio annotations into the triple-check workflow.

Each Label Studio annotation (not cancelled) of a pushed task becomes one
:class:`~fpgrade.storage.tables.Annotation` with ``pass_kind`` ``label-studio``, source
``label-studio``, the Label Studio user (``ls:<email>``) as annotator. It counts as a blind pass:
it takes an *open* blind assignment of the medium in the campaign (atomically, as a page's claim
would: a pass the UI has claimed is never taken), and when the medium's last blind pass is in the
workflow's first check runs (:mod:`fpgrade.labelling.workflow`). With no open pass left, or the
same Label Studio user a second time where the campaign forbids it, the annotation is stored
without a pass (reported).

- Re-running adds nothing: :class:`~fpgrade.storage.tables.LsAnnotation` keeps each Label Studio
  annotation id with the ``updated_at`` last applied.
- An edit in Label Studio updates our annotation's label (audit event ``ls_annotation_update``,
  old and new label); a deletion is reported and marked (``ls_annotation_deleted``), our label
  stays (the audit trail must not lose a pass silently).
- A choice that is not a level of the scale is reported and skipped (recorded, so it is not
  reported again unless edited).
- Everything is read from the server before anything is written; each annotation is then written
  in its own retried transaction. A server that is down or times out mid-pull therefore stores
  nothing of the pull, and the next pull starts again; the cursor (newest ``updated_at`` applied)
  advances only after a complete pull. (Label Studio's API has no "annotations updated since"
  filter on tasks: every pull reads each pushed task's annotations.)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlmodel import Session, func, select
from sqlalchemy import update

from fpgrade.errors import FpgradeError
from fpgrade.registry import Registry
from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import (Annotation, AnnotationSource, Assignment, AuditEvent, Campaign,
                                    LsAnnotation, LsProject, LsTask)
from fpgrade.sync.client import Server, SyncError
from fpgrade.sync.config import level_of

ACTOR = "label-studio-sync"


@dataclass
class PullReport:
    added: int = 0
    as_blind_pass: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cursor: str | None = None


@dataclass(frozen=True)
class _Remote:
    id: int
    task_id: int
    media_id: int
    annotator: str
    updated_at: str
    result: list


def _fetch(server: Server, project_id: int, tasks: dict[int, int]) -> list[_Remote]:
    """Every live annotation of the pushed tasks (all requests before any write)."""
    client = server.client
    users = {u.id: (u.email or u.username or f"user{u.id}")
             for u in server.call("listing users", lambda: list(client.users.list()))}
    out = []
    for task_id, media_id in sorted(tasks.items()):
        for a in server.call(f"reading the annotations of task {task_id}", client.annotations.list,
                             id=task_id):
            if getattr(a, "was_cancelled", False):
                continue
            who = a.completed_by if isinstance(a.completed_by, int) else getattr(a.completed_by, "id", None)
            updated = a.updated_at.isoformat() if hasattr(a.updated_at, "isoformat") else str(a.updated_at)
            out.append(_Remote(a.id, task_id, media_id, f"ls:{users.get(who, who)}"[:128], updated,
                               list(a.result or [])))
    return out


def _take_blind_pass(session: Session, campaign: Campaign, media_id: int, annotator: str):
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


def _apply(session: Session, registry: Registry, ls_project: LsProject, remote: _Remote,
           report: PullReport) -> None:
    from fpgrade.labelling.workflow import _after_blind_pass, _medium_rows

    scale = registry.scale(ls_project.scale)
    seen = session.exec(select(LsAnnotation).where(
        LsAnnotation.ls_project_id == ls_project.id,
        LsAnnotation.ls_annotation_id == remote.id)).first()
    if seen is not None and seen.updated_at == remote.updated_at and not seen.deleted:
        report.unchanged += 1
        return
    try:
        label = level_of(scale, remote.result)
    except FpgradeError as exc:
        report.problems.append(f"Label Studio annotation {remote.id} (task {remote.task_id}, "
                               f"{remote.annotator}): {exc}; skipped")
        label = None
    if seen is not None and seen.annotation_id is not None:  # an edit of a stored annotation
        if label is not None:
            ours = session.get(Annotation, seen.annotation_id)
            if ours.label != label:
                session.add(AuditEvent(actor=ACTOR, action="ls_annotation_update",
                                       campaign_id=ours.campaign_id, media_id=ours.media_id,
                                       assignment_id=ours.assignment_id, details={
                                           "annotation_id": ours.id, "ls_annotation_id": remote.id,
                                           "annotator": remote.annotator, "from": ours.label,
                                           "to": label}))
                ours.label = label
                session.add(ours)
                report.updated += 1
        seen.updated_at, seen.deleted = remote.updated_at, False
        session.add(seen)
        return
    seen = seen or LsAnnotation(ls_project_id=ls_project.id, ls_annotation_id=remote.id,
                                updated_at=remote.updated_at)
    seen.updated_at = remote.updated_at
    if label is None:
        session.add(seen)
        return
    campaign = session.get(Campaign, ls_project.campaign_id) if ls_project.campaign_id else None
    assignment, why = (_take_blind_pass(session, campaign, remote.media_id, remote.annotator)
                       if campaign else (None, "no campaign"))
    if assignment is None:
        report.problems.append(f"Label Studio annotation {remote.id} (task {remote.task_id}) "
                               f"stored but not counted as a blind pass: {why}")
        taken = session.exec(select(func.max(Annotation.pass_number)).where(
            Annotation.media_id == remote.media_id, Annotation.annotator == remote.annotator,
            Annotation.scale == scale.id)).one()
        number = (taken or 0) + 1
    else:
        number = assignment.pass_number
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


def pull_project(session: Session, server: Server, registry: Registry, ls_project_id: int) -> PullReport:
    """Pull one synced project (an :class:`LsProject` id); see the module docstring."""
    def read():
        project = session.get(LsProject, ls_project_id)
        tasks = {t.task_id: t.media_id for t in session.exec(select(LsTask).where(
            LsTask.ls_project_id == ls_project_id)).all()}
        known = {a.ls_annotation_id for a in session.exec(select(LsAnnotation).where(
            LsAnnotation.ls_project_id == ls_project_id, LsAnnotation.deleted.is_(False),
            LsAnnotation.annotation_id.is_not(None))).all()}
        return project.project_id, tasks, known

    project_id, tasks, known = in_transaction(session, read)
    remotes = _fetch(server, project_id, tasks)
    report = PullReport()
    for remote in remotes:
        before = replace(report, problems=list(report.problems))

        def work(r=remote, before=before) -> None:
            for name in ("added", "as_blind_pass", "updated", "unchanged"):  # a retried attempt
                setattr(report, name, getattr(before, name))               # counts once
            report.problems[:] = before.problems
            _apply(session, registry, session.get(LsProject, ls_project_id), r, report)

        in_transaction(session, work)
    gone = sorted(known - {r.id for r in remotes})

    def finish() -> str | None:
        for ls_id in gone:
            row = session.exec(select(LsAnnotation).where(
                LsAnnotation.ls_project_id == ls_project_id,
                LsAnnotation.ls_annotation_id == ls_id)).one()
            row.deleted = True
            session.add(row)
            session.add(AuditEvent(actor=ACTOR, action="ls_annotation_deleted", details={
                "ls_annotation_id": ls_id, "annotation_id": row.annotation_id}))
        project = session.get(LsProject, ls_project_id)
        newest = max([r.updated_at for r in remotes] + [project.pull_cursor or ""])
        project.pull_cursor = newest or None
        session.add(project)
        return project.pull_cursor

    report.cursor = in_transaction(session, finish)
    report.deleted = gone
    for ls_id in gone:
        report.problems.append(f"Label Studio annotation {ls_id} was deleted in Label Studio; "
                               "our copy is kept and marked deleted")
    return report


def pull(session: Session, server: Server, registry: Registry, campaign: str | None = None) -> dict[str, PullReport]:
    """Pull every project synced with ``server`` (or the one of ``campaign``): title -> report."""
    def projects():
        query = select(LsProject).where(LsProject.url == server.url)
        rows = session.exec(query).all()
        if campaign is not None:
            from fpgrade.labelling.campaigns import get_campaign

            wanted = get_campaign(session, campaign).id
            rows = [r for r in rows if r.campaign_id == wanted]
        return [(r.id, r.title) for r in rows]

    found = in_transaction(session, projects)
    if not found:
        raise SyncError(f"nothing pushed to Label Studio at {server.url}"
                        + (f" for campaign {campaign!r}" if campaign else "") + ": push first")
    return {title: pull_project(session, server, registry, pid) for pid, title in found}
