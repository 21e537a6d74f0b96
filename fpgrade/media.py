"""Recognise a file as a photo or a video from its content (not its extension), and hash it."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from fpgrade.errors import MediaError

_CHUNK = 1 << 20


class MediaKind(str, Enum):
    """What a file holds. Defined here, not with the database tables that store it, so that
    measuring a photo does not import SQLAlchemy (:mod:`fpgrade.storage.tables` re-exports it)."""

    IMAGE = "image"
    VIDEO = "video"


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class MediaInfo:
    kind: MediaKind
    width: int
    height: int
    frames: int | None = None


def _probe_image(path: Path) -> MediaInfo | None:
    from PIL import Image, UnidentifiedImageError

    from fpgrade.imageio import bomb_error, check_pixels
    from fpgrade.settings import get_settings

    limit = get_settings().max_image_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
                check_pixels(path, image.size, limit)
                image.verify()
    except UnidentifiedImageError:
        return None
    except Image.DecompressionBombError as exc:
        raise bomb_error(path, exc, limit) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"{path}: damaged image ({exc})") from exc
    return MediaInfo(MediaKind.IMAGE, width, height)


def _probe_video(path: Path) -> MediaInfo | None:
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return None
        ok, frame = capture.read()
        if not ok or frame is None:
            return None
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        height, width = frame.shape[:2]
        return MediaInfo(MediaKind.VIDEO, width, height, frames)
    finally:
        capture.release()


def probe(path: Path) -> MediaInfo:
    """What ``path`` holds: an image or a video, its size and frame count.

    :raises MediaError: naming the file, when it is missing, empty, or neither image nor video.
    :raises ImageTooLargeError: an image above the pixel limit (read from its header).
    """
    if not path.exists():
        raise MediaError(f"{path}: file not found")
    if not path.is_file():
        raise MediaError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: empty file")
    info = _probe_image(path) or _probe_video(path)
    if info is None:
        raise MediaError(f"{path}: not an image or a video that can be read")
    return info
