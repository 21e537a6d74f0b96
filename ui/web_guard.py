"""The gate in front of every request of the served pages (issue 16), as plain ASGI middleware:

- **the session cookie, on every route**: the page, Gradio's queue (join, data), heartbeat,
  stream, cancel, upload and every file route. Without a live session a page request is sent to
  the login form and anything else gets 401. Only the login form and Gradio's static bundles
  (``/assets``, ``/static``, ``/svelte``, the favicon) are public.
- **Gradio's session hash is never a credential**: the browser chooses it and it travels in URLs,
  so each hash is bound to the login session that first used it; the same hash under another
  session (a replayed or guessed one) is refused with 403.
- **files only to the user whose page received them** (:mod:`fpgrade_ui.web_files`), in both
  directions: a request may name as a file only one this login was sent; an export
  is not another logged-in user's to fetch; Gradio's own checks (allowed folders, no traversal)
  apply after ours. Uploads are refused where the pages take none (the labelling pages).
- **same origin only**: a request whose ``Origin`` is not this server is refused (another site,
  or another port of the same host, cannot drive or read the pages), and Gradio's CORS headers
  are removed. Without a login (the clinician page on loopback) a ``Host`` other than
  127.0.0.1 / localhost / [::1] is refused too (DNS rebinding).
- **security headers** on every response: a CSP that Gradio tolerates (its page needs inline
  scripts and styles, and ``'unsafe-eval'``: its front end builds the client-side functions of
  events such as a Clear button from strings; no script from any other origin is allowed),
  ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, ``nosniff``, no referrer to other
  sites, no caching of anything but the static bundles.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse

from fpgrade_ui.web_auth import COOKIE, WebAuth
from fpgrade_ui.web_files import SCANNED, UPLOAD, FileLedger

PUBLIC_EXACT = {"/login", "/logout", "/favicon.ico"}
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/gradio_api/assets/")
PAGE_PATHS = {"", "/"}
MAX_BODY = 32 * 1024 * 1024
#: session hashes remembered (oldest forgotten first; a forgotten hash is bound again on use)
MAX_BOUND_HASHES = 1_000_000
#: page sessions one login may open (a person opens a few; a flood could evict others' hashes)
MAX_HASHES_PER_LOGIN = 2_000
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

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
    """The session hash (or event id) a route names in its path: heartbeat and stream by their
    hash, a REST call's result (``/gradio_api/call/[v2/]API/ID``) by its last part, which Gradio
    also takes for a session hash."""
    for prefix in ("/gradio_api/heartbeat/", "/gradio_api/stream/"):
        if path.startswith(prefix):
            return path[len(prefix):].split("/", 1)[0] or None
    if path.startswith("/gradio_api/call/"):
        parts = [p for p in path[len("/gradio_api/call/"):].split("/") if p]
        if parts and parts[0] == "v2":
            parts = parts[1:]
        return parts[-1] if len(parts) >= 2 else None
    return None


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def cross_origin(scope) -> bool:
    """Whether the browser says this request comes from another origin than this server."""
    origin = _header(scope, b"origin")
    return origin is not None and urlsplit(origin).netloc != (_header(scope, b"host") or "")


def loopback_host(scope) -> bool:
    host = urlsplit("//" + (_header(scope, b"host") or "")).hostname or ""
    return host in LOOPBACK_HOSTS


class Guard:
    """ASGI middleware around the whole app (FastAPI with Gradio mounted); ``auth`` ``None``:
    the clinician page without a login (served on loopback only); ``uploads``: whether the
    pages take uploads at all."""

    def __init__(self, app, auth: WebAuth | None, *, uploads: bool = True) -> None:
        self.app = app
        self.auth = auth
        self.uploads = uploads
        self.bound: OrderedDict[str, int] = OrderedDict()   # session hash -> web session key
        self.per_login: Counter[int] = Counter()
        self.files = FileLedger()

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        send = self._with_headers(send, scope)
        path = scope.get("path", "")
        if cross_origin(scope):
            return await self._refuse(scope, receive, send, 403, "cross-origin request refused")
        if self.auth is None:   # no login: this machine only (headers, same origin, Host)
            if not loopback_host(scope):
                return await self._refuse(scope, receive, send, 403,
                                          "this page serves this machine only")
            return await self.app(scope, receive, send)
        if path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES):
            return await self.app(scope, receive, send)
        connection = HTTPConnection(scope)
        token = connection.cookies.get(COOKIE)
        account = await run_in_threadpool(self.auth.account_of, token) if token else None
        if account is None:
            return await self._unauthenticated(scope, receive, send, path, bool(token))
        scope["fpgrade.user"] = account.name
        scope["fpgrade.account"] = account
        if path.startswith(UPLOAD) and not self.uploads:
            return await self._refuse(scope, receive, send, 403, "these pages take no uploads")
        wanted = file_path(path)
        if wanted is not None and not self.files.may_read(account.id, wanted):
            return await self._refuse(scope, receive, send, 403,
                                      "no such file was sent to this login")
        if path.startswith(SCANNED):
            send = self.files.recording(send, account.id, path)
        hashes = [h for h in (path_session_hash(path),
                              *parse_qs(scope.get("query_string", b"").decode("latin-1"))
                              .get("session_hash", [])) if h]
        if scope["type"] == "http" and scope.get("method") == "POST" and \
                not path.startswith(UPLOAD):
            body = await _read_body(receive)   # whatever its declared type: FastAPI reads
            if body is None:                   # application/*+json as JSON too
                return await self._refuse(scope, receive, send, 413, "request too large")
            receive = _replay(body, receive)
            if self.files.may_offer(account.id, body) is not None:
                return await self._refuse(scope, receive, send, 403,
                                          "a file that was not sent to this login")
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
        if known is not None:
            self.bound.move_to_end(session_hash)
            return known == key
        if self.per_login[key] >= MAX_HASHES_PER_LOGIN:
            return False
        self.bound[session_hash] = key
        self.per_login[key] += 1
        if len(self.bound) > MAX_BOUND_HASHES:
            _, owner = self.bound.popitem(last=False)
            self.per_login[owner] -= 1
        return True

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
                           if k.lower() not in {name for name, _ in HEADERS}
                           and not k.lower().startswith(b"access-control-")]
                headers += HEADERS
                if not static and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        return sending


async def _read_body(receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
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
