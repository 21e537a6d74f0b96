"""A visit's movements side by side, each under its name in words: what the labelling and the
adjudication views show for one grade of a per-subject campaign (issue 20,
:mod:`fpgrade.labelling.units`).

The photos are composed into one picture (a grid of tiles of one height, a caption strip above
each) rather than a gallery, so that the views' zoom, pan, contrast and face-crop keys work on
the whole visit at once, as on one photo. A video's tile is its first frame (say so in its
caption); a file that cannot be read is a grey tile whose caption says why, so the visit can
still be marked "cannot grade". No gradio here (plain functions, tested without a browser).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from math import ceil

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from fpgrade.labelling.units import UnitMedium
from fpgrade_ui.labelling_words import movement_words

#: each tile's photo height in pixels (the page scales the whole picture to its frame)
TILE_HEIGHT = 480
LINE = 36               # one caption line (px)
CAPTION = 2 * LINE + 6  # caption strip height: two lines (px)
GAP = 8                 # between tiles (px)
BACKGROUND = (245, 245, 245)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@lru_cache(maxsize=1)
def _font() -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, 30)
    except OSError:             # no DejaVu: Pillow's own scalable font
        return ImageFont.load_default(30)


def columns_for(count: int) -> int:
    """Tiles per row: up to 3 in one row, then two rows (4 -> 2x2, 7 -> 4+3): the picture stays
    about as wide as the photo frame of a 1366x768 window."""
    return count if count <= 3 else ceil(count / 2)


def read_tile(medium: UnitMedium) -> tuple[np.ndarray | None, str]:
    """A medium's RGB picture and what to say after its name ("" ; a video: its first frame;
    an unreadable file: ``None`` and why)."""
    try:
        if medium.kind == "video":
            from fpgrade.video import read_frames

            _, frame = next(read_frames(medium.path, max_frames=1))
            return frame, "video, first frame"
        with Image.open(medium.path) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB")), ""
    except Exception as exc:  # noqa: BLE001 - any unreadable file: a grey tile that says so
        return None, f"cannot be read ({type(exc).__name__})"


def _wrapped(draw: ImageDraw.ImageDraw, font, text: str, width: int) -> list[str]:
    """``text`` in at most two lines of ``width`` pixels (words kept whole; the second line
    ends with an ellipsis when the rest does not fit)."""
    lines, current = [], ""
    for word in text.split():
        tried = f"{current} {word}".strip()
        if draw.textlength(tried, font=font) <= width or not current:
            current = tried
            continue
        lines.append(current)
        current = word
    lines.append(current)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    if len(lines) == 2:
        while len(lines[1]) > 1 and draw.textlength(lines[1], font=font) > width:
            lines[1] = lines[1][:-2] + "\u2026"
    return lines


def compose(tiles: Sequence[tuple[np.ndarray | None, str]], *,
            height: int = TILE_HEIGHT) -> np.ndarray:
    """The tiles in a grid (:func:`columns_for`), each scaled to ``height`` and captioned above,
    as one RGB array."""
    scaled = []
    for rgb, caption in tiles:
        if rgb is None:
            picture = Image.new("RGB", (height * 3 // 4, height), (190, 190, 190))
        else:
            picture = Image.fromarray(np.ascontiguousarray(rgb))
            width = max(1, round(picture.width * height / max(1, picture.height)))
            picture = picture.resize((width, height), Image.Resampling.LANCZOS)
        scaled.append((picture, caption))
    columns = max(1, columns_for(len(scaled)))
    rows = [scaled[i:i + columns] for i in range(0, len(scaled), columns)]
    width = max(sum(p.width for p, _ in row) + GAP * (len(row) - 1) for row in rows)
    canvas = Image.new("RGB", (width, len(rows) * (height + CAPTION) + GAP * (len(rows) - 1)),
                       BACKGROUND)
    draw, font = ImageDraw.Draw(canvas), _font()
    for r, row in enumerate(rows):
        x, y = 0, r * (height + CAPTION + GAP)
        for picture, caption in row:
            for n, text in enumerate(_wrapped(draw, font, caption, picture.width - 8)):
                draw.text((x + 4, y + 3 + n * LINE), text, fill=(20, 20, 20), font=font)
            canvas.paste(picture, (x, y + CAPTION))
            if picture.getpixel((0, 0)) == (190, 190, 190) and " - " in caption:
                draw.text((x + 8, y + CAPTION + height // 2), caption.split(" - ", 1)[1],
                          fill=(20, 20, 20), font=font)
            x += picture.width + GAP
    return np.asarray(canvas)


def side_by_side(media: Sequence[UnitMedium], *,
                 crop: Callable[[np.ndarray], np.ndarray | None] | None = None,
                 ) -> tuple[np.ndarray, str]:
    """The visit's media side by side, captioned, and a Markdown line naming them in order
    (what the page shows as text beside the picture; a free-text movement is escaped).
    ``crop``: each photo to its face (``None`` where no face is found: the whole photo,
    counted in the line)."""
    tiles, names, missed = [], [], 0
    for medium in media:
        rgb, problem = read_tile(medium)
        if crop is not None and rgb is not None:
            face = crop(rgb)
            missed += face is None
            rgb = rgb if face is None else face
        after = f" - {problem}" if problem else ""
        tiles.append((rgb, movement_words(medium.movement, markdown=False) + after))
        names.append(movement_words(medium.movement) + after)
    listed = "; ".join(f"{n}. {name}" for n, name in enumerate(names, start=1))
    line = f"Left to right{', top to bottom' if len(names) > 3 else ''}: {listed}."
    if crop is not None:
        line += (f" Face crops ({missed} without a face found: whole photo)."
                 if missed else " Face crops; F: the whole photos.")
    return compose(tiles), line
