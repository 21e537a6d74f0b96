"""VGG16 / VGG19 for palsy vs normal (paper 003, YFP frames, 224 px).

The ImageNet VGG feature extractor without its classifier, then global average pooling ->
flatten (512) -> FC 512 ReLU -> dropout 0.2 -> softmax over 2 classes. Augmentation: rotation,
flipping, shifting, scaling. Reported: VGG16 88.47 % accuracy, VGG19 81.95 %.

Deviations: the paper states no optimiser, learning rate, batch or epochs; the recipe (Adam,
1e-4, batch 32, 30 epochs) is ours. The head also serves other scales (its output size follows
the scale), which the paper does not do.
"""

from __future__ import annotations

from fpgrade.augmentation import Augmentation
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard

RECIPE = {"optimizer": "adam", "lr": 1e-4, "schedule": "constant", "epochs": 30,
          "batch_size": 32, "loss": "ce", "sampler": "shuffle", "protocol": "split:7:2:1"}
PAPER = "Paper 003: VGG16 / VGG19 transfer learning, palsy vs normal (YFP)"


class _VGG(GradingModel):
    arch: str
    input_keys = ("face_224",)
    input_layouts = {"face_224": "image"}
    #: the paper's "rotation, flipping, shifting, scaling"; probabilities and ranges are ours
    #: (rotation 10 degrees, shift 8 %, zoom 0.9-1.1).
    augmentation = Augmentation(flip=0.5, rotate=0.5, shift=0.5, scale=0.5)

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        from fpgrade_plugins.models._vgg_palsy_net import VGGPalsy

        return VGGPalsy(cls.arch, num_classes or 2, backbone_weights)


def _card(model_id: str, name: str) -> ModelCard:
    return ModelCard(
        id=model_id, name=name, paper=PAPER, scales=("palsy_binary", "house_brackmann", "sided7"),
        preprocessors=("image_loader", "face_landmarks", "face_crop_224"),
        input_shape=(3, 224, 224), recipe=RECIPE,
        deviations=("optimiser, LR, batch and epochs not given by the paper: ours",),
    )


class Vgg16Palsy(_VGG):
    arch = "vgg16"
    card = _card("vgg16_palsy", "VGG16 palsy")


class Vgg19Palsy(_VGG):
    arch = "vgg19"
    card = _card("vgg19_palsy", "VGG19 palsy")


@hookimpl
def register_models(register):
    register(Vgg16Palsy)
    register(Vgg19Palsy)
