"""The event bus: :class:`Event` and :class:`EventEngine`.

Producers (gateways, datafeeds, engines, the timer) call :meth:`EventEngine.put` from any
thread.  One worker thread takes events off a C-backed FIFO queue and calls the handlers
registered for the event's type, then the general handlers, in registration order.  Engine
state and strategy callbacks therefore live on that one thread and need no locks.

In synchronous mode (``threaded=False``) there are no threads at all: the owner calls
:meth:`EventEngine.process_pending`, which first emits the timer events the clock has
crossed and then handles everything queued.  Tests and replays use it to run the same
engines deterministically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, Final

from loguru import logger

from otrade.clock import Clock, LiveClock
from otrade.errors import EngineError

__all__ = [
    "EVENT_ACCOUNT",
    "EVENT_CHAIN_UPDATE",
    "EVENT_COMMISSION",
    "EVENT_CONTRACT",
    "EVENT_GREEKS",
    "EVENT_HEDGE",
    "EVENT_LOG",
    "EVENT_ORDER",
    "EVENT_POSITION",
    "EVENT_QUOTE",
    "EVENT_STRATEGY",
    "EVENT_TIMER",
    "EVENT_TRADE",
    "Event",
    "EventEngine",
    "Gate",
    "Handler",
]

EVENT_TIMER: Final = "timer"
"""Timer tick; data is the clock's time (a UTC datetime)."""
EVENT_LOG: Final = "log"
"""A :class:`~otrade.objects.LogData` for the LogEngine."""
EVENT_CONTRACT: Final = "contract"
"""A :class:`~otrade.objects.ContractData`."""
EVENT_QUOTE: Final = "quote"
"""A :class:`~otrade.objects.QuoteData`."""
EVENT_ORDER: Final = "order"
"""An :class:`~otrade.objects.OrderData`."""
EVENT_TRADE: Final = "trade"
"""A :class:`~otrade.objects.TradeData`."""
EVENT_POSITION: Final = "position"
"""A :class:`~otrade.objects.PositionData`."""
EVENT_ACCOUNT: Final = "account"
"""An :class:`~otrade.objects.AccountData`."""
EVENT_GREEKS: Final = "greeks"
"""A :class:`~otrade.objects.GreeksData` from a datafeed."""
EVENT_CHAIN_UPDATE: Final = "chain_update"
"""A :class:`~otrade.objects.ChainUpdateData`: the MarketDataEngine updated live data."""
EVENT_COMMISSION: Final = "commission"
"""A :class:`~otrade.objects.CommissionData`: a stored trade's commission, reported late."""
EVENT_STRATEGY: Final = "strategy"
"""A :class:`~otrade.objects.StrategyData`: a strategy's state, parameters or variables changed."""
EVENT_HEDGE: Final = "hedge"
"""A :class:`~otrade.hedge.HedgeDecision`: what the HedgeEngine decided for one strategy."""


class Event:
    """One message on the bus.

    Args:
        type: The event type, one of the ``EVENT_*`` names or a plugin's own.
        data: The payload, a record from :mod:`otrade.objects` (never a mutable engine object).
    """

    __slots__ = ("data", "type")

    def __init__(self, type: str, data: Any = None) -> None:
        self.type = type
        self.data = data

    def __repr__(self) -> str:
        return f"Event(type={self.type!r}, data={self.data!r})"


Handler = Callable[[Event], None]
"""A callable that handles one event; it runs on the event thread."""

Gate = Callable[[Event], bool]
"""A callable that runs before an event's handlers and returns False to drop the event."""

_STOP: Final = Event("__stop__")


