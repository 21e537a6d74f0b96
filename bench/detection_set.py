"""A face-finding test set made from the shared real faces, in the kinds issue 9 names.

Each source face (scikit-image's astronaut, the shared photos, frames of the shared videos) is
located once by the full pipeline on the original; from its landmark box the variants are made:

- ``tight``: square crops whose side is 1.0, 1.05 and 1.1 x narrower than the face box (the face
  as wide as the image, or wider), the way many palsy data sets store faces;
- ``small``: the face scaled to 48-96 px wide, pasted into a 1280 x 960 frame of another photo;
- ``rotated``: the original turned by -30, -15, 15 and 30 degrees (black corners);
- ``swapped``: red and blue exchanged;
- ``grey``: greyscale (three equal channels).

:func:`variants` yields ``(kind, name, rgb)``; :func:`detection_rates` runs an analyser on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1] / "tests" / "media" / "faces"
PHOTOS = ("single_face.jpg", "0-f1-su-ph.jpg", "Image_with_alpha.png")
VIDEO_FRAMES = (("WolfgangLanger_Pexels.mp4", (0, 120, 240, 360)), ("single_face.mp4", (0,)))
KINDS = ("tight", "small", "rotated", "swapped", "grey")


def sources(shared: Path = SHARED) -> list[tuple[str, np.ndarray]]:
    """The source faces: the astronaut, and the shared photos and video frames when present."""
    from skimage.data import astronaut

    found = [("astronaut", astronaut())]
    if shared.is_dir():
        from fpgrade.imageio import load_image
        from fpgrade.video import read_frames

        found += [(name, load_image(shared / name)) for name in PHOTOS if (shared / name).is_file()]
        for name, wanted in VIDEO_FRAMES:
            if (shared / name).is_file():
                for index, frame in read_frames(shared / name):
                    if index in wanted:
                        found.append((f"{name}#{index}", frame))
                    if index >= max(wanted):
                        break
    return found


def face_box(rgb: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the face's landmarks (jaw, brows, nose, lips)."""
    from fpgrade.face.analysis import landmarks_of

    points = landmarks_of(rgb).ibug68
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _tight(rgb, box, factor):
    import cv2

    x, y, w, h = box
    side = w / factor
    cx, cy = x + w / 2, y + h / 2
    src = np.array([[cx - side / 2, cy - side / 2], [cx + side / 2, cy - side / 2],
                    [cx - side / 2, cy + side / 2]], dtype=np.float32)
    size = int(round(min(max(side, 64), 512)))
    dst = np.array([[0, 0], [size, 0], [0, size]], dtype=np.float32)
    return cv2.warpAffine(rgb, cv2.getAffineTransform(src, dst), (size, size),
                          flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def _small(rgb, box, width, background):
    import cv2

    x, y, w, h = box
    scale = width / w
    face = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = cv2.resize(background, (1280, 960), interpolation=cv2.INTER_AREA).copy()
    fh, fw = face.shape[:2]
    cut = face[: min(fh, 900), : min(fw, 1200)]
    top, left = 480 - int((y + h / 2) * scale), 640 - int((x + w / 2) * scale)
    top, left = max(0, min(top, 960 - cut.shape[0])), max(0, min(left, 1280 - cut.shape[1]))
    frame[top:top + cut.shape[0], left:left + cut.shape[1]] = cut
    return frame


def _rotated(rgb, degrees):
    import cv2

    h, w = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(rgb, matrix, (w, h), borderMode=cv2.BORDER_CONSTANT)


def variants(shared: Path = SHARED) -> Iterator[tuple[str, str, np.ndarray]]:
    import cv2

    found = sources(shared)
    background = np.full((960, 1280, 3), 90, np.uint8)
    if (shared / "free-mountain-vector-01.jpg").is_file():
        from fpgrade.imageio import load_image

        background = load_image(shared / "free-mountain-vector-01.jpg")
    for name, rgb in found:
        box = face_box(rgb)
        for factor in (1.0, 1.05, 1.1):
            yield "tight", f"{name} x{factor}", _tight(rgb, box, factor)
        for width in (48, 64, 96):
            yield "small", f"{name} {width}px", _small(rgb, box, width, background)
        for degrees in (-30, -15, 15, 30):
            yield "rotated", f"{name} {degrees}deg", _rotated(rgb, degrees)
        yield "swapped", name, np.ascontiguousarray(rgb[:, :, ::-1])
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        yield "grey", name, np.repeat(grey[:, :, None], 3, axis=2)


def detection_rates(analyser=None, shared: Path = SHARED) -> dict[str, dict[str, object]]:
    """Per kind: how many variants had landmarks fitted, out of how many, which failed, and which
    reported more than the one face each holds (``several``)."""
    from fpgrade.errors import NoFaceFoundError
    from fpgrade.face.detect import FaceAnalyser

    analyser = analyser or FaceAnalyser()
    rates: dict[str, dict[str, object]] = {
        k: {"found": 0, "total": 0, "missed": [], "several": []} for k in KINDS}
    for kind, name, rgb in variants(shared):
        rates[kind]["total"] += 1
        try:
            landmarks = analyser.analyse(rgb, source=name)
            rates[kind]["found"] += 1
            if landmarks.faces_found != 1:
                rates[kind]["several"].append(name)
        except NoFaceFoundError:
            rates[kind]["missed"].append(name)
    return rates
