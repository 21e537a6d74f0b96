"""House-Brackmann facial nerve grading scale, grades I-VI.

House & Brackmann 1985, as tabulated in paper 002 (Table 1: gross, at-rest and motion descriptions)
and paper 004 (Table 1). Ordinal. Converts to ``severity3`` by paper 000 Table I (HB 1 -> Level I,
HB 2-4 -> Level II, HB 5-6 -> Level III) and to ``palsy_binary`` (grade I is normal). Arabic grades
``1``-``6`` (paper 004's spelling) are accepted on input.
"""

from fpgrade.hookspecs import hookimpl
from fpgrade.scales import GradingScale, Level


def _grade(code: str, number: int, name: str, gross: str, rest: str, motion: str) -> Level:
    return Level(
        code=code,
        name=name,
        description=gross,
        normal=number == 1,
        severity=number - 1,
        details={"gross": gross, "at_rest": rest, "motion": motion},
        aliases=(str(number), f"HB{number}", f"HB {number}", f"grade {code}"),
    )


HOUSE_BRACKMANN = GradingScale(
    id="house_brackmann",
    name="House-Brackmann",
    source="House & Brackmann 1985; paper 002 Table 1, paper 004 Table 1",
    ordinal=True,
    description="Six grades from normal function (I) to total paralysis (VI).",
    levels=(
        _grade("I", 1, "Normal", "Normal.", "Symmetry.", "Normal facial function."),
        _grade(
            "II", 2, "Slight dysfunction",
            "Slight weakness noticeable on close inspection; may have very slight synkinesis.",
            "Normal symmetry and tone.",
            "Forehead - moderate to good function; Eye - complete closure with minimum effort; "
            "Mouth - slight asymmetry.",
        ),
        _grade(
            "III", 3, "Moderate dysfunction",
            "Obvious but not disfiguring difference between two sides; noticeable but not severe "
            "synkinesis, contracture, and/or hemi-facial spasm.",
            "Normal symmetry and tone.",
            "Forehead - slight to moderate movement; Eye - complete closure with effort; "
            "Mouth - slightly weak with maximum effort.",
        ),
        _grade(
            "IV", 4, "Moderately severe dysfunction",
            "Obvious weakness and/or disfiguring asymmetry.",
            "Normal symmetry and tone.",
            "Forehead - none; Eye - incomplete closure; Mouth - asymmetric with maximum effort.",
        ),
        _grade(
            "V", 5, "Severe dysfunction",
            "Only barely perceptible motion.",
            "Asymmetry.",
            "Forehead - none; Eye - incomplete closure; Mouth - slight movement.",
        ),
        _grade("VI", 6, "Total paralysis", "No perceptible motion.", "Asymmetry.", "No movement."),
    ),
    conversions={
        "severity3": {"I": "I", "II": "II", "III": "II", "IV": "II", "V": "III", "VI": "III"},
    },
)


@hookimpl
def register_scales(register):
    register(HOUSE_BRACKMANN)
