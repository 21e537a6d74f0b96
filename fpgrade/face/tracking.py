"""Landmarks over time: one MediaPipe face-mesh pass over a video's sampled frames.

What :func:`track_video` does, and how it differs from :func:`fpgrade.face.analysis.analyse_video`
(which grades a photo or a video under one movement):

- Frames are sampled at most :data:`MAX_FPS` per second (every ``ceil(fps / MAX_FPS)``-th frame:
  8 per second from a 24 fps video, 10 from 30 fps). A held movement of the protocol lasts a
  second or more, so the peak is never more than 0.1 s from a sampled frame.
- One face-mesh graph in video mode (``static_image_mode=False``: MediaPipe's documented tracking
  mode, which runs its face detector only when the track is lost and otherwise fits the mesh in
  the region of the last frame's landmarks), with iris refinement (478 points). A fresh graph per
  video, so the result depends on the frames only, never on an earlier video.
- No mirror averaging, no second detector, no shut-eye refinement: the landmarks here only choose
  frames by comparing a face with itself over time (a handedness bias is the same in every frame);
  the chosen frames are then graded as photos by the full analyser
  (:mod:`fpgrade.face.detect`), so the measurements that reach the clinician are the usual ones.
- Hands over the face are not looked for here (their palm detector costs as much as the tracked
  mesh on every frame without a hand): :mod:`fpgrade.face.hands` checks the frames a choice
  would use, afterwards. ``covered`` starts all false.
- Each sampled frame is written as a JPEG (quality :data:`JPEG_QUALITY`) when ``folder`` is
  given, so a frame the clinician picks later (or the hand check) needs no second decoding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fpgrade.errors import NoFaceFoundError
from fpgrade.face.detect import _native_stderr_silenced, landmarks_from_mesh
from fpgrade.video import read_frames, video_info

MAX_FPS = 10.0
JPEG_QUALITY = 95
Progress = Callable[[int, int], None]  # (frames read, frames expected)


@dataclass(frozen=True)
class Track:
    """Per sampled frame: the frame number, its time, and (where a face was found) the points.

    ``ibug68`` is (N, 68, 2) pixels, ``iris`` (N, 2, 3) (subject's right, left: x, y, radius),
    ``lip_depth`` (N,) the mesh's depth of the lip midpoints minus that of the eye corners
    (MediaPipe's z, in pixels; negative = the lips in front of the eyes' plane), ``covered``
    (N,) frames known to have a hand over the face (none from :func:`track_video`). Rows of
    frames without a face are NaN (``found`` False). ``files`` holds the written frames (or is
    empty).
    """

    path: str
    fps: float
    stride: int
    frames: np.ndarray
    found: np.ndarray
    ibug68: np.ndarray
    iris: np.ndarray
    lip_depth: np.ndarray
    covered: np.ndarray
    files: tuple[str, ...] = ()

    @property
    def times(self) -> np.ndarray:
        return self.frames / self.fps if self.fps > 0 else self.frames.astype(float)

    @property
    def sample_fps(self) -> float:
        return self.fps / self.stride if self.fps > 0 else 0.0


def sampling_stride(fps: float, max_fps: float = MAX_FPS) -> int:
    """Every how many frames one is read: ``ceil(fps / max_fps)`` (1 where the rate is unknown)."""
    return max(1, math.ceil(fps / max_fps)) if fps > 0 else 1


def _new_mesh():
    """A face mesh in video mode (a fresh one per video)."""
    import mediapipe as mp

    with _native_stderr_silenced():
        return mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                                               refine_landmarks=True,
                                               min_detection_confidence=0.5,
                                               min_tracking_confidence=0.5)


# Mesh vertices for the lip depth: upper and lower lip midpoints, and the four eye corners.
LIP_MIDPOINTS = (0, 17)
EYE_CORNERS = (33, 133, 362, 263)


def track_video(path: Path, *, max_fps: float = MAX_FPS, folder: Path | None = None,
                progress: Progress | None = None) -> Track:
    """Landmarks of every sampled frame of ``path`` (see the module's docstring).

    :raises CorruptVideoError: unreadable or empty video.
    :raises NoFaceFoundError: no sampled frame shows a face.
    """
    path = Path(path)
    info = video_info(path)
    stride = sampling_stride(info.fps, max_fps)
    expected = max(1, math.ceil(info.frames / stride)) if info.frames > 0 else 0
    frames, points, irises, depths, found, files = [], [], [], [], [], []
    if folder is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
    mesh = _new_mesh()
    try:
        for read, (index, rgb) in enumerate(read_frames(path, stride=stride), start=1):
            with _native_stderr_silenced() if read == 1 else nullcontext():
                result = mesh.process(rgb)
            frames.append(index)
            if folder is not None:
                name = Path(folder) / f"frame-{index:06d}.jpg"
                cv2.imwrite(str(name), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                files.append(str(name))
            faces = result.multi_face_landmarks
            if faces:
                height, width = rgb.shape[:2]
                xyz = np.array([(p.x * width, p.y * height, p.z * width)
                                for p in faces[0].landmark])
                landmarks = landmarks_from_mesh(xyz)
                points.append(landmarks.ibug68)
                irises.append([landmarks.iris_right.as_list(), landmarks.iris_left.as_list()])
                depths.append(xyz[list(LIP_MIDPOINTS), 2].mean()
                              - xyz[list(EYE_CORNERS), 2].mean())
                found.append(True)
            else:
                points.append(np.full((68, 2), np.nan))
                irises.append(np.full((2, 3), np.nan))
                depths.append(np.nan)
                found.append(False)
            if progress is not None:
                progress(read, max(expected, read))
    finally:
        mesh.close()
    if not any(found):
        raise NoFaceFoundError(f"{path}: no face found in any of the {len(frames)} frames read "
                               f"(every {stride} frame{'s' if stride > 1 else ''})")
    return Track(str(path), info.fps, stride, np.asarray(frames, dtype=np.int64),
                 np.asarray(found, dtype=bool), np.asarray(points, dtype=np.float64),
                 np.asarray(irises, dtype=np.float64), np.asarray(depths, dtype=np.float64),
                 np.zeros(len(frames), dtype=bool), tuple(files))

