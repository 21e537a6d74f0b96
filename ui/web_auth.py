"""Login and logout of the served pages (issue 16): a plain HTML form outside Gradio, throttled,
audited, issuing the server-side session of :mod:`fpgrade.labelling.sessions` in an HttpOnly,
SameSite=Strict cookie.

Why not Gradio's own ``auth=``: its tokens live in one process's memory with no idle expiry,
no way to end a disabled user's sessions from the command line, no throttle and no audit of
failures, and its session hash (chosen by the browser) is not tied to the login. Here Gradio is
mounted in a Starlette/FastAPI app with ``auth_dependency`` (the user comes from our cookie),
and :mod:`fpgrade_ui.web_guard` checks the cookie on every request.

``POST /login`` answers a browser's form with a redirect to the page, and a script (gradio_client's
``auth=``, which posts the same ``username``/``password`` fields) with ``{"success": true}``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from fpgrade.labelling import sessions
from fpgrade.labelling import users as users_core
from fpgrade.labelling.model import AuthenticationError, Role
from fpgrade.labelling.throttle import LoginThrottle
from fpgrade.settings import get_settings
from fpgrade.storage import database

COOKIE = "fpgrade_session"
MAX_NAME = 64
MAX_PASSWORD = 1024

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: log in</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f5f6f8; margin: 0; }}
main {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem;
        border-radius: 10px; box-shadow: 0 1px 6px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.25rem; margin: 0 0 .3rem; }} p.who {{ color: #555; margin: 0 0 1.2rem; }}
label {{ display: block; margin: .8rem 0 .25rem; font-weight: 600; }}
input {{ width: 100%; box-sizing: border-box; padding: .55rem; font-size: 1rem;
         border: 1px solid #bbb; border-radius: 6px; }}
button {{ margin-top: 1.2rem; width: 100%; padding: .65rem; font-size: 1rem; border: 0;
          border-radius: 6px; background: #ea580c; color: #fff; cursor: pointer; }}
#message {{ margin-top: 1rem; font-weight: 600; color: #b91c1c; min-height: 1.2rem; }}
#message.info {{ color: #166534; }}
</style></head>
<body><main>
<h1>{title}</h1><p class="who">{audience}</p>
<form method="post" action="login" autocomplete="on">
<label for="username">User</label>
<input id="username" name="username" autocomplete="username" maxlength="64" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"
       maxlength="1024" required>
<button id="login-button" type="submit">Log in</button>
</form>
<div id="message" class="{kind}" role="status">{message}</div>
</main></body></html>"""


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def same_origin(request: Request) -> bool:
    """A form posted from another site is refused (OWASP: verify the Origin header). Scripts
    that send no Origin (gradio_client, curl) are judged by their credentials alone."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")  # "null" never matches


class WebAuth:
    """The login and logout routes of one server, and the check of a session cookie.

    ``roles``: who may log in to these pages (the clinician page: clinicians and admins)."""

    def __init__(self, title: str, audience: str, roles: Iterable[Role] | None = None,
                 throttle: LoginThrottle | None = None) -> None:
        self.title = title
        self.audience = audience
        self.roles = frozenset(roles) if roles else frozenset(Role)
        self.throttle = throttle or LoginThrottle()

    # -- the session of a request ------------------------------------------------------------

    def account_of(self, token: str | None):
        """The active account of a cookie's token, allowed on these pages; else ``None``."""
        idle = timedelta(minutes=get_settings().session_idle_minutes)
        with database.read_session() as session:       # most requests: no write, no lock
            account, write_due = sessions.peek(session, token, idle=idle)
        if write_due:
            with database.session() as session:
                account = sessions.resolve(session, token, idle=idle)
        if account is None or Role(account.role) not in self.roles:
            return None
        return account

    # -- routes ------------------------------------------------------------------------------

    def page(self, message: str = "", *, status: int = 200, kind: str = "") -> HTMLResponse:
        return HTMLResponse(PAGE.format(title=html.escape(self.title),
                                        audience=html.escape(self.audience),
                                        message=html.escape(message), kind=kind),
                            status_code=status)

    async def login_form(self, request: Request) -> Response:
        if request.query_params.get("bye"):
            return self.page("Logged out.", kind="info")
        if request.query_params.get("expired"):
            return self.page("Your session ended: log in again.", kind="info")
        return self.page()

    def _refuse(self, request: Request, message: str, status: int,
                headers: dict[str, str] | None = None) -> Response:
        if wants_html(request):
            response = self.page(message, status=status)
        else:
            response = JSONResponse({"success": False, "detail": message}, status_code=status)
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    async def login(self, request: Request) -> Response:
        if not same_origin(request):
            return self._refuse(request, "Refused: the form was not sent from this site.", 403)
        try:
            form = await request.form(max_files=0, max_fields=8)
        except Exception:  # noqa: BLE001 - any malformed body: one refusal, no trace
            return self._refuse(request, "Refused: not a login form.", 400)
        name = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        client = client_address(request)
        verdict = self.throttle.attempt(name, client)
        if not verdict.allowed:
            await run_in_threadpool(self._audit_failure, name, client, "throttled")
            return self._refuse(
                request, f"Too many attempts: try again in {verdict.retry_after_s} s.", 429,
                {"Retry-After": str(verdict.retry_after_s)})
        account = checked = None
        if 0 < len(name) <= MAX_NAME and len(password) <= MAX_PASSWORD:
            account, checked = await run_in_threadpool(self._authenticate, name, password)
        if account is None:
            await run_in_threadpool(self._audit_failure, name, client, "wrong credentials")
            return self._refuse(request, "Unknown user, wrong password or disabled account.",
                                401)
        if Role(account.role) not in self.roles:
            await run_in_threadpool(self._audit_failure, name, client, "role not allowed")
            allowed = " or ".join(sorted(r.value for r in self.roles))
            return self._refuse(request, f"This page is for the roles {allowed}: "
                                f"{account.name} is {account.role}.", 403)
        token = await run_in_threadpool(self._rotate, request.cookies.get(COOKIE), account,
                                        checked, password, client)
        if token is None:     # reset, disabled or changed role while the password was checked
            await run_in_threadpool(self._audit_failure, name, client, "account changed")
            return self._refuse(request, "Unknown user, wrong password or disabled account.",
                                401)
        self.throttle.succeeded(name)
        if wants_html(request):
            response: Response = RedirectResponse("./", status_code=303)
        else:
            response = JSONResponse({"success": True})
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                            secure=get_settings().secure_cookies)
        return response

    async def logout(self, request: Request) -> Response:
        if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return RedirectResponse("./", status_code=303)   # a link from another site: ignored
        token = request.cookies.get(COOKIE)
        await run_in_threadpool(self._end, token)
        response = RedirectResponse("login?bye=1", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- database work (in a thread: argon2 and SQL block) -----------------------------------

    @staticmethod
    def _authenticate(name: str, password: str):
        """(account, the hash its password was checked against), or (None, None); reads only:
        the argon2 check holds no database lock."""
        try:
            with database.read_session() as session:
                return users_core.check_password(session, name, password)
        except AuthenticationError:
            return None, None

    @staticmethod
    def _audit_failure(name: str, client: str, reason: str) -> None:
        with database.session() as session:
            users_core.record_failed_login(session, name, client, reason)

    @staticmethod
    def _rotate(old_token: str | None, account, checked: str, password: str,
                client: str) -> str | None:
        """End the session the browser came with (if any), open a new one, and record the
        login, in one transaction (:func:`sessions.log_in`): the token a client had before
        logging in is never the token of the logged-in session. ``None``: the account changed
        since its password was checked."""
        with database.session() as session:
            try:
                return sessions.log_in(session, account, checked, password, client=client,
                                       replacing=old_token)
            except AuthenticationError:
                return None

    @staticmethod
    def _end(token: str | None) -> None:
        with database.session() as session:
            account = None
            if token:
                account = sessions.resolve(session, token, idle=timedelta(days=36500))
            if sessions.end(session, token) and account is not None:
                users_core.logout(session, account)
