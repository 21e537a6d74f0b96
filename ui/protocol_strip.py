"""The clinician page's "Protocol video" box: upload, the strip of chosen frames, replacing one.

Built inside the Grade tab by :func:`build`; the page wires **Grade these frames** to its own
set grading (the frames go into the set's slots, then the usual grading runs). The handlers are
the plain functions of :mod:`fpgrade_ui.protocol_handlers`.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from fpgrade.clinic.movements import MOVEMENTS
from fpgrade_ui import protocol_handlers as ph


@dataclass
class StripBox:
    video: gr.File
    gallery: gr.Gallery
    notes: gr.Markdown
    state: gr.State
    grade: gr.Button

    def reset(self) -> tuple:
        """Values that empty the box (Clear, next patient): video, strip, notes, state."""
        return None, [], "", None


def build() -> StripBox:
    """The box's layout and its own wiring (find, preview, replace); returns what the page
    wires further."""
    with gr.Accordion("Protocol video: the whole standard protocol filmed as one video",
                      open=True, elem_id="protocol-box"):
        state = gr.State(None)
        video = gr.File(label="Protocol video (rest, raise the brows, close the eyes gently and "
                        "tightly, wrinkle the nose, smile, pucker)", type="filepath",
                        file_types=["video"], height=120, elem_id="protocol-video")
        gallery = gr.Gallery(label="Frame of maximal effort per movement, with its time in the "
                             "video (click one to replace it)", columns=len(MOVEMENTS),
                             height=330, object_fit="contain", allow_preview=False,
                             elem_id="protocol-strip")
        notes = gr.Markdown(elem_id="protocol-notes")
        with gr.Row():
            movement = gr.Dropdown([(m.instruction, m.key) for m in MOVEMENTS], value="rest",
                                   label="Replace the frame of", elem_id="protocol-movement")
            when = gr.Slider(0, 1, value=0, step=0.1, label="Time in the video (s)",
                             elem_id="protocol-time")
            picked = gr.Image(label="Frame at that time", type="filepath", height=170,
                              interactive=False, elem_id="protocol-preview")
            with gr.Column():
                use = gr.Button("Use this frame", elem_id="protocol-use")
                grade = gr.Button("Grade these frames", variant="primary",
                                  elem_id="protocol-grade")

    def on_find(path, progress=gr.Progress()):
        strip = ph.find(path, progress=lambda f, t: progress(f, desc=t))
        return (strip.gallery, strip.notes, strip.session,
                gr.update(maximum=max(strip.duration, 0.1), step=strip.step, value=0))

    video.upload(on_find, inputs=video, outputs=[gallery, notes, state, when])
    video.clear(lambda: ([], "", None), outputs=[gallery, notes, state])

    def on_preview(session, seconds):
        image, text = ph.preview(session, seconds)
        return gr.update(value=image, label=f"Frame at {text}" if text else "Frame at that time")

    when.release(on_preview, inputs=[state, when], outputs=picked)

    def on_select(session, evt: gr.SelectData):
        key, seconds = ph.start_of(session, evt.index)
        if key is None:
            return gr.update(), gr.update(), None
        image, text = ph.preview(session, seconds)
        return key, seconds, gr.update(value=image, label=f"Frame at {text}")

    gallery.select(on_select, inputs=state, outputs=[movement, when, picked])

    def on_use(session, key, seconds):
        strip = ph.replace(session, key, seconds)
        return strip.gallery, strip.notes, strip.session

    use.click(on_use, inputs=[state, movement, when], outputs=[gallery, notes, state])
    return StripBox(video, gallery, notes, state, grade)
