"""Facial palsy vs normal, two classes (paper 003, VGG16/VGG19 on YFP frames).

Every scale whose levels say whether they are normal converts to this one.
"""

from fpgrade.hookspecs import hookimpl
from fpgrade.scales import GradingScale, Level

PALSY_BINARY = GradingScale(
    id="palsy_binary",
    name="Palsy vs normal",
    source="paper 003 (VGG16/VGG19)",
    ordinal=True,
    description="Normal face, or any degree of facial palsy.",
    levels=(
        Level("normal", "Normal", "No facial palsy.", normal=True, severity=0,
              aliases=("0", "no", "n")),
        Level("palsy", "Facial palsy", "Facial palsy of any grade.", normal=False, severity=1,
              aliases=("1", "yes", "fp", "paralysis")),
    ),
)


@hookimpl
def register_scales(register):
    register(PALSY_BINARY)
