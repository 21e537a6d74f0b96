"""The grading-scale data model: plain data, no torch.

A :class:`GradingScale` is an ordered tuple of :class:`Level` s. A level of a side-aware scale knows
its side, so a horizontally flipped photo can have its label mirrored with :meth:`GradingScale.flip`
(a flip swaps the patient's left and right: ``L2`` becomes ``R2``). Conversions between scales are
only those the papers define (:mod:`fpgrade.conversions`); the scale carries the mapping tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


# -- composite scales ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One item of a composite scale (a form field): its own range and, optionally, choices.

    :param id: the item's key (``"brow_rest"``).
    :param name: what the form shows (``"Brow at rest"``).
    :param group: the subscore it belongs to (``"static"``, ``"dynamic"``, ``"synkinesis"``...).
    :param minimum: the lowest value; :param maximum: the highest; :param step: the spacing.
    :param choices: value -> meaning, where the item is graded on named steps (Sunnybrook).
    :param automatic: whether fpgrade can fill it from the measurements (the clinician may edit).
    :param movement: the movement (photo of the standard set) the item is graded on, if any.
    :param description: how the item is graded.
    """

    id: str
    name: str
    group: str
    minimum: float
    maximum: float
    step: float = 1.0
    choices: tuple[tuple[float, str], ...] = ()
    automatic: bool = False
    movement: str | None = None
    description: str = ""

    def check(self, value: float) -> float:
        """``value`` as a float when it is within the range (and one of the choices, if any).

        :raises UnknownLabelError: naming the item, the value and the valid range or choices.
        """
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UnknownLabelError(f"item {self.id!r}: {value!r} is not a number") from None
        if self.choices and number not in {c for c, _ in self.choices}:
            valid = ", ".join(f"{c:g} ({text})" for c, text in self.choices)
            raise UnknownLabelError(f"item {self.id!r}: {value!r} is not one of {valid}")
        if not self.minimum <= number <= self.maximum:
            raise UnknownLabelError(f"item {self.id!r}: {value!r} is outside "
                                    f"{self.minimum:g}-{self.maximum:g}")
        return number

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "group": self.group, "minimum": self.minimum,
                "maximum": self.maximum, "step": self.step,
                "choices": [[c, text] for c, text in self.choices],
                "automatic": self.automatic, "movement": self.movement,
                "description": self.description}


@dataclass(frozen=True)
class CompositeScale:
    """A scale made of items, each with its own range, and a formula that combines them into
    scores (Sunnybrook: resting symmetry, voluntary movement, synkinesis, composite; eFACE:
    static, dynamic, synkinesis, total). Plain data plus a pure function: no torch.

    Where :class:`GradingScale` is what a network predicts (ordered levels), a composite scale is
    what a clinician fills in on a form. It is registered through the same ``register_scales``
    hook; the registry keeps it in ``Registry.composite_scales``.

    :param formula: ``values -> scores``; ``values`` maps item ids to numbers (an item left out
        is not graded), the result maps score names to numbers or ``None`` where the items needed
        are missing.
    :param scores: the names of the scores the formula returns, in display order, with a short
        description each.
    """

    id: str
    name: str
    source: str
    items: tuple[Item, ...]
    formula: Callable[[Mapping[str, float]], dict[str, float | None]]
    scores: tuple[tuple[str, str], ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"composite scale {self.id!r} repeats an item id: {ids}")

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise UnknownLabelError(f"item {item_id!r} is not in scale {self.id!r} "
                                f"(items: {', '.join(i.id for i in self.items)})")

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.group for item in self.items))

    def check(self, values: Mapping[str, float | None]) -> dict[str, float]:
        """The given values, checked against their items; ``None`` (not graded) is dropped.

        :raises UnknownLabelError: an unknown item or a value out of its range.
        """
        return {key: self.item(key).check(value) for key, value in values.items()
                if value is not None}

    def score(self, values: Mapping[str, float | None]) -> dict[str, float | None]:
        """Every score of the scale from the item values (checked first)."""
        return self.formula(self.check(values))

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "source": self.source, "composite": True,
                "description": self.description,
                "items": [item.as_dict() for item in self.items],
                "scores": [{"id": s, "description": d} for s, d in self.scores]}
