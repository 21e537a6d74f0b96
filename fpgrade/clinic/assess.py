"""Grading a photo set (or one photo, or a video): measurements, overlay, healthy side, eFACE
items, regional asymmetry and a summary in words. Plain functions over files; no gradio.

A bad file never stops the set: its :class:`PhotoResult` carries a readable ``error`` and the
other photos are graded. Regional asymmetry per movement is paper 001's normalised difference
``|L - R| / (L + R)`` of brow heights (EBAs), eye areas (EAs), nasal-wing areas (NAs) and mouth
halves (MAs), shown x 100 (0 = symmetric); see :mod:`fpgrade.face.measure`. The eye's index is
left out where both eyes are shut (a ratio of two near-zero areas).

A rest photo that is not a face at rest (teeth showing, or mouth corners as far out as in the
smile photo: :func:`rest_expression`) is said so in words; the values are kept, with the warning.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fpgrade.clinic import eface
from fpgrade.clinic.movements import BY_KEY, MOVEMENTS, missing
from fpgrade.clinic.vocabulary import REGION_WORDS, flag_words, ordinal
from fpgrade.clinic.vocabulary import measure as measure_words
from fpgrade.errors import FpgradeError
from fpgrade.face.landmarks import FaceLandmarks
from fpgrade.face.measure import SIDE_MEASURES, FaceMeasurements, SideValue, measure

REGIONS = {"brow": "EBAs", "eye": "EAs", "nose": "NAs", "mouth": "MAs"}
# The region each movement works, and the muscle paper 001's discussion reads from it.
WORKS = {"raise_brows": ("brow", "frontalis"),
         "close_eyes_gently": ("eye", "orbicularis oculi"),
         "close_eyes_tightly": ("eye", "orbicularis oculi"),
         "wrinkle_nose": ("nose", "levator labii superioris alaeque nasi"),
         "smile": ("mouth", "zygomaticus major and risorius"),
         "pucker": ("mouth", "orbicularis oris")}
AFFECTED_PERCENT = 5.0  # regional index x 100 above which a region counts as asymmetric
AFFECTED_ITEM = 80.0  # an eFACE item below this counts as weak
# A rest photo is not a neutral face (ours, not normative thresholds): teeth show by more than
# REST_TEETH_MM on either side, or, with a smile photo, the mouth corners at rest already reach
# REST_LIKE_SMILE of their distance from the lower-lip midpoint at smile (a neutral face moves
# them outwards when smiling; the healthy example volunteer's "rest" photo reads 0.94-1.00).
REST_TEETH_MM = 2.0
REST_LIKE_SMILE = 0.9
EYES_SHUT_MM = 2.0  # both fissures under this: no eye-area asymmetry (EYE_CLOSED_MM of measure)
MAX_VIDEO_FRAMES = 48
OVERLAY_MAX_SIDE = 960


@dataclass
class PhotoResult:
    """One graded photo or video of the set (``movement`` a key of the standard set)."""

    movement: str
    name: str
    path: str
    kind: str = "image"
    measurements: FaceMeasurements | None = None
    overlay: np.ndarray | None = field(default=None, repr=False)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # A photo's landmarks as the detector found them, the photo's (width, height), and the hand
    # corrections made on the page (:mod:`fpgrade.clinic.corrections`; a video has none).
    landmarks: FaceLandmarks | None = field(default=None, repr=False)
    size: tuple[int, int] | None = None
    corrected: FaceLandmarks | None = field(default=None, repr=False)
    corrections: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.measurements is not None

    @property
    def points(self):
        """The landmarks measured: the hand-corrected ones where there are, else the
        detector's (``None`` for a video)."""
        return self.corrected if self.corrected is not None else self.landmarks

    @property
    def regions(self) -> dict[str, float | None]:
        """Regional asymmetry x 100 (0 = symmetric) of this photo; the eye's is ``None`` when
        both eyes are closed (a ratio of two near-zero eye areas is noise, not asymmetry)."""
        if self.measurements is None:
            return {}
        out = {region: round(100 * self.measurements.asymmetry[index], 1)
               for region, index in REGIONS.items()}
        fissure = self.measurements.sides["palpebral_fissure_height"]
        if max(fissure.left, fissure.right) < EYES_SHUT_MM:
            out["eye"] = None
        return out


