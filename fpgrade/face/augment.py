"""Training augmentation, side-aware: the mechanism. Which transforms a paper uses is declared by
its model plugin (:attr:`fpgrade.model_api.GradingModel.augmentation`, an
:class:`fpgrade.augmentation.Augmentation`).

A horizontal flip exchanges the patient's left and right, so it also flips the label of a
side-aware scale (``L2`` -> ``R2``, via :meth:`GradingScale.flip`), the landmarks (iBUG twins
swapped) and left/right measurements. Every other transform leaves the label alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fpgrade.augmentation import Augmentation
from fpgrade.face.landmarks import FaceLandmarks
from fpgrade.scales import GradingScale


@dataclass(frozen=True)
class Sample:
    """What augmentation transforms together: one image (or a clip: T x H x W x 3), its label,
    and optionally its landmarks."""

    image: np.ndarray
    label: str | None = None
    landmarks: FaceLandmarks | None = None


def hflip(sample: Sample, scale: GradingScale | None = None) -> Sample:
    """The mirrored sample: pixels, landmark sides and a side-aware label all flipped."""
    width = sample.image.shape[-2]
    image = np.ascontiguousarray(sample.image[..., ::-1, :])
    label = sample.label
    if label is not None and scale is not None:
        label = scale.flip(label)
    landmarks = sample.landmarks.mirrored(width) if sample.landmarks is not None else None
    return Sample(image, label, landmarks)


def _affine(sample: Sample, matrix: np.ndarray, nearest: bool = False) -> Sample:
    height, width = sample.image.shape[-3:-1]
    frames = sample.image.reshape(-1, height, width, sample.image.shape[-1])
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    warped = np.stack([
        cv2.warpAffine(f, matrix, (width, height), flags=flags,
                       borderMode=cv2.BORDER_REFLECT_101).reshape(height, width, -1) for f in frames
    ]).reshape(sample.image.shape)
    landmarks = sample.landmarks.transformed(matrix) if sample.landmarks is not None else None
    return Sample(warped, sample.label, landmarks)


def _colour(image: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    brightness, contrast, saturation = rng.uniform(1 - amount, 1 + amount, size=3)
    work = image.astype(np.float32) * brightness
    mean = work.mean()
    work = (work - mean) * contrast + mean
    grey = work.mean(axis=-1, keepdims=True)
    work = (work - grey) * saturation + grey
    return np.clip(work, 0, 255).astype(np.uint8)


def augment(sample: Sample, recipe: Augmentation, rng: np.random.Generator,
            scale: GradingScale | None = None, is_mask: bool = False) -> Sample:
    """One random draw of ``recipe`` applied to ``sample`` (the same draw for every frame of a
    clip). A mask (``is_mask``, H x W x 1 class indices) is warped nearest-neighbour and never
    colour-jittered; the random draws are the same, so two generators with one seed transform an
    image and its mask alike."""
    if rng.random() < recipe.flip:
        sample = hflip(sample, scale)
    height, width = sample.image.shape[-3:-1]
    angle = rng.uniform(-recipe.max_degrees, recipe.max_degrees) if rng.random() < recipe.rotate else 0.0
    zoom = rng.uniform(*recipe.scale_range) if rng.random() < recipe.scale else 1.0
    if rng.random() < recipe.shift:
        tx, ty = rng.uniform(-recipe.max_shift, recipe.max_shift, size=2) * (width, height)
    else:
        tx = ty = 0.0
    if angle or zoom != 1.0 or tx or ty:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, zoom)
        matrix[:, 2] += (tx, ty)
        sample = _affine(sample, matrix, nearest=is_mask)
    if rng.random() < recipe.colour and not is_mask:
        sample = Sample(_colour(sample.image, rng, recipe.jitter), sample.label, sample.landmarks)
    return sample
