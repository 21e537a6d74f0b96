"""Words, not codes, wherever a clinician reads (issue 20): movements (paper 001's MV0-MV6, named
by the photo set of :mod:`fpgrade.clinic.movements`), the levels of a scale with their clinical
descriptions (from the scale plugin), and the reasons a medium cannot be graded.

MV1 is both gentle and tight eye closure in that set (paper 001 does not tell them apart), so it
reads "Close the eyes gently or tightly"; MV3 (cheeks puffed) is not in the photo set and is named
after paper 001's Table 2. A movement stored as free text is shown as it is (escaped).
"""

from __future__ import annotations

from fpgrade.clinic.movements import BY_KEY, MOVEMENTS
from fpgrade.labelling.model import CannotGrade
from fpgrade.registry import get_registry
from fpgrade_ui.markdown_text import md

CANNOT_GRADE_TEXT = {
    CannotGrade.BAD_PHOTO.value: "bad photo",
    CannotGrade.WRONG_MOVEMENT.value: "wrong movement",
    CannotGrade.NO_FACE.value: "no face",
    CannotGrade.OTHER.value: "other (note why)",
}


def cannot_grade_words(code: str | None) -> str:
    return CANNOT_GRADE_TEXT.get(code or "", code or "")


#: paper 001 Table 2's names, for a code the photo set lacks
PAPER_NAMES = {"MV0": "At rest", "MV1": "Eyes closed", "MV2": "Eyebrows raised",
               "MV3": "Cheeks puffed", "MV4": "Grinning", "MV5": "Nose wrinkled",
               "MV6": "Whistling"}


def _joined(instructions: list[str]) -> str:
    """``["Close the eyes gently", "Close the eyes tightly"]`` -> "Close the eyes gently or
    tightly" (the common leading words once)."""
    if len(instructions) == 1:
        return instructions[0]
    words = [text.split() for text in instructions]
    common = 0
    while all(len(w) > common + 1 and w[common] == words[0][common] for w in words):
        common += 1
    return " ".join(words[0][:common] + [" or ".join(" ".join(w[common:]) for w in words)])


def movement_words(movement: str | None, *, code: bool = True, markdown: bool = True) -> str:
    """A movement in words, the code after it: "Close the eyes gently or tightly (MV1)";
    "unknown movement" when none. The names are the project's own text; a movement stored as
    free text is escaped for Markdown unless ``markdown`` is false (a table cell or a dropdown
    shows text as it is)."""
    md_ = md if markdown else str
    if not movement:
        return "unknown movement"
    key = movement.strip()
    if key in BY_KEY:
        found = BY_KEY[key]
        return found.instruction + (f" ({found.mv})" if code else "")
    upper = key.upper()
    instructions = [m.instruction for m in MOVEMENTS if m.mv == upper]
    text = _joined(instructions) if instructions else PAPER_NAMES.get(upper)
    if text is None:
        return md_(movement)
    return text + (f" ({upper})" if code else "")


ASPECTS = {"at_rest": "At rest", "motion": "Motion"}


def scale_levels(scale_id: str) -> list[tuple[str, str, str]]:
    """(code, name, description) of each level of a scale, from its plugin; a level's details
    by aspect (House-Brackmann: at rest, motion) follow its description, the gross description
    once."""
    scale = get_registry().scale(scale_id)
    out = []
    for level in scale.levels:
        parts = [level.description.strip()]
        for aspect, text in level.details.items():
            if text.strip() and text.strip() != level.description.strip():
                parts.append(f"{ASPECTS.get(aspect, aspect.replace('_', ' ').capitalize())}: "
                             f"{text.strip()}")
        out.append((level.code, level.name, " ".join(p for p in parts if p)))
    return out


def levels_markdown(scale_id: str) -> str:
    """The levels with their clinical descriptions, keys first (the labelling view's legend)."""
    scale = get_registry().scale(scale_id)
    lines = [f"**{scale.name}**: press a level's key (1-9), then Enter; or click the level and "
             "Submit. S skips.", "", "| key: level | what you see |", "|---|---|"]
    for number, (code, name, text) in enumerate(scale_levels(scale_id), start=1):
        key = f"**{number}**: " if number <= 9 else ""
        lines.append(f"| {key}**{code}** {name} | {text.replace('|', '/')} |")
    return "\n".join(lines)
