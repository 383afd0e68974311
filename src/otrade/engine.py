"""The MainEngine: builds and wires every engine, and the facade users and strategies call.

Start order (each step only after the previous one succeeded):

1. the IO loop thread (network clients run there),
2. the LogEngine (so everything after it is logged),
3. the engines, built-in and plugin ones, in registration order,
4. the EventEngine's dispatch and timer threads,
5. gateways, as the user connects them.

:meth:`MainEngine.close` undoes these in reverse: gateways close first so no new events
arrive, the EventEngine handles what is still queued while every engine is alive, then the
engines close in reverse order, then the LogEngine and the IO loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import ClassVar, Protocol, Self, TypeVar, runtime_checkable

from loguru import logger

from otrade.clock import Clock, LiveClock
from otrade.errors import EngineError, GatewayError
from otrade.event import EVENT_CONTRACT, EVENT_ORDER, Event, EventEngine
from otrade.gateways.base import BaseGateway
from otrade.ioloop import IoLoop
from otrade.log import LogEngine
from otrade.objects import CancelRequest, ContractData, OrderData, OrderRequest, SubscribeRequest
from otrade.plugins import PluginRegistry
from otrade.settings import SECRET_KEY_PARTS, Secret, Settings, load_settings

__all__ = ["BaseEngine", "MainEngine"]

EngineT = TypeVar("EngineT", bound="BaseEngine")


@runtime_checkable
class _OrderStore(Protocol):
    """What :meth:`MainEngine.stored_order` reads: the DatabaseEngine's ``get_order``."""

    def get_order(self, order_id: str) -> OrderData | None: ...


class BaseEngine:
    """Base class of the engines the MainEngine runs (database, market data, strategies...).

    An engine owns its state, which lives on the event thread; other engines reach it
    through events or the MainEngine facade.  Subclasses set :attr:`engine_name`.

    Args:
        main_engine: The MainEngine that built it.
        event_engine: The bus to register handlers on and put events to.
    """

    engine_name: ClassVar[str] = ""
    """The unique name :meth:`MainEngine.get_engine` finds the engine by."""

    def __init__(self, main_engine: MainEngine, event_engine: EventEngine) -> None:
        self.main_engine = main_engine
        self.event_engine = event_engine

    def start(self) -> None:
        """Called once, after every engine is built and before events are dispatched."""

    def close(self) -> None:
        """Release resources; called once at shutdown, after the event queue is drained."""


