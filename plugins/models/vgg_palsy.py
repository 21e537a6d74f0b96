"""VGG16 / VGG19 for palsy vs normal (paper 003, YFP frames, 224 px).

The ImageNet VGG feature extractor without its classifier, then global average pooling ->
flatten (512) -> FC 512 ReLU -> dropout 0.2 -> softmax over 2 classes. Augmentation: rotation,
flipping, shifting, scaling. Reported: VGG16 88.47 % accuracy, VGG19 81.95 %.

Deviations: the paper states no optimiser, learning rate, batch or epochs; the recipe (Adam,
1e-4, batch 32, 30 epochs) is ours. The head also serves other scales (its output size follows
the scale), which the paper does not do.
"""

from __future__ import annotations

import torch
from torch import nn

from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard
from fpgrade.models.backbones import timm_backbone


class VGGPalsy(nn.Module):
    def __init__(self, arch: str, num_classes: int, backbone_weights=None) -> None:
        super().__init__()
        self.backbone = timm_backbone(arch, backbone_weights, num_classes=0)
        self.backbone.pre_logits = nn.Identity()  # fc6/fc7 (as convs): not part of the paper's net
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(512, 512), nn.ReLU(inplace=True),
                                  nn.Dropout(0.2), nn.Linear(512, num_classes))

    def forward(self, face: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.pool(self.backbone.forward_features(face)).flatten(1)
        return {"logits": self.head(features), "features": features}


RECIPE = {"optimizer": "adam", "lr": 1e-4, "schedule": "constant", "epochs": 30,
          "batch_size": 32, "loss": "ce", "sampler": "shuffle", "protocol": "split:7:2:1"}
PAPER = "Paper 003: VGG16 / VGG19 transfer learning, palsy vs normal (YFP)"


class _VGG(GradingModel):
    arch: str
    input_keys = ("face_224",)
    input_layouts = {"face_224": "image"}
    augmentation = "vgg"

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
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
