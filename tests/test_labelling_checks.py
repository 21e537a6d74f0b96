"""The one function that computes a medium's asymmetry indices from its file (real landmarks)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from fpgrade.labelling.checks import INDICES, indices_of_file
from tests.media_factory import astronaut


def test_indices_of_a_real_face_and_of_a_photo_without_one(tmp_path):
    Image.fromarray(astronaut()).save(tmp_path / "face.png")
    found = indices_of_file(tmp_path / "face.png")
    assert set(found) == set(INDICES) and all(math.isfinite(v) and v >= 0 for v in found.values())
    Image.fromarray(np.full((200, 200, 3), 127, np.uint8)).save(tmp_path / "grey.png")
    assert indices_of_file(tmp_path / "grey.png") is None
    assert indices_of_file(tmp_path / "missing.png") is None


def test_indices_of_a_video_are_the_median_over_its_frames(tmp_path):
    from tests.media_factory import write_video

    found = indices_of_file(write_video(tmp_path / "clip.mp4", frames=6, size=256), "video")
    assert set(found) == set(INDICES) and all(math.isfinite(v) for v in found.values())
