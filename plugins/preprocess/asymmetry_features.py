"""Measurement vectors for the asymmetry classifier (paper 001's second check).

The vector (:data:`FEATURES`): paper 001's signed asymmetry indices (EAs, EBAs, NAs, MAs as
(L - R) / (L + R); MAn, NAn, EbAn in tens of degrees), then for each Emotrics measurement the
normalised difference (L - R) / (|L| + |R|), then the three deviations in centimetres. Every signed
entry changes sign when the face is mirrored (:data:`MIRROR_SIGNS`), which is how augmentation
flips a sample. A video's vector is the median over its frames with a face.
"""

import numpy as np

from fpgrade.face.measure import DEVIATIONS, SIDE_MEASURES, measure
from fpgrade.hookspecs import hookimpl
from fpgrade.preprocess_api import Output, Preprocessor

INDICES = ("EAs", "EBAs", "NAs", "MAs", "MAn", "NAn", "EbAn")
FEATURES = (*INDICES, *(f"{m}_lr" for m in SIDE_MEASURES), *DEVIATIONS)
MIRROR_SIGNS = np.array([-1.0] * (len(INDICES) + len(SIDE_MEASURES)) + [1.0] * len(DEVIATIONS),
                        dtype=np.float32)


def feature_vector(landmarks) -> np.ndarray:
    m = measure(landmarks.ibug68, landmarks.iris_right, landmarks.iris_left)
    signed = [m.signed[name] / (10.0 if name in ("MAn", "NAn", "EbAn") else 1.0) for name in INDICES]
    lr = []
    for name in SIDE_MEASURES:
        left, right = m.sides[name].left, m.sides[name].right
        total = abs(left) + abs(right)
        lr.append(0.0 if total == 0 else (left - right) / total)
    deviations = [m.deviations[name] / 10.0 for name in DEVIATIONS]
    return np.array(signed + lr + deviations, dtype=np.float32)


class AsymmetryFeatures(Preprocessor):
    id = "asymmetry_features"
    description = "Paper 001's asymmetry indices and left-right measurement differences, as a vector."
    requires = ("landmarks",)
    provides = ("asymmetry_features",)
    outputs = {"asymmetry_features": Output(
        "float32", f"({len(FEATURES)},)", "signed asymmetry indices, left-right measurement "
        "differences, deviations (FEATURES of fpgrade_plugins.preprocess.asymmetry_features; "
        "MIRROR_SIGNS for a flip)", "vector")}

    def __call__(self, results):
        return {"asymmetry_features": feature_vector(results["landmarks"])}


class VideoAsymmetryFeatures(Preprocessor):
    id = "video_asymmetry_features"
    description = "The asymmetry vector of a video: the median over its frames with a face."
    requires = ("frame_landmarks",)
    provides = ("video_asymmetry_features",)
    outputs = {"video_asymmetry_features": Output(
        "float32", f"({len(FEATURES)},)", "asymmetry_features of a video: the median over its "
        "frames with a face", "vector")}

    def __call__(self, results):
        vectors = np.stack([feature_vector(lm) for lm in results["frame_landmarks"]])
        return {"video_asymmetry_features": np.median(vectors, axis=0).astype(np.float32)}


@hookimpl
def register_preprocessors(register):
    register(AsymmetryFeatures)
    register(VideoAsymmetryFeatures)
