"""A scale as a Label Studio labelling config, and Label Studio results back as a scale's level.

Plain scales get one ``Choices`` tag ``grade`` whose choices are the level codes, each with its
name and description as the hint. A side-aware scale (sided7) gets the severity as ``grade``
(``normal``, ``mild``...: the scale's ``severity_names``) and the side as its own ``side`` choice,
shown when a palsy severity is chosen; the pair is turned back into the level (``L2``). The task
shows the movement (``$movement``) above the photo or video.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from fpgrade.errors import FpgradeError, UnknownLabelError
from fpgrade.scales import GradingScale, Side

GRADE, SIDE = "grade", "side"
OBJECT = {"image": ("Image", "image"), "video": ("Video", "video")}


class LabelConfigError(FpgradeError):
    """A scale or a set of media that cannot be shown in one Label Studio project."""


def _sided(scale: GradingScale) -> bool:
    return bool(scale.side_aware and scale.severity_names)


def _severity_hint(scale: GradingScale, severity: int) -> str:
    levels = [lv for lv in scale.levels if lv.severity == severity]
    return "; ".join(f"{lv.code}: {lv.description or lv.name}" for lv in levels)


def labelling_config(scale: GradingScale, kind: str) -> str:
    """The XML config of a project grading ``kind`` media (``image`` or ``video``) on ``scale``."""
    if kind not in OBJECT:
        raise LabelConfigError(f"Label Studio push: media kind {kind!r} is not image or video")
    tag, name = OBJECT[kind]
    lines = ["<View>", '  <Header value="Movement: $movement"/>',
             f'  <{tag} name="{name}" value="${name}"/>',
             f'  <Header value={quoteattr(scale.name + " (" + scale.id + ")")}/>',
             f'  <Choices name="{GRADE}" toName="{name}" choice="single-radio" required="true">']
    if _sided(scale):
        for severity, label in enumerate(scale.severity_names):
            lines.append(f"    <Choice value={quoteattr(label)} "
                         f"hint={quoteattr(_severity_hint(scale, severity))}/>")
        lines.append("  </Choices>")
        palsy = ",".join(scale.severity_names[1:])
        lines += [f'  <View visibleWhen="choice-selected" whenTagName="{GRADE}" '
                  f"whenChoiceValue={quoteattr(palsy)}>",
                  '    <Header value="Affected side (the patient\'s, not the viewer\'s)"/>',
                  f'    <Choices name="{SIDE}" toName="{name}" choice="single-radio">',
                  '      <Choice value="left"/>', '      <Choice value="right"/>',
                  "    </Choices>", "  </View>"]
    else:
        for level in scale.levels:
            hint = f"{level.name}: {level.description}" if level.description else level.name
            lines.append(f"    <Choice value={quoteattr(level.code)} hint={quoteattr(hint)}/>")
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines)


def result_of(scale: GradingScale, code: str, kind: str) -> list[dict]:
    """The Label Studio ``result`` list that selects level ``code`` (a pre-annotation)."""
    to_name = OBJECT[kind][1]
    level = scale.level(code)

    def choice(from_name: str, value: str) -> dict:
        return {"from_name": from_name, "to_name": to_name, "type": "choices",
                "value": {"choices": [value]}}

    if not _sided(scale):
        return [choice(GRADE, level.code)]
    out = [choice(GRADE, scale.severity_names[level.severity or 0])]
    if level.side is not None:
        out.append(choice(SIDE, level.side.value))
    return out


def level_of(scale: GradingScale, result: list[dict]) -> str:
    """The level code chosen in a Label Studio annotation ``result``.

    :raises UnknownLabelError: no grade chosen, or a choice that is not a level of the scale
        (or a palsy severity without its side), named in the message.
    """
    chosen: dict[str, list[str]] = {}
    for item in result or []:
        if isinstance(item, dict) and item.get("type") == "choices":
            chosen[item.get("from_name", "")] = list((item.get("value") or {}).get("choices") or [])
    grade = chosen.get(GRADE) or []
    if len(grade) != 1:
        raise UnknownLabelError(f"no single {GRADE!r} choice in the annotation of scale {scale.id}")
    if not _sided(scale):
        try:
            return scale.level(grade[0]).code
        except (KeyError, ValueError, FpgradeError):
            raise UnknownLabelError(f"choice {grade[0]!r} is not a level of {scale.id}") from None
    if grade[0] not in scale.severity_names:
        raise UnknownLabelError(f"choice {grade[0]!r} is not a severity of {scale.id}")
    severity = scale.severity_names.index(grade[0])
    sides = chosen.get(SIDE) or []
    side = Side(sides[0]) if len(sides) == 1 and sides[0] in ("left", "right") else None
    for level in scale.levels:
        if level.severity == severity and (severity == 0 or level.side == side):
            return level.code
    raise UnknownLabelError(f"choice {grade[0]!r} with side {sides or 'none'} is not a level of {scale.id}")
