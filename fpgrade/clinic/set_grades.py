"""One grade per scale for a patient's set, from the per-photo grades of a trained model.

Rule (stated wherever the grade is shown, :data:`RULE`): the mean of the class probabilities over
the photos the model graded, and the class with the highest mean. A photo whose grading failed
does not take part. Each photo still carries its own grade (the page shows them one click away):
paper 001 reads the weak muscle from the movement whose photo grades worst.
"""

from __future__ import annotations

from collections.abc import Mapping

RULE = "mean of the class probabilities over the graded photos; the most probable class"


def combine(entry: Mapping) -> dict | None:
    """``{"label", "probability", "probabilities", "photos"}`` of a graded scale's entry (see
    :func:`fpgrade.clinic.models.grades_for_set`); ``None`` when no photo was graded."""
    graded = [g for g in (entry.get("photos") or {}).values()
              if "probabilities" in g and g["probabilities"]]
    if not graded:
        return None
    classes = list(dict.fromkeys(c for g in graded for c in g["probabilities"]))
    mean = {c: sum(g["probabilities"].get(c, 0.0) for g in graded) / len(graded) for c in classes}
    label = max(mean, key=mean.get)
    return {"label": label, "probability": round(mean[label], 3),
            "probabilities": {c: round(p, 3) for c, p in mean.items()}, "photos": len(graded),
            "rule": RULE}


def level_words(scale_id: str, code: str) -> str:
    """``"L2 (left moderate dysfunction)"``: a grade's code with its level's name."""
    from fpgrade.registry import get_registry

    scale = get_registry().scales.get(scale_id)
    try:
        level = scale.level(code) if scale is not None else None
    except Exception:  # noqa: BLE001 - an unknown code is shown as it is
        level = None
    return f"{code} ({level.name})" if level is not None and level.name != code else str(code)


def with_set_grades(grades: Mapping) -> dict:
    """The grades with ``set`` added to every graded scale (see :func:`combine`)."""
    out = {}
    for scale, entry in grades.items():
        entry = dict(entry)
        if entry.get("status") == "graded":
            entry["set"] = combine(entry)
        out[scale] = entry
    return out
