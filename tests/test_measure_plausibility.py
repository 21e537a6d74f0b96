"""The iris ruler and the face's level, checked on real faces (issue 18, items 9 and 10).

The faces are frames of the shared expression video (WolfgangLanger_Pexels.mp4) and real winks
made from them (:func:`tests.media_factory.wink`: one eye of a frame with the eyes shut, covered or
half shut, blended into an open-eyed frame of the same person). The open-eyed frame is the truth
the wink is compared with: the wink changes one eye, nothing else of the face.
"""

from __future__ import annotations

import numpy as np
import pytest

from fpgrade.face.detect import FaceAnalyser
from fpgrade.face.measure import DEVIATIONS, SIDE_MEASURES, UNITS, measure_face
from fpgrade.face.quality import DEFAULT_IPD_MM, IPD_RANGE_MM, FLAG_TEXT, iris_ruler
from tests.media_factory import video_frame, wink

VIDEO = "WolfgangLanger_Pexels.mp4"
OPEN = (200, 300)
SHUT = (452, 446, 22)  # both eyes shut
COVERED = 96  # eyes shut, a finger on the subject's right eye


@pytest.fixture(scope="module")
def analyser():
    return FaceAnalyser()


@pytest.fixture(scope="module")
def frames():
    from tests.conftest import SHARED_FACES

    if not (SHARED_FACES / VIDEO).is_file():
        pytest.skip(f"real test media not found at {SHARED_FACES}")
    return {i: video_frame(SHARED_FACES / VIDEO, i) for i in (*OPEN, *SHUT, COVERED)}


def mm_keys():
    return [*(f"{name}_{side}" for name in SIDE_MEASURES if UNITS[name] == "mm"
              for side in ("left", "right")), *DEVIATIONS]


def inter_iris_px(landmarks):
    return float(np.linalg.norm(landmarks.iris_left.centre - landmarks.iris_right.centre))


def test_irises_of_different_sizes_give_way_to_the_larger_one(analyser, frames):
    """A covered eye's iris fitted at 0.68 of the other: Emotrics' ruler put the eyes 77 mm
    apart (25 % more than the same face with both eyes open); the larger iris alone is within
    8 % of it, and every mm value says where its scale came from."""
    truth = measure_face(analyser.analyse(frames[200])).inter_iris_mm
    landmarks = analyser.analyse(wink(frames[200], frames[COVERED], "right"))
    r, l = landmarks.iris_right.radius, landmarks.iris_left.radius
    assert min(r, l) / max(r, l) < 0.8  # the case: sizes that disagree
    result = measure_face(landmarks)
    emotrics = inter_iris_px(landmarks) * 11.77 / (r + l)
    assert abs(emotrics - truth) / truth > 0.2
    assert result.scale_source == "left iris"
    assert abs(result.inter_iris_mm - truth) / truth < 0.08, (result.inter_iris_mm, truth)
    for key in mm_keys():
        assert "iris_scale_one_eye" in result.quality[key], key
    assert "iris_scale_one_eye" not in result.quality["smile_angle_left"]  # degrees: no scale
    assert result.as_dict()["scale"]["source"] == "left iris"


def test_an_impossible_eye_distance_falls_back_to_the_average_adult(analyser, frames):
    """The iris ruler put this face's eyes 86 mm apart (no adult's are, Dodgson 2004); the scale
    then comes from the mean adult eye distance, 63 mm, flagged on every mm value."""
    landmarks = analyser.analyse(wink(frames[300], frames[COVERED], "right"))
    r, l = landmarks.iris_right.radius, landmarks.iris_left.radius
    assert inter_iris_px(landmarks) * 11.77 / (r + l) > IPD_RANGE_MM[1]
    result = measure_face(landmarks)
    assert result.scale_source == "average eye distance"
    assert result.inter_iris_mm == pytest.approx(DEFAULT_IPD_MM)
    assert result.mm_per_px * inter_iris_px(landmarks) == pytest.approx(DEFAULT_IPD_MM)
    for key in mm_keys():
        assert "scale_from_average_eye_distance" in result.quality[key], key
    mirrored = result.mirrored()
    assert mirrored.scale_source == "average eye distance"


def test_open_eyed_frames_keep_emotrics_ruler(analyser, frames):
    for index in OPEN:
        result = measure_face(analyser.analyse(frames[index]))
        assert result.scale_source == "both irises"
        assert IPD_RANGE_MM[0] < result.inter_iris_mm < IPD_RANGE_MM[1]
        assert not any("scale" in flag for flags in result.quality.values() for flag in flags)


def test_the_ruler_check_follows_the_users_calibration():
    ordinary = iris_ruler(8.0, 8.0, 90.0)  # 66 mm with the 11.77 mm iris
    assert ordinary.source == "both irises" and not ordinary.flags
    doubled = iris_ruler(8.0, 8.0, 90.0, iris_diameter_mm=2 * 11.77)
    assert doubled.mm_per_px == pytest.approx(2 * ordinary.mm_per_px) and not doubled.flags
    wide = iris_ruler(8.0, 8.0, 120.0)  # 88 mm
    assert wide.flags == ("scale_from_average_eye_distance",)
    assert set(FLAG_TEXT) >= {"iris_scale_one_eye", "scale_from_average_eye_distance",
                              "level_from_eye_corners"}


def test_a_shut_eye_does_not_tilt_the_face(analyser, frames):
    """A shut eye's iris is guessed (and often rolled up under the lid): levelled on the iris
    line, the mouth, nose and brow angles of a wink moved by up to 7.5 degrees from the same face
    with both eyes open (median 3.2). Levelled on the eye corners they stay within 3.5 (median
    under 2), and every angle says so."""
    moved = []
    for open_index in OPEN:
        truth = measure_face(analyser.analyse(frames[open_index]))
        assert "level_from_eye_corners" not in truth.flags("MAn")
        for shut_index in SHUT:
            for side in ("right", "left"):
                result = measure_face(analyser.analyse(wink(frames[open_index],
                                                            frames[shut_index], side)))
                assert "eye_closed" in result.flags("mrd1", side)
                for key in ("MAn", "NAn", "EbAn", "AnAs", "commissure_height_deviation"):
                    assert "level_from_eye_corners" in result.flags(key), key
                moved.append(abs(result.signed["MAn"] - truth.signed["MAn"]))
    assert np.median(moved) < 2.0 and max(moved) < 3.5, np.round(moved, 2)


def test_crops_are_levelled_as_the_measurements_are(analyser, frames):
    """A face crop of a wink is turned like the crop of the same face with both eyes open: the
    shut eye's guessed iris no longer tilts it (levelled on the irises, it turned a median 3.2
    degrees further, up to 7.8; levelled as the measurements are, 1.2, up to 3.6)."""
    from fpgrade.face.crops import _rotation

    tilts = []
    for open_index in OPEN:
        _, upright_angle = _rotation(analyser.analyse(frames[open_index]))
        for shut_index in SHUT:
            for side in ("right", "left"):
                _, angle = _rotation(analyser.analyse(wink(frames[open_index],
                                                           frames[shut_index], side)))
                tilts.append(abs(np.degrees(angle - upright_angle)))
    assert np.median(tilts) < 2.0 and max(tilts) < 4.0, np.round(tilts, 2)
