"""Is a hand over the face? MediaPipe Hands on the sampled frames of a video, on demand.

The face mesh is fitted through a hand as if it were skin: a hand over the mouth read as a
17 mm smile on the shared expression video. A frame is *covered* when a hand's 21 points span a
box that overlaps the face's box (its landmarks' extent) by :data:`COVER_FRACTION` of the face's
area or more (MediaPipe Hands, lite model, photo mode, up to two hands).

The hand model costs as much as the tracked face mesh, and a protocol video shows a hand over
the face rarely, so :class:`HandCheck` looks only at the frames it is asked about (the frames a
choice would use) and caches the answer; :func:`covered_run` then finds the whole stretch of a
hand over the face around a covered frame by checking every :data:`HAND_STEP`-th sample outwards
(a hand stays longer than that: 0.4 s at 8 samples a second), marking the samples between a
covered check and the first clear one covered too.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from fpgrade.face.detect import _native_stderr_silenced
from fpgrade.face.tracking import Track

COVER_FRACTION = 0.05
HAND_STEP = 3


def covers(hands_result, face: np.ndarray, width: int, height: int) -> bool:
    """Whether a hand's box overlaps the face's box by :data:`COVER_FRACTION` of its area."""
    (fx0, fy0), (fx1, fy1) = face.min(axis=0), face.max(axis=0)
    area = max((fx1 - fx0) * (fy1 - fy0), 1.0)
    for hand in hands_result.multi_hand_landmarks or ():
        xy = np.array([(p.x * width, p.y * height) for p in hand.landmark])
        (hx0, hy0), (hx1, hy1) = xy.min(axis=0), xy.max(axis=0)
        overlap = max(0.0, min(fx1, hx1) - max(fx0, hx0)) * max(0.0, min(fy1, hy1) - max(fy0, hy0))
        if overlap >= COVER_FRACTION * area:
            return True
    return False


class HandCheck:
    """``check(index)``: whether sample ``index`` of ``track`` has a hand over the face (read
    from the track's written frames; a frame without a face or without a file is not covered).
    Call :meth:`close` when done (or use it as a context manager)."""

    def __init__(self, track: Track) -> None:
        self.track = track
        self.answers: dict[int, bool] = {}
        self._graph = None
        self._lock = threading.Lock()

    def __call__(self, index: int) -> bool:
        with self._lock:
            if index not in self.answers:
                self.answers[index] = self._check(index)
            return self.answers[index]

    def _check(self, index: int) -> bool:
        track = self.track
        if not track.found[index] or not track.files:
            return False
        bgr = cv2.imread(track.files[index])
        if bgr is None:
            return False
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if self._graph is None:
            import mediapipe as mp

            with _native_stderr_silenced():  # MediaPipe logs as its graph starts
                self._graph = mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=2,
                                                       model_complexity=0,
                                                       min_detection_confidence=0.5)
                result = self._graph.process(rgb)
        else:
            result = self._graph.process(rgb)
        return covers(result, track.ibug68[index], rgb.shape[1], rgb.shape[0])

    def close(self) -> None:
        if self._graph is not None:
            self._graph.close()
            self._graph = None

    def __enter__(self) -> HandCheck:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def covered_run(check, index: int, count: int, step: int = HAND_STEP) -> range:
    """The samples around covered sample ``index`` (of ``count``) with the hand over the face:
    checked every ``step`` samples outwards until a clear one; the samples short of that clear
    check count as covered."""
    low = index
    while low - step >= 0 and check(low - step):
        low -= step
    high = index
    while high + step < count and check(high + step):
        high += step
    return range(max(0, low - step + 1), min(count, high + step))
