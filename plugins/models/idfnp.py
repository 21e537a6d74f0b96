"""IDFNP: Inception-v3 with a DeepID-style face branch, 7 side-aware classes at 299 px.

Paper 001: "Facial Nerve Paralysis Classification Using Inception-v3 and DeepID" (1049 clinical
images, 7 movements, classes N, L1-L3, R1-R3; 97.5 % accuracy; Inception-v3 alone 93.3 %).

The network: an Inception-v3 backbone (ImageNet-initialised, all layers fine-tuned) and a
DeepID-style branch (Sun et al. 2014: four convolutions, the 160-d DeepID layer fully connected to
both the third pooled and the fourth convolutional maps), their features concatenated, then
softmax over the 7 classes. Training: RMSProp (decay 0.9, momentum 0.9, epsilon 0.1), LR 0.001
divided by 16 every 30 epochs ("decayed by a factor of 16 every 30 epochs", as written), batch 60.

Deviations from the paper (which gives no wiring):

- the DeepID branch sees the same 299 px face resized to 64x64 (DeepID's patches are 39x31 and
  31x31), with 20/40/60/80 filters of 4x4/3x3/3x3/2x2 as in DeepID;
- concatenation [2048 Inception GAP | 160 DeepID] -> dropout 0.5 -> FC 7;
- a horizontal flip in augmentation swaps L and R in the label (paper: no augmentation stated).

``inception_v3_baseline`` is Inception-v3 alone, the paper's main baseline.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard
from fpgrade.models.backbones import timm_backbone

DEEPID_INPUT = 64
DEEPID_FEATURES = 160


class DeepIDBranch(nn.Module):
    """DeepID's convolutional net and its 160-d multi-scale identity layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 20, 4), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.conv2 = nn.Sequential(nn.Conv2d(20, 40, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.conv3 = nn.Sequential(nn.Conv2d(40, 60, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2))
        self.conv4 = nn.Sequential(nn.Conv2d(60, 80, 2), nn.ReLU(inplace=True))
        # 64 -> 61 -> 30 -> 28 -> 14 -> 12 -> 6 (pool3: 60x6x6) -> 5 (conv4: 80x5x5)
        self.deepid = nn.Linear(60 * 6 * 6 + 80 * 5 * 5, DEEPID_FEATURES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(DEEPID_INPUT, DEEPID_INPUT), mode="bilinear", align_corners=False)
        pool3 = self.conv3(self.conv2(self.conv1(x)))
        conv4 = self.conv4(pool3)
        return F.relu(self.deepid(torch.cat([pool3.flatten(1), conv4.flatten(1)], dim=1)))


class IDFNP(nn.Module):
    def __init__(self, num_classes: int, backbone_weights=None) -> None:
        super().__init__()
        self.inception = timm_backbone("inception_v3", backbone_weights, num_classes=0)
        self.deepid = DeepIDBranch()
        self.dropout = nn.Dropout(0.5)
        self.head = nn.Linear(self.inception.num_features + DEEPID_FEATURES, num_classes)

    def forward(self, face: torch.Tensor) -> dict[str, torch.Tensor]:
        features = torch.cat([self.inception(face), self.deepid(face)], dim=1)
        return {"logits": self.head(self.dropout(features)), "features": features}


class InceptionBaseline(nn.Module):
    def __init__(self, num_classes: int, backbone_weights=None) -> None:
        super().__init__()
        self.inception = timm_backbone("inception_v3", backbone_weights, num_classes=0)
        self.head = nn.Linear(self.inception.num_features, num_classes)

    def forward(self, face: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.inception(face)
        return {"logits": self.head(features), "features": features}


RECIPE = {"optimizer": "rmsprop", "lr": 1e-3, "alpha": 0.9, "momentum": 0.9, "eps": 0.1,
          "schedule": "step", "step_epochs": 30, "gamma": 1 / 16, "epochs": 90,
          "batch_size": 60, "eval_batch_size": 100, "loss": "ce", "sampler": "shuffle",
          "protocol": "split:7:2:1"}
PAPER = "Paper 001: IDFNP, Inception-v3 + DeepID, 7 side-aware classes (FNGS 2.0 based)"
DEVIATIONS = (
    "DeepID branch on the face resized to 64x64; wiring not given by the paper",
    "features concatenated [2048 | 160] -> dropout 0.5 -> FC",
    "90 epochs (the paper gives the decay period, 30 epochs, not the total)",
)


class _Inception(GradingModel):
    input_keys = ("face_299",)
    input_layouts = {"face_299": "image"}
    augmentation = "idfnp"
    network_class: type[nn.Module]

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        return cls.network_class(num_classes or 7, backbone_weights=backbone_weights)


def _card(model_id: str, name: str, deviations: tuple[str, ...]) -> ModelCard:
    return ModelCard(
        id=model_id, name=name, paper=PAPER, scales=("sided7", "house_brackmann", "palsy_binary"),
        preprocessors=("image_loader", "face_landmarks", "face_crop_299"),
        input_shape=(3, 299, 299), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
        recipe=RECIPE, deviations=deviations,
    )


class Idfnp(_Inception):
    network_class = IDFNP
    card = _card("idfnp", "IDFNP (Inception-v3 + DeepID)", DEVIATIONS)


class InceptionV3Baseline(_Inception):
    network_class = InceptionBaseline
    card = _card("inception_v3_baseline", "Inception-v3 (paper 001's baseline)", DEVIATIONS[2:])


@hookimpl
def register_models(register):
    register(Idfnp)
    register(InceptionV3Baseline)
