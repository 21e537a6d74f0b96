"""An example third-party fpgrade plugin: an eye-closure scale, a preprocessor and a tiny model.

It is what a research group writes to add its own scale and model: one module with ``@hookimpl``
functions and one entry-point line in its ``pyproject.toml``. It follows fpgrade's rule for
plugins: nothing heavy at module level (torch is imported by ``build``), so listing installed
plugins stays fast. The model trains like the built-in ones (``fpgrade train --model
example_tiny_linear --scale example_eye_closure ...``): it declares its inputs, their layout and
its augmentation.
"""

from fpgrade.augmentation import Augmentation
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard
from fpgrade.preprocess_api import Preprocessor
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


class GreyFace32(Preprocessor):
    """The 128 px face crop of fpgrade's ``face_crop_128``, averaged down to 32x32 grey."""

    id = "example_grey_face_32"
    description = "32x32 grey face: 4x4 block means of the 128 px face crop."
    requires = ("face_128",)
    provides = ("grey_face_32",)

    def __call__(self, results):
        face = results["face_128"].astype("float32").mean(axis=-1)  # numpy only: cheap
        small = face.reshape(32, 4, 32, 4).mean(axis=(1, 3))
        return {"grey_face_32": small.round().astype("uint8")[..., None]}


class TinyLinear(GradingModel):
    """A linear classifier over a 32x32 grey face: the smallest model that can be trained."""

    card = ModelCard(
        id="example_tiny_linear",
        name="Tiny linear (example)",
        paper="none: an example",
        scales=(EYE_CLOSURE.id,),
        preprocessors=("image_loader", "face_landmarks", "face_crop_128", "example_grey_face_32"),
        input_shape=(1, 32, 32),
        mean=(0.5,),
        std=(0.25,),
        recipe={"optimizer": "adam", "lr": 1e-3, "epochs": 10, "batch_size": 16,
                "protocol": "kfold:5"},
    )
    input_keys = ("grey_face_32",)
    input_layouts = {"grey_face_32": "image"}
    augmentation = Augmentation(rotate=0.5, max_degrees=5.0)

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        from torch import nn

        class Linear(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, num_classes or len(EYE_CLOSURE)))

            def forward(self, face):
                return {"logits": self.fc(face)}

        return Linear()


@hookimpl
def register_scales(register):
    register(EYE_CLOSURE)


@hookimpl
def register_preprocessors(register):
    register(GreyFace32)


@hookimpl
def register_models(register):
    register(TinyLinear)
