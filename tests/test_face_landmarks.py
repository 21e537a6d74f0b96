"""Real MediaPipe landmarks on real photos and videos, and every bad input as a clear error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from fpgrade.cache import default_cache
from fpgrade.errors import MediaError, MultipleFacesError, NoFaceFoundError
from fpgrade.face.analysis import analyse_photo, analyse_video
from fpgrade.face.detect import MultipleFacesWarning
from fpgrade.face.measure import SIDE_MEASURES, measure
from tests.media_factory import astronaut, write_image, write_video


def inside(points, box, slack=0.25):
    x0, y0 = box.x - slack * box.width, box.y - slack * box.height
    x1, y1 = box.x + (1 + slack) * box.width, box.y + (1 + slack) * box.height
    return ((points[:, 0] > x0) & (points[:, 0] < x1) & (points[:, 1] > y0) & (points[:, 1] < y1)).all()


def test_astronaut_landmarks_sit_on_her_face(astronaut_landmarks):
    lm = astronaut_landmarks
    assert lm.ibug68.shape == (68, 2) and lm.mesh.shape == (478, 3)
    assert lm.faces_found == 1 and lm.box.detector.startswith("mediapipe")
    assert inside(lm.ibug68, lm.box)
    # Her face is in the upper middle of the portrait: eyes around y 100, x 200-250.
    assert 150 < lm.iris_right.x < lm.iris_left.x < 300 and 70 < lm.iris_right.y < 130
    # The subject's right iris is on the viewer's left, next to the iBUG right eye.
    assert np.linalg.norm(lm.iris_right.centre - lm.ibug68[36:42].mean(axis=0)) < 5
    assert 2 < lm.iris_right.radius < 8
    assert lm.ibug68[8, 1] > lm.ibug68[33, 1] > lm.ibug68[27, 1]  # chin below nose below bridge


def test_photo_measurements_agree_left_and_right(shared_faces, tmp_path):
    for path in (shared_faces / "single_face.jpg", write_image(tmp_path / "astronaut.png")):
        _, lm = analyse_photo(path)
        result = measure(lm.ibug68, lm.iris_right, lm.iris_left)
        for name in ("brow_height", "mrd1", "mrd2", "palpebral_fissure_height",
                     "commissure_excursion", "dental_show"):
            assert result.sides[name].difference < 4.0, (path.name, name)
        assert result.asymmetry["RgAs"] < 0.5


def test_a_mirrored_photo_gives_the_measurements_with_sides_exchanged(tmp_path):
    plain = write_image(tmp_path / "plain.png")
    mirror = write_image(tmp_path / "mirror.png", astronaut()[:, ::-1].copy())
    _, a = analyse_photo(plain)
    _, b = analyse_photo(mirror)
    ma = measure(a.ibug68, a.iris_right, a.iris_left)
    mb = measure(b.ibug68, b.iris_right, b.iris_left)
    assert b.iris_right.x == pytest.approx(511 - a.iris_left.x, abs=2)
    for name in SIDE_MEASURES:
        tolerance = 3.0 if name == "smile_angle" else 1.5  # MediaPipe is not exactly mirror-equivariant
        assert mb.sides[name].left == pytest.approx(ma.sides[name].right, abs=tolerance), name
        assert mb.sides[name].right == pytest.approx(ma.sides[name].left, abs=tolerance), name


def test_greyscale_photo_of_a_face(tmp_path):
    path = tmp_path / "grey.jpg"
    Image.fromarray(astronaut()).convert("L").save(path)
    _, lm = analyse_photo(path)
    assert lm.faces_found == 1


def test_rgba_photo_of_a_face(shared_faces):
    rgb, lm = analyse_photo(shared_faces / "Image_with_alpha.png")
    assert rgb.shape[2] == 3 and lm.faces_found == 1


def test_no_face_in_a_landscape(shared_faces):
    with pytest.raises(NoFaceFoundError, match=r"free-mountain-vector-01\.jpg: no face found"):
        analyse_photo(shared_faces / "free-mountain-vector-01.jpg")


def test_no_face_in_a_blank_image(tmp_path):
    path = write_image(tmp_path / "blank.png", np.full((300, 300, 3), 128, np.uint8))
    with pytest.raises(NoFaceFoundError, match=r"blank\.png: no face found"):
        analyse_photo(path)


def test_several_faces_use_the_largest_with_a_warning(shared_faces):
    with pytest.warns(MultipleFacesWarning, match=r"multi_face\.jpg: 5 faces found; using the largest"):
        _, lm = analyse_photo(shared_faces / "multi_face.jpg")
    assert lm.faces_found == 5
    with pytest.raises(MultipleFacesError, match=r"multi_face\.jpg: 5 faces found, one expected"):
        analyse_photo(shared_faces / "multi_face.jpg", strict=True)


def test_not_an_image(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"\x89PNG but not really")
    with pytest.raises(MediaError, match=r"x\.png: not an image"):
        analyse_photo(path)


def test_the_cache_makes_the_second_pass_skip_detection(tmp_path, monkeypatch):
    from fpgrade.face import analysis

    path = write_image(tmp_path / "a.png")
    cache = default_cache()
    first = analyse_photo(path)[1]
    calls = []
    monkeypatch.setattr(analysis, "landmarks_of", lambda *a, **k: calls.append(1))
    second = analyse_photo(path)[1]
    assert calls == [] and cache.stats.hits >= 1
    np.testing.assert_allclose(first.ibug68, second.ibug68)
    assert second.mesh is not None and second.iris_left == first.iris_left


def test_a_video_drops_and_counts_frames_without_a_face(shared_faces):
    faces = analyse_video(shared_faces / "face_noface.mov", stride=5)
    assert faces.frames_read == 34
    assert 0 < faces.frames_dropped < faces.frames_read
    assert len(faces.landmarks) == len(faces.indices) == faces.frames_read - faces.frames_dropped


def test_a_video_without_any_face(shared_faces):
    with pytest.raises(NoFaceFoundError, match=r"no_face\.mp4: no face found in any of"):
        analyse_video(shared_faces / "no_face.mp4", stride=10)


def test_a_written_video_of_a_face(tmp_path):
    faces = analyse_video(write_video(tmp_path / "v.mp4", frames=6, size=256))
    assert list(faces.indices) == list(range(6))


def test_an_unreadable_video_names_the_file(tmp_path):
    path = tmp_path / "bad.mov"
    path.write_bytes(b"\x00" * 2048)
    with pytest.raises(MediaError, match=r"bad\.mov"):
        analyse_video(path)


def test_warnings_are_not_raised_for_a_single_face(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        analyse_photo(write_image(tmp_path / "one.png"))
