"""Handlers of issue 19 on the clinician page (plain functions, no gradio): keeping a visit's
photos at save, the eFACE chart, and the Recovery tab's before-and-after comparison of two saved
visits and their deletion.

The comparison's rules are :mod:`fpgrade.clinic.compare`'s; here they become what the page shows:
per movement the two overlays (left the earlier visit, right the later) and a table of the
differences in words, signed and coloured, and a table of the scores.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpgrade.clinic import compare, eface_chart, recovery, report, tables, visit_photos
from fpgrade.errors import FpgradeError
from fpgrade.registry import get_registry

VERDICT_COLOURS = {compare.BETTER: "#1a7f37", compare.WORSE: "#b42318",
                   compare.SAME: "#555555", compare.NONE: "#888888", "changed": "#555555"}
NUMBERS_ONLY = "saved without photos: numbers only"
TABLE_STYLE = 'style="border-collapse:collapse;font-size:0.85em;width:100%" border="1" cellpadding="3"'


def keep_photos_label() -> str:
    """The save checkbox's words: what is kept and where (the settings' data folder)."""
    return (f"Keep this visit's photos with their landmark overlays, on this computer only "
            f"(in {visit_photos.root()}); deleted with the visit")


def kept(session) -> tuple[list[visit_photos.Kept], list[str]]:
    """What a save keeps of the graded set in ``session`` (a :class:`fpgrade_ui.handlers.Session`),
    and notes in words (an upload the server has already removed: its overlay only)."""
    out, notes = [], []
    for p in session.result.photos if session and session.result else []:
        if not p.ok:
            continue
        source = p.path if p.kind == "image" and Path(p.path).is_file() else None
        if p.kind == "image" and source is None:
            notes.append(f"{tables.movement_words(p.movement)}: the uploaded file is no longer "
                         "on the server; only its overlay is kept")
        out.append(visit_photos.Kept(p.movement, source, p.name, p.kind, p.overlay))
    return out, notes


def eface_chart_image(session, eface_values: Sequence):
    """The eFACE chart (an RGB array) of the form's items now; ``None`` before grading."""
    if session is None or session.result is None:
        return None
    scale = get_registry().composite("eface")
    values = {item.id: (None if v in (None, "") else float(v))
              for item, v in zip(scale.items, eface_values)}
    scores = scale.score({k: v for k, v in values.items() if v is not None})
    automatic = {k: v.get("value") for k, v in session.result.eface_items.items()}
    why = {k: v.get("why", "") for k, v in session.result.eface_items.items()}
    return report.figure_png(eface_chart.figure(scale.items, values, scores, automatic, why))


def visit_choices(subject: str) -> tuple[list[tuple[str, int]], int | None, int | None, str]:
    """The saved visits of ``subject`` for the two choosers ((label, id) oldest first), the
    default earlier (the first) and later (the last) visit, and a message."""
    try:
        saved = recovery.saved(subject)
    except FpgradeError as exc:
        return [], None, None, f"⚠️ {exc}"
    if not saved:
        return [], None, None, ""
    choices = [(s["label"], s["id"]) for s in saved]
    if len(saved) == 1:
        return choices, saved[0]["id"], None, ("Only one saved visit: save another to compare "
                                               "before and after.")
    return choices, saved[0]["id"], saved[-1]["id"], (
        "Choose two visits and press **Compare** (left: the earlier, right: the later).")


@dataclass
class MovementView:
    key: str
    heading: str
    earlier: object = None  # RGB array or None
    later: object = None
    earlier_label: str = ""
    later_label: str = ""
    table: str = ""
    summary: str = ""


@dataclass
class Comparison:
    message: str
    scores: str = ""
    movements: list[MovementView] = field(default_factory=list)


