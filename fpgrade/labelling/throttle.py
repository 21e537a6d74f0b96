"""Login throttling per account and per client address (issue 16), with the ``limits`` library
(the rate limiter behind slowapi and Flask-Limiter): a moving window of failed logins.

Every attempt is counted before its password is checked, and refused once either window is
full, so a flood of guesses costs the server no argon2 work; the refusal says how long to wait.
A successful login clears the account's window (not the address's: a shared address keeps its
count, so its limit is set higher than one person's).

Deviation from a lock-out: nothing is locked for good, so an attacker can at most delay an
account's owner by the window (the price of per-account limits; see docs/security.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute, storage, strategies

#: login attempts allowed per account and per client address in one window
ACCOUNT_FAILURES = 5
CLIENT_FAILURES = 30
WINDOW_MINUTES = 5


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0


class LoginThrottle:
    """Failed-login windows of one server process (in memory: a restart forgets them)."""

    def __init__(self, account_failures: int = ACCOUNT_FAILURES,
                 client_failures: int = CLIENT_FAILURES, minutes: int = WINDOW_MINUTES) -> None:
        self._storage = storage.MemoryStorage()
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)
        self._account = RateLimitItemPerMinute(account_failures, minutes)
        self._client = RateLimitItemPerMinute(client_failures, minutes)

    def _keys(self, name: str, client: str | None):
        return [(self._account, "account", (name or "").strip().lower()[:64]),
                (self._client, "client", client or "unknown")]

    def attempt(self, name: str, client: str | None) -> Verdict:
        """Count one login attempt against the account and the address (atomically: parallel
        guesses cannot all slip through before the first is counted); refused, with the wait,
        once either window is full. Call before the password is checked."""
        for item, *key in self._keys(name, client):
            if not self._limiter.hit(item, *key):
                reset, _ = self._limiter.get_window_stats(item, *key)
                return Verdict(False, max(1, math.ceil(reset - time.time())))
        return Verdict(True)

    def succeeded(self, name: str) -> None:
        """A correct password: the account's window starts again."""
        item, *key = self._keys(name, None)[0]
        self._limiter.clear(item, *key)
