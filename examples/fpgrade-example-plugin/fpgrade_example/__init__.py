"""An example third-party fpgrade plugin: the Sunnybrook-style eye-closure scale and a tiny model.

It is what a research group writes to add its own scale and model: one module with ``@hookimpl``
functions and one entry-point line in its ``pyproject.toml``.
"""

from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard
from fpgrade.scales import GradingScale, Level

EYE_CLOSURE = GradingScale(
    id="example_eye_closure",
    name="Eye closure (example)",
    source="example plugin",
    ordinal=True,
    levels=(
        Level("complete", "Complete closure", normal=True),
        Level("effort", "Complete with effort", normal=False),
        Level("incomplete", "Incomplete closure", normal=False),
    ),
)


class TinyLinear(GradingModel):
    """A linear classifier over a 32x32 grey face: the smallest model that can be trained."""

    card = ModelCard(
        id="example_tiny_linear",
        name="Tiny linear (example)",
        paper="none: an example",
        scales=(EYE_CLOSURE.id,),
        input_shape=(1, 32, 32),
        mean=(0.5,),
        std=(0.25,),
    )

    @classmethod
    def build(cls, scale=None, **options):
        from torch import nn

        return nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, len(EYE_CLOSURE)))


@hookimpl
def register_scales(register):
    register(EYE_CLOSURE)


@hookimpl
def register_models(register):
    register(TinyLinear)