def _signed(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if abs(value) < 0.05:  # no "−0.0": a change too small to show has no sign
        return f"0.0{(' ' + unit) if unit else ''}"
    return f"{value:+.1f}{(' ' + unit) if unit else ''}".replace("-", "−")


def _num(value, digits: int = 1) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return f"{0.0 if abs(value) < 0.5 * 10 ** -digits else value:.{digits}f}"


def _verdict_cell(verdict: str, detail: str = "") -> str:
    colour = VERDICT_COLOURS.get(verdict, "#555555")
    return (f'<td class="verdict verdict-{verdict.replace(" ", "-")}" style="color:{colour};'
            f'font-weight:600">{html.escape(verdict)}{html.escape(detail)}</td>')


def _unit(unit: str) -> str:
    return "°" if unit == "degrees" else unit


def measurements_html(rows: list[compare.MeasureChange], earlier: str, later: str) -> str:
    """The differences of one movement's measurements as an HTML table."""
    if not rows:
        return "<p>No measurement of this movement at either visit.</p>"
    only = None
    if all(r.gap[1] is None for r in rows):
        only = earlier
    elif all(r.gap[0] is None for r in rows):
        only = later
    head = ("<tr><th>Measurement</th><th>Right (patient's)<br>"
            f"{html.escape(earlier)} → {html.escape(later)}</th><th>change</th>"
            f"<th>Left (patient's)<br>{html.escape(earlier)} → {html.escape(later)}</th>"
            "<th>change</th><th>Difference between the sides</th><th>change</th>"
            "<th>The sides</th></tr>")
    body = []
    for r in rows:
        unit = _unit(r.unit)
        detail = {compare.BETTER: " (closer)", compare.WORSE: " (further apart)"}.get(
            r.verdict, "")
        body.append(
            f"<tr><td>{html.escape(r.words)}</td>"
            f"<td>{_num(r.right[0])} → {_num(r.right[1])}</td><td>{_signed(r.right_change, unit)}</td>"
            f"<td>{_num(r.left[0])} → {_num(r.left[1])}</td><td>{_signed(r.left_change, unit)}</td>"
            f"<td>{_num(r.gap[0])} → {_num(r.gap[1])} {html.escape(unit)}</td>"
            f"<td>{_signed(r.change, unit)}</td>{_verdict_cell(r.verdict, detail)}</tr>")
    note = (f"<p><b>Measured at {html.escape(only)} only</b>: nothing to compare; its values "
            "are shown.</p>") if only else ""
    return f"{note}<table {TABLE_STYLE}>{head}{''.join(body)}</table>"


def scores_html(rows: list[compare.ScoreChange], earlier: str, later: str) -> str:
    """The scores and grades of both visits with their change, as an HTML table."""
    if not rows:
        return "<p>No score saved at either visit.</p>"
    head = (f"<tr><th>Score</th><th>{html.escape(earlier)}</th><th>{html.escape(later)}</th>"
            "<th>change</th><th>verdict</th></tr>")
    body = []
    for r in rows:
        def shown(v):
            if v is None:
                return "not graded"
            return f"{v:.0f}" if isinstance(v, float) and r.scale == "eface" else (
                f"{v:g}" if isinstance(v, (int, float)) else html.escape(str(v)))
        change = (_signed(r.change, "levels" if r.key == "grade" else "")
                  if r.change is not None else "–")
        strong = r.key in ("total", "composite", "grade")
        name = f"<b>{html.escape(r.words)}</b>" if strong else html.escape(r.words)
        body.append(f"<tr><td>{name}</td><td>{shown(r.earlier)}</td><td>{shown(r.later)}</td>"
                    f"<td>{change}</td>{_verdict_cell(r.verdict, f': {r.note}' if r.note else '')}"
                    "</tr>")
    return f'<table {TABLE_STYLE} id="score-changes">{head}{"".join(body)}</table>'


def compare_visits(earlier_id, later_id) -> Comparison:
    """Two saved visits side by side (see the module docstring); the earlier one is always on
    the left, whichever chooser it was picked in."""
    if earlier_id in (None, "") or later_id in (None, ""):
        return Comparison("⚠️ Choose two saved visits (press **Show** for the subject first).")
    if int(earlier_id) == int(later_id):
        return Comparison("⚠️ Choose two different visits.")
    try:
        a, b = recovery.load(int(earlier_id)), recovery.load(int(later_id))
    except FpgradeError as exc:
        return Comparison(f"⚠️ {exc}")
    if a["subject"] != b["subject"]:
        return Comparison("⚠️ The two visits belong to different subjects.")
    notes = []
    if (a["date"], a["id"]) > (b["date"], b["id"]):
        a, b = b, a
        notes.append("The visits were swapped: the earlier one is always on the left.")
    if a["healthy_side"] != b["healthy_side"]:
        notes.append(f"⚠️ The healthy side differs: {a['healthy_side'] or 'unknown'} at "
                     f"{a['date']}, {b['healthy_side'] or 'unknown'} at {b['date']}.")
    for v in (a, b):
        if not v["photos"]:
            notes.append(f"The visit of {v['date']} was {NUMBERS_ONLY}.")
    message = (f"**{a['subject']}**: {a['date']} (left, earlier) and {b['date']} (right, later). "
               "Differences are later minus earlier; the sides are the patient's. "
               "**better** = the two sides closer (measurements) or a better score.")
    if notes:
        message += "\n\n" + "\n".join(f"- {n}" for n in notes)
    views = []
    for key in compare.movements(a, b):
        view = MovementView(key, tables.movement_words(key))
        for which, saved in (("earlier", a), ("later", b)):
            photo = saved["photos"].get(key)
            picture = None
            if photo:
                picture = visit_photos.image(photo.get("overlay")) if photo.get(
                    "overlay") else visit_photos.image(photo.get("photo"))
            if picture is not None:
                label = f"{saved['date']} ({'earlier' if which == 'earlier' else 'later'})"
            elif not saved["photos"]:
                label = f"{saved['date']}: {NUMBERS_ONLY}"
            elif photo:
                label = f"{saved['date']}: the kept photo file is missing"
            else:
                label = f"{saved['date']}: no photo of this movement"
            setattr(view, which, picture)
            setattr(view, f"{which}_label", label)
        changes = compare.measurement_changes(a, b, key)
        view.table = measurements_html(changes, a["date"], b["date"])
        view.summary = tally(changes)
        views.append(view)
    return Comparison(message, scores_html(compare.score_changes(a, b), a["date"], b["date"]),
                      views)


def tally(changes: list[compare.MeasureChange]) -> str:
    """``"The sides: 3 measurements closer (better), 1 further apart (worse), 6 unchanged."``"""
    counts = {v: sum(c.verdict == v for c in changes)
              for v in (compare.BETTER, compare.WORSE, compare.SAME)}
    if not any(counts.values()):
        return "Nothing to compare: this movement was measured at one visit only."
    words = [f"{counts[compare.BETTER]} closer (better)", f"{counts[compare.WORSE]} further "
             "apart (worse)", f"{counts[compare.SAME]} unchanged"]
    return f"The sides, over {sum(counts.values())} measurements: " + ", ".join(words) + "."


def delete_question(assessment_id) -> tuple[str, bool]:
    """What the page asks before deleting a saved visit: (question, ask)."""
    if assessment_id in (None, ""):
        return "⚠️ Choose the visit to delete (in 'Later visit').", False
    try:
        saved = recovery.load(int(assessment_id))
    except FpgradeError as exc:
        return f"⚠️ {exc}", False
    n = len(saved["photos"])
    files = f" and its {n} kept photo{'s' if n != 1 else ''}" if n else ""  # no server path
    return (f"⚠️ Delete the visit of **{saved['date']}** of subject **{saved['subject']}**: its "
            f"scores, grades and measurements{files}? This cannot be undone."), True


def delete_visit(assessment_id, asked=None, by: str | None = None) -> str:
    """Delete a saved visit (rows and files) that the page asked about (``asked``: the visit
    of :func:`delete_question`, kept on the server: a delete without that question, or of
    another visit, deletes nothing); the message says what went. ``by``: the logged-in user,
    for the audit log."""
    if assessment_id in (None, ""):
        return "⚠️ Choose the visit to delete."
    if asked in (None, "") or str(asked) != str(assessment_id):
        return "⚠️ Nothing was deleted: press **Delete** and confirm the question first."
    try:
        done = recovery.delete(int(assessment_id), by=by or "demo")
    except FpgradeError as exc:
        return f"⚠️ {exc}"
    text = (f"Deleted the visit of {done['date']} of subject {done['subject']}"
            + (f" and its {done['photos']} kept photo{'s' if done['photos'] != 1 else ''}"
               if done["photos"] else "") + ".")
    for folder in done["files_left"]:
        text += f" ⚠️ Its folder {folder} could not be removed: delete it by hand."
    return text
