"""Which stored Label Studio links (:class:`~fpgrade.storage.tables.LsProject`) belong to the
server a command talks to, and whether their projects are still there (issue 17).

A server is one server whatever URL reaches it (``http://localhost:8080`` and
``http://127.0.0.1:8080``, a host name and its address): a link stored under another URL is
the same server's when this server says so itself, i.e. it holds a task of that link's project
with the id fpgrade stored, in that project, carrying the medium's sha256 that fpgrade pushed
(``data.fpgrade_sha256``). Task ids are the server's own row ids and the sha256 names one file,
so another server cannot answer alike. (Label Studio reports no instance id of its own:
``/api/version`` gives only the release.) A URL is asked once per command; links keep the URL
they were made with, so commands using either URL share them.

A project deleted in Label Studio, or moved out of reach of the token, answers 404: it is
reported by name (:func:`gone_message`) and ``fpgrade sync push --campaign NAME --relink``
(:func:`relink`) points the link at a new project, keeping every annotation pulled.
"""

from __future__ import annotations

from sqlmodel import Session, select

from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import AuditEvent, LsAnnotation, LsProject, LsTask, Media
from fpgrade.sync.client import Server, SyncError

ACTOR = "label-studio-sync"


#: how many links of another URL are probed (one task each) before calling it another server
PROBES = 5


def _same_server(server: Server, session: Session, rows: list[tuple[int, int]]) -> bool:
    """Whether ``server`` holds a stored task of one of ``rows`` ((link id, project id) of
    another URL), in that project, with the medium's sha256 that fpgrade pushed."""
    def sample():
        found = []
        for row_id, project_id in rows:
            task = session.exec(select(LsTask.task_id, Media.sha256)
                                .join(Media, Media.id == LsTask.media_id)
                                .where(LsTask.ls_project_id == row_id).limit(1)).first()
            if task:
                found.append((project_id, task[0], task[1]))
            if len(found) == PROBES:
                break
        return found

    for project_id, task_id, sha256 in in_transaction(session, sample):
        try:
            task = server.call(f"reading task {task_id}", server.client.tasks.get, id=task_id)
        except SyncError as exc:
            if exc.status in (403, 404):
                continue  # not here, or that project was deleted: ask the next
            raise
        data = task.data or {}
        return getattr(task, "project", None) == project_id and data.get("fpgrade_sha256") == sha256
    return False


def urls(session: Session, server: Server) -> set[str]:
    """The stored URLs that reach ``server`` (its own, and others it proves it is); asks the
    server who the token is first, so that a wrong URL or token is said at once."""
    server.identify()
    stored = in_transaction(session, lambda: session.exec(
        select(LsProject.url, LsProject.id, LsProject.project_id).order_by(LsProject.id)).all())
    by_url: dict[str, list[tuple[int, int]]] = {}
    for url, row_id, project_id in stored:
        by_url.setdefault(url, []).append((row_id, project_id))
    for url, rows in sorted(by_url.items()):
        if url == server.url or url in server.aliases or url in server.different:
            continue
        (server.aliases if _same_server(server, session, rows) else server.different).add(url)
    return {server.url} | server.aliases


def links(session: Session, server: Server, campaign_id: int | None = None) -> list[LsProject]:
    """The links of ``server`` (of one campaign), oldest first."""
    found = urls(session, server)

    def read():
        query = select(LsProject).where(LsProject.url.in_(sorted(found))).order_by(LsProject.id)
        if campaign_id is not None:
            query = query.where(LsProject.campaign_id == campaign_id)
        return list(session.exec(query).all())

    return in_transaction(session, read)


def project_or_none(server: Server, project_id: int):
    """The Label Studio project, or None where the server answers that it has none, or none
    this token may see (404, 403: moved to another organisation)."""
    try:
        return server.call(f"reading project {project_id}", server.client.projects.get, id=project_id)
    except SyncError as exc:
        if exc.status in (403, 404):
            return None
        raise


def gone_message(server: Server, row: LsProject, campaign: str | None) -> str:
    command = (f"`fpgrade sync push --campaign {campaign} --relink`" if campaign
               else "`fpgrade sync push --campaign NAME --relink`")
    return (f"Label Studio project {row.title!r} (id {row.project_id}) is gone from {server.url} "
            f"(deleted, or moved where this token cannot see it): not pulled; {command} pushes "
            "the campaign to a new project and keeps every annotation pulled from this one")


def relink(session: Session, ls_project_id: int, new_project_id: int, new_url: str) -> int:
    """Point a link at a new project (its old one gone): its tasks are forgotten (they are
    pushed again), its pulled annotations are kept as passes and marked gone with their project
    (``deleted``: the new project's annotations never withdraw them), the cursor starts again.
    Audited (``ls_project_relinked``). Returns how many pulled annotations were kept."""
    from sqlalchemy import delete, update

    def work() -> int:
        row = session.get(LsProject, ls_project_id)
        old = (row.url, row.project_id)
        kept = session.exec(select(LsAnnotation.id).where(
            LsAnnotation.ls_project_id == row.id, LsAnnotation.annotation_id.is_not(None))).all()
        session.execute(delete(LsTask).where(LsTask.ls_project_id == row.id))
        session.execute(update(LsAnnotation).where(LsAnnotation.ls_project_id == row.id)
                        .values(deleted=True).execution_options(synchronize_session=False))
        row.url, row.project_id, row.pull_cursor = new_url, new_project_id, None
        session.add(row)
        session.add(AuditEvent(actor=ACTOR, action="ls_project_relinked",
                               campaign_id=row.campaign_id, details={
                                   "from_url": old[0], "from_project": old[1], "to_url": new_url,
                                   "to_project": new_project_id, "kept_annotations": len(kept)}))
        return len(kept)

    return in_transaction(session, work)
