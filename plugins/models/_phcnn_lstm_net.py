"""Paper 000's networks: PHCNN branches N1-N3, their sum, and the LSTM over a clip.

Imported by :mod:`fpgrade_plugins.models.phcnn_lstm` when a network is built; the paper and the
deviations are documented there.
"""

from __future__ import annotations

import torch
from torch import nn

FEATURES = 1024
LSTM_HIDDEN = 256


def _conv_stage(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    ]


def _fc(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Linear(c_in, c_out, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(inplace=True),
            nn.Dropout(0.5)]


class Branch(nn.Module):
    """Three double-conv stages and ``n_fc`` FC layers to a 1024-d vector."""

    def __init__(self, widths: tuple[int, int, int], in_hw: tuple[int, int], n_fc: int) -> None:
        super().__init__()
        layers, c_in = [], 3
        for width in widths:
            layers += _conv_stage(c_in, width)
            c_in = width
        self.convs = nn.Sequential(*layers)
        flat = widths[-1] * (in_hw[0] // 8) * (in_hw[1] // 8)
        fcs = _fc(flat, FEATURES)
        for _ in range(n_fc - 1):
            fcs += _fc(FEATURES, FEATURES)
        self.fcs = nn.Sequential(*fcs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fcs(torch.flatten(self.convs(x), 1))


class PHCNN(nn.Module):
    """The network; ``use_regions`` False gives FACE-N1, ``use_lstm`` False gives PHCNN."""

    def __init__(self, num_classes: int, use_lstm: bool = True, use_regions: bool = True) -> None:
        super().__init__()
        self.use_lstm, self.use_regions = use_lstm, use_regions
        self.face = Branch((16, 32, 64), (128, 128), n_fc=1)
        if use_regions:
            self.eyebrow = Branch((8, 32, 128), (40, 120), n_fc=3)
            self.mouth = Branch((8, 32, 128), (40, 120), n_fc=3)
        if use_lstm:
            self.lstm = nn.LSTM(FEATURES, LSTM_HIDDEN, batch_first=True)
            self.head = nn.Linear(LSTM_HIDDEN, num_classes)
        else:
            self.head = nn.Linear(FEATURES, num_classes)

    def forward(self, face: torch.Tensor, eyebrow: torch.Tensor | None = None,
                mouth: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        batch, steps = face.shape[:2]
        features = self.face(face.flatten(0, 1))
        if self.use_regions:
            features = features + self.eyebrow(eyebrow.flatten(0, 1)) + self.mouth(mouth.flatten(0, 1))
        features = features.view(batch, steps, -1)
        if self.use_lstm:
            _, (hidden, _) = self.lstm(features)
            return {"logits": self.head(hidden[-1]), "features": hidden[-1]}
        return {"logits": self.head(features).mean(dim=1), "features": features.mean(dim=1)}
