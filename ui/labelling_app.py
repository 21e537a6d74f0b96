"""The labelling pages (issue 11): login, my queue and the labelling view, adjudication,
progress, agreement with export, and admin, served by ``fpgrade label``.

Built here (gradio is imported only under ``ui/``); every event calls a plain handler of
:mod:`fpgrade_ui.labelling_handlers` (labelling view, face crop, label change; the adjudication
and admin tabs are built in :mod:`~fpgrade_ui.labelling_adjudication_tab` and
:mod:`~fpgrade_ui.labelling_admin_tab`),
:mod:`~fpgrade_ui.labelling_adjudication`, :mod:`~fpgrade_ui.labelling_progress` or
:mod:`~fpgrade_ui.labelling_admin`, which checks the logged-in account's role on the server.
The photo fills the window's height (1366x768 without scrolling) at the same size in the
labelling and adjudication views; zoom, pan, contrast and the keys are :data:`SHORTCUTS`; the
campaign lists refresh on every tab select and with "Refresh list" (no new login).
G shows the campaign's guideline (:mod:`~fpgrade_ui.labelling_guideline`) in the photo's place;
a video's end is reported to the server, which refuses its grade until then.
The account of every event comes from the request's login cookie (:func:`as_user`; checked by
:mod:`fpgrade_ui.web_guard` on every request), never from the page. Per-user state (the open
medium, the open case) lives in ``gr.State``, one per
browser session, never in a module global. Tabs a role may not use are hidden, but hiding is
cosmetic: the handlers refuse them whatever calls them (the page or the HTTP API).
"""

from __future__ import annotations

import gradio as gr

from fpgrade.labelling.model import Action, CannotGrade
from fpgrade_ui import labelling_adjudication_tab as adjudication_page
from fpgrade_ui import labelling_admin_tab as admin_page
from fpgrade_ui import labelling_guideline as guide
from fpgrade_ui import labelling_handlers as h
from fpgrade_ui import labelling_progress as prog
from fpgrade.errors import FpgradeError
from fpgrade_ui.labelling_events import KEEP, _said, as_user, guarded, keep_choice
from fpgrade_ui.labelling_page import (  # noqa: F401 - CSS, SHORTCUTS: ui/app.py mounts them
    CSS, PHOTO_HEIGHT, PHOTO_LABEL, SHORTCUTS,
)
from fpgrade_ui.markdown_text import md

TITLE = "fpgrade: labelling (triple check)"
PLAY_FIRST = "Play the video to its end: its grade is taken once it has played."
CANNOT_GRADE_CHOICES = [(text, code) for code, text in h.CANNOT_GRADE_TEXT.items()]


def quiet(where) -> dict:
    """The progress of next / submit / skip: a small spinner on ``where`` (the medium's title)
    only. Gradio's default covers each of the event's ~17 outputs with an animated overlay,
    which cost the browser more than all the rest of the answer (4 raters on 2 cores: p95 1.7 s
    with it, 0.7 s without; ``bench/labelling_browser.py``)."""
    return {"show_progress": "minimal", "show_progress_on": [where]}


