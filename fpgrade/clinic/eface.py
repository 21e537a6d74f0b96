"""eFACE items from clinical measurements (automatic, editable), and the eFACE scores.

eFACE (Banks, Bhama, Park, Hadlock & Hadlock 2015, "Clinician-graded electronic facial paralysis
assessment: the eFACE", Plast. Reconstr. Surg. 136:223e) grades static, dynamic and synkinesis
items on a 0-100 visual analogue scale, 100 meaning the affected side matches the healthy one.
Auto-eFACE (Guarin et al.; reference code github.com/dguari1/Auto-eFace, ``Compute_eFace.py``,
MIT) fills some items from Emotrics measurements of a standard photo set. The formulas below follow
Auto-eFACE's ratios of the affected to the healthy side (written anew here, not copied):

Static (rest photo, ``a`` brow height, ``c`` palpebral fissure height, ``d``/``e`` horizontal
and vertical parts of the commissure excursion):

- ``brow_rest`` = a_affected / a_healthy;
- ``palpebral_fissure_rest`` = c_affected / c_healthy;
- ``oral_commissure_rest`` = e_affected / e_healthy when the affected corner is raised less than
  the healthy one but still above the lower-lip midpoint, else d_affected / d_healthy.

Dynamic (each against the rest photo):

- ``brow_elevation`` = (b - a)_affected / (b - a)_healthy, ``b`` brow height eyebrows raised;
- ``gentle_eye_closure`` / ``full_eye_closure`` = (c - g) / c on the affected side, ``g`` the
  fissure with the eyes closed gently / tightly (under 1 mm counts as closed);
- ``oral_commissure_smile`` = (h - f)_affected / (h - f)_healthy, commissure excursion at smile
  ``h`` and at rest ``f``;
- ``lower_lip_movement`` = dental show affected / healthy.

Synkinesis: ``ocular_synkinesis`` = the smaller of the palpebral-fissure ratios (affected /
healthy) at smile and at pucker.

A ratio r (x 100) becomes the item score ``100 - |100 - r|``, clipped to 0-100, as Auto-eFACE
scores them: too much movement or a too-open eye counts like too little.

Deviations from Auto-eFACE: lower-lip movement is read from the "smile showing teeth" photo
(Auto-eFACE asks for a separate "eee" photo); the palpebral fissure is the height at the middle
of the lid landmarks (Emotrics' definition in :mod:`fpgrade.face.measure`); items whose
denominator is under 0.5 mm (no movement on the healthy side) are left empty rather than divided.
Nasolabial fold items and the other synkinesis items cannot be measured from 68 landmarks and are
left to the clinician. Scores: ``static``, ``dynamic`` and ``synkinesis`` are the means of the
items graded in their group, ``total`` the mean of all graded items (Auto-eFACE averages the
items it has; eFACE's full form has 16 items).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

STATIC, DYNAMIC, SYNKINESIS = "static", "dynamic", "synkinesis"
MIN_DENOMINATOR_MM = 0.5
CLOSED_MM = 1.0

# item id, name, group, automatic, movement, how it is graded
ITEMS: tuple[tuple[str, str, str, bool, str | None, str], ...] = (
    ("brow_rest", "Brow at rest", STATIC, True, "rest", "affected / healthy brow height"),
    ("palpebral_fissure_rest", "Palpebral fissure at rest", STATIC, True, "rest",
     "affected / healthy eye opening"),
    ("nasolabial_fold_rest", "Nasolabial fold depth at rest", STATIC, False, "rest",
     "clinician"),
    ("oral_commissure_rest", "Oral commissure at rest", STATIC, True, "rest",
     "affected / healthy corner position"),
    ("brow_elevation", "Brow elevation", DYNAMIC, True, "raise_brows",
     "affected / healthy brow lift from rest"),
    ("gentle_eye_closure", "Gentle eye closure", DYNAMIC, True, "close_eyes_gently",
     "share of the affected eye closed"),
    ("full_eye_closure", "Full eye closure", DYNAMIC, True, "close_eyes_tightly",
     "share of the affected eye closed"),
    ("oral_commissure_smile", "Oral commissure with smile", DYNAMIC, True, "smile",
     "affected / healthy corner excursion from rest"),
    ("nasolabial_fold_smile", "Nasolabial fold with smile", DYNAMIC, False, "smile", "clinician"),
    ("lower_lip_movement", "Lower lip movement", DYNAMIC, True, "smile",
     "affected / healthy dental show"),
    ("ocular_synkinesis", "Ocular synkinesis", SYNKINESIS, True, "smile",
     "affected / healthy eye opening at smile or pucker"),
    ("midfacial_synkinesis", "Midfacial synkinesis", SYNKINESIS, False, None, "clinician"),
    ("mentalis_synkinesis", "Mentalis synkinesis", SYNKINESIS, False, None, "clinician"),
    ("platysmal_synkinesis", "Platysmal synkinesis", SYNKINESIS, False, None, "clinician"),
)
GROUP = {item_id: group for item_id, _, group, *_ in ITEMS}
SCORES = (("static", "mean of the static items graded"),
          ("dynamic", "mean of the dynamic items graded"),
          ("synkinesis", "mean of the synkinesis items graded"),
          ("total", "mean of every item graded"))


class _Sides(Protocol):  # FaceMeasurements.sides[name].left/.right (duck-typed: no import)
    sides: Mapping


def score_of_ratio(ratio: float) -> float:
    """An item score from a ratio (1.0 = symmetric): ``100 - |100 - 100 r|`` within 0-100."""
    return float(min(100.0, max(0.0, 100.0 - abs(100.0 - 100.0 * ratio))))


def _value(m: _Sides, name: str, side: str) -> float:
    return float(getattr(m.sides[name], side))


def _ratio(numerator: float, denominator: float) -> float | None:
    if not math.isfinite(numerator) or not math.isfinite(denominator):
        return None
    if abs(denominator) < MIN_DENOMINATOR_MM:
        return None
    return numerator / denominator


def _commissure_parts(m: _Sides, side: str) -> tuple[float, float]:
    """(horizontal, vertical) parts of the commissure excursion; vertical > 0 when raised."""
    excursion = _value(m, "commissure_excursion", side)
    angle = math.radians(_value(m, "smile_angle", side) - 90.0)
    return excursion * math.cos(angle), excursion * math.sin(angle)


def automatic_items(by_movement: Mapping[str, _Sides], healthy: str) -> dict[str, dict]:
    """The eFACE items the photos allow, each ``{"value": 0-100, "ratio": r}``, or
    ``{"value": None, "why": ...}`` saying which photo (or movement) is missing.

    :param by_movement: movement key (see :mod:`fpgrade.clinic.movements`) -> measurements.
    :param healthy: ``"left"`` or ``"right"``, the patient's healthy side.
    """
    if healthy not in ("left", "right"):
        raise ValueError(f"healthy side must be 'left' or 'right', not {healthy!r}")
    bad = "right" if healthy == "left" else "left"
    rest = by_movement.get("rest")
    out: dict[str, dict] = {}

    def put(item: str, ratio: float | None, why: str) -> None:
        out[item] = ({"value": round(score_of_ratio(ratio), 1), "ratio": round(ratio, 3)}
                     if ratio is not None else {"value": None, "why": why})

    no_rest = "needs the rest photo"
    if rest is not None:
        put("brow_rest", _ratio(_value(rest, "brow_height", bad), _value(rest, "brow_height", healthy)),
            "brow height on the healthy side too small")
        put("palpebral_fissure_rest",
            _ratio(_value(rest, "palpebral_fissure_height", bad),
                   _value(rest, "palpebral_fissure_height", healthy)),
            "healthy eye closed at rest")
        (d_bad, e_bad), (d_ok, e_ok) = _commissure_parts(rest, bad), _commissure_parts(rest, healthy)
        if 0 < e_bad < e_ok and e_ok >= MIN_DENOMINATOR_MM:
            put("oral_commissure_rest", e_bad / e_ok, "")
        else:
            put("oral_commissure_rest", _ratio(d_bad, d_ok), "mouth corner not found")
    else:
        for item in ("brow_rest", "palpebral_fissure_rest", "oral_commissure_rest"):
            out[item] = {"value": None, "why": no_rest}

    def dynamic(item: str, key: str, compute) -> None:
        photo = by_movement.get(key)
        if photo is None or rest is None:
            needed = [k for k in ("rest", key) if by_movement.get(k) is None]
            out[item] = {"value": None, "why": "needs the " + " and ".join(
                f"'{k.replace('_', ' ')}' photo" for k in needed)}
            return
        put(item, compute(photo), "no movement on the healthy side")

    def lift(name):
        return lambda m: _ratio(_value(m, name, bad) - _value(rest, name, bad),
                                _value(m, name, healthy) - _value(rest, name, healthy))

    def closure(m):
        c = _value(rest, "palpebral_fissure_height", bad)
        g = _value(m, "palpebral_fissure_height", bad)
        g = 0.0 if g < CLOSED_MM else g
        return _ratio(c - g, c)

    dynamic("brow_elevation", "raise_brows", lift("brow_height"))
    dynamic("gentle_eye_closure", "close_eyes_gently", closure)
    dynamic("full_eye_closure", "close_eyes_tightly", closure)
    dynamic("oral_commissure_smile", "smile", lift("commissure_excursion"))
    smile = by_movement.get("smile")
    if smile is not None:
        put("lower_lip_movement", _ratio(_value(smile, "dental_show", bad),
                                         _value(smile, "dental_show", healthy)),
            "no teeth shown on the healthy side")
    else:
        out["lower_lip_movement"] = {"value": None, "why": "needs the 'smile' photo"}
    ratios = [_ratio(_value(m, "palpebral_fissure_height", bad),
                     _value(m, "palpebral_fissure_height", healthy))
              for m in (by_movement.get("smile"), by_movement.get("pucker")) if m is not None]
    ratios = [r for r in ratios if r is not None]
    if ratios:
        put("ocular_synkinesis", min(ratios), "")
    else:
        out["ocular_synkinesis"] = {"value": None, "why": "needs the 'smile' or 'pucker' photo"}
    return out


def scores(values: Mapping[str, float]) -> dict[str, float | None]:
    """eFACE scores from item values (0-100): the mean per group and over all graded items."""
    result: dict[str, float | None] = {}
    for group in (STATIC, DYNAMIC, SYNKINESIS):
        graded = [v for k, v in values.items() if GROUP.get(k) == group]
        result[group] = round(sum(graded) / len(graded), 1) if graded else None
    graded = [v for k, v in values.items() if k in GROUP]
    result["total"] = round(sum(graded) / len(graded), 1) if graded else None
    return result
