"""Face detection and landmarks with MediaPipe 0.10.21, OpenCV's Haar cascade as fallback.

1. MediaPipe face detection (full-range model) finds every face; faces are ordered largest first.
   Where it finds none, OpenCV's frontal-face Haar cascade (Viola-Jones AdaBoost, the detector of
   paper 000) tries on a greyscale copy.
2. The MediaPipe face mesh with iris refinement (478 points) is fitted in a square window around
   the chosen face (1.6 x its size), so a group photo is meshed on the face that was chosen.
3. The 478 points are mapped to iBUG-68 (:mod:`fpgrade.face.ibug68`); the iris nearer the iBUG
   right eye becomes ``iris_right`` (the subject's right), its radius the mean distance from the
   centre to the four rim points.
4. Mirror averaging (``symmetric=True``, the default): the mesh is fitted a second time on the
   mirrored window, its iBUG points and irises mirrored back (twins exchanged) and averaged with the
   first fit. The face mesh is not mirror-equivariant: on scikit-image's portrait a mirrored photo
   moved the commissure excursion by 2 mm. Averaging removes that handedness bias, which would
   otherwise read as facial asymmetry, so a mirrored photo measures as the original with sides
   exchanged. The mirrored fit runs on a second mesh graph in a worker thread, concurrently with
   the first (MediaPipe releases the GIL): on 2 cores it adds about 4 ms, not a whole pass.
   The 478-point mesh kept is the first fit.

Several faces: the largest is used, and the result says how many were found
(``faces_found``); what to do about it (warn, or fail under ``strict``) is decided once, in
:func:`fpgrade.face.analysis.check_face_count`.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
import cv2
import numpy as np

from fpgrade.errors import NoFaceFoundError
from fpgrade.face import ibug68
from fpgrade.face.landmarks import Circle, FaceBox, FaceLandmarks

MESH_WINDOW = 1.6
HAAR_MAX_SIDE = 800


@contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null: MediaPipe's C++ logging (TFLite delegate, absl
    warnings) writes there while graphs start, before any Python setting can reach it."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class MultipleFacesWarning(UserWarning):
    """More than one face was found; the largest was used."""


class FaceAnalyser:
    """MediaPipe graphs, created once per process, each used under its own lock (they are not
    thread-safe, and Gradio calls handlers from several threads)."""

    def __init__(self, min_confidence: float = 0.5, symmetric: bool = True) -> None:
        self.min_confidence = min_confidence
        self.symmetric = symmetric
        self._start_lock = threading.Lock()
        self._locks = {name: threading.Lock() for name in ("detector", "mesh", "mirror")}
        self._graph_map: dict[str, object] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._haar = None

    def _graph(self, name: str):
        """One of the MediaPipe graphs ("detector", "mesh", "mirror"), all started (and run
        once, quietly) on first use."""
        with self._start_lock:
            if not self._graph_map:
                self._start_graphs()
        return self._graph_map[name]

    def _start_graphs(self) -> None:
        import mediapipe as mp
        from skimage.data import astronaut

        def new_mesh():
            return mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=self.min_confidence,
            )

        with _native_stderr_silenced():
            graphs = {
                "detector": mp.solutions.face_detection.FaceDetection(
                    model_selection=1, min_detection_confidence=self.min_confidence
                ),
                "mesh": new_mesh(),
                "mirror": new_mesh(),
            }
            # A real, non-square face: the mesh graph logs once on its first such input.
            warm = np.ascontiguousarray(astronaut()[20:260, 120:330])
            for graph in graphs.values():
                graph.process(warm)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fpgrade-mirror-mesh")
        self._graph_map = graphs

    def _run(self, name: str, rgb: np.ndarray):
        graph = self._graph(name)
        with self._locks[name]:
            return graph.process(rgb)

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """Every face in ``rgb``, largest first (MediaPipe, then Haar if MediaPipe finds none)."""
        height, width = rgb.shape[:2]
        result = self._run("detector", rgb)
        boxes = []
        for detection in result.detections or ():
            rel = detection.location_data.relative_bounding_box
            x, y = rel.xmin * width, rel.ymin * height
            boxes.append(FaceBox(x, y, rel.width * width, rel.height * height,
                                 float(detection.score[0]), "mediapipe"))
        if not boxes:
            boxes = self._detect_haar(rgb)
        return sorted(boxes, key=lambda box: box.area, reverse=True)

    def _detect_haar(self, rgb: np.ndarray) -> list[FaceBox]:
        if self._haar is None:
            self._haar = cv2.CascadeClassifier(
                cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
            )
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        scale = min(1.0, HAAR_MAX_SIDE / max(grey.shape))
        if scale < 1.0:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        found = self._haar.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=6, minSize=(40, 40))
        return [
            FaceBox(x / scale, y / scale, w / scale, h / scale, 0.5, "haar")
            for (x, y, w, h) in np.asarray(found).reshape(-1, 4)
        ]

    def _fit_window(self, window: np.ndarray, graph: str = "mesh") -> np.ndarray | None:
        """The (478, 3) mesh of a window in window pixels, or ``None``."""
        result = self._run(graph, window)
        if not result.multi_face_landmarks:
            return None
        height, width = window.shape[:2]
        return np.array(
            [(p.x * width, p.y * height, p.z * width) for p in result.multi_face_landmarks[0].landmark]
        )

    def fit(self, rgb: np.ndarray, box: FaceBox, faces_found: int = 1) -> FaceLandmarks | None:
        """Landmarks fitted in a window around ``box`` (mirror-averaged when ``symmetric``);
        ``None`` if the mesh model does not accept the window as a face."""
        height, width = rgb.shape[:2]
        side = MESH_WINDOW * max(box.width, box.height)
        cx, cy = box.x + box.width / 2, box.y + box.height / 2
        x0, y0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
        x1, y1 = int(min(width, cx + side / 2)), int(min(height, cy + side / 2))
        window = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        if window.size == 0:
            return None
        mirrored = None
        if self.symmetric:
            self._graph("mirror")  # starts the pool with the graphs
            mirrored = self._pool.submit(
                self._fit_window, np.ascontiguousarray(window[:, ::-1]), "mirror"
            )
        mesh = self._fit_window(window)
        flipped = mirrored.result() if mirrored is not None else None
        if mesh is None:
            return None
        landmarks = landmarks_from_mesh(mesh)
        if flipped is not None:
            landmarks = _average(landmarks, landmarks_from_mesh(flipped).mirrored(window.shape[1]))
        shift = np.array([[1.0, 0.0, x0], [0.0, 1.0, y0]])
        return replace(landmarks.transformed(shift), box=box, faces_found=faces_found)

    def analyse(self, rgb: np.ndarray, *, source: str = "image") -> FaceLandmarks:
        """Landmarks of the largest face in ``rgb``, with the number of faces found.

        :param source: names the file in error messages.
        :raises NoFaceFoundError: no face, or a face the mesh cannot be fitted to.
        """
        boxes = self.detect(rgb)
        if not boxes:
            raise NoFaceFoundError(f"{source}: no face found")
        landmarks = self.fit(rgb, boxes[0], faces_found=len(boxes))
        if landmarks is None:
            raise NoFaceFoundError(
                f"{source}: a face was detected ({boxes[0].detector}) but its landmarks could not "
                "be fitted (turned away, covered or too small?)"
            )
        return landmarks


def _iris(mesh: np.ndarray, indices: tuple[int, tuple[int, ...]]) -> Circle:
    centre = mesh[indices[0], :2]
    rim = mesh[list(indices[1]), :2]
    radius = float(np.mean(np.linalg.norm(rim - centre, axis=1)))
    return Circle(float(centre[0]), float(centre[1]), radius)


def _average(a: FaceLandmarks, b: FaceLandmarks) -> FaceLandmarks:
    """Point-wise mean of two fits of the same face (the mesh of ``a`` is kept)."""

    def mean(c: Circle, d: Circle) -> Circle:
        return Circle((c.x + d.x) / 2, (c.y + d.y) / 2, (c.radius + d.radius) / 2)

    return replace(a, ibug68=(a.ibug68 + b.ibug68) / 2,
                   iris_right=mean(a.iris_right, b.iris_right),
                   iris_left=mean(a.iris_left, b.iris_left))


def landmarks_from_mesh(mesh: np.ndarray, box: FaceBox | None = None, faces_found: int = 1) -> FaceLandmarks:
    """iBUG-68 points and the two iris circles from a (478, 3) MediaPipe mesh."""
    points = mesh[list(ibug68.MESH_TO_IBUG68), :2]
    iris_a, iris_b = _iris(mesh, ibug68.IRIS_A), _iris(mesh, ibug68.IRIS_B)
    right_eye = points[ibug68.RIGHT_EYE].mean(axis=0)
    if np.linalg.norm(iris_b.centre - right_eye) < np.linalg.norm(iris_a.centre - right_eye):
        iris_a, iris_b = iris_b, iris_a
    return FaceLandmarks(points, iris_right=iris_a, iris_left=iris_b, box=box,
                         faces_found=faces_found, mesh=mesh)


_DEFAULT: FaceAnalyser | None = None
_DEFAULT_LOCK = threading.Lock()


def default_analyser() -> FaceAnalyser:
    """The process-wide analyser (MediaPipe graphs are loaded on first use), mirror averaging as
    ``FPGRADE_MIRROR_AVERAGED_LANDMARKS`` says."""
    global _DEFAULT
    from fpgrade.settings import get_settings

    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = FaceAnalyser()
        _DEFAULT.symmetric = get_settings().mirror_averaged_landmarks
        return _DEFAULT

