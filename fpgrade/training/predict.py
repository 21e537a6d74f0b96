"""Grading new photos and videos with trained weights. No side effects: nothing is stored."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fpgrade.errors import FpgradeError
from fpgrade.face.detect import MultipleFacesWarning
from fpgrade.media import probe
from fpgrade.models import weights as weight_files
from fpgrade.pipeline import plan
from fpgrade.registry import Registry
from fpgrade.training.tensors import to_tensor


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
        self.version = f"{self.weights_path.stem}-{loaded.sha256[:8]}"
        self._pipelines = {}

    def probabilities(self, path: Path, movement: str | None = None, strict: bool = False) -> np.ndarray:
        kind = probe(Path(path)).kind.value
        if kind not in self.model.card.media:
            raise FpgradeError(f"{path}: {self.model_id} grades "
                               f"{' or '.join(self.model.card.media)}s, not {kind}s")
        if kind not in self._pipelines:
            self._pipelines[kind] = plan(self.registry, self.model.pipeline_targets(kind),
                                         params={"face_landmarks": {"strict": strict}})
        with warnings.catch_warnings():
            warnings.simplefilter("default", MultipleFacesWarning)
            results = self._pipelines[kind]({"path": Path(path), "movement": movement})
        samples = self.model.samples(results, kind)
        if not samples:
            raise FpgradeError(f"{path}: too short for {self.model_id} (no complete clip)")
        card = self.model.card
        batch = {key: torch.stack([to_tensor(s[key], self.model.input_layouts.get(key, "image"),
                                             card.mean, card.std) for s in samples])
                 for key in self.model.input_keys}
        with torch.no_grad():
            logits = self.network(*(batch[key] for key in self.model.input_keys))["logits"]
        return torch.softmax(logits.float(), dim=1).mean(dim=0).numpy()

    def predict(self, path: Path, movement: str | None = None, strict: bool = False) -> dict:
        """``model``, ``model_version``, ``weights_sha256``, ``scale``, ``label``,
        ``probabilities`` (code -> p) and, for side-aware scales, ``side``."""
        from fpgrade.conversions import SIDE, convert

        p = self.probabilities(path, movement, strict)
        label = self.scale.codes[int(np.argmax(p))]
        result = {"path": str(path), "model": self.model_id, "model_version": self.version,
                  "weights_sha256": self.sha256, "scale": self.scale.id, "label": label,
                  "probabilities": {code: float(v) for code, v in zip(self.scale.codes, p)}}
        if self.scale.side_aware:
            result["side"] = convert(label, self.scale, SIDE)
        return result
