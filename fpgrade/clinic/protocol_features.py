"""The distances that follow each movement of the protocol, per frame, in units of the face's size.

Every distance is measured in a face-aligned frame (x along the line from the subject's right to
left iris centre, y perpendicular, pointing down the face), so a tilted head reads as an upright
one, and divided by the inter-pupil distance (the distance between the two iris centres) of the
same frame, so that the numbers do not depend on how far the face is from the camera. (An adult's
inter-pupil distance is about 62 mm, so 0.01 of it is about 0.6 mm.)

Which distance follows which movement (the regions of paper 001's regional asymmetry: eyebrow
EBAs, eye EAs, nose NAs, mouth MAs; the muscles of its Table 2 and of eFACE, Banks et al. 2015):

- ``brow``: eyebrow height, the mean of the ten brow points above the line of the four eye
  corners (frontalis raises it; Emotrics' brow height uses the iris centre, which moves with the
  gaze: the eye corners do not).
- ``aperture_right``/``aperture_left``: lid aperture of each eye, upper to lower lid (iBUG 37/38
  to 41/40, 43/44 to 47/46): orbicularis oculi closes it.
- ``mouth_width``: mouth-corner to mouth-corner (iBUG 48-54): zygomaticus major and risorius
  widen it in a smile; orbicularis oris narrows it in a pucker.
- ``lip_depth``: the lip midpoints' depth before the eye corners' plane (MediaPipe's z; larger =
  lips further forward): the proxy of lip protrusion in a pucker.
- ``ala``: height of the nasal wings (iBUG 31, 35) and of the upper-lip midpoint (iBUG 51)
  below the eye-corner line, mean of the three: levator labii superioris alaeque nasi pulls them
  up in a nose wrinkle (paper 001's NAs region).
- ``lips_apart``: inner-lip gap (iBUG 62-66): a mouth open to speak or laugh is not a pucker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fpgrade.face import ibug68

if TYPE_CHECKING:  # the tracking module imports OpenCV: not needed to compute distances
    from fpgrade.face.tracking import Track

FEATURES = ("brow", "aperture_right", "aperture_left", "mouth_width", "lip_depth", "ala",
            "lips_apart")
EYE_CORNERS = (36, 39, 42, 45)


def _aligned(points: np.ndarray, iris: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 68, 2) points in the face-aligned frame, in units of the inter-pupil distance, and
    the inter-pupil distance (pixels) of each frame."""
    right, left = iris[:, 0, :2], iris[:, 1, :2]
    axis = left - right
    ipd = np.linalg.norm(axis, axis=1)
    ux = axis / ipd[:, None]
    uy = np.stack([-ux[:, 1], ux[:, 0]], axis=1)  # x rotated by +90 deg: down the face
    centred = points - ((right + left) / 2)[:, None, :]
    aligned = np.stack([np.einsum("nkd,nd->nk", centred, ux),
                        np.einsum("nkd,nd->nk", centred, uy)], axis=2)
    return aligned / ipd[:, None, None], ipd


def features(track: Track) -> dict[str, np.ndarray]:
    """Every feature of :data:`FEATURES` per sampled frame (NaN where no face was found)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p, ipd = _aligned(track.ibug68, track.iris)
        y = p[:, :, 1]
        corners = y[:, list(EYE_CORNERS)].mean(axis=1)
        brows = y[:, ibug68.RIGHT_BROW.start:ibug68.LEFT_BROW.stop].mean(axis=1)
        return {
            "brow": corners - brows,
            "aperture_right": (y[:, 41] + y[:, 40] - y[:, 37] - y[:, 38]) / 2,
            "aperture_left": (y[:, 47] + y[:, 46] - y[:, 43] - y[:, 44]) / 2,
            "mouth_width": np.linalg.norm(p[:, 54] - p[:, 48], axis=1),
            "lip_depth": -track.lip_depth / ipd,
            "ala": y[:, [31, 35, 51]].mean(axis=1) - corners,
            "lips_apart": y[:, 66] - y[:, 62],
        }