class MainEngine:
    """The composition root: one per process.

    Building a MainEngine starts it (see the module docstring for the order).  Use it as a
    context manager, or call :meth:`close`, to shut down.

    Args:
        settings: The settings; :func:`~otrade.settings.load_settings` when None.
        clock: The clock every engine uses; a LiveClock when None.
        event_engine: A prepared EventEngine (for example one with ``threaded=False``);
            built from ``settings.event`` when None.
        plugins: A prepared registry; built from ``settings.plugins`` and loaded (with
            entry points) when None.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Clock | None = None,
        event_engine: EventEngine | None = None,
        plugins: PluginRegistry | None = None,
    ) -> None:
        self.settings = settings if settings is not None else load_settings()
        self.clock: Clock = clock or (event_engine.clock if event_engine else LiveClock())
        self.event_engine = event_engine or EventEngine(
            self.settings.event.timer_interval_s,
            self.clock,
            stop_timeout_s=self.settings.event.stop_timeout_s,
        )
        if self.event_engine.clock is not self.clock:
            raise EngineError("event_engine must run on the same clock as the MainEngine")
        if plugins is None:
            plugins = PluginRegistry(self.settings.plugins.disabled)
            plugins.load()
        self.plugins = plugins
        self.io_loop = IoLoop()
        self.log_engine = LogEngine(self.settings, self.clock, self.event_engine, self.io_loop)
        self._engines: dict[str, BaseEngine] = {}
        self._gateways: dict[str, BaseGateway] = {}
        self._connected: list[str] = []
        self._contracts: dict[str, ContractData] = {}
        self._order_gateways: dict[str, str] = {}
        self._close_lock = threading.Lock()
        self._closed = False
        self._log = logger.bind(source="MainEngine")
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        self.io_loop.start()
        self.log_engine.start()
        self.event_engine.register(EVENT_CONTRACT, self.process_contract_event)
        self.event_engine.register(EVENT_ORDER, self.process_order_event)
        # The registry validated every item's type; the checks narrow it for mypy.
        for item in self.plugins.items("gateway"):
            if isinstance(item.value, type) and issubclass(item.value, BaseGateway):
                self.add_gateway(item.value)
        for item in self.plugins.items("engine"):
            if isinstance(item.value, type) and issubclass(item.value, BaseEngine):
                self.add_engine(item.value)
        self.event_engine.start()
        self._log.info("MainEngine started")

    # -- building -------------------------------------------------------------------------

    def add_engine(self, engine_class: type[EngineT]) -> EngineT:
        """Build an engine, start it, and register it under its ``engine_name``.

        Raises:
            EngineError: The name is empty or already taken.
        """
        name = engine_class.engine_name
        if not name:
            raise EngineError(f"{engine_class.__qualname__} has no engine_name")
        if name in self._engines:
            raise EngineError(f"an engine named {name!r} is already registered")
        engine = engine_class(self, self.event_engine)
        engine.start()
        self._engines[name] = engine
        return engine

    def add_gateway(self, gateway_class: type[BaseGateway], name: str = "") -> BaseGateway:
        """Build a gateway and register it under ``name`` (default: its ``default_name``).

        Raises:
            GatewayError: The name is empty or already taken.
        """
        gateway_name = name or gateway_class.default_name
        if not gateway_name:
            raise GatewayError(f"{gateway_class.__qualname__} has no default_name; pass a name")
        if gateway_name in self._gateways:
            raise GatewayError(f"a gateway named {gateway_name!r} is already registered")
        gateway = gateway_class(self.event_engine, gateway_name, self.clock, self.io_loop)
        gateway.bind_contracts(self.get_contract)
        gateway.bind_orders(self.stored_order)
        self._gateways[gateway_name] = gateway
        return gateway

    # -- lookups --------------------------------------------------------------------------

    @property
    def engine_names(self) -> list[str]:
        """Names of the registered engines, in start order."""
        return list(self._engines)

    @property
    def gateway_names(self) -> list[str]:
        """Names of the registered gateways."""
        return list(self._gateways)

    def get_engine(self, name: str) -> BaseEngine:
        """The engine registered under ``name``.

        Raises:
            EngineError: No such engine (the message lists the registered ones).
        """
        engine = self._engines.get(name)
        if engine is None:
            known = ", ".join(self._engines) or "none"
            raise EngineError(f"no engine named {name!r}; registered: {known}")
        return engine

    def find_engine(self, name: str, kind: type[EngineT]) -> EngineT | None:
        """The engine registered under ``name`` when it is a ``kind``, else None.

        For engines that work with or without another one (the PositionEngine marks
        positions when a MarketDataEngine is there).
        """
        engine = self._engines.get(name)
        return engine if isinstance(engine, kind) else None

    def stored_order(self, order_id: str) -> OrderData | None:
        """The latest state the ``database`` engine stored of one order, or None.

        None too without a database engine, or when the read fails (logged).  Gateways read
        it for their orders still working at the broker after a restart.
        """
        store = self._engines.get("database")
        if not isinstance(store, _OrderStore):
            return None
        try:
            return store.get_order(order_id)
        except Exception:  # noqa: BLE001 - the caller goes on without it
            self._log.opt(exception=True).warning("could not read stored order {}", order_id)
            return None

    def get_gateway(self, name: str) -> BaseGateway:
        """The gateway registered under ``name``.

        Raises:
            GatewayError: No such gateway (the message lists the registered ones).
        """
        gateway = self._gateways.get(name)
        if gateway is None:
            known = ", ".join(self._gateways) or "none"
            raise GatewayError(f"no gateway named {name!r}; registered: {known}")
        return gateway

    def get_contract(self, symbol: str) -> ContractData | None:
        """The latest contract record seen for ``symbol``, or None."""
        return self._contracts.get(symbol)

    def process_contract_event(self, event: Event) -> None:
        """Cache every contract a gateway or the database reports."""
        contract: ContractData = event.data
        self._contracts[contract.symbol] = contract

    def process_order_event(self, event: Event) -> None:
        """Remember which gateway owns each order, for :meth:`cancel_order`."""
        order: OrderData = event.data
        self._order_gateways[order.order_id] = order.gateway_name

    # -- facade ---------------------------------------------------------------------------

    def connect(self, gateway_name: str, settings: Mapping[str, object]) -> None:
        """Connect a gateway.

        Secret values in ``settings`` (``Secret`` instances, and strings under keys that
        name a password, token, secret or API key) are added to the log redaction first.

        Raises:
            GatewayError: No such gateway.
            EngineError: The MainEngine is closed.
        """
        self._check_open()
        gateway = self.get_gateway(gateway_name)
        for key, value in settings.items():
            if isinstance(value, Secret):
                self.log_engine.add_secret(value.get_secret_value())
            elif isinstance(value, str) and any(p in key.lower() for p in SECRET_KEY_PARTS):
                self.log_engine.add_secret(value)
        gateway.connect(settings)
        if gateway_name not in self._connected:
            self._connected.append(gateway_name)

    def disconnect(self, gateway_name: str) -> None:
        """Close one gateway's connection; harmless when it is not connected.

        Raises:
            GatewayError: No such gateway.
        """
        gateway = self.get_gateway(gateway_name)
        gateway.close()
        if gateway_name in self._connected:
            self._connected.remove(gateway_name)

    def send_order(self, request: OrderRequest, gateway_name: str) -> str:
        """Send an order through a gateway and return its local order id.

        Raises:
            GatewayError: No such gateway.
            EngineError: The MainEngine is closed.
        """
        self._check_open()
        return self.get_gateway(gateway_name).send_order(request)

    def cancel_order(self, request: CancelRequest, gateway_name: str = "") -> None:
        """Cancel an order.

        The gateway is, in order of preference: ``gateway_name``, the request's
        ``gateway_name``, or the gateway that reported the order.

        Raises:
            GatewayError: The owning gateway is unknown or not registered.
        """
        self._check_open()
        name = gateway_name or request.gateway_name or self._order_gateways.get(request.order_id)
        if not name:
            raise GatewayError(f"cannot cancel order {request.order_id!r}: its gateway is unknown")
        self.get_gateway(name).cancel_order(request)

    def subscribe(self, request: SubscribeRequest, gateway_name: str) -> None:
        """Subscribe to quotes of one instrument through a gateway.

        Raises:
            GatewayError: No such gateway.
        """
        self._check_open()
        self.get_gateway(gateway_name).subscribe(request)

    def _check_open(self) -> None:
        if self._closed:
            raise EngineError("the MainEngine is closed")

    # -- shutdown -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop everything in reverse start order; closing twice is harmless.

        A part that fails to close is logged with its traceback and the rest still close.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        steps: list[tuple[str, Callable[[], None]]] = [
            (f"gateway {name}", self._gateways[name].close) for name in reversed(self._connected)
        ]
        steps.append(("event engine", self.event_engine.stop))
        steps += [
            (f"engine {name}", engine.close) for name, engine in reversed(self._engines.items())
        ]
        steps.append(("MainEngine", lambda: self._log.info("MainEngine closed")))
        steps.append(("log engine", self.log_engine.close))
        steps.append(("IO loop", self.io_loop.stop))
        for label, step in steps:
            try:
                step()
            except Exception:  # noqa: BLE001 - close the rest regardless
                self._log.opt(exception=True).error("closing {} failed", label)
        self._connected.clear()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
