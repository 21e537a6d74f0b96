"""Losses the papers add to cross entropy."""

from __future__ import annotations

import torch
from torch import nn


class CenterLoss(nn.Module):
    """Center loss (Wen et al. 2016, used by paper 004 eq. 5-7): half the mean squared distance of
    each feature to its class centre. The centres are parameters with their own optimiser."""

    def __init__(self, num_classes: int, features: int) -> None:
        super().__init__()
        self.centers = nn.Parameter(torch.randn(num_classes, features) * 0.01)

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        centres = self.centers.index_select(0, labels)
        return 0.5 * (features - centres).pow(2).sum(dim=1).mean()


def inverse_frequency_weights(labels, num_classes: int) -> torch.Tensor:
    """Class weights inversely proportional to class counts (paper 000's K_j), mean 1 over the
    classes present; a class absent from training gets weight 0."""
    counts = torch.bincount(torch.as_tensor(labels, dtype=torch.long), minlength=num_classes).float()
    weights = torch.where(counts > 0, 1.0 / counts.clamp(min=1), torch.zeros_like(counts))
    present = counts > 0
    return weights / weights[present].mean()
