"""Trained model versions on the clinician's page: which version grades each scale, and its grade.

:func:`current_versions` is the one rule for "the current version of a scale", read from the
model-version registry (:mod:`fpgrade.models.lifecycle`):

- a scale with a promoted version (status ``current``) is graded by that version only; if its
  weight file is gone or changed, the scale is ``unavailable`` (no silent fall-back to another
  version: ``fpgrade models rollback`` or ``promote`` decides);
- backward compatibility: a scale with no promoted version but with trained versions keeps the
  rule of before the registry: the most recent version that is not ``rejected`` or ``retired``
  and whose weight file exists and still has the recorded sha256. A version made by ``fpgrade
  retrain`` (it has a parent version) is never taken by this rule: a retrain registers its
  version together with its decision (promoted or rejected), so one still ``candidate`` comes
  from no finished decision, and serves only once promoted.

A scale without a usable version gets no grade (never one from random weights);
measurement-based scores are not model grades.

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


def _usable(row: ModelVersion) -> str | None:
    """Why the weight file of ``row`` cannot be used, or None."""
    path = Path(row.weights_path)
    if not path.is_file():
        return f"{row.version}: weight file {path} is gone"
    if _sha(path) != row.weights_sha256:
        return f"{row.version}: weight file {path} has changed since training"
    return None


def _info(row: ModelVersion, problems: list[str]) -> VersionInfo:
    path = Path(row.weights_path)
    metrics = row.test_metrics or _test_metrics(path)
    return VersionInfo(row.model_id, row.version, row.scale, str(path),
                       bool((row.card or {}).get("synthetic", False)), metrics, problems)


def current_versions(scales=None) -> dict[str, VersionInfo]:
    """The current trained version per scale (see the module docstring for the rule).

    :param scales: only these scale ids (default: every scale with a recorded version).
    """
    from fpgrade.models.lifecycle import CURRENT, REJECTED, RETIRED

    with database.read_session() as session:
        rows = session.exec(select(ModelVersion).order_by(ModelVersion.created_at.desc(),
                                                          ModelVersion.id.desc())).all()
    found: dict[str, VersionInfo] = {}
    passed_over: dict[str, list[str]] = {}
    promoted = {row.scale: row for row in rows if row.status == CURRENT}
    for scale, row in promoted.items():
        if scales is not None and scale not in scales:
            continue
        problem = _usable(row)
        if problem is None:
            found[scale] = _info(row, [])
        else:
            found[scale] = VersionInfo("", "", scale, "", False, {},
                                       [f"promoted version {problem}"])
    for row in rows:
        if row.scale in found or (scales is not None and row.scale not in scales):
            continue
        if row.status in (REJECTED, RETIRED) or row.parent_version_id is not None:
            continue
        problem = _usable(row)
        if problem:
            passed_over.setdefault(row.scale, []).append(problem)
            continue
        found[row.scale] = _info(row, passed_over.get(row.scale, []))
    for scale, problems in passed_over.items():
        if scale not in found:
            found[scale] = VersionInfo("", "", scale, "", False, {}, problems)
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
