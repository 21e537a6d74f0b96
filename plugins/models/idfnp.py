"""IDFNP: Inception-v3 with a DeepID-style face branch, 7 side-aware classes at 299 px.

Paper 001: "Facial Nerve Paralysis Classification Using Inception-v3 and DeepID" (1049 clinical
images, 7 movements, classes N, L1-L3, R1-R3; 97.5 % accuracy; Inception-v3 alone 93.3 %).

The network: an Inception-v3 backbone (ImageNet-initialised, all layers fine-tuned) and a
DeepID-style branch (Sun et al. 2014: four convolutions, the 160-d DeepID layer fully connected to
both the third pooled and the fourth convolutional maps), their features concatenated, then
softmax over the 7 classes. Training: RMSProp (decay 0.9, momentum 0.9, epsilon 0.1), LR 0.001
divided by 16 every 30 epochs ("decayed by a factor of 16 every 30 epochs", as written), batch 60.

Deviations from the paper (which gives no wiring):

- the DeepID branch sees the same 299 px face resized to 64x64 (DeepID's patches are 39x31 and
  31x31), with 20/40/60/80 filters of 4x4/3x3/3x3/2x2 as in DeepID;
- concatenation [2048 Inception GAP | 160 DeepID] -> dropout 0.5 -> FC 7;
- a horizontal flip in augmentation swaps L and R in the label (paper: no augmentation stated).

``inception_v3_baseline`` is Inception-v3 alone, the paper's main baseline.
"""

from __future__ import annotations

from fpgrade.augmentation import Augmentation
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard

RECIPE = {"optimizer": "rmsprop", "lr": 1e-3, "alpha": 0.9, "momentum": 0.9, "eps": 0.1,
          "schedule": "step", "step_epochs": 30, "gamma": 1 / 16, "epochs": 90,
          "batch_size": 60, "eval_batch_size": 100, "loss": "ce", "sampler": "shuffle",
          "protocol": "split:7:2:1"}
PAPER = "Paper 001: IDFNP, Inception-v3 + DeepID, 7 side-aware classes (FNGS 2.0 based)"
DEVIATIONS = (
    "DeepID branch on the face resized to 64x64; wiring not given by the paper",
    "features concatenated [2048 | 160] -> dropout 0.5 -> FC",
    "90 epochs (the paper gives the decay period, 30 epochs, not the total)",
)


class _Inception(GradingModel):
    input_keys = ("face_299",)
    input_layouts = {"face_299": "image"}
    #: none is stated by the paper; ours: flips (L and R swapped in the label) and rotations of
    #: up to 5 degrees.
    augmentation = Augmentation(flip=0.5, rotate=0.5, max_degrees=5.0)
    network_class: str  # a class of fpgrade_plugins.models._idfnp_net

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        from fpgrade_plugins.models import _idfnp_net

        network = getattr(_idfnp_net, cls.network_class)
        return network(num_classes or 7, backbone_weights=backbone_weights)


def _card(model_id: str, name: str, deviations: tuple[str, ...]) -> ModelCard:
    return ModelCard(
        id=model_id, name=name, paper=PAPER, scales=("sided7", "house_brackmann", "palsy_binary"),
        preprocessors=("image_loader", "face_landmarks", "face_crop_299"),
        input_shape=(3, 299, 299), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
        recipe=RECIPE, deviations=deviations,
    )


class Idfnp(_Inception):
    network_class = "IDFNP"
    card = _card("idfnp", "IDFNP (Inception-v3 + DeepID)", DEVIATIONS)


class InceptionV3Baseline(_Inception):
    network_class = "InceptionBaseline"
    card = _card("inception_v3_baseline", "Inception-v3 (paper 001's baseline)", DEVIATIONS[2:])


@hookimpl
def register_models(register):
    register(Idfnp)
    register(InceptionV3Baseline)
