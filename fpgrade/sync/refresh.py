"""Tasks already in a Label Studio project, brought up to the current model version (issue 17).

After a promotion or a rollback (:mod:`fpgrade.models.lifecycle`) a push refreshes every task
of the project whose pre-annotation came from another version (or none): the predictions of
other versions that fpgrade stored in Label Studio are deleted, the current version's is added
(``model_version`` = its name), ``data.uncertainty`` is rewritten, and the project's
``model_version`` (which predictions Label Studio shows as pre-annotations) is set to it.

Order: task ids cannot be reordered in Label Studio, so the project gets a Data Manager view
:data:`VIEW_TITLE` ordered by ``data.uncertainty``, most uncertain first (tasks without a
prediction last); "Label All Tasks" from that tab follows its order. The view is made once
and its ordering put back if changed.
"""

from __future__ import annotations

from sqlmodel import Session, select

from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import LsProject, LsTask, ModelVersion, Prediction
from fpgrade.sync.client import Server
from fpgrade.sync.config import result_of

VIEW_TITLE = "fpgrade: least confident first"
ORDERING = ["-tasks:data.uncertainty"]


def _current_version_id(session: Session, scale_id: str) -> int | None:
    from fpgrade.clinic.models import current_versions

    info = current_versions([scale_id]).get(scale_id)
    if info is None or not info.model_id:
        return None
    row = session.exec(select(ModelVersion.id).where(ModelVersion.model_id == info.model_id,
                                                     ModelVersion.version == info.version)).first()
    return row


def stale_media(session: Session, ls_project_id: int) -> set[int]:
    """Media ids of the project's tasks whose stored pre-annotation is not the current
    version's (empty when the scale has no current version)."""
    def read() -> set[int]:
        scale = session.get(LsProject, ls_project_id).scale
        current = _current_version_id(session, scale)
        if current is None:
            return set()
        rows = session.exec(select(LsTask.media_id, Prediction.model_version_id)
                            .outerjoin(Prediction, Prediction.id == LsTask.prediction_id)
                            .where(LsTask.ls_project_id == ls_project_id)).all()
        return {media_id for media_id, version_id in rows if version_id != current}

    return in_transaction(session, read)


def ensure_view(server: Server, project_id: int) -> None:
    """The project's view ordered by uncertainty (see the module docstring)."""
    client = server.client
    views = server.call("listing views", client.views.list, project=project_id)
    for view in views:
        data = view.data if isinstance(view.data, dict) else {}
        if data.get("title") == VIEW_TITLE:
            if data.get("ordering") != ORDERING:
                server.call("ordering the view by uncertainty", client.views.update,
                            id=str(view.id), project=project_id,
                            data={**data, "ordering": ORDERING})
            return
    server.call("adding a view ordered by uncertainty", client.views.create, project=project_id,
                data={"title": VIEW_TITLE, "ordering": ORDERING, "type": "list",
                      "target": "tasks"})


def refresh_existing(session: Session, server: Server, ls_project_id: int, project_id: int,
                     scale, kind: str, version: str | None, data: dict[int, dict],
                     predictions: dict) -> int:
    """Refresh the stale tasks (medium id -> their new ``data``; ``predictions``: medium id ->
    the current version's stored prediction, where there is one). Returns how many tasks now
    carry the current version's pre-annotation."""
    ensure_view(server, project_id)
    if version is None or not data:
        return 0
    client = server.client
    tasks = in_transaction(session, lambda: dict(session.exec(select(
        LsTask.media_id, LsTask.task_id).where(LsTask.ls_project_id == ls_project_id,
                                               LsTask.media_id.in_(sorted(data)))).all()))
    mine = {tasks[m] for m in tasks}
    for old in server.call("listing predictions", client.predictions.list, project=project_id):
        if old.task in mine and old.model_version != version:
            server.call(f"deleting an outdated prediction of task {old.task}",
                        client.predictions.delete, id=old.id)
    done: dict[int, int] = {}
    for media_id, task_id in sorted(tasks.items()):
        p = predictions.get(media_id)
        if p is not None:
            server.call(f"adding a prediction to task {task_id}", client.predictions.create,
                        task=task_id, result=result_of(scale, p.label, kind), score=p.top,
                        model_version=version)
            done[media_id] = p.id
        server.call(f"updating the data of task {task_id}", client.tasks.update,
                    id=str(task_id), data=data[media_id])
    server.call("setting the project's model version", client.projects.update, id=project_id,
                model_version=version)

    def record() -> None:
        for row in session.exec(select(LsTask).where(LsTask.ls_project_id == ls_project_id,
                                                     LsTask.media_id.in_(sorted(done)))).all():
            row.prediction_id = done[row.media_id]
            session.add(row)

    in_transaction(session, record)
    return len(done)
