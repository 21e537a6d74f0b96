"""A video of the standard protocol: the frame of maximal effort of each movement, or why none.

Clinics film the protocol of :mod:`fpgrade.clinic.movements` as one video (rest, raise the brows,
close the eyes gently and tightly, wrinkle the nose, smile, pucker). :func:`find_movements` reads
the landmarks over time (:func:`fpgrade.face.tracking.track_video`, at most 10 frames a second),
turns them into distances in units of the inter-pupil distance
(:mod:`fpgrade.clinic.protocol_features`), smooths each over three sampled frames (a running
median: a blink, a tenth of a second, is not an eye closure), and chooses:

1. **Rest** (eFACE's static photo; paper 001's MV0): the most neutral frame, the one whose
   *expression distance* is smallest: the sum of the distances' deviations from neutral (eyebrow
   height, mouth width, nasal-wing height, lip depth: from their median over the video; each
   eye's aperture: from its 90th percentile, an open eye; the inner-lip gap: from 0, lips
   together). A rest frame with the lips apart or an eye less than half open is kept with a note
   (the video has no better one).
2. Each movement's frame is the peak of its distance's change from the rest frame, *found* only
   where the peak passes a stated margin (:data:`MARGINS`, in inter-pupil distances; about
   0.6 mm each hundredth for an adult); otherwise the movement is *not found*, with the peak
   that was reached, and no frame is made up:

   - **raise_brows** (frontalis; eFACE brow elevation): eyebrow height above the eye corners.
   - **close_eyes_gently / close_eyes_tightly** (orbicularis oculi): frames where an eye is
     closed (its aperture at most :data:`CLOSED_FRACTION` of that eye's aperture at rest; the
     eye that closes more, so a weak eye that cannot close does not hide the effort). Among them,
     *tight* is the one with the most squeeze (the lowest eyebrows) and *gentle* the one with
     the least (the highest). The squeeze is read from the eyebrows: at full effort the orbital
     part of orbicularis oculi draws the eyebrow down over the closed lids (its anatomical
     action); gentle closure uses the palpebral part, which moves the lids alone. The eFACE
     protocol (Banks et al. 2015, the set of :mod:`fpgrade.clinic.movements`) asks for both
     photos but states no landmark rule: this rule and its margin are ours. Both are found when
     the closed frames' eyebrows differ by at least the tight margin; a video with one kind of
     closure only has the tight one when its eyebrows are the margin below rest, else the
     gentle one, and the other is not found. Eyebrows raised count only with both eyes at
     least half as open as at rest.
   - **wrinkle_nose** (levator labii superioris alaeque nasi; paper 001's MV5, region NAs): the
     rise of the nasal wings and upper lip towards the eye-corner line, among frames whose mouth
     is no wider than at rest by half the smile margin (a smile lifts the upper lip too).
   - **smile** (zygomaticus major and risorius; paper 001's MV4, eFACE oral commissure with
     smile): mouth width, corner to corner.
   - **pucker** (orbicularis oris; paper 001's MV6): the narrowing of the mouth, among frames
     whose lips are not further back than at rest (lip depth, the protrusion proxy) and not open
     more than :data:`PUCKER_LIPS_APART` (an open "o" of speech is not a pucker).

Sources of the movements and what each works: paper 001 (Table 2: MV0-MV6 and their muscles;
its regional asymmetry reads the eyebrow, eye, nose and mouth regions used here), the eFACE photo
set (Banks et al. 2015, as in :mod:`fpgrade.clinic.movements`) and Sunnybrook's voluntary
movements (Ross et al. 1996: brow lift, gentle eye closure, open-mouth smile, snarl, lip
pucker). None of them gives a rule for finding the frames in a video: the distances, the margins
and the neutral-frame rule are ours, stated here and on the page.

Limits: distances are measured in the picture, so a face turned away reads narrower (a turned
smile is under-read, never made up), and a face that never returns to rest gets the most neutral
frame it has, with a note.

Frames with a hand over the face take no part in any choice: the mesh is fitted through a hand
as if it were skin. The hand check (:mod:`fpgrade.face.hands`) looks at the chosen frames and,
where one is covered, at the stretch around it; then the frames are chosen again without it.
The clinician may still pick such a frame.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fpgrade.clinic.movements import BY_KEY, MOVEMENTS
from fpgrade.clinic.protocol_features import features

if TYPE_CHECKING:  # OpenCV and MediaPipe load when a video is read, not with the page
    from fpgrade.face.tracking import Track

# Margins over the rest frame, in inter-pupil distances (x 62 mm ~ mm in an adult).
MARGINS = {"raise_brows": 0.03, "close_eyes_tightly": 0.03, "wrinkle_nose": 0.04,
           "smile": 0.08, "pucker": 0.06}
CLOSED_FRACTION = 0.25  # an eye at most this fraction of its rest aperture is closed
OPEN_FRACTION = 0.5  # eyebrows raised count where both eyes are at least this open
PUCKER_LIPS_APART = 0.08  # inner-lip gap (inter-pupil distances) above which it is no pucker
REST_LIPS_APART = 0.04  # a rest frame with the lips further apart than this gets a note
SMOOTH = 3  # sampled frames in the running median
MM_PER_IPD = 62.0  # an adult's mean inter-pupil distance, to state margins in words only


@dataclass(frozen=True)
class Choice:
    """What was chosen for one movement: ``index`` into the track's samples (``None`` when not
    found), the peak change from rest, the margin, and the reason in words."""

    movement: str
    found: bool
    index: int | None
    frame: int | None
    seconds: float | None
    value: float | None
    margin: float | None
    reason: str
    picked_by: str = "automatic"

    @property
    def instruction(self) -> str:
        return BY_KEY[self.movement].instruction


@dataclass
class Protocol:
    """The track, its features and the choice for every movement of the set (set order)."""

    track: Track
    features: dict[str, np.ndarray]
    choices: dict[str, Choice] = field(default_factory=dict)
    covered: np.ndarray | None = None  # samples found with a hand over the face

    @property
    def found(self) -> dict[str, Choice]:
        return {k: c for k, c in self.choices.items() if c.found}

    def pick(self, movement: str, seconds: float) -> Choice:
        """The clinician's frame for ``movement``: the sampled frame nearest ``seconds``
        (a frame without a face cannot be picked: the nearest with one is taken)."""
        if movement not in BY_KEY:
            raise KeyError(f"unknown movement {movement!r} (valid: {', '.join(BY_KEY)})")
        times = np.where(self.track.found, self.track.times, np.inf)
        index = int(np.argmin(np.abs(times - float(seconds))))
        choice = Choice(movement, True, index, int(self.track.frames[index]),
                        float(self.track.times[index]), None, None,
                        "picked by the clinician", picked_by="clinician")
        self.choices[movement] = choice
        return choice

    def frame_file(self, movement: str) -> str | None:
        choice = self.choices.get(movement)
        if choice is None or not choice.found or not self.track.files:
            return None
        return self.track.files[choice.index]

    def set_files(self) -> dict[str, str]:
        """Movement key -> frame file of every found movement (the photo set to grade)."""
        return {k: f for k in self.choices if (f := self.frame_file(k))}


def smoothed(values: np.ndarray, width: int = SMOOTH) -> np.ndarray:
    """Running median over ``width`` samples, ignoring NaN (frames without a face)."""
    half = width // 2
    padded = np.pad(values, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    with _quiet():
        out = np.nanmedian(windows, axis=1)
    out[np.isnan(values)] = np.nan
    return out


@contextmanager
def _quiet():
    """No "All-NaN slice" warnings: a window of frames without a face gives NaN, as meant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _mm(value: float) -> str:
    return f"{value:.3f} inter-pupil distances (about {value * MM_PER_IPD:.1f} mm)"


