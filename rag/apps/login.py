"""The web app's login check: one account, with failed attempts slowed and locked out.

Gradio awaits the check inside its event loop, so waiting is ``asyncio.sleep``, never
``time.sleep``, and the check is a coroutine function (Gradio awaits only those; any
other callable's return value is taken as the answer).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable

log = logging.getLogger("nabaa.login")


class LoginGuard:
    """Checks one user name and password; after ``max_failures`` wrong passwords in a row
    the account is locked for ``lockout_s`` seconds, and every failure waits ``delay_s``."""

    def __init__(
        self,
        user: str,
        password: str,
        max_failures: int = 5,
        lockout_s: float = 300.0,
        delay_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.user, self.password = user, password
        self.max_failures, self.lockout_s, self.delay_s = max_failures, lockout_s, delay_s
        self.clock = clock
        self.failures = 0
        self.locked_until = 0.0

    def verdict(self, user: str, password: str) -> bool:
        """Whether this attempt logs in, counting it (no waiting)."""
        now = self.clock()
        if now < self.locked_until:
            return False
        right = hmac.compare_digest(user.encode(), self.user.encode()) & hmac.compare_digest(
            password.encode(), self.password.encode()
        )
        if right:
            self.failures = 0
            return True
        self.failures += 1
        if self.failures >= self.max_failures:
            self.locked_until = now + self.lockout_s
            self.failures = 0
            log.warning(
                "%d failed logins in a row: login locked for %.0f s",
                self.max_failures,
                self.lockout_s,
            )
        return False

    async def check(self, user: str, password: str) -> bool:
        """Gradio's ``auth`` callable."""
        if self.verdict(user, password):
            return True
        await asyncio.sleep(self.delay_s)
        return False