def build_labelling() -> gr.Blocks:
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(600, 3600)) as blocks:
        task = gr.State(None)
        face_on = gr.State(False)       # the labelling view shows the face crop
        guideline_on = gr.State(False)  # the guideline is shown in the photo's place
        mine_open = gr.State(False)     # "My labels" is open (refreshed with each answer)
        with gr.Column(elem_id="main"):
            with gr.Row(equal_height=True):
                gr.Markdown(f"**{TITLE}**: blind passes, the asymmetry check and adjudication "
                            "(paper 001, section 2.3.3). Subjects are pseudonyms.",
                            elem_id="page-head")
                whoami = gr.Markdown(elem_id="whoami")
                gr.Button("Log out", link="logout", elem_id="logout-button", scale=0,
                          size="sm")
            with gr.Tabs():
                with gr.Tab("Label", id="label", elem_id="label-view") as label_tab:
                    with gr.Row(equal_height=True):
                        campaign = gr.Dropdown([], label="Campaign", elem_id="label-campaign",
                                               scale=3)
                        refresh_button = gr.Button("Refresh list", elem_id="refresh-campaigns",
                                                   scale=0, size="sm")
                        next_button = gr.Button("Next medium", variant="primary",
                                                elem_id="next-button", scale=0)
                        queue_line = gr.Markdown(elem_id="my-queue")
                    title = gr.Markdown(elem_id="medium-title")
                    shown = gr.Number(None, visible=False, precision=0, elem_id="shown-assignment")
                    with gr.Row():
                        with gr.Column(scale=3, elem_id="photo-column") as photo_column:
                            image = gr.Image(label=PHOTO_LABEL, type="numpy",
                                             height=PHOTO_HEIGHT, interactive=False,
                                             elem_id="medium-image")
                            video = gr.Video(label="Medium (video)", height=PHOTO_HEIGHT,
                                             interactive=False, visible=False,
                                             elem_id="medium-video")
                        # in the photo's place while open (G), so the page still fits
                        with gr.Column(scale=3, visible=False,
                                       elem_id="guideline-panel") as guideline_panel:
                            guideline_title = gr.Markdown(elem_id="guideline-title")
                            guideline_html = gr.HTML(elem_id="guideline-text",
                                                     max_height=260)
                            guideline_examples = gr.Gallery(
                                label="Example photos per grade (this campaign's final labels)",
                                columns=6, height=260, allow_preview=True,
                                elem_id="guideline-examples")
                        with gr.Column(scale=2):
                            label_message = gr.Markdown(elem_id="label-message",
                                                        elem_classes="message")
                            suggestion = gr.Markdown(elem_id="suggestion")
                            level = gr.Radio([], label="Level (keys 1-9)",
                                             elem_id="level-choice")
                            note = gr.Textbox(label="Comment for the adjudicator (optional)",
                                              max_lines=2, elem_id="note")
                            with gr.Row():
                                submit_button = gr.Button("Submit (Enter)", variant="primary",
                                                          elem_id="submit-label")
                                skip_button = gr.Button("Skip (S)", elem_id="skip-button")
                                face_button = gr.Button("Face crop (F)", elem_id="face-button")
                                guideline_button = gr.Button("Guideline (G)",
                                                             elem_id="guideline-button")
                            face_note = gr.Markdown(elem_id="face-note")
                            with gr.Row(equal_height=True):
                                reason = gr.Dropdown(CANNOT_GRADE_CHOICES, show_label=False,
                                                     value=CannotGrade.BAD_PHOTO.value,
                                                     elem_id="cannot-grade-reason")
                                cannot_button = gr.Button("Cannot grade",
                                                          elem_id="cannot-grade-button")
                    with gr.Accordion("My labels: change one before its check has run",
                                      open=False, elem_id="my-labels") as my_labels_box:
                        with gr.Row():
                            mine = gr.Dropdown([], label="My label", elem_id="my-label")
                            new_level = gr.Radio([], label="New level", elem_id="new-level")
                            change_note = gr.Textbox(label="New comment (empty: keep the old one)",
                                                     max_lines=2, elem_id="change-note")
                            change_button = gr.Button("Change", elem_id="change-button",
                                                      scale=0)
                        change_message = gr.Markdown(elem_id="change-message",
                                                     elem_classes="message")
                    levels_text = gr.Markdown(elem_id="levels-text")
                adjudication = adjudication_page.build()
                with gr.Tab("Progress and agreement", id="agreement", visible=False,
                            elem_id="agreement-view") as agreement_tab:
                    with gr.Row():
                        view_campaign = gr.Dropdown([], label="Campaign",
                                                    elem_id="view-campaign")
                        show_button = gr.Button("Show", elem_id="show-agreement", scale=0)
                        export_button = gr.Button("Export final labels (CSV)",
                                                  elem_id="export-button", scale=0)
                        figures_button = gr.Button("Export per-labeller figures (CSV)",
                                                   elem_id="figures-button", scale=0)
                    with gr.Row():
                        progress_text = gr.Markdown(elem_id="progress-text")
                        agreement_text = gr.Markdown(elem_id="agreement-text")
                    heatmap = gr.Image(label="Confusion between raters (rows: first rater)",
                                       type="numpy",
                                       interactive=False, height=420, elem_id="heatmap")
                    with gr.Row():
                        export_file = gr.File(label="Final labels", elem_id="export-file",
                                              height=90)
                        figures_file = gr.File(label="Per-labeller figures over time",
                                               elem_id="figures-file", height=90)
                    view_message = gr.Markdown(elem_id="view-message", elem_classes="message")
                admin = admin_page.build()

        campaign_dropdowns = [campaign, adjudication.campaign, view_campaign, admin.campaign]

        def choices(me):
            """Each campaign dropdown's choices for this account (empty where not allowed)."""
            label = h.open_campaigns(me) if h.can(me, Action.LABEL) else []
            every = h.all_campaigns(me) if h.can(me, Action.VIEW) else []
            first = label[0][1] if label else None
            return [gr.update(choices=label, value=first), gr.update(choices=every, value=None),
                    gr.update(choices=every, value=every[0][1] if every else None),
                    gr.update(choices=every, value=None)]

        # -- who is logged in (the login form and logout are routes of fpgrade_ui.web_auth) --
        def on_load(me):
            return (f"Logged in as **{md(me.name)}** ({me.role})",
                    gr.update(visible=h.can(me, Action.LABEL)),
                    gr.update(visible=h.can(me, Action.ADJUDICATE)),
                    gr.update(visible=h.can(me, Action.VIEW)),
                    gr.update(visible=h.can(me, Action.ADMIN)), *choices(me))

        blocks.load(as_user(on_load), None,
                    [whoami, label_tab, adjudication.tab, agreement_tab, admin.tab,
                     *campaign_dropdowns], api_name="whoami")

        # -- the campaign lists refresh without a new login: on tab select and the button --
        def refreshed(me, *current):
            """Each campaign dropdown's choices now, keeping what is chosen while it exists."""
            label = h.open_campaigns(me) if h.can(me, Action.LABEL) else []
            every = h.all_campaigns(me) if h.can(me, Action.VIEW) else []
            return [keep_choice(label, current[0]), keep_choice(every, current[1])
                    if current[1] is not None else gr.update(choices=every),
                    keep_choice(every, current[2]), keep_choice(every, current[3])
                    if current[3] is not None else gr.update(choices=every)]

        @guarded(*[KEEP] * 3)
        def on_refresh(me, *current):
            return (*refreshed(me, *current), "")

        for tab in (label_tab, adjudication.tab, agreement_tab, admin.tab):
            tab.select(as_user(on_refresh), campaign_dropdowns,
                       [*campaign_dropdowns, label_message], api_name=False)
        refresh_button.click(as_user(on_refresh), campaign_dropdowns,
                             [*campaign_dropdowns, label_message], api_name="refresh_campaigns")

        # -- labelling view --
        # Next, submit, "cannot grade" and skip are each ONE server event that also answers the
        # queue line, puts the photo back in the guideline's place and refreshes "My labels"
        # while that list is open (before: four events a submit, ~200 ms of server CPU; issue
        # 20's speed target). The level radio and the levels text are sent again only when the
        # scale changes, so the browser does not rebuild them on every photo.
        def show_task(view, message, before=None):
            """The outputs of :data:`task_outputs` for ``view`` (``None``: nothing left); what
            is as it was for the medium ``before`` is left as it is (each update costs the
            browser: 4 raters on 2 cores share it)."""
            if view is None:
                return (None, "Nothing left for you in this campaign.",
                        gr.update(value=None, visible=True), gr.update(value=None, visible=False),
                        gr.update(value=None, visible=False), "", "", message, None, "", False)
            same_scale = before is not None and before.levels == view.levels
            photos_only = before is not None and before.video is None and view.video is None
            return (view, f"### {view.title}",
                    gr.update(value=view.image, visible=view.video is None),
                    KEEP if photos_only else
                    gr.update(value=view.video, visible=view.video is not None),
                    gr.update(value=None) if same_scale else
                    gr.update(choices=view.levels, value=None, visible=True),
                    KEEP if same_scale else view.levels_text,
                    KEEP if before is not None and before.suggestion_text == view.suggestion_text
                    else view.suggestion_text,
                    f"{message} {PLAY_FIRST}".strip() if view.task.must_play else message,
                    view.task.assignment_id,
                    KEEP if before is not None and before.face is None else "", False)

        # the API's outputs keep their places (bench/labelling_load reads title [0], the
        # message [6] and the shown id [7]); the face note and state come after, then (for
        # submit and "cannot grade") the emptied comment, then :data:`follow_outputs`
        task_outputs = [task, title, image, video, level, levels_text, suggestion,
                        label_message, shown, face_note, face_on]
        # (the photo comes back in the guideline's place by the page's script, SHORTCUTS: an
        # update of a column makes Gradio's page walk all that is in it, on every submit)
        follow_outputs = [queue_line, mine, new_level]
        follow_inputs = [mine_open]

        def follow(me, chosen, list_open):
            """What changes besides the medium: the queue line, and "My labels" (only while
            open; else when it is opened)."""
            return (on_queue_line(me, chosen),
                    *(on_mine(me, chosen) if list_open else (KEEP, KEEP)))

        def refused(view, exc):
            return (view, KEEP, KEEP, KEEP, KEEP, KEEP, KEEP, _said(exc), KEEP, KEEP, KEEP)

        def on_queue_line(me, chosen):
            try:
                return h.my_queue(me, chosen)
            except FpgradeError:
                return ""

        def on_mine(me, chosen):
            """The rater's labels that may still change, and the scale's levels to change to."""
            try:
                labels, levels = h.my_labels_and_levels(me, chosen)
            except FpgradeError:
                return KEEP, KEEP
            return (gr.update(choices=labels, value=labels[0][1] if labels else None),
                    gr.update(choices=levels))

        def after(me, chosen, message, before=None):
            """The next medium (after a submit or skip, with the message of what was done)."""
            try:
                return show_task(h.next_task(me, chosen), message, before)
            except FpgradeError as exc:
                return (None, "", gr.update(value=None), KEEP, gr.update(value=None),
                        "", "", f"{message} {_said(exc)}".strip(), None, "", False)

        def on_next(me, chosen, view, list_open):
            shown_now = after(me, chosen, "", view)
            return (*shown_now, *follow(me, chosen, list_open))

        next_button.click(as_user(on_next), [campaign, task, *follow_inputs],
                          [*task_outputs, *follow_outputs], api_name="next_medium", **quiet(title))

        def answered(me, view, chosen, list_open, **how):
            """Store the shown medium's answer, then the next medium (or the refusal)."""
            try:
                done = h.submit(me, view, **how)
            except FpgradeError as exc:
                return (*refused(view, exc), KEEP, *[KEEP] * len(follow_outputs))
            shown_now = after(me, chosen, done.message, view)
            return (*shown_now, "" if how.get("note") else KEEP,
                    *follow(me, chosen, list_open))

        def on_submit(me, view, chosen, level_code, text, shown_id, list_open):
            return answered(me, view, chosen, list_open, label=level_code,
                            note=text, shown=shown_id)

        submit_button.click(as_user(on_submit),
                            [task, campaign, level, note, shown, *follow_inputs],
                            [*task_outputs, note, *follow_outputs], api_name="submit_label",
                            **quiet(title))

        def on_cannot(me, view, chosen, why_not, text, shown_id, list_open):
            return answered(me, view, chosen, list_open, label=None,
                            cannot_grade=why_not, note=text, shown=shown_id)

        cannot_button.click(as_user(on_cannot),
                            [task, campaign, reason, note, shown, *follow_inputs],
                            [*task_outputs, note, *follow_outputs], api_name="cannot_grade",
                            **quiet(title))

        def on_skip(me, view, chosen, shown_id, list_open):
            try:
                message = h.skip(me, view, shown_id)
            except FpgradeError as exc:
                return (*refused(view, exc), *[KEEP] * len(follow_outputs))
            shown_now = after(me, chosen, message, view)
            return (*shown_now, *follow(me, chosen, list_open))

        skip_button.click(as_user(on_skip), [task, campaign, shown, *follow_inputs],
                          [*task_outputs, *follow_outputs], api_name="skip", **quiet(title))

        def on_mine_opened(me, chosen):
            return (*on_mine(me, chosen), True)

        my_labels_box.expand(as_user(on_mine_opened), [campaign],
                             [mine, new_level, mine_open], api_name=False)
        my_labels_box.collapse(lambda: False, None, mine_open, api_name=False,
                               show_progress="hidden")

        # -- the campaign's guideline, in the photo's place (G toggles) --
        @guarded(KEEP, KEEP, KEEP, KEEP, KEEP, KEEP)
        def on_guideline(me, chosen, open_now):
            if open_now:
                return (gr.update(visible=True), gr.update(visible=False), False, KEEP, KEEP,
                        KEEP, "")
            title_text, html, gallery = guide.show(me, chosen)
            return (gr.update(visible=False), gr.update(visible=True), True, title_text, html,
                    gallery, "")

        guideline_button.click(
            as_user(on_guideline), [campaign, guideline_on],
            [photo_column, guideline_panel, guideline_on, guideline_title, guideline_html,
             guideline_examples, label_message], api_name="guideline")

        # the server keeps that the video played to its end; its label is refused until then
        video.end(as_user(guarded()(h.video_played)), [task], label_message,
                  api_name="video_played")

        def face_toggle(me, view, on):
            """The face crop, or back to the whole photo (F)."""
            try:
                if on:
                    return gr.update(value=view.image if view else None), "", False
                crop, said = h.face_crop(me, view)
                return gr.update(value=crop), said, True
            except FpgradeError as exc:
                return KEEP, _said(exc), on

        face_button.click(as_user(face_toggle), [task, face_on], [image, face_note, face_on],
                          api_name="face_crop")

        @guarded(KEEP)
        def on_change(me, chosen, assignment, code, text):
            message = h.change(me, assignment, code, text)
            labels = h.my_labels(me, chosen)
            return gr.update(choices=labels, value=assignment if assignment in
                             [v for _, v in labels] else None), message

        change_button.click(as_user(on_change), [campaign, mine, new_level, change_note],
                            [mine, change_message], api_name="change_label")

        adjudication_page.wire(adjudication, face_toggle)

        # -- progress, agreement, export --
        @guarded(KEEP, KEEP, KEEP)
        def on_show(me, chosen):
            report = prog.agreement(me, chosen)
            return prog.progress(me, chosen), report.text, report.heatmap, ""

        show_button.click(as_user(on_show), [view_campaign],
                          [progress_text, agreement_text, heatmap, view_message],
                          api_name="agreement")

        @guarded(KEEP)
        def on_export(me, chosen):
            path, count = prog.export_csv(me, chosen)
            return path, f"{count} final labels exported."

        export_button.click(as_user(on_export), [view_campaign], [export_file, view_message],
                            api_name="export")

        @guarded(KEEP)
        def on_figures(me, chosen):
            path, count = prog.export_figures_csv(me, chosen)
            return path, f"{count} rows of per-labeller figures exported."

        figures_button.click(as_user(on_figures), [view_campaign], [figures_file, view_message],
                             api_name="export_figures")

        admin_page.wire(admin, choices, campaign_dropdowns)
    return blocks
