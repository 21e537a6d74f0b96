"""``fpgrade sync pull``: Label Studio annotations into the triple-check workflow.

Each Label Studio annotation (not cancelled) of a pushed task is one pass of the triple-check
workflow, its lifecycle mirrored (:mod:`.apply`): new, it takes an open blind pass; edited, the
pass follows (decisions that rested on it reopened); deleted, replaced by the same rater, or
edited into a choice outside the scale, its pass is withdrawn (audited, reopened, reported).
Within a page, deletions are applied before new annotations, so a rater who deletes her
annotation and makes a new one gets her pass back with the new label.

- Re-running adds nothing: :class:`~fpgrade.storage.tables.LsAnnotation` keeps each Label Studio
  annotation id with the ``updated_at`` last applied.
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

from sqlmodel import Session, select
from sqlalchemy.exc import IntegrityError

from fpgrade.registry import Registry
from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import Annotation, Campaign, LsAnnotation, LsProject, LsTask
from fpgrade.sync.apply import ACTOR, Remote, apply, withdraw_deleted  # noqa: F401 - ACTOR re-exported
from fpgrade.sync.changes import ChangedTask, changed_tasks, format_stamp, overlap_start, parse_stamp
from fpgrade.sync.client import Server, ServerDownError, SyncError
#: how far before the cursor a pull starts reading again (see the module docstring)
OVERLAP = timedelta(seconds=10)


@dataclass
class PullReport:
    added: int = 0
    as_blind_pass: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    deleted: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cursor: str | None = None
    error: str | None = None  # why the pull of this project stopped (what came before is stored)


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


def _remotes(page: list[ChangedTask], tasks: dict[int, int], names: dict) -> list[Remote]:
    """The live annotations of the page's pushed tasks (other tasks of the project are not
    ours), oldest first within a task (a rater's newer annotation replaces her older one)."""
    return [Remote(a.id, t.id, tasks[t.id], names[a.user_id], a.updated_at, a.result)
            for t in page if t.id in tasks
            for a in sorted(t.annotations, key=lambda a: a.id) if not a.cancelled]


def _withdraw_deleted(session: Session, project: LsProject, read_at: dict[int, object],
                      live: set[int], report: PullReport) -> None:
    """Withdraw the passes of our pulled annotations of these media (medium id -> the stamp its
    task had when the page was read) whose Label Studio annotation is gone. One stored from a
    later read than this page (another pull running beside this one) is not judged by it."""
    rows = session.exec(select(LsAnnotation, Annotation.media_id)
                        .join(Annotation, Annotation.id == LsAnnotation.annotation_id)
                        .where(LsAnnotation.ls_project_id == project.id,
                               LsAnnotation.deleted.is_(False),
                               Annotation.media_id.in_(sorted(read_at)))).all()
    campaign = session.get(Campaign, project.campaign_id) if project.campaign_id else None
    for row, media_id in rows:
        if row.ls_annotation_id in live or parse_stamp(row.updated_at) > read_at[media_id]:
            continue
        withdraw_deleted(session, row, campaign, report)


def _store_page(session: Session, registry: Registry, ls_project_id: int, page: list[ChangedTask],
                users: _Users, report: PullReport) -> None:
    """One page and the cursor after it, in one retried transaction (counted once)."""
    names = {a.user_id: users.name(a.user_id) for t in page for a in t.annotations}  # requests first
    newest = format_stamp(max(t.updated_at for t in page))
    before = replace(report, deleted=list(report.deleted), problems=list(report.problems))

    def work() -> None:
        for name in ("added", "as_blind_pass", "updated", "unchanged", "withdrawn"):  # a retried attempt
            setattr(report, name, getattr(before, name))               # counts once
        report.deleted[:], report.problems[:] = before.deleted, before.problems
        project = session.get(LsProject, ls_project_id)
        tasks = dict(session.exec(select(LsTask.task_id, LsTask.media_id).where(
            LsTask.ls_project_id == ls_project_id,
            LsTask.task_id.in_([t.id for t in page]))).all())
        remotes = _remotes(page, tasks, names)
        _withdraw_deleted(session, project, {tasks[t.id]: t.updated_at for t in page if t.id in tasks},
                          {r.id for r in remotes}, report)
        for remote in remotes:
            apply(session, registry, project, remote, report)
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
                 full: bool = False, report: PullReport | None = None) -> PullReport:
    """Pull one synced project (an :class:`LsProject` id); see the module docstring. ``report``
    (filled as the pages are stored) is the caller's, so what was stored before a failure can
    still be shown."""
    def read():
        project = session.get(LsProject, ls_project_id)
        return project.project_id, project.pull_cursor

    project_id, cursor = in_transaction(session, read)
    report = report if report is not None else PullReport()
    report.cursor = cursor
    users, seen = _Users(server), set()
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
    """Pull every project synced with ``server`` (whatever URL it was pushed with; or the
    projects of ``campaign``): title -> report. A project that fails (gone from the server,
    refused) has its ``error`` set and the others are still pulled; a server that stops
    answering ends the pull, the projects not reached saying so. Only a server not reachable at
    all, or nothing pushed to it, raises."""
    from fpgrade.sync.links import gone_message, links, project_or_none

    campaign_id = None
    if campaign is not None:
        from fpgrade.labelling.campaigns import get_campaign

        campaign_id = in_transaction(session, lambda: get_campaign(session, campaign).id)
    rows = links(session, server, campaign_id)
    if not rows:
        raise SyncError(f"nothing pushed to Label Studio at {server.url}"
                        + (f" for campaign {campaign!r}" if campaign else "") + ": push first")
    names = in_transaction(session, lambda: {c.id: c.name for c in session.exec(select(Campaign)).all()})
    reports: dict[str, PullReport] = {}
    down: str | None = None
    pulled: dict[int, str] = {}
    for row in rows:
        title = row.title if row.title not in reports else f"{row.title} (project {row.project_id})"
        report = reports[title] = PullReport(cursor=row.pull_cursor)
        if row.project_id in pulled:  # two links made before one server was recognised under
            report.problems.append(  # two URLs: the project is pulled once
                f"Label Studio project {row.project_id} is linked twice (as {pulled[row.project_id]} "
                f"and {row.url}); pulled once, through the first")
            continue
        pulled[row.project_id] = row.url
        if down is not None:
            report.error = f"not pulled: {down}"
            continue
        try:
            if project_or_none(server, row.project_id) is None:
                report.error = gone_message(server, row, names.get(row.campaign_id))
                continue
            pull_project(session, server, registry, row.id, full=full, report=report)
        except ServerDownError as exc:
            report.error = down = str(exc)
        except SyncError as exc:
            report.error = str(exc)
    return reports
