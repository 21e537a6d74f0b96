"""The protocol video's handlers: plain functions (no gradio), tested without a browser.

A video of the whole protocol is read once (:func:`find`): the frame of maximal effort of each
movement is shown as a strip, with the movements not found and why. The clinician replaces a
movement's frame by another (:func:`replace`, a time in the video), then grades the frames as
the photo set (:func:`slot_files`: one file per slot of the set, in the set's order).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fpgrade.clinic.movements import BY_KEY, MOVEMENTS
from fpgrade.clinic.protocol_video import MARGINS, MM_PER_IPD, Protocol, find_movements
from fpgrade.errors import FpgradeError

Progress = Callable[[float, str], None]
RULE_WORDS = (
    "How the frames are chosen: the rest frame is the most neutral one (eyebrows, mouth and "
    "nose nearest their usual place, eyes open, lips together); every other movement is the "
    "frame where its distance moves furthest from rest (eyebrow height; eyelid opening, and "
    "for tight closure the eyebrows drawn down; nose and upper-lip lift; mouth width), counted "
    "only when it passes a margin over rest: "
    + ", ".join(f"{BY_KEY[k].instruction.lower()} {v * MM_PER_IPD:.1f} mm"
                for k, v in MARGINS.items())
    + f" (distances in units of the distance between the pupils, shown in mm for an adult's "
    f"{MM_PER_IPD:.0f} mm). Frames with a hand over the face are not used. Sources: paper 001's "
    "regions and movements; the eFACE photo set (Banks et al. 2015).")


@dataclass
class ProtocolSession:
    """One page's protocol video: its frames' folder and the choices (kept in ``gr.State``)."""

    name: str
    folder: str
    protocol: Protocol


@dataclass
class Strip:
    """What the page shows of a protocol video."""

    gallery: list[tuple[str, str]]
    notes: str
    session: ProtocolSession | None
    duration: float = 0.0
    step: float = 0.1


def caption(movement: str, seconds: float, frame: int, by_clinician: bool = False) -> str:
    """``"18.9 s: Smile showing the teeth"`` (the time first: a narrow strip cuts the end)."""
    return (f"{seconds:.1f} s: {BY_KEY[movement].instruction}"
            + (" (picked by the clinician)" if by_clinician else ""))


def _thumbnail(session: ProtocolSession, movement: str) -> str:
    """The chosen frame cropped to the face (a square of 1.4 x the landmarks' extent), for the
    strip: a whole 16:9 frame shrunk to a strip cell shows no face. The full frame is graded."""
    import cv2
    import numpy as np

    protocol = session.protocol
    choice, source = protocol.choices[movement], protocol.frame_file(movement)
    points = protocol.track.ibug68[choice.index]
    target = Path(session.folder) / f"face-{choice.frame:06d}.jpg"
    if target.is_file() or np.isnan(points).any():
        return str(target) if target.is_file() else source
    image = cv2.imread(source)
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    half = 0.7 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    height, width = image.shape[:2]
    left, top = int(max(0, cx - half)), int(max(0, cy - half))
    right, bottom = int(min(width, cx + half)), int(min(height, cy + half))
    cv2.imwrite(str(target), image[top:bottom, left:right])
    return str(target)


def _strip(session: ProtocolSession) -> Strip:
    protocol = session.protocol
    gallery, missing, found = [], [], []
    for key, choice in protocol.choices.items():
        if choice.found:
            gallery.append((_thumbnail(session, key),
                            caption(key, choice.seconds, choice.frame,
                                    choice.picked_by == "clinician")))
            found.append(f"- **{choice.instruction}**: {choice.seconds:.1f} s, frame "
                         f"{choice.frame}: {choice.reason}")
        else:
            missing.append(f"- **{choice.instruction}**: not found: {choice.reason}")
    track = protocol.track
    covered = int((track.found & protocol.covered).sum()) if protocol.covered is not None else 0
    head = (f"**{session.name}**: {len(track.frames)} frames read "
            f"({track.sample_fps:.1f} a second, every {track.stride} of {track.fps:.0f}), "
            f"{int(track.found.sum())} with a face"
            + (f", {covered} with a hand over the face (found around the frames first chosen; "
               "not used)" if covered else "")
            + f". {len(gallery)} of {len(MOVEMENTS)} movements found. Replace a frame with the "
            "slider below, then press **Grade these frames**.")
    parts = [head]
    if missing:
        parts.append("Not found (no frame is made up; film the movement, or pick a frame by "
                     "hand):\n" + "\n".join(missing))
    parts.append("Chosen frames:\n" + "\n".join(found) if found else "")
    parts.append(RULE_WORDS)
    duration = round(float(track.times[-1]), 1) if len(track.frames) else 0.0
    step = 1.0 / track.sample_fps if track.sample_fps else 1.0
    return Strip(gallery, "\n\n".join(p for p in parts if p), session, duration, step)


def find(video: str | None, progress: Progress | None = None) -> Strip:
    """Read ``video`` and choose a frame per movement; a bad file is one line, never raised."""
    if not video:
        return Strip([], "", None)
    name = Path(video).name
    folder = tempfile.mkdtemp(prefix="fpgrade-protocol-", dir=os.environ.get("GRADIO_TEMP_DIR"))

    def tick(read: int, expected: int) -> None:
        if progress is not None:
            progress(min(read / max(expected, 1), 0.99),
                     f"reading the video: frame {read} of about {expected}")

    try:
        protocol = find_movements(Path(video), folder=Path(folder), progress=tick)
    except FpgradeError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return Strip([], f"⚠️ {str(exc).replace(str(video), name)}", None)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the server
        shutil.rmtree(folder, ignore_errors=True)
        return Strip([], f"⚠️ {name}: could not be read as a video ({type(exc).__name__}: "
                         f"{exc})", None)
    return _strip(ProtocolSession(name, folder, protocol))


def preview(session: ProtocolSession | None, seconds: float | None) -> tuple[str | None, str]:
    """The sampled frame nearest ``seconds`` and its caption (for the replace slider)."""
    if session is None or seconds is None:
        return None, ""
    track = session.protocol.track
    index = int(abs(track.times - float(seconds)).argmin())
    face = "" if track.found[index] else " (no face found)"
    covered = session.protocol.covered
    hand = (" (a hand over the face)" if covered is not None and track.found[index]
            and covered[index] else "")
    return (track.files[index] if track.files else None,
            f"{track.times[index]:.1f} s (frame {int(track.frames[index])}){face}{hand}")


def replace(session: ProtocolSession | None, movement: str, seconds: float | None) -> Strip:
    """The strip with ``movement``'s frame replaced by the sampled frame nearest ``seconds``."""
    if session is None:
        return Strip([], "⚠️ Upload a protocol video first.", None)
    if movement not in BY_KEY or seconds is None:
        return _strip(session)
    session.protocol.pick(movement, float(seconds))
    return _strip(session)


def start_of(session: ProtocolSession | None, index: int) -> tuple[str | None, float | None]:
    """The movement and time of the strip's ``index``-th picture (a click on the strip)."""
    if session is None:
        return None, None
    found = [(k, c.seconds) for k, c in session.protocol.choices.items() if c.found]
    if not 0 <= index < len(found):
        return None, None
    return found[index][0], round(found[index][1], 2)


def slot_files(session: ProtocolSession | None) -> list[str | None]:
    """One file per movement of the set (``None`` where not found), each a copy named after
    its movement and time (``smile_18.9s_frame453.jpg``), so the graded set says where each
    photo came from."""
    if session is None:
        return [None] * len(MOVEMENTS)
    folder = Path(tempfile.mkdtemp(prefix="fpgrade-protocol-set-",
                                   dir=os.environ.get("GRADIO_TEMP_DIR")))
    out = []
    for m in MOVEMENTS:
        choice = session.protocol.choices.get(m.key)
        source = session.protocol.frame_file(m.key)
        if source is None:
            out.append(None)
            continue
        target = folder / f"{m.key}_{choice.seconds:.1f}s_frame{choice.frame}.jpg"
        out.append(str(shutil.copy(source, target)))
    return out
