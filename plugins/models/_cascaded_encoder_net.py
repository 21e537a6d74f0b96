"""Paper 002's network: encoder E1 (dilated ResNet-101 with attention), VGG16 E2, grading head.

Imported by :mod:`fpgrade_plugins.models.cascaded_encoder` when a network is built; the paper
and the deviations are documented there.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fpgrade.face.masks import CLASSES as MASK_CLASSES
from fpgrade.models.backbones import timm_backbone

LATENT = 512
QK = 64


def conv_bn_relu(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class SpatialAttention(nn.Module):
    """Eq. 1-2: A_j = lambda * sum_i s_ji V_i with s = softmax_i(Q_i^T K_j)."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.q, self.k = conv_bn_relu(channels, QK, kernel), conv_bn_relu(channels, QK, kernel)
        self.v = conv_bn_relu(channels, channels, kernel)
        self.scale = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.q(x).flatten(2), self.k(x).flatten(2), self.v(x).flatten(2)
        attention = torch.softmax(torch.bmm(k.transpose(1, 2), q), dim=-1)  # (b, j, i)
        out = torch.bmm(v, attention.transpose(1, 2))  # sum over i of s_ji V_i
        return self.scale * out.view(b, c, h, w)


class ChannelAttention(nn.Module):
    """Eq. 3-4: channel affinities softmax(X X^T) applied to X, scaled (initialised to 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        flat = x.flatten(2)
        attention = torch.softmax(torch.bmm(flat, flat.transpose(1, 2)), dim=-1)
        return self.scale * torch.bmm(attention, flat).view(b, c, h, w)


class EncoderE1(nn.Module):
    """Dilated ResNet-101 + multi-scale spatial and channel attention + pixel classifier."""

    def __init__(self, seg_classes: int, backbone_weights=None) -> None:
        super().__init__()
        self.resnet = timm_backbone("resnet101", backbone_weights, num_classes=0,
                                    global_pool="", output_stride=8)
        self.reduce = conv_bn_relu(self.resnet.num_features, LATENT, 3)
        self.spatial = nn.ModuleList(SpatialAttention(LATENT, k) for k in (3, 5, 7))
        self.channel = ChannelAttention()
        self.classifier = nn.Conv2d(LATENT, seg_classes, 1)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.reduce(self.resnet.forward_features(image))
        fused = z + self.channel(z) + sum(attention(z) for attention in self.spatial)
        segmentation = F.interpolate(self.classifier(fused), size=image.shape[-2:],
                                     mode="bilinear", align_corners=False)
        return z, segmentation


class CascadedEncoder(nn.Module):
    def __init__(self, num_classes: int, backbone_weights=None, vgg_weights=None,
                 freeze_e2: bool = True) -> None:
        super().__init__()
        self.e1 = EncoderE1(len(MASK_CLASSES), backbone_weights)
        self.e2 = timm_backbone("vgg16", vgg_weights, num_classes=0)
        self.e2.pre_logits = nn.Identity()  # only VGG16's convolutional features are used
        self.freeze_e2 = freeze_e2
        self.head = nn.Sequential(nn.Linear(512 + LATENT, 512), nn.ReLU(inplace=True),
                                  nn.Dropout(0.5), nn.Linear(512, num_classes))

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        z, segmentation = self.e1(image)
        image_features = self.e2.forward_features(image).mean(dim=(2, 3))
        features = torch.cat([image_features, z.mean(dim=(2, 3))], dim=1)
        return {"logits": self.head(features), "segmentation": segmentation, "features": features}
