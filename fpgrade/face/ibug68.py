"""The iBUG 68-point convention, and where its points lie in MediaPipe's 478-point face mesh.

iBUG-68 (Sagonas et al. 2013, the dlib / Emotrics convention), indices 0-based, sides are the
*subject's*: 0-16 jaw (from the subject's right ear), 17-21 right brow, 22-26 left brow, 27-30
nose bridge, 31-35 nostrils, 36-41 right eye, 42-47 left eye, 48-59 outer lips (48 right
commissure, 54 left commissure), 60-67 inner lips (60 right, 64 left inner corner).

:data:`MESH_TO_IBUG68` gives, for each iBUG point, the MediaPipe mesh vertex at the same
anatomical place: the correspondence in wide use with MediaPipe (for instance in gaze and
head-pose code), checked here point by point against the mesh topology. The mesh has no vertex
exactly at some iBUG positions (the jaw contour in particular sits on the face oval instead), so
jaw points are approximate; eye, brow, nose and lip points, which the measurements use, are
direct correspondences. Iris centres and rims come from the mesh's iris points 468-477.
"""

from __future__ import annotations

import numpy as np

MESH_TO_IBUG68: tuple[int, ...] = (
    # jaw 0-16
    162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,
    # right brow 17-21, left brow 22-26
    71, 63, 105, 66, 107, 336, 296, 334, 293, 301,
    # nose bridge 27-30, nostrils 31-35
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    # right eye 36-41, left eye 42-47
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    # outer lips 48-59
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    # inner lips 60-67
    78, 82, 13, 312, 308, 317, 14, 87,
)

# MediaPipe iris points: 468 centre + 469-472 rim of one iris, 473 centre + 474-477 of the other.
IRIS_A = (468, (469, 470, 471, 472))
IRIS_B = (473, (474, 475, 476, 477))

JAW = slice(0, 17)
RIGHT_BROW = slice(17, 22)
LEFT_BROW = slice(22, 27)
NOSE_BRIDGE = slice(27, 31)
NOSTRILS = slice(31, 36)
RIGHT_EYE = slice(36, 42)
LEFT_EYE = slice(42, 48)
OUTER_LIPS = slice(48, 60)
INNER_LIPS = slice(60, 68)
RIGHT_COMMISSURE, LEFT_COMMISSURE = 48, 54

# Index of each point's mirror twin (subject's left <-> right), for horizontal flips.
MIRROR: tuple[int, ...] = (
    *range(16, -1, -1),  # jaw
    26, 25, 24, 23, 22, 21, 20, 19, 18, 17,  # brows
    27, 28, 29, 30,  # bridge (on the midline)
    35, 34, 33, 32, 31,  # nostrils
    45, 44, 43, 42, 47, 46,  # right eye <- left eye
    39, 38, 37, 36, 41, 40,  # left eye <- right eye
    54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55,  # outer lips
    64, 63, 62, 61, 60, 67, 66, 65,  # inner lips
)

assert len(MESH_TO_IBUG68) == 68 and sorted(MIRROR) == list(range(68))


def mirror_points(points: np.ndarray, width: float) -> np.ndarray:
    """iBUG-68 points of the horizontally mirrored image (x -> width - 1 - x, twins swapped)."""
    mirrored = np.asarray(points, dtype=np.float64).copy()
    mirrored[:, 0] = (width - 1) - mirrored[:, 0]
    return mirrored[list(MIRROR)]
