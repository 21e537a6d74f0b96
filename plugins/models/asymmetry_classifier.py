"""Asymmetry classifier: the "asymmetry algorithm" of paper 001's triple-check labelling.

Paper 001 (section 2.3.3) checks the neurologists' labels with an asymmetry algorithm (Song et
al. 2017, its ref. 25): regional asymmetry RgAs = EAs + EBAs + NAs + MAs and angular asymmetry
AnAs = MAn + NAn + EbAn are computed per image, their ranges per movement and class are learnt from
first-check labels, and a label where algorithm and neurologists agree passes the second check.

Here the algorithm is a small classifier over the measurement vector of
``asymmetry_features`` (the signed indices, the left-right differences of the Emotrics
measurements, the deviations): two hidden layers of 64 units with batch normalisation, ReLU and
dropout 0.2. It trains in seconds on a CPU, so it also serves as the fast model for checking that
a data set carries a learnable signal, and as the model that assists the second check.

Deviations from the paper: a learnt classifier over the signed indices and measurement differences
instead of per-class ranges of the two sums (sums lose the side, which the 7 classes need); one
model for all movements (the movement is not an input). A horizontal flip negates the signed
features and mirrors the label.
"""

from __future__ import annotations

from fpgrade.augmentation import Augmentation
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard
from fpgrade_plugins.preprocess.asymmetry_features import FEATURES, MIRROR_SIGNS

class AsymmetryClassifier(GradingModel):
    card = ModelCard(
        id="asymmetry_classifier", name="Asymmetry classifier (paper 001's second check)",
        paper="Paper 001, section 2.3.3: asymmetry algorithm of the triple check (ref. 25)",
        scales=("sided7", "house_brackmann", "severity3", "palsy_binary"),
        preprocessors=("image_loader", "face_landmarks", "asymmetry_features",
                       "video_face_landmarks", "video_asymmetry_features"),
        input_shape=(len(FEATURES),), mean=(), std=(),
        recipe={"optimizer": "adam", "lr": 3e-3, "weight_decay": 1e-4, "schedule": "constant",
                "epochs": 60, "batch_size": 32, "loss": "weighted_ce", "sampler": "shuffle",
                "protocol": "kfold:10"},
        deviations=("a learnt MLP over signed indices and measurement differences instead of "
                    "per-class ranges of RgAs and AnAs", "one model for all movements"),
        media=("image", "video"),
    )
    input_keys = ("asymmetry_features",)
    input_layouts = {"asymmetry_features": "vector"}
    #: a mirrored face: every signed entry of the vector changes sign and the label's side flips.
    augmentation = Augmentation(flip=0.5)
    mirror_signs = {"asymmetry_features": tuple(float(s) for s in MIRROR_SIGNS)}

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        if backbone_weights is not None:
            from fpgrade.errors import WeightsError

            raise WeightsError("asymmetry_classifier has no pretrained backbone")
        from fpgrade_plugins.models._asymmetry_classifier_net import AsymmetryMLP

        return AsymmetryMLP(num_classes or 7, len(FEATURES))

    @classmethod
    def pipeline_targets(cls, kind):
        return ("video_asymmetry_features",) if kind == "video" else ("asymmetry_features",)

    @classmethod
    def samples(cls, results, kind):
        key = "video_asymmetry_features" if kind == "video" else "asymmetry_features"
        return [{"asymmetry_features": results[key]}]


@hookimpl
def register_models(register):
    register(AsymmetryClassifier)
