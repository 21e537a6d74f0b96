"""The clinician page's layout and wiring (``fpgrade demo``); the handlers are the plain functions
of :mod:`fpgrade_ui.handlers`.

One patient at a time: **Clear**, an example button and every new upload reset every output and
the server-side session (``gr.State``) before anything else, so a save can never carry the last
patient's values. Saving needs a graded set; a second save of the same subject and date asks
whether to replace the earlier assessment or keep both.
"""

from __future__ import annotations

import datetime as _dt
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from fpgrade.clinic.movements import MOVEMENTS
from fpgrade_ui import (handlers, landmark_editor, landmark_handlers, protocol_strip,
                        recovery_compare, visit_handlers)


CHANGED = "The photos changed: press **Grade** to grade them (nothing of the last grading is kept)."
PROTOCOL = ("A protocol video: check its strip of frames, replace any, then press **Grade these "
            "frames** (nothing of the last grading is kept).")
DISCARDED = ("That grading was discarded: Clear was pressed or the photos changed while it ran. "
             "Press **Grade** to grade the photos now shown.")


class _Patients:
    """Which patient each open page (a random id per page, never a credential) is at: Clear, an example button and an upload start the next one; a grading whose patient is
    no longer current when it ends shows nothing."""

    def __init__(self) -> None:
        self._count: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, page: str | None) -> None:
        with self._lock:
            self._count[page or ""] = self._count.get(page or "", 0) + 1

    def current(self, page: str | None) -> int:
        with self._lock:
            return self._count.get(page or "", 0)


_patients = _Patients()


