"""The clinician page: grade a patient's photo set, a photo, a video or the webcam; explain it;
export a report; follow recovery over visits.

The page is built here (the only module tree that imports gradio); every handler is a plain
function of :mod:`fpgrade_ui.handlers`, which calls the core in :mod:`fpgrade.clinic`.
"""

from __future__ import annotations

import datetime as _dt

import gradio as gr
from sqlalchemy import func
from sqlmodel import select

from fpgrade import __version__
from fpgrade.clinic.movements import MOVEMENTS
from fpgrade.clinic.report import DISCLAIMER, TABLE_HEADER
from fpgrade.registry import get_registry
from fpgrade.storage import database
from fpgrade.storage.tables import Annotation, Media, Subject
from fpgrade_ui import handlers

MOVEMENT_CHOICES = [(f"{m.instruction} ({m.mv})", m.key) for m in MOVEMENTS]
INTRO = f"""# fpgrade: facial palsy grading

Upload a patient's standard photo set (any subset), one photo, a video or a webcam picture, then
**Grade**. The page measures both sides in millimetres and degrees, fills eFACE-style items, and
shows the grade of every scale for which a trained model exists. *{DISCLAIMER}*

Movements of the set and paper 001's codes: """ + "; ".join(
    f"**{m.instruction}** = {m.mv}" for m in MOVEMENTS) + " (MV3, cheeks puffed, is not asked for)."


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
    eface_scale, sunny_scale = handlers.eface_scale(), handlers.sunnybrook_scale()
    with gr.Blocks(title="fpgrade: facial palsy grading", delete_cache=(600, 3600),
                   analytics_enabled=False) as blocks:
        session = gr.State(None)
        gr.Markdown(INTRO)
        with gr.Tab("Grade", id="grade"):
            with gr.Row():
                example_set = gr.Button("Example set (5 expression photos of a healthy volunteer)",
                                        elem_id="example-set")
                example_one = gr.Button("Example photo (single_face.jpg)", elem_id="example-one")
            with gr.Accordion("Standard photo set: one photo per movement", open=True):
                with gr.Row():
                    slots = [gr.Image(type="filepath", label=f"{m.instruction} ({m.mv})",
                                      sources=["upload"], height=170, elem_id=f"slot-{m.key}")
                             for m in MOVEMENTS]
            with gr.Accordion("Or: one photo, a video, or the webcam", open=True):
                with gr.Row():
                    single = gr.File(label="Photo", type="filepath", elem_id="single-photo")
                    video = gr.File(label="Video", type="filepath", elem_id="video")
                    webcam = gr.Image(type="filepath", sources=["webcam"], label="Webcam",
                                      height=170)
                    with gr.Column():
                        single_movement = gr.Dropdown(MOVEMENT_CHOICES, value="rest",
                                                      label="Movement of this photo / video")
                        side = gr.Radio(list(handlers.SIDE_CHOICES), value="automatic",
                                        label="Healthy side")
            with gr.Row():
                go = gr.Button("Grade", variant="primary", elem_id="grade-button")
                gr.ClearButton([*slots, single, video, webcam], value="Clear",
                               elem_id="clear-button")
            gr.Markdown("### Summary")
            summary = gr.Markdown(elem_id="summary")
            notes = gr.Markdown(elem_id="notes")
            with gr.Row():
                gallery = gr.Gallery(label="Landmarks and measurement lines (red: patient's "
                                     "right, blue: left)", columns=3, height=420,
                                     elem_id="overlays")
                chart = gr.Image(label="Regional asymmetry", type="numpy", elem_id="chart")
            table = gr.Dataframe(headers=TABLE_HEADER, label="Measurements (mm, degrees)",
                                 elem_id="measurements", wrap=True, max_height=320)
            gr.Markdown("### Trained-model grades")
            grades = gr.Markdown(elem_id="grades")
            with gr.Accordion("eFACE (automatic items, editable)", open=True):
                eface_text = gr.Markdown(elem_id="eface-scores")
                eface_fields = []
                for group in eface_scale.groups:
                    with gr.Row():
                        for item in (i for i in eface_scale.items if i.group == group):
                            eface_fields.append(gr.Number(
                                label=f"{group}: {item.name}" + ("" if item.automatic else " (clinician)"),
                                minimum=0, maximum=100, value=None, precision=1,
                                elem_id=f"eface-{item.id}"))
            with gr.Accordion("Sunnybrook (entered by the clinician)", open=False):
                sunny_text = gr.Markdown(handlers.sunnybrook_markdown(
                    handlers.sunnybrook_from_form([])), elem_id="sunnybrook-scores")
                sunny_fields = []
                for group in sunny_scale.groups:
                    with gr.Row():
                        for item in (i for i in sunny_scale.items if i.group == group):
                            sunny_fields.append(gr.Dropdown(
                                handlers.sunnybrook_choices(item), value=None,
                                label=f"{group}: {item.name}", elem_id=f"sb-{item.id}"))
            update = gr.Button("Update scores", elem_id="update-scores")
            with gr.Row():
                subject = gr.Textbox(label="Subject (the clinic's pseudonym, never a name)",
                                     placeholder="P017", elem_id="subject")
                visit = gr.Textbox(label="Visit date (YYYY-MM-DD)",
                                   value=_dt.date.today().isoformat(), elem_id="visit")
                save = gr.Button("Save visit", elem_id="save-visit")
                export = gr.Button("Export PDF, CSV, JSON", elem_id="export")
            message = gr.Markdown(elem_id="message")
            files = gr.File(label="Report files", file_count="multiple", elem_id="report-files")
        with gr.Tab("Recovery", id="recovery"):
            gr.Markdown("Every saved score and grade of a subject over the visits.")
            with gr.Row():
                who = gr.Textbox(label="Subject", placeholder="P017", elem_id="recovery-subject")
                show = gr.Button("Show", elem_id="recovery-show")
            recovery_text = gr.Markdown(elem_id="recovery-text")
            recovery_plot = gr.Image(label="Scores over visits", type="numpy",
                                     elem_id="recovery-plot")
            recovery_table = gr.Dataframe(
                headers=["visit", "eFACE static", "eFACE dynamic", "eFACE total",
                         "Sunnybrook composite", "model grades"], elem_id="recovery-table")
        with gr.Tab("About", id="about"):
            about = gr.Markdown()
            blocks.load(installation_summary, outputs=about)

        def on_grade(*args, progress=gr.Progress()):
            set_files, rest = list(args[:len(MOVEMENTS)]), args[len(MOVEMENTS):]
            single_f, video_f, webcam_f, movement, side_v, state = rest
            graded = handlers.grade(set_files, single_f, video_f, webcam_f, movement, side_v,
                                    state, progress=lambda f, t: progress(f, desc=t))
            return (graded.summary_text, graded.notes, graded.gallery, graded.chart,
                    graded.table, graded.grades_text, graded.eface_text, *graded.eface_values,
                    graded.session)

        go.click(on_grade, inputs=[*slots, single, video, webcam, single_movement, side, session],
                 outputs=[summary, notes, gallery, chart, table, grades, eface_text,
                          *eface_fields, session])
        example_set.click(lambda: (*handlers.example_set(), None, None, None),
                          outputs=[*slots, single, video, webcam]).then(
            on_grade, inputs=[*slots, single, video, webcam, single_movement, side, session],
            outputs=[summary, notes, gallery, chart, table, grades, eface_text, *eface_fields,
                     session])
        example_one.click(lambda: (handlers.example_single(), None, None,
                                   *[None] * len(MOVEMENTS)),
                          outputs=[single, video, webcam, *slots]).then(
            on_grade, inputs=[*slots, single, video, webcam, single_movement, side, session],
            outputs=[summary, notes, gallery, chart, table, grades, eface_text, *eface_fields,
                     session])

        def on_update(state, *values):
            return handlers.update_scores(state, values[:len(eface_fields)],
                                          values[len(eface_fields):])

        update.click(on_update, inputs=[session, *eface_fields, *sunny_fields],
                     outputs=[eface_text, sunny_text, summary])

        def on_save(state, who_, day, *values):
            return handlers.save_visit(state, who_, day, values[:len(eface_fields)],
                                       values[len(eface_fields):])

        save.click(on_save, inputs=[session, subject, visit, *eface_fields, *sunny_fields],
                   outputs=message)

        def on_export(state, who_, day, *values):
            return handlers.export(state, values[:len(eface_fields)], values[len(eface_fields):],
                                   who_, day)

        export.click(on_export, inputs=[session, subject, visit, *eface_fields, *sunny_fields],
                     outputs=[files, message])
        show.click(handlers.subject_view, inputs=who,
                   outputs=[recovery_plot, recovery_table, recovery_text])
    return blocks


def launch(host: str = "127.0.0.1", port: int = 7860, *, pages: str = "demo",
           login: bool = False) -> None:
    """Serve the clinician page (``pages="demo"``; behind a login of a clinician or admin when
    ``login``) or the labelling pages (``"label"``, always behind a login) until SIGTERM or
    Ctrl-C: see :mod:`fpgrade_ui.server`."""
    from fpgrade.labelling.model import Role
    from fpgrade_ui.server import Pages, serve

    if pages == "label":
        from fpgrade_ui.labelling_app import CSS, SHORTCUTS, TITLE, build_labelling

        served = Pages(build_labelling(), TITLE, "Labelling pages: raters, adjudicators, "
                       "clinicians and admins of this group.", concurrency=8,
                       mount={"head": SHORTCUTS, "css": CSS})   # many raters; the database decides races
    else:
        served = Pages(build_demo(), "fpgrade: facial palsy grading",
                       "The clinician page: for clinicians and admins of this group.",
                       login=login, roles=frozenset({Role.CLINICIAN, Role.ADMIN}))
    serve(served, host, port, pages)
