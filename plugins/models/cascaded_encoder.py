"""Cascaded encoder network for House-Brackmann grading (paper 002, IEEE Access 2019).

Stage 1, facial-attribute segmentation: encoder E1 is an FCN on a ResNet-101 without
down-sampling in its last stages (dilated convolutions, output stride 8); on its encoded map z a
multi-scale spatial attention module (self-attention with Q, K, V from Conv-BN-ReLU blocks of
3x3, 5x5 and 7x7 kernels, eq. 1-2, scale lambda initialised to 0) and a channel attention
module (eq. 3-4, its scale initialised to 0); the spatial maps, the channel map and z are summed
and a pixel-wise classifier predicts the attribute classes. Trained with cross entropy.
Stage 2, grading: E1 frozen; its latent map z and the input image go to E2 (VGG16,
ImageNet-initialised, its weights fixed) and FC layers + softmax over HB I-VI. Adam, poly LR with
base 2e-4; subject-wise 2/3 : 1/6 : 1/6 splits; random rotation and mirroring.

``cascaded_encoder_e2e`` is the paper's ablation: the same network trained end to end on the
grade alone (no segmentation stage, E1 and E2 trainable); the paper reports 82.90 % against the
cascaded 95.60 %.

Deviations from the paper:

- E1's 2048-channel output is reduced to 512 channels (Conv-BN-ReLU 3x3) before attention, as in
  DANet; the Q and K projections have 64 channels (sizes not given);
- "z plus the input image go to E2" is read as: VGG16 features of the image and z, each globally
  average-pooled to 512, concatenated -> FC 512 -> ReLU -> dropout 0.5 -> FC (the paper gives no
  wiring; feeding z through a frozen ImageNet VGG would ignore it);
- segmentation targets are the landmark-drawn masks of :mod:`fpgrade.face.masks` (background,
  skin, brows, eyes, nose, lips, mouth interior) instead of AFLW/hand-drawn masks;
- channel attention is softmax(X X^T) X (eq. 3-4 as printed), scaled by its own parameter.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fpgrade.face.masks import CLASSES as MASK_CLASSES
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard
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


RECIPE = {"optimizer": "adam", "lr": 2e-4, "schedule": "poly", "power": 0.9, "epochs": 50,
          "batch_size": 8, "loss": "ce", "sampler": "shuffle", "protocol": "subject:4:1:1"}
PAPER = "Paper 002: cascaded encoder (attention segmentation + VGG16), House-Brackmann I-VI"


def _set_trainable(module: nn.Module, trainable: bool) -> None:
    for parameter in module.parameters():
        parameter.requires_grad = trainable


class _Cascaded(GradingModel):
    input_keys = ("face_224",)
    input_layouts = {"face_224": "image", "attribute_mask": "mask"}
    augmentation = "cascaded"

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        return CascadedEncoder(num_classes or 6, backbone_weights, options.get("vgg_weights"),
                               freeze_e2=options.get("freeze_e2", True))

    @classmethod
    def pipeline_targets(cls, kind):
        return ("face_224", "attribute_mask")

    @classmethod
    def samples(cls, results, kind):
        return [{"face_224": results["face_224"], "attribute_mask": results["attribute_mask"]}]


class CascadedEncoderModel(_Cascaded):
    card = ModelCard(
        id="cascaded_encoder", name="Cascaded encoder (two-stage)", paper=PAPER,
        scales=("house_brackmann", "severity3", "palsy_binary"),
        preprocessors=("image_loader", "face_landmarks", "face_crop_224", "attribute_masks"),
        input_shape=(3, 224, 224), recipe=RECIPE,
        deviations=("E1 output reduced to 512 channels before attention (DANet)",
                    "z and VGG16 image features pooled and concatenated before the FC layers",
                    "landmark-drawn attribute masks as segmentation targets",
                    "channel attention softmax(X X^T) X as printed"),
    )

    @classmethod
    def stages(cls):
        return ("segmentation", "grade")

    @classmethod
    def prepare_stage(cls, network, stage):
        if stage == "segmentation":
            _set_trainable(network.e1, True)
            _set_trainable(network.e2, False)
            _set_trainable(network.head, False)
        else:  # grading: E1 fixed (cascaded), E2 fixed as in the paper unless asked otherwise
            _set_trainable(network.e1, False)
            _set_trainable(network.e2, not network.freeze_e2)
            _set_trainable(network.head, True)

    @classmethod
    def loss(cls, network, outputs, batch, class_weights, stage):
        if stage == "segmentation":
            return F.cross_entropy(outputs["segmentation"], batch["attribute_mask"])
        return F.cross_entropy(outputs["logits"], batch["label"], weight=class_weights)


class CascadedEncoderEndToEnd(_Cascaded):
    card = ModelCard(
        id="cascaded_encoder_e2e", name="Cascaded encoder trained end to end (ablation)",
        paper=PAPER, scales=("house_brackmann", "severity3", "palsy_binary"),
        preprocessors=("image_loader", "face_landmarks", "face_crop_224"),
        input_shape=(3, 224, 224), recipe=RECIPE,
        deviations=("the paper's end-to-end ablation: one stage, grade loss only; everything on the "
                    "path to the grade trainable (the attention modules feed only segmentation)",),
    )
    input_layouts = {"face_224": "image"}

    @classmethod
    def pipeline_targets(cls, kind):
        return ("face_224",)

    @classmethod
    def samples(cls, results, kind):
        return [{"face_224": results["face_224"]}]

    @classmethod
    def prepare_stage(cls, network, stage):
        _set_trainable(network, True)
        # No segmentation loss in this variant: the attention modules and the pixel classifier
        # only feed the segmentation output, so they stay as initialised.
        for unused in (network.e1.spatial, network.e1.channel, network.e1.classifier):
            _set_trainable(unused, False)


@hookimpl
def register_models(register):
    register(CascadedEncoderModel)
    register(CascadedEncoderEndToEnd)
