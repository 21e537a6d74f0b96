"""The gate in front of every request of the served pages (issue 16), as plain ASGI middleware:

- **the session cookie, on every route**: the page, Gradio's queue (join, data), heartbeat,
  stream, cancel, upload and every file route. Without a live session a page request is sent to
  the login form and anything else gets 401. Only the login form and Gradio's static bundles
  (``/assets``, ``/static``, ``/svelte``, the favicon) are public.
- **Gradio's session hash is never a credential**: the browser chooses it and it travels in URLs,
  so each hash is bound to the login session that first used it; the same hash under another
  session (a replayed or guessed one) is refused with 403.
- **files only to the user whose page received them**: the guard reads the file URLs in what
  Gradio sends a user (the queue's event stream, an upload's answer) and serves a file route
  only for a file so sent to that same user (an export is not another user's to fetch, even
  logged in); Gradio's own checks (allowed folders, no traversal) apply after ours.
- **security headers** on every response: a CSP that Gradio tolerates (its page needs inline
  scripts and styles, and ``'unsafe-eval'``: its front end builds the client-side functions of
  events such as a Clear button from strings; no script from any other origin is allowed), ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, ``nosniff``, no
  referrer to other sites, no caching of anything but the static bundles.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict, defaultdict
from urllib.parse import parse_qs, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse

from fpgrade_ui.web_auth import COOKIE, WebAuth

PUBLIC_EXACT = {"/login", "/logout", "/favicon.ico"}
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/gradio_api/assets/")
PAGE_PATHS = {"", "/"}
MAX_JSON_BODY = 32 * 1024 * 1024
#: session hashes remembered (oldest forgotten first; a forgotten hash is bound again on use)
MAX_BOUND_HASHES = 200_000

CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
       "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),   # no-referrer would make chromium send "Origin: null"
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

#: a file URL inside a response (SSE event data, an upload's answer): JSON-escaped path
FILE_URL = re.compile(rb'/gradio_api/file=((?:[^"\\]|\\.)+)')
#: file paths remembered per user (oldest forgotten first)
MAX_FILES_PER_USER = 20_000
#: responses whose bodies name files (scanned; anything else is passed through untouched)
SCANNED = ("/gradio_api/queue/data", "/gradio_api/upload", "/gradio_api/call/",
           "/gradio_api/run/", "/gradio_api/api/", "/config", "/gradio_api/config")


def _real(path: str) -> str:
    return os.path.realpath(unquote(path))


def file_path(path: str) -> str | None:
    """The file a Gradio file route asks for, or ``None`` for any other route."""
    for prefix in ("/gradio_api/file=", "/file="):
        if path.startswith(prefix):
            return path[len(prefix):]
    for prefix in ("/gradio_api/file/", "/file/"):
        if path.startswith(prefix):
            return "/" + path[len(prefix):].lstrip("/")
    return None


def path_session_hash(path: str) -> str | None:
    for prefix in ("/gradio_api/heartbeat/", "/gradio_api/stream/"):
        if path.startswith(prefix):
            return path[len(prefix):].split("/", 1)[0] or None
    return None


class Guard:
    """ASGI middleware around the whole app (FastAPI with Gradio mounted); ``auth`` ``None``:
    the clinician page without a login (served on loopback only), headers alone."""

    def __init__(self, app, auth: WebAuth | None) -> None:
        self.app = app
        self.auth = auth
        self.bound: OrderedDict[str, int] = OrderedDict()   # session hash -> web session key
        self.files: defaultdict[int, OrderedDict[str, None]] = defaultdict(OrderedDict)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        send = self._with_headers(send, scope)
        path = scope.get("path", "")
        if self.auth is None or path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES):
            return await self.app(scope, receive, send)   # no login: loopback only (headers)
        connection = HTTPConnection(scope)
        token = connection.cookies.get(COOKIE)
        account = await run_in_threadpool(self.auth.account_of, token) if token else None
        if account is None:
            return await self._unauthenticated(scope, receive, send, path, bool(token))
        scope["fpgrade.user"] = account.name
        scope["fpgrade.account"] = account
        wanted = file_path(path)
        if wanted is not None and _real(wanted) not in self.files[account.id]:
            return await self._refuse(scope, receive, send, 403,
                                      "no such file was sent to this login")
        if path.startswith(SCANNED):
            send = self._recording(send, account.id, path.startswith("/gradio_api/upload"))
        hashes = [h for h in (path_session_hash(path),
                              *parse_qs(scope.get("query_string", b"").decode("latin-1"))
                              .get("session_hash", [])) if h]
        if scope["type"] == "http" and scope.get("method") == "POST" and _is_json(scope):
            body = await _read_body(receive)
            if body is None:
                return await self._refuse(scope, receive, send, 413, "request too large")
            receive = _replay(body, receive)
            found = _json_session_hash(body)
            if found:
                hashes.append(found)
        key = hash(token)
        for session_hash in hashes:
            if not self._bind(session_hash, key):
                return await self._refuse(scope, receive, send, 403,
                                          "this page session belongs to another login")
        return await self.app(scope, receive, send)

    def _bind(self, session_hash: str, key: int) -> bool:
        known = self.bound.get(session_hash)
        if known is None:
            self.bound[session_hash] = key
            if len(self.bound) > MAX_BOUND_HASHES:
                self.bound.popitem(last=False)
            return True
        self.bound.move_to_end(session_hash)
        return known == key

    def _recording(self, send, user_id: int, upload: bool):
        """``send`` that remembers every file of the response as ``user_id``'s."""
        carry = b""
        files = self.files[user_id]

        def remember(path: str) -> None:
            real = _real(path)
            files[real] = None
            files.move_to_end(real)

        async def sending(message):
            nonlocal carry
            if message["type"] == "http.response.body":
                chunk = carry + message.get("body", b"")
                if upload:    # the answer of an upload: a JSON list of the stored paths
                    carry = chunk
                    if not message.get("more_body", False):
                        try:
                            stored = json.loads(chunk)
                        except ValueError:
                            stored = []
                        for path in stored if isinstance(stored, list) else []:
                            if isinstance(path, str):
                                remember(path)
                else:
                    for found in FILE_URL.finditer(chunk):
                        try:
                            remember(json.loads(b'"' + found.group(1) + b'"'))
                        except ValueError:
                            continue
                    carry = chunk[-2048:]
                while len(files) > MAX_FILES_PER_USER:
                    files.popitem(last=False)
            await send(message)

        return sending

    async def _unauthenticated(self, scope, receive, send, path: str, had_cookie: bool):
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 4401})
        if path in PAGE_PATHS and scope.get("method") in ("GET", "HEAD"):
            target = "login?expired=1" if had_cookie else "login"
            return await RedirectResponse(target, status_code=303)(scope, receive, send)
        return await self._refuse(scope, receive, send, 401, "log in first")

    @staticmethod
    async def _refuse(scope, receive, send, status: int, detail: str):
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 4403})
        return await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)

    @staticmethod
    def _with_headers(send, scope):
        static = scope.get("path", "").startswith(PUBLIC_PREFIXES)

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in {name for name, _ in HEADERS}]
                headers += HEADERS
                if not static and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        return sending


def _is_json(scope) -> bool:
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False


async def _read_body(receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_JSON_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def again():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _json_session_hash(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get("session_hash") if isinstance(data, dict) else None
    return str(value) if value else None
