"""Three-level severity of facial nerve paralysis (paper 000, Table I).

Level I = House-Brackmann grade 1 (normal); Level II = HB 2-4 (mild-to-moderate dysfunction);
Level III = HB 5-6 (severe paralysis). Ordinal. It is a coarsening of House-Brackmann, so it
converts to ``palsy_binary`` only; it cannot be expanded back to HB.
"""

from fpgrade.hookspecs import hookimpl
from fpgrade.scales import GradingScale, Level

SEVERITY3 = GradingScale(
    id="severity3",
    name="3-level severity",
    source="paper 000 (PHCNN-LSTM) Table I",
    ordinal=True,
    description="Normal, mild-to-moderate (HB 2-4), severe (HB 5-6).",
    levels=(
        Level("I", "Normal", "Normal face; House-Brackmann grade 1.", normal=True, severity=0,
              aliases=("1", "level I", "normal")),
        Level("II", "Mild-to-moderate dysfunction", "House-Brackmann grades 2 to 4.",
              normal=False, severity=1, aliases=("2", "level II")),
        Level("III", "Severe paralysis", "House-Brackmann grades 5 and 6.",
              normal=False, severity=2, aliases=("3", "level III")),
    ),
)


@hookimpl
def register_scales(register):
    register(SEVERITY3)