@dataclass
class SetResult:
    """A graded set: the photos, the healthy side (and how it was chosen), eFACE items."""

    photos: list[PhotoResult]
    healthy_side: str | None
    side_reason: str
    eface_items: dict[str, dict]
    missing: list[str]
    rest_warning: str | None = None

    @property
    def by_movement(self) -> dict[str, FaceMeasurements]:
        return {p.movement: p.measurements for p in self.photos if p.ok}

    @property
    def weaker_side(self) -> str | None:
        if self.healthy_side is None:
            return None
        return "right" if self.healthy_side == "left" else "left"


def _shrink(rgb: np.ndarray) -> np.ndarray:
    import cv2

    height, width = rgb.shape[:2]
    scale = OVERLAY_MAX_SIDE / max(height, width)
    if scale >= 1:
        return rgb
    return cv2.resize(rgb, (int(width * scale), int(height * scale)), interpolation=cv2.INTER_AREA)


def measure_points(landmarks) -> FaceMeasurements:
    """The measurements of one face's landmarks as grading reads them: the detector's points,
    or the points corrected by hand (:mod:`fpgrade.clinic.corrections`), by the same code."""
    return measure(landmarks.ibug68, landmarks.iris_right, landmarks.iris_left)


_measure = measure_points


def _median(per_frame: list[FaceMeasurements]) -> FaceMeasurements:
    """Every value's median over the frames (segments from the most asymmetric frame)."""
    worst = per_frame[int(np.argmax([m.asymmetry["RgAs"] for m in per_frame]))]
    first = per_frame[0]
    return FaceMeasurements(
        sides={name: SideValue(left=float(np.median([m.sides[name].left for m in per_frame])),
                               right=float(np.median([m.sides[name].right for m in per_frame])),
                               unit=first.sides[name].unit, reference=first.sides[name].reference)
               for name in SIDE_MEASURES},
        deviations={k: float(np.median([m.deviations[k] for m in per_frame])) for k in first.deviations},
        asymmetry={k: float(np.median([m.asymmetry[k] for m in per_frame])) for k in first.asymmetry},
        signed={k: float(np.median([m.signed[k] for m in per_frame])) for k in first.signed},
        mm_per_px=float(np.median([m.mm_per_px for m in per_frame])),
        reference_side=first.reference_side, frame=worst.frame, segments=worst.segments,
    )


