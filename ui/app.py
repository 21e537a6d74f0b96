"""The clinician page: grade a patient's photo set, a photo, a video or the webcam; explain it;
export a report; follow recovery over visits.

The clinician page is laid out in :mod:`fpgrade_ui.clinician_page` (``ui/`` is the only module
tree that imports gradio); every handler is a plain function of :mod:`fpgrade_ui.handlers`, which
calls the core in :mod:`fpgrade.clinic`.
"""

from __future__ import annotations

import gradio as gr
from sqlalchemy import func
from sqlmodel import select

from fpgrade import __version__
from fpgrade.clinic.movements import MOVEMENTS
from fpgrade.clinic.report import DISCLAIMER
from fpgrade.registry import get_registry
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, Media, Subject

MOVEMENT_CHOICES = [(m.instruction, m.key) for m in MOVEMENTS]
INTRO = f"""# fpgrade: facial palsy grading

Upload one patient's standard photo set (any subset), one photo, a video or a webcam picture,
then **Grade**. The page measures both sides in millimetres and degrees beside normal values
where published, fills eFACE items, and shows the grade of every scale for which a trained
model exists. **Clear** (or a new upload) starts the next patient. *{DISCLAIMER}*"""


def installation_summary() -> str:
    """Markdown describing the registered plugins and the database contents."""
    registry = get_registry()
    lines = [f"## fpgrade {__version__}", "", "### Grading scales"]
    for scale in registry.scales.values():
        lines.append(f"- **{scale.name}** (`{scale.id}`): {', '.join(scale.codes)}")
    for scale in registry.composite_scales.values():
        lines.append(f"- **{scale.name}** (`{scale.id}`, composite): {len(scale.items)} items; "
                     f"scores {', '.join(s for s, _ in scale.scores)}")
    lines += ["", "### Models"]
    lines += [f"- **{cls.card.name}** (`{cls.card.id}`)" for cls in registry.models.values()]
    if not registry.models:
        lines.append("- none installed yet")
    with database.session() as session:
        counts = {
            table.__name__.lower(): session.exec(select(func.count()).select_from(table)).one()
            for table in (Subject, Media, Annotation)
        }
    lines += [
        "",
        "### Database",
        f"`{database.get_engine().url.render_as_string(hide_password=True)}`: "
        f"{counts['subject']} subjects, {counts['media']} media, {counts['annotation']} annotations",
    ]
    return "\n".join(lines)


def build_demo() -> gr.Blocks:
    """The clinician page (see :mod:`fpgrade_ui.clinician_page`)."""
    from fpgrade_ui.clinician_page import build

    return build(INTRO, MOVEMENT_CHOICES, installation_summary)


def launch(host: str = "127.0.0.1", port: int = 7860, *, pages: str = "demo",
           login: bool = False) -> None:
    """Serve the clinician page (``pages="demo"``; behind a login of a clinician or admin when
    ``login``) or the labelling pages (``"label"``, always behind a login) until SIGTERM or
    Ctrl-C: see :mod:`fpgrade_ui.server`."""
    from fpgrade.labelling.model import Role
    from fpgrade_ui.server import Pages, serve

    if pages == "label":
        from fpgrade_ui.labelling_app import CSS, SHORTCUTS, TITLE, build_labelling
        from fpgrade_ui.labelling_handlers import make_ahead_of_open_campaigns

        make_ahead_of_open_campaigns()

        served = Pages(build_labelling(), TITLE, "Labelling pages: raters, adjudicators, "
                       "clinicians and admins of this group.", concurrency=8, uploads=False,
                       mount={"head": SHORTCUTS, "css": CSS})   # many raters; the database decides races
    else:
        served = Pages(build_demo(), "fpgrade: facial palsy grading",
                       "The clinician page: for clinicians and admins of this group.",
                       login=login, roles=frozenset({Role.CLINICIAN, Role.ADMIN}),
                       mount={"max_file_size": "500mb"})       # a patient's video, not a disk
    serve(served, host, port, pages)
