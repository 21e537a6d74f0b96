"""The adjudication view's handlers (split from :mod:`.labelling_handlers`): the queue with
subject, movement in words and the disagreement, one case with both passes, the raters'
comments (escaped), the second check and the model's suggestion, and the decision. Plain
functions, no gradio; each checks the ``adjudicate`` permission on the server first."""

from __future__ import annotations

from dataclasses import dataclass

from fpgrade.labelling import workflow
from fpgrade.labelling.model import Action, LabellingError
from fpgrade.labelling.users import Account
from fpgrade.labelling.workflow import Suggestion
from fpgrade.storage import database
from fpgrade_ui.labelling_handlers import (
    _check, _media, _predicted, shown_copy, suggestion_markdown,
)
from fpgrade_ui.labelling_words import cannot_grade_words, movement_words, scale_levels
from fpgrade_ui.markdown_text import md


QUEUE_HEADERS = ["adjudication", "subject", "movement", "disagreement", "medium", "state"]


def _answer(p: workflow.PassView) -> str:
    said = p.label or f"cannot grade ({cannot_grade_words(p.cannot_grade)})"
    return f"{p.annotator}: {said}" + (" (comment)" if p.note else "")


def adjudication_queue(account: Account | None, campaign: int | str | None = None) -> list[list]:
    """Rows of the undecided adjudications (:data:`QUEUE_HEADERS`): adjudication id, subject
    code, movement in words, the disagreement (each blind pass's rater and label, "(comment)"
    where the rater left one), medium id, state. Plain text: the table shows it as it is."""
    with database.session() as session:
        me = _check(session, account, Action.ADJUDICATE)
        items = workflow.adjudication_queue(session, me, campaign or None)
    return [[i.assignment_id, i.subject, _movements(i), " / ".join(_answer(p) for p in i.passes),
             i.media_id, i.state] for i in items]


def _movements(item: workflow.QueueItem) -> str:
    """The movement in words; a visit of a per-subject campaign: "whole visit: " and each of
    its movements."""
    if not item.unit_movements:
        return movement_words(item.movement, markdown=False)
    return "whole visit: " + "; ".join(movement_words(m, markdown=False)
                                       for m in item.unit_movements)


@dataclass
class CaseView:
    case: workflow.AdjudicationCase
    title: str
    image: object | None
    video: str | None
    levels: list[tuple[str, str]]
    details: str
    suggestion: Suggestion | None
    face: object | None = None      # the face crop, once asked for
    face_note: str = ""


def open_case(account: Account | None, assignment_id: int | str | None,
              workdir: str | None = None) -> CaseView:
    """Both passes, the second check with its ranges, and the model suggestion (always shown
    to adjudicators)."""
    with database.session() as session:
        me = _check(session, account, Action.ADJUDICATE)
        if assignment_id in (None, ""):
            raise LabellingError("choose an adjudication from the queue")
        case = workflow.adjudication_case(session, me, int(assignment_id))
    suggestion = case.suggestion or _predicted(case.scale, case.path, case.movement)
    if case.unit_media:   # a per-subject campaign: the visit's movements side by side
        from fpgrade_ui.labelling_visit import side_by_side

        picture, line = side_by_side(case.unit_media)
        image, video = shown_copy(picture, workdir), None
    else:
        image, video = _media(case.path, case.kind, workdir)
    lines = ["| pass | rater | label | cannot grade | rater's comment |", "|---|---|---|---|---|"]
    lines += [f"| {p.pass_number} | {md(p.annotator)} | {md(p.label)} | "
              f"{cannot_grade_words(p.cannot_grade)} | {md(p.note)} |"
              for p in case.passes]
    if case.check is None:
        lines += ["", "Second check: not run (the blind passes disagreed or one could not grade)."]
    else:
        c = case.check
        lines += ["", f"Second check ({c.method}, {c.version}): **{c.outcome}** for label "
                  f"{md(c.label)}" + (f": {md(c.reason)}" if c.reason else "")]
        if c.indices:
            lines += ["", "| index | value | range of the label |", "|---|---|---|"]
            for name, value in c.indices.items():
                low_high = c.ranges.get(name)
                shown = (f"{low_high[0]:.3g} to {low_high[1]:.3g}"
                         if isinstance(low_high, (list, tuple)) and len(low_high) == 2 else "")
                lines.append(f"| {name} | {value:.3g} | {shown} |" if isinstance(value, float)
                             else f"| {name} | {value} | {shown} |")
    lines += ["", suggestion_markdown(suggestion) if suggestion
              else f"No trained model for {case.scale}: no suggestion."]
    levels = [(f"{n}: {code} ({name})", code)
              for n, (code, name, _) in enumerate(scale_levels(case.scale), start=1)]
    if case.unit_media:   # one line (the page clips a longer one; the picture names each)
        title = (f"Adjudication #{case.assignment_id} ({case.state}): visit of medium "
                 f"#{case.media_id}, one grade for its {len(case.unit_media)} movements. {line}")
    else:
        title = (f"Adjudication #{case.assignment_id}: medium #{case.media_id}, "
                 f"{movement_words(case.movement)} ({case.state})")
    return CaseView(case, title, image, video, levels, "\n".join(lines), suggestion)


def decide(account: Account | None, view: CaseView | None, label: str | None, reason: str, *,
           cannot_grade: str | None = None) -> str:
    """The adjudicator's decision; a second adjudicator is told who decided first
    (:class:`AlreadyDecidedError`)."""
    with database.session() as session:
        me = _check(session, account, Action.ADJUDICATE)
        if view is None:
            raise LabellingError("open an adjudication first")
        decision = workflow.decide(session, me, view.case.assignment_id, reason=reason or "",
                                   label=label or None,
                                   cannot_grade=None if label else cannot_grade or None,
                                   suggestion=view.suggestion)
    what = f"medium #{decision.media_id}"
    if view.case.unit_media:
        what = f"the visit of medium #{decision.media_id} ({len(view.case.unit_media)} media)"
    if decision.label is None:
        return f"Decided: {what} cannot be graded (excluded)."
    return f"Decided: {what} = {decision.label} (final label)."
