"""Reading videos with OpenCV, and the papers' temporal sampling.

- :func:`read_frames`: RGB frames with a sampling stride (long videos), each with its index.
- :func:`normalise_length`: paper 004's temporal normalisation to ``n`` frames: a short sequence
  gets frames duplicated in at equally spaced positions, a long one loses frames at equally spaced
  intervals (one formula: nearest of ``n`` evenly spaced positions).
- :func:`clips`: paper 000's clips of 4 consecutive frames.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from fpgrade.errors import CorruptVideoError, MediaError

T = TypeVar("T")


@dataclass(frozen=True)
class VideoInfo:
    frames: int
    fps: float
    width: int
    height: int


def video_info(path: Path) -> VideoInfo:
    """Frame count, frame rate and size from the container (the count may be an estimate)."""
    capture = _open(path)
    try:
        return VideoInfo(
            frames=int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
            fps=float(capture.get(cv2.CAP_PROP_FPS)) or 0.0,
            width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
    finally:
        capture.release()


def _open(path: Path) -> cv2.VideoCapture:
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise CorruptVideoError(f"{path}: empty file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise CorruptVideoError(f"{path}: not a video OpenCV can open (corrupt or unknown format)")
    return capture


def read_frames(
    path: Path, stride: int = 1, max_frames: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, rgb_frame)`` for every ``stride``-th frame, at most ``max_frames``.

    :raises CorruptVideoError: the file cannot be opened or not one frame can be decoded.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, not {stride}")
    capture = _open(path)
    index = yielded = 0
    try:
        while max_frames is None or yielded < max_frames:
            if index % stride == 0:
                ok, frame = capture.read()
                if not ok:
                    break
                yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                yielded += 1
            elif not capture.grab():
                break
            index += 1
    finally:
        capture.release()
    if yielded == 0:
        raise CorruptVideoError(f"{path}: no frame could be decoded (empty or damaged video)")


def normalise_length(frames: Sequence[T], n: int) -> list[T]:
    """Paper 004's temporal normalisation of a sequence to exactly ``n`` frames."""
    if n < 1:
        raise ValueError(f"n must be >= 1, not {n}")
    if not frames:
        raise ValueError("cannot normalise an empty sequence")
    positions = np.linspace(0, len(frames) - 1, n)
    return [frames[int(round(p))] for p in positions]


def clips(frames: Sequence[T], length: int = 4, step: int | None = None) -> list[list[T]]:
    """Paper 000's clips: windows of ``length`` consecutive frames, every ``step`` frames
    (default ``length``: no overlap). A tail shorter than ``length`` is dropped."""
    step = step or length
    return [list(frames[i : i + length]) for i in range(0, len(frames) - length + 1, step)]
