"""The grading-scale data model: plain data, no torch.

A :class:`GradingScale` is an ordered tuple of :class:`Level` s. A level of a side-aware scale knows
its side, so a horizontally flipped photo can have its label mirrored with :meth:`GradingScale.flip`
(a flip swaps the patient's left and right: ``L2`` becomes ``R2``). Conversions between scales are
only those the papers define (:mod:`fpgrade.conversions`); the scale carries the mapping tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from fpgrade.errors import UnknownLabelError


class Side(str, Enum):
    """The patient's side (not the viewer's): the side of the face that is affected."""

    LEFT = "left"
    RIGHT = "right"

    def flipped(self) -> Side:
        return Side.RIGHT if self is Side.LEFT else Side.LEFT


@dataclass(frozen=True)
class Level:
    """One level of a scale.

    :param code: the label as annotators write it (``"III"``, ``"L2"``, ``"normal"``).
    :param name: a short name (``"Moderate dysfunction"``).
    :param description: what a clinician sees at this level.
    :param side: the affected side where the scale is side-aware, else ``None``.
    :param normal: ``True`` for the level meaning "no palsy", ``False`` for a palsy level, ``None``
        where the scale is not about palsy at all (mouth motion), so palsy-vs-normal is undefined.
    :param severity: a 0-based severity rank within a side (0 normal) where the scale has one.
    :param details: extra descriptions by aspect (House-Brackmann: gross, at rest, motion).
    :param aliases: other spellings accepted on input (``"3"`` for ``"III"``); never written out.
    """

    code: str
    name: str
    description: str = ""
    side: Side | None = None
    normal: bool | None = None
    severity: int | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "side": self.side.value if self.side else None,
            "normal": self.normal,
            "severity": self.severity,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class GradingScale:
    """An ordered set of levels that a model predicts and an annotator labels with.

    :param id: registry id, e.g. ``house_brackmann``.
    :param name: human name.
    :param source: the paper(s) and table the levels come from.
    :param levels: the levels, in order (index = class index of a network's output).
    :param ordinal: whether the order means "worse" (enables weighted kappa, grade error).
    :param conversions: target scale id -> {source code: target code}, only as a paper defines it.
    :param severity_names: names of ``Level.severity`` values where the scale has a severity axis.
    """

    id: str
    name: str
    source: str
    levels: tuple[Level, ...]
    ordinal: bool = False
    description: str = ""
    conversions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    severity_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        codes = [level.code for level in self.levels]
        if len(set(codes)) != len(codes):
            raise ValueError(f"scale {self.id!r} repeats a level code: {codes}")
        lookup: dict[str, Level] = {}
        for level in self.levels:
            for spelling in (level.code, *level.aliases):
                key = spelling.casefold()
                if key in lookup and lookup[key] is not level:
                    raise ValueError(f"scale {self.id!r}: {spelling!r} names two levels")
                lookup[key] = level
        object.__setattr__(self, "_lookup", MappingProxyType(lookup))
        object.__setattr__(self, "conversions", MappingProxyType(dict(self.conversions)))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(level.code for level in self.levels)

    @property
    def side_aware(self) -> bool:
        return any(level.side is not None for level in self.levels)

    def __len__(self) -> int:
        return len(self.levels)

    def level(self, label: str | Level) -> Level:
        """The level a label names (its code or an alias, case-insensitive).

        :raises UnknownLabelError: naming the label, the scale and the valid codes.
        """
        if isinstance(label, Level):
            label = label.code
        found = self._lookup.get(str(label).strip().casefold())  # type: ignore[attr-defined]
        if found is None:
            raise UnknownLabelError(
                f"label {label!r} is not in scale {self.id!r} (valid: {', '.join(self.codes)})"
            )
        return found

    def normalise(self, label: str) -> str:
        """The canonical code of a label given in any accepted spelling."""
        return self.level(label).code

    def index(self, label: str) -> int:
        """The class index of a label (its position in :attr:`levels`)."""
        return self.levels.index(self.level(label))

    def flip(self, label: str) -> str:
        """The label of the horizontally mirrored face: a left level becomes its right twin.

        Levels without a side (normal, or any level of a scale that is not side-aware) are returned
        unchanged.
        """
        level = self.level(label)
        if level.side is None:
            return level.code
        for twin in self.levels:
            if twin.side is level.side.flipped() and twin.severity == level.severity:
                return twin.code
        raise ValueError(f"scale {self.id!r} has no mirror level for {level.code!r}")

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "ordinal": self.ordinal,
            "side_aware": self.side_aware,
            "description": self.description,
            "levels": [level.as_dict() for level in self.levels],
            "converts_to": sorted(self.conversions),
        }
