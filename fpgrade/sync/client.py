"""Connecting to Label Studio, and its failures as one-line typed errors naming the server.

A refusal's body is cut to one line: an HTML page (a URL whose path is not Label Studio's API
answers with the server's whole 404 page) becomes "not Label Studio's API at this URL".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fpgrade.errors import FpgradeError

T = TypeVar("T")
TIMEOUT_S = 30.0
MAX_DETAIL = 300


class SyncError(FpgradeError):
    """Label Studio refused a request, or sync cannot start (no server set, bad project...);
    ``status`` is the HTTP status of a refusal (None otherwise)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ServerDownError(SyncError):
    """The Label Studio server cannot be reached or timed out (nothing was lost: run again)."""


def _detail(body: object) -> str:
    """One line of a refusal's body (the whole of a short JSON answer, never an HTML page)."""
    if isinstance(body, dict):
        found = body.get("validation_errors") or body.get("detail") or body
        text = str(found)
    else:
        text = str(body or "")
        if re.search(r"<\s*(!doctype|html|head|body)\b", text[:2000], re.IGNORECASE):
            title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
            heading = " ".join(title.group(1).split()) if title else "an HTML page"
            return (f"{heading[:80]} (an HTML page, not Label Studio's API: check the URL, "
                    "which must be the server's root, e.g. http://host:8080)")
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + "..."


@dataclass
class Server:
    """A connected SDK client and the URL it talks to. ``aliases`` are the other URLs found to
    reach the same server (:mod:`.links`), ``different`` those found not to."""

    url: str
    client: Any
    aliases: set[str] = field(default_factory=set)
    different: set[str] = field(default_factory=set)
    user: str | None = None

    def call(self, what: str, fn: Callable[..., T], *args, **kwargs) -> T:
        """``fn(*args, **kwargs)``, its transport and API failures as :class:`SyncError`."""
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        try:
            return fn(*args, **kwargs)
        except (httpx.TransportError, OSError) as exc:
            raise ServerDownError(f"Label Studio at {self.url} is not reachable ({what}): "
                                  f"{type(exc).__name__}: {exc}") from None
        except ApiError as exc:
            raise SyncError(f"Label Studio at {self.url} refused {what}: "
                            f"HTTP {exc.status_code}: {_detail(exc.body)}",
                            status=exc.status_code) from None

    def identify(self) -> str:
        """Who the token is on this server (``/api/current-user/whoami``), asked once, before
        anything else: a wrong port is "not reachable", a wrong path "not Label Studio's API"
        (Label Studio answers ``/api/version`` under any prefix; not this), a bad token
        "refused". Returns the user's email."""
        if self.user is None:
            found = self.call("reading the token's user (/api/current-user/whoami)",
                              self.client.users.whoami)
            self.user = str(getattr(found, "email", "") or getattr(found, "username", "") or "?")
        return self.user

    def release(self) -> str:
        """The server's release (``/api/version``)."""
        found = self.call("reading its version (/api/version)", self.client.versions.get)
        return str(getattr(found, "release", "") or "unknown")


def connect(url: str | None = None, token: str | None = None) -> Server:
    """A client of the server ``url`` (default: ``FPGRADE_LABEL_STUDIO_URL``) with ``token``
    (default: ``FPGRADE_LABEL_STUDIO_TOKEN``)."""
    from fpgrade.settings import get_settings

    settings = get_settings()
    url = (url or settings.label_studio_url or "").rstrip("/")
    token = token or settings.label_studio_token
    if not url:
        raise SyncError("no Label Studio server: set FPGRADE_LABEL_STUDIO_URL or pass --url")
    if not token:
        raise SyncError(f"no API token for Label Studio at {url}: set FPGRADE_LABEL_STUDIO_TOKEN")
    import warnings

    with warnings.catch_warnings():  # the SDK's own pydantic deprecations are not the user's
        warnings.simplefilter("ignore", DeprecationWarning)
        from label_studio_sdk import LabelStudio

    return Server(url, LabelStudio(base_url=url, api_key=token, timeout=TIMEOUT_S))
