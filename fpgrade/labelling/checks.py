"""The second check of paper 001 (section 2.3.3): asymmetry indices against per-class ranges.

For each movement and class, the ranges of the regional and angular asymmetry indices (RgAs,
AnAs of :mod:`fpgrade.face.measure`) are learnt from the media whose blind passes agreed on that
class. A medium agrees when each of its indices lies inside the ranges of its agreed label.

Choices (the paper gives no more detail):

- the ranges of a medium are learnt from the *other* agreed media (leave-one-out): a range that
  contains the medium itself would always agree. So the most extreme medium at each end of a
  class's range goes to adjudication (about 2 in n for a class of n media);
- a range is ``[min, max]`` by default, or the ``[p, 100 - p]`` percentiles with
  ``range_percentile = p`` (more robust to one odd photo);
- fewer than ``min_range_samples`` other media of the class and movement: the check is
  ``undecided`` and the medium goes to adjudication;
- RgAs and AnAs are unsigned, so they do not tell the side: L2 and R2 share their ranges' scale;
- a campaign with ``check_model_version`` uses that model's stored prediction instead (the
  asymmetry classifier's): agree when its label is the agreed label, undecided without one.

:func:`indices_of_file` is the one function that computes indices from a file (through the
landmark cache); tests and callers with indices at hand pass them directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpgrade.labelling.model import Outcome

INDICES = ("RgAs", "AnAs")
RANGES_VERSION = "ranges-v1"


@dataclass(frozen=True)
class Sample:
    """An agreed medium as a source of ranges."""

    media_id: int
    movement: str | None
    label: str
    indices: Mapping[str, float]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    ranges: dict[str, object]
    reason: str


def learn_range(values: Iterable[float], percentile: float = 0.0) -> list[float]:
    """``[low, high]`` of ``values``: min and max, or the ``percentile`` / ``100 - percentile``
    percentiles."""
    array = np.asarray(list(values), dtype=np.float64)
    if percentile <= 0:
        return [float(array.min()), float(array.max())]
    low, high = np.percentile(array, [percentile, 100 - percentile])
    return [float(low), float(high)]


def check_with_ranges(media_id: int, movement: str | None, label: str,
                      indices: Mapping[str, float] | None, samples: Iterable[Sample], *,
                      percentile: float = 0.0, min_samples: int = 3) -> Verdict:
    """The verdict on one medium, its ``indices`` against the ranges of ``label`` learnt from
    the other ``samples`` of the same movement (the ranges used are in the verdict)."""
    if indices is None or any(name not in indices for name in INDICES):
        return Verdict(Outcome.UNDECIDED, {}, "asymmetry indices could not be computed")
    peers = [s for s in samples
             if s.media_id != media_id and s.movement == movement and s.label == label]
    ranges: dict[str, object] = {"label": label, "movement": movement, "n": len(peers),
                                 "percentile": percentile}
    if len(peers) < min_samples:
        return Verdict(Outcome.UNDECIDED, ranges,
                       f"{len(peers)} other agreed media of {label} in movement {movement}, "
                       f"fewer than {min_samples}: no range learnt")
    outside = []
    for name in INDICES:
        low, high = learn_range((p.indices[name] for p in peers), percentile)
        ranges[name] = [low, high]
        if not low <= indices[name] <= high:
            outside.append(f"{name} {indices[name]:.3f} outside [{low:.3f}, {high:.3f}]")
    if outside:
        return Verdict(Outcome.DISAGREE, ranges, "; ".join(outside))
    return Verdict(Outcome.AGREE, ranges, f"inside the ranges of {label}")


def check_with_model(label: str, predicted: str | None, model_version: str) -> Verdict:
    """The verdict from a model's stored prediction (``None``: the model has not seen it)."""
    ranges: dict[str, object] = {"model_version": model_version, "predicted": predicted}
    if predicted is None:
        return Verdict(Outcome.UNDECIDED, ranges, f"no prediction of {model_version}")
    if predicted == label:
        return Verdict(Outcome.AGREE, ranges, f"{model_version} predicts {predicted}")
    return Verdict(Outcome.DISAGREE, ranges, f"{model_version} predicts {predicted}, not {label}")


def indices_of_file(path: Path, kind: str = "image") -> dict[str, float] | None:
    """RgAs and AnAs of the face in a photo (a video: the median over its frames with a face),
    through the landmark cache; ``None`` when no face is found or the file cannot be read."""
    from fpgrade.errors import FpgradeError
    from fpgrade.face.analysis import analyse_photo, analyse_video
    from fpgrade.face.measure import measure

    def of(landmarks) -> dict[str, float]:
        found = measure(landmarks.ibug68, landmarks.iris_right, landmarks.iris_left).asymmetry
        return {name: float(found[name]) for name in INDICES}

    try:
        if kind == "video":
            frames = [of(lm) for lm in analyse_video(Path(path)).landmarks]
            return {name: float(np.median([f[name] for f in frames])) for name in INDICES}
        _, landmarks = analyse_photo(Path(path))
        return of(landmarks)
    except (FpgradeError, ValueError, OSError):
        return None
