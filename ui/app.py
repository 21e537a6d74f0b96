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


def launch(host: str = "127.0.0.1", port: int = 7860, *, pages: str = "demo") -> None:
    """Serve the page until SIGTERM or Ctrl-C, then stop within about a second: the open pages'
    connections are not waited for, and the temporary upload folder is removed.

    ``pages``: ``demo`` (the clinician page) or ``label`` (the login-protected labelling pages
    of :mod:`fpgrade_ui.labelling_app`, with their keyboard shortcuts; several raters at once).
    """
    import os
    import shutil
    import signal
    import threading

    from fpgrade.errors import FpgradeError

    temp = os.environ.get("GRADIO_TEMP_DIR")

    def remove_temp() -> None:
        if temp and os.path.basename(temp).startswith(("fpgrade-demo-", "fpgrade-label-")):
            shutil.rmtree(temp, ignore_errors=True)

    stop = threading.Event()
    # before launch: a signal that arrives while Gradio finishes starting (the page may already
    # answer) still stops the server cleanly instead of killing it half-started
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        database.get_engine()  # the configured database, upgraded (the default creates its folder)
        extra: dict = {}
        if pages == "label":
            from fpgrade_ui.labelling_app import CSS, SHORTCUTS, build_labelling

            demo = build_labelling()
            demo.queue(default_concurrency_limit=8)  # many raters; the database decides races
            extra = {"head": SHORTCUTS, "css": CSS}
        else:
            demo = build_demo()
            demo.queue(default_concurrency_limit=2)
        demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
                    show_error=True, **extra)
    except OSError as exc:  # e.g. the port is taken
        remove_temp()
        raise FpgradeError(f"cannot serve on {host}:{port}: {exc}") from exc
    except BaseException:
        remove_temp()
        raise
    print(f"fpgrade {pages}: serving on http://{host}:{port} (Ctrl-C to stop)", flush=True)
    while not stop.wait(0.2):
        pass
    closer = threading.Thread(target=demo.close, daemon=True)
    closer.start()
    closer.join(timeout=1.0)
    remove_temp()
    print(f"fpgrade {pages}: stopped", flush=True)
    os._exit(0)  # uvicorn would wait for the open pages' connections
