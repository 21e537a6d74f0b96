"""Reading photos: any format Pillow reads, EXIF orientation applied, always RGB uint8.

Greyscale becomes three equal channels; an alpha channel is composited over white (transparent
pixels often hold arbitrary colours); 16-bit images are scaled to 8 bits. An image above the pixel
limit is refused from its header, before any pixel is decoded; the message states the limit, also
for images so large that Pillow itself calls them a decompression bomb.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fpgrade.errors import ImageTooLargeError, MediaError
from fpgrade.settings import get_settings


def too_large(path: Path, pixels: int, limit: int, size: tuple[int, int] | None = None) -> ImageTooLargeError:
    """The error for an image of ``pixels`` pixels above ``limit`` (one wording everywhere)."""
    shape = f"{size[0]}x{size[1]} = " if size else ""
    return ImageTooLargeError(
        f"{path}: image of {shape}{pixels / 1e6:.1f} megapixels is above the limit of "
        f"{limit / 1e6:.1f} megapixels (FPGRADE_MAX_IMAGE_PIXELS); downscale it first"
    )


def bomb_error(path: Path, exc: Exception, limit: int) -> ImageTooLargeError:
    """:func:`too_large` for Pillow's decompression-bomb error (its message holds the pixel count)."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    if found is None:  # pragma: no cover - Pillow changed its wording
        return ImageTooLargeError(f"{path}: {exc}; fpgrade's limit is {limit / 1e6:.1f} megapixels "
                                  "(FPGRADE_MAX_IMAGE_PIXELS)")
    return too_large(path, int(found.group(1)), limit)


def check_pixels(path: Path, size: tuple[int, int], max_pixels: int | None = None) -> None:
    """Raise :class:`ImageTooLargeError` if an image of ``size`` (width, height) is above the limit."""
    limit = max_pixels or get_settings().max_image_pixels
    if size[0] * size[1] > limit:
        raise too_large(path, size[0] * size[1], limit, size)


def to_rgb(image: Image.Image) -> np.ndarray:
    """An RGB uint8 array of any Pillow image (see the module docstring for the rules)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = array.max() or 1.0
        image = Image.fromarray(np.round(array * (255.0 / peak)).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


def load_image(path: Path, max_pixels: int | None = None) -> np.ndarray:
    """Read ``path`` as an RGB uint8 array of shape (H, W, 3).

    :raises MediaError: missing file, not an image, or damaged (truncated) image data.
    :raises ImageTooLargeError: more pixels than ``max_pixels`` (default from settings).
    """
    path = Path(path)
    limit = max_pixels or get_settings().max_image_pixels
    if not path.is_file():
        raise MediaError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                check_pixels(path, image.size, limit)
                image.load()
                image = ImageOps.exif_transpose(image)
                return to_rgb(image)
    except ImageTooLargeError:
        raise
    except Image.DecompressionBombError as exc:
        raise bomb_error(path, exc, limit) from exc
    except UnidentifiedImageError as exc:
        raise MediaError(f"{path}: not an image (Pillow cannot identify its format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"{path}: damaged image data ({exc})") from exc
