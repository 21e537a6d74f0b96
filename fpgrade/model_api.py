"""What a model plugin provides: a :class:`ModelCard` and a way to build its network.

Nothing here imports torch: the registry lists models without loading a deep-learning stack. A
model's :meth:`GradingModel.build` imports torch when a network is actually needed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class ModelCard:
    """What a reviewer needs to know about a model before trusting it.

    :param id: registry id (``phcnn_lstm``).
    :param name: human name.
    :param paper: the citation.
    :param scales: ids of the scales it can predict (the first is the default).
    :param preprocessors: ids of the preprocessors its input needs, in order.
    :param input_shape: one sample's shape, e.g. ``(3, 299, 299)`` or ``(3, 8, 112, 112)``.
    :param mean: per-channel normalisation mean.
    :param std: per-channel normalisation standard deviation.
    :param recipe: the paper's training recipe (optimiser, learning rate, epochs...).
    :param deviations: where this implementation departs from the paper, and why.
    :param weights_sha256: the hash of the trained weight file the card describes, once trained.
    """

    id: str
    name: str
    paper: str
    scales: tuple[str, ...]
    preprocessors: tuple[str, ...] = ()
    input_shape: tuple[int, ...] = ()
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    recipe: Mapping[str, Any] = field(default_factory=dict)
    deviations: tuple[str, ...] = ()
    weights_sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recipe"] = dict(self.recipe)
        return data


class GradingModel(ABC):
    """Base class of every registered model."""

    card: ClassVar[ModelCard]

    @classmethod
    @abstractmethod
    def build(cls, scale: str | None = None, **options: Any) -> torch.nn.Module:
        """Build the network for ``scale`` (default: the card's first scale), random weights."""
