"""Trained model versions on the clinician's page: which version grades each scale, and its grade.

The rule for "the current version of a scale" belongs to the model registry
(:func:`fpgrade.models.current.current_versions`, re-exported here for the page); this module
holds only what the page needs: a loaded predictor per version, a photo's grade, and the grades
of a set of movement photos. A scale without a usable version gets no grade (never one from
random weights); measurement-based scores are not model grades.

Torch is imported only when a version exists (:class:`fpgrade.training.predict.Predictor`).
"""

from __future__ import annotations

import threading
from pathlib import Path

from fpgrade.models.current import VersionInfo, current_versions

__all__ = ["HOW_TO_TRAIN", "VersionInfo", "current_versions", "predictor", "grade", "grades_for_set"]

HOW_TO_TRAIN = ("train one with `fpgrade train --model MODEL --scale {scale} --data MANIFEST.csv "
                "--protocol kfold:5 --epochs N --out RUN` (later: `fpgrade retrain`)")

_predictors: dict[tuple[str, str], object] = {}
_lock = threading.Lock()


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
