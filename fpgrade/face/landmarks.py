"""What face analysis finds in one image: the face box, 478 mesh points, iBUG-68, irises."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from fpgrade.face import ibug68


@dataclass(frozen=True)
class Circle:
    """An iris: centre (x, y) and radius, in pixels."""

    x: float
    y: float
    radius: float

    @property
    def centre(self) -> np.ndarray:
        return np.array([self.x, self.y])

    def as_list(self) -> list[float]:
        return [self.x, self.y, self.radius]


@dataclass(frozen=True)
class FaceBox:
    """A detected face: x, y, width, height in pixels, the detector's score and name."""

    x: float
    y: float
    width: float
    height: float
    score: float = 1.0
    detector: str = "mediapipe"

    @property
    def area(self) -> float:
        return self.width * self.height


@dataclass(frozen=True)
class FaceLandmarks:
    """Landmarks of one face in image pixel coordinates.

    :param ibug68: (68, 2) iBUG points (see :mod:`fpgrade.face.ibug68`).
    :param iris_right: the subject's right iris (on the viewer's left in an unmirrored photo).
    :param iris_left: the subject's left iris.
    :param mesh: (478, 3) MediaPipe points (x, y in pixels, z relative), or ``None`` where the
        points did not come from the mesh (hand-corrected points, a mirrored copy: the mesh has no
        published mirror correspondence, so a flip drops it rather than mislabel vertices).
    :param box: the face detection the landmarks were fitted in.
    :param faces_found: how many faces the detector saw in the image.
    :param spread: (68,) per-point uncertainty in pixels: the distance between the two fits of
        mirror averaging (``None`` without it).
    :param upright_turns: quarter turns (``np.rot90``'s ``k``) the photo was given before fitting
        because it was sideways (:mod:`fpgrade.face.upright`); the points are those of the photo
        as given. 0 for an upright photo.
    """

    ibug68: np.ndarray
    iris_right: Circle
    iris_left: Circle
    box: FaceBox | None = None
    faces_found: int = 1
    mesh: np.ndarray | None = field(default=None, repr=False)
    spread: np.ndarray | None = field(default=None, repr=False)
    upright_turns: int = 0

    @property
    def roll_degrees(self) -> float:
        """Angle of the line from the right to the left iris centre, against the image x-axis."""
        dx, dy = self.iris_left.centre - self.iris_right.centre
        return float(np.degrees(np.arctan2(dy, dx)))

    def transformed(self, matrix: np.ndarray) -> FaceLandmarks:
        """The landmarks moved by a 2x3 affine ``matrix`` (radii scaled by its mean scale)."""
        matrix = np.asarray(matrix, dtype=np.float64)
        scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))

        def move(points: np.ndarray) -> np.ndarray:
            return points[:, :2] @ matrix[:, :2].T + matrix[:, 2]

        def move_circle(circle: Circle) -> Circle:
            x, y = move(circle.centre[None, :])[0]
            return Circle(float(x), float(y), circle.radius * scale)

        mesh = None
        if self.mesh is not None:
            mesh = np.column_stack([move(self.mesh), self.mesh[:, 2] * scale])
        return replace(
            self,
            ibug68=move(self.ibug68),
            iris_right=move_circle(self.iris_right),
            iris_left=move_circle(self.iris_left),
            mesh=mesh,
            spread=None if self.spread is None else self.spread * scale,
        )

    def mirrored(self, width: int) -> FaceLandmarks:
        """The landmarks of the horizontally flipped image: the subject's sides are exchanged."""

        def flip(circle: Circle) -> Circle:
            return Circle((width - 1) - circle.x, circle.y, circle.radius)

        box = self.box
        if box is not None:
            box = replace(box, x=width - box.x - box.width)
        return replace(
            self,
            ibug68=ibug68.mirror_points(self.ibug68, width),
            iris_right=flip(self.iris_left),
            iris_left=flip(self.iris_right),
            box=box,
            mesh=None,
            spread=None if self.spread is None else self.spread[list(ibug68.MIRROR)],
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays (for the cache: no pickles)."""
        box = self.box
        arrays = {
            "ibug68": self.ibug68.astype(np.float64),
            "iris": np.array([self.iris_right.as_list(), self.iris_left.as_list()]),
            "faces_found": np.array(self.faces_found),
            "upright_turns": np.array(self.upright_turns),
        }
        if box is not None:
            arrays["box"] = np.array([box.x, box.y, box.width, box.height, box.score])
            arrays["detector"] = np.array(box.detector)
        if self.mesh is not None:
            arrays["mesh"] = self.mesh.astype(np.float64)
        if self.spread is not None:
            arrays["spread"] = self.spread.astype(np.float64)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FaceLandmarks:
        box = None
        if "box" in arrays:
            x, y, w, h, score = (float(v) for v in arrays["box"])
            box = FaceBox(x, y, w, h, score, str(arrays["detector"]))
        right, left = (Circle(*map(float, row)) for row in arrays["iris"])
        return cls(
            ibug68=np.asarray(arrays["ibug68"], dtype=np.float64),
            iris_right=right,
            iris_left=left,
            box=box,
            faces_found=int(arrays["faces_found"]),
            mesh=np.asarray(arrays["mesh"]) if "mesh" in arrays else None,
            spread=np.asarray(arrays["spread"], dtype=np.float64) if "spread" in arrays else None,
            upright_turns=int(arrays["upright_turns"]) if "upright_turns" in arrays else 0,
        )
