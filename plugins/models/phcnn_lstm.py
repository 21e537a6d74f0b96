"""PHCNN-LSTM: parallel hierarchy CNN with an LSTM, 3-level severity from face image sequences.

Paper 000: "A Parallel Hierarchy Convolutional Neural Network ... with LSTM for Facial Nerve
Paralysis Grading" (YFP videos, 5-fold cross-validation, 94.81 % mean accuracy).

Architecture (section III.C-E): branch N1 on the 128x128 face (conv 3x3-16 x2, pool, 3x3-32 x2,
pool, 3x3-64 x2, pool, one FC); branches N2 and N3 on the 40x120 eye-brow and mouth regions
(3x3-8 x2, pool, 3x3-32 x2, pool, 3x3-128 x2, pool, three FC to a 1024-d vector); batch
normalisation before every hidden layer, ReLU, dropout 0.5 on the FC layers; per-frame feature
f_i = f_face + f_eye + f_mouth (eq. 1); the frame features of a clip of 4 frames go through an
LSTM, whose last state goes to an FC + softmax over the three levels. Loss: cross entropy with
class weights inversely proportional to class counts. SGD, base LR 1e-4, momentum 0.9, weight
decay 2e-5, batch 64, 50 epochs, best model kept.

Variants for the paper's ablation (Table III): ``phcnn`` (no LSTM: per-frame classifier, logits
averaged over the clip) and ``face_n1_lstm`` (the face branch N1 alone with the LSTM).

Deviations from the paper:

- "+" in eq. 1 is read as element-wise sum, so N1 also ends in a 1024-d FC layer;
- the LSTM has one layer of 256 units (the paper gives no size);
- the LR decays by the poly policy with power 0.9: the paper's "gamma of 0.1" has no meaning for
  Caffe's poly policy;
- faces and landmarks come from MediaPipe (paper: AdaBoost detector, IntraFace 49 points);
- a photo is a clip of its frame repeated 4 times, so the networks also grade single photos (and
  photos and videos can share a batch).
"""

from __future__ import annotations

from fpgrade.augmentation import Augmentation
from fpgrade.hookspecs import hookimpl
from fpgrade.model_api import GradingModel, ModelCard

CLIP_LENGTH = 4

RECIPE = {"optimizer": "sgd", "lr": 1e-4, "momentum": 0.9, "weight_decay": 2e-5,
          "schedule": "poly", "power": 0.9, "epochs": 50, "batch_size": 64,
          "loss": "weighted_ce", "sampler": "shuffle", "protocol": "kfold:5"}
PAPER = "Paper 000: PHCNN-LSTM, 3-level severity from face image sequences (YFP)"
DEVIATIONS = (
    "eq. 1 fusion read as element-wise sum; N1 ends in a 1024-d FC",
    "LSTM: 1 layer, 256 units (size not given)",
    "poly LR power 0.9 (paper: 'gamma of 0.1')",
    "MediaPipe faces and landmarks instead of AdaBoost + IntraFace",
    "a photo is graded as a clip of 4 identical frames",
)


class _PhcnnFamily(GradingModel):
    use_lstm = True
    use_regions = True
    #: the paper augments by translation and rotation (ranges ours); no flip, which would move
    #: the regional crops.
    augmentation = Augmentation(rotate=0.5, shift=0.5)
    input_keys = ("sequence_face", "sequence_eyebrow", "sequence_mouth")
    input_layouts = {key: "sequence" for key in input_keys}

    @classmethod
    def build(cls, scale=None, *, num_classes=None, backbone_weights=None, **options):
        if backbone_weights is not None:
            from fpgrade.errors import WeightsError

            raise WeightsError(f"{cls.card.id} has no pretrained backbone; it trains from scratch")
        from fpgrade_plugins.models._phcnn_lstm_net import PHCNN

        return PHCNN(num_classes or 3, use_lstm=cls.use_lstm, use_regions=cls.use_regions)

    @classmethod
    def pipeline_targets(cls, kind):
        if kind == "video":
            return ("sequence_face", "sequence_eyebrow", "sequence_mouth")
        return ("face_128", "eyebrow_region", "mouth_region")

    @classmethod
    def samples(cls, results, kind):
        if kind == "video":
            return [
                {"sequence_face": f, "sequence_eyebrow": e, "sequence_mouth": m}
                for f, e, m in zip(results["sequence_face"], results["sequence_eyebrow"],
                                   results["sequence_mouth"])
            ]
        return [{"sequence_face": _still(results["face_128"]),
                 "sequence_eyebrow": _still(results["eyebrow_region"]),
                 "sequence_mouth": _still(results["mouth_region"])}]


def _still(frame):
    """A photo as a clip: its frame repeated for the clip length."""
    import numpy as np

    return np.repeat(frame[None], CLIP_LENGTH, axis=0)


def _card(model_id: str, name: str, extra: tuple[str, ...] = ()) -> ModelCard:
    return ModelCard(
        id=model_id, name=name, paper=PAPER, scales=("severity3", "house_brackmann", "palsy_binary"),
        preprocessors=("video_face_landmarks", "phcnn_sequences", "image_loader", "face_landmarks",
                       "face_crop_128", "region_crops"),
        input_shape=(4, 3, 128, 128), recipe=RECIPE, deviations=DEVIATIONS + extra,
        media=("video", "image"),
    )


class PhcnnLstm(_PhcnnFamily):
    card = _card("phcnn_lstm", "PHCNN-LSTM")


class Phcnn(_PhcnnFamily):
    card = _card("phcnn", "PHCNN (no LSTM; ablation)",
                 ("a frame classifier: every frame of a video is a sample; a video's grade "
                  "averages its frames' probabilities",))
    use_lstm = False

    @classmethod
    def samples(cls, results, kind):
        """Single frames (T = 1): the ablation has no temporal model."""
        clips = super().samples(results, kind)
        if kind == "image":
            return [{key: value[:1] for key, value in clips[0].items()}]
        return [{key: clip[key][t:t + 1] for key in clip}
                for clip in clips for t in range(len(clip["sequence_face"]))]


class FaceN1Lstm(_PhcnnFamily):
    card = _card("face_n1_lstm", "FACE-N1 + LSTM (ablation)", ("regional branches N2/N3 removed",))
    use_regions = False
    input_keys = ("sequence_face",)
    input_layouts = {"sequence_face": "sequence"}

    @classmethod
    def pipeline_targets(cls, kind):
        return ("sequence_face",) if kind == "video" else ("face_128",)

    @classmethod
    def samples(cls, results, kind):
        if kind == "video":
            return [{"sequence_face": clip} for clip in results["sequence_face"]]
        return [{"sequence_face": _still(results["face_128"])}]


@hookimpl
def register_models(register):
    register(PhcnnLstm)
    register(Phcnn)
    register(FaceN1Lstm)
