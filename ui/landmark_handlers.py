"""The landmark editor's handlers (issue 19): plain functions (no gradio), tested without a browser.

:func:`editor_value` is what the editor draws for a graded set (each photo, downsized, with its
points and the detector's); :func:`correct` grades the set again after a point moved
(:func:`fpgrade.clinic.corrections.correct`) and returns what the page shows, as
:func:`fpgrade_ui.handlers.grade` does; :func:`points_files` writes the corrected points in the
format ``fpgrade measure --landmarks`` reads (:mod:`fpgrade.face.landmark_file`).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from fpgrade.clinic import corrections, report, tables
from fpgrade.clinic.assess import summary
from fpgrade.errors import FpgradeError
from fpgrade.face import landmark_file
from fpgrade_ui import handlers
from fpgrade_ui.texts import eface_markdown, grades_markdown, notes_markdown, photo_grades_markdown

EDITOR_MAX_SIDE = 1024  # the photo sent to the browser (points stay in the photo's pixels)
_SIDES = {p: ("middle" if "middle" in w else "right" if ", right" in w else "left")
          for p, w in ((p, corrections.point_words(p)) for p in corrections.EDITABLE)}


def _data_url(path: str) -> str:
    """The photo as a JPEG data URL, at most :data:`EDITOR_MAX_SIDE` pixels on its longer side."""
    from PIL import Image

    from fpgrade.imageio import load_image

    image = Image.fromarray(load_image(Path(path)))
    image.thumbnail((EDITOR_MAX_SIDE, EDITOR_MAX_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def editor_value(session: handlers.Session | None) -> dict | None:
    """The editor's value: one entry per photo graded from its landmarks (videos are not
    editable: their values are medians over frames, and a ``note`` says so); ``None`` before
    grading."""
    if session is None or session.result is None:
        return None
    photos = []
    for p in session.result.photos:
        if not p.ok or p.landmarks is None or p.size is None:
            continue
        try:
            image = _data_url(p.path)
        except (OSError, FpgradeError):
            continue  # the upload is gone: nothing to draw on
        photos.append({
            "movement": p.movement, "label": report.movement_label(p.movement), "name": p.name,
            "image": image, "width": p.size[0], "height": p.size[1],
            "points": corrections.editable_points(p.points),
            "detected": corrections.editable_points(p.landmarks),
            "words": {k: corrections.point_words(k) for k in corrections.EDITABLE},
            "sides": _SIDES})
    if not photos:
        return {"photos": [], "note": "No photo to correct: landmarks are corrected on photos "
                "(a video's values are medians over its frames, each with its own landmarks)."}
    return {"photos": photos}


def _eface_kept(old_items: Mapping, new_items: Mapping, form: Sequence) -> list:
    """The eFACE form after a correction: an item still as the photos gave it follows the new
    photos' value; one the clinician entered (differs from the photos' value) is kept."""
    out = []
    for item, value in zip(handlers.eface_scale().items, form):
        before = (old_items.get(item.id) or {}).get("value")
        after = (new_items.get(item.id) or {}).get("value")
        entered = value is not None and value != "" and (
            before is None or abs(float(value) - before) > 0.05)
        out.append(value if entered else after)
    return out


def correct(session: handlers.Session | None, data: Mapping | None, eface_form: Sequence,
            user: str | None = None, *, chart: bool = True) -> tuple[handlers.Graded, str]:
    """Grade the set again with the points the editor sent (``{"movement", "points"}``), by
    ``user`` (the logged-in name, else ``"demo"``): (what the page shows, a message). Without
    ``chart`` the regional-asymmetry chart is not drawn (``None``; :func:`chart` draws it)."""
    if session is None or session.result is None:
        return handlers.empty(), "Grade a photo first."
    data = data or {}
    try:
        result = corrections.correct(session.result, str(data.get("movement")),
                                     data.get("points") or {}, by=user or "demo")
    except FpgradeError as exc:
        return _shown(session, list(eface_form), chart), f"⚠️ {exc}"
    values = _eface_kept(session.result.eface_items, result.eface_items, eface_form)
    session.result = result
    moved = corrections.all_corrections(result)
    message = ("; ".join(corrections.line(report.movement_label(k), r) for k, r in moved)
               if moved else "No landmark is corrected by hand: the detector's points are used.")
    return _shown(session, values, chart), message


def chart(session: handlers.Session | None):
    """The regional-asymmetry chart of the session's set (``None`` before grading)."""
    result = session.result if session is not None else None
    if result is None or not any(p.ok for p in result.photos):
        return None
    return report.figure_png(report.region_figure(result))


def _shown(session: handlers.Session, values: list, with_chart: bool = True) -> handlers.Graded:
    """The page's outputs for the session's set (as :func:`fpgrade_ui.handlers.grade` builds
    them; the model grades are those of the photos, which a landmark does not change)."""
    result = session.result
    scale = handlers.eface_scale()
    scores = scale.score({i.id: v for i, v in zip(scale.items, values)
                          if v is not None and v != ""})
    gallery = [(p.overlay, f"{report.movement_label(p.movement)}: {p.name}")
               for p in result.photos if p.overlay is not None]
    return handlers.Graded(
        gallery, notes_markdown(result), tables.html(result),
        chart(session) if with_chart else None, values,
        eface_markdown(result, scores, values), grades_markdown(session.grades),
        summary(result, scores), session, photo_grades_markdown(session.grades))


def points_files(session: handlers.Session | None, stem: str) -> list[str]:
    """One JSON file of points per photo corrected by hand (all 68 points and both irises, with
    the corrections), in the session's folder: ``fpgrade measure PHOTO --landmarks FILE``
    measures the photo from it."""
    if session is None or session.result is None:
        return []
    out = []
    for p in session.result.photos:
        if not p.corrections or p.size is None:
            continue
        path = Path(session.workdir) / f"{stem}-landmarks-{p.movement}.json"
        path.write_text(json.dumps(landmark_file.document(
            p.points, image=p.name, size=p.size, corrections=p.corrections), indent=1))
        out.append(str(path))
    return out
