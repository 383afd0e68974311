"""RequestBudget: even pacing below the limit; the server only ever slows it down."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otrade.clock import SimulatedClock
from otrade.datafeeds.ratelimit import RequestBudget

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
T0 = START.timestamp()


def test_slots_are_spread_evenly_below_the_limit():
    budget = RequestBudget(SimulatedClock(START), limit_per_minute=120)
    assert budget.interval_s == pytest.approx(60 / 108)
    slots = [budget.reserve() for _ in range(5)]
    assert slots == pytest.approx([T0 + n * 60 / 108 for n in range(5)])


@given(limit=st.integers(1, 1000), requests=st.integers(1, 400))
def test_no_sixty_second_window_ever_holds_more_than_the_limit(limit, requests):
    budget = RequestBudget(SimulatedClock(START), limit_per_minute=limit)
    slots = [budget.reserve() for _ in range(requests)]
    for index, slot in enumerate(slots):
        in_window = sum(1 for other in slots[index:] if other < slot + 60)
        assert in_window <= limit


def test_an_idle_budget_does_not_save_up_a_burst():
    clock = SimulatedClock(START)
    budget = RequestBudget(clock, limit_per_minute=60)
    budget.reserve()
    clock.advance(3600)
    first, second = budget.reserve(), budget.reserve()
    assert first == T0 + 3600
    assert second - first == pytest.approx(60 / 54)


def test_a_lower_server_limit_slows_the_budget_and_a_higher_one_is_ignored():
    budget = RequestBudget(SimulatedClock(START), limit_per_minute=120)
    budget.observe_headers({"X-Ratelimit-Allowed": "500"})
    assert budget.limit_per_minute == 120
    budget.observe_headers({"x-ratelimit-allowed": "60"})
    assert budget.limit_per_minute == 60
    assert budget.interval_s == pytest.approx(60 / 54)


def test_an_exhausted_window_pauses_until_the_expiry_in_milliseconds_or_seconds():
    clock = SimulatedClock(START)
    budget = RequestBudget(clock, limit_per_minute=120)
    budget.observe_headers(
        {"X-Ratelimit-Available": "3", "X-Ratelimit-Expiry": str(int((T0 + 30) * 1000))}
    )
    assert budget.paused_until == 0
    budget.observe_headers(
        {"X-Ratelimit-Available": "0", "X-Ratelimit-Expiry": str(int((T0 + 30) * 1000))}
    )
    assert budget.reserve() == pytest.approx(T0 + 30)
    budget.observe_headers({"X-Ratelimit-Available": "0", "X-Ratelimit-Expiry": str(int(T0 + 45))})
    assert budget.paused_until == pytest.approx(T0 + 45)


@pytest.mark.parametrize(
    ("headers", "pause_s"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"X-Ratelimit-Expiry": str(int((T0 + 20) * 1000))}, 20.0),
        ({"X-Ratelimit-Expiry": str(int((T0 - 20) * 1000))}, 60.0),  # already past
        ({}, 60.0),
        ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, 60.0),  # not seconds: default
    ],
)
def test_a_429_pauses_for_retry_after_else_the_expiry_else_sixty_seconds(headers, pause_s):
    budget = RequestBudget(SimulatedClock(START), limit_per_minute=120)
    assert budget.observe_rate_limited(headers) == pytest.approx(pause_s)
    assert budget.reserve() == pytest.approx(T0 + pause_s)


def test_a_pause_never_shortens_an_earlier_longer_one():
    budget = RequestBudget(SimulatedClock(START), limit_per_minute=120)
    budget.pause_until(T0 + 100)
    budget.observe_rate_limited({"Retry-After": "5"})
    assert budget.paused_until == T0 + 100


def test_acquire_waits_on_the_clock_for_each_slot():
    clock = SimulatedClock(START, speed=100.0)
    budget = RequestBudget(clock, limit_per_minute=60)
    started = clock.timestamp()

    async def run() -> list[float]:
        times = []
        for _ in range(3):
            await budget.acquire()
            times.append(clock.timestamp())
        return times

    times = asyncio.run(run())
    # Slot n is at least n intervals after the first, which is no earlier than the start.
    for number, returned in enumerate(times):
        assert returned >= started + number * 60 / 54 - 1e-6


@pytest.mark.parametrize(("limit", "safety"), [(0, 0.9), (120, 0), (120, 1.5)])
def test_bad_arguments_are_named(limit, safety):
    with pytest.raises(ValueError, match=r"limit_per_minute|safety"):
        RequestBudget(SimulatedClock(START), limit, safety)
