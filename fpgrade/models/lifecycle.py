"""The model-version registry: which trained version serves a scale, and how that changes.

A :class:`~fpgrade.storage.tables.ModelVersion` row is one version (named by
:func:`~fpgrade.models.versions.version_name`). Its ``status``:

- ``candidate``: trained, not serving (every new version starts here);
- ``current``: serves its scale (at most one per scale; promotion retires the previous one);
- ``rejected``: kept but never served (``status_reason`` says why, e.g. worse on the test split);
- ``retired``: was current, replaced by a promotion or taken back by a rollback.

Every change is one retried transaction (:func:`fpgrade.storage.retry.in_transaction`) with an
audit event (actor, version name and id, old and new status). Rows are never deleted, so an id
is never given to another version: a run replaced by ``fpgrade train --overwrite`` keeps its
versions, withdrawn (:func:`withdraw_overwritten`), and one the registry still needs (current,
once promoted, a retrain's parent) makes the overwrite refuse (:func:`kept_by_registry`). Rules are plain functions over a session; the command
line (``fpgrade models versions/promote/rollback``) and ``fpgrade retrain`` call them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from sqlmodel import Session, select

from fpgrade.errors import FpgradeError
from fpgrade.storage.retry import in_transaction
from fpgrade.storage.tables import AuditEvent, ModelVersion, Prediction

CANDIDATE, CURRENT, REJECTED, RETIRED = "candidate", "current", "rejected", "retired"
STATUSES = (CANDIDATE, CURRENT, REJECTED, RETIRED)


class VersionError(FpgradeError):
    """A model version that does not exist, or a registry change that is not allowed."""


def snapshot_hash(final_label_ids: Iterable[int]) -> str:
    """The sha256 of a data snapshot: the sorted final-label ids, as JSON."""
    ids = sorted(int(i) for i in final_label_ids)
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()


def list_versions(session: Session, scale: str | None = None) -> list[ModelVersion]:
    """Versions, newest first, optionally of one scale."""
    query = select(ModelVersion).order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
    if scale is not None:
        query = query.where(ModelVersion.scale == scale)
    return list(session.exec(query).all())


def get_version(session: Session, name: str) -> ModelVersion:
    """The version named ``name`` (``model-sha12``) or by its row id; one line naming it if none."""
    rows = session.exec(select(ModelVersion).where(ModelVersion.version == name)).all()
    if not rows and name.isdigit():
        row = session.get(ModelVersion, int(name))
        rows = [row] if row else []
    if not rows:
        raise VersionError(f"no model version {name!r} (see `fpgrade models versions`)")
    if len(rows) > 1:  # the name holds the model id: two rows only if two models share an id
        raise VersionError(f"model version {name!r} is ambiguous: use its id "
                           f"({', '.join(str(r.id) for r in rows)})")
    return rows[0]


def current_of(session: Session, scale: str) -> ModelVersion | None:
    """The promoted version of ``scale``, or None."""
    return session.exec(select(ModelVersion).where(ModelVersion.scale == scale,
                                                   ModelVersion.status == CURRENT)).first()


def _audit(session: Session, actor: str, action: str, row: ModelVersion, old: str, **details) -> None:
    session.add(AuditEvent(actor=actor, action=action, details={
        "model_version": row.version, "model_version_id": row.id, "scale": row.scale,
        "from": old, "to": row.status, **details}))


def _set(session: Session, row: ModelVersion, status: str, actor: str, action: str,
         reason: str | None = None, **details) -> None:
    old = row.status
    row.status = status
    if reason is not None:
        row.status_reason = reason
    session.add(row)
    _audit(session, actor, action, row, old, **details)


def promote(session: Session, name: str, *, by: str, reason: str | None = None) -> ModelVersion:
    """Make version ``name`` current for its scale; the previous current one is retired.

    A rejected version can be promoted by hand (a person overrides the automatic rule, and the
    audit log says who). Promoting the current version again changes nothing.
    """
    return in_transaction(session, lambda: promote_row(session, get_version(session, name), by=by,
                                                       reason=reason))


def promote_row(session: Session, row: ModelVersion, *, by: str, reason: str | None = None) -> ModelVersion:
    """:func:`promote` in the caller's transaction (not committed); refused, in one line, for a
    version whose weight file is gone or holds other bytes (it could not serve)."""
    from fpgrade.models.current import weights_problem

    old = current_of(session, row.scale)
    if old is not None and old.id == row.id:
        return row
    problem = weights_problem(row)
    if problem is not None:
        raise VersionError(f"cannot promote {problem}")
    if old is not None:
        _set(session, old, RETIRED, by, "version_retire", replaced_by=row.version)
        session.flush()
    row.promoted_by, row.promoted_at = by, datetime.now(timezone.utc)
    _set(session, row, CURRENT, by, "version_promote", reason=reason,
         replaces=old.version if old else None)
    session.flush()
    return row


def keep_candidate(session: Session, row: ModelVersion, *, by: str, reason: str) -> ModelVersion:
    """Record, in the caller's transaction, that a new version stays a candidate until a person
    promotes it (``reason`` kept with it; an audit event names it)."""
    row.status = CANDIDATE
    _set(session, row, CANDIDATE, by, "version_candidate", reason=reason)
    session.flush()
    return row


def reject(session: Session, name: str, *, by: str, reason: str) -> ModelVersion:
    """Keep version ``name`` out of service, with the reason (a current one cannot be rejected:
    roll it back first)."""
    return in_transaction(session, lambda: reject_row(session, get_version(session, name), by=by,
                                                      reason=reason))


def reject_row(session: Session, row: ModelVersion, *, by: str, reason: str) -> ModelVersion:
    """:func:`reject` in the caller's transaction (not committed)."""
    if row.status == CURRENT:
        raise VersionError(f"{row.version} is current for {row.scale}: "
                           f"`fpgrade models rollback {row.scale}` first")
    _set(session, row, REJECTED, by, "version_reject", reason=reason)
    session.flush()
    return row


