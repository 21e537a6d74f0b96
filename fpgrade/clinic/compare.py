"""Before and after: the differences between two saved assessments of a subject (issue 19),
as Emotrics+ compares a pre- and a post-treatment photo, here per movement of the standard set
and per score.

Measurements (per movement): each side's change (later minus earlier, signed, in the unit of the
measurement) and the change of the difference between the two sides. The verdict reads the
latter: in unilateral palsy the aim is the two sides alike, so a smaller difference between the
sides is **better**, a larger one **worse**; a signed deviation (0 = symmetric, e.g. the
mouth-corner height difference) is judged by its size the same way. Changes under
:data:`UNCHANGED` (0.5 mm, 1 degree; ours, about the repeatability of landmark measurements on
two photos of one face, not a published minimal important difference) read **unchanged**.

Scores: eFACE items and scores and the Sunnybrook voluntary and composite scores are better when
higher, Sunnybrook resting symmetry and synkinesis better when lower (Ross et al. 1996); a trained
model's grade of the set is better when its level's severity is lower (House-Brackmann I better
than II; side-aware levels by severity only). A change under 1 point (the page shows whole
points) reads unchanged. A value missing at either visit is "not comparable", never 0; so is an
eFACE score whose items graded differ between the visits (a total over 3 static items is not the
total over 9 items: the mean of other items, not a change of the face).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fpgrade.clinic.movements import MOVEMENTS
from fpgrade.clinic.vocabulary import ORDER, SCORE_WORDS, measure, scale_words

UNCHANGED = {"mm": 0.5, "degrees": 1.0}
UNCHANGED_POINTS = 1.0
BETTER, WORSE, SAME, NONE = "better", "worse", "unchanged", "not comparable"
# Sunnybrook scores whose lower value is better (Ross et al. 1996)
LOWER_IS_BETTER = {("sunnybrook", "resting"), ("sunnybrook", "synkinesis")}


@dataclass(frozen=True)
class MeasureChange:
    """One measurement of one movement at both visits: ``right``/``left`` are (earlier, later);
    ``gap`` the difference between the sides (earlier, later; absolute); ``change`` the change
    of that gap (later minus earlier: negative = the sides came closer)."""

    id: str
    words: str
    unit: str
    right: tuple[float | None, float | None]
    left: tuple[float | None, float | None]
    gap: tuple[float | None, float | None]
    change: float | None
    verdict: str

    @property
    def right_change(self) -> float | None:
        return _minus(*self.right)

    @property
    def left_change(self) -> float | None:
        return _minus(*self.left)


@dataclass(frozen=True)
class ScoreChange:
    """One score or item at both visits, its signed change and the verdict in words."""

    scale: str
    key: str
    words: str
    earlier: object
    later: object
    change: float | None
    verdict: str
    note: str = ""


def _minus(earlier, later) -> float | None:
    if isinstance(earlier, (int, float)) and isinstance(later, (int, float)):
        return float(later) - float(earlier)
    return None


def _verdict(change: float | None, tolerance: float, *, lower_is_better: bool) -> str:
    if change is None:
        return NONE
    if abs(change) < tolerance:
        return SAME
    return BETTER if (change < 0) == lower_is_better else WORSE


def _values(saved: Mapping, movement: str) -> dict:
    return ((saved.get("measurements") or {}).get(movement) or {}).get("measurements") or {}


def movements(earlier: Mapping, later: Mapping) -> list[str]:
    """The movements measured at either visit, in the order of the standard set."""
    keys = set(earlier.get("measurements") or {}) | set(later.get("measurements") or {})
    keys |= set(earlier.get("photos") or {}) | set(later.get("photos") or {})
    return [m.key for m in MOVEMENTS if m.key in keys] + sorted(
        k for k in keys if k not in {m.key for m in MOVEMENTS})


def measurement_changes(earlier: Mapping, later: Mapping, movement: str) -> list[MeasureChange]:
    """Every measurement of ``movement`` at both visits (see :class:`MeasureChange`)."""
    before, after = _values(earlier, movement), _values(later, movement)
    names = [n for n in ORDER if n in before or n in after]
    names += [n for n in (*before, *after) if n not in names]
    rows = []
    for name in dict.fromkeys(names):
        a, b = before.get(name), after.get(name)
        words = measure(name)
        if isinstance(a, dict) or isinstance(b, dict):  # a value per side
            a, b = a if isinstance(a, dict) else {}, b if isinstance(b, dict) else {}
            unit = a.get("unit") or b.get("unit") or words.unit
            right, left = (a.get("right"), b.get("right")), (a.get("left"), b.get("left"))
            gap = tuple(abs(s["right"] - s["left"]) if _num(s.get("right"), s.get("left"))
                        else None for s in (a, b))
        else:  # a signed deviation of the two sides (0 = symmetric)
            unit = words.unit or "mm"
            right = left = (None, None)
            gap = tuple(abs(v) if isinstance(v, (int, float)) else None for v in (a, b))
        change = _minus(*gap)
        rows.append(MeasureChange(name, words.label, unit, right, left, gap, change,
                                  _verdict(change, UNCHANGED.get(unit, 0.5),
                                           lower_is_better=True)))
    return rows


def _num(*values) -> bool:
    return all(isinstance(v, (int, float)) for v in values)


def score_changes(earlier: Mapping, later: Mapping) -> list[ScoreChange]:
    """eFACE scores and items, Sunnybrook scores, and each trained model's grade of the set."""
    from fpgrade.registry import get_registry

    registry = get_registry()
    out: list[ScoreChange] = []
    for scale in ("eface", "sunnybrook"):
        composite = registry.composite(scale)
        a, b = earlier.get(scale) or {}, later.get(scale) or {}
        name = "eFACE" if scale == "eface" else "Sunnybrook"
        for key in dict.fromkeys([*(a.get("scores") or {}), *(b.get("scores") or {})]):
            x, y = (a.get("scores") or {}).get(key), (b.get("scores") or {}).get(key)
            if x is None and y is None:
                continue
            change = _minus(x, y)
            verdict = _verdict(change, UNCHANGED_POINTS,
                               lower_is_better=(scale, key) in LOWER_IS_BETTER)
            note = ""
            if scale == "eface" and change is not None:
                first, second = (_graded_items(composite, v, key) for v in (a, b))
                if first != second:
                    verdict, change = NONE, None
                    note = (f"different items graded ({len(first)} and {len(second)}): the mean "
                            "of other items, not a change")
            out.append(ScoreChange(scale, key, f"{name} {SCORE_WORDS.get(key, key)}", x, y,
                                   change, verdict, note))
        if scale == "eface":
            for item in composite.items:
                x, y = (a.get("items") or {}).get(item.id), (b.get("items") or {}).get(item.id)
                if x is None and y is None:
                    continue
                change = _minus(x, y)
                out.append(ScoreChange(scale, item.id, f"eFACE item: {item.name}", x, y, change,
                                       _verdict(change, UNCHANGED_POINTS, lower_is_better=False)))
    grades_a, grades_b = earlier.get("grades") or {}, later.get("grades") or {}
    for scale_id in dict.fromkeys([*grades_a, *grades_b]):
        x, y = _set_label(grades_a.get(scale_id)), _set_label(grades_b.get(scale_id))
        if x is None and y is None:
            continue
        out.append(ScoreChange(scale_id, "grade", f"{scale_words(scale_id)} (trained model)", x,
                               y, *_grade_change(registry.scales.get(scale_id), x, y)))
    return out


def _graded_items(composite, saved: Mapping, score: str) -> set[str]:
    """The eFACE items graded in a saved form that ``score`` (a group or ``total``) averages."""
    items = saved.get("items") or {}
    return {i.id for i in composite.items if items.get(i.id) is not None
            and (score == "total" or i.group == score)}


def _set_label(entry: Mapping | None) -> str | None:
    if not entry or entry.get("status") != "graded":
        return None
    combined = entry.get("set")
    if combined is None:
        from fpgrade.clinic.set_grades import combine

        combined = combine(entry)
    return combined["label"] if combined else None


def _grade_change(scale, x: str | None, y: str | None) -> tuple[float | None, str]:
    """(change in severity levels, verdict) of a grade from ``x`` to ``y``."""
    if x is None or y is None or scale is None:
        return None, NONE
    try:
        a, b = scale.level(x).severity, scale.level(y).severity
    except Exception:  # noqa: BLE001 - a code this scale no longer knows
        return None, NONE
    if a is None or b is None:
        return None, SAME if x == y else "changed"
    return float(b - a), _verdict(float(b - a), 0.5, lower_is_better=True)
