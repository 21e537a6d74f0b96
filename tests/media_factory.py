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
