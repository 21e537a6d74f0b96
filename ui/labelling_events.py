"""The event wrappers every labelling tab uses (split from :mod:`.labelling_app`): the account
read from the request's login cookie (:func:`as_user`), a refusal turned into the message output
(:func:`guarded`), and a refreshed dropdown that keeps its choice (:func:`keep_choice`)."""

from __future__ import annotations

import functools

import gradio as gr

from fpgrade.errors import FpgradeError
from fpgrade_ui import labelling_handlers as h
from fpgrade_ui.markdown_text import md


def _said(error: Exception) -> str:
    return f"**Refused:** {md(str(error))}"   # a refusal may quote what the user typed


def guarded(*fallback):
    """Wrap an event: a refusal (any :class:`FpgradeError`) becomes the message output (the
    last one), the other outputs get ``fallback`` (``gr.update()`` leaves them as they are)."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args):
            try:
                return fn(*args)
            except FpgradeError as exc:
                return (*fallback, _said(exc)) if fallback else _said(exc)
        return run

    return wrap


KEEP = gr.update()


def as_user(fn):
    """The event run as the logged-in user: ``fn(account, *inputs)``, the account read from the
    request (the user name of the session cookie, re-read from the database: a disabled or
    changed account is refused at once), never from anything the page sends."""

    def run(request: gr.Request, *args):   # gradio passes the request where it is declared
        return fn(h.account_of(request.username), *args)

    run.__name__ = getattr(fn, "__name__", "event")
    return run


def keep_choice(choices: list[tuple[str, int]], current) -> object:
    """A refreshed dropdown: the new choices, the current value kept while it is still one."""
    values = [value for _, value in choices]
    return gr.update(choices=choices, value=current if current in values else
                     (values[0] if values else None))
