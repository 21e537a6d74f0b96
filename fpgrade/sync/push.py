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

One campaign, one project (issue 17): a campaign already pushed to this server (under any URL
that reaches it, :mod:`.links`) goes to the same project, found by its id (a renamed project
stays the campaign's); ``--project`` with another title is refused unless ``another_project``
asks for a second one. A project gone from the server is refused with the command that
repairs it; ``relink`` pushes the campaign to a new project, keeping what was pulled
(:func:`.links.relink`).

After a promotion or a rollback the tasks already there are refreshed to the current version
(:mod:`.refresh`): their pre-annotations, their ``data.uncertainty``, and the project's view
"fpgrade: least confident first" that orders every task by it.
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
    refreshed: int = 0      # tasks already there whose pre-annotation now comes from the version
    relinked: bool = False  # the campaign's project was gone: pushed to a new one
    kept: int = 0           # annotations pulled from the gone project, kept


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


def _project_for(session: Session, server: Server, campaign_id: int, campaign_name: str,
                 title: str | None, config: str, scale_id: str, *, relink: bool,
                 another_project: bool):
    """(Label Studio project, created, link id or None, relinked annotations kept or None)."""
    from fpgrade.sync import links as ls_links

    linked = ls_links.links(session, server, campaign_id)
    chosen = [r for r in linked if title is None or r.title == title]
    if linked and not chosen and not another_project:
        first = linked[0]
        raise SyncError(f"campaign {campaign_name!r} is already in Label Studio project "
                        f"{first.title!r} (id {first.project_id}) at {server.url}: one campaign, "
                        f"one project; push without --project, or pass --another-project to put "
                        f"it in a second project {title!r}")
    if chosen:
        row = chosen[0]
        project = ls_links.project_or_none(server, row.project_id)
        if project is None:
            if not relink:
                raise SyncError(ls_links.gone_message(server, row, campaign_name))
            project = server.call("creating a project", server.client.projects.create,
                                  title=row.title, label_config=config,
                                  show_collab_predictions=True,
                                  description=f"fpgrade campaign on scale {scale_id}")
            kept = ls_links.relink(session, row.id, project.id, server.url)
            return project, True, row.id, kept
        if relink:
            raise SyncError(f"Label Studio project {row.title!r} (id {row.project_id}) of campaign "
                            f"{campaign_name!r} is still at {server.url}: nothing to relink")
        if project.label_config != config:
            server.call("updating the labelling config", server.client.projects.update,
                        id=project.id, label_config=config)
        return project, False, row.id, None
    if relink:
        raise SyncError(f"campaign {campaign_name!r} was never pushed to {server.url}: nothing "
                        "to relink (push without --relink)")
    title = title or TITLE_PREFIX + campaign_name
    project, created = _find_or_create_project(server, title, config, scale_id)
    others = {r.project_id: r for r in ls_links.links(session, server)}
    if project.id in others and others[project.id].campaign_id != campaign_id:
        raise SyncError(f"Label Studio project {title!r} (id {project.id}) at {server.url} holds "
                        "another campaign: pass --project with a title of its own")
    return project, created, None, None


def push_campaign(session: Session, server: Server, registry: Registry, campaign: str, *,
                  files_root: Path, title: str | None = None, relink: bool = False,
                  another_project: bool = False) -> PushReport:
    """Push campaign ``campaign`` (name or id) to ``server``; see the module docstring.

    No database transaction is held across a request to the server (each write is its own
    short one), so a server that hangs never blocks the other writers.
    """
    from fpgrade.labelling.campaigns import get_campaign
    from fpgrade.sync.refresh import refresh_existing

    def read() -> tuple[int, str, str, list[_Medium]]:
        found = get_campaign(session, campaign)
        if (found.unit or "medium") != "medium":
            raise LabelConfigError(
                f"campaign {found.name!r} gives one grade per subject's visit: a Label Studio "
                "task shows one medium, so its raters would grade one photo for the whole "
                "visit; label it in fpgrade's labelling view (fpgrade label)")
        ids = sorted(set(session.exec(select(Assignment.media_id).where(
            Assignment.campaign_id == found.id)).all()))
        rows = session.exec(select(Media).where(Media.id.in_(ids)).order_by(Media.id)).all()
        return found.id, found.name, found.scale, [
            _Medium(m.id, Path(m.path), m.sha256, m.movement,
                    m.kind.value if hasattr(m.kind, "value") else str(m.kind)) for m in rows]

    campaign_id, campaign_name, scale_id, media = in_transaction(session, read)
    scale = registry.scale(scale_id)
    kinds = {m.kind for m in media}
    if len(kinds) != 1:
        raise LabelConfigError(f"campaign {campaign_name!r} mixes {' and '.join(sorted(kinds))} "
                               "media: one Label Studio project shows one kind (one campaign per kind)")
    kind = kinds.pop()
    files_root = Path(files_root).resolve()
    urls = {m.id: _local_url(m.path, files_root) for m in media}
    project, created, ls_project_id, kept = _project_for(
        session, server, campaign_id, campaign_name, title, labelling_config(scale, kind),
        scale.id, relink=relink, another_project=another_project)
    title = project.title
    _ensure_storages(server, project.id, files_root, [m.path for m in media])
    if ls_project_id is None:
        ls_project_id = _record_project(session, server.url, project.id, title, scale.id,
                                        campaign_id)
    existing = _existing(server, project.id)
    new = [m for m in media if m.sha256 not in existing]
    problems: list[str] = []
    stale = refresh_candidates(session, ls_project_id, existing, media)
    version, predictions = _predictions(session, registry, scale.id, new + stale, problems)

    def confidence(m: _Medium) -> float:
        p = predictions.get(m.id)
        return p.top if p else 2.0  # no prediction: after every predicted one

    new.sort(key=lambda m: (confidence(m), m.id))
    tasks = []
    for m in new:
        task: dict = {"data": _task_data(m, urls[m.id], kind, predictions.get(m.id))}
        p = predictions.get(m.id)
        if p is not None:
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
    refreshed = refresh_existing(session, server, ls_project_id, project.id, scale, kind, version,
                                 {m.id: _task_data(m, urls[m.id], kind, predictions.get(m.id))
                                  for m in stale},
                                 {m.id: predictions[m.id] for m in stale if m.id in predictions})
    return PushReport(project.id, title, created, len(new), len(media) - len(new), version,
                      [m.id for m in new], problems, refreshed, kept is not None, kept or 0)


def _task_data(m: _Medium, url: str, kind: str, p: _Pred | None) -> dict:
    data = {OBJECT_KEY[kind]: url, "movement": m.movement or "not given",
            "fpgrade_media_id": m.id, "fpgrade_sha256": m.sha256}
    if p is not None:
        data["uncertainty"] = round(1.0 - p.top, 6)
    return data


def refresh_candidates(session: Session, ls_project_id: int, existing: dict[str, int],
                       media: list[_Medium]) -> list[_Medium]:
    """The media already in the project whose pre-annotation may be out of date (pushed without
    one, or with a version that is not the current one: checked by :mod:`.refresh`)."""
    from fpgrade.sync.refresh import stale_media

    stale = stale_media(session, ls_project_id)
    return [m for m in media if m.sha256 in existing and m.id in stale]


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
