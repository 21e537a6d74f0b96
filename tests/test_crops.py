"""Crops and masks on real landmarks: shapes, levelling, movement margins, mask classes."""

from __future__ import annotations

import numpy as np
import pytest

from fpgrade.face.crops import REGION_SHAPE, face_box, face_crop, face_crop_mask, region_crops
from fpgrade.face.masks import CLASSES, attribute_mask
from tests.media_factory import astronaut


@pytest.mark.parametrize("size", [128, 224, 299, 112])
def test_face_crops_have_each_networks_size(astronaut_landmarks, size):
    crop = face_crop(astronaut(), astronaut_landmarks, size)
    assert crop.shape == (size, size, 3) and crop.dtype == np.uint8
    assert crop.std() > 20  # a face, not padding


def test_region_crops_are_paper_000s_40_by_120(astronaut_landmarks):
    regions = region_crops(astronaut(), astronaut_landmarks)
    assert set(regions) == {"eyebrow", "mouth"}
    for crop in regions.values():
        assert crop.shape == (*REGION_SHAPE, 3) and crop.std() > 10


def test_the_face_crop_is_level_whatever_the_head_roll(astronaut_landmarks):
    """Cropping a rotated photo gives (nearly) the same crop as the original."""
    import cv2

    image = astronaut()
    matrix = cv2.getRotationMatrix2D((256, 256), 20, 1.0)
    rotated = cv2.warpAffine(image, matrix, (512, 512))
    a = face_crop(image, astronaut_landmarks, 128).astype(float)
    b = face_crop(rotated, astronaut_landmarks.transformed(matrix), 128).astype(float)
    assert np.abs(a - b)[16:-16, 16:-16].mean() < 12  # interpolation differences only


def test_raised_eyebrows_keep_more_forehead(astronaut_landmarks):
    rest_centre, rest_side = face_box(astronaut_landmarks, "MV0")
    brow_centre, brow_side = face_box(astronaut_landmarks, "MV2")
    assert brow_side > rest_side
    top_rest = rest_centre[1] - rest_side / 2
    top_brow = brow_centre[1] - brow_side / 2
    assert top_brow < top_rest
    _, cheeks_side = face_box(astronaut_landmarks, "MV3")
    assert cheeks_side >= rest_side
    assert face_box(astronaut_landmarks, "smiling at the camera")[1] == rest_side  # free text


def test_a_face_at_the_border_is_padded_not_refused(astronaut_landmarks):
    image = astronaut()[:150]  # cut through the face
    crop = face_crop(image, astronaut_landmarks, 224)
    assert crop.shape == (224, 224, 3)
    assert (crop[-10:] == 0).all()  # below the cut: black padding


def test_attribute_mask_classes_sit_where_they_should(astronaut_landmarks):
    lm = astronaut_landmarks
    mask = attribute_mask((512, 512), lm)
    assert set(np.unique(mask)) == set(range(len(CLASSES)))
    def at(point):
        return CLASSES[mask[int(round(point[1])), int(round(point[0]))]]
    assert at(lm.ibug68[30]) == "nose"  # nose tip
    assert at(lm.ibug68[[37, 41]].mean(axis=0)) == "eyes"
    assert at(lm.ibug68[19]) == "brows"
    assert at(lm.ibug68[[51, 62]].mean(axis=0)) == "lips"
    assert at((lm.ibug68[2] + lm.ibug68[30]) / 2) == "skin"  # cheek
    assert at((5, 5)) == "background"


def test_the_mask_is_cut_like_the_face_crop(astronaut_landmarks):
    mask = attribute_mask((512, 512), astronaut_landmarks)
    cropped = face_crop_mask(mask, astronaut_landmarks, 224)
    assert cropped.shape == (224, 224) and cropped.dtype == np.uint8
    assert set(np.unique(cropped)) <= set(range(len(CLASSES)))  # nearest: no blended labels
    assert (cropped == CLASSES.index("eyes")).sum() > 50
