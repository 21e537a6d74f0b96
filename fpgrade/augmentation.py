"""How a model wants its training samples augmented: plain data, declared by the model plugin.

The core offers the mechanism (:func:`fpgrade.face.augment.augment`: side-aware flips, rotation,
shift, scaling, colour jitter); which transforms a paper uses, and how strongly, is declared by the
plugin that implements the paper, as an :class:`Augmentation` on its model class. A third-party
model brings its own the same way. This module imports nothing heavy, so declaring one costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Augmentation:
    """Each transform is applied with its probability (0 = never).

    :param flip: horizontal flip; it also mirrors a side-aware label (``L2`` -> ``R2``) and, for a
        ``vector`` input, multiplies it by the model's ``mirror_signs``.
    :param rotate: rotation by up to ``max_degrees`` either way.
    :param shift: translation by up to ``max_shift`` of the width / height.
    :param scale: zoom by a factor drawn from ``scale_range``.
    :param colour: brightness, contrast and saturation each jittered by up to ``jitter``.
    """

    flip: float = 0.0
    rotate: float = 0.0
    shift: float = 0.0
    scale: float = 0.0
    colour: float = 0.0
    max_degrees: float = 10.0
    max_shift: float = 0.08
    scale_range: tuple[float, float] = (0.9, 1.1)
    jitter: float = 0.2

    def __post_init__(self) -> None:
        for name in ("flip", "rotate", "shift", "scale", "colour"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Augmentation.{name} is a probability, got {value}")

    @property
    def active(self) -> bool:
        """Whether any transform can happen."""
        return any((self.flip, self.rotate, self.shift, self.scale, self.colour))


NO_AUGMENTATION = Augmentation()
