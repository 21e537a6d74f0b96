"""How often a shut eye reads open (no ``eye_closed``), and an open eye shut, on real eyes.

Labels were set by looking at every frame (issue 18): in the shared video
WolfgangLanger_Pexels.mp4 both eyes are shut in frames 16-139 (from 95 on a hand rests beside the
subject's right eye), 386-387, 426-431 and 439-471; only the left in 153, 248 and 288; open in the
other frames 141-424 but for the half-shut 154 and 202. Frames 0-15, 140, 425 and 432-438 are
half shut and left out. Winks (:func:`tests.media_factory.wink`) put one shut eye of a shut frame
into an open-eyed frame. The example set's close_eyes_gently and wrinkle_nose are shut; its other
photos and the shared photos open.

Run ``python -m bench.shut_eyes`` (about a minute on one core); it prints one line per group.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "tests" / "media" / "faces"
VIDEO = "WolfgangLanger_Pexels.mp4"
WINK_OPEN = (200, 300)
WINK_SHUT = (452, 446, 22, 96, 121, 60, 430, 386)
SHUT_PHOTOS = ("close_eyes_gently", "wrinkle_nose")
PHOTOS = ("single_face.jpg", "0-f1-su-ph.jpg", "45-m7-di-ph.jpg")


def video_labels(index: int) -> tuple[str, str] | None:
    """(right, left) eye of frame ``index``: ``"shut"`` or ``"open"``; ``None``: left out."""
    if 16 <= index <= 139 or index in (386, 387) or 426 <= index <= 431 or 439 <= index <= 471:
        return "shut", "shut"
    if index in (153, 248, 288):
        return "open", "shut"
    if 141 <= index <= 424 and index not in (154, 202):
        return "open", "open"
    return None


def group(kind: str, index: int | None = None) -> str:
    if kind == "video":
        return "video, shut 16-139" if index is not None and index < 140 else "video blinks"
    return kind


def labelled(shared: Path = SHARED, every: int = 1) -> Iterator[tuple[str, str, np.ndarray,
                                                                     tuple[str, str]]]:
    """``(group, name, rgb, (right, left))`` for every labelled face (``every``: video stride)."""
    from fpgrade.imageio import load_image
    from fpgrade.video import read_frames
    from tests.media_factory import wink

    kept = {}
    for index, frame in read_frames(shared / VIDEO):
        if index in (*WINK_OPEN, *WINK_SHUT):
            kept[index] = frame
        labels = video_labels(index)
        if labels is not None and index % every == 0:
            yield group("video", index), f"frame {index}", frame, labels
    for open_index in WINK_OPEN:
        for shut_index in WINK_SHUT:
            for side in ("right", "left"):
                labels = ("shut", "open") if side == "right" else ("open", "shut")
                yield "winks", f"wink {open_index}/{shut_index} {side}", wink(
                    kept[open_index], kept[shut_index], side), labels
    for path in sorted((ROOT / "ui" / "examples" / "set").glob("*.jpg")):
        state = "shut" if path.stem in SHUT_PHOTOS else "open"
        yield "photos", path.name, np.asarray(load_image(path)), (state, state)
    for name in PHOTOS:
        yield "photos", name, np.asarray(load_image(shared / name)), ("open", "open")


def rates(analyser=None, every: int = 1) -> dict[str, dict[str, int]]:
    """Per group: shut eyes, shut eyes read open (no ``eye_closed`` on MRD1), open eyes, open
    eyes read shut."""
    from fpgrade.errors import NoFaceFoundError
    from fpgrade.face.detect import FaceAnalyser
    from fpgrade.face.measure import measure_face

    analyser = analyser or FaceAnalyser()
    counts: dict[str, dict[str, int]] = {}
    for name, _, rgb, labels in labelled(every=every):
        try:
            result = measure_face(analyser.analyse(rgb))
        except NoFaceFoundError:
            continue
        row = counts.setdefault(name, {"shut": 0, "missed": 0, "open": 0, "false": 0})
        for side, state in zip(("right", "left"), labels):
            closed = "eye_closed" in result.flags("mrd1", side)
            row[state] += 1
            if state == "shut" and not closed:
                row["missed"] += 1
            if state == "open" and closed:
                row["false"] += 1
    return counts


def main() -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    for name, row in rates().items():
        print(f"{name:20s} shut read open {row['missed']}/{row['shut']}, "
              f"open read shut {row['false']}/{row['open']}")


if __name__ == "__main__":
    main()
