"""The Recovery tab's "before and after" (issue 19), laid out inside the tab by
:func:`build`: two choosers of the subject's saved visits, **Compare**, the score changes, and
one row per movement with the two overlays side by side (left the earlier visit, right the
later) and the differences below them; **Delete this visit…** asks before it deletes a saved
visit (its rows and its kept photos' files).

The pictures reach the browser only as outputs of these events (arrays that Gradio writes into
its own cache), so the server's file guard (:mod:`fpgrade_ui.web_files`) serves them to the
user whose page received them and to no one else; the kept files' paths never leave the server.
The handlers are :mod:`fpgrade_ui.visit_handlers`.
"""

from __future__ import annotations

import gradio as gr

from fpgrade.clinic.movements import MOVEMENTS
from fpgrade_ui import visit_handlers

def build(who: gr.Textbox, show: gr.Button, refresh: tuple | None = None) -> None:
    """The comparison's components, below whatever the tab already holds, and their events.
    ``refresh``: (function of the subject, its outputs) that redraws the tab's history after a
    deletion."""
    gr.Markdown("### Before and after: two saved visits side by side")
    with gr.Row():
        earlier = gr.Dropdown([], label="Earlier visit (left)", elem_id="compare-earlier")
        later = gr.Dropdown([], label="Later visit (right)", elem_id="compare-later")
        go = gr.Button("Compare", variant="primary", elem_id="compare-visits")
    compare_text = gr.Markdown(elem_id="compare-text")
    scores = gr.HTML(elem_id="compare-scores")
    outputs = []
    for m in MOVEMENTS:
        with gr.Group(visible=False, elem_id=f"compare-{m.key}") as group:
            heading = gr.Markdown(f"#### {m.instruction}")
            with gr.Row():
                left = gr.Image(type="numpy", label="earlier", height=320, interactive=False,
                                elem_id=f"compare-{m.key}-earlier")
                right = gr.Image(type="numpy", label="later", height=320, interactive=False,
                                 elem_id=f"compare-{m.key}-later")
            table = gr.HTML(elem_id=f"compare-{m.key}-table")
        outputs += [group, heading, left, right, table]
    with gr.Accordion("Delete a saved visit (its scores, measurements and kept photos)",
                      open=False, elem_id="delete-box"):
        with gr.Row():
            doomed = gr.Dropdown([], label="Visit to delete", elem_id="delete-choice")
            remove = gr.Button("Delete this visit…", variant="stop", elem_id="delete-visit")
        delete_text = gr.Markdown(elem_id="delete-text")
        with gr.Row(visible=False, elem_id="ask-delete") as ask:
            confirm = gr.Button("Yes, delete it for good", variant="stop",
                                elem_id="delete-confirm")
            cancel = gr.Button("No, keep it", elem_id="delete-cancel")

    def empty_views() -> list:
        return [gr.update(visible=False), "", None, None, ""] * len(MOVEMENTS)

    def choosers(subject, text=None):
        choices, first, last, said = visit_handlers.visit_choices(subject)
        return (gr.update(choices=choices, value=first), gr.update(choices=choices, value=last),
                gr.update(choices=choices, value=None), said if text is None else text)

    def on_show(subject):
        return (*choosers(subject), "", gr.update(visible=False), "", *empty_views())

    def on_compare(a, b):
        result = visit_handlers.compare_visits(a, b)
        views = {v.key: v for v in result.movements}
        shown = []
        for m in MOVEMENTS:
            v = views.get(m.key)
            if v is None:
                shown += [gr.update(visible=False), "", None, None, ""]
                continue
            shown += [gr.update(visible=True), f"#### {v.heading}\n\n{v.summary}",
                      gr.update(value=v.earlier, label=v.earlier_label),
                      gr.update(value=v.later, label=v.later_label), v.table]
        return (result.message, result.scores, *shown)

    asked = gr.State(None)   # the visit the question named, kept on the server

    def on_ask(chosen):
        text, asking = visit_handlers.delete_question(chosen)
        return text, gr.update(visible=asking), chosen if asking else None

    def on_delete(chosen, subject, asked_id, request: gr.Request):
        text = visit_handlers.delete_visit(chosen, asked_id,
                                           by=getattr(request, "username", None))
        return (*choosers(subject, ""), text, gr.update(visible=False), "", *empty_views(),
                None)

    listed = [earlier, later, doomed, compare_text]
    view = [delete_text, ask, scores, *outputs]
    show.click(on_show, inputs=who, outputs=[*listed, *view])
    go.click(on_compare, inputs=[earlier, later], outputs=[compare_text, scores, *outputs])
    remove.click(on_ask, inputs=doomed, outputs=[delete_text, ask, asked])
    cancel.click(lambda: ("Nothing was deleted.", gr.update(visible=False), None),
                 outputs=[delete_text, ask, asked])
    deleted = confirm.click(on_delete, inputs=[doomed, who, asked],
                            outputs=[*listed, *view, asked])
    if refresh is not None:
        deleted.then(refresh[0], inputs=who, outputs=refresh[1])
