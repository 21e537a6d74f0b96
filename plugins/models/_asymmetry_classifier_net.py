"""The asymmetry classifier's network: a two-layer MLP over the measurement vector.

Imported by :mod:`fpgrade_plugins.models.asymmetry_classifier` when a network is built.
"""

from __future__ import annotations

import torch
from torch import nn

HIDDEN = 64


class AsymmetryMLP(nn.Module):
    def __init__(self, num_classes: int, features: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(features, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(inplace=True), nn.Dropout(0.2),
            nn.Linear(HIDDEN, HIDDEN), nn.BatchNorm1d(HIDDEN), nn.ReLU(inplace=True), nn.Dropout(0.2),
        )
        self.head = nn.Linear(HIDDEN, num_classes)

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        hidden = self.body(features)
        return {"logits": self.head(hidden), "features": hidden}
