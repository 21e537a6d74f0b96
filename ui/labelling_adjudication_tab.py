"""The adjudication tab of the labelling pages (split from :mod:`.labelling_app`): the queue
(subject, movement in words, the disagreement), the case at the labelling view's photo size,
and the decision from the keyboard. Every event calls a handler of
:mod:`.labelling_adjudication`, which checks the ``adjudicate`` permission on the server."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from fpgrade.errors import FpgradeError
from fpgrade.labelling.model import CannotGrade
from fpgrade_ui import labelling_adjudication as adj
from fpgrade_ui import labelling_handlers as h
from fpgrade_ui.labelling_events import KEEP, _said, as_user, guarded
from fpgrade_ui.labelling_page import PHOTO_HEIGHT, PHOTO_LABEL

CANNOT_GRADE_CHOICES = [(text, code) for code, text in h.CANNOT_GRADE_TEXT.items()]


def build() -> SimpleNamespace:
    """The tab's components and its per-session state (call inside ``gr.Tabs()``)."""
    with gr.Tab("Adjudication", id="adjudication", visible=False,
                elem_id="adjudication-view") as tab:
        case = gr.State(None)             # the open case
        case_face_on = gr.State(False)    # the case's photo shows the face crop
        with gr.Row(equal_height=True):
            campaign = gr.Dropdown([], label="Campaign (empty: all)",
                                   elem_id="adj-campaign", scale=2)
            queue_button = gr.Button("Refresh queue (Q)", elem_id="queue-button",
                                     scale=0)
            case_id = gr.Dropdown([], label="Adjudication", elem_id="case-id",
                                  scale=2)
            open_button = gr.Button("Open (O)", elem_id="open-case", scale=0)
        case_title = gr.Markdown(elem_id="case-title")
        with gr.Row():
            with gr.Column(scale=3):
                case_image = gr.Image(label=PHOTO_LABEL, type="numpy",
                                      height=PHOTO_HEIGHT, interactive=False,
                                      elem_id="case-image")
                case_video = gr.Video(label="Medium (video)", height=PHOTO_HEIGHT,
                                      interactive=False, visible=False,
                                      elem_id="case-video")
            with gr.Column(scale=2):
                # beside the photo, so that the photo sits where the labelling
                # view's does and fits the window
                queue = gr.Dataframe(headers=adj.QUEUE_HEADERS,
                                     label="Undecided adjudications",
                                     interactive=False, max_height=160,
                                     elem_id="adj-queue")
                case_details = gr.Markdown(elem_id="case-details")
                decision = gr.Radio([], label="Decision (keys 1-9)",
                                    elem_id="decision")
                why = gr.Textbox(label="Reason (required; R goes here, "
                                 "Ctrl+Enter decides)", max_lines=3,
                                 elem_id="decision-reason")
                with gr.Row():
                    decide_button = gr.Button("Decide (Enter)", variant="primary",
                                              elem_id="decide-button")
                    case_face_button = gr.Button("Face crop (F)",
                                                 elem_id="case-face-button")
                # under the button: seen where the decision was made
                case_message = gr.Markdown(elem_id="case-message",
                                           elem_classes="message")
                case_face_note = gr.Markdown(elem_id="case-face-note")
                with gr.Row():
                    adj_reason = gr.Dropdown(CANNOT_GRADE_CHOICES,
                                             value=CannotGrade.BAD_PHOTO.value,
                                             label="Cannot grade",
                                             elem_id="adj-cannot-reason")
                    exclude_button = gr.Button("Cannot be graded",
                                               elem_id="exclude-button")
    return SimpleNamespace(
        tab=tab, case=case, case_face_on=case_face_on, campaign=campaign,
        queue_button=queue_button, case_id=case_id, open_button=open_button,
        case_title=case_title, case_image=case_image, case_video=case_video, queue=queue,
        case_details=case_details, decision=decision, why=why, decide_button=decide_button,
        case_face_button=case_face_button, case_message=case_message,
        case_face_note=case_face_note, adj_reason=adj_reason, exclude_button=exclude_button)


def wire(c: SimpleNamespace, face_toggle) -> None:
    """The tab's events; ``face_toggle(me, view, on)``: the face crop event of the labelling
    view (shared)."""
    tab = c.tab
    case = c.case
    case_face_on = c.case_face_on
    campaign = c.campaign
    queue_button = c.queue_button
    case_id = c.case_id
    open_button = c.open_button
    case_title = c.case_title
    case_image = c.case_image
    case_video = c.case_video
    queue = c.queue
    case_details = c.case_details
    decision = c.decision
    why = c.why
    decide_button = c.decide_button
    case_face_button = c.case_face_button
    case_message = c.case_message
    case_face_note = c.case_face_note
    adj_reason = c.adj_reason
    exclude_button = c.exclude_button

    def queue_choices(rows):
        return [(f"#{r[0]}: {r[1]}, {r[2]}: {r[3]}", r[0]) for r in rows]

    @guarded(KEEP, KEEP)
    def on_queue(me, chosen):
        rows = adj.adjudication_queue(me, chosen)
        ids = queue_choices(rows)
        return (rows, gr.update(choices=ids, value=ids[0][1] if ids else None),
                f"{len(rows)} undecided.")

    queue_button.click(as_user(on_queue), [campaign], [queue, case_id, case_message],
                       api_name="adjudication_queue")
    tab.select(as_user(on_queue), [campaign], [queue, case_id, case_message], api_name=False)

    def on_open(me, chosen):
        try:
            view = adj.open_case(me, chosen)
        except FpgradeError as exc:
            return (None, "", gr.update(value=None), KEEP, "",
                    gr.update(choices=[], value=None), "", False, _said(exc))
        return (view, f"### {view.title}",
                gr.update(value=view.image, visible=view.video is None),
                gr.update(value=view.video, visible=view.video is not None), view.details,
                gr.update(choices=view.levels, value=None), "", False, "")

    open_button.click(as_user(on_open), [case_id],
                      [case, case_title, case_image, case_video, case_details,
                       decision, case_face_note, case_face_on, case_message],
                      api_name="open_case")
    case_face_button.click(as_user(face_toggle), [case, case_face_on],
                           [case_image, case_face_note, case_face_on], api_name=False)

    @guarded()
    def on_decide(me, view, code, text):
        return adj.decide(me, view, code, text)

    @guarded(KEEP, KEEP)
    def refresh_queue(me, chosen):  # after a decision: the queue without the decided case
        rows = adj.adjudication_queue(me, chosen)
        ids = queue_choices(rows)
        return rows, gr.update(choices=ids, value=ids[0][1] if ids else None), KEEP

    decide_button.click(as_user(on_decide), [case, decision, why], case_message,
                        api_name="decide").then(
        as_user(refresh_queue), [campaign], [queue, case_id, case_message],
        api_name=False)

    @guarded()
    def on_exclude(me, view, why_not, text):
        return adj.decide(me, view, None, text, cannot_grade=why_not)

    exclude_button.click(as_user(on_exclude), [case, adj_reason, why], case_message,
                         api_name="exclude").then(
        as_user(refresh_queue), [campaign], [queue, case_id, case_message],
        api_name=False)
