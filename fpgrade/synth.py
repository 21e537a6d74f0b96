"""SYNTHETIC palsy data from real faces, to prove that a pipeline learns (no public palsy data set
can be downloaded here). Everything written is labelled synthetic: file and folder names start
with ``synthetic``, the manifest has ``synthetic=1`` (stored as ``Media.synthetic`` on import)
and annotator ``synthetic``, and a
``SYNTHETIC_DATA.txt`` explains it. Never mix it with clinical data in an evaluation.

Each synthetic subject is one source identity, and no two subjects share one (a subject-grouped
split must not put the same person in training and test): a face of a photo (a group photo gives
one identity per face) or a video (one identity, its frames are the subject's several photos).
Different files are taken to show different people; give each person once. ``--subjects`` above
the number of identities is refused. Every image of a subject is one of its faces under its own
random jitter (rotation, scale, shift, brightness, contrast); the subject is given a grade on the
chosen scale and, where the grade is a palsy, a side. One side of the face is then displaced with a piecewise-affine
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

An existing, non-empty output folder is refused unless ``overwrite`` is given; then the previous
synthetic set (``manifest.csv``, ``SYNTHETIC_DATA.txt``, ``synthetic_S*`` folders) is removed
first, so the manifest always describes exactly the files beside it.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from rich.progress import track

from fpgrade.errors import FpgradeError
from fpgrade.face import ibug68
from fpgrade.face.analysis import landmarks_of
from fpgrade.face.detect import default_analyser
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
Scale: {scale}. Subjects: {subjects}, each one distinct source identity. Seed: {seed}.
"""
MANIFEST = "manifest.csv"
README_FILE = "SYNTHETIC_DATA.txt"
SUBJECT_PREFIX = "synthetic_S"


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
    points = np.vstack([target, anchors]), np.vstack([source, anchors])
    if hasattr(PiecewiseAffineTransform, "from_estimate"):  # scikit-image >= 0.26
        transform = PiecewiseAffineTransform.from_estimate(*points)
    else:  # pragma: no cover - older scikit-image
        transform = PiecewiseAffineTransform()
        transform = transform if transform.estimate(*points) else None
    if not transform:
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


@dataclass
class Identity:
    """One source person: face crops (``OUTPUT_SIZE`` square) with their landmarks."""

    name: str
    faces: list[tuple[np.ndarray, FaceLandmarks]] = field(default_factory=list)


def _crop(rgb: np.ndarray, landmarks: FaceLandmarks, name: str) -> tuple[np.ndarray, FaceLandmarks] | None:
    crop = face_crop(rgb, landmarks, OUTPUT_SIZE)
    try:
        return crop, landmarks_of(crop, source=name)
    except FpgradeError:
        return None


def identities_in_photo(name: str, rgb: np.ndarray) -> list[Identity]:
    """One identity per face of a photo that landmarks can be fitted to (none without a face)."""
    analyser = default_analyser()
    boxes = analyser.detect(rgb)
    identities = []
    for number, box in enumerate(boxes, 1):
        landmarks = analyser.fit(rgb, box, faces_found=len(boxes))
        face = _crop(rgb, landmarks, name) if landmarks is not None else None
        if face is not None:
            identities.append(Identity(name if len(boxes) == 1 else f"{name} face {number}", [face]))
    return identities


