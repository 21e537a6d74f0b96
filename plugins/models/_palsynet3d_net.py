"""Paper 004's network: torchvision's r3d_18 (early blocks frozen) with a centre-loss head.

Imported by :mod:`fpgrade_plugins.models.palsynet3d` when a network is built; the paper and the
deviations are documented there.
"""

from __future__ import annotations

import torch
from torch import nn

from fpgrade.models.backbones import announce_random, configured_weights, load_into
from fpgrade.models.losses import CenterLoss

FROZEN = ("stem", "layer1", "layer2", "layer3")


class PalsyNet3D(nn.Module):
    def __init__(self, num_classes: int, backbone_weights=None, freeze: bool = True) -> None:
        super().__init__()
        from torchvision.models.video import r3d_18

        self.backbone = r3d_18(weights=None)
        backbone_weights = configured_weights("r3d_18", backbone_weights)
        if backbone_weights is None:
            announce_random("r3d_18 (Kinetics)")
        else:
            load_into(self.backbone, backbone_weights, "r3d_18", skip_prefixes=("fc.",))
        self.backbone.fc = nn.Identity()
        self.head = nn.Linear(512, num_classes)
        self.center_loss = CenterLoss(num_classes, 512)
        self.frozen = FROZEN if freeze else ()
        for name in self.frozen:
            for parameter in getattr(self.backbone, name).parameters():
                parameter.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        for name in self.frozen:  # frozen layers keep their batch-norm statistics
            getattr(self.backbone, name).eval()
        return self

    def forward(self, clip: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(clip)
        return {"logits": self.head(features), "features": features}
