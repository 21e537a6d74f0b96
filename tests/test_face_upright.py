"""Sideways photos are turned upright before measuring (issue 18, item 12).

Real photos (the shared faces, scikit-image's portrait, the example set's closed-eyes photo) turned
a quarter turn without EXIF, as a phone held on its side saves them. Before, they were measured
sideways: the shared photo's fissure read 8.08 mm against 6.23 upright, and the closed-eyes photo
read both shut eyes 7-8 mm open, with no flag but on the mouth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fpgrade.errors import NoFaceFoundError
from fpgrade.face.detect import FaceAnalyser
from fpgrade.face.landmarks import FaceLandmarks
from fpgrade.face.measure import measure_face
from fpgrade.face.upright import quarter_turns, upright
from fpgrade.imageio import load_image
from tests.media_factory import astronaut

EXAMPLES = Path(__file__).resolve().parents[1] / "ui" / "examples" / "set"


@pytest.fixture(scope="module")
def analyser():
    return FaceAnalyser()


def photos():
    from tests.conftest import SHARED_FACES

    yield "astronaut", astronaut
    yield "close_eyes_gently", lambda: load_image(EXAMPLES / "close_eyes_gently.jpg")
    for name in ("single_face.jpg", "0-f1-su-ph.jpg"):
        path = SHARED_FACES / name
        yield name, (lambda path=path: load_image(path) if path.is_file()
                     else pytest.skip(f"real test media not found at {path}"))


@pytest.mark.parametrize("k", [1, 3], ids=["turned-left", "turned-right"])
@pytest.mark.parametrize("name,load", list(photos()), ids=[name for name, _ in photos()])
def test_a_sideways_photo_measures_as_upright(analyser, name, load, k):
    rgb = np.asarray(load())
    upright_result = measure_face(analyser.analyse(rgb))
    landmarks = analyser.analyse(np.ascontiguousarray(np.rot90(rgb, k)))
    sideways = measure_face(landmarks)
    for measure in ("palpebral_fissure_height", "mrd1", "brow_height", "commissure_excursion"):
        for side in ("left", "right"):
            assert getattr(sideways.sides[measure], side) == pytest.approx(
                getattr(upright_result.sides[measure], side), abs=0.05), (measure, side)
            assert "photo_turned_upright" in sideways.flags(measure, side)
    assert landmarks.upright_turns == (4 - k) % 4
    assert sideways.asymmetry["AnAs"] == pytest.approx(upright_result.asymmetry["AnAs"], abs=0.1)
    assert not any("photo_turned_upright" in f for f in upright_result.quality.values())
    # The points are those of the photo as given: the eyes lie across it, not along it.
    assert abs(abs(landmarks.roll_degrees) - 90) < 20
    assert FaceLandmarks.from_arrays(landmarks.to_arrays()).upright_turns == landmarks.upright_turns


def test_quarter_turns_bring_the_face_down():
    assert [quarter_turns(d) for d in (90, 0, 180, -90, 100, 10)] == [0, 3, 1, 2, 0, 3]


def test_a_sideways_face_that_cannot_be_turned_upright_is_refused(analyser):
    """When the photo turned upright still gives no upright face, one line says why."""
    rgb = np.ascontiguousarray(np.rot90(astronaut(), 1))
    sideways = analyser._analyse_as_is(rgb, "portrait.jpg")

    class Stubborn:  # the turned photo finds nothing
        def _run(self, *args):
            return analyser._run(*args)

        def _analyse_as_is(self, rgb, source):
            raise NoFaceFoundError(f"{source}: no face found")

    refused = r"^portrait\.jpg: the face lies on its side"
    with pytest.raises(NoFaceFoundError, match=refused) as info:
        upright(Stubborn(), rgb, sideways, "portrait.jpg")
    assert "\n" not in str(info.value)
