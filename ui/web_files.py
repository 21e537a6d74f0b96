"""Which files each user's pages were sent (issue 16): the file ledger of :mod:`fpgrade_ui.web_guard`.

Gradio serves a component's file (a photo shown, an export, an upload) at
``/gradio_api/file=PATH`` to anyone who can reach the route. The guard serves such a route only
for a PATH that Gradio itself sent to the same user: the ``path`` of a file object
(``{"path": ..., "meta": {"_type": "gradio.FileData"}}``) in a successful answer (the queue's
event stream, the page's config, a REST call's events), or a path that an upload of that user
stored. Text a user typed is never taken for a file, even where Gradio echoes it back (an error
answer quotes the request): only structured file objects of 2xx answers count.

The same ledger checks what comes in: a request may name, as a file object (any JSON object
with a ``path``: Gradio reads such an object as a file), only a file this login was sent, so
that nobody grades, measures or reads a file of the server's disk by typing its path
(:func:`offered_files`). Paths are compared exactly as Gradio serves them (Starlette has decoded
the route once; nothing is decoded again) and a path with a ``..`` part is never a file of the
ledger, so that an upload's crafted name cannot stand for another user's file.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict, defaultdict

#: file paths remembered per user (oldest forgotten first)
MAX_FILES_PER_USER = 20_000
#: the largest non-stream answer read for files (a page's config is a few hundred kB)
MAX_SCANNED_BODY = 16 * 1024 * 1024
UPLOAD = "/gradio_api/upload"
#: answers that carry file objects (anything else is passed through untouched)
SCANNED = ("/gradio_api/queue/data", UPLOAD, "/gradio_api/call/", "/gradio_api/run/",
           "/gradio_api/api/", "/config", "/gradio_api/config")


def real(path: str) -> str | None:
    """The path as the ledger keeps it (symbolic links resolved); ``None`` for a path with a
    ``..`` part (never one Gradio sends)."""
    if ".." in path.replace("\\", "/").split("/"):
        return None
    return os.path.realpath(path)


def file_objects(value, found: list[str], *, any_path: bool = False) -> list[str]:
    """The ``path`` of every Gradio file object inside a decoded JSON value; with ``any_path``,
    of every object with a string ``path`` (what Gradio takes for a file in a request, with or
    without its ``meta``)."""
    if isinstance(value, dict):
        meta = value.get("meta")
        if isinstance(value.get("path"), str) and (any_path or (
                isinstance(meta, dict) and meta.get("_type") == "gradio.FileData")):
            found.append(value["path"])
        for item in value.values():
            file_objects(item, found, any_path=any_path)
    elif isinstance(value, list):
        for item in value:
            file_objects(item, found, any_path=any_path)
    return found


def offered_files(value) -> list[str]:
    """The paths a request's decoded body names as files (:func:`file_objects`, any ``path``)."""
    return file_objects(value, [], any_path=True)


class FileLedger:
    """The files sent to each user, in this server process's memory."""

    def __init__(self) -> None:
        self._files: defaultdict[int, OrderedDict[str, None]] = defaultdict(OrderedDict)

    def may_read(self, user_id: int, path: str) -> bool:
        key = real(path)
        return key is not None and key in self._files.get(user_id, {})

    def may_offer(self, user_id: int, body: bytes) -> str | None:
        """``None`` when every file object of a request's JSON ``body`` was sent to this user;
        else the first path that was not."""
        try:
            value = json.loads(body)
        except ValueError:
            return None
        return next((p for p in offered_files(value) if not self.may_read(user_id, p)), None)

    def remember(self, user_id: int, paths: list[str]) -> None:
        files = self._files[user_id]
        for path in paths:
            key = real(path)
            if key is None:
                continue
            files[key] = None
            files.move_to_end(key)
        while len(files) > MAX_FILES_PER_USER:
            files.popitem(last=False)

    def recording(self, send, user_id: int, path: str):
        """``send`` that remembers the files of this answer (to ``path``) as ``user_id``'s."""
        upload = path.startswith(UPLOAD)
        state = {"ok": False, "stream": False, "buffer": b""}

        def lines(final: bool) -> None:
            """Server-sent events: each ``data:`` line is one JSON message."""
            *complete, state["buffer"] = state["buffer"].split(b"\n")
            if final:
                complete.append(state["buffer"])
            for line in complete:
                if line.startswith(b"data:"):
                    self._remember_json(user_id, line[5:].strip())

        async def sending(message):
            if message["type"] == "http.response.start":
                state["ok"] = 200 <= message.get("status", 500) < 300
                for key, value in message.get("headers", []):
                    if key.lower() == b"content-type":
                        state["stream"] = value.startswith(b"text/event-stream")
            elif message["type"] == "http.response.body" and state["ok"]:
                more = message.get("more_body", False)
                state["buffer"] += message.get("body", b"")
                if state["stream"]:
                    lines(final=not more)
                elif len(state["buffer"]) > MAX_SCANNED_BODY:
                    state["ok"] = False       # not a page answer: read no further
                elif not more:
                    self._remember_json(user_id, state["buffer"], upload=upload)
            await send(message)

        return sending

    def _remember_json(self, user_id: int, raw: bytes, *, upload: bool = False) -> None:
        try:
            value = json.loads(raw)
        except ValueError:
            return
        if upload:   # the answer of an upload: the list of the paths it stored
            paths = [p for p in value if isinstance(p, str)] if isinstance(value, list) else []
        else:
            paths = file_objects(value, [])
        if paths:
            self.remember(user_id, paths)
