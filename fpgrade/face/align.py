"""Roll correction: rotate the image about the iris midpoint so the inter-iris line is horizontal."""

from __future__ import annotations

import cv2
import numpy as np

from fpgrade.face.landmarks import FaceLandmarks


def roll_matrix(landmarks: FaceLandmarks) -> np.ndarray:
    """The 2x3 affine matrix of the rotation that levels the irises (about their midpoint)."""
    centre = (landmarks.iris_right.centre + landmarks.iris_left.centre) / 2
    return cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), landmarks.roll_degrees, 1.0)


def correct_roll(rgb: np.ndarray, landmarks: FaceLandmarks) -> tuple[np.ndarray, FaceLandmarks]:
    """The levelled image (same size, black outside) and the landmarks moved with it."""
    matrix = roll_matrix(landmarks)
    height, width = rgb.shape[:2]
    rotated = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT)
    return rotated, landmarks.transformed(matrix)
