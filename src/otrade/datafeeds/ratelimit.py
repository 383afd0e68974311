"""A request budget for rate-limited market-data APIs (Tradier's 120 or 60 requests a minute).

Requests are spread evenly below the configured limit instead of bursting: each request
reserves the next free slot, ``60 / (limit x safety)`` seconds after the previous one.  The
server can only slow the budget down, never speed it up: a lower ``X-Ratelimit-Allowed``
lowers the rate, an exhausted ``X-Ratelimit-Available`` pauses until
``X-Ratelimit-Expiry``, and a 429 pauses for ``Retry-After``, else until the expiry, else
60 s.  Time comes from the clock, so the budget runs on a simulated clock in tests.

Not a library: none that is maintained takes an external clock, and the pacing rule plus
the two pause rules fit in this one class.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from otrade.clock import Clock

__all__ = ["RequestBudget"]

DEFAULT_RATE_LIMITED_PAUSE_S = 60.0
"""The pause after a 429 that says neither Retry-After nor an expiry."""


def _header(headers: Mapping[str, str], name: str) -> float | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            try:
                number = float(value)
            except ValueError:
                return None
            return number if math.isfinite(number) else None
    return None


def _epoch_seconds(value: float) -> float:
    # Tradier documents milliseconds; some clients saw seconds.  Thirteen digits are ms.
    return value / 1000 if value > 1e11 else value


class RequestBudget:
    """Paces requests below a per-minute limit.

    Args:
        clock: Where time comes from.
        limit_per_minute: The API's limit for this token (120 production, 60 sandbox).
        safety: The share of the limit the budget uses (0.9 keeps 10 percent headroom).

    Raises:
        ValueError: ``limit_per_minute`` is not positive or ``safety`` not in (0, 1].
    """

    def __init__(self, clock: Clock, limit_per_minute: int, safety: float = 0.9) -> None:
        if limit_per_minute <= 0:
            raise ValueError(f"limit_per_minute must be > 0, got {limit_per_minute!r}")
        if not 0 < safety <= 1:
            raise ValueError(f"safety must be in (0, 1], got {safety!r}")
        self._clock = clock
        self._limit = limit_per_minute
        self._safety = safety
        self._next_slot = 0.0
        self._paused_until = 0.0

    @property
    def limit_per_minute(self) -> int:
        """The limit in force: the configured one, or the server's when it is lower."""
        return self._limit

    @property
    def interval_s(self) -> float:
        """Seconds between two requests."""
        return 60.0 / max(1.0, math.floor(self._limit * self._safety))

    @property
    def paused_until(self) -> float:
        """POSIX time before which no request starts (0 when not paused)."""
        return self._paused_until

    def reserve(self) -> float:
        """Take the next free slot and return its POSIX time (now or later)."""
        slot = max(self._clock.timestamp(), self._next_slot, self._paused_until)
        self._next_slot = slot + self.interval_s
        return slot

    async def acquire(self) -> None:
        """Wait for the next free slot (on the clock)."""
        slot = self.reserve()
        await self._clock.sleep_async(slot - self._clock.timestamp())

    def pause_until(self, when: float) -> None:
        """Start no request before POSIX time ``when``; an earlier time changes nothing."""
        self._paused_until = max(self._paused_until, when)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Slow down when the server's rate-limit headers say so (never speed up)."""
        allowed = _header(headers, "X-Ratelimit-Allowed")
        if allowed is not None and 0 < allowed < self._limit:
            self._limit = int(allowed)
        available = _header(headers, "X-Ratelimit-Available")
        expiry = _header(headers, "X-Ratelimit-Expiry")
        if available is not None and available <= 0 and expiry is not None:
            self.pause_until(_epoch_seconds(expiry))

    def observe_rate_limited(self, headers: Mapping[str, str]) -> float:
        """Pause after a 429; returns the pause in seconds from now.

        ``Retry-After`` (seconds) wins, then ``X-Ratelimit-Expiry``, then 60 s.
        """
        now = self._clock.timestamp()
        retry_after = _header(headers, "Retry-After")
        expiry = _header(headers, "X-Ratelimit-Expiry")
        if retry_after is not None and retry_after >= 0:
            until = now + retry_after
        elif expiry is not None and _epoch_seconds(expiry) > now:
            until = _epoch_seconds(expiry)
        else:
            until = now + DEFAULT_RATE_LIMITED_PAUSE_S
        self.pause_until(until)
        return until - now