def rollback(session: Session, scale: str, *, by: str) -> tuple[ModelVersion, ModelVersion]:
    """Retire the current version of ``scale`` and make the one it replaced current again (the
    most recently promoted retired version). Returns (retired, now current)."""
    def work() -> tuple[ModelVersion, ModelVersion]:
        now = current_of(session, scale)
        if now is None:
            raise VersionError(f"no promoted version of {scale} to roll back "
                               f"(see `fpgrade models versions --scale {scale}`)")
        earlier = session.exec(select(ModelVersion).where(
            ModelVersion.scale == scale, ModelVersion.status == RETIRED,
            ModelVersion.promoted_at.is_not(None)).order_by(
            ModelVersion.promoted_at.desc(), ModelVersion.id.desc())).first()
        if earlier is None:
            raise VersionError(f"{now.version} is the first promoted version of {scale}: "
                               f"nothing to roll back to")
        _set(session, now, RETIRED, by, "version_rollback", back_to=earlier.version)
        session.flush()
        _set(session, earlier, CURRENT, by, "version_rollback", replaces=now.version)
        session.flush()
        return now, earlier

    return in_transaction(session, work)


#: the reason kept on a candidate whose run folder ``fpgrade train --overwrite`` replaced
OVERWRITTEN = "its run folder was overwritten"


def versions_under(session: Session, folder: Path) -> list[ModelVersion]:
    """The versions whose weight file lies in run folder ``folder``."""
    folder = Path(folder).resolve()
    return [row for row in session.exec(select(ModelVersion).order_by(ModelVersion.id))
            if Path(row.weights_path).is_relative_to(folder)]


def kept_by_registry(session: Session, folder: Path) -> list[str]:
    """Why the weights of run folder ``folder`` must not be replaced, in words (empty: they may):
    a version there is current, was promoted once (a rollback may serve it again, and its grades
    and audit events name it), or is the parent of a retrained version."""
    reasons = []
    for row in versions_under(session, folder):
        children = session.exec(select(ModelVersion.version).where(
            ModelVersion.parent_version_id == row.id)).all()
        if row.status == CURRENT:
            reasons.append(f"{row.version} is the current version of {row.scale}")
        elif row.promoted_at is not None:
            reasons.append(f"{row.version} was promoted by {row.promoted_by} (a rollback may serve "
                           "it again)")
        elif children:
            reasons.append(f"{row.version} is the parent of the retrained {', '.join(children)}")
    return reasons


def withdraw_overwritten(session: Session, folder: Path, *, by: str) -> list[ModelVersion]:
    """Keep the candidates of a run folder being overwritten as ``rejected`` (reason
    :data:`OVERWRITTEN`), in the caller's transaction: rows are never deleted, so a version id is
    never given to another version and every audit event keeps pointing at what it named."""
    rows = [row for row in versions_under(session, folder) if row.status == CANDIDATE]
    for row in rows:
        _set(session, row, REJECTED, by, "version_overwritten",
             reason=f"{OVERWRITTEN} ({Path(folder).resolve()}): its weights were replaced")
    session.flush()
    return rows


def found_again(session: Session, row: ModelVersion, weights_path: str, *, by: str) -> None:
    """A run wrote the very bytes of version ``row`` (same name) at ``weights_path``. If the
    row's own file is gone or changed (an overwrite replaced it), the version lives there now;
    one withdrawn by an overwrite is a candidate again. In the caller's transaction."""
    from fpgrade.models.current import weights_problem

    withdrawn = row.status == REJECTED and (row.status_reason or "").startswith(OVERWRITTEN)
    if not withdrawn and weights_problem(row) is None:
        return  # its own file still holds these weights: identical runs share the version
    row.weights_path = weights_path
    session.add(row)
    if withdrawn:
        _set(session, row, CANDIDATE, by, "version_restore", reason="")


def store_prediction(session: Session, version: ModelVersion, media_id: int, result: dict) -> Prediction:
    """Add a :class:`Prediction` of ``version`` for a medium to the caller's transaction.

    :param result: ``Predictor.predict``'s answer (``label``, ``probabilities``).
    """
    row = Prediction(media_id=media_id, model_version_id=version.id, scale=version.scale,
                     label=result["label"], probabilities=dict(result.get("probabilities") or {}))
    session.add(row)
    return row


def new_final_labels(session: Session, version: ModelVersion) -> set[int]:
    """Final labels on ``version``'s scale that neither it nor any retrain tried from it (a
    rejected one too) was trained on: what would make another retrain from it worth running.
    Counting against the version alone would start the same retrain again after every
    rejection."""
    from fpgrade.storage.tables import FinalLabel

    labels = set(session.exec(select(FinalLabel.id).where(FinalLabel.scale == version.scale)).all())
    tried = session.exec(select(ModelVersion).where(ModelVersion.parent_version_id == version.id)).all()
    for row in [version, *tried]:
        labels -= set(row.data_snapshot or [])
    return labels
