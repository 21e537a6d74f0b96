"""The measurement overlay: landmarks, iris circles, midline and measured segments on the photo."""

from __future__ import annotations

import cv2
import numpy as np

from fpgrade.face.landmarks import FaceLandmarks
from fpgrade.face.measure import FaceMeasurements

GREEN, CYAN, YELLOW, RED, BLUE, GREY = (
    (40, 220, 60), (0, 210, 230), (250, 220, 0), (235, 50, 50), (60, 110, 255), (170, 170, 170)
)
SIDE_COLOURS = {"right": RED, "left": BLUE}  # the subject's sides


def _pt(point) -> tuple[int, int]:
    return int(round(point[0])), int(round(point[1]))


def draw_overlay(rgb: np.ndarray, landmarks: FaceLandmarks,
                 measurements: FaceMeasurements | None = None) -> np.ndarray:
    """A copy of ``rgb`` with the mesh (grey), iBUG-68 points (green), iris circles (cyan), the
    facial midline (yellow) and the measured segments (red: subject's right, blue: left; grey
    where the value has quality flags and should not be trusted)."""
    canvas = np.ascontiguousarray(rgb.copy())
    height, width = canvas.shape[:2]
    face = max(landmarks.ibug68[:, 0].ptp(), landmarks.ibug68[:, 1].ptp(), 1.0)
    thick = max(1, int(round(face / 150)))
    radius = max(1, int(round(face / 120)))
    if landmarks.mesh is not None:
        for point in landmarks.mesh[:, :2]:
            cv2.circle(canvas, _pt(point), max(1, radius // 2), GREY, -1, cv2.LINE_AA)
    for point in landmarks.ibug68:
        cv2.circle(canvas, _pt(point), radius, GREEN, -1, cv2.LINE_AA)
    for iris in (landmarks.iris_right, landmarks.iris_left):
        cv2.circle(canvas, _pt(iris.centre), max(1, int(round(iris.radius))), CYAN, thick, cv2.LINE_AA)
    centre = (landmarks.iris_right.centre + landmarks.iris_left.centre) / 2
    axis = landmarks.iris_left.centre - landmarks.iris_right.centre
    axis = axis / (np.linalg.norm(axis) or 1.0)
    down = np.array([-axis[1], axis[0]])
    reach = 1.3 * face
    cv2.line(canvas, _pt(centre - 0.6 * reach * down), _pt(centre + reach * down), YELLOW, thick,
             cv2.LINE_AA)
    cv2.line(canvas, _pt(landmarks.iris_right.centre), _pt(landmarks.iris_left.centre), YELLOW,
             thick, cv2.LINE_AA)
    if measurements is not None:
        for name, (start, end) in measurements.segments.items():
            colour = SIDE_COLOURS["left" if name.endswith("_left") else "right"]
            if measurements.quality.get(name):
                colour = GREY
            cv2.line(canvas, _pt(start), _pt(end), colour, thick + 1, cv2.LINE_AA)
    if width > 0 and height > 0:
        cv2.putText(canvas, "R", _pt(landmarks.ibug68[0] - [3 * radius, 0]), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thick + 0.3, RED, thick, cv2.LINE_AA)
        cv2.putText(canvas, "L", _pt(landmarks.ibug68[16] + [radius, 0]), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thick + 0.3, BLUE, thick, cv2.LINE_AA)
    return canvas


def save_rgb(path, rgb: np.ndarray) -> None:
    """Write an RGB array as an image file (format from the suffix)."""
    from PIL import Image

    Image.fromarray(rgb).save(path)
