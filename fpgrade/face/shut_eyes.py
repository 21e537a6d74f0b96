"""Shut eyes that read shut (issue 9, retuned in issue 18).

The face mesh does not close the lids: on a shut eye it puts the upper and lower lid points on
either side of the band of lashes, 1-6 mm apart, and next to an open eye it draws a shut one part
open. So the image decides: an eye whose fissure reads under :data:`EYE_REFINE_MM` and shows no
exposed eye between its lids (fewer than :data:`EXPOSED_FRACTION` of the pixels inside the lid
polygon 36-41 / 42-47 brighter than the brightest skin around it, the :data:`SKIN_PERCENTILE`
percentile of a ring as wide as 0.3 x the eye: no sclera, no corneal reflex) is shut, and its four
middle lid points are moved to the lid line (each upper point and the lower point below it to their
mean), so its fissure reads 0 and its MRD values are flagged ``eye_closed``. An eye that cannot
close (lagophthalmos) shows sclera, and keeps its measured opening.

Issue 18 found 3 of 15 winks reading 3.8-4.8 mm without ``eye_closed``. Measured on eyes labelled
by looking at each frame (``bench/shut_eyes.py``, ``python -m bench.shut_eyes``): the shared video
WolfgangLanger_Pexels.mp4 (frames 16-139 shut, partly behind a hand from 95 on; the blinks
153, 248, 288, 386-387, 426-431 and 439-471; the open frames 141-424 but for those blinks and
the half-shut 154 and 202), 32 winks made from it (2 open-eyed frames x 8 shut ones x 2 sides), and
the example set's photos (close_eyes_gently, wrinkle_nose shut; the others open) with the shared
faces (open):

==============================  ======================  =======================
eyes                            read wrong, before       after (this module)
==============================  ======================  =======================
video blinks (shut)             2 of 85                  1 of 85
video, shut 16-139              27 of 248                8 of 248
winks                           6 of 32                  4 of 32
photos                          1 of 4                   0 of 4
all shut eyes                   36 of 369 (9.8 %)        13 of 369 (3.5 %)
open eyes read shut (all)       0 of 601                 1 of 601 (0.2 %)
==============================  ======================  =======================

Before: :data:`EYE_REFINE_MM` 4.5 and bright pixels counted above the 90th percentile of the
skin ring, so bright lid skin counted as exposed eye, and shut eyes beside a hand read 4.5-6 mm.
Now: under 5 mm, and brighter than the 99th percentile (the brightest skin). The one open eye now
read shut is half shut in a blink, its dark iris showing between the lids and no white (frame 288,
3.4 mm): the rule looks for white, and an eye narrowed over a dark iris shows none. For the same
reason the limit stays at 5 mm, not higher: a laughing man's narrowed open eye in the shared
Image_with_alpha.png reads 5.2 mm with no white showing (his other eye, 3.2 mm under his hand,
already read shut before). Eyes still read open are mostly shut eyes with a finger on the lid,
which the mesh draws 5-9 mm apart.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from fpgrade.face.landmarks import FaceLandmarks

EYE_REFINE_MM = 5.0
EXPOSED_FRACTION = 0.02
SKIN_PERCENTILE = 99


def close_shut_eyes(window: np.ndarray, landmarks: FaceLandmarks) -> FaceLandmarks:
    """``landmarks`` (in ``window``'s pixels) with every shut eye's lids closed (module
    docstring)."""
    openings = eye_openings(landmarks)
    if openings is None or min(openings) >= EYE_REFINE_MM:
        return landmarks
    grey = cv2.cvtColor(window, cv2.COLOR_RGB2GRAY)
    points = landmarks.ibug68.copy()
    for opening, first in zip(openings, (36, 42)):
        if opening >= EYE_REFINE_MM:
            continue
        if exposed_fraction(grey, points[first:first + 6]) >= EXPOSED_FRACTION:
            continue
        for upper, lower in ((first + 1, first + 5), (first + 2, first + 4)):
            points[[upper, lower]] = points[[upper, lower]].mean(axis=0)
    return replace(landmarks, ibug68=points)


def exposed_fraction(grey: np.ndarray, eye: np.ndarray) -> float:
    """Fraction of the pixels inside the lid polygon ``eye`` (6 points) brighter than the
    :data:`SKIN_PERCENTILE` percentile of a ring of skin around it (as wide as 0.3 x the eye)."""
    inside = np.zeros(grey.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(eye).astype(np.int32)], 1)
    if not inside.any():
        return 0.0
    k = max(3, int(0.3 * np.ptp(eye[:, 0]))) | 1
    ring = cv2.dilate(inside, np.ones((k, k), np.uint8)) - inside
    if not ring.any():
        return 1.0
    return float((grey[inside > 0] > np.percentile(grey[ring > 0], SKIN_PERCENTILE)).mean())


def eye_openings(landmarks: FaceLandmarks) -> tuple[float, float] | None:
    """Palpebral fissure heights (mm, checked iris ruler) of the right and left eye."""
    from fpgrade.face.measure import palpebral_fissures

    try:
        return palpebral_fissures(landmarks.ibug68, landmarks.iris_right, landmarks.iris_left)
    except ValueError:
        return None
