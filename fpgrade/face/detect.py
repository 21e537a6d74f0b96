"""Face detection and landmarks with MediaPipe 0.10.21, with fallbacks for every kind of photo.

1. Detection: MediaPipe's short-range face detector (``model_selection=0``, for faces filling
   much of the frame: tight crops, selfies, the papers' cropped inputs) runs on the image, and
   unless it finds a face at least a fifth of the image wide (a close-up), so does the
   full-range one (``model_selection=1``, for faces far from the camera and group photos). With
   mirror averaging on, each also runs on the mirrored image (in a worker thread,
   concurrently). All boxes, the mirrored ones flipped back, are grouped by overlap
   (IoU >= 0.3); each group is one face, its box the mean of the group's boxes; a face seen only
   once (one detector, one orientation) must score 0.75. Because the set
   of boxes of a mirrored photo is exactly the mirror of the original's, the chosen box (and the
   mesh window built from it) is mirror-consistent: before, the box moved by up to 18 px between a
   photo and its mirror, which moved the measurements by up to 0.9 mm / 1.2 deg.
2. Where neither detector finds a face, in order: both detectors again on the image padded by
   40 % of its size on each side (a face wider than the frame becomes an ordinary one); the face
   mesh's own detector on the whole image (its box from the mesh points); OpenCV's frontal-face
   Haar cascade (Viola-Jones, paper 000's detector) on a greyscale copy. The box records which one
   found it (``FaceBox.detector``).
3. The MediaPipe face mesh with iris refinement (478 points) is fitted in a square window of
   1.6 x the face box around its centre; the part of the window outside the photo is filled with
   black, so a face at the edge of a tight crop is still centred in its window.
4. The 478 points are mapped to iBUG-68 (:mod:`fpgrade.face.ibug68`); the iris nearer the iBUG
   right eye becomes ``iris_right`` (the subject's right), its radius the mean distance from the
   centre to the four rim points.
5. Mirror averaging (``symmetric=True``, the default): the mesh is fitted a second time on the
   mirrored window, its iBUG points and irises mirrored back (twins exchanged) and averaged with
   the first fit. The face mesh is not mirror-equivariant: on scikit-image's portrait a mirrored
   photo moved the commissure excursion by 2 mm. Averaging removes that handedness bias, which
   would otherwise read as facial asymmetry. The distance between the two fits of each point is
   kept as ``FaceLandmarks.spread``, a per-point uncertainty the measurements turn into
   ``uncertain_landmarks`` flags. The 478-point mesh kept is the first fit.
6. Shut eyes (:mod:`fpgrade.face.shut_eyes`): an eye that reads under 5 mm and shows no
   exposed eye between its lids has its middle lid points moved onto the lid line (fissure 0).

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
PAD_FRACTION = 0.4
GROUP_IOU = 0.3
# A face seen once only (one detector, one orientation) must be this sure: the short-range model
# alone saw a 200-px "face" in a landscape photo with a 64-px face in it.
SINGLE_SCORE = 0.75
# A face this fraction of the image wide or wider, found by the short-range model, makes the photo
# a close-up: the full-range model (for far faces) is then not run.
CLOSE_FACE = 0.2
# The detectors see at most 192 x 192 pixels and the mesh 192 x 192 (64 x 64 per eye): larger
# inputs are reduced to this side first, which costs nothing in precision and saves the time
# MediaPipe spends converting big frames.
MAX_SIDE = 640
IRIS_DIAMETER_MM = 11.77
DETECTORS = ("short", "full")


@contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null: MediaPipe's C++ logging (TFLite delegate, absl
    warnings) writes there while graphs start, before any Python setting can reach it. One thread
    at a time (a lock): two overlapping redirections would restore each other's /dev/null."""
    with _SILENCE_LOCK:
        with _stderr_to_devnull():
            yield


_SILENCE_LOCK = threading.RLock()


@contextmanager
def _stderr_to_devnull():
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


def _iou(a: FaceBox, b: FaceBox) -> float:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.x + a.width, b.x + b.width), min(a.y + a.height, b.y + b.height)
    common = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = a.area + b.area - common
    return 0.0 if union <= 0 else common / union


def _flip_box(box: FaceBox, width: int) -> FaceBox:
    return replace(box, x=width - box.x - box.width)