class EventEngine:
    """A FIFO event queue with one dispatch thread and a clock-driven timer.

    Args:
        interval_s: Seconds of clock time between timer events.
        clock: Where time comes from; a :class:`~otrade.clock.LiveClock` by default.
        threaded: False for synchronous mode (no threads; see :meth:`process_pending`).
        stop_timeout_s: How long :meth:`stop` waits for queued events and threads.

    Raises:
        ValueError: ``interval_s`` or ``stop_timeout_s`` is not positive.
    """

    def __init__(
        self,
        interval_s: float = 1.0,
        clock: Clock | None = None,
        *,
        threaded: bool = True,
        stop_timeout_s: float = 10.0,
    ) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
        if not stop_timeout_s > 0:
            raise ValueError(f"stop_timeout_s must be > 0, got {stop_timeout_s!r}")
        self._interval_s = interval_s
        self._clock: Clock = clock or LiveClock()
        self._threaded = threaded
        self._stop_timeout_s = stop_timeout_s
        self._queue: SimpleQueue[Event] = SimpleQueue()
        # Copy-on-write: registration swaps in new tuples, so the dispatch loop reads a
        # consistent handler list without taking a lock.
        self._handlers: dict[str, tuple[Handler, ...]] = {}
        self._general: tuple[Handler, ...] = ()
        self._gates: dict[str, tuple[Gate, ...]] = {}
        self._lock = threading.Lock()
        self._active = False
        self._stopped = threading.Event()
        self._worker: threading.Thread | None = None
        self._timer: threading.Thread | None = None
        self._next_timer: float | None = None

    @property
    def clock(self) -> Clock:
        """The clock the timer runs on."""
        return self._clock

    @property
    def interval_s(self) -> float:
        """Seconds between timer events."""
        return self._interval_s

    @property
    def threaded(self) -> bool:
        """False in synchronous mode."""
        return self._threaded

    @property
    def active(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._active

    def register(self, type: str, handler: Handler) -> None:
        """Call ``handler`` for every event of ``type``; registering twice does nothing."""
        self._add(self._handlers, type, handler)

    def unregister(self, type: str, handler: Handler) -> None:
        """Stop calling ``handler`` for ``type``; unknown handlers are ignored."""
        self._remove(self._handlers, type, handler)

    def register_general(self, handler: Handler) -> None:
        """Call ``handler`` for every event, after the type's own handlers."""
        with self._lock:
            if handler not in self._general:
                self._general = (*self._general, handler)

    def unregister_general(self, handler: Handler) -> None:
        """Stop calling a general handler; unknown handlers are ignored."""
        with self._lock:
            self._general = tuple(h for h in self._general if h != handler)

    def register_gate(self, type: str, gate: Gate) -> None:
        """Run ``gate`` on every event of ``type`` before any handler sees it.

        A gate returns True to let the event through and False to drop it; a gate that
        raises is logged and the event is dropped.  The DatabaseEngine uses a gate to
        commit each trade before any engine reacts to it, and to drop repeated executions.
        """
        self._add(self._gates, type, gate)

    def unregister_gate(self, type: str, gate: Gate) -> None:
        """Remove a gate; unknown gates are ignored."""
        self._remove(self._gates, type, gate)

    def _add(self, table: dict[str, tuple[Any, ...]], type: str, item: object) -> None:
        with self._lock:
            items = table.get(type, ())
            if item not in items:
                table[type] = (*items, item)

    def _remove(self, table: dict[str, tuple[Any, ...]], type: str, item: object) -> None:
        with self._lock:
            items = tuple(existing for existing in table.get(type, ()) if existing != item)
            if items:
                table[type] = items
            else:
                table.pop(type, None)

    def put(self, event: Event) -> None:
        """Queue ``event``; safe from any thread, never blocks.

        Events from one producer are handled in the order that producer put them.
        """
        self._queue.put(event)

    def start(self) -> None:
        """Start dispatching (and the timer); starting twice does nothing.

        Raises:
            EngineError: The engine was stopped; an engine cannot be restarted.
        """
        with self._lock:
            if self._active:
                return
            if self._stopped.is_set():
                raise EngineError("EventEngine was stopped and cannot be started again")
            self._active = True
            self._next_timer = self._clock.monotonic() + self._interval_s
            if not self._threaded:
                return
            self._worker = threading.Thread(target=self._run, name="otrade-event", daemon=True)
            self._timer = threading.Thread(target=self._run_timer, name="otrade-timer", daemon=True)
            self._worker.start()
            self._timer.start()

    def stop(self) -> None:
        """Stop the timer, handle every event queued before the call, and join the threads.

        Waits at most ``stop_timeout_s`` for each thread; a thread still busy after that is
        logged and abandoned (it is a daemon).  Calling stop twice, or before start, is
        harmless.
        """
        with self._lock:
            was_active = self._active
            self._active = False
            self._stopped.set()
        if not was_active:
            return
        if not self._threaded:
            self.process_pending(timers=False)
            return
        for thread in (self._timer, self._worker):
            if thread is self._worker:
                self._queue.put(_STOP)
            if thread is None or thread is threading.current_thread():
                continue
            thread.join(self._stop_timeout_s)
            if thread.is_alive():
                logger.bind(source="EventEngine").error(
                    "thread {} did not stop within {} s", thread.name, self._stop_timeout_s
                )

    def process_pending(self, max_events: int | None = None, *, timers: bool = True) -> int:
        """Handle queued events on the calling thread (synchronous mode only).

        First puts one timer event for each timer interval the clock has crossed since the
        last call, then handles events until the queue is empty, including events that the
        handlers put meanwhile.

        Args:
            max_events: Stop after this many events (guards against handlers that put an
                event for every event they handle); None for no limit.
            timers: Emit the timer events the clock has crossed.

        Returns:
            The number of events handled.

        Raises:
            EngineError: The engine runs its own threads.
        """
        if self._threaded:
            raise EngineError("process_pending() is only for an EventEngine with threaded=False")
        if timers and self._active:
            self._put_due_timers()
        handled = 0
        queue = self._queue
        while (max_events is None or handled < max_events) and not queue.empty():
            event = queue.get_nowait()
            if event is not _STOP:
                self._dispatch(event)
                handled += 1
        return handled

    def _put_due_timers(self) -> None:
        now = self._clock.monotonic()
        assert self._next_timer is not None
        while self._next_timer <= now:
            self._queue.put(Event(EVENT_TIMER, self._clock.now()))
            self._next_timer += self._interval_s

    def _run(self) -> None:
        get = self._queue.get
        dispatch = self._dispatch
        while True:
            event = get()
            if event is _STOP:
                return
            dispatch(event)

    def _dispatch(self, event: Event) -> None:
        gates = self._gates.get(event.type)
        if gates is not None and not self._passes(gates, event):
            return
        for handler in self._handlers.get(event.type, ()):
            try:
                handler(event)
            except Exception:  # noqa: BLE001 - one handler must not stop the bus
                self._report(handler, event)
        for handler in self._general:
            try:
                handler(event)
            except Exception:  # noqa: BLE001 - one handler must not stop the bus
                self._report(handler, event)

    def _passes(self, gates: tuple[Gate, ...], event: Event) -> bool:
        for gate in gates:
            try:
                if not gate(event):
                    return False
            except Exception:  # noqa: BLE001 - a broken gate drops the event, loudly
                self._report(gate, event)
                return False
        return True

    def _report(self, handler: Handler | Gate, event: Event) -> None:
        name = getattr(handler, "__qualname__", repr(handler))
        logger.bind(source="EventEngine").opt(exception=True).error(
            "handler {} raised while handling a {!r} event", name, event.type
        )

    def _run_timer(self) -> None:
        clock = self._clock
        stopped = self._stopped
        next_tick = clock.monotonic() + self._interval_s
        while clock.sleep(next_tick - clock.monotonic(), stopped):
            self._queue.put(Event(EVENT_TIMER, clock.now()))
            next_tick += self._interval_s
            # After a long stall (a suspended laptop, a jump of a simulated clock) skip the
            # missed ticks rather than firing a burst of them.
            now = clock.monotonic()
            if next_tick < now - self._interval_s:
                next_tick = now + self._interval_s
