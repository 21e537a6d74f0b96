"""Reading photos: every bad input is a clear error naming the file; odd formats are handled."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fpgrade.errors import ImageTooLargeError, MediaError
from fpgrade.imageio import load_image
from tests.media_factory import astronaut, write_image


def test_a_photo_loads_as_rgb(tmp_path):
    rgb = load_image(write_image(tmp_path / "a.jpg"))
    assert rgb.shape == (512, 512, 3) and rgb.dtype == np.uint8


def test_not_an_image_names_the_file(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("a clinic letter, not a photo")
    with pytest.raises(MediaError, match=r"notes\.jpg: not an image"):
        load_image(path)


def test_a_truncated_jpeg_is_damaged(tmp_path):
    whole = write_image(tmp_path / "whole.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(MediaError, match=r"cut\.jpg: damaged image data"):
        load_image(cut)


def test_missing_file(tmp_path):
    with pytest.raises(MediaError, match=r"gone\.png: file not found"):
        load_image(tmp_path / "gone.png")


def test_greyscale_becomes_three_equal_channels(tmp_path):
    path = tmp_path / "grey.png"
    Image.fromarray(astronaut()).convert("L").save(path)
    rgb = load_image(path)
    assert rgb.shape == (512, 512, 3)
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()


def test_alpha_is_composited_over_white(tmp_path):
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[:2, :, :3] = (200, 10, 10)
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half fully transparent black
    path = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(path)
    rgb = load_image(path)
    assert tuple(rgb[0, 0]) == (200, 10, 10) and tuple(rgb[3, 3]) == (255, 255, 255)


def test_sixteen_bit_images_are_scaled(tmp_path):
    path = tmp_path / "deep.png"
    Image.fromarray((np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)).save(path)
    rgb = load_image(path)
    assert rgb.max() == 255 and rgb.dtype == np.uint8


def test_exif_orientation_is_applied(tmp_path):
    image = Image.fromarray(astronaut()[:, :300])  # 512 high, 300 wide
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "phone.jpg"
    image.save(path, exif=exif)
    assert load_image(path).shape == (300, 512, 3)


def test_a_60_megapixel_image_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (10_000, 6_000)).save(path, optimize=False, compress_level=1)
    with pytest.raises(ImageTooLargeError, match=r"huge\.png: image of 10000x6000 = 60\.0 megapixels"):
        load_image(path)


def test_the_pixel_limit_is_configurable(tmp_path, monkeypatch):
    from fpgrade.settings import get_settings

    monkeypatch.setenv("FPGRADE_MAX_IMAGE_PIXELS", "1000")
    get_settings.cache_clear()
    with pytest.raises(ImageTooLargeError, match="limit of 0.0 megapixels"):
        load_image(write_image(tmp_path / "a.png"))


def test_real_rgba_and_large_greyscale_photos(shared_faces):
    assert load_image(shared_faces / "Image_with_alpha.png").shape[2] == 3
    assert load_image(shared_faces / "BWPictureHuman.jpg").shape == (1912, 2560, 3)


def png_header_only(path, width, height):
    """A PNG with a real header (IHDR) for ``width`` x ``height`` and no pixel data: what a
    decoder reads before it decides to decode (no 400-megapixel buffer in the test)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize(("side", "megapixels"), [(8_000, "64.0"), (20_000, "400.0")])
def test_a_huge_image_states_the_pixel_limit_whatever_its_size(tmp_path, side, megapixels):
    """Pillow calls 20000x20000 a decompression bomb; both must say fpgrade's limit."""
    from fpgrade.media import probe

    path = png_header_only(tmp_path / "huge.png", side, side)
    for read in (probe, load_image):
        with pytest.raises(ImageTooLargeError) as caught:
            read(path)
        message = str(caught.value)
        assert message.startswith(f"{path}: image of ") and f"{megapixels} megapixels" in message
        assert "above the limit of 50.0 megapixels (FPGRADE_MAX_IMAGE_PIXELS)" in message
