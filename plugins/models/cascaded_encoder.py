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

from fpgrade.augmentation import Augmentation
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard

RECIPE = {"optimizer": "adam", "lr": 2e-4, "schedule": "poly", "power": 0.9, "epochs": 50,
          "batch_size": 8, "loss": "ce", "sampler": "shuffle", "protocol": "subject:4:1:1"}
PAPER = "Paper 002: cascaded encoder (attention segmentation + VGG16), House-Brackmann I-VI"


def _set_trainable(module, trainable: bool) -> None:
    for parameter in module.parameters():
        parameter.requires_grad = trainable


class _Cascaded(GradingModel):
    input_keys = ("face_224",)
    input_layouts = {"face_224": "image", "attribute_mask": "mask"}
    #: the paper's random rotation and mirroring (the mask moves with the image); range ours.
    augmentation = Augmentation(flip=0.5, rotate=0.5)

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        from fpgrade_plugins.models._cascaded_encoder_net import CascadedEncoder

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
        import torch.nn.functional as F

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
