"""What a model plugin provides: a :class:`ModelCard`, its network, and how it trains.

Nothing here imports torch: the registry lists models without loading a deep-learning stack. A
model plugin module follows the same rule (``tests/test_startup.py`` checks the built-ins): its
``nn.Module`` classes live in a module of their own that ``build`` imports, and class methods that
need torch import it inside. A plugin that imports torch at module level still works; it only
makes every ``fpgrade`` command start slower.

A network's ``forward`` takes the tensors named by :attr:`GradingModel.input_keys`, in order, and
returns a dict with ``"logits"`` (batch x classes) and, where a model needs them, ``"features"``
(for paper 004's center loss) or ``"segmentation"`` (paper 002's first stage).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from fpgrade.augmentation import NO_AUGMENTATION, Augmentation

if TYPE_CHECKING:
    import torch

#: the ways an input array becomes a tensor (see :attr:`GradingModel.input_layouts`).
LAYOUTS = ("image", "sequence", "clip", "mask", "vector")
#: the optimisers and learning-rate schedules a card's ``recipe`` may name
#: (:mod:`fpgrade.training.recipes` builds them).
RECIPE_OPTIMIZERS = ("sgd", "rmsprop", "adam", "adamw")
RECIPE_SCHEDULES = ("poly", "step", "constant")


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
    :param media: what it grades: ``("image",)``, ``("video",)`` or both.
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
    media: tuple[str, ...] = ("image",)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recipe"] = dict(self.recipe)
        return data


class GradingModel(ABC):
    """Base class of every registered model.

    Subclasses set :attr:`card` and :attr:`input_keys` and implement :meth:`build`; the other
    hooks have defaults that fit a plain classifier trained with (class-weighted) cross entropy.
    """

    card: ClassVar[ModelCard]
    #: preprocessing results fed to ``forward``, in order (e.g. ``("face_299",)``).
    input_keys: ClassVar[tuple[str, ...]] = ()
    #: how each input array becomes a tensor, one of :data:`LAYOUTS`, for every input key:
    #: "image" (H,W,C -> C,H,W), "sequence" (T,H,W,C -> T,C,H,W), "clip" (T,H,W,C -> C,T,H,W),
    #: "mask" (H,W class indices), "vector" (a 1-d float vector, e.g. measurements).
    input_layouts: ClassVar[Mapping[str, str]] = {}
    #: the paper's training augmentation (the same random draw for every input of a sample).
    augmentation: ClassVar[Augmentation] = NO_AUGMENTATION
    #: for each "vector" input: the sign each entry takes when the face is mirrored (+1 for a
    #: symmetric quantity, -1 for a signed left-minus-right one). Required when ``augmentation``
    #: flips and the model has a vector input.
    mirror_signs: ClassVar[Mapping[str, Sequence[float]]] = {}

    @classmethod
    def pipeline_targets(cls, kind: str) -> tuple[str, ...]:
        """Preprocessing results to compute for a medium of ``kind`` ("image" or "video")."""
        return cls.input_keys

    @classmethod
    def samples(cls, results: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
        """Network inputs (arrays by :attr:`input_keys`) cut from one medium's preprocessing
        results: one sample by default, several where a video yields several clips."""
        return [{key: results[key] for key in cls.input_keys}]

    @classmethod
    @abstractmethod
    def build(cls, scale: str | None = None, *, num_classes: int | None = None,
              backbone_weights: str | None = None, **options: Any) -> torch.nn.Module:
        """The network for ``scale`` (default: the card's first), random weights unless
        ``backbone_weights`` names a local file of pretrained backbone weights."""

    @classmethod
    def stages(cls) -> tuple[str, ...]:
        """Training stages in order (paper 002 has two); most models have one, ``"grade"``."""
        return ("grade",)

    @classmethod
    def loss(cls, network: torch.nn.Module, outputs: Mapping[str, torch.Tensor],
             batch: Mapping[str, torch.Tensor], class_weights: torch.Tensor | None,
             stage: str) -> torch.Tensor:
        """The training loss of one batch (default: cross entropy, class-weighted if given)."""
        import torch.nn.functional as F

        return F.cross_entropy(outputs["logits"], batch["label"], weight=class_weights)

    @classmethod
    def prepare_stage(cls, network: torch.nn.Module, stage: str) -> None:
        """Freeze or unfreeze parameters for ``stage`` (default: the network's own choice)."""

    @classmethod
    def before_step(cls, network: torch.nn.Module, stage: str) -> None:
        """Called between ``backward`` and the optimisers' ``step`` (gradient surgery)."""

    @classmethod
    def optimisers(cls, network: torch.nn.Module, stage: str, epochs: int,
                   recipe: Mapping[str, Any]) -> tuple[list[torch.optim.Optimizer], Any]:
        """Optimisers and a per-epoch LR scheduler for ``stage``.

        :param recipe: the card's recipe with the user's overrides applied (``--lr``): read the
            learning rate from here, not from ``cls.card.recipe``.
        """
        from fpgrade.training.recipes import optimisers_from_recipe

        return optimisers_from_recipe(recipe, network, epochs)