def rest_choice(track: Track, f: dict[str, np.ndarray]) -> Choice:
    """The most neutral frame (see the module's docstring, step 1)."""
    with _quiet():
        refs = {k: np.nanmedian(f[k]) for k in ("brow", "mouth_width", "ala", "lip_depth")}
        refs.update({k: np.nanpercentile(f[k], 90) for k in ("aperture_right", "aperture_left")})
    distance = sum(np.abs(f[k] - ref) for k, ref in refs.items())
    distance = distance + np.clip(f["lips_apart"], 0, None)
    distance = np.where(np.isnan(distance), np.inf, distance)
    index = int(np.argmin(distance))
    notes = []
    if f["lips_apart"][index] > REST_LIPS_APART:
        notes.append(f"the lips are apart by {_mm(float(f['lips_apart'][index]))}")
    for side in ("right", "left"):
        key = f"aperture_{side}"
        if f[key][index] < 0.5 * refs[key]:
            notes.append(f"the {side} eye is less than half open")
    reason = (f"the most neutral frame (expression distance {float(distance[index]):.3f} "
              "inter-pupil distances from the video's neutral values)")
    if notes:
        reason += "; no frame of the video is fully at rest: " + " and ".join(notes)
    return Choice("rest", True, index, int(track.frames[index]), float(track.times[index]),
                  float(distance[index]), None, reason)


