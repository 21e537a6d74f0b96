"""Conversions between grading scales, limited to those the papers define.

Defined conversions:

- a scale's own table in :attr:`GradingScale.conversions` (House-Brackmann -> ``severity3``,
  paper 000 Table I: HB I -> I, HB II-IV -> II, HB V-VI -> III);
- any scale whose levels say whether they are normal -> ``palsy_binary`` (paper 003): a normal
  level maps to ``normal``, every other level to ``palsy``;
- a side-aware scale -> :data:`SIDE` (``left``, ``right`` or ``none``);
- a scale with a severity axis -> :data:`SEVERITY` (``sided7``: N -> normal, L1/R1 -> mild,
  L2/R2 -> moderate, L3/R3 -> severe; paper 001 Table 3).

Everything else, House-Brackmann -> ``sided7`` for instance (different standards, and HB carries no
side), raises :class:`~fpgrade.errors.UndefinedConversionError`: never a guess.
"""

from __future__ import annotations

from fpgrade.errors import UndefinedConversionError
from fpgrade.scales import GradingScale

SIDE = "side"
SEVERITY = "severity"
PALSY_BINARY = "palsy_binary"
NO_SIDE = "none"


def conversion_targets(source: GradingScale) -> tuple[str, ...]:
    """Every target :func:`convert` accepts for ``source``."""
    targets = set(source.conversions)
    if source.id != PALSY_BINARY and all(level.normal is not None for level in source.levels):
        targets.add(PALSY_BINARY)
    if source.side_aware:
        targets.add(SIDE)
    if source.severity_names:
        targets.add(SEVERITY)
    return tuple(sorted(targets))


def convert(label: str, source: GradingScale, target: str) -> str:
    """Convert ``label`` of scale ``source`` to scale (or axis) ``target``.

    :param label: a label of ``source``, any accepted spelling.
    :param source: the scale the label belongs to.
    :param target: a scale id, or :data:`SIDE` / :data:`SEVERITY`.
    :returns: the code in the target scale (or the side / severity name).
    :raises UnknownLabelError: the label is not in ``source``.
    :raises UndefinedConversionError: no paper defines this conversion.
    """
    level = source.level(label)
    if target == source.id:
        return level.code
    if target in source.conversions:
        return source.conversions[target][level.code]
    if target not in conversion_targets(source):
        raise UndefinedConversionError(
            f"no conversion from {source.id!r} to {target!r} is defined by the papers "
            f"(defined from {source.id!r}: {', '.join(conversion_targets(source)) or 'none'})"
        )
    if target == PALSY_BINARY:
        return "normal" if level.normal else "palsy"
    if target == SIDE:
        return level.side.value if level.side else NO_SIDE
    assert target == SEVERITY and level.severity is not None
    return source.severity_names[level.severity]
