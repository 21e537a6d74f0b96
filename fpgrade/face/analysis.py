"""Face analysis of files, photos and videos, through the cache.

:func:`analyse_photo` and :func:`analyse_video` are what the CLI, the demo and the training data
loaders call. Landmarks are cached per file content (see :mod:`fpgrade.cache`); the several-faces
policy is applied after the cache, so a cached group photo still warns, or fails under ``strict``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpgrade.cache import PreprocessCache, default_cache
from fpgrade.errors import MultipleFacesError, NoFaceFoundError
from fpgrade.face.detect import MultipleFacesWarning, default_analyser
from fpgrade.face.landmarks import Circle, FaceBox, FaceLandmarks
from fpgrade.imageio import load_image
from fpgrade.video import read_frames

LANDMARKS_ID = "face_landmarks"
VIDEO_LANDMARKS_ID = "video_face_landmarks"


def landmark_params() -> dict[str, object]:
    """What determines the landmarks of a file (part of the cache key)."""
    from fpgrade.settings import get_settings

    return {"detector": "mediapipe-short+full-range,mirror-grouped,padded,mesh,haar",
            "mesh": "mediapipe-478-iris", "window": "1.6-black-padded", "min_confidence": 0.5,
            "closed_eyes": "under-5mm-and-2%-brighter-than-skin-p99",
            "upright": "quarter-turns-by-landmarks-and-detector-keypoints",
            "mirror_averaged": get_settings().mirror_averaged_landmarks}


def check_face_count(landmarks: FaceLandmarks, *, strict: bool, source: str) -> None:
    """Warn (or, with ``strict``, fail) when the detector saw several faces."""
    if landmarks.faces_found <= 1:
        return
    if strict:
        raise MultipleFacesError(
            f"{source}: {landmarks.faces_found} faces found, one expected (strict)"
        )
    warnings.warn(f"{source}: {landmarks.faces_found} faces found; using the largest",
                  MultipleFacesWarning, stacklevel=3)


def landmarks_of(rgb: np.ndarray, *, source: str = "image") -> FaceLandmarks:
    """Landmarks of the largest face in an RGB array (no cache, no face-count policy)."""
    return default_analyser().analyse(rgb, source=source)


def photo_landmarks(path: Path, rgb: np.ndarray, *, strict: bool = False,
                    cache: PreprocessCache | None = None) -> FaceLandmarks:
    """Landmarks of the photo ``path`` (already decoded as ``rgb``), through the cache, with the
    several-faces policy applied."""
    cache = cache or default_cache()
    arrays = cache.get_or_compute(
        cache.file_sha256(path), LANDMARKS_ID, landmark_params(),
        lambda: landmarks_of(rgb, source=str(path)).to_arrays(),
    )
    landmarks = FaceLandmarks.from_arrays(arrays)
    check_face_count(landmarks, strict=strict, source=str(path))
    return landmarks


def analyse_photo(path: Path, *, strict: bool = False,
                  cache: PreprocessCache | None = None) -> tuple[np.ndarray, FaceLandmarks]:
    """The RGB image of ``path`` and the landmarks of its (largest) face.

    :raises MediaError: not an image, damaged, too large; :class:`NoFaceFoundError`;
        :class:`MultipleFacesError` with ``strict``.
    """
    path = Path(path)
    rgb = load_image(path)
    return rgb, photo_landmarks(path, rgb, strict=strict, cache=cache)


@dataclass(frozen=True)
class VideoFaces:
    """Per-frame landmarks of a video: frames without a face are dropped and counted."""

    indices: np.ndarray  # frame numbers that kept a face
    landmarks: list[FaceLandmarks]
    frames_read: int
    stride: int

    @property
    def frames_dropped(self) -> int:
        return self.frames_read - len(self.indices)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "indices": np.asarray(self.indices, dtype=np.int64),
            "ibug68": np.array([lm.ibug68 for lm in self.landmarks]).reshape(-1, 68, 2),
            "iris": np.array([[lm.iris_right.as_list(), lm.iris_left.as_list()]
                              for lm in self.landmarks]).reshape(-1, 2, 3),
            "boxes": np.array([[lm.box.x, lm.box.y, lm.box.width, lm.box.height, lm.box.score]
                               for lm in self.landmarks]).reshape(-1, 5),
            "faces_found": np.array([lm.faces_found for lm in self.landmarks], dtype=np.int64),
            "spread": np.array([lm.spread if lm.spread is not None else np.full(68, np.nan)
                                for lm in self.landmarks]).reshape(-1, 68),
            "frames_read": np.array(self.frames_read),
            "stride": np.array(self.stride),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> VideoFaces:
        landmarks = [
            FaceLandmarks(
                ibug68=arrays["ibug68"][i],
                iris_right=Circle(*map(float, arrays["iris"][i, 0])),
                iris_left=Circle(*map(float, arrays["iris"][i, 1])),
                box=FaceBox(*map(float, arrays["boxes"][i])),
                faces_found=int(arrays["faces_found"][i]),
                spread=_spread(arrays, i),
            )
            for i in range(len(arrays["indices"]))
        ]
        return cls(arrays["indices"], landmarks, int(arrays["frames_read"]), int(arrays["stride"]))


def _spread(arrays: dict[str, np.ndarray], i: int) -> np.ndarray | None:
    if "spread" not in arrays or np.isnan(arrays["spread"][i]).any():
        return None
    return np.asarray(arrays["spread"][i], dtype=np.float64)


FrameCallback = Callable[[int, np.ndarray, FaceLandmarks], None]


def _detect_video(path: Path, stride: int, max_frames: int | None,
                  on_frame: FrameCallback | None, progress: Callable[[int], None] | None) -> VideoFaces:
    indices, found, read = [], [], 0
    for index, frame in read_frames(path, stride=stride, max_frames=max_frames):
        read += 1
        if progress is not None:
            progress(read)
        try:
            landmarks = landmarks_of(frame, source=f"{path} frame {index}")
        except NoFaceFoundError:
            continue
        indices.append(index)
        found.append(landmarks)
        if on_frame is not None:
            on_frame(index, frame, landmarks)
    return VideoFaces(np.array(indices, dtype=np.int64), found, read, stride)


def analyse_video(path: Path, *, stride: int = 1, max_frames: int | None = None,
                  strict: bool = False, cache: PreprocessCache | None = None,
                  on_frame: FrameCallback | None = None,
                  progress: Callable[[int], None] | None = None) -> VideoFaces:
    """Landmarks of every ``stride``-th frame of ``path``; frames without a face are dropped.

    The video is decoded at most once: when the landmarks are computed, or, when they come
    from the cache, only if ``on_frame`` asks for the frames.

    :param on_frame: called as ``on_frame(index, rgb, landmarks)`` for every frame with a face,
        in order, while the video is read (so a caller keeps the frames it needs, and no more).
    :param progress: called with the number of frames read so far, after each frame.
    :raises CorruptVideoError: unreadable or empty video.
    :raises NoFaceFoundError: not one frame holds a face.
    """
    path = Path(path)
    cache = cache or default_cache()
    params = {**landmark_params(), "stride": stride, "max_frames": max_frames}
    computed = []

    def compute():
        computed.append(True)
        return _detect_video(path, stride, max_frames, on_frame, progress).to_arrays()

    arrays = cache.get_or_compute(cache.file_sha256(path), VIDEO_LANDMARKS_ID, params, compute)
    faces = VideoFaces.from_arrays(arrays)
    if not faces.landmarks:
        raise NoFaceFoundError(f"{path}: no face found in any of {faces.frames_read} frames read")
    if not computed and on_frame is not None:
        by_index = dict(zip((int(i) for i in faces.indices), faces.landmarks))
        for read, (index, frame) in enumerate(read_frames(path, stride, max_frames), start=1):
            if progress is not None:
                progress(read)
            if on_frame is not None and index in by_index:
                on_frame(index, frame, by_index[index])
    busiest = max(faces.landmarks, key=lambda lm: lm.faces_found)
    check_face_count(busiest, strict=strict, source=str(path))
    return faces