def _peak(track: Track, movement: str, score: np.ndarray, margin: float, what: str,
          candidates: np.ndarray | None = None, none_reason: str = "") -> Choice:
    """The frame where ``score`` (change from rest) peaks, if it passes ``margin``."""
    allowed = ~np.isnan(score) if candidates is None else (~np.isnan(score) & candidates)
    if not allowed.any():
        return Choice(movement, False, None, None, None, None, margin,
                      none_reason or f"no frame to measure {what} in")
    index = int(np.argmax(np.where(allowed, score, -np.inf)))
    peak = float(score[index])
    if peak < margin:
        return Choice(movement, False, None, None, None, peak, margin,
                      f"no peak above the rest frame: {what} reaches at most {_mm(peak)}, under "
                      f"the margin of {_mm(margin)}")
    return Choice(movement, True, index, int(track.frames[index]), float(track.times[index]),
                  peak, margin, f"peak of {what}: {_mm(peak)} beyond rest (margin {_mm(margin)})")


def choose(track: Track, hands: Callable[[int], bool] | None = None) -> Protocol:
    """The rest frame and the peak of every movement (see the module's docstring).

    ``hands(index)`` says whether a sample has a hand over the face
    (:class:`fpgrade.face.hands.HandCheck`): every chosen frame is checked; where one is
    covered, the whole stretch of the hand (:func:`fpgrade.face.hands.covered_run`) leaves the
    choice and the frames are chosen again, until no chosen frame is covered.
    """
    covered = track.covered.copy()
    while True:
        protocol = _choose(track, covered)
        if hands is None:
            return protocol
        hits = [c.index for c in protocol.choices.values() if c.found and hands(c.index)]
        if not hits:
            return protocol
        from fpgrade.face.hands import covered_run

        for index in hits:
            covered[list(covered_run(hands, index, len(covered)))] = True


def _choose(track: Track, covered: np.ndarray) -> Protocol:
    """One choice of every movement with the ``covered`` samples left out."""
    raw = features(track)
    usable = track.found & ~covered
    f = {k: smoothed(np.where(usable, v, np.nan)) for k, v in raw.items()}
    if not usable.any():
        why = ("every frame that shows a face has a hand over it" if track.found.any()
               else "no frame shows a face")
        return Protocol(track, raw, {m.key: Choice(m.key, False, None, None, None, None, None, why)
                                     for m in MOVEMENTS}, covered)
    rest = rest_choice(track, f)
    r = {k: float(v[rest.index]) for k, v in f.items()}
    choices = {"rest": rest}
    with np.errstate(all="ignore"):
        closure = np.fmin(f["aperture_right"] / max(r["aperture_right"], 1e-6),
                          f["aperture_left"] / max(r["aperture_left"], 1e-6))
    closed = closure <= CLOSED_FRACTION
    choices["raise_brows"] = _peak(track, "raise_brows", f["brow"] - r["brow"],
                                   MARGINS["raise_brows"], "the eyebrows' rise with the eyes open",
                                   _open(f, r))
    choices.update(_closures(track, f["brow"], r["brow"], closed))
    narrow_mouth = f["mouth_width"] - r["mouth_width"] <= MARGINS["smile"] / 2
    choices["wrinkle_nose"] = _peak(track, "wrinkle_nose", r["ala"] - f["ala"],
                                    MARGINS["wrinkle_nose"],
                                    "the nasal wings' and upper lip's rise", narrow_mouth)
    choices["smile"] = _peak(track, "smile", f["mouth_width"] - r["mouth_width"],
                             MARGINS["smile"], "the mouth's widening")
    pursed = (f["lip_depth"] >= r["lip_depth"]) & (f["lips_apart"] <= PUCKER_LIPS_APART)
    choices["pucker"] = _peak(track, "pucker", r["mouth_width"] - f["mouth_width"],
                              MARGINS["pucker"], "the mouth's narrowing with the lips forward",
                              pursed, "no frame with the lips forward of rest and together")
    return Protocol(track, raw, {m.key: choices[m.key] for m in MOVEMENTS}, covered)


