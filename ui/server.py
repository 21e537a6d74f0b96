"""Serving the pages (issue 16): Gradio mounted in a FastAPI app behind the login and the guard.

One shape for both servers: ``fpgrade label`` (the labelling pages, always behind a login) and
``fpgrade demo`` (the clinician page: behind a login of a clinician or admin when asked or when
served beyond loopback; without accounts, loopback only). The app is

    Guard (cookie on every route, session hash bound to the login, private files, headers)
      -> FastAPI: GET/POST /login, GET/POST /logout
      -> Gradio, mounted at / with ``auth_dependency`` = the user of the checked cookie

and runs in uvicorn until SIGTERM or Ctrl-C, then stops within about a second (the open pages'
connections are not waited for) and removes the temporary upload folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from dataclasses import dataclass, field

import gradio as gr
import uvicorn
from fastapi import FastAPI

from fpgrade.errors import FpgradeError
from fpgrade.labelling.model import Role
from fpgrade.settings import get_settings
from fpgrade.storage import database
from fpgrade_ui.web_auth import WebAuth
from fpgrade_ui.web_guard import Guard


@dataclass
class Pages:
    """What one server serves and who may log in."""

    blocks: gr.Blocks
    title: str
    audience: str
    login: bool = True
    roles: frozenset[Role] = frozenset(Role)
    concurrency: int = 2
    uploads: bool = True
    mount: dict = field(default_factory=dict)   # head, css, max_file_size ... for Gradio


def current_user(request) -> str | None:
    """Gradio's ``auth_dependency``: the user the guard found for this request's cookie."""
    return request.scope.get("fpgrade.user")


def build_app(pages: Pages) -> Guard:
    """The ASGI app of ``pages`` (also what the tests serve)."""
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    auth = None
    if pages.login:
        auth = WebAuth(pages.title, pages.audience, pages.roles)
        api.add_api_route("/login", auth.login_form, methods=["GET"], include_in_schema=False)
        api.add_api_route("/login", auth.login, methods=["POST"], include_in_schema=False)
        api.add_api_route("/logout", auth.logout, methods=["GET", "POST"],
                          include_in_schema=False)
    pages.blocks.queue(default_concurrency_limit=pages.concurrency)
    api = gr.mount_gradio_app(api, pages.blocks, path="/",
                              auth_dependency=current_user if pages.login else None,
                              footer_links=[], show_error=False,  # no server internals
                              **pages.mount)
    return Guard(api, auth, uploads=pages.uploads)


def serve(pages: Pages, host: str, port: int, name: str) -> None:
    """Serve until SIGTERM or Ctrl-C (see the module docstring)."""
    temp = os.environ.get("GRADIO_TEMP_DIR")

    def remove_temp() -> None:
        if temp and os.path.basename(temp).startswith(("fpgrade-demo-", "fpgrade-label-")):
            shutil.rmtree(temp, ignore_errors=True)

    stop = threading.Event()
    # before start: a signal that arrives while the server starts still stops it cleanly
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        database.get_engine()  # the configured database, upgraded (the default creates its folder)
        app = build_app(pages)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                                proxy_headers=bool(get_settings().trusted_proxies),
                                forwarded_allow_ips=get_settings().trusted_proxies or None,
                                server_header=False, timeout_graceful_shutdown=1)
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None   # ours above
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():   # uvicorn exits when it cannot bind (port taken)
                raise OSError(f"address {host}:{port} is in use or not available")
            if stop.wait(0.01):
                break
    except OSError as exc:
        remove_temp()
        raise FpgradeError(f"cannot serve on {host}:{port}: {exc}") from exc
    except BaseException:
        remove_temp()
        raise
    login = "login required" if pages.login else "no login: this machine only"
    print(f"fpgrade {name}: serving on http://{host}:{port} ({login}; Ctrl-C to stop)",
          flush=True)
    while not stop.wait(0.2):
        pass
    server.should_exit = True
    thread.join(timeout=1.0)
    remove_temp()
    print(f"fpgrade {name}: stopped", flush=True)
    os._exit(0)  # uvicorn would wait for the open pages' connections
