"""Trained model versions on the clinician's page: which version grades each scale, and its grade.

:func:`current_versions` is the one rule for "the current version of a scale" until the model
registry of a later issue replaces it: the most recent :class:`~fpgrade.storage.tables.ModelVersion`
of the scale whose weight file exists and still has the recorded sha256. A scale without one gets
no grade (never one from random weights); measurement-based scores are not model grades.

Torch is imported only when a version exists (:class:`fpgrade.training.predict.Predictor`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from fpgrade.media import sha256_file
from fpgrade.storage import database
from fpgrade.storage.tables import ModelVersion

HOW_TO_TRAIN = ("train one with `fpgrade train --model MODEL --scale {scale} --data MANIFEST.csv "
                "--protocol kfold:5 --epochs N --out RUN` (later: `fpgrade retrain`)")

_sha_cache: dict[tuple[str, float, int], str] = {}
_predictors: dict[tuple[str, str], object] = {}
_lock = threading.Lock()


@dataclass
class VersionInfo:
    """A usable trained version: its row, and test metrics of its fold where recorded."""

    model_id: str
    version: str
    scale: str
    weights_path: str
    synthetic: bool
    metrics: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # versions of the scale passed over, why

    def as_dict(self) -> dict:
        return {"model": self.model_id, "model_version": self.version, "scale": self.scale,
                "synthetic": self.synthetic, "test_metrics": self.metrics}


def _sha(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _sha_cache:
        _sha_cache[key] = sha256_file(path)
    return _sha_cache[key]


def _test_metrics(weights: Path) -> dict:
    test = weights.parent / "test.json"
    try:
        data = json.loads(test.read_text())
    except (OSError, ValueError):
        return {}
    out = {"accuracy": data.get("accuracy"), "macro_f1": (data.get("macro") or {}).get("f1"),
           "samples": data.get("samples")}
    if data.get("quadratic_weighted_kappa") is not None:
        out["quadratic_weighted_kappa"] = data["quadratic_weighted_kappa"]
    return out


def current_versions(scales=None) -> dict[str, VersionInfo]:
    """The current trained version per scale (see the module docstring for the rule).

    :param scales: only these scale ids (default: every scale with a recorded version).
    """
    with database.session() as session:
        rows = session.exec(select(ModelVersion).order_by(ModelVersion.created_at.desc(),
                                                          ModelVersion.id.desc())).all()
    found: dict[str, VersionInfo] = {}
    passed_over: dict[str, list[str]] = {}
    for row in rows:
        if row.scale in found or (scales is not None and row.scale not in scales):
            continue
        path = Path(row.weights_path)
        if not path.is_file():
            passed_over.setdefault(row.scale, []).append(f"{row.version}: weight file {path} is gone")
            continue
        if _sha(path) != row.weights_sha256:
            passed_over.setdefault(row.scale, []).append(
                f"{row.version}: weight file {path} has changed since training")
            continue
        found[row.scale] = VersionInfo(row.model_id, row.version, row.scale, str(path),
                                       bool((row.card or {}).get("synthetic", False)),
                                       _test_metrics(path), passed_over.get(row.scale, []))
    for scale, problems in passed_over.items():
        if scale in found:
            continue
        found_none = VersionInfo("", "", scale, "", False, {}, problems)
        found[scale] = found_none
    return found


def predictor(registry, info: VersionInfo):
    """A loaded :class:`~fpgrade.training.predict.Predictor` for ``info``, kept for the server's
    life (one per weight file)."""
    key = (info.model_id, info.weights_path)
    with _lock:
        if key not in _predictors:
            from fpgrade.training.predict import Predictor

            _predictors[key] = Predictor(registry, info.model_id, Path(info.weights_path))
        return _predictors[key]


def grade(registry, info: VersionInfo, path: Path, movement: str | None = None) -> dict:
    """One photo's grade by the version ``info`` (see ``Predictor.predict``), with the version's
    test metrics; an ``error`` entry in words when the weights or the photo cannot be used."""
    from fpgrade.errors import FpgradeError

    try:
        result = predictor(registry, info).predict(Path(path), movement)
    except (FpgradeError, OSError, ValueError) as exc:
        return {"model": info.model_id, "model_version": info.version, "scale": info.scale,
                "error": str(exc)}
    result["test_metrics"] = info.metrics
    return result


def grades_for_set(registry, files, *, progress=None) -> dict[str, dict]:
    """Every registered grading scale -> what the page shows for it: ``status`` ``graded`` (with
    ``model``, ``model_version``, ``synthetic``, ``test_metrics`` and ``photos``: one grade per
    movement photo), ``no_model`` (with ``message``: how to train one) or ``unavailable``
    (versions exist but none can be used, with ``message`` saying why).

    :param files: movement key -> path (the photos that were measured).
    """
    from fpgrade.clinic.movements import BY_KEY

    versions = current_versions()
    out: dict[str, dict] = {}
    for scale_id in registry.scales:
        info = versions.get(scale_id)
        if info is None:
            out[scale_id] = {"status": "no_model", "message": (
                f"No trained model for {scale_id}: {HOW_TO_TRAIN.format(scale=scale_id)}.")}
            continue
        if not info.model_id:
            out[scale_id] = {"status": "unavailable", "message": (
                f"No usable trained model for {scale_id}: " + "; ".join(info.problems)
                + f". Train again: {HOW_TO_TRAIN.format(scale=scale_id)}.")}
            continue
        entry = {"status": "graded", **info.as_dict(), "photos": {}}
        if info.problems:
            entry["passed_over"] = info.problems
        for key, path in files.items():
            if progress:
                progress(f"{info.version} on {key.replace('_', ' ')}")
            mv = BY_KEY[key].mv if key in BY_KEY else None
            entry["photos"][key] = grade(registry, info, path, mv)
        out[scale_id] = entry
    return out
