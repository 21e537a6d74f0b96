"""``fpgrade sync serve``: Label Studio webhooks in, pulls (and retrains) queued, never inline.

A request is validated defensively and answered at once: bad JSON 400, a body that is not an
object or lacks ``action`` / ``project.id`` 422, an action other than ANNOTATION_CREATED /
ANNOTATION_UPDATED / ANNOTATIONS_DELETED 422, a project never pushed 404, a body above
:data:`MAX_BODY` 413; nothing is stored or queued then. An accepted event (202) queues a pull of
its project; one worker thread runs the queued pulls one after another (several events for the
same project coalesce into one pull). After a pull, when no retrain is running and the scale has
at least ``threshold`` final labels new to the current version, to every retrain tried from it
(:func:`fpgrade.models.lifecycle.new_final_labels`) and to the retrains this server started, a
retrain is started as a separate process (``fpgrade retrain``), one at a time: training never
runs inside a request nor in the server's own process. The worker collects a finished retrain
within its poll interval (:meth:`Hub.reap`): none is left a zombie until the next webhook. The
retrain registers a candidate that a person promotes, unless the serve command opted in to
automatic promotion (:mod:`fpgrade.models.promotion`).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACTIONS = {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED"}
MAX_BODY = 1 << 20


class WebhookError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def validate(body: bytes, known_projects: set[int]) -> tuple[str, int]:
    """(action, Label Studio project id) of a webhook body, or :class:`WebhookError`."""
    if len(body) > MAX_BODY:
        raise WebhookError(413, f"body of {len(body)} bytes is above {MAX_BODY}")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError(400, f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookError(422, "body is not a JSON object")
    action = payload.get("action")
    project = payload.get("project")
    project_id = project.get("id") if isinstance(project, dict) else None
    if not isinstance(action, str):
        raise WebhookError(422, "missing field 'action'")
    if action not in ACTIONS:
        raise WebhookError(422, f"action {action[:40]!r} is not one of {', '.join(sorted(ACTIONS))}")
    if not isinstance(project_id, int) or isinstance(project_id, bool):
        raise WebhookError(422, "missing field 'project.id' (an integer)")
    if action != "ANNOTATIONS_DELETED" and not isinstance(payload.get("annotation"), dict):
        raise WebhookError(422, "missing field 'annotation'")
    if project_id not in known_projects:
        raise WebhookError(404, f"project {project_id} was never pushed by fpgrade to this server")
    return action, project_id


@dataclass
class Hub:
    """The queue between requests and the worker.

    :param known_projects: () -> Label Studio project ids pushed to this server.
    :param pull: (project id) -> None, one pull (run by the worker).
    :param due: (project id) -> the scale to retrain now, or None.
    :param start_retrain: (scale) -> a started process (``poll()``), never waited for here.
    """

    known_projects: Callable[[], set[int]]
    pull: Callable[[int], None]
    due: Callable[[int], str | None]
    start_retrain: Callable[[str], object]
    errors: list[str] = field(default_factory=list)
    pulls_done: int = 0
    retrains: list[object] = field(default_factory=list)
    _queue: queue.Queue = field(default_factory=queue.Queue)
    _pending: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: (process, exit code) -> None, told of each retrain that finished (see :meth:`reap`)
    on_finished: Callable[[object, int], None] | None = None
    _reaped: set[int] = field(default_factory=set)

    def enqueue(self, project_id: int) -> bool:
        with self._lock:
            if project_id in self._pending:
                return False
            self._pending.add(project_id)
        self._queue.put(project_id)
        return True

    def work_once(self, timeout: float | None = None) -> bool:
        try:
            project_id = self._queue.get(timeout=timeout)
        except queue.Empty:
            return False
        if project_id is None:
            return False
        with self._lock:
            self._pending.discard(project_id)
        try:
            self.pull(project_id)
            self.pulls_done += 1
            running = any(getattr(p, "poll", lambda: 0)() is None for p in self.retrains)
            scale = None if running else self.due(project_id)  # asked only when one may start
            if scale is not None:
                self.retrains.append(self.start_retrain(scale))
        except Exception as exc:  # noqa: BLE001 - a failed pull must not stop the worker
            self.errors.append(f"pull of project {project_id}: {exc}")
        finally:
            self._queue.task_done()
        return True

    def reap(self) -> list[tuple[object, int]]:
        """(process, exit code) of each retrain that finished since the last call. ``poll()``
        collects an exited child, so a finished retrain is no zombie until the next webhook."""
        finished = []
        for process in self.retrains:
            if id(process) in self._reaped:
                continue
            code = getattr(process, "poll", lambda: None)()
            if code is not None:
                self._reaped.add(id(process))
                finished.append((process, code))
                if self.on_finished is not None:
                    self.on_finished(process, code)
        return finished

    def run_worker(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.work_once(timeout=0.2)
            self.reap()

    def join(self) -> None:
        self._queue.join()


def make_server(hub: Hub, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, message: str) -> None:
            data = json.dumps({"status": status, "message": message}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self._answer(413, "missing or too large Content-Length")
                return
            body = self.rfile.read(length)
            try:
                _, project_id = validate(body, hub.known_projects())
            except WebhookError as exc:
                self._answer(exc.status, str(exc))
                return
            queued = hub.enqueue(project_id)
            self._answer(202, "pull queued" if queued else "pull already queued")

        def log_message(self, *args) -> None:  # quiet: the command prints its own lines
            return

    return ThreadingHTTPServer((host, port), Handler)
