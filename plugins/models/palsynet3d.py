"""3DPalsyNet: a 3D ResNet-18 over 8-frame face clips, for House-Brackmann grading and
mouth-motion recognition (paper 004, IEEE Access 2019).

Faces are detected per frame, cropped to 112x112 and the sequence normalised to n = 8 frames
(the best of 8, 12, 16 in the paper). The network is a 3D ResNet-18 pre-trained on Kinetics; its
early layers are frozen and the last convolutional block and the FC layer trained, with softmax
cross entropy plus 0.001 x center loss (eq. 5-7), two SGD optimisers (network and centres;
LR 0.1, weight decay 1e-3, momentum 0.9), 50 epochs, class-balanced sampling, and flip, rotation
and colour jitter with p = 0.5. Two networks: HB grade (6 classes) and mouth motion (4).

Deviations from the paper:

- torchvision's ``r3d_18`` is the 3D ResNet-18 (the paper used Hara et al.'s); Kinetics weights
  load from a local file (``--backbone-weights``), else random weights;
- "early layers" = stem and blocks 1-3 (frozen, batch-norm statistics fixed too), block 4 and FC
  trained;
- the centres' gradients are divided by lambda before their SGD step, so their learning rate does
  not shrink with lambda (Wen et al.'s practice; the paper does not say);
- faces come from MediaPipe (paper: its Integrated Deep Model).
"""

from __future__ import annotations

from fpgrade.augmentation import Augmentation
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard

CENTER_LOSS_WEIGHT = 0.001


RECIPE = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3,
          "schedule": "constant", "epochs": 50, "batch_size": 32, "loss": "ce",
          "sampler": "balanced", "center_loss_weight": CENTER_LOSS_WEIGHT, "center_lr": 0.1,
          "frames": 8, "protocol": "loso"}


class Palsynet3d(GradingModel):
    card = ModelCard(
        id="palsynet3d", name="3DPalsyNet (3D ResNet-18 + center loss)",
        paper="Paper 004: 3DPalsyNet, HB grading and mouth motion from video",
        scales=("house_brackmann", "mouth_motion", "severity3", "palsy_binary"),
        preprocessors=("video_face_landmarks", "temporal_normalisation"),
        input_shape=(3, 8, 112, 112),
        mean=(0.43216, 0.394666, 0.37645), std=(0.22803, 0.22145, 0.216989),
        recipe=RECIPE, media=("video",),
        deviations=("torchvision r3d_18 as the 3D ResNet-18",
                    "frozen: stem and blocks 1-3; trained: block 4 and FC",
                    "centre gradients scaled by 1/lambda before their SGD step",
                    "MediaPipe faces instead of the Integrated Deep Model"),
    )
    input_keys = ("face_clip",)
    input_layouts = {"face_clip": "clip"}
    #: the paper's flip, rotation and colour jitter, each with p = 0.5 (ranges ours).
    augmentation = Augmentation(flip=0.5, rotate=0.5, colour=0.5)

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        from fpgrade_plugins.models._palsynet3d_net import PalsyNet3D

        return PalsyNet3D(num_classes or 6, backbone_weights, freeze=options.get("freeze", True))

    @classmethod
    def loss(cls, network, outputs, batch, class_weights, stage):
        import torch.nn.functional as F

        ce = F.cross_entropy(outputs["logits"], batch["label"], weight=class_weights)
        centre = network.center_loss(outputs["features"].float(), batch["label"])
        return ce + CENTER_LOSS_WEIGHT * centre

    @classmethod
    def before_step(cls, network, stage):
        grad = network.center_loss.centers.grad
        if grad is not None:
            grad.mul_(1.0 / CENTER_LOSS_WEIGHT)

    @classmethod
    def optimisers(cls, network, stage, epochs, recipe):
        import torch

        from fpgrade.training.recipes import make_optimizer, make_schedule

        main = [p for n, p in network.named_parameters() if not n.startswith("center_loss.")]
        net_opt = make_optimizer(recipe, main)
        centre_opt = torch.optim.SGD(network.center_loss.parameters(), lr=recipe["center_lr"])
        return [net_opt, centre_opt], make_schedule(recipe, net_opt, epochs)


@hookimpl
def register_models(register):
    register(Palsynet3d)
