"""The landmark editor on the clinician page's Grade tab (issue 19): a ``gr.HTML`` whose
``js_on_load`` (``landmark_editor.js``, a plain canvas, no drawing library) draws each graded
photo with the points the measurements read, lets the clinician drag them or nudge them with the
arrow keys, and sends the corrected points with a custom ``moved`` event; the handlers are the
plain functions of :mod:`fpgrade_ui.landmark_handlers`.

Who corrected is the logged-in user (``request.username``), ``"demo"`` on a page without a login.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import gradio as gr

from fpgrade_ui import landmark_handlers

JS = (Path(__file__).with_name("landmark_editor.js")).read_text(encoding="utf-8")
CSS = """
.fp-lm-bar { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 6px; }
.fp-lm-bar button { border: 1px solid #bbb; border-radius: 6px; padding: 2px 8px;
  background: #f6f6f6; font-size: 0.85em; cursor: pointer; }
.fp-lm-bar button.selected { background: #2b6cb0; color: white; border-color: #2b6cb0; }
.fp-lm-bar .fp-lm-whole { margin-left: auto; }
.fp-lm-canvas { display: block; max-width: 100%; cursor: crosshair; border: 1px solid #ccc;
  border-radius: 4px; touch-action: none; }
.fp-lm-canvas:focus { outline: 2px solid #2b6cb0; }
.fp-lm-status { font-size: 0.85em; margin-top: 4px; min-height: 2.4em; }
.fp-lm-empty { font-size: 0.9em; color: #666; }
"""
HELP = ("Drag a point the detector placed wrongly (brows, lids and eye corners, the iris circles: "
        "centre and the dot on the rim for the radius, mouth corners and lips); the dashed "
        "yellow line is the facial midline, which follows the iris centres. Click a point and "
        "use the arrow keys for 1 px of the photo (Shift: 10 px); the mouse wheel magnifies the "
        "part under the pointer. Every measurement, eFACE item "
        "and the summary follow at once; the report lists every point moved.")


def component() -> gr.HTML:
    """The editor (place it where the page wants it)."""
    return gr.HTML(None, html_template="<div></div>", css_template=CSS, js_on_load=JS,
                   elem_id="landmark-editor", apply_default_css=False)


def wire(editor: gr.HTML, session: gr.State, eface_fields: Sequence, outputs: Sequence,
         shown: Callable, message: gr.Markdown, chart: gr.Image) -> None:
    """A move in ``editor`` grades the set again: ``outputs`` (the page's graded outputs, as
    ``shown(graded)`` returns them) and ``message`` (the correction line) at once; the
    regional-asymmetry ``chart`` (one of ``outputs``; matplotlib takes about a second) is drawn
    again right after."""
    at = list(outputs).index(chart)

    # gradio fills the request and the event's data (declared before *form, or it cannot)
    def on_moved(request: gr.Request, evt: gr.EventData, state, *form):
        user = getattr(request, "username", None) if request is not None else None
        graded, text = landmark_handlers.correct(state, getattr(evt, "_data", None),
                                                 list(form), user, chart=False)
        values = list(shown(graded))
        values[at] = gr.skip()
        return (*values, text)

    editor.moved(on_moved, inputs=[session, *eface_fields], outputs=[*outputs, message],
                 trigger_mode="always_last", show_progress="minimal").then(
        landmark_handlers.chart, inputs=session, outputs=chart, show_progress="hidden")


def summary_block() -> None:
    """An accordion (for the Recovery tab) with how often and how far this group's users
    corrected landmarks by hand, per landmark group, from every saved visit
    (:mod:`fpgrade.clinic.correction_summary`; ``fpgrade corrections --csv`` writes the same)."""
    from fpgrade.clinic import correction_summary as cs

    def show() -> str:
        return cs.markdown(cs.summarise(cs.saved()))

    with gr.Accordion("Landmarks corrected by hand (every subject)", open=False,
                      elem_id="corrections-box"):
        gr.Markdown("Where the detector fails for this group's patients: how often and how far "
                    "points were moved by hand in the saved visits (`fpgrade corrections --csv` "
                    "writes the same table).")
        button = gr.Button("Show the corrections summary", elem_id="corrections-show")
        text = gr.Markdown(elem_id="corrections-summary")
        button.click(show, outputs=text)
