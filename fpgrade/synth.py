"""SYNTHETIC palsy data from real faces, to prove that a pipeline learns (no public palsy data set
can be downloaded here). Everything written is labelled synthetic: file and folder names start
with ``synthetic``, the manifest has ``synthetic=yes`` and annotator ``synthetic``, and a
``SYNTHETIC_DATA.txt`` explains it. Never mix it with clinical data in an evaluation.

Each synthetic subject is one real face (a photo, or a frame of a video) under its own random
jitter (rotation, scale, shift, brightness, contrast), given a grade on the chosen scale and,
where the grade is a palsy, a side. One side of the face is then displaced with a piecewise-affine
warp (scikit-image) driven by the iBUG-68 landmarks, in proportion to the severity t in [0, 1]
and to the inter-iris distance d:

- brow droop: that side's brow down by 0.12 d t;
- incomplete eye closure / lid sag: lower lid down by 0.05 d t, upper lid up by 0.02 d t;
- mouth-corner droop and flattened smile: commissure down by 0.14 d t and 0.06 d t towards the
  midline, its neighbours half as much, the nostril 0.03 d t towards the midline;
- cheek sag: the jaw points of that side down by 0.03 d t.

The other side, and a ring of anchors around the face, stay fixed. Severity per scale: sided7 by
its severity (mild 1/3, moderate 2/3, severe 1); House-Brackmann (g - 1) / 5; severity3 I 0,
II 0.5, III 1; palsy_binary normal 0, palsy uniform in [0.5, 1]. These ladders are ours, for a
learnability check: they do not model the clinical scales.

With ``videos``, each subject also gets a short clip in which the displacement grows from 0 to
its full value (an onset from rest), for the video models.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from rich.progress import track

from fpgrade.errors import FpgradeError, MediaError
from fpgrade.face import ibug68
from fpgrade.face.analysis import landmarks_of
from fpgrade.face.crops import face_crop
from fpgrade.face.landmarks import FaceLandmarks
from fpgrade.imageio import load_image
from fpgrade.media import probe
from fpgrade.scales import GradingScale, Side
from fpgrade.storage.tables import MediaKind
from fpgrade.video import read_frames

OUTPUT_SIZE = 256
README = """SYNTHETIC DATA - NOT CLINICAL

