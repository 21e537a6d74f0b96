"""Real media written by the tests: scikit-image's portrait as JPEG/PNG, and a short MP4."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def astronaut() -> np.ndarray:
    """scikit-image's real portrait (RGB, 512x512)."""
    from skimage import data

    return data.astronaut()


def write_image(path: Path, rgb: np.ndarray | None = None) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(astronaut() if rgb is None else rgb).save(path)
    return path


def write_video(path: Path, frames: int = 12, size: int = 128) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    face = cv2.resize(astronaut()[:, :, ::-1], (size, size))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 6.0, (size, size))
    for shift in range(frames):
        writer.write(np.roll(face, shift, axis=1))
    writer.release()
    return path


def video_frame(path: Path, index: int) -> np.ndarray:
    """Frame ``index`` of a video, RGB."""
    from fpgrade.video import read_frames

    for i, frame in read_frames(path):
        if i == index:
            return frame
    raise ValueError(f"{path} has no frame {index}")


def wink(open_rgb: np.ndarray, closed_rgb: np.ndarray, side: str) -> np.ndarray:
    """A real wink: the subject's ``side`` eye (with its brow corner) of ``closed_rgb``, a photo of
    the same person with closed eyes, aligned (similarity transform on brow, eye corners and
    nose bridge) and blended into ``open_rgb`` with a feathered ellipse. The closed eye is a real
    closed eye; only its neighbour is open."""
    import cv2

    from fpgrade.face.analysis import landmarks_of

    open_lm, closed_lm = landmarks_of(open_rgb).ibug68, landmarks_of(closed_rgb).ibug68
    idx = [17, 18, 19, 20, 21, 36, 39, 27] if side == "right" else [22, 23, 24, 25, 26, 42, 45, 27]
    matrix, _ = cv2.estimateAffinePartial2D(closed_lm[idx].astype(np.float32),
                                            open_lm[idx].astype(np.float32))
    height, width = open_rgb.shape[:2]
    warped = cv2.warpAffine(closed_rgb, matrix, (width, height), flags=cv2.INTER_LINEAR)
    eye = open_lm[36:42] if side == "right" else open_lm[42:48]
    centre, eye_width = eye.mean(axis=0), np.ptp(eye[:, 0])
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(mask, (int(centre[0]), int(centre[1])), (int(eye_width * 0.95), int(eye_width * 0.6)),
                0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), eye_width * 0.15)[..., None]
    return (open_rgb * (1 - mask) + warped * mask).astype(np.uint8)