def _open(f: dict[str, np.ndarray], r: dict[str, float]) -> np.ndarray:
    """Frames where both eyes are at least :data:`OPEN_FRACTION` of their opening at rest (a
    look down lowers the upper lids, and the eyebrows of a closed eye are not a brow raise)."""
    with np.errstate(all="ignore"):
        return ((f["aperture_right"] >= OPEN_FRACTION * r["aperture_right"])
                & (f["aperture_left"] >= OPEN_FRACTION * r["aperture_left"]))


def _closures(track: Track, brow: np.ndarray, rest_brow: float, closed: np.ndarray
              ) -> dict[str, Choice]:
    """Gentle and tight eye closure among the ``closed`` frames (module docstring): tight is the
    closed frame with the lowest eyebrows, gentle the one with the highest. Both are found when
    their eyebrows differ by the tight margin; otherwise the one kind of closure the video shows
    is the tight one if its eyebrows are the margin below rest, else the gentle one."""
    margin = MARGINS["close_eyes_tightly"]
    usable = closed & ~np.isnan(brow)
    if not usable.any():
        why = (f"no frame with an eye closed to {CLOSED_FRACTION:.0%} of its opening at rest "
               "or less")
        return {k: Choice(k, False, None, None, None, None, margin, why)
                for k in ("close_eyes_gently", "close_eyes_tightly")}
    low = int(np.argmax(np.where(usable, -brow, -np.inf)))
    high = int(np.argmax(np.where(usable, brow, -np.inf)))
    spread = float(brow[high] - brow[low])
    below_rest = float(rest_brow - brow[low])

    def at(key: str, index: int, reason: str, value: float) -> Choice:
        return Choice(key, True, index, int(track.frames[index]),
                      float(track.times[index]), value, margin, reason)

    if spread >= margin:
        text = (f"of the frames with the eyes closed, the eyebrows are {_mm(spread)} lower in the "
                f"tightest than in the gentlest (margin {_mm(margin)})")
        return {"close_eyes_gently": at("close_eyes_gently", high, "eyes closed, eyebrows "
                                        "highest: " + text, spread),
                "close_eyes_tightly": at("close_eyes_tightly", low, "eyes closed, eyebrows "
                                         "lowest (orbicularis squeeze): " + text, spread)}
    one = (f"the frames with the eyes closed differ by {_mm(spread)} in eyebrow height, under "
           f"the margin of {_mm(margin)}: one kind of closure only")
    if below_rest >= margin:
        return {"close_eyes_gently": Choice("close_eyes_gently", False, None, None, None,
                                            spread, margin, f"every closed frame squeezes "
                                            f"(eyebrows {_mm(below_rest)} below rest); " + one),
                "close_eyes_tightly": at("close_eyes_tightly", low, f"eyes closed, eyebrows "
                                         f"{_mm(below_rest)} below rest", below_rest)}
    return {"close_eyes_gently": at("close_eyes_gently", high, "eyes closed without squeeze",
                                    below_rest),
            "close_eyes_tightly": Choice("close_eyes_tightly", False, None, None, None,
                                         below_rest, margin, "no peak above the rest frame: "
                                         f"the eyebrows come at most {_mm(max(below_rest, 0))} "
                                         f"below rest over closed eyes; " + one)}


def find_movements(path: Path, *, folder: Path | None = None,
                   progress: Callable[[int, int], None] | None = None) -> Protocol:
    """Track ``path`` and choose every movement, hands over the face checked on the chosen
    frames. The sampled frames stay in ``folder`` when given (else a temporary folder, removed
    after the choice: the protocol then has no frame files)."""
    import dataclasses
    import tempfile

    from fpgrade.face.hands import HandCheck
    from fpgrade.face.tracking import track_video

    if folder is None:
        with tempfile.TemporaryDirectory(prefix="fpgrade-protocol-") as tmp:
            protocol = find_movements(path, folder=Path(tmp), progress=progress)
        protocol.track = dataclasses.replace(protocol.track, files=())
        return protocol
    track = track_video(path, folder=folder, progress=progress)
    with HandCheck(track) as hands:
        return choose(track, hands)
