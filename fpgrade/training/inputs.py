"""One medium to network inputs: the one path shared by training-data preparation and prediction.

:class:`InputMaker` probes a file (photo or video), plans the model's preprocessing pipeline for
that kind of medium once, runs it (landmarks come from the cache) and cuts the model's samples
from the results (one for a photo, one or several clips for a video). :func:`to_batch` turns
samples into the tensors ``forward`` takes. Training (:func:`fpgrade.training.data.prepare`) and
grading (:class:`fpgrade.training.predict.Predictor`) both go through here, so a photo is turned
into the same tensors for both.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fpgrade.errors import FpgradeError
from fpgrade.model_api import GradingModel
from fpgrade.registry import Registry

if TYPE_CHECKING:
    import torch

    from fpgrade.pipeline import Pipeline


class InputMaker:
    """Network inputs of ``model`` for any photo or video it grades.

    :param strict: several faces in a photo are an error (else the largest is used, with a
        :class:`~fpgrade.face.detect.MultipleFacesWarning`).
    :param quiet: silence the several-faces warning (training preparation reports failures, not
        warnings, record by record).
    """

    def __init__(self, registry: Registry, model: type[GradingModel], *, strict: bool = False,
                 quiet: bool = False) -> None:
        self.registry, self.model, self.strict, self.quiet = registry, model, strict, quiet
        self._pipelines: dict[str, Pipeline] = {}

    def pipeline(self, kind: str) -> Pipeline:
        """The model's pipeline for a medium of ``kind`` ("image" or "video"), planned once."""
        from fpgrade.pipeline import plan

        if kind not in self._pipelines:
            self._pipelines[kind] = plan(self.registry, self.model.pipeline_targets(kind),
                                         params={"face_landmarks": {"strict": self.strict}})
        return self._pipelines[kind]

    def kind_of(self, path: Path) -> str:
        """"image" or "video"; an error naming the file when the model does not grade that kind."""
        from fpgrade.media import probe

        kind = probe(Path(path)).kind.value
        media = self.model.card.media
        if kind not in media:
            raise FpgradeError(f"{path}: {self.model.card.id} grades {' or '.join(media)}s, "
                               f"not {kind}s")
        return kind

    def __call__(self, path: Path, movement: str | None = None) -> list[dict[str, np.ndarray]]:
        """The samples of one medium; an error naming the file when it yields none."""
        from fpgrade.face.detect import MultipleFacesWarning

        kind = self.kind_of(path)
        with warnings.catch_warnings():
            if self.quiet:
                warnings.simplefilter("ignore", MultipleFacesWarning)
            results = self.pipeline(kind)({"path": Path(path), "movement": movement})
        samples = self.model.samples(results, kind)
        if not samples:
            raise FpgradeError(f"{path}: too short for {self.model.card.id} (no complete clip)")
        return samples


def to_tensors(sample: Mapping[str, np.ndarray], model: type[GradingModel]) -> dict[str, torch.Tensor]:
    """One sample's arrays as tensors by the model's layouts and normalisation."""
    from fpgrade.training.tensors import to_tensor

    card = model.card
    return {key: to_tensor(array, model.input_layouts[key], card.mean, card.std)
            for key, array in sample.items()}


def to_batch(samples: Sequence[Mapping[str, np.ndarray]], model: type[GradingModel]) -> dict[str, Any]:
    """Samples stacked into one batch, keyed by the model's input keys."""
    import torch

    tensors = [to_tensors(sample, model) for sample in samples]
    return {key: torch.stack([t[key] for t in tensors]) for key in model.input_keys}
