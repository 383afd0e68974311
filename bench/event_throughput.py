"""Event bus throughput and latency, otrade's EventEngine against vnpy's in the same run.

Workloads:
  (a) put 1,000,000 events of one type, one counting handler; time from the first put to
      the last handled;
  (b) the same with 3 handlers on the type and 1 general handler;
  (c) put events at a paced 20,000/s for 2 s, each carrying perf_counter_ns() at put time;
      report handler latency p50/p99/max in microseconds.

vnpy's EventEngine runs the same workloads when ``vnpy`` is importable
(``pip install vnpy --no-deps``; its event engine is pure Python).  Prints one JSON line.

Usage: python bench/event_throughput.py [--events N] [--rate R] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from otrade.event import Event as OEvent
from otrade.event import EventEngine as OEventEngine

EVENT_TYPE = "bench"


class Adapter:
    """A uniform face over otrade's and vnpy's engines."""

    def __init__(
        self,
        name: str,
        engine: Any,
        event_class: Callable[[str, Any], Any],
        stop: Callable[[], None],
    ) -> None:
        self.name = name
        self.engine = engine
        self.event_class = event_class
        self.stop = stop


def make_otrade() -> Adapter:
    engine = OEventEngine(interval_s=1.0)
    engine.start()
    return Adapter("otrade", engine, OEvent, engine.stop)


def make_vnpy() -> Adapter | None:
    try:
        from vnpy.event import Event as VEvent
        from vnpy.event import EventEngine as VEventEngine
    except ImportError:
        return None
    engine = VEventEngine(1)
    engine.start()
    return Adapter("vnpy", engine, VEvent, engine.stop)


def throughput(make: Callable[[], Adapter | None], events: int, fan_out: bool) -> float | None:
    adapter = make()
    if adapter is None:
        return None
    done = threading.Event()
    count = [0]

    def counting(event: Any) -> None:
        count[0] += 1
        if count[0] == events:
            done.set()

    def noop(event: Any) -> None:
        pass

    engine = adapter.engine
    engine.register(EVENT_TYPE, counting)
    if fan_out:
        engine.register(EVENT_TYPE, noop)
        engine.register(EVENT_TYPE, lambda event: None)
        engine.register_general(noop)
    payload = [adapter.event_class(EVENT_TYPE, i) for i in range(events)]
    put = engine.put
    started = time.perf_counter()
    for event in payload:
        put(event)
    done.wait(600)
    elapsed = time.perf_counter() - started
    adapter.stop()
    return events / elapsed


def latency(
    make: Callable[[], Adapter | None], rate: int, seconds: float
) -> dict[str, float] | None:
    adapter = make()
    if adapter is None:
        return None
    samples: list[int] = []
    total = int(rate * seconds)
    done = threading.Event()

    def measure(event: Any) -> None:
        samples.append(time.perf_counter_ns() - event.data)
        if len(samples) == total:
            done.set()

    adapter.engine.register(EVENT_TYPE, measure)
    event_class = adapter.event_class
    put = adapter.engine.put
    batch = max(1, rate // 1000)  # a batch per millisecond
    interval_ns = int(batch * 1e9 / rate)
    next_ns = time.perf_counter_ns()
    sent = 0
    while sent < total:
        for _ in range(min(batch, total - sent)):
            put(event_class(EVENT_TYPE, time.perf_counter_ns()))
            sent += 1
        next_ns += interval_ns
        pause = next_ns - time.perf_counter_ns()
        if pause > 0:
            time.sleep(pause / 1e9)
    done.wait(60)
    adapter.stop()
    ordered = sorted(samples)
    return {
        "p50_us": round(statistics.median(ordered) / 1000, 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99) - 1] / 1000, 1),
        "max_us": round(ordered[-1] / 1000, 1),
        "handled": len(ordered),
    }


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=2.0)
    arguments = parser.parse_args()

    result: dict[str, Any] = {
        "benchmark": "event_throughput",
        "events": arguments.events,
        "python": platform.python_version(),
    }
    for label, fan_out in (("a_one_handler", False), ("b_three_plus_general", True)):
        ours = throughput(make_otrade, arguments.events, fan_out)
        theirs = throughput(make_vnpy, arguments.events, fan_out)
        result[label] = {
            "otrade_events_per_s": round(ours or 0),
            "vnpy_events_per_s": round(theirs) if theirs else None,
            "ratio_vs_vnpy": ratio(ours, theirs),
        }
    ours_latency = latency(make_otrade, arguments.rate, arguments.seconds)
    theirs_latency = latency(make_vnpy, arguments.rate, arguments.seconds)
    result["c_paced_latency"] = {
        "rate_per_s": arguments.rate,
        "seconds": arguments.seconds,
        "otrade": ours_latency,
        "vnpy": theirs_latency,
        "p99_ratio_vs_vnpy": ratio(
            ours_latency["p99_us"] if ours_latency else None,
            theirs_latency["p99_us"] if theirs_latency else None,
        ),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
