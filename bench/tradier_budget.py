"""Tradier feed against its request budget: 40 active chains on a 120 requests/minute token.

The real TradierDataFeed (real IoLoop, real httpx) polls the fake Tradier server of
``tests/fakes`` on 127.0.0.1 for a few simulated minutes.  The feed, the fake's fixed rate
window and the fake's quote stamps share one accelerated SimulatedClock.  Active: SPY, QQQ
and IWM weeklies and SPX's SPXW weeklies, 10 expiries each (40 chains, 42 options each).

Two runs: a clean one, and one where the fake faults 20 % of the requests at random
(HTTP 503, timeouts, malformed JSON, errors with HTTP 200, in equal shares; a timeout
costs the call the client's 0.2 s real timeout, 6 simulated seconds at speed 30, then its
backoff).  Figures per run:

* ``max_requests_in_60s``: the most requests the fake saw in any 60 s (sliding) window;
  target: never above the limit;
* ``longest_chain_gap_s``: the longest simulated time any active chain went without a
  refresh (from the start, between refreshes, and up to the end); target: <= 60 s;
* ``quotes_per_request``: quote events delivered per request the fake saw;
* ``http_429``: 429s the fake sent because its window was used up; target: 0.

Prints one JSON line.

Usage: python bench/tradier_budget.py [--minutes M] [--speed S] [--fault-rate F]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fakes

START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 New York
FIRST_FRIDAY = date(2026, 12, 4)
LIMIT_PER_MINUTE = 120
WINDOW_S = 60.0
STRIKES = tuple(400.0 + 5 * step for step in range(21))
FAMILIES = (("SPY", "SPY"), ("QQQ", "QQQ"), ("IWM", "IWM"), ("SPX", "SPXW"))
EXPIRIES = 10
CLIENT_TIMEOUT_S = 0.2  # real seconds (httpx); a timed-out call costs this x speed simulated


def max_in_window(times: list[float], window_s: float = WINDOW_S) -> int:
    ordered = sorted(times)
    best = start = 0
    for end, stamp in enumerate(ordered):
        while stamp - ordered[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def run(minutes: float, speed: float, fault_rate: float) -> dict[str, Any]:
    from tests.fakes.tradier_server import TOKEN, running_fake

    from otrade.clock import SimulatedClock
    from otrade.datafeeds.base import ActiveChain
    from otrade.datafeeds.tradier import TradierDataFeed
    from otrade.event import EVENT_GREEKS, EVENT_QUOTE, Event, EventEngine
    from otrade.ioloop import IoLoop
    from otrade.settings import LogSettings, Secret, Settings, TradierSettings

    chains = frozenset(
        ActiveChain(underlying, root, FIRST_FRIDAY + timedelta(weeks=week))
        for underlying, root in FAMILIES
        for week in range(EXPIRIES)
    )
    refreshes: dict[tuple[str, str], set[float]] = defaultdict(set)
    counts = {"quotes": 0, "greeks": 0}

    def process_quote_event(event: Event) -> None:
        counts["quotes"] += 1
        symbol: str = event.data.symbol
        if len(symbol) > 15:  # an option: its chain is (root, YYMMDD)
            refreshes[symbol[:-15], symbol[-15:-9]].add(event.data.time.timestamp())

    def process_greeks_event(event: Event) -> None:
        counts["greeks"] += 1

    clock = SimulatedClock(START, speed=speed)
    events = EventEngine(clock=clock, threaded=False)
    events.register(EVENT_QUOTE, process_quote_event)
    events.register(EVENT_GREEKS, process_greeks_event)
    io_loop = IoLoop("bench-tradier-io")
    io_loop.start()
    with running_fake(clock=clock, limit_per_minute=LIMIT_PER_MINUTE, timeout_delay_s=0.3,
                      strikes=STRIKES, fault_rate=fault_rate, seed=7) as fake:  # fmt: skip
        settings = Settings(
            log=LogSettings(console=False, file=False),
            tradier=TradierSettings(
                token=Secret(TOKEN),
                base_url=fake.url,
                requests_per_minute=LIMIT_PER_MINUTE,
                timeout_s=CLIENT_TIMEOUT_S,
            ),
        )
        feed = TradierDataFeed(events, clock, io_loop, settings)
        feed.set_active(frozenset(underlying for underlying, _ in FAMILIES), chains)
        started = clock.timestamp()
        feed.start()
        end = started + minutes * 60
        while clock.timestamp() < end:
            time.sleep(0.05)
            events.process_pending(timers=False)
        running = feed.running
        feed.close()
        ended = clock.timestamp()
        events.process_pending(timers=False)
        request_times = [stamp for stamp, _, _ in fake.requests]
        http_429, faults = fake.rate_limited, fake.faulted
    io_loop.stop()

    gaps = []
    for chain in chains:
        key = (chain.root, chain.expiry.strftime("%y%m%d"))
        stamps = [started, *sorted(refreshes.get(key, ())), ended]
        gaps.append(max(later - earlier for earlier, later in itertools.pairwise(stamps)))
    max_window = max_in_window(request_times)
    longest_gap = max(gaps)
    return {
        "fault_rate": fault_rate,
        "requests": len(request_times),
        "faults_injected": faults,
        "max_requests_in_60s": max_window,
        "longest_chain_gap_s": round(longest_gap, 1),
        "quotes_per_request": round(counts["quotes"] / max(1, len(request_times)), 1),
        "greeks_delivered": counts["greeks"],
        "http_429": http_429,
        "feed_running_at_end": running,
        "targets_met": {
            "max_requests_in_60s_le_limit": max_window <= LIMIT_PER_MINUTE,
            "every_chain_refreshed_within_60s": longest_gap <= WINDOW_S,
            "no_429": http_429 == 0,
            "kept_running": running,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="simulated minutes per run")
    parser.add_argument("--speed", type=float, default=30.0, help="simulated s per real s")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share faulted, run 2")
    arguments = parser.parse_args()
    from loguru import logger

    logger.remove()  # the client's retry warnings would drown the one JSON line
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    runs = [run(arguments.minutes, arguments.speed, rate) for rate in (0.0, arguments.fault_rate)]
    print(
        json.dumps(
            {
                "benchmark": "tradier_budget",
                "limit_per_minute": LIMIT_PER_MINUTE,
                "budget_per_minute": int(LIMIT_PER_MINUTE * 0.9),
                "active_chains": len(FAMILIES) * EXPIRIES,
                "options_per_chain": 2 * len(STRIKES),
                "simulated_minutes": arguments.minutes,
                "clock_speed": arguments.speed,
                "fault_kinds": ["503", "timeout", "malformed", "errors200"],
                "timeout_simulated_s": round(CLIENT_TIMEOUT_S * arguments.speed, 1),
                "runs": runs,
                "all_targets_met": all(all(r["targets_met"].values()) for r in runs),
            }
        )
    )


if __name__ == "__main__":
    main()
