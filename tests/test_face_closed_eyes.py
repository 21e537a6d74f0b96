"""Closed eyes that measure closed, on real faces (issue 9).

The shared video WolfgangLanger_Pexels.mp4 shows a woman opening and closing her eyes. A wink is
made from two of its frames (an open-eyed frame, and one eye of a closed-eyed frame blended in):
before issue 9 such closed eyes read 0.4-4 mm open (median 1.5 mm), because the face mesh puts
the lids on either side of the lashes and draws an eye next to an open one part open.
"""

from __future__ import annotations

import numpy as np
import pytest

from fpgrade.face.detect import FaceAnalyser
from fpgrade.face.measure import measure_face
from tests.media_factory import video_frame, wink

VIDEO = "WolfgangLanger_Pexels.mp4"
OPEN, CLOSED = (200, 300), (452, 446, 22)


@pytest.fixture(scope="module")
def analyser():
    return FaceAnalyser()


@pytest.fixture(scope="module")
def frames():
    from tests.conftest import SHARED_FACES

    if not (SHARED_FACES / VIDEO).is_file():
        pytest.skip(f"real test media not found at {SHARED_FACES}")
    return {i: video_frame(SHARED_FACES / VIDEO, i) for i in (*OPEN, *CLOSED)}


def fissures(analyser, rgb):
    m = measure_face(analyser.analyse(rgb))
    return m, m.sides["palpebral_fissure_height"]


@pytest.mark.parametrize("side", ["right", "left"])
def test_a_winking_eye_reads_closed_and_its_neighbour_open(analyser, frames, side):
    other = "left" if side == "right" else "right"
    closed_values = []
    for open_index in OPEN:
        for closed_index in CLOSED:
            image = wink(frames[open_index], frames[closed_index], side)
            result, fissure = fissures(analyser, image)
            closed_values.append(getattr(fissure, side))
            assert getattr(fissure, other) > 5.0, (open_index, closed_index)  # still open
            assert "eye_closed" in result.flags("mrd1", side)
            assert "eye_closed" not in result.flags("mrd1", other)
    assert max(closed_values) < 1.0, closed_values


def test_both_eyes_closed_read_closed_and_open_eyes_open(analyser, frames):
    for index in CLOSED:
        _, fissure = fissures(analyser, frames[index])
        assert fissure.left < 1.0 and fissure.right < 1.0, index
    for index in OPEN:
        _, fissure = fissures(analyser, frames[index])
        assert fissure.left > 5.0 and fissure.right > 5.0, index


def test_a_mirrored_wink_reads_the_same_with_sides_exchanged(analyser, frames):
    image = wink(frames[OPEN[0]], frames[CLOSED[0]], "left")
    _, a = fissures(analyser, image)
    _, b = fissures(analyser, np.ascontiguousarray(image[:, ::-1]))
    assert b.right == pytest.approx(a.left, abs=0.05) and b.left == pytest.approx(a.right, abs=0.05)


def test_shut_eyes_beside_a_hand_and_in_blinks_read_shut(analyser):
    """Issue 18: shut eyes read 3-6 mm open without ``eye_closed`` (27 of 248 in the video's
    shut stretch, mostly where a hand rests beside the eye; 36 of 369 labelled shut eyes in all,
    ``bench/shut_eyes.py``). Every second frame of the stretch with the hand, and the blinks;
    open frames across the video stay open."""
    from bench.shut_eyes import video_labels
    from tests.conftest import SHARED_FACES
    from fpgrade.video import read_frames

    if not (SHARED_FACES / VIDEO).is_file():
        pytest.skip(f"real test media not found at {SHARED_FACES}")
    hand, blinks, opened = range(96, 128, 2), (153, 248, 288, 386, 387), range(141, 425, 16)
    missed, shut, read_shut = [], 0, []
    for index, frame in read_frames(SHARED_FACES / VIDEO):
        if index not in (*hand, *blinks, *opened):
            continue
        result = measure_face(analyser.analyse(frame))
        for side, state in zip(("right", "left"), video_labels(index)):
            closed = "eye_closed" in result.flags("mrd1", side)
            if state == "shut":
                shut += 1
                if not closed:
                    missed.append((index, side))
            elif index not in blinks and closed:
                read_shut.append((index, side))
    assert shut == 2 * len(hand) + 7
    assert len(missed) <= 3, missed
    assert not read_shut, read_shut
