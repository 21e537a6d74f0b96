"""A training run's rows in the model-version registry: its TrainingRun, a ModelVersion per fold's
best weights (with the fold's test metrics), and what becomes of them when the run is replaced.

Version rows are never deleted (:func:`forget_run`): an id is never given to another version,
so every audit event and prediction keeps pointing at the version it named.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path


def record_run(run_info: dict, summary: dict, out: Path, model_id: str, scale_id: str,
               snapshot: list[int] | None = None) -> None:
    """The run's TrainingRun row (one per run folder: a resumed run updates it) and a
    ModelVersion per fold's best weights, in the configured database, in one retried transaction.

    Versions are named by :func:`~fpgrade.models.versions.version_name` (model and weights
    hash), the name prediction reports too; the run points at fold 0's version. Paths are stored
    absolute, so the records stay true whatever folder a later command runs from.
    """
    from fpgrade.storage import database
    from fpgrade.storage.retry import in_transaction

    out = Path(out).resolve()
    weights = run_weights(out)
    with database.session() as session:
        in_transaction(session, lambda: write_run_records(session, run_info, summary, out, model_id,
                                                          scale_id, weights, snapshot))


def run_weights(out: Path) -> list[tuple[Path, str]]:
    """Every fold's best weights in ``out`` with their sha256."""
    from fpgrade.media import sha256_file

    return [(fold, sha256_file(fold)) for fold in sorted(Path(out).glob("fold_*/best.safetensors"))]


def write_run_records(session, run_info: dict, summary: dict, out: Path, model_id: str,
                      scale_id: str, weights: list[tuple[Path, str]],
                      snapshot: list[int] | None = None) -> list:
    """:func:`record_run`'s rows, added in the caller's transaction (not committed); returns the
    ModelVersions, fold by fold. ``snapshot``: the final-label ids trained on (``--data db``),
    kept as the data snapshot of versions that have none yet."""
    from sqlmodel import select

    from fpgrade.models import lifecycle
    from fpgrade.models import weights as weight_files
    from fpgrade.models.current import file_test_metrics
    from fpgrade.models.versions import version_name
    from fpgrade.storage.tables import ModelVersion, TrainingRun

    versions = []
    for fold, digest in weights:
        version = version_name(model_id, digest)
        row = session.exec(select(ModelVersion).where(
            ModelVersion.model_id == model_id, ModelVersion.version == version)).first()
        if row is None:
            row = ModelVersion(model_id=model_id, version=version, scale=scale_id,
                               weights_sha256=digest, weights_path=str(fold),
                               card=weight_files.read_card(fold))
            session.add(row)
            session.flush()
        else:  # the same bytes as a known version (an overwrite may have withdrawn it)
            lifecycle.found_again(session, row, str(fold), by="train")
        if not row.test_metrics:  # the fold's test metrics, as the registry keeps them
            row.test_metrics = file_test_metrics(fold)
            session.add(row)
        if snapshot and not row.data_snapshot:
            row.data_snapshot = list(snapshot)
            row.data_snapshot_sha256 = lifecycle.snapshot_hash(snapshot)
            session.add(row)
        versions.append(row)
    run = session.exec(select(TrainingRun).where(TrainingRun.out_dir == str(out))).first()
    run = run or TrainingRun(model_id=model_id, scale=scale_id, out_dir=str(out),
                             protocol=run_info["protocol"])
    run.status = "finished" if summary.get("folds_tested") == summary.get("folds_total") else "partial"
    run.params, run.metrics = run_info, summary
    run.model_version_id = versions[0].id if versions else None
    run.finished_at = datetime.now(timezone.utc)
    session.add(run)
    session.flush()
    for row in versions:  # the registry's link from a version to the run that made it
        if row.training_run_id is None:
            row.training_run_id = run.id
            session.add(row)
    return versions


def forget_run(out: Path) -> None:
    """Retire the records of the run in ``out``, which is being replaced: its TrainingRun row is
    deleted; its versions stay (ids are never reused, audit events keep naming them), the
    candidates withdrawn as ``rejected`` (their weight files will hold other bytes), with their
    predictions kept. :func:`_check_folder` has refused a folder whose versions the registry
    keeps (current, once promoted, or a retrain's parent)."""
    import getpass

    from sqlmodel import select

    from fpgrade.models import lifecycle
    from fpgrade.storage import database
    from fpgrade.storage.retry import in_transaction
    from fpgrade.storage.tables import TrainingRun

    out = Path(out).resolve()
    try:
        by = f"train --overwrite ({getpass.getuser()})"
    except (KeyError, OSError):
        by = "train --overwrite"
    with database.session() as session:
        def retire() -> None:
            runs = list(session.exec(select(TrainingRun).where(TrainingRun.out_dir == str(out))))
            for run in runs:  # the run and its versions point at each other: unlink, then delete
                run.model_version_id = None
                session.add(run)
            for version in lifecycle.versions_under(session, out):
                version.training_run_id = None
                session.add(version)
            session.flush()
            lifecycle.withdraw_overwritten(session, out, by=by)
            for run in runs:
                session.delete(run)

        in_transaction(session, retire)
