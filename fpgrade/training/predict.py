"""Grading new photos and videos with trained weights. No side effects: nothing is stored."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fpgrade.errors import FpgradeError
from fpgrade.models import weights as weight_files
from fpgrade.models.versions import version_name
from fpgrade.registry import Registry
from fpgrade.training.inputs import InputMaker, to_batch


def is_unsure(probabilities: np.ndarray) -> bool:
    """Whether the top class is too weak to report without comment: its probability is below
    halfway between chance (1/K) and certainty (1), e.g. below 0.57 for 7 classes, 0.75 for 2."""
    k = len(probabilities)
    return float(np.max(probabilities)) < (1.0 + 1.0 / k) / 2.0


@dataclass
class Predictor:
    """A trained network ready to grade: built from the weight file's card."""

    registry: Registry
    model_id: str
    weights_path: Path

    def __post_init__(self) -> None:
        self.model = self.registry.model(self.model_id)
        loaded = weight_files.load(self.weights_path, model_id=self.model_id)
        self.scale = self.registry.scale(loaded.card["scale"])
        if list(self.scale.codes) != list(loaded.card.get("codes", [])):
            raise FpgradeError(f"{self.weights_path}: its classes {loaded.card.get('codes')} are not "
                               f"those of scale {self.scale.id} ({list(self.scale.codes)})")
        options = dict(loaded.card.get("options") or {})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the backbone's random init is overwritten next
            self.network = self.model.build(self.scale.id, num_classes=len(self.scale), **options)
        weight_files.load_into(self.network, loaded)
        self.network.eval()
        self.sha256 = loaded.sha256
        self.card = loaded.card
        self.version = version_name(self.model_id, loaded.sha256)
        self._inputs = {strict: InputMaker(self.registry, self.model, strict=strict)
                        for strict in (False, True)}

    def probabilities(self, path: Path, movement: str | None = None, strict: bool = False) -> np.ndarray:
        """Class probabilities of one photo or video (the mean over a video's clips)."""
        batch = to_batch(self._inputs[strict](Path(path), movement), self.model)
        with torch.no_grad():
            logits = self.network(*(batch[key] for key in self.model.input_keys))["logits"]
        return torch.softmax(logits.float(), dim=1).mean(dim=0).numpy()

    def predict(self, path: Path, movement: str | None = None, strict: bool = False) -> dict:
        """``model``, ``model_version``, ``weights_sha256``, ``scale``, ``label``,
        ``probabilities`` (code -> p), ``unsure`` (:func:`is_unsure`), ``synthetic`` (the weights
        were trained on SYNTHETIC data: not clinical evidence) and, for side-aware scales,
        ``side``."""
        from fpgrade.conversions import SIDE, convert

        p = self.probabilities(path, movement, strict)
        label = self.scale.codes[int(np.argmax(p))]
        result = {"path": str(path), "model": self.model_id, "model_version": self.version,
                  "weights_sha256": self.sha256, "scale": self.scale.id, "label": label,
                  "probabilities": {code: float(v) for code, v in zip(self.scale.codes, p)},
                  "unsure": is_unsure(p), "synthetic": bool(self.card.get("synthetic", False))}
        if self.scale.side_aware:
            result["side"] = convert(label, self.scale, SIDE)
        return result
