"""``otrade run CONFIG.toml``: run the engines, the gateway and the strategies a file names.

:func:`run_engines` starts a :class:`~otrade.engine.MainEngine` on the live clock with a
threaded EventEngine, connects ``run.gateway`` with ``run.connect`` (for the IB gateway:
``host``, ``port``, ``client_id``, ``account``...), lets the OptionStrategyEngine restore
the stored strategies and add ``strategy.instances``, prints one line per strategy, and
runs until SIGINT or SIGTERM.  Then it shuts down cleanly: the RiskEngine's kill switch
stops new orders, the open orders are cancelled when ``run.cancel_open_orders_on_exit``
(and their ends awaited), and the MainEngine closes, storing every strategy's state for the
next start.

A bad setting (an unknown gateway, a connect key it does not take, a strategy class that
does not load) is a :class:`~otrade.errors.ConfigError` naming the key; the command prints
it and exits with status 2.

The helpers :class:`EventThreadCaller` and :class:`OpenOrders` are shared with
``otrade demo``: engine state lives on the event thread, so the command's own thread asks
the event thread to read or change it instead of touching it directly.
"""

from __future__ import annotations

import concurrent.futures
import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final, TextIO, TypeVar

from loguru import logger

from otrade.clock import LiveClock
from otrade.engine import MainEngine
from otrade.errors import ConfigError, EngineError, GatewayError, StrategyError
from otrade.event import EVENT_ORDER, Event, EventEngine
from otrade.objects import CancelRequest, OrderData
from otrade.risk import RiskEngine
from otrade.settings import Settings
from otrade.strategy.engine import OptionStrategyEngine

__all__ = [
    "EVENT_CALL",
    "EventThreadCaller",
    "OpenOrders",
    "StrategyLine",
    "check_strategy_classes",
    "connect_gateway",
    "run_engines",
    "start_strategies",
    "wind_down",
]

T = TypeVar("T")

EVENT_CALL: Final = "otrade.run.call"
"""A function to run on the event thread (the data is a private call record)."""

_CALL_TIMEOUT_S: Final = 10.0
_POLL_S: Final = 0.05
_log = logger.bind(source="run")


class _Call:
    """A function and the future its result goes to."""

    __slots__ = ("function", "future")

    def __init__(self, function: Callable[[], object]) -> None:
        self.function = function
        self.future: concurrent.futures.Future[object] = concurrent.futures.Future()

    def run(self) -> None:
        try:
            result = self.function()
        except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
            self.future.set_exception(error)
        else:
            self.future.set_result(result)


class EventThreadCaller:
    """Runs functions on the event thread, where engine state lives, and returns the results.

    Args:
        event_engine: A threaded, started EventEngine.
        timeout_s: How long :meth:`call` waits for the event thread.
    """

    def __init__(self, event_engine: EventEngine, timeout_s: float = _CALL_TIMEOUT_S) -> None:
        self._event_engine = event_engine
        self._timeout_s = timeout_s

    def start(self) -> None:
        """Register the handler."""
        self._event_engine.register(EVENT_CALL, self.process_call_event)

    def stop(self) -> None:
        """Unregister the handler."""
        self._event_engine.unregister(EVENT_CALL, self.process_call_event)

    def call(self, function: Callable[[], T]) -> T:
        """Run ``function`` on the event thread, after the events queued before it.

        Returns:
            What ``function`` returned.

        Raises:
            EngineError: The event thread did not run it within the timeout.
            Exception: Whatever ``function`` raised.
        """
        call = _Call(function)
        self._event_engine.put(Event(EVENT_CALL, call))
        try:
            result = call.future.result(self._timeout_s)
        except concurrent.futures.TimeoutError:
            raise EngineError(
                f"the event thread did not answer within {self._timeout_s} s"
            ) from None
        return result  # type: ignore[return-value]  # the future holds function's result

    def process_call_event(self, event: Event) -> None:
        """Run one call (event thread)."""
        call: _Call = event.data
        call.run()


class OpenOrders:
    """The active orders of every gateway, followed from order events (event thread).

    Args:
        event_engine: The bus to follow.
    """

    def __init__(self, event_engine: EventEngine) -> None:
        self._event_engine = event_engine
        self._active: dict[str, OrderData] = {}

    def start(self) -> None:
        """Register the handler."""
        self._event_engine.register(EVENT_ORDER, self.process_order_event)

    def stop(self) -> None:
        """Unregister the handler."""
        self._event_engine.unregister(EVENT_ORDER, self.process_order_event)

    def process_order_event(self, event: Event) -> None:
        """Keep an order while it is active, forget it when it ends."""
        order: OrderData = event.data
        if order.status.is_active:
            self._active[order.order_id] = order
        else:
            self._active.pop(order.order_id, None)

    def active(self) -> list[OrderData]:
        """The active orders, oldest first (call on the event thread)."""
        return list(self._active.values())


