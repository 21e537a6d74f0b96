"""The clinician page's handlers: plain functions (no gradio), tested without a browser.

Each handler takes what the page's components hold (file paths, numbers, choices) and returns
what they show. The rules live in :mod:`fpgrade.clinic`; a handler only arranges them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpgrade.clinic import recovery, report
from fpgrade.clinic.assess import SetResult, grade_set, summary
from fpgrade.clinic.models import grades_for_set
from fpgrade.clinic.movements import BY_KEY, MOVEMENTS
from fpgrade.errors import FpgradeError
from fpgrade.registry import get_registry

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "media"
SIDE_CHOICES = ("automatic", "left", "right")
Progress = Callable[[float, str], None]


def example_set() -> list[str | None]:
    """The example set's files in movement order (``None`` where the example has no photo)."""
    folder = EXAMPLES / "set"
    return [str(folder / f"{m.key}.jpg") if (folder / f"{m.key}.jpg").is_file() else None
            for m in MOVEMENTS]


def example_single() -> str:
    return str(EXAMPLES / "single_face.jpg")


def eface_scale():
    return get_registry().composite("eface")


def sunnybrook_scale():
    return get_registry().composite("sunnybrook")


def sunnybrook_choices(item) -> list[str]:
    """Dropdown texts of a Sunnybrook item: ``"1: narrow"`` (the number is what counts)."""
    return [f"{value:g}: {text}" for value, text in item.choices]


def _choice_value(text: str | None) -> float | None:
    if text in (None, ""):
        return None
    return float(str(text).split(":", 1)[0])


@dataclass
class Session:
    """What one browser tab graded last (kept in the page's per-user state)."""

    result: SetResult | None = None
    grades: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    workdir: str = field(default_factory=lambda: tempfile.mkdtemp(
        prefix="fpgrade-session-", dir=os.environ.get("GRADIO_TEMP_DIR")))


@dataclass
class Graded:
    """Everything the page shows after grading (see :func:`grade`)."""

    gallery: list[tuple]
    notes: str
    table: list[list]
    chart: object
    eface_values: list[float | None]
    eface_text: str
    grades_text: str
    summary_text: str
    session: Session


def collect_files(set_files: Sequence[str | None], single: str | None, video: str | None,
                  webcam: str | None, single_movement: str) -> tuple[dict[str, str], list[str]]:
    """Movement key -> file, and what was left out and why.

    The set's slots come first; the one photo, video or webcam picture fills the movement chosen
    for it only where the set has no photo of that movement (two photos of one movement, perhaps
    of two people, are never mixed silently); of those three, only one is used.
    """
    files = {m.key: f for m, f in zip(MOVEMENTS, set_files) if f}
    key = single_movement if single_movement in BY_KEY else "rest"
    extras = [(what, f) for what, f in (("photo", single), ("webcam picture", webcam),
                                        ("video", video)) if f]
    left_out = []
    if extras and key in files:
        left_out.append(f"The {' and '.join(w for w, _ in extras)} given for "
                        f"'{BY_KEY[key].instruction.lower()}' was not graded: the set already has "
                        "a photo of that movement. Clear one of them, or choose another movement.")
    elif extras:
        files[key] = extras[0][1]
        left_out += [f"The {what} was not graded: only one of photo, webcam picture and video is "
                     f"used at a time (the {extras[0][0]} was)." for what, _ in extras[1:]]
    return files, left_out


def grade(set_files: Sequence[str | None], single: str | None = None, video: str | None = None,
          webcam: str | None = None, single_movement: str = "rest", side: str = "automatic",
          session: Session | None = None, progress: Progress | None = None) -> Graded:
    """Grade what was given: measurements, overlays, eFACE items, model grades, summary."""
    session = session or Session()
    files, left_out = collect_files(set_files, single, video, webcam, single_movement)
    if not files:
        session.result = None
        return Graded([], "Give at least one photo or video (or click an example).", [], None,
                      [None] * len(eface_scale().items), "", "", "", session)
    steps = len(files) * 2

    def tick(done: int, text: str) -> None:
        if progress:
            progress(min(done / steps, 0.99), text)

    result = grade_set(files, healthy_side=None if side == "automatic" else side,
                       progress=lambda f, t: tick(int(f * len(files)), t))
    measured = {p.movement: p.path for p in result.photos if p.ok}
    done = [len(files)]

    def model_tick(text: str) -> None:
        done[0] += 1
        tick(min(done[0], steps - 1), text)

    grades = grades_for_set(get_registry(), measured, progress=model_tick)
    session.result, session.grades, session.files = result, grades, files
    values = [result.eface_items.get(item.id, {}).get("value") for item in eface_scale().items]
    scores = eface_scale().score(dict(zip([i.id for i in eface_scale().items], values)))
    gallery = [(p.overlay, f"{report.movement_label(p.movement)}: {p.name}")
               for p in result.photos if p.overlay is not None]
    notes = notes_markdown(result)
    if left_out:
        notes = "\n".join(f"- ⚠️ {text}" for text in left_out) + "\n\n" + notes
    return Graded(gallery, notes, report.measurement_rows(result),
                  report.figure_png(report.region_figure(result)) if measured else None,
                  values, eface_markdown(result, scores), grades_markdown(grades),
                  summary(result, scores), session)