Made by `fpgrade synth`: real faces with one side displaced by a landmark-driven warp at graded
severities. For checking that a model learns; never report results on it as clinical performance.
Scale: {scale}. Subjects: {subjects}. Seed: {seed}.
"""


@dataclass(frozen=True)
class Palsy:
    side: Side | None
    severity: float


def severity_for(scale: GradingScale, code: str, rng: np.random.Generator) -> float:
    level = scale.level(code)
    if scale.id == "palsy_binary":
        return 0.0 if level.normal else float(rng.uniform(0.5, 1.0))
    if scale.severity_names:
        return (level.severity or 0) / (len(scale.severity_names) - 1)
    index = scale.index(code)
    return index / max(1, len(scale) - 1)


def displaced_points(landmarks: FaceLandmarks, palsy: Palsy) -> np.ndarray:
    """The iBUG-68 points after the palsy displacement (image coordinates)."""
    points = landmarks.ibug68.copy()
    if palsy.side is None or palsy.severity <= 0:
        return points
    axis = landmarks.iris_left.centre - landmarks.iris_right.centre
    d = float(np.linalg.norm(axis))
    right = palsy.side is Side.RIGHT
    x_axis = axis / d
    down = np.array([-x_axis[1], x_axis[0]])
    inward = x_axis if right else -x_axis  # towards the midline from the affected side
    t = palsy.severity

    def move(indices: Iterable[int], dy: float, dx: float = 0.0) -> None:
        for i in indices:
            points[i] += (dy * down + dx * inward) * d * t

    brow = ibug68.RIGHT_BROW if right else ibug68.LEFT_BROW
    move(range(brow.start, brow.stop), 0.12)
    lower_lid = (40, 41) if right else (46, 47)
    upper_lid = (37, 38) if right else (43, 44)
    move(lower_lid, 0.05)
    move(upper_lid, -0.02)
    corner, neighbours, nostril = (48, (49, 59, 60), 31) if right else (54, (53, 55, 64), 35)
    move([corner], 0.14, 0.06)
    move(neighbours, 0.07, 0.03)
    move([nostril], 0.0, 0.03)
    jaw = range(0, 7) if right else range(10, 17)
    move(jaw, 0.03)
    return points


def warp_face(rgb: np.ndarray, landmarks: FaceLandmarks, palsy: Palsy) -> np.ndarray:
    """``rgb`` with the palsy displacement applied (piecewise-affine over the landmarks)."""
    from skimage.transform import PiecewiseAffineTransform, warp

    if palsy.side is None or palsy.severity <= 0:
        return rgb
    height, width = rgb.shape[:2]
    source = landmarks.ibug68
    target = displaced_points(landmarks, palsy)
    centre = source.mean(axis=0)
    ring = [centre + 1.6 * (p - centre) for p in source[list(range(0, 17))]]
    brow_top = [centre + 2.0 * (p - centre) for p in source[17:27]]
    edge = [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1),
            (width / 2, 0), (width / 2, height - 1), (0, height / 2), (width - 1, height / 2)]
    anchors = np.clip(np.array(ring + brow_top + edge, dtype=np.float64), 0, [width - 1, height - 1])
    transform = PiecewiseAffineTransform()
    if not transform.estimate(np.vstack([target, anchors]), np.vstack([source, anchors])):
        raise FpgradeError("the palsy warp could not be estimated for this face")
    warped = warp(rgb, transform, output_shape=(height, width), mode="edge", preserve_range=True)
    return np.clip(warped, 0, 255).astype(np.uint8)


def _jitter(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), rng.uniform(-8, 8), rng.uniform(0.92, 1.08))
    matrix[:, 2] += rng.uniform(-0.04, 0.04, size=2) * (width, height)
    out = cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT_101)
    gain, bias = rng.uniform(0.8, 1.2), rng.uniform(-20, 20)
    return np.clip(out.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)


def source_faces(paths: Iterable[Path], frames_per_video: int = 6) -> list[tuple[str, np.ndarray]]:
    """Real face images (photos, and evenly spaced frames of videos) as (name, RGB)."""
    faces = []
    for path in paths:
        path = Path(path)
        try:
            kind = probe(path).kind
        except MediaError:
            continue
        if kind is MediaKind.IMAGE:
            faces.append((path.name, load_image(path)))
            continue
        frames = [f for _, f in read_frames(path)]
        step = max(1, len(frames) // frames_per_video)
        faces += [(f"{path.name}#{i}", frames[i]) for i in range(0, len(frames), step)][:frames_per_video]
    return faces


def make_synthetic(out: Path, scale: GradingScale, subjects: int, sources: list[tuple[str, np.ndarray]],
                   *, images_per_subject: int = 2, seed: int = 0, videos: bool = False,
                   video_frames: int = 12) -> Path:
    """Write ``subjects`` synthetic subjects to ``out``; returns the manifest path."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    faces: list[tuple[str, np.ndarray, FaceLandmarks]] = []
    for name, rgb in sources:
        try:
            landmarks = landmarks_of(rgb, source=name)
        except FpgradeError:
            continue
        crop = face_crop(rgb, landmarks, OUTPUT_SIZE)
        try:
            faces.append((name, crop, landmarks_of(crop, source=name)))
        except FpgradeError:
            continue
    if not faces:
        raise FpgradeError("no face found in any source image for synthetic data")
    manifest = out / "manifest.csv"
    rows = []
    codes = list(scale.codes)
    for number in track(range(subjects), description="Synthesising subjects", transient=True):
        code = codes[number % len(codes)]
        level = scale.level(code)
        side = level.side or (None if level.normal else (Side.LEFT if rng.random() < 0.5 else Side.RIGHT))
        palsy = Palsy(side, severity_for(scale, code, rng))
        name, face, landmarks = faces[int(rng.integers(len(faces)))]
        subject = f"synthetic_S{number:04d}"
        folder = out / subject
        folder.mkdir(exist_ok=True)
        warped = warp_face(face, landmarks, palsy)
        for image_index in range(images_per_subject):
            path = folder / f"synthetic_{image_index}.png"
            cv2.imwrite(str(path), cv2.cvtColor(_jitter(warped, rng), cv2.COLOR_RGB2BGR))
            rows.append(_row(subject, path, scale, code, palsy, name))
        if videos:
            path = folder / "synthetic_clip.mp4"
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 6.0,
                                     (OUTPUT_SIZE, OUTPUT_SIZE))
            for frame in range(video_frames):
                partial = Palsy(palsy.side, palsy.severity * frame / max(1, video_frames - 1))
                image = _jitter(warp_face(face, landmarks, partial), np.random.default_rng(seed + number))
                writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            writer.release()
            rows.append(_row(subject, path, scale, code, palsy, name))
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "SYNTHETIC_DATA.txt").write_text(README.format(scale=scale.id, subjects=subjects, seed=seed))
    return manifest


def _row(subject, path, scale, code, palsy, source):
    return {"subject": subject, "path": str(path.relative_to(path.parents[1])), "movement": "MV0",
            "scale": scale.id, "label": code, "annotator": "synthetic",
            "side": palsy.side.value if palsy.side else "none", "severity": f"{palsy.severity:.3f}",
            "source": source, "synthetic": "yes"}
