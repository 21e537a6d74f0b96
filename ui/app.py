"""The clinician demo page.

Until the grading page lands, it shows what this installation can do: the registered scales
and models, and the database it works on. Handlers are plain functions, testable without a browser.
"""

from __future__ import annotations

import gradio as gr
from sqlalchemy import func
from sqlmodel import select

from fpgrade import __version__
from fpgrade.registry import get_registry
from fpgrade.settings import get_settings
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, Media, Subject


def installation_summary() -> str:
    """Markdown describing the registered plugins and the database contents."""
    registry = get_registry()
    lines = [f"## fpgrade {__version__}", "", "### Grading scales"]
    for scale in registry.scales.values():
        lines.append(f"- **{scale.name}** (`{scale.id}`): {', '.join(scale.codes)}")
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
    with gr.Blocks(title="fpgrade") as blocks:
        gr.Markdown("# fpgrade: facial palsy grading")
        summary = gr.Markdown()
        blocks.load(installation_summary, outputs=summary)
    return blocks


def launch(host: str = "127.0.0.1", port: int = 7860) -> None:
    database.get_engine(get_settings().resolved_database_url)
    build_demo().launch(server_name=host, server_port=port)
