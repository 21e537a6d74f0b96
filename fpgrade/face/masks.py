"""Facial-attribute masks from landmark polygons: the segmentation targets of paper 002, stage 1.

Paper 002 trains its encoder E1 on AFLW-style attribute masks (eyes, brows, nose, mouth, ...);
without such annotations, these masks are drawn from the iBUG-68 landmarks, so they are only as
good as the landmarks. Classes (:data:`CLASSES`, index = pixel value): background, skin (the face
outline, the forehead estimated up to 60 % of the brow-to-chin height above the brows), brows
(each brow line thickened to 12 % of the inter-iris distance), eyes (lid polygons), nose (hull of
the bridge and nostrils), lips (outer minus inner lip polygon), mouth interior (inner polygon).
Later classes are drawn over earlier ones. Left and right are merged, so a horizontal flip of the
image flips the mask with no relabelling.
"""

from __future__ import annotations

import cv2
import numpy as np

from fpgrade.face import ibug68
from fpgrade.face.landmarks import FaceLandmarks

CLASSES = ("background", "skin", "brows", "eyes", "nose", "lips", "mouth_interior")


def _poly(points: np.ndarray) -> np.ndarray:
    return np.round(points).astype(np.int32).reshape(-1, 1, 2)


def attribute_mask(shape: tuple[int, int], landmarks: FaceLandmarks) -> np.ndarray:
    """A (H, W) uint8 label map of :data:`CLASSES` for an image of ``shape`` (H, W)."""
    p = landmarks.ibug68
    mask = np.zeros(shape[:2], dtype=np.uint8)
    brows = np.vstack([p[ibug68.RIGHT_BROW], p[ibug68.LEFT_BROW]])
    chin = p[8]
    lift = 0.6 * (chin[1] - brows[:, 1].mean())
    forehead = brows - np.array([0.0, lift])
    skin = cv2.convexHull(_poly(np.vstack([p[ibug68.JAW], forehead])))
    cv2.fillPoly(mask, [skin], CLASSES.index("skin"))
    iris_distance = float(np.linalg.norm(landmarks.iris_left.centre - landmarks.iris_right.centre))
    thickness = max(1, int(round(0.12 * iris_distance)))
    for brow in (ibug68.RIGHT_BROW, ibug68.LEFT_BROW):
        cv2.polylines(mask, [_poly(p[brow])], False, CLASSES.index("brows"), thickness)
    for eye in (ibug68.RIGHT_EYE, ibug68.LEFT_EYE):
        cv2.fillPoly(mask, [_poly(p[eye])], CLASSES.index("eyes"))
    nose = cv2.convexHull(_poly(np.vstack([p[ibug68.NOSE_BRIDGE], p[ibug68.NOSTRILS]])))
    cv2.fillPoly(mask, [nose], CLASSES.index("nose"))
    cv2.fillPoly(mask, [_poly(p[ibug68.OUTER_LIPS])], CLASSES.index("lips"))
    cv2.fillPoly(mask, [_poly(p[ibug68.INNER_LIPS])], CLASSES.index("mouth_interior"))
    return mask
