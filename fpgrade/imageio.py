"""Reading photos: any format Pillow reads, EXIF orientation applied, always RGB uint8.

Greyscale becomes three equal channels; an alpha channel is composited over white (transparent
pixels often hold arbitrary colours); 16-bit images are scaled to 8 bits. An image above the pixel
limit is refused from its header, before any pixel is decoded.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fpgrade.errors import ImageTooLargeError, MediaError
from fpgrade.settings import get_settings


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
                width, height = image.size
                if width * height > limit:
                    raise ImageTooLargeError(
                        f"{path}: image of {width}x{height} = {width * height / 1e6:.1f} megapixels "
                        f"is above the limit of {limit / 1e6:.1f} megapixels "
                        "(FPGRADE_MAX_IMAGE_PIXELS); downscale it first"
                    )
                image.load()
                image = ImageOps.exif_transpose(image)
                return to_rgb(image)
    except ImageTooLargeError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{path}: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise MediaError(f"{path}: not an image (Pillow cannot identify its format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaError(f"{path}: damaged image data ({exc})") from exc
