"""Mouth motion, four classes: the second task of 3DPalsyNet (paper 004, section IV).

"Each sequence is labelled as follows: no motion, smile, mouth open and other mouth motions."
This is a motion-recognition scale, not a palsy grade: its levels say nothing about palsy, so no
conversion (not even to ``palsy_binary``) is defined.
"""

from fpgrade.hookspecs import hookimpl
from fpgrade.scales import GradingScale, Level

MOUTH_MOTION = GradingScale(
    id="mouth_motion",
    name="Mouth motion",
    source="paper 004 (3DPalsyNet) section IV",
    ordinal=False,
    description="What the mouth does during a video sequence.",
    levels=(
        Level("none", "No motion", "The mouth does not move.", aliases=("no motion",)),
        Level("smile", "Smile", "A smile (symmetric or not)."),
        Level("open", "Mouth open", "The mouth opens.", aliases=("mouth open",)),
        Level("other", "Other mouth motion", "Any other motion, e.g. talking or pursing.",
              aliases=("other mouth motion",)),
    ),
)


@hookimpl
def register_scales(register):
    register(MOUTH_MOTION)
