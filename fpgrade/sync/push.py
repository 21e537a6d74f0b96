"""``fpgrade sync push``: a campaign's media as Label Studio tasks, with pre-annotations.

The project (found by the server URL and its title, else created) gets the config generated from
the campaign's scale (:mod:`.config`). Every medium of the campaign not yet a task becomes one,
served as a local file (under ``FPGRADE_LABEL_STUDIO_FILES_ROOT``, the server's
``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT``). Where the scale has a current model version
(:func:`fpgrade.clinic.models.current_versions`), each new task carries that version's prediction
(``model_version`` = its name, ``score`` = the top probability), stored first as a
:class:`~fpgrade.storage.tables.Prediction` referencing the version; stored predictions of that
version are reused, not recomputed.

Order: Label Studio's community edition shows tasks in id order and has no active learning, so
new tasks are imported least confident first (lowest top probability; media without prediction
last); ``data.uncertainty`` (1 - top probability) lets a data-manager view sort by it. A later
push appends its new tasks after the existing ones.

Idempotent: the tasks already in the project are read back first and matched by
``data.fpgrade_sha256``, so a push that died between the import and the database write adds no
duplicate when run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from fpgrade.registry import Registry
from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import Assignment, LsProject, LsTask, Media, ModelVersion, Prediction
from fpgrade.sync.client import Server, SyncError
from fpgrade.sync.config import LabelConfigError, labelling_config, result_of

TITLE_PREFIX = "fpgrade: "


@dataclass
class PushReport:
    project_id: int
    title: str
    created_project: bool
    added: int
    already: int
    model_version: str | None
    order: list[int] = field(default_factory=list)  # media ids of the new tasks, in import order
    problems: list[str] = field(default_factory=list)


def _local_url(path: Path, root: Path) -> str:
    from urllib.parse import quote

    try:
        relative = Path(path).resolve().relative_to(root.resolve())
    except ValueError:
        raise SyncError(f"{path} is not under the Label Studio files root {root}: the server "
                        "cannot serve it (set FPGRADE_LABEL_STUDIO_FILES_ROOT)") from None
    return f"/data/local-files/?d={quote(str(relative))}"


def _find_or_create_project(server: Server, title: str, config: str, scale_id: str):
    client = server.client
    for project in server.call("listing projects", lambda: list(client.projects.list(title=title))):
        if project.title == title:
            if project.label_config != config:
                server.call("updating the labelling config", client.projects.update,
                            id=project.id, label_config=config)
            return project, False
    project = server.call("creating a project", client.projects.create, title=title,
                          label_config=config, show_collab_predictions=True,
                          description=f"fpgrade campaign on scale {scale_id}")
    return project, True


def _ensure_storages(server: Server, project_id: int, root: Path, paths: list[Path]) -> None:
    """Local-files import storages for the media folders: Label Studio serves a local file only
    to a project having a storage whose path holds it, and refuses the document root itself as
    that path, so one storage per top folder under ``root`` that holds media."""
    folders = set()
    for path in paths:
        relative = Path(path).resolve().relative_to(root)
        if len(relative.parts) < 2:
            raise SyncError(f"{path} lies directly in the Label Studio files root {root}: Label "
                            "Studio serves local files from its subfolders only")
        folders.add(root / relative.parts[0])
    storages = server.call("listing storages", server.client.import_storage.local.list,
                           project=project_id)
    have = {Path(s.path or "") for s in storages}
    for folder in sorted(folders - have):
        server.call(f"adding a local-files storage for {folder}",
                    server.client.import_storage.local.create, project=project_id,
                    path=str(folder), title=f"fpgrade media {folder.name}", use_blob_urls=False)


def _existing(server: Server, project_id: int) -> dict[str, int]:
    """sha256 -> task id of the tasks already in the project."""
    tasks = server.call("listing tasks", lambda: list(server.client.tasks.list(  # id and data
        project=project_id, include="id,data", page_size=1000)))  # only: several times faster
    return {t.data.get("fpgrade_sha256"): t.id for t in tasks if t.data.get("fpgrade_sha256")}


@dataclass(frozen=True)
class _Medium:
    id: int
    path: Path
    sha256: str
    movement: str | None
    kind: str


@dataclass(frozen=True)
class _Pred:
    id: int
    label: str
    top: float


def _predictions(session: Session, registry: Registry, scale_id: str, media: list[_Medium],
                 problems: list[str]) -> tuple[str | None, dict[int, _Pred]]:
    """The current version's name and its prediction per medium (stored ones reused, missing
    ones computed and stored), each write its own short transaction."""
    from fpgrade.clinic.models import current_versions, predictor
    from fpgrade.errors import FpgradeError
    from fpgrade.models.lifecycle import store_prediction

    info = current_versions([scale_id]).get(scale_id)
    if info is None or not info.model_id:
        problems += (info.problems if info else []) + [f"no usable model version of {scale_id}: "
                                                       "tasks pushed without pre-annotations"]
        return None, {}

    def stored() -> tuple[int, dict[int, _Pred]]:
        version = session.exec(select(ModelVersion).where(
            ModelVersion.model_id == info.model_id, ModelVersion.version == info.version)).one()
        rows = session.exec(select(Prediction).where(
            Prediction.model_version_id == version.id,
            Prediction.media_id.in_([m.id for m in media]))).all()
        return version.id, {p.media_id: _Pred(p.id, p.label, max(p.probabilities.values()))
                            for p in rows if p.probabilities}

    version_id, found = in_transaction(session, stored)
    for medium in media:
        if medium.id in found:
            continue
        try:  # outside any transaction: a prediction takes time, the database stays free
            result = predictor(registry, info).predict(medium.path, medium.movement)
        except (FpgradeError, OSError, ValueError) as exc:
            problems.append(f"{medium.path}: no prediction ({exc})")
            continue

        def store(m=medium, r=result) -> _Pred:
            version = session.get(ModelVersion, version_id)
            row = store_prediction(session, version, m.id, r)
            session.flush()
            return _Pred(row.id, row.label, max(row.probabilities.values()))

        found[medium.id] = in_transaction(session, store)
    return info.version, found


def push_campaign(session: Session, server: Server, registry: Registry, campaign: str, *,
                  files_root: Path, title: str | None = None) -> PushReport:
    """Push campaign ``campaign`` (name or id) to ``server``; see the module docstring.

    No database transaction is held across a request to the server (each write is its own
    short one), so a server that hangs never blocks the other writers.
    """
    from fpgrade.labelling.campaigns import get_campaign

    def read() -> tuple[int, str, str, list[_Medium]]:
        found = get_campaign(session, campaign)
        ids = sorted(set(session.exec(select(Assignment.media_id).where(
            Assignment.campaign_id == found.id)).all()))
        rows = session.exec(select(Media).where(Media.id.in_(ids)).order_by(Media.id)).all()
        return found.id, found.name, found.scale, [
            _Medium(m.id, Path(m.path), m.sha256, m.movement,
                    m.kind.value if hasattr(m.kind, "value") else str(m.kind)) for m in rows]

    campaign_id, campaign_name, scale_id, media = in_transaction(session, read)
    scale = registry.scale(scale_id)
    title = title or TITLE_PREFIX + campaign_name
    kinds = {m.kind for m in media}
    if len(kinds) != 1:
        raise LabelConfigError(f"campaign {campaign_name!r} mixes {' and '.join(sorted(kinds))} "
                               "media: one Label Studio project shows one kind (one campaign per kind)")
    kind = kinds.pop()
    files_root = Path(files_root).resolve()
    urls = {m.id: _local_url(m.path, files_root) for m in media}
    project, created = _find_or_create_project(server, title, labelling_config(scale, kind), scale.id)
    _ensure_storages(server, project.id, files_root, [m.path for m in media])
    ls_project_id = _record_project(session, server.url, project.id, title, scale.id, campaign_id)
    existing = _existing(server, project.id)
    new = [m for m in media if m.sha256 not in existing]
    problems: list[str] = []
    version, predictions = _predictions(session, registry, scale.id, new, problems)

    def confidence(m: _Medium) -> float:
        p = predictions.get(m.id)
        return p.top if p else 2.0  # no prediction: after every predicted one

    new.sort(key=lambda m: (confidence(m), m.id))
    tasks = []
    for m in new:
        data = {OBJECT_KEY[kind]: urls[m.id], "movement": m.movement or "not given",
                "fpgrade_media_id": m.id, "fpgrade_sha256": m.sha256}
        task: dict = {"data": data}
        p = predictions.get(m.id)
        if p is not None:
            data["uncertainty"] = round(1.0 - p.top, 6)
            task["predictions"] = [{"result": result_of(scale, p.label, kind), "score": p.top,
                                    "model_version": version}]
        tasks.append(task)
    if tasks:
        server.call("importing tasks", server.client.projects.import_tasks, id=project.id,
                    request=tasks)
    existing = _existing(server, project.id)

    def record() -> None:
        known = set(session.exec(select(LsTask.media_id).where(
            LsTask.ls_project_id == ls_project_id)).all())
        for m in media:
            if m.sha256 in existing and m.id not in known:
                p = predictions.get(m.id)
                session.add(LsTask(ls_project_id=ls_project_id, media_id=m.id,
                                   task_id=existing[m.sha256], prediction_id=p.id if p else None))

    in_transaction(session, record)
    return PushReport(project.id, title, created, len(new), len(media) - len(new), version,
                      [m.id for m in new], problems)


OBJECT_KEY = {"image": "image", "video": "video"}


def _record_project(session: Session, url: str, project_id: int, title: str, scale: str,
                    campaign_id: int | None) -> int:
    def work() -> int:
        row = session.exec(select(LsProject).where(LsProject.url == url,
                                                   LsProject.project_id == project_id)).first()
        if row is None:
            row = LsProject(url=url, project_id=project_id, title=title, scale=scale,
                            campaign_id=campaign_id)
            session.add(row)
            session.flush()
        return row.id

    return in_transaction(session, work)
