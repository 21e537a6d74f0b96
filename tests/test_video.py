"""Reading videos and the papers' temporal sampling."""

from __future__ import annotations

import pytest

from fpgrade.errors import CorruptVideoError, MediaError
from fpgrade.video import clips, normalise_length, read_frames, video_info
from tests.media_factory import write_video


def test_read_frames_with_stride_and_limit(tmp_path):
    path = write_video(tmp_path / "v.mp4", frames=12)
    assert [i for i, _ in read_frames(path)] == list(range(12))
    assert [i for i, _ in read_frames(path, stride=5)] == [0, 5, 10]
    frames = list(read_frames(path, stride=2, max_frames=3))
    assert [i for i, _ in frames] == [0, 2, 4]
    assert frames[0][1].shape == (128, 128, 3)
    assert video_info(path).frames == 12


def test_an_empty_video(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(CorruptVideoError, match=r"empty\.mp4: empty file"):
        list(read_frames(path))


def test_a_corrupt_video(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(write_video(tmp_path / "v.mp4").read_bytes()[:300])
    with pytest.raises(CorruptVideoError, match=r"broken\.mp4: (not a video|no frame could be decoded)"):
        list(read_frames(path))


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video at all " * 100)
    with pytest.raises(CorruptVideoError, match=r"notes\.mp4"):
        list(read_frames(path))


def test_a_missing_video(tmp_path):
    with pytest.raises(MediaError, match="file not found"):
        list(read_frames(tmp_path / "nowhere.mp4"))


@pytest.mark.parametrize(
    ("length", "n", "expected"),
    [
        (3, 8, [0, 0, 1, 1, 1, 1, 2, 2]),  # short: frames duplicated in, order kept
        (16, 8, [0, 2, 4, 6, 9, 11, 13, 15]),  # long: dropped at equally spaced intervals
        (8, 8, list(range(8))),
        (1, 4, [0, 0, 0, 0]),
    ],
)
def test_temporal_normalisation_of_paper_004(length, n, expected):
    assert normalise_length(list(range(length)), n) == expected


def test_temporal_normalisation_refuses_nonsense():
    with pytest.raises(ValueError):
        normalise_length([], 8)
    with pytest.raises(ValueError):
        normalise_length([1], 0)


def test_four_frame_clips_of_paper_000():
    assert clips(list(range(10))) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert clips(list(range(6)), step=1)[-1] == [2, 3, 4, 5]
    assert clips([1, 2]) == []


def test_real_video_frame_count(shared_faces):
    frames = list(read_frames(shared_faces / "WolfgangLanger_Pexels.mp4", stride=50))
    assert len(frames) == 10 and frames[-1][0] == 450


def test_the_video_preprocessor_decodes_once(tmp_path, monkeypatch):
    from fpgrade.face import analysis
    from plugins.preprocess.video import VideoFaceLandmarks

    calls = []
    real = analysis.read_frames

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "read_frames", counting)
    path = write_video(tmp_path / "v.mp4", frames=6, size=256)
    step = VideoFaceLandmarks(stride=2)
    first = step({"path": path})
    assert len(calls) == 1  # landmarks and frames from one pass
    second = step({"path": path})  # landmarks from the cache, frames from one pass
    assert len(calls) == 2
    assert list(first["frame_indices"]) == list(second["frame_indices"]) == [0, 2, 4]
    assert len(first["face_frames"]) == 3 and first["face_frames"][0].shape == (256, 256, 3)
    for a, b in zip(first["face_frames"], second["face_frames"]):
        assert (a == b).all()


def test_video_progress_counts_every_frame_read(tmp_path):
    from fpgrade.face.analysis import analyse_video

    seen = []
    faces = analyse_video(write_video(tmp_path / "v.mp4", frames=5, size=256), progress=seen.append)
    assert seen == [1, 2, 3, 4, 5] and faces.frames_read == 5