def notes_markdown(result: SetResult) -> str:
    """Per-photo problems (bad files, several faces, video frames) and what each missing
    movement would add."""
    lines = []
    for p in result.photos:
        label = report.movement_label(p.movement)
        if p.error:
            lines.append(f"- ⚠️ **{label}**: {p.error}")
        for note in p.notes:
            lines.append(f"- **{label}**: {note}")
    graded = [p for p in result.photos if p.ok]
    head = (f"**{len(graded)} of {len(result.photos)} graded.** Healthy side: "
            f"**{result.healthy_side or 'unknown'}** ({result.side_reason}).")
    missing = [f"- *{BY_KEY[k].instruction}* ({BY_KEY[k].mv}) would add {BY_KEY[k].adds}."
               for k in result.missing]
    text = head + ("\n\n" + "\n".join(lines) if lines else "")
    if missing:
        text += "\n\n**Not given:**\n" + "\n".join(missing)
    return text


def eface_markdown(result: SetResult | None, scores: dict) -> str:
    def fmt(v):
        return "n/a" if v is None else f"{v:.0f}"

    graded = sum(v.get("value") is not None for v in result.eface_items.values()) if result else 0
    items = len(eface_scale().items)
    text = ("**eFACE-style scores** (0-100, 100 = symmetric; from measurements, not a trained "
            f"network): static **{fmt(scores.get('static'))}**, dynamic "
            f"**{fmt(scores.get('dynamic'))}**, synkinesis **{fmt(scores.get('synkinesis'))}**, "
            f"total **{fmt(scores.get('total'))}**"
            + (f" ({graded} of {items} items filled from the photos)." if result else "."))
    if result is not None:
        empty = [f"{eface_scale().item(k).name}: {v['why']}" for k, v in result.eface_items.items()
                 if v.get("value") is None]
        if empty:
            text += "\n\nNot filled automatically: " + "; ".join(empty) + "."
    return text


def grades_markdown(grades: dict) -> str:
    """The trained models' grades, or for each scale without a model what to do."""
    lines = ["These grades come from trained networks; the eFACE-style scores above do not."]
    for scale, entry in grades.items():
        if entry["status"] != "graded":
            lines.append(f"- **{scale}**: {entry['message']}")
            continue
        synthetic = (" — ⚠️ **trained on SYNTHETIC data: a pipeline check, not clinical "
                     "evidence**") if entry.get("synthetic") else ""
        metrics = entry.get("test_metrics") or {}
        shown = ", ".join(f"{k} {v:.2f}" for k, v in metrics.items()
                          if isinstance(v, float)) or "no test metrics recorded"
        lines.append(f"- **{scale}** by `{entry['model_version']}`{synthetic} (test: {shown})")
        for key, g in entry["photos"].items():
            label = report.movement_label(key)
            if "error" in g:
                lines.append(f"    - {label}: ⚠️ {g['error']}")
                continue
            top = sorted(g["probabilities"].items(), key=lambda kv: -kv[1])
            probs = ", ".join(f"{c} {p:.2f}" for c, p in top)
            side = f", side **{g['side']}**" if g.get("side") else ""
            unsure = " (unsure)" if g.get("unsure") else ""
            lines.append(f"    - {label}: **{g['label']}**{unsure}{side} — {probs}")
    return "\n".join(lines)


def eface_from_form(values: Sequence[float | None]) -> dict:
    """eFACE items and scores from the form's numbers (an empty field is not graded)."""
    ids = [item.id for item in eface_scale().items]
    items = {k: float(v) for k, v in zip(ids, values) if v is not None and v != ""}
    return {"items": items, "scores": eface_scale().score(items)}


