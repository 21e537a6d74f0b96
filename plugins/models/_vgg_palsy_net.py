"""Paper 003's network (VGG16/19 features, global pooling, FC 512, dropout 0.2).

Imported by :mod:`fpgrade_plugins.models.vgg_palsy` when a network is built; the paper and the
deviations are documented there.
"""

from __future__ import annotations

import torch
from torch import nn

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
