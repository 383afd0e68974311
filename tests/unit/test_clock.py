"""Clocks: live time, manual and accelerated simulated time, interruptible sleeps."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from otrade.clock import Clock, LiveClock, SimulatedClock

START = datetime(2026, 12, 18, 14, 30, tzinfo=UTC)


def test_both_clocks_satisfy_the_protocol():
    assert isinstance(LiveClock(), Clock)
    assert isinstance(SimulatedClock(START), Clock)


def test_live_clock_is_utc_and_close_to_system_time():
    clock = LiveClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now.timestamp() - time.time()) < 1
    assert abs(clock.timestamp() - time.time()) < 1


def test_live_sleep_returns_false_when_stopped():
    stop = threading.Event()
    stop.set()
    assert LiveClock().sleep(5, stop) is False
    assert LiveClock().sleep(0.01) is True


def test_manual_clock_stands_still_until_advanced():
    clock = SimulatedClock(START)
    first = clock.now()
    time.sleep(0.01)
    assert clock.now() == first == START
    assert clock.advance(1.5) == START + timedelta(seconds=1.5)
    assert clock.advance(timedelta(minutes=1)) == START + timedelta(seconds=61.5)
    assert clock.timestamp() == START.timestamp() + 61.5
    assert clock.monotonic() == clock.timestamp()


def test_simulated_clock_converts_other_time_zones_to_utc():
    eastern = timezone(timedelta(hours=-5))
    clock = SimulatedClock(datetime(2026, 12, 18, 9, 30, tzinfo=eastern))
    assert clock.now() == datetime(2026, 12, 18, 14, 30, tzinfo=UTC)
    assert clock.now().tzinfo is UTC


def test_simulated_clock_refuses_to_go_backwards_or_naive_times():
    clock = SimulatedClock(START)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="backwards"):
        clock.set_time(START - timedelta(seconds=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set_time(datetime(2026, 12, 18, 15, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 12, 18))
    with pytest.raises(ValueError, match="speed"):
        SimulatedClock(START, speed=0)


def test_set_time_jumps_forward():
    clock = SimulatedClock(START)
    clock.set_time(START + timedelta(hours=2))
    assert clock.now() == START + timedelta(hours=2)


def test_sleeper_on_manual_clock_wakes_when_time_passes_its_deadline():
    clock = SimulatedClock(START)
    results: list[bool] = []
    sleeper = threading.Thread(target=lambda: results.append(clock.sleep(10)))
    sleeper.start()
    clock.advance(5)
    time.sleep(0.1)
    assert sleeper.is_alive()
    clock.advance(5)
    sleeper.join(2)
    assert results == [True]


def test_sleeper_on_manual_clock_is_released_by_its_stop_event():
    clock = SimulatedClock(START)
    stop = threading.Event()
    results: list[bool] = []
    sleeper = threading.Thread(target=lambda: results.append(clock.sleep(10, stop)))
    sleeper.start()
    stop.set()
    sleeper.join(2)
    assert results == [False]


def test_accelerated_clock_runs_faster_than_real_time():
    clock = SimulatedClock(START, speed=100.0)
    started = time.monotonic()
    assert clock.sleep(5.0) is True  # five simulated seconds, about 0.05 s of real time
    assert time.monotonic() - started < 1.0
    assert clock.now() >= START + timedelta(seconds=5)
    clock.advance(3600)
    assert clock.now() >= START + timedelta(seconds=3605)
    assert clock.speed == 100.0


def test_async_sleep_on_live_and_accelerated_clocks():
    import asyncio

    async def run() -> float:
        started = time.monotonic()
        await LiveClock().sleep_async(0.01)
        await LiveClock().sleep_async(-1)
        fast = SimulatedClock(START, speed=200.0)
        await fast.sleep_async(10.0)  # 10 simulated seconds, about 0.05 s real
        assert fast.now() >= START + timedelta(seconds=10)
        return time.monotonic() - started

    assert asyncio.run(run()) < 1.0


def test_async_sleep_on_a_manual_clock_waits_for_the_owner_to_advance_it():
    import asyncio

    clock = SimulatedClock(START)

    async def run() -> bool:
        sleeper = asyncio.ensure_future(clock.sleep_async(5))
        await asyncio.sleep(0.12)
        was_waiting = not sleeper.done()
        clock.advance(5)
        await asyncio.wait_for(sleeper, 1.0)
        return was_waiting

    assert asyncio.run(run()) is True
