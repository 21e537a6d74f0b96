"""Connecting to Label Studio, and its failures as one-line typed errors naming the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fpgrade.errors import FpgradeError

T = TypeVar("T")
TIMEOUT_S = 30.0


class SyncError(FpgradeError):
    """Label Studio refused a request, or sync cannot start (no server set, bad project...)."""


class ServerDownError(SyncError):
    """The Label Studio server cannot be reached or timed out (nothing was lost: run again)."""


@dataclass
class Server:
    """A connected SDK client and the URL it talks to."""

    url: str
    client: Any

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
            body = exc.body if isinstance(exc.body, dict) else {"detail": exc.body}
            detail = body.get("validation_errors") or body.get("detail")
            raise SyncError(f"Label Studio at {self.url} refused {what}: "
                            f"HTTP {exc.status_code}: {detail}") from None


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
