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
- Incremental (:mod:`.changes`): a pull asks Label Studio only for the tasks of the project
  updated since the cursor, page by page. Its cost grows with the tasks changed since the last
  pull, not with the size of the project (``bench/labelstudio_pull.py``).
- The cursor is the newest task stamp applied. A pull starts :data:`OVERLAP` before it: an
  annotation whose save committed a little after its stamp (after the previous pull had read
  past that stamp) is still seen; what is re-read is recognised as unchanged. Within one pull the
  pages follow each other without overlap: an annotation that commits after a long pull has read
  past its stamp, and whose stamp is more than OVERLAP before that pull's last cursor, is seen
  only by ``full=True`` (``fpgrade sync pull --full``, which reads every task again and also
  reports pushed tasks deleted in Label Studio). Label Studio commits a save at once (no
  transaction spans a request), so the window is milliseconds.
- Each page is read, then written in one retried transaction together with the advanced cursor.
  A server that goes down or times out mid-pull (or a pull that is killed) leaves the pages
  before it stored with their cursor and nothing of the page being read; the next pull resumes
  there. No database transaction is held across a request to the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from sqlmodel import Session, func, select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from fpgrade.errors import FpgradeError
from fpgrade.registry import Registry
from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import (Annotation, AnnotationSource, Assignment, AuditEvent, Campaign,
                                    LsAnnotation, LsProject, LsTask)
from fpgrade.sync.changes import ChangedTask, changed_tasks, format_stamp, overlap_start, parse_stamp
from fpgrade.sync.client import Server, SyncError
from fpgrade.sync.config import level_of

ACTOR = "label-studio-sync"
#: how far before the cursor a pull starts reading again (see the module docstring)
OVERLAP = timedelta(seconds=10)


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


class _Users:
    """Label Studio user id -> ``ls:<email>``; the users are listed again for an id not known
    yet (a user created during the pull), once per such id."""

    def __init__(self, server: Server) -> None:
        self.server, self.names, self.asked = server, {}, set()

    def name(self, user_id: int | None) -> str:
        if user_id is not None and user_id not in self.names and user_id not in self.asked:
            self.asked.add(user_id)
            client = self.server.client
            self.names = {u.id: (u.email or u.username or f"user{u.id}") for u in
                          self.server.call("listing users", lambda: list(client.users.list()))}
        return f"ls:{self.names.get(user_id, user_id)}"[:128]


def _remotes(page: list[ChangedTask], tasks: dict[int, int], names: dict) -> list[_Remote]:
    """The live annotations of the page's pushed tasks (other tasks of the project are not ours)."""
    return [_Remote(a.id, t.id, tasks[t.id], names[a.user_id], a.updated_at, a.result)
            for t in page if t.id in tasks for a in t.annotations if not a.cancelled]


def _mark_deleted(session: Session, ls_project_id: int, read_at: dict[int, object], live: set[int],
                  report: PullReport) -> None:
    """Our pulled annotations of these media (medium id -> the stamp its task had when the page
    was read) whose Label Studio annotation is gone. One stored from a later read than this page
    (another pull running beside this one) is not judged by it."""
    rows = session.exec(select(LsAnnotation, Annotation.media_id)
                        .join(Annotation, Annotation.id == LsAnnotation.annotation_id)
                        .where(LsAnnotation.ls_project_id == ls_project_id,
                               LsAnnotation.deleted.is_(False),
                               Annotation.media_id.in_(sorted(read_at)))).all()
    for row, media_id in rows:
        if row.ls_annotation_id in live or parse_stamp(row.updated_at) > read_at[media_id]:
            continue
        row.deleted = True
        session.add(row)
        session.add(AuditEvent(actor=ACTOR, action="ls_annotation_deleted", details={
            "ls_annotation_id": row.ls_annotation_id, "annotation_id": row.annotation_id}))
        report.deleted.append(row.ls_annotation_id)
        report.problems.append(f"Label Studio annotation {row.ls_annotation_id} was deleted in "
                               "Label Studio; our copy is kept and marked deleted")


def _store_page(session: Session, registry: Registry, ls_project_id: int, page: list[ChangedTask],
                users: _Users, report: PullReport) -> None:
    """One page and the cursor after it, in one retried transaction (counted once)."""
    names = {a.user_id: users.name(a.user_id) for t in page for a in t.annotations}  # requests first
    newest = format_stamp(max(t.updated_at for t in page))
    before = replace(report, deleted=list(report.deleted), problems=list(report.problems))

    def work() -> None:
        for name in ("added", "as_blind_pass", "updated", "unchanged"):  # a retried attempt
            setattr(report, name, getattr(before, name))               # counts once
        report.deleted[:], report.problems[:] = before.deleted, before.problems
        project = session.get(LsProject, ls_project_id)
        tasks = dict(session.exec(select(LsTask.task_id, LsTask.media_id).where(
            LsTask.ls_project_id == ls_project_id,
            LsTask.task_id.in_([t.id for t in page]))).all())
        remotes = _remotes(page, tasks, names)
        for remote in remotes:
            _apply(session, registry, project, remote, report)
        _mark_deleted(session, ls_project_id, {tasks[t.id]: t.updated_at for t in page if t.id in tasks},
                      {r.id for r in remotes}, report)
        if not project.pull_cursor or parse_stamp(project.pull_cursor) < parse_stamp(newest):
            project.pull_cursor = newest
            session.add(project)
        report.cursor = project.pull_cursor

    try:
        in_transaction(session, work)
    except IntegrityError:  # another pull stored one of these annotations first: apply the
        session.rollback()  # page again, over what it stored
        in_transaction(session, work)


def pull_project(session: Session, server: Server, registry: Registry, ls_project_id: int, *,
                 full: bool = False) -> PullReport:
    """Pull one synced project (an :class:`LsProject` id); see the module docstring."""
    def read():
        project = session.get(LsProject, ls_project_id)
        return project.project_id, project.pull_cursor

    project_id, cursor = in_transaction(session, read)
    report, users, seen = PullReport(cursor=cursor), _Users(server), set()
    since = None if full else overlap_start(cursor, OVERLAP)
    for page in changed_tasks(server, project_id, since):
        seen.update(t.id for t in page)
        _store_page(session, registry, ls_project_id, page, users, report)
    if full:
        tasks = in_transaction(session, lambda: dict(session.exec(select(
            LsTask.task_id, LsTask.media_id).where(LsTask.ls_project_id == ls_project_id)).all()))
        for task_id in sorted(set(tasks) - seen):
            report.problems.append(f"Label Studio task {task_id} (medium {tasks[task_id]}) is gone "
                                   "from the project: push again to add it back")
    return report


def pull(session: Session, server: Server, registry: Registry, campaign: str | None = None, *,
         full: bool = False) -> dict[str, PullReport]:
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
    return {title: pull_project(session, server, registry, pid, full=full) for pid, title in found}
