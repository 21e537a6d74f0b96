"""The clinician page's handlers: plain functions (no gradio), tested without a browser.

Each handler takes what the page's components hold (file paths, numbers, choices) and returns
what they show. The rules live in :mod:`fpgrade.clinic`; a handler only arranges them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpgrade.clinic import recovery, report, set_grades, tables, visit_photos
from fpgrade.clinic.assess import SetResult, grade_set, summary
from fpgrade.clinic.models import grades_for_set
from fpgrade.clinic.movements import BY_KEY, MOVEMENTS
from fpgrade.clinic.vocabulary import scale_words
from fpgrade.errors import FpgradeError
from fpgrade.registry import get_registry
from fpgrade_ui import visit_handlers
from fpgrade_ui.texts import (eface_markdown, grades_markdown, notes_markdown,  # noqa: F401
                              photo_grades_markdown, sunnybrook_markdown)

# Package data of fpgrade_ui (pyproject's package-data), so an installed copy has them too.
EXAMPLES = Path(__file__).resolve().parent / "examples"
SIDE_CHOICES = ("automatic", "left", "right")
Progress = Callable[[float, str], None]


def _copies(paths: Sequence[Path | None]) -> list[str | None]:
    """Copies of the example files in a new folder of the server's temporary folder: the page
    may serve them whatever the working directory and wherever fpgrade is installed (Gradio
    serves files from its temporary folder without any ``allowed_paths``)."""
    folder = Path(tempfile.mkdtemp(prefix="fpgrade-example-",
                                   dir=os.environ.get("GRADIO_TEMP_DIR")))
    out = []
    for path in paths:
        if path is None or not path.is_file():
            out.append(None)
            continue
        out.append(str(shutil.copy(path, folder / path.name)))
    return out


def example_set() -> list[str | None]:
    """Copies of the example set's files in movement order (``None`` where the example has no
    photo of a movement)."""
    return _copies([EXAMPLES / "set" / f"{m.key}.jpg" for m in MOVEMENTS])


def example_single() -> str:
    return _copies([EXAMPLES / "single_face.jpg"])[0]


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
    session: Session | None
    photo_grades_text: str = ""


def empty(notes: str = "") -> Graded:
    """What the page shows before grading, and after Clear or a new upload: nothing (``notes``
    may say why), and no session (the next grading starts a new one: one patient at a time)."""
    return Graded([], notes, "", None, [None] * len(eface_scale().items), "", "", "", None, "")


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
          progress: Progress | None = None) -> Graded:
    """Grade what was given: measurements, overlays, eFACE items, model grades, summary; always
    in a new :class:`Session` (nothing of an earlier grading is kept)."""
    session = Session()  # a new grading is a new assessment: nothing of the last one is kept
    files, left_out = collect_files(set_files, single, video, webcam, single_movement)
    if not files:
        return Graded([], "Give at least one photo or video (or click an example).", "", None,
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
    return Graded(gallery, notes, tables.html(result),
                  report.figure_png(report.region_figure(result)) if measured else None,
                  values, eface_markdown(result, scores, values), grades_markdown(grades),
                  summary(result, scores), session, photo_grades_markdown(grades))


def eface_from_form(values: Sequence[float | None]) -> dict:
    """eFACE items and scores from the form's numbers (an empty field is not graded)."""
    ids = [item.id for item in eface_scale().items]
    items = {k: float(v) for k, v in zip(ids, values) if v is not None and v != ""}
    return {"items": items, "scores": eface_scale().score(items)}


def sunnybrook_from_form(choices: Sequence[str | None]) -> dict:
    ids = [item.id for item in sunnybrook_scale().items]
    items = {k: _choice_value(c) for k, c in zip(ids, choices) if _choice_value(c) is not None}
    # the words chosen: one value may mean several things (resting eye 1: narrow, wide, surgery)
    words = {k: str(c).split(":", 1)[1].strip() for k, c in zip(ids, choices)
             if k in items and ":" in str(c)}
    return {"items": items, "choices": words, "scores": sunnybrook_scale().score(items)}


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
    return (eface_markdown(result, eface["scores"], eface_values), sunnybrook_markdown(sunny),
            text)


def _graded(session: Session | None) -> str | None:
    """Why the session cannot be saved or reported, or ``None`` when it can."""
    if session is None or session.result is None:
        return "Grade a photo or a set first."
    photos = session.result.photos
    if not any(p.ok for p in photos):
        return (f"Nothing to save: 0 of {len(photos)} photo{'s' if len(photos) > 1 else ''} "
                "graded. Give a photo in which a face can be measured.")
    return None