def sunnybrook_from_form(choices: Sequence[str | None]) -> dict:
    ids = [item.id for item in sunnybrook_scale().items]
    items = {k: _choice_value(c) for k, c in zip(ids, choices) if _choice_value(c) is not None}
    return {"items": items, "scores": sunnybrook_scale().score(items)}


def sunnybrook_markdown(form: dict) -> str:
    s = form["scores"]

    def fmt(v):
        return "not graded yet" if v is None else f"**{v:g}**"

    return (f"**Sunnybrook** (clinician): resting symmetry {fmt(s['resting'])}, voluntary "
            f"movement {fmt(s['voluntary'])}, synkinesis {fmt(s['synkinesis'])}, composite "
            f"{fmt(s['composite'])} (= voluntary - resting - synkinesis; 100 = normal).")


def update_scores(session: Session | None, eface_values: Sequence, sunny_choices: Sequence
                  ) -> tuple[str, str, str]:
    """Scores after the clinician edited items: eFACE text, Sunnybrook text, summary."""
    try:
        eface = eface_from_form(eface_values)
        sunny = sunnybrook_from_form(sunny_choices)
    except FpgradeError as exc:
        return f"⚠️ {exc}", "", ""
    result = session.result if session else None
    text = summary(result, eface["scores"]) if result else ""
    return eface_markdown(result, eface["scores"]), sunnybrook_markdown(sunny), text


def export(session: Session | None, eface_values: Sequence, sunny_choices: Sequence,
           subject: str = "", visit: str = "") -> tuple[list[str], str]:
    """The PDF report, CSV and JSON of the last graded set; (files, message)."""
    if session is None or session.result is None:
        return [], "Grade a photo or a set first."
    try:
        eface, sunny = eface_from_form(eface_values), sunnybrook_from_form(sunny_choices)
        subject = recovery.check_code(subject) if subject.strip() else None
    except FpgradeError as exc:
        return [], f"⚠️ {exc}"
    text = summary(session.result, eface["scores"])
    data = report.payload(session.result, eface, sunny, session.grades, text,
                          subject=subject, visit=visit or None)
    folder = Path(session.workdir)
    stem = f"fpgrade-{subject or 'report'}{'-' + visit if visit else ''}"
    pdf = report.write_pdf(folder / f"{stem}.pdf", session.result, data)
    (folder / f"{stem}.json").write_text(report.to_json(data))
    (folder / f"{stem}.csv").write_text(report.to_csv(session.result, eface, sunny, session.grades))
    return [str(pdf), str(folder / f"{stem}.csv"), str(folder / f"{stem}.json")], (
        "Report written: PDF, CSV and JSON (decision support, not a diagnosis).")


def save_visit(session: Session | None, subject: str, visit: str, eface_values: Sequence,
               sunny_choices: Sequence) -> str:
    """Save the last graded set to a subject (pseudonym) and a visit date; a message."""
    if session is None or session.result is None:
        return "⚠️ Grade a photo or a set first."
    try:
        eface, sunny = eface_from_form(eface_values), sunnybrook_from_form(sunny_choices)
        measurements = {p.movement: p.measurements.as_dict() for p in session.result.photos if p.ok}
        assessment = recovery.save(subject, visit, healthy_side=session.result.healthy_side,
                                   eface=eface, sunnybrook=sunny, grades=session.grades,
                                   measurements=measurements)
    except FpgradeError as exc:
        return f"⚠️ {exc}"
    return (f"Saved assessment {assessment} for subject **{subject.strip()}**, visit "
            f"{recovery.parse_date(visit).isoformat()} (the photos themselves are not kept).")


def subject_view(subject: str) -> tuple[object, list[list], str]:
    """The recovery plot, a table of every visit's scores and grades, and a message."""
    try:
        history = recovery.history(subject)
    except FpgradeError as exc:
        return None, [], f"⚠️ {exc}"
    if not history:
        return None, [], f"No saved visit for subject {subject.strip()!r}."
    rows = []
    for h in history:
        grades = "; ".join(
            f"{s}: " + ", ".join(sorted({g.get('label', '?') for g in e.get('photos', {}).values()}))
            + f" ({e['model_version']}{', SYNTHETIC' if e.get('synthetic') else ''})"
            for s, e in h["grades"].items() if e.get("status") == "graded")
        rows.append([h["date"], h["eface"].get("static"), h["eface"].get("dynamic"),
                     h["eface"].get("total"), h["sunnybrook"].get("composite"),
                     grades or "no trained model"])
    figure = report.recovery_figure(subject.strip(), history)
    return report.figure_png(figure), rows, f"{len(history)} visit(s) of {subject.strip()}."
