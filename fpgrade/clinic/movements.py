"""The standard photo set of a facial-palsy visit, one photo per movement, and how each maps to
paper 001's movements MV0-MV6 (Table 2: MV0 at rest, MV1 eyes closed, MV2 eyebrows raised,
MV3 cheeks puffed, MV4 grinning, MV5 nose wrinkled, MV6 whistling).

The set is the one eFACE and Auto-eFACE photograph (Banks et al. 2015; Guarin et al. 2018):
paper 001 does not tell gentle from tight eye closure, so both map to MV1; it has no cheek-puff
photo in the set (MV3 is not asked for).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Movement:
    """One photo of the set: ``key`` (file-name friendly), what the patient is asked to do,
    paper 001's movement code, and what the photo adds to the grading."""

    key: str
    instruction: str
    mv: str
    adds: str


MOVEMENTS: tuple[Movement, ...] = (
    Movement("rest", "At rest, looking straight ahead", "MV0",
             "the static eFACE items (brow, palpebral fissure, oral commissure at rest) and the "
             "baseline every dynamic item is measured from"),
    Movement("raise_brows", "Raise the eyebrows", "MV2",
             "eFACE brow elevation (frontalis); Sunnybrook forehead wrinkle"),
    Movement("close_eyes_gently", "Close the eyes gently", "MV1",
             "eFACE gentle eye closure (orbicularis oculi); Sunnybrook gentle eye closure"),
    Movement("close_eyes_tightly", "Close the eyes tightly", "MV1",
             "eFACE full eye closure (orbicularis oculi at full effort)"),
    Movement("wrinkle_nose", "Wrinkle the nose", "MV5",
             "nasal-region asymmetry (levator labii superioris alaeque nasi); Sunnybrook snarl"),
    Movement("smile", "Smile showing the teeth", "MV4",
             "eFACE oral commissure with smile and lower-lip movement (zygomaticus, depressor "
             "labii); ocular synkinesis; Sunnybrook open-mouth smile"),
    Movement("pucker", "Pucker the lips (whistle)", "MV6",
             "ocular synkinesis during pucker (orbicularis oris); Sunnybrook lip pucker"),
)

BY_KEY = {m.key: m for m in MOVEMENTS}


def movement(key: str) -> Movement:
    """The movement with this key; a :class:`KeyError` naming the valid keys."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown movement {key!r} (valid: {', '.join(BY_KEY)})") from None


def missing(keys) -> list[Movement]:
    """The movements of the set that are not among ``keys``, in set order."""
    given = set(keys)
    return [m for m in MOVEMENTS if m.key not in given]