def identities_in_video(name: str, frames: list[np.ndarray], frames_per_video: int = 6) -> list[Identity]:
    """One identity: the largest face of evenly spaced frames (none if no frame has a face)."""
    step = max(1, len(frames) // frames_per_video)
    identity = Identity(name)
    for index in range(0, len(frames), step):
        try:
            landmarks = landmarks_of(frames[index], source=f"{name}#{index}")
        except FpgradeError:
            continue
        face = _crop(frames[index], landmarks, f"{name}#{index}")
        if face is not None:
            identity.faces.append(face)
        if len(identity.faces) == frames_per_video:
            break
    return [identity] if identity.faces else []


def source_identities(paths: Iterable[Path], frames_per_video: int = 6) -> list[Identity]:
    """The identities of real photos and videos (see the module docstring).

    :raises MediaError: a path that is missing or neither a photo nor a video (naming it).
    """
    identities = []
    for path in map(Path, paths):
        if probe(path).kind is MediaKind.IMAGE:
            identities += identities_in_photo(path.name, load_image(path))
        else:
            frames = [f for _, f in read_frames(path)]
            identities += identities_in_video(path.name, frames, frames_per_video)
    return identities


def prepare_output(out: Path, overwrite: bool) -> None:
    """Make ``out`` ready: refuse a non-empty folder unless ``overwrite``, then remove the
    previous synthetic set in it (and nothing else)."""
    if out.exists() and not out.is_dir():
        raise FpgradeError(f"{out}: not a folder; choose another output folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise FpgradeError(f"{out}: folder exists and is not empty; pass --overwrite to "
                               "replace the synthetic data in it, or choose another folder")
        for old in out.glob(f"{SUBJECT_PREFIX}*"):
            if old.is_dir():
                shutil.rmtree(old)
        for name in (MANIFEST, README_FILE):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def make_synthetic(out: Path, scale: GradingScale, subjects: int, identities: list[Identity],
                   *, images_per_subject: int = 2, seed: int = 0, videos: bool = False,
                   video_frames: int = 12, overwrite: bool = False) -> Path:
    """Write ``subjects`` synthetic subjects to ``out``, each from its own identity; returns the
    manifest path.

    :raises FpgradeError: no face in any source; more subjects than identities; ``out`` not
        empty without ``overwrite``.
    """
    identities = [identity for identity in identities if identity.faces]
    if not identities:
        raise FpgradeError("no face found in any source image for synthetic data")
    if subjects > len(identities):
        names = ", ".join(identity.name for identity in identities[:8])
        more = ", ..." if len(identities) > 8 else ""
        raise FpgradeError(
            f"{subjects} synthetic subjects need {subjects} distinct people, but the sources hold "
            f"{len(identities)} identit{'y' if len(identities) == 1 else 'ies'} ({names}{more}); "
            "pass fewer --subjects or more --faces (each face of a photo, each video is one person)"
        )
    prepare_output(out, overwrite)
    rng = np.random.default_rng(seed)
    chosen = [identities[i] for i in rng.permutation(len(identities))[:subjects]]
    manifest = out / MANIFEST
    rows = []
    codes = list(scale.codes)
    for number in track(range(subjects), description="Synthesising subjects", transient=True):
        code = codes[number % len(codes)]
        level = scale.level(code)
        side = level.side or (None if level.normal else (Side.LEFT if rng.random() < 0.5 else Side.RIGHT))
        palsy = Palsy(side, severity_for(scale, code, rng))
        identity = chosen[number]
        subject = f"{SUBJECT_PREFIX}{number:04d}"
        folder = out / subject
        folder.mkdir()
        warped_faces: dict[int, np.ndarray] = {}
        for image_index in range(images_per_subject):
            face_index = image_index % len(identity.faces)
            if face_index not in warped_faces:
                warped_faces[face_index] = warp_face(*identity.faces[face_index], palsy)
            warped = warped_faces[face_index]
            path = folder / f"synthetic_{image_index}.png"
            cv2.imwrite(str(path), cv2.cvtColor(_jitter(warped, rng), cv2.COLOR_RGB2BGR))
            rows.append(_row(subject, path, scale, code, palsy, identity.name))
        if videos:
            face, landmarks = identity.faces[0]
            path = folder / "synthetic_clip.mp4"
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 6.0,
                                     (OUTPUT_SIZE, OUTPUT_SIZE))
            for frame in range(video_frames):
                partial = Palsy(palsy.side, palsy.severity * frame / max(1, video_frames - 1))
                image = _jitter(warp_face(face, landmarks, partial), np.random.default_rng(seed + number))
                writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            writer.release()
            rows.append(_row(subject, path, scale, code, palsy, identity.name))
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / README_FILE).write_text(README.format(scale=scale.id, subjects=subjects, seed=seed))
    return manifest


def _row(subject, path, scale, code, palsy, source):
    return {"subject": subject, "path": str(path.relative_to(path.parents[1])), "movement": "MV0",
            "scale": scale.id, "label": code, "annotator": "synthetic",
            "side": palsy.side.value if palsy.side else "none", "severity": f"{palsy.severity:.3f}",
            "source": source, "synthetic": "1"}
