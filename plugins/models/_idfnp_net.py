"""Paper 001's networks: IDFNP (Inception-v3 + DeepID branch) and the Inception-v3 baseline.

Imported by :mod:`fpgrade_plugins.models.idfnp` when a network is built; the paper and the
deviations are documented there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

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