def export(session: Session | None, eface_values: Sequence, sunny_choices: Sequence,
           subject: str = "", visit: str = "", comment: str = "", clinician: str = ""
           ) -> tuple[list[str], str]:
    """The PDF report, CSV and JSON of the last graded set; (files, message)."""
    problem = _graded(session)
    if problem:
        return [], f"⚠️ {problem}"
    try:
        eface, sunny = eface_from_form(eface_values), sunnybrook_from_form(sunny_choices)
        subject = recovery.check_code(subject) if (subject or "").strip() else None
        visit = recovery.parse_date(visit).isoformat() if (visit or "").strip() else None
    except FpgradeError as exc:
        return [], f"⚠️ {exc}"
    text = summary(session.result, eface["scores"])
    data = report.payload(session.result, eface, sunny, session.grades, text,
                          subject=subject, visit=visit, comment=comment or "",
                          clinician=clinician or "")
    folder = Path(session.workdir)
    stem = f"fpgrade-{subject or 'report'}{'-' + visit if visit else ''}"
    pdf = report.write_pdf(folder / f"{stem}.pdf", session.result, data)
    (folder / f"{stem}.json").write_text(report.to_json(data))
    (folder / f"{stem}.csv").write_text(report.to_csv(session.result, eface, sunny, session.grades))
    return [str(pdf), str(folder / f"{stem}.csv"), str(folder / f"{stem}.json")], (
        "Report written: PDF, CSV and JSON (decision support, not a diagnosis).")


def save_visit(session: Session | None, subject: str, visit: str, eface_values: Sequence,
               sunny_choices: Sequence, on_existing: str | None = None,
               keep_photos: bool = False) -> tuple[str, bool]:
    """Save the last graded set to a subject (pseudonym) and a visit date: (message, ask). ``ask``
    is true when the subject already has an assessment on that date: the page then offers
    ``on_existing`` = ``"replace"`` or ``"keep_both"``, and nothing is saved until one is chosen.
    ``keep_photos``: keep the photos and overlays with it (:mod:`fpgrade_ui.visit_handlers`)."""
    problem = _graded(session)
    if problem:
        return f"⚠️ {problem}", False
    try:
        eface, sunny = eface_from_form(eface_values), sunnybrook_from_form(sunny_choices)
        measurements = {p.movement: p.measurements.as_dict()
                        | ({"landmark_corrections": p.corrections} if p.corrections else {})
                        for p in session.result.photos if p.ok}  # corrections: issue 19
        photos, photo_notes = visit_handlers.kept(session) if keep_photos else ([], [])
        assessment = recovery.save(subject, visit, healthy_side=session.result.healthy_side,
                                   eface=eface, sunnybrook=sunny,
                                   grades=set_grades.with_set_grades(session.grades),
                                   measurements=measurements, on_existing=on_existing,
                                   photos=photos or None)
    except recovery.VisitExistsError as exc:
        return (f"⚠️ Not saved yet: {exc}. Replace it with this assessment, or keep both (the "
                "recovery view shows the latest)?"), True
    except FpgradeError as exc:
        return f"⚠️ {exc}", False
    done = {"replace": "replaced the earlier one", "keep_both": "kept beside the earlier one"}
    return (f"Saved assessment {assessment} for subject **{subject.strip()}**, visit "
            f"{recovery.parse_date(visit).isoformat()}"
            + (f" ({done[on_existing]})" if on_existing else "")
            + (f" with its {len(photos)} photo{'s' if len(photos) != 1 else ''} and overlays, "
               f"kept on this computer in {visit_photos.root()}"
               + "".join(f"; {n}" for n in photo_notes) if photos
               else " (the photos themselves are not kept)") + "."), False


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
        grades = []
        for scale, entry in h["grades"].items():
            if entry.get("status") != "graded":
                continue
            combined = entry.get("set") or set_grades.combine(entry)
            label = set_grades.level_words(scale, combined["label"]) if combined else "none"
            grades.append(f"{scale_words(scale)}: {label} ({entry['model_version']}"
                          f"{', SYNTHETIC' if entry.get('synthetic') else ''})")
        rows.append([h["date"], h["eface"].get("static"), h["eface"].get("dynamic"),
                     h["eface"].get("total"), h["sunnybrook"].get("composite"),
                     "; ".join(grades) or "no trained model"])
    figure = report.recovery_figure(subject.strip(), history)
    return report.figure_png(figure), rows, f"{len(history)} visit(s) of {subject.strip()}."