def wind_down(
    main: MainEngine,
    caller: EventThreadCaller,
    orders: OpenOrders,
    *,
    cancel: bool,
    timeout_s: float = 5.0,
) -> int:
    """Stop new orders and, when ``cancel``, cancel the open ones and wait for their ends.

    The RiskEngine's kill switch is set to ``halt`` first, so no strategy or hedge sends
    anything new meanwhile.  Strategies keep their state (a restart restores them as
    they were).

    Returns:
        How many orders were open: asked to cancel when ``cancel``, else left working.
    """

    def halt_and_cancel() -> int:
        risk = main.find_engine("risk", RiskEngine)
        if risk is not None:
            risk.halt()
        active = orders.active()
        for order in active if cancel else ():
            try:
                main.cancel_order(CancelRequest(order_id=order.order_id,
                                                gateway_name=order.gateway_name))  # fmt: skip
            except (EngineError, GatewayError) as error:
                _log.warning("cancel of order {} failed: {}", order.order_id, error)
        return len(active)

    count = caller.call(halt_and_cancel)
    if cancel and count:
        clock = LiveClock()
        deadline = clock.monotonic() + timeout_s
        while caller.call(lambda: bool(orders.active())) and clock.monotonic() < deadline:
            clock.sleep(_POLL_S)
    return count


def check_strategy_classes(main: MainEngine, caller: EventThreadCaller) -> None:
    """Check that every ``strategy.instances`` class loads, before anything trades.

    Raises:
        ConfigError: Names ``strategy.instances[i].class_name`` and why it does not load.
    """
    strategies = main.find_engine("strategy", OptionStrategyEngine)
    if strategies is None:
        return
    for index, instance in enumerate(main.settings.strategy.instances):
        try:
            caller.call(functools.partial(strategies.resolve_class, instance.class_name))
        except StrategyError as error:
            raise ConfigError(f"strategy.instances[{index}].class_name: {error}") from None


def connect_gateway(main: MainEngine) -> None:
    """Connect ``run.gateway`` with ``run.connect``.

    Raises:
        ConfigError: The gateway is not registered, or it refuses a connect setting
            (names ``run.gateway`` or ``run.connect`` and the key).
    """
    run = main.settings.run
    if run.gateway not in main.gateway_names:
        known = ", ".join(main.gateway_names) or "none"
        raise ConfigError(f"run.gateway: no gateway named {run.gateway!r}; registered: {known}")
    try:
        main.connect(run.gateway, run.connect)
    except GatewayError as error:
        raise ConfigError(f"run.connect: {error}") from None


class StrategyLine:
    """One strategy's state as printed at start.

    Attributes:
        name: The instance name.
        class_name: Its class.
        underlying: The underlying it trades.
        state: Its life-cycle state.
        error: Why it stopped, when it is in the error state.
    """

    __slots__ = ("class_name", "error", "name", "state", "underlying")

    def __init__(self, name: str, class_name: str, underlying: str, state: str, error: str) -> None:
        self.name = name
        self.class_name = class_name
        self.underlying = underlying
        self.state = state
        self.error = error

    def __str__(self) -> str:
        error = f" ({self.error})" if self.error else ""
        return f"strategy {self.name}: {self.class_name} on {self.underlying}, {self.state}{error}"


def start_strategies(main: MainEngine, caller: EventThreadCaller) -> list[StrategyLine]:
    """Restore the stored strategies and add the configured ones now (on the event thread).

    Returns:
        Every strategy in the engine afterwards, by name.
    """
    strategies = main.find_engine("strategy", OptionStrategyEngine)
    if strategies is None:
        return []

    def startup() -> list[StrategyLine]:
        strategies.startup()
        lines = []
        for name, strategy in sorted(strategies.strategies.items()):
            lines.append(StrategyLine(name, type(strategy).__name__, strategy.underlying_symbol,
                                      strategy.state, strategy.error))  # fmt: skip
        return lines

    return caller.call(startup)


@contextmanager
def _stop_signals(stop: threading.Event) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM set ``stop`` (main thread only; else nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(_number: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, handle) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_engines(
    settings: Settings,
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run everything ``settings`` names until SIGINT, SIGTERM or ``stop``; see the module.

    Args:
        settings: The loaded settings.
        out: Where the status lines go (stdout when None).
        stop: Set it to stop from another thread (tests); signals set it too.

    Returns:
        0 after a clean shutdown.

    Raises:
        ConfigError: A bad setting (named); nothing was left running.
    """
    out = out or sys.stdout
    stop = stop or threading.Event()
    with _stop_signals(stop):
        main = MainEngine(settings, clock=LiveClock())
        caller = EventThreadCaller(main.event_engine)
        orders = OpenOrders(main.event_engine)
        caller.start()
        orders.start()
        try:
            check_strategy_classes(main, caller)
            connect_gateway(main)
            # A network gateway (IB) connects in the background; its progress is logged.
            print(f"gateway {settings.run.gateway}: connect started", file=out)
            lines = start_strategies(main, caller)
            for line in lines:
                print(line, file=out)
            if not lines:
                print("no strategies: add [[strategy.instances]] to the settings", file=out)
            print("running; Ctrl-C (SIGINT) or SIGTERM stops", file=out, flush=True)
            while not stop.wait(0.2):
                pass
            cancel = settings.run.cancel_open_orders_on_exit
            count = wind_down(main, caller, orders, cancel=cancel)
            what = "cancelled" if cancel else "left working (run.cancel_open_orders_on_exit)"
            print(f"stopping: {count} open orders {what}", file=out, flush=True)
        finally:
            orders.stop()
            caller.stop()
            main.close()
    print("stopped", file=out, flush=True)
    return 0
