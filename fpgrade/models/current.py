"""The one rule for "the current version of a scale", read from the model-version registry.

:func:`current_versions` is used by the clinician's page (:mod:`fpgrade.clinic.models`), Label
Studio pre-annotations, ``fpgrade retrain`` and ``fpgrade sync serve``:

- a scale with a promoted version (status ``current``) is graded by that version only; if its
  weight file is gone or changed, the scale is ``unavailable`` (no silent fall-back to another
  version: ``fpgrade models rollback`` or ``promote`` decides). A person's promotion is served
  whatever its test metrics: the person decided.
- backward compatibility: a scale with no promoted version but with trained versions keeps the
  rule of before the registry: the most recent version that is not ``rejected`` or ``retired``,
  whose weight file exists and still has the recorded sha256, and whose test metrics are better
  than chance (:func:`not_better_than_chance`). A version made by ``fpgrade retrain`` (it has a
  parent version) is never taken by this rule: it serves only once promoted.

A scale without a usable version gets no grade (never one from random weights, nor from a model
that learned nothing). Torch is not imported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from fpgrade.media import sha256_file
from fpgrade.storage import database
from fpgrade.storage.tables import ModelVersion

_sha_cache: dict[tuple[str, float, int], str] = {}


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


def summarise_test(metrics: dict) -> dict:
    """What the registry keeps of a fold's test metrics (``compute_metrics``' answer or a
    ``test.json``): accuracy, macro-F1, kappa where ordinal, the number of test samples, how many
    grades the test set held and the share of its commonest grade (what always answering that
    grade would score)."""
    out = {"accuracy": metrics.get("accuracy"), "macro_f1": (metrics.get("macro") or {}).get("f1"),
           "samples": metrics.get("samples")}
    if metrics.get("quadratic_weighted_kappa") is not None:
        out["quadratic_weighted_kappa"] = metrics["quadratic_weighted_kappa"]
    support = [c.get("support", 0) for c in (metrics.get("per_class") or {}).values()]
    if support and sum(support):
        out["test_classes"] = sum(1 for s in support if s > 0)
        out["majority_share"] = max(support) / sum(support)
    return out


def not_better_than_chance(metrics: dict | None) -> str | None:
    """Why test metrics show a model that learned nothing usable, in words, or None.

    Chance is judged two ways, both standard baselines: the accuracy of always answering the
    test set's commonest grade (the "zero rule"), and the macro-F1 of guessing uniformly among
    the K grades present (1/K, exact for a balanced test set). A version without test metrics,
    or whose test set held a single grade, cannot be told apart from chance either.
    """
    metrics = metrics or {}
    samples, accuracy, macro_f1 = (metrics.get(k) for k in ("samples", "accuracy", "macro_f1"))
    if not samples or accuracy is None:
        return "it has no test metrics"
    classes, majority = metrics.get("test_classes"), metrics.get("majority_share")
    if classes is None or majority is None:
        return "its test metrics do not say which grades its test set held"
    if classes < 2:
        return f"its test set holds one grade only ({samples} samples)"
    if accuracy <= majority:
        return (f"its accuracy {accuracy:.3f} is no better than always answering the commonest "
                f"grade ({majority:.3f}, {samples} test samples)")
    if macro_f1 is not None and macro_f1 <= 1 / classes:
        return (f"its macro-F1 {macro_f1:.3f} is no better than guessing among {classes} grades "
                f"({1 / classes:.3f}, {samples} test samples)")
    return None


def _sha(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _sha_cache:
        _sha_cache[key] = sha256_file(path)
    return _sha_cache[key]


def weights_problem(row: ModelVersion) -> str | None:
    """Why the weight file of ``row`` cannot be used (gone, or other bytes), or None."""
    path = Path(row.weights_path)
    if not path.is_file():
        return f"{row.version}: weight file {path} is gone"
    if _sha(path) != row.weights_sha256:
        return f"{row.version}: weight file {path} has changed since training"
    return None


def file_test_metrics(weights: Path) -> dict:
    """:func:`summarise_test` of the ``test.json`` beside a weight file ({} if none)."""
    try:
        return summarise_test(json.loads((Path(weights).parent / "test.json").read_text()))
    except (OSError, ValueError, AttributeError):
        return {}


def version_metrics(row: ModelVersion) -> dict:
    """The version's recorded test metrics, completed from its fold's ``test.json`` (versions
    registered before the registry recorded them)."""
    return {**file_test_metrics(Path(row.weights_path)), **(row.test_metrics or {})}


#: what the chance rule reads but a page need not show
_BOOKKEEPING = ("test_classes", "majority_share")


def _info(row: ModelVersion, metrics: dict, problems: list[str]) -> VersionInfo:
    shown = {k: v for k, v in metrics.items() if k not in _BOOKKEEPING}
    return VersionInfo(row.model_id, row.version, row.scale, str(row.weights_path),
                       bool((row.card or {}).get("synthetic", False)), shown, problems)


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
        problem = weights_problem(row)
        if problem is None:
            found[scale] = _info(row, version_metrics(row), [])
        else:
            found[scale] = VersionInfo("", "", scale, "", False, {}, [f"promoted version {problem}"])
    for row in rows:
        if row.scale in found or (scales is not None and row.scale not in scales):
            continue
        if row.status in (REJECTED, RETIRED) or row.parent_version_id is not None:
            continue
        problem = weights_problem(row)
        metrics = version_metrics(row) if problem is None else {}
        if problem is None:
            chance = not_better_than_chance(metrics)
            problem = chance and (f"{row.version}: {chance} (`fpgrade models promote "
                                  f"{row.version}` serves it anyway)")
        if problem:
            passed_over.setdefault(row.scale, []).append(problem)
            continue
        found[row.scale] = _info(row, metrics, passed_over.get(row.scale, []))
    for scale, problems in passed_over.items():
        if scale not in found:
            found[scale] = VersionInfo("", "", scale, "", False, {}, problems)
    return found
