"""The Sunnybrook facial grading system (Ross, Fradet & Nedzelski 1996, "Development of a
sensitive clinical facial grading system", Otolaryngol. Head Neck Surg. 114:380-386).

Items, graded by the clinician comparing the affected side with the normal one:

- resting symmetry: eye (normal 0; narrow, wide or eyelid surgery 1), cheek / nasolabial fold
  (normal 0; absent 2; less or more pronounced 1), mouth (normal 0; corner drooped or pulled
  up/out 1); resting score = 5 x their sum (0-20);
- voluntary movement of five expressions (forehead wrinkle, gentle eye closure, open-mouth smile,
  snarl, lip pucker), each 1 (unable to initiate) to 5 (movement complete); voluntary score =
  4 x their sum (20-100);
- synkinesis during the same five expressions, each 0 (none) to 3 (severe); synkinesis score =
  their sum (0-15);
- composite score = voluntary - resting - synkinesis (100 = normal function).

A score is ``None`` until every item it needs is graded (the published form has no partial score).
"""

from __future__ import annotations

from collections.abc import Mapping

REST, VOLUNTARY, SYNKINESIS = "resting", "voluntary", "synkinesis"

REST_ITEMS = (
    ("rest_eye", "Eye (palpebral fissure)", ((0, "normal"), (1, "narrow"), (1, "wide"),
                                             (1, "eyelid surgery"))),
    ("rest_cheek", "Cheek (nasolabial fold)", ((0, "normal"), (2, "absent"),
                                               (1, "less pronounced"), (1, "more pronounced"))),
    ("rest_mouth", "Mouth", ((0, "normal"), (1, "corner drooped"), (1, "corner pulled up/out"))),
)
EXPRESSIONS = (
    ("brow_lift", "Forehead wrinkle (brow lift)", "raise_brows"),
    ("gentle_eye_closure", "Gentle eye closure", "close_eyes_gently"),
    ("open_mouth_smile", "Open-mouth smile", "smile"),
    ("snarl", "Snarl", "wrinkle_nose"),
    ("lip_pucker", "Lip pucker", "pucker"),
)
VOLUNTARY_CHOICES = ((1, "unable to initiate movement"), (2, "initiates slight movement"),
                     (3, "initiated movement with mild excursion"), (4, "movement almost complete"),
                     (5, "movement complete"))
SYNKINESIS_CHOICES = ((0, "none"), (1, "mild"), (2, "moderate"), (3, "severe"))
SCORES = (("resting", "5 x sum of resting-symmetry items (0-20)"),
          ("voluntary", "4 x sum of voluntary-movement items (20-100)"),
          ("synkinesis", "sum of synkinesis items (0-15)"),
          ("composite", "voluntary - resting - synkinesis"))


def item_ids(group: str) -> tuple[str, ...]:
    if group == REST:
        return tuple(i for i, _, _ in REST_ITEMS)
    prefix = "voluntary_" if group == VOLUNTARY else "synkinesis_"
    return tuple(prefix + e for e, _, _ in EXPRESSIONS)


def scores(values: Mapping[str, float]) -> dict[str, float | None]:
    """Resting, voluntary, synkinesis and composite scores (``None`` until all their items are
    graded)."""
    def total(group: str) -> float | None:
        ids = item_ids(group)
        return sum(values[i] for i in ids) if all(i in values for i in ids) else None

    rest, voluntary, synk = total(REST), total(VOLUNTARY), total(SYNKINESIS)
    result = {"resting": None if rest is None else 5 * rest,
              "voluntary": None if voluntary is None else 4 * voluntary,
              "synkinesis": synk}
    parts = (result["voluntary"], result["resting"], result["synkinesis"])
    result["composite"] = None if None in parts else parts[0] - parts[1] - parts[2]
    return result
