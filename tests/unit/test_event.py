"""EventEngine: dispatch order, registration, error isolation, timers, stop, sync mode."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from loguru import logger

from otrade.clock import SimulatedClock
from otrade.errors import EngineError
from otrade.event import EVENT_TIMER, Event, EventEngine

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


@pytest.fixture
def log_lines():
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG")
    yield lines
    logger.remove(sink)


def wait_for(predicate, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


def test_event_has_type_and_data_slots():
    event = Event("order", {"id": 1})
    assert event.type == "order"
    assert event.data == {"id": 1}
    with pytest.raises(AttributeError):
        event.other = 1  # type: ignore[attr-defined]


def test_events_from_one_producer_are_handled_in_order():
    engine = EventEngine(interval_s=60)
    seen: list[int] = []
    engine.register("x", lambda event: seen.append(event.data))
    engine.start()
    for number in range(10_000):
        engine.put(Event("x", number))
    engine.stop()
    assert seen == list(range(10_000))


def test_type_handlers_run_before_general_handlers_in_registration_order():
    engine = EventEngine(threaded=False)
    calls: list[str] = []
    engine.register_general(lambda event: calls.append(f"general:{event.type}"))
    engine.register("a", lambda event: calls.append("a1"))
    engine.register("a", lambda event: calls.append("a2"))
    engine.start()
    engine.put(Event("a"))
    engine.put(Event("b"))
    engine.process_pending(timers=False)
    assert calls == ["a1", "a2", "general:a", "general:b"]


def test_registering_twice_calls_once_and_unregister_removes():
    engine = EventEngine(threaded=False)
    calls: list[str] = []

    def handler(event: Event) -> None:
        calls.append(event.type)

    engine.register("a", handler)
    engine.register("a", handler)
    engine.register_general(handler)
    engine.register_general(handler)
    engine.start()
    engine.put(Event("a"))
    engine.process_pending(timers=False)
    assert calls == ["a", "a"]
    engine.unregister("a", handler)
    engine.unregister_general(handler)
    engine.unregister("never", handler)
    engine.put(Event("a"))
    engine.process_pending(timers=False)
    assert calls == ["a", "a"]


def test_a_raising_handler_is_logged_with_traceback_and_others_still_run(log_lines):
    engine = EventEngine(interval_s=60)
    seen: list[int] = []

    def broken(event: Event) -> None:
        raise RuntimeError(f"broken on {event.data}")

    engine.register("x", broken)
    engine.register("x", lambda event: seen.append(event.data))
    engine.start()
    engine.put(Event("x", 1))
    engine.put(Event("x", 2))
    engine.stop()
    assert seen == [1, 2]
    text = "".join(log_lines)
    assert "handler test_a_raising_handler_is_logged_with_traceback" in text
    assert "<locals>.broken raised while handling a 'x' event" in text
    assert "RuntimeError: broken on 1" in text
    assert "RuntimeError: broken on 2" in text
    assert "Traceback" in text


def test_stop_handles_everything_queued_before_it_and_is_idempotent():
    engine = EventEngine(interval_s=60)
    seen: list[int] = []
    gate = threading.Event()

    def slow(event: Event) -> None:
        gate.wait(2)
        seen.append(event.data)

    engine.register("x", slow)
    engine.start()
    for number in range(100):
        engine.put(Event("x", number))
    gate.set()
    engine.stop()
    assert seen == list(range(100))
    engine.stop()
    assert not engine.active
    assert not any(t.name in ("otrade-event", "otrade-timer") for t in threading.enumerate())


def test_stop_before_start_is_harmless_and_stopped_engine_cannot_restart():
    engine = EventEngine()
    engine.stop()
    with pytest.raises(EngineError, match="cannot be started again"):
        engine.start()


def test_stop_gives_up_on_a_stuck_handler_after_the_timeout(log_lines):
    engine = EventEngine(interval_s=60, stop_timeout_s=0.2)
    release = threading.Event()
    engine.register("x", lambda event: release.wait(5))
    engine.start()
    engine.put(Event("x"))
    started = time.monotonic()
    engine.stop()
    assert time.monotonic() - started < 2
    assert "did not stop within 0.2 s" in "".join(log_lines)
    release.set()


def test_live_timer_emits_clock_time_at_the_interval():
    engine = EventEngine(interval_s=0.05)
    ticks: list[datetime] = []
    engine.register(EVENT_TIMER, lambda event: ticks.append(event.data))
    engine.start()
    wait_for(lambda: len(ticks) >= 3)
    engine.stop()
    assert all(tick.tzinfo is not None for tick in ticks)
    assert ticks == sorted(ticks)


def test_timer_thread_follows_a_simulated_clock():
    clock = SimulatedClock(START)
    engine = EventEngine(interval_s=1.0, clock=clock)
    ticks: list[datetime] = []
    engine.register(EVENT_TIMER, lambda event: ticks.append(event.data))
    engine.start()
    time.sleep(0.1)
    assert ticks == []  # a manual clock that nobody advances never ticks
    clock.advance(1.0)
    wait_for(lambda: len(ticks) == 1)
    assert ticks[0] == datetime(2026, 3, 2, 14, 30, 1, tzinfo=UTC)
    engine.stop()


def test_sync_mode_emits_one_timer_per_crossed_interval_with_clock_time():
    clock = SimulatedClock(START)
    engine = EventEngine(interval_s=1.0, clock=clock, threaded=False)
    ticks: list[datetime] = []
    engine.register(EVENT_TIMER, lambda event: ticks.append(event.data))
    engine.start()
    assert engine.process_pending() == 0
    clock.advance(3.5)
    assert engine.process_pending() == 3
    assert len(ticks) == 3
    assert all(tick == datetime(2026, 3, 2, 14, 30, 3, 500000, tzinfo=UTC) for tick in ticks)
    clock.advance(0.5)
    engine.process_pending()
    assert len(ticks) == 4
    assert not any(t.name == "otrade-event" for t in threading.enumerate())


def test_sync_mode_handles_events_put_by_handlers_and_honours_max_events():
    engine = EventEngine(threaded=False)
    seen: list[int] = []

    def chain(event: Event) -> None:
        seen.append(event.data)
        engine.put(Event("x", event.data + 1))

    engine.register("x", chain)
    engine.start()
    engine.put(Event("x", 0))
    assert engine.process_pending(max_events=5, timers=False) == 5
    assert seen == [0, 1, 2, 3, 4]


def test_sync_mode_stop_drains_the_queue():
    engine = EventEngine(threaded=False)
    seen: list[int] = []
    engine.register("x", lambda event: seen.append(event.data))
    engine.start()
    engine.put(Event("x", 7))
    engine.stop()
    assert seen == [7]


def test_process_pending_refuses_a_threaded_engine():
    with pytest.raises(EngineError, match="threaded=False"):
        EventEngine().process_pending()


@pytest.mark.parametrize(("argument", "value"), [("interval_s", 0), ("stop_timeout_s", -1)])
def test_bad_intervals_are_refused_by_name(argument, value):
    with pytest.raises(ValueError, match=argument):
        EventEngine(**{argument: value})


def test_put_is_safe_from_many_threads_and_keeps_each_producers_order():
    engine = EventEngine(interval_s=60)
    seen: dict[int, list[int]] = {0: [], 1: [], 2: [], 3: []}
    engine.register("x", lambda event: seen[event.data[0]].append(event.data[1]))
    engine.start()

    def produce(producer: int) -> None:
        for number in range(5_000):
            engine.put(Event("x", (producer, number)))

    threads = [threading.Thread(target=produce, args=(p,)) for p in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.stop()
    assert all(numbers == list(range(5_000)) for numbers in seen.values())


def test_handlers_registered_while_running_take_effect():
    engine = EventEngine(interval_s=60)
    seen: list[int] = []
    engine.start()
    engine.register("x", lambda event: seen.append(event.data))
    engine.put(Event("x", 1))
    engine.stop()
    assert seen == [1]


def test_gates_run_before_handlers_and_can_drop_an_event(log_lines):
    engine = EventEngine(threaded=False)
    seen: list[int] = []
    engine.register_gate("x", lambda event: event.data % 2 == 0)

    def broken_gate(event: Event) -> bool:
        if event.data == 4:
            raise RuntimeError("gate broke on 4")
        return True

    engine.register_gate("x", broken_gate)
    engine.register("x", lambda event: seen.append(event.data))
    engine.register_general(lambda event: seen.append(-event.data))
    engine.start()
    for number in range(6):
        engine.put(Event("x", number))
    engine.process_pending(timers=False)
    assert seen == [0, 0, 2, -2]
    assert "RuntimeError: gate broke on 4" in "".join(log_lines)
    engine.unregister_gate("x", broken_gate)
    engine.put(Event("x", 4))
    engine.process_pending(timers=False)
    assert seen[-2:] == [4, -4]