def group_boxes(boxes: list[FaceBox], min_iou: float = GROUP_IOU,
                min_members: int = 2) -> list[FaceBox]:
    """One box per face: boxes overlapping by ``min_iou`` (transitively) are grouped and averaged
    (score: the group's best; detector: the names in the group). A group of fewer than
    ``min_members`` boxes is kept only with a score of :data:`SINGLE_SCORE` or more. Largest
    first. The result does not depend on the order of ``boxes``."""
    n = len(boxes)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if _iou(boxes[i], boxes[j]) >= min_iou:
                parent[root(i)] = root(j)
    groups: dict[int, list[FaceBox]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(boxes[i])
    merged = []
    for members in groups.values():
        if len(members) < min_members and max(b.score for b in members) < SINGLE_SCORE:
            continue
        values = np.array([[b.x, b.y, b.width, b.height] for b in members]).mean(axis=0)
        names = "+".join(sorted({b.detector for b in members}))
        merged.append(FaceBox(*map(float, values), max(b.score for b in members), names))
    return sorted(merged, key=lambda box: (box.area, box.x, box.y), reverse=True)


class FaceAnalyser:
    """MediaPipe graphs, created once per process, each used under its own lock (they are not
    thread-safe, and Gradio calls handlers from several threads)."""

    GRAPHS = ("short", "full", "short_mirror", "full_mirror", "mesh", "mirror")

    def __init__(self, min_confidence: float = 0.5, symmetric: bool = True) -> None:
        self.min_confidence = min_confidence
        self.symmetric = symmetric
        self._start_lock = threading.Lock()
        self._locks = {name: threading.Lock() for name in self.GRAPHS}
        self._graph_map: dict[str, object] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._quiet_shapes: set[tuple[str, bool]] = set()
        self._haar = None

    def _graph(self, name: str):
        """One of the MediaPipe graphs (:attr:`GRAPHS`), started on first use: a single pass
        (mirror averaging off) never starts the mirror graphs, and a close-up never the
        full-range detectors."""
        with self._start_lock:
            graph = self._graph_map.get(name)
            if graph is None:
                with _native_stderr_silenced():
                    graph = self._new_graph(name)
                    # MediaPipe opens a graph's calculators in its own threads, which log as they
                    # do: one tiny blank frame waits for them (not a warm-up on a real photo).
                    graph.process(np.zeros((16, 16, 3), dtype=np.uint8))
                self._graph_map[name] = graph
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=1,
                                                    thread_name_prefix="fpgrade-mirror-mesh")
        return graph

    def _new_graph(self, name: str):
        import mediapipe as mp

        if name in ("mesh", "mirror"):
            return mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=self.min_confidence,
            )
        return mp.solutions.face_detection.FaceDetection(
            model_selection=0 if name.startswith("short") else 1,
            min_detection_confidence=self.min_confidence,
        )

    def _run(self, name: str, rgb: np.ndarray):
        """``process`` of one graph; its first input of each shape class (square or not) runs
        with native stderr silenced: the mesh logs once on its first non-square input (this
        replaces warming every graph on a sample photo at start-up)."""
        graph = self._graph(name)
        shape = (name, rgb.shape[0] == rgb.shape[1])
        with self._locks[name]:
            if shape in self._quiet_shapes:
                return graph.process(rgb)
            with _native_stderr_silenced():
                result = graph.process(rgb)
            self._quiet_shapes.add(shape)
            return result

    def _detect_with(self, rgb: np.ndarray, model: str, suffix: str = "") -> list[FaceBox]:
        """Boxes of one MediaPipe detector (graph ``model`` + ``suffix``)."""
        height, width = rgb.shape[:2]
        boxes = []
        for detection in self._run(model + suffix, rgb).detections or ():
            rel = detection.location_data.relative_bounding_box
            if rel.width <= 0 or rel.height <= 0:
                continue
            boxes.append(FaceBox(rel.xmin * width, rel.ymin * height, rel.width * width,
                                 rel.height * height, float(detection.score[0]),
                                 f"mediapipe-{model}"))
        return boxes

    def _both_ways(self, rgb: np.ndarray, flipped: np.ndarray | None, model: str) -> list[FaceBox]:
        """One detector on the image and (when given) concurrently on its mirror, flipped back."""
        mirrored = None
        if flipped is not None:
            self._graph(model)  # starts the pool with the graphs
            mirrored = self._pool.submit(self._detect_with, flipped, model, "_mirror")
        boxes = self._detect_with(rgb, model)
        if mirrored is not None:
            boxes += [_flip_box(box, rgb.shape[1]) for box in mirrored.result()]
        return boxes

    def _detect_mediapipe(self, rgb: np.ndarray) -> list[FaceBox]:
        """The short-range detector, on the image and (mirror averaging on) on its mirror; the
        full-range one as well unless the short-range one found a face at least
        :data:`CLOSE_FACE` of the image wide (a close-up: a far face beside it is not counted).
        Boxes grouped per face. Every decision uses both orientations, so a mirrored photo
        gets the mirrored boxes."""
        original = rgb.shape[:2]
        rgb, _ = _reduced(rgb)
        sy, sx = rgb.shape[0] / original[0], rgb.shape[1] / original[1]
        flipped = cv2.flip(rgb, 1) if self.symmetric else None
        min_members = 2 if self.symmetric else 1
        boxes = self._both_ways(rgb, flipped, "short")
        close = [box for box in group_boxes(boxes, min_members=min_members)
                 if box.width >= CLOSE_FACE * rgb.shape[1]]
        if not close:
            boxes += self._both_ways(rgb, flipped, "full")
        grouped = group_boxes(boxes, min_members=min_members)
        return [replace(box, x=box.x / sx, y=box.y / sy, width=box.width / sx,
                        height=box.height / sy) for box in grouped]

    def detect(self, rgb: np.ndarray) -> list[FaceBox]:
        """Every face in ``rgb``, largest first: MediaPipe's short- and full-range detectors,
        then the same on a padded copy, then Haar. (The mesh's own detector, the last resort,
        is tried by :meth:`analyse`.)"""
        rgb = np.ascontiguousarray(rgb)
        boxes = self._detect_mediapipe(rgb)
        if not boxes:
            boxes = self._detect_padded(rgb)
        if not boxes:
            boxes = self._detect_haar(rgb)
        return boxes

    def _detect_padded(self, rgb: np.ndarray) -> list[FaceBox]:
        height, width = rgb.shape[:2]
        pad_x, pad_y = int(round(PAD_FRACTION * width)), int(round(PAD_FRACTION * height))
        padded = cv2.copyMakeBorder(rgb, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=0)
        boxes = []
        for box in self._detect_mediapipe(padded):
            box = replace(box, x=box.x - pad_x, y=box.y - pad_y, detector=box.detector + "-padded")
            if box.x + box.width > 0 and box.y + box.height > 0 and box.x < width and box.y < height:
                boxes.append(box)
        return boxes

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
        boxes = [FaceBox(x / scale, y / scale, w / scale, h / scale, 0.5, "haar")
                 for (x, y, w, h) in np.asarray(found).reshape(-1, 4)]
        return sorted(boxes, key=lambda box: box.area, reverse=True)

    def _fit_window(self, window: np.ndarray, graph: str = "mesh") -> np.ndarray | None:
        """The (478, 3) mesh of a window in window pixels, or ``None``."""
        result = self._run(graph, window)
        if not result.multi_face_landmarks:
            return None
        height, width = window.shape[:2]
        return np.array(
            [(p.x * width, p.y * height, p.z * width) for p in result.multi_face_landmarks[0].landmark]
        )

    def _fit_pair(self, window: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The mesh of ``window`` and (mirror averaging on) of its mirror, concurrently."""
        mirrored = None
        if self.symmetric:
            self._graph("mirror")  # starts the pool with the graphs
            mirrored = self._pool.submit(
                self._fit_window, cv2.flip(window, 1), "mirror"
            )
        mesh = self._fit_window(window)
        flipped = mirrored.result() if mirrored is not None else None
        return mesh, flipped

    def fit(self, rgb: np.ndarray, box: FaceBox, faces_found: int = 1) -> FaceLandmarks | None:
        """Landmarks fitted in a square window around ``box`` (black outside the photo;
        mirror-averaged when ``symmetric``); ``None`` if the mesh model does not accept it."""
        height, width = rgb.shape[:2]
        side = int(round(MESH_WINDOW * max(box.width, box.height)))
        if side < 8:
            return None
        cx, cy = box.x + box.width / 2, box.y + box.height / 2
        # Rounded so that the window of a mirrored photo is the mirror of this one.
        x0, y0 = int(np.floor(cx - side / 2 + 0.5)), int(np.floor(cy - side / 2 + 0.5))
        window = np.zeros((side, side, 3), dtype=rgb.dtype)
        sx0, sy0 = max(0, x0), max(0, y0)
        sx1, sy1 = min(width, x0 + side), min(height, y0 + side)
        if sx1 <= sx0 or sy1 <= sy0:
            return None
        window[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        window, scale = _reduced(window)
        mesh, flipped = self._fit_pair(window)
        if mesh is None:
            return None
        landmarks = landmarks_from_mesh(mesh)
        if flipped is not None:
            landmarks = _average(landmarks, landmarks_from_mesh(flipped).mirrored(window.shape[1]))
        landmarks = self._refine_eyes(window, landmarks)
        shift = np.array([[1.0 / scale, 0.0, x0], [0.0, 1.0 / scale, y0]])
        return replace(landmarks.transformed(shift), box=box, faces_found=faces_found)

    def _refine_eyes(self, window: np.ndarray, landmarks: FaceLandmarks) -> FaceLandmarks:
        """Shut eyes read shut (:func:`fpgrade.face.shut_eyes.close_shut_eyes`)."""
        from fpgrade.face.shut_eyes import close_shut_eyes

        return close_shut_eyes(window, landmarks)

    def _fit_whole(self, rgb: np.ndarray) -> FaceLandmarks | None:
        """Last resort: the face mesh (its own detector) on the whole image, then a window
        around the points it found, fitted as usual."""
        mesh = self._fit_window(np.ascontiguousarray(rgb))
        if mesh is None:
            return None
        (x0, y0), (x1, y1) = mesh[:, :2].min(axis=0), mesh[:, :2].max(axis=0)
        box = FaceBox(float(x0), float(y0), float(x1 - x0), float(y1 - y0), 0.5, "mediapipe-mesh")
        return self.fit(rgb, box)

    def analyse(self, rgb: np.ndarray, *, source: str = "image") -> FaceLandmarks:
        """Landmarks of the largest face in ``rgb``, with the number of faces found.

        A sideways photo is turned upright first (:mod:`fpgrade.face.upright`), its landmarks
        mapped back onto ``rgb``.

        :param source: names the file in error messages.
        :raises NoFaceFoundError: no face, a face the mesh cannot be fitted to, or a sideways face
            that gives no upright one when turned.
        """
        from fpgrade.face.upright import upright

        rgb = np.ascontiguousarray(rgb)
        return upright(self, rgb, self._analyse_as_is(rgb, source), source)

    def _analyse_as_is(self, rgb: np.ndarray, source: str) -> FaceLandmarks:
        """:meth:`analyse` of ``rgb`` in the orientation given."""
        boxes = self.detect(rgb)
        landmarks = self.fit(rgb, boxes[0], faces_found=len(boxes)) if boxes else None
        if landmarks is None:
            landmarks = self._fit_whole(rgb)
            if landmarks is not None and boxes:
                landmarks = replace(landmarks, faces_found=len(boxes))
        if landmarks is None and not boxes:
            raise NoFaceFoundError(f"{source}: no face found")
        if landmarks is None:
            raise NoFaceFoundError(
                f"{source}: a face was detected ({boxes[0].detector}) but its landmarks could not "
                "be fitted (turned away, covered or too small?)"
            )
        return landmarks


def _reduced(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """``rgb`` reduced so that its longer side is at most :data:`MAX_SIDE`, and the scale."""
    longer = max(rgb.shape[:2])
    if longer <= MAX_SIDE:
        return rgb, 1.0
    scale = MAX_SIDE / longer
    size = (max(1, int(round(rgb.shape[1] * scale))), max(1, int(round(rgb.shape[0] * scale))))
    reduced = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)
    return reduced, (size[0] / rgb.shape[1] + size[1] / rgb.shape[0]) / 2


def _iris(mesh: np.ndarray, indices: tuple[int, tuple[int, ...]]) -> Circle:
    centre = mesh[indices[0], :2]
    rim = mesh[list(indices[1]), :2]
    radius = float(np.mean(np.linalg.norm(rim - centre, axis=1)))
    return Circle(float(centre[0]), float(centre[1]), radius)


def _average(a: FaceLandmarks, b: FaceLandmarks) -> FaceLandmarks:
    """Point-wise mean of two fits of the same face (the mesh of ``a`` is kept); ``spread`` is
    the distance between the two fits of each iBUG point."""

    def mean(c: Circle, d: Circle) -> Circle:
        return Circle((c.x + d.x) / 2, (c.y + d.y) / 2, (c.radius + d.radius) / 2)

    return replace(a, ibug68=(a.ibug68 + b.ibug68) / 2,
                   iris_right=mean(a.iris_right, b.iris_right),
                   iris_left=mean(a.iris_left, b.iris_left),
                   spread=np.linalg.norm(a.ibug68 - b.ibug68, axis=1))


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
