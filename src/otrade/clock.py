"""Clocks: the only place otrade reads the time.

Engines take a :class:`Clock` and never call ``datetime.now()`` or ``time.time()``
themselves, so the same engine code runs live, in deterministic tests and in replay.

* :class:`LiveClock` reads the system clock.
* :class:`SimulatedClock` holds a simulated time that a test or a replay advances by
  hand (:meth:`SimulatedClock.advance`), or that runs ``speed`` times faster than real
  time when created with a ``speed``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "LiveClock", "SimulatedClock"]

# How often a sleeper re-checks its stop event while it waits on a simulated clock.
_POLL_S = 0.05


@runtime_checkable
class Clock(Protocol):
    """What every clock offers.

    All datetimes are timezone-aware and in UTC.
    """

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def timestamp(self) -> float:
        """The current time as POSIX seconds."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never go backwards (for intervals)."""
        ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait ``seconds`` of this clock's time.

        Args:
            seconds: How long to wait, in this clock's seconds; ``<= 0`` returns at once.
            stop: When set while waiting, the wait ends early.

        Returns:
            True when the full time passed, False when ``stop`` ended the wait.
        """
        ...

    async def sleep_async(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time inside an asyncio coroutine."""
        ...


class LiveClock:
    """The system clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    def timestamp(self) -> float:
        """The current time as POSIX seconds."""
        return time.time()

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait ``seconds`` of real time, ending early when ``stop`` is set."""
        if seconds <= 0:
            return not (stop is not None and stop.is_set())
        if stop is None:
            time.sleep(seconds)
            return True
        return not stop.wait(seconds)

    async def sleep_async(self, seconds: float) -> None:
        """``asyncio.sleep(seconds)``."""
        await asyncio.sleep(max(seconds, 0.0))


class SimulatedClock:
    """A clock whose time is set by its owner.

    In manual mode (``speed=None``, the default) time moves only through :meth:`advance`
    and :meth:`set_time`; threads sleeping on the clock wake when it passes their deadline.
    With ``speed`` the clock also runs on its own, ``speed`` simulated seconds per real
    second, starting from ``start``; :meth:`advance` still jumps it forward.

    Args:
        start: The initial simulated time; must be timezone-aware.
        speed: Simulated seconds per real second, or None for a manual clock.

    Raises:
        ValueError: ``start`` is naive or ``speed`` is not positive.
    """

    def __init__(self, start: datetime, speed: float | None = None) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"start must be timezone-aware, got naive {start.isoformat()}")
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self._speed = speed
        self._condition = threading.Condition()
        self._base = start.timestamp()
        self._real_base = time.monotonic()

    @property
    def speed(self) -> float | None:
        """Simulated seconds per real second, or None for a manual clock."""
        return self._speed

    def timestamp(self) -> float:
        """The simulated time as POSIX seconds."""
        with self._condition:
            return self._timestamp_locked()

    def _timestamp_locked(self) -> float:
        if self._speed is None:
            return self._base
        return self._base + (time.monotonic() - self._real_base) * self._speed

    def now(self) -> datetime:
        """The simulated time, timezone-aware UTC."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def monotonic(self) -> float:
        """The simulated POSIX time; it never goes backwards."""
        return self.timestamp()

    def advance(self, seconds: float | timedelta) -> datetime:
        """Move the clock forward and wake sleepers whose deadline has passed.

        Args:
            seconds: How far to move, in seconds or as a timedelta; must not be negative.

        Returns:
            The new simulated time.

        Raises:
            ValueError: ``seconds`` is negative.
        """
        delta = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if delta < 0:
            raise ValueError(f"a clock cannot go backwards: advance({delta!r})")
        with self._condition:
            self._base += delta
            self._condition.notify_all()
            return datetime.fromtimestamp(self._timestamp_locked(), UTC)

    def set_time(self, when: datetime) -> None:
        """Jump to ``when``, which must be timezone-aware and not before the current time.

        Raises:
            ValueError: ``when`` is naive or earlier than the clock.
        """
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError(f"when must be timezone-aware, got naive {when.isoformat()}")
        with self._condition:
            current = self._timestamp_locked()
            target = when.timestamp()
            if target < current:
                raise ValueError(
                    f"a clock cannot go backwards: set_time({when.isoformat()}) is before "
                    f"{datetime.fromtimestamp(current, UTC).isoformat()}"
                )
            self._base += target - current
            self._condition.notify_all()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait until the simulated time has moved ``seconds`` forward.

        A manual clock only moves when its owner advances it, so a sleeper on a manual
        clock that nobody advances waits until ``stop`` is set.
        """
        with self._condition:
            deadline = self._timestamp_locked() + seconds
            while True:
                if stop is not None and stop.is_set():
                    return False
                remaining = deadline - self._timestamp_locked()
                if remaining <= 0:
                    return True
                timeout = _POLL_S
                if self._speed is not None:
                    timeout = min(timeout, remaining / self._speed)
                self._condition.wait(timeout)

    async def sleep_async(self, seconds: float) -> None:
        """Wait inside a coroutine until the simulated time has moved ``seconds`` forward.

        The coroutine re-checks the clock at least every 50 ms of real time (sooner on an
        accelerated clock), so it wakes shortly after the owner advances a manual clock.
        """
        deadline = self.timestamp() + seconds
        while (remaining := deadline - self.timestamp()) > 0:
            timeout = _POLL_S if self._speed is None else min(_POLL_S, remaining / self._speed)
            await asyncio.sleep(timeout)
