"""Seven side-aware classes: N, L1-L3, R1-R3 (paper 001, Table 3; FNGS 2.0 and asymmetry based).

N is normal; L/R is the patient's affected side; 1 mild, 2 moderate, 3 severe dysfunction. The
descriptions are Table 3's, which grade each region per facial movement MV0-MV6. Converts to
``side`` (left / right / none), to ``severity`` (normal / mild / moderate / severe) and to
``palsy_binary``. Not ordinal as a whole (L3 and R1 have no order); its severity axis is.
A horizontal flip swaps the side: ``flip("L2") == "R2"``.
"""

from fpgrade.hookspecs import hookimpl
from fpgrade.scales import GradingScale, Level, Side

_MILD = (
    "Slight muscular weakness observed on examination of the {side} side of the face. Symmetrical "
    "with tone in MV0; mild asymmetry of the eye area in MV1, eyebrow area in MV2, cheek area in "
    "MV3, mouth area in MV4 and MV6, nose and cheek areas in MV5."
)
_MODERATE = (
    "A clear difference between the two hemifaces, {side} side weaker, but not total asymmetry; "
    "non-serious disordered movement may be observed. Mild asymmetry in MV0; moderate asymmetry "
    "of the eye area in MV1, eyebrow area in MV2, cheek area in MV3, mouth area in MV4 and MV6, "
    "nose and cheek areas in MV5."
)
_SEVERE = (
    "Clear weakness of the {side} side and total asymmetry, with hardly any observable mobility. "
    "Severe asymmetry in MV0 and in every region's movement (MV1-MV6)."
)
_NAMES = ("mild", "moderate", "severe")


def _sided(side: Side, severity: int, template: str) -> Level:
    letter = "L" if side is Side.LEFT else "R"
    return Level(
        code=f"{letter}{severity}",
        name=f"{side.value} {_NAMES[severity - 1]} dysfunction",
        description=template.format(side=side.value),
        side=side,
        normal=False,
        severity=severity,
    )


SIDED7 = GradingScale(
    id="sided7",
    name="7-class side-aware",
    source="paper 001 (IDFNP) Table 3",
    ordinal=False,
    description="Normal, or left/right mild, moderate or severe dysfunction.",
    levels=(
        Level("N", "normal", "Normal function in all facial nerve areas.", normal=True, severity=0),
        *(_sided(Side.LEFT, s, t) for s, t in zip((1, 2, 3), (_MILD, _MODERATE, _SEVERE))),
        *(_sided(Side.RIGHT, s, t) for s, t in zip((1, 2, 3), (_MILD, _MODERATE, _SEVERE))),
    ),
    severity_names=("normal", *_NAMES),
)


@hookimpl
def register_scales(register):
    register(SIDED7)