def grade_medium(path: Path, movement: str = "rest", *, name: str | None = None,
                 overlay: bool = True) -> PhotoResult:
    """Measure one photo or video; any problem becomes a readable ``error`` (never raised)."""
    from fpgrade.face.analysis import analyse_photo, analyse_video
    from fpgrade.face.detect import MultipleFacesWarning
    from fpgrade.face.overlay import draw_overlay
    from fpgrade.media import probe
    from fpgrade.storage.tables import MediaKind

    path = Path(path)
    result = PhotoResult(movement=movement, name=name or path.name, path=str(path))
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MultipleFacesWarning)
            info = probe(path)
            if info.kind is MediaKind.IMAGE:
                rgb, landmarks = analyse_photo(path)
                result.measurements = _measure(landmarks)
                result.landmarks, result.size = landmarks, (rgb.shape[1], rgb.shape[0])
                picture = (rgb, landmarks)
            else:
                result.kind = "video"
                stride = max(1, (info.frames or MAX_VIDEO_FRAMES) // MAX_VIDEO_FRAMES)
                faces = analyse_video(path, stride=stride, max_frames=MAX_VIDEO_FRAMES)
                per_frame = [_measure(lm) for lm in faces.landmarks]
                result.measurements = _median(per_frame)
                worst = int(np.argmax([m.asymmetry["RgAs"] for m in per_frame]))
                index = int(faces.indices[worst])
                from fpgrade.video import read_frames

                frame = next(f for i, f in read_frames(path, stride, MAX_VIDEO_FRAMES) if i == index)
                picture = (frame, faces.landmarks[worst])
                every = "every frame" if stride == 1 else f"every {ordinal(stride)} frame"
                result.notes.append(
                    f"video: median over the {len(faces.indices)} of {faces.frames_read} frames "
                    f"read ({every}) that show a face; the overlay shows frame {index}, the most "
                    "asymmetric")
            result.notes += quality_notes(result.measurements)
            if overlay:
                result.overlay = _shrink(draw_overlay(picture[0], picture[1], result.measurements))
        for warning in caught:
            if issubclass(warning.category, MultipleFacesWarning):
                result.notes.append(f"several faces in the picture: the largest was graded "
                                    f"({str(warning.message).split(': ', 1)[-1]})")
    except FpgradeError as exc:
        result.error = _plain(str(exc), path, result.name)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the set or the server
        result.error = f"{result.name}: could not be graded ({type(exc).__name__}: {exc})"
    result.seconds = time.perf_counter() - start
    return result


def quality_notes(measurements) -> list[str]:
    """The measurements' quality flags (:attr:`FaceMeasurements.quality`: value name -> flags
    such as ``eye_closed``, ``extrapolated``, ``face_turned``), as one line for the page."""
    problems = [f"{_value_words(name)}: {flag_words(flags)}"
                for name, flags in measurements.quality.items() if flags]
    return ["measurement quality (treat these values with care): " + "; ".join(problems)] \
        if problems else []


def _value_words(key: str) -> str:
    """``mrd1_left`` -> ``MRD1 (...), left``."""
    for side in ("left", "right"):
        if key.endswith("_" + side) and key[:-len(side) - 1] in SIDE_MEASURES:
            return f"{measure_words(key[:-len(side) - 1]).short}, {side}"
    return measure_words(key).short


def rest_expression(by_movement: Mapping[str, FaceMeasurements]) -> str | None:
    """A warning in words when the rest photo is not a neutral face, else ``None`` (see
    :data:`REST_TEETH_MM`, :data:`REST_LIKE_SMILE`)."""
    rest = by_movement.get("rest")
    if rest is None:
        return None
    reasons = []
    teeth = max(rest.sides["dental_show"].left, rest.sides["dental_show"].right)
    if teeth > REST_TEETH_MM:
        reasons.append(f"teeth show by {teeth:.1f} mm (a closed, relaxed mouth shows none)")
    smile = by_movement.get("smile")
    if smile is not None:
        at_rest = rest.sides["commissure_excursion"]
        at_smile = smile.sides["commissure_excursion"]
        ratio = (at_rest.left + at_rest.right) / max(at_smile.left + at_smile.right, 1e-6)
        if ratio >= REST_LIKE_SMILE:
            reasons.append(f"the mouth corners are already {100 * ratio:.0f}% as far out as in "
                           "the smile photo")
    if not reasons:
        return None
    return ("The rest photo does not look like a face at rest: " + " and ".join(reasons)
            + ". The static items, the healthy side and every movement measured from rest are "
              "unreliable: retake the rest photo with the face relaxed and the lips closed.")


def _plain(message: str, path: Path, name: str) -> str:
    """The error message with the temporary upload path replaced by the file's name."""
    return message.replace(str(path), name)


def choose_healthy_side(by_movement: Mapping[str, FaceMeasurements]) -> tuple[str | None, str]:
    """The patient's healthy side and why: the side that moves more from rest (brow lift, eye
    closure, commissure excursion at smile) when the set has rest and a dynamic photo; otherwise
    the side the lower lip is pulled towards at rest (Emotrics' stronger side)."""
    rest = by_movement.get("rest")
    votes = []
    if rest is not None:
        for key, name, sign in (("raise_brows", "brow_height", 1), ("close_eyes_gently",
                                "palpebral_fissure_height", -1), ("close_eyes_tightly",
                                "palpebral_fissure_height", -1), ("smile", "commissure_excursion", 1)):
            m = by_movement.get(key)
            if m is None:
                continue
            left = sign * (m.sides[name].left - rest.sides[name].left)
            right = sign * (m.sides[name].right - rest.sides[name].right)
            if max(left, right) > eface.MIN_DENOMINATOR_MM:
                votes.append((left - right) / (abs(left) + abs(right)))
    if votes:
        side = "left" if np.mean(votes) > 0 else "right"
        return side, (f"automatic: the {side} side moves more from rest "
                      f"({len(votes)} movement{'s' if len(votes) > 1 else ''} compared)")
    photo = rest or next(iter(by_movement.values()), None)
    if photo is None:
        return None, "no photo could be measured"
    return photo.reference_side, ("automatic: the lower lip is pulled towards the "
                                  f"{photo.reference_side} side in one photo or video")


def grade_set(files: Mapping[str, Path], *, healthy_side: str | None = None,
              progress: Callable[[float, str], None] | None = None) -> SetResult:
    """Grade every photo of a set (movement key -> file); ``healthy_side`` overrides the
    automatic choice. ``progress(fraction, text)`` is called before each photo."""
    photos = []
    order = [m.key for m in MOVEMENTS if m.key in files] + [k for k in files if k not in BY_KEY]
    for i, key in enumerate(order):
        if progress:
            progress(i / max(1, len(order)), f"grading {key.replace('_', ' ')}")
        photos.append(grade_medium(Path(files[key]), key, name=Path(files[key]).name))
    return assemble(photos, [m.key for m in missing(files)], healthy_side=healthy_side)


def assemble(photos: list[PhotoResult], missing_keys: list[str], *,
             healthy_side: str | None = None) -> SetResult:
    """The set of graded ``photos``: healthy side, eFACE items and the rest-photo warning from
    their measurements (:func:`grade_set`, and again after a hand correction of landmarks)."""
    by_movement = {p.movement: p.measurements for p in photos if p.ok}
    if healthy_side in ("left", "right"):
        side, reason = healthy_side, "set by the user"
    else:
        side, reason = choose_healthy_side(by_movement)
    if reason.endswith("one photo or video"):
        used = next((p for p in photos if p.ok and p.movement == "rest"),
                    next((p for p in photos if p.ok), None))
        reason = reason.replace("one photo or video", f"one {_kind(used)}")
        if used is not None and used.kind == "video":
            reason = reason.replace("one video", "one video (median over its frames)")
    items = eface.automatic_items(by_movement, side) if side else {}
    return SetResult(photos, side, reason, items, list(missing_keys), rest_expression(by_movement))


def set_regions(result: SetResult) -> dict[str, dict[str, float]]:
    """Movement -> region -> asymmetry x 100, for the photos that were measured."""
    return {p.movement: p.regions for p in result.photos if p.ok}


def summary(result: SetResult, scores: Mapping[str, float | None] | None = None) -> str:
    """One paragraph in words: the weaker side, the regions most affected, the movements that
    show it and the muscles they point at (paper 001's discussion), the eFACE total."""
    if not any(p.ok for p in result.photos):
        return "No photo could be measured, so there is nothing to summarise."
    weak = result.weaker_side
    single = _kind(next((p for p in result.photos if p.ok), None))
    if weak and result.side_reason.startswith("automatic: the lower lip"):
        head = (f"Weaker side, estimated from one {single}: the patient's **{weak}** "
                f"({result.side_reason}); a rest photo with movement photos decides it better.")
    elif weak:
        head = f"Weaker side: the patient's **{weak}** ({result.side_reason})."
    else:
        head = ""
    parts = [f"⚠️ **{result.rest_warning}**" if result.rest_warning else "", head]
    regions = set_regions(result)
    worst: dict[str, tuple[float, str]] = {}
    for key, values in regions.items():
        for region, value in values.items():
            if value is not None and value > worst.get(region, (-1.0, ""))[0]:
                worst[region] = (value, key)
    affected = sorted(((v, r, k) for r, (v, k) in worst.items() if v >= AFFECTED_PERCENT),
                      reverse=True)
    if affected:
        parts.append("Most asymmetric: " + ", ".join(
            f"{REGION_WORDS[r]} ({v:.0f} in "
            f"'{BY_KEY[k].instruction.lower() if k in BY_KEY else k}')"
            for v, r, k in affected[:3]) + " (regional asymmetry x 100, 0 = symmetric).")
    else:
        parts.append("No region is clearly asymmetric (every regional index under "
                     f"{AFFECTED_PERCENT:.0f}).")
    showing = []
    for key, (region, muscle) in WORKS.items():
        item = {"raise_brows": "brow_elevation", "close_eyes_gently": "gentle_eye_closure",
                "close_eyes_tightly": "full_eye_closure", "smile": "oral_commissure_smile"}.get(key)
        value = result.eface_items.get(item, {}).get("value") if item else None
        weak_item = value is not None and value < AFFECTED_ITEM
        if key in regions and ((regions[key].get(region) or 0) >= AFFECTED_PERCENT or weak_item):
            showing.append((key, muscle))
    if showing:
        muscles = list(dict.fromkeys(muscle for _, muscle in showing))
        parts.append("The weakness shows in " + ", ".join(
            f"'{BY_KEY[k].instruction.lower()}'" for k, _ in showing)
            + ", which points at the " + " and ".join(muscles)
            + " (per-movement reading as in paper 001's discussion).")
    if scores and scores.get("total") is not None:
        parts.append(f"eFACE-style total {scores['total']:.0f}/100 "
                     f"(static {_fmt(scores.get('static'))}, dynamic {_fmt(scores.get('dynamic'))}).")
    if result.missing:
        parts.append("Not photographed: " + ", ".join(
            BY_KEY[k].instruction.lower() if k in BY_KEY else k for k in result.missing) + ".")
    parts.append("Measurement-based decision support, not a diagnosis.")
    return " ".join(p for p in parts if p)


def _kind(photo: PhotoResult | None) -> str:
    """``photo`` or ``video``, in words."""
    return "video" if photo is not None and photo.kind == "video" else "photo"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"