def build(intro: str, movement_choices: list, about: Callable[[], str]) -> gr.Blocks:
    eface_scale, sunny_scale = handlers.eface_scale(), handlers.sunnybrook_scale()
    with gr.Blocks(title="fpgrade: facial palsy grading", delete_cache=(600, 3600),
                   analytics_enabled=False) as blocks:
        session = gr.State(None)
        page_id = gr.State(lambda: uuid.uuid4().hex)  # one per open page (not a credential)
        gr.Markdown(intro)
        with gr.Tab("Grade", id="grade"):
            with gr.Row():
                example_set = gr.Button("Example set (5 expression photos of a healthy volunteer; "
                                        "her 'rest' photo is not neutral)", elem_id="example-set")
                example_one = gr.Button("Example photo (one face)", elem_id="example-one")
            with gr.Accordion("Standard photo set: one photo per movement", open=True):
                with gr.Row():
                    slots = [gr.Image(type="filepath", label=m.instruction, sources=["upload"],
                                      height=170, elem_id=f"slot-{m.key}") for m in MOVEMENTS]
            with gr.Accordion("Or: one photo, a video, or the webcam", open=True):
                with gr.Row():
                    single = gr.File(label="Photo", type="filepath", elem_id="single-photo")
                    video = gr.File(label="Video", type="filepath", elem_id="video")
                    webcam = gr.Image(type="filepath", sources=["webcam"], label="Webcam",
                                      height=170)
                    with gr.Column():
                        single_movement = gr.Dropdown(movement_choices, value="rest",
                                                      label="Movement of this photo / video")
                        side = gr.Radio(list(handlers.SIDE_CHOICES), value="automatic",
                                        label="Healthy side")
            protocol = protocol_strip.build()
            with gr.Row():
                go = gr.Button("Grade", variant="primary", elem_id="grade-button")
                clear = gr.Button("Clear (next patient)", elem_id="clear-button")
            gr.Markdown("### Summary")
            summary = gr.Markdown(elem_id="summary")
            notes = gr.Markdown(elem_id="notes")
            with gr.Row():
                gallery = gr.Gallery(label="Landmarks and measurement lines (red: patient's "
                                     "right, blue: left)", columns=3, height=420,
                                     elem_id="overlays")
                chart = gr.Image(label="Regional asymmetry", type="numpy", elem_id="chart")
            with gr.Accordion("Correct the landmarks by hand", open=True,
                              elem_id="landmark-box"):
                gr.Markdown(landmark_editor.HELP)
                editor = landmark_editor.component()
                landmark_message = gr.Markdown(elem_id="landmark-message")
            gr.Markdown("### Measurements per movement (the patient's right and left; normal "
                        "values of healthy adults where published)")
            table = gr.HTML(elem_id="measurements")
            gr.Markdown("### Trained-model grades")
            grades = gr.Markdown(elem_id="grades")
            with gr.Accordion("Grades of each photo", open=False, elem_id="photo-grades-box"):
                photo_grades = gr.Markdown(elem_id="photo-grades")
            with gr.Accordion("eFACE (items from the photos, editable)", open=True):
                eface_text = gr.Markdown(elem_id="eface-scores")
                eface_fields = []
                for group in eface_scale.groups:
                    with gr.Row():
                        for item in (i for i in eface_scale.items if i.group == group):
                            eface_fields.append(gr.Number(
                                label=f"{group.capitalize()}: {item.name}"
                                + ("" if item.automatic else " (clinician)"),
                                minimum=0, maximum=100, value=None, precision=1,
                                placeholder="not graded", elem_id=f"eface-{item.id}"))
                eface_chart = gr.Image(label="eFACE items against normal (100)", type="numpy",
                                       interactive=False, elem_id="eface-chart")
            with gr.Accordion("Sunnybrook (entered by the clinician)", open=False):
                empty_sunny = handlers.sunnybrook_markdown(handlers.sunnybrook_from_form([]))
                sunny_text = gr.Markdown(empty_sunny, elem_id="sunnybrook-scores")
                sunny_fields = []
                for group in sunny_scale.groups:
                    with gr.Row():
                        for item in (i for i in sunny_scale.items if i.group == group):
                            sunny_fields.append(gr.Dropdown(
                                handlers.sunnybrook_choices(item), value=None,
                                label=f"{group.capitalize()}: {item.name}",
                                elem_id=f"sb-{item.id}"))
            update = gr.Button("Update scores", elem_id="update-scores")
            with gr.Row():
                subject = gr.Textbox(label="Subject (the clinic's pseudonym, never a name)",
                                     placeholder="P017", elem_id="subject")
                visit = gr.Textbox(label="Visit date (YYYY-MM-DD, not in the future)",
                                   value=lambda: _dt.date.today().isoformat(), elem_id="visit")
                save = gr.Button("Save visit", elem_id="save-visit")
            keep = gr.Checkbox(False, label=visit_handlers.keep_photos_label(),
                               elem_id="keep-photos")
            message = gr.Markdown(elem_id="message")  # beside the buttons it speaks of
            with gr.Row(visible=False, elem_id="ask-existing") as ask:
                replace = gr.Button("Replace the saved assessment", elem_id="save-replace")
                keep_both = gr.Button("Keep both", elem_id="save-keep-both")
            with gr.Row():
                comment = gr.Textbox(label="Comment for the report", lines=2,
                                     elem_id="comment")
                clinician = gr.Textbox(label="Clinician (name on the report)",
                                       elem_id="clinician")
                export = gr.Button("Export PDF, CSV, JSON", elem_id="export")
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
                headers=["Visit", "eFACE at rest (static)", "eFACE movement (dynamic)",
                         "eFACE total", "Sunnybrook composite", "Trained-model grades of the set"],
                elem_id="recovery-table")
            recovery_compare.build(who, show, refresh=(
                handlers.subject_view, [recovery_plot, recovery_table, recovery_text]))
            landmark_editor.summary_block()
        with gr.Tab("About", id="about"):
            about_text = gr.Markdown()
            blocks.load(about, outputs=about_text)

        inputs = [*slots, single, video, webcam]
        graded_outputs = [summary, notes, gallery, chart, table, grades, photo_grades,
                          eface_text, *eface_fields, session]
        outputs = [*graded_outputs, editor, landmark_message]
        # what a new patient resets besides the graded outputs: the clinician's entries
        entries = [*sunny_fields, sunny_text, message, files, ask, comment, keep]

        def shown_graded(graded: handlers.Graded) -> tuple:
            return (graded.summary_text, graded.notes, graded.gallery, graded.chart,
                    graded.table, graded.grades_text, graded.photo_grades_text,
                    graded.eface_text, *graded.eface_values, graded.session)

        def shown(graded: handlers.Graded) -> tuple:
            return (*shown_graded(graded), landmark_handlers.editor_value(graded.session), "")

        def reset_entries() -> tuple:
            return (*[None] * len(sunny_fields), empty_sunny, "", None, gr.update(visible=False),
                    "", False)

        def on_reset(page: str, notes: str):
            _patients.next(page)
            return (*shown(handlers.empty(notes)), *reset_entries())

        def on_upload(page):
            return on_reset(page, CHANGED)

        def on_clear(page):
            return (*[None] * len(inputs), "automatic", "", *on_reset(page, ""))

        def on_example(files):
            def start(page):
                return (*files(), *on_reset(page, ""))
            return start

        def on_grade(page, *args, progress=gr.Progress()):
            patient = _patients.current(page)
            set_files, rest = list(args[:len(MOVEMENTS)]), args[len(MOVEMENTS):]
            single_f, video_f, webcam_f, movement, side_v = rest
            graded = handlers.grade(set_files, single_f, video_f, webcam_f, movement, side_v,
                                    progress=lambda f, t: progress(f, desc=t))
            if _patients.current(page) != patient:  # Clear or an upload came
                return shown(handlers.empty(DISCARDED))
            return shown(graded)

        grade_inputs = [page_id, *inputs, single_movement, side]
        gradings = [go.click(on_grade, inputs=grade_inputs, outputs=outputs)]
        gradings.append(example_set.click(
            on_example(lambda: (*handlers.example_set(), None, None, None)), inputs=page_id,
            outputs=[*inputs, *outputs, *entries]).then(
            on_grade, inputs=grade_inputs, outputs=outputs))
        gradings.append(example_one.click(
            on_example(lambda: (*[None] * len(MOVEMENTS), handlers.example_single(), None,
                                None)), inputs=page_id,
            outputs=[*inputs, *outputs, *entries]).then(
            on_grade, inputs=grade_inputs, outputs=outputs))
        # A protocol video: its chosen frames fill the set's slots, then the set is graded.
        def on_protocol(page, state):
            return (*protocol_strip.ph.slot_files(state), None, None, None,
                    *on_reset(page, ""))

        gradings.append(protocol.grade.click(
            on_protocol, inputs=[page_id, protocol.state],
            outputs=[*inputs, *outputs, *entries]).then(
            on_grade, inputs=grade_inputs, outputs=outputs))
        protocol.video.upload(lambda page: on_reset(page, PROTOCOL), inputs=page_id,
                              outputs=[*outputs, *entries])
        clear.click(protocol.reset, outputs=[protocol.video, protocol.gallery, protocol.notes,
                                             protocol.state])
        # Clear and a new upload (or a removed photo) start the next patient: they empty the
        # outputs and count a new patient for this tab; a grading that was running when they
        # came shows nothing when it ends (its result would otherwise land after them).
        clear.click(on_clear, inputs=page_id, outputs=[*inputs, side, subject, *outputs, *entries])
        for component in inputs:
            if isinstance(component, gr.Image):  # upload, webcam capture or removal
                component.input(on_upload, inputs=page_id, outputs=[*outputs, *entries])
            else:
                for event in (component.upload, component.clear):
                    event(on_upload, inputs=page_id, outputs=[*outputs, *entries])

        def on_update(state, *values):
            return handlers.update_scores(state, values[:len(eface_fields)],
                                          values[len(eface_fields):])

        update.click(on_update, inputs=[session, *eface_fields, *sunny_fields],
                     outputs=[eface_text, sunny_text, summary])
        for field in eface_fields:  # the notes follow an edited item
            field.input(on_update, inputs=[session, *eface_fields, *sunny_fields],
                        outputs=[eface_text, sunny_text, summary])
        # the chart follows the scores' text (a grading, an edited item, a new patient)
        eface_text.change(lambda state, *values: visit_handlers.eface_chart_image(state, values),
                          inputs=[session, *eface_fields], outputs=eface_chart)

        def saver(on_existing):
            def on_save(state, who_, day, keep_, *values):
                text, asking = handlers.save_visit(state, who_, day, values[:len(eface_fields)],
                                                   values[len(eface_fields):], on_existing,
                                                   keep_photos=bool(keep_))
                return text, gr.update(visible=asking)
            return on_save

        save_inputs = [session, subject, visit, keep, *eface_fields, *sunny_fields]
        save.click(saver(None), inputs=save_inputs, outputs=[message, ask])
        replace.click(saver("replace"), inputs=save_inputs, outputs=[message, ask])
        keep_both.click(saver("keep_both"), inputs=save_inputs, outputs=[message, ask])

        def on_export(state, who_, day, note, name, *values):
            written, text = handlers.export(state, values[:len(eface_fields)],
                                            values[len(eface_fields):], who_, day, note, name)
            if written:  # the corrected points, for fpgrade measure --landmarks
                written += landmark_handlers.points_files(state, Path(written[0]).stem)
            return written, text

        export.click(on_export, inputs=[session, subject, visit, comment, clinician,
                                        *eface_fields, *sunny_fields], outputs=[files, message])
        landmark_editor.wire(editor, session, eface_fields, graded_outputs, shown_graded,
                             landmark_message, chart)
        show.click(handlers.subject_view, inputs=who,
                   outputs=[recovery_plot, recovery_table, recovery_text])
    return blocks
