"""MainEngine: wiring, facade routing, start/close order, idempotent close."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from loguru import logger

from otrade.clock import SimulatedClock
from otrade.constants import Direction, Exchange, OrderType, Product
from otrade.engine import BaseEngine, MainEngine
from otrade.errors import EngineError, GatewayError
from otrade.event import EVENT_TIMER, Event, EventEngine
from otrade.gateways.base import BaseGateway
from otrade.objects import (
    CancelRequest,
    ContractData,
    OrderRequest,
    SubscribeRequest,
)
from otrade.plugins import PluginRegistry, hookimpl
from otrade.settings import LogSettings, Secret, Settings

NOW = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
journal: list[str] = []


class RecordingGateway(BaseGateway):
    default_name = "recording"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.connected_with: Mapping[str, object] | None = None
        self.cancelled: list[str] = []
        self.subscribed: list[str] = []
        self.next_id = 0

    def connect(self, settings: Mapping[str, object]) -> None:
        self.connected_with = settings
        self.write_log(f"connecting with password {settings.get('password')}")

    def close(self) -> None:
        journal.append(f"close gateway {self.gateway_name}")

    def send_order(self, request: OrderRequest) -> str:
        self.next_id += 1
        order_id = f"{self.gateway_name}-{self.next_id}"
        self.on_order(request.create_order(order_id, self.gateway_name, self.clock.now()))
        return order_id

    def cancel_order(self, request: CancelRequest) -> None:
        self.cancelled.append(request.order_id)

    def subscribe(self, request: SubscribeRequest) -> None:
        self.subscribed.append(request.symbol)


class FirstEngine(BaseEngine):
    engine_name = "first"

    def start(self) -> None:
        journal.append("start first")
        self.event_engine.register("work", self.process_work_event)

    def process_work_event(self, event: Event) -> None:
        journal.append(f"work {event.data}")

    def close(self) -> None:
        journal.append("close first")


class SecondEngine(BaseEngine):
    engine_name = "second"

    def start(self) -> None:
        journal.append("start second")

    def close(self) -> None:
        journal.append("close second")
        raise RuntimeError("second engine failed to close")


class TestPlugin:
    @hookimpl
    def otrade_gateways(self):
        return [RecordingGateway]

    @hookimpl
    def otrade_engines(self):
        return [FirstEngine, SecondEngine]


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_directory=tmp_path, log=LogSettings(console=False, level="DEBUG"))


@pytest.fixture
def registry() -> PluginRegistry:
    registry = PluginRegistry()
    registry.load(entry_points=False)
    registry.register(TestPlugin(), name="test", distribution="tests")
    return registry


@pytest.fixture
def main_engine(settings, registry):
    journal.clear()
    clock = SimulatedClock(NOW)
    engine = MainEngine(
        settings,
        event_engine=EventEngine(clock=clock, threaded=False),
        clock=clock,
        plugins=registry,
    )
    yield engine
    engine.close()


def order_request(**changes: object) -> OrderRequest:
    fields = {
        "symbol": "SPY",
        "direction": Direction.LONG,
        "order_type": OrderType.MARKET,
        "volume": 1,
    } | changes
    return OrderRequest(**fields)  # type: ignore[arg-type]


def test_plugin_engines_and_gateways_are_built_and_found_by_name(main_engine):
    assert main_engine.engine_names == [
        "database",
        "marketdata",
        "position",
        "risk",
        "hedge",
        "strategy",
        "first",
        "second",
    ]
    assert isinstance(main_engine.get_engine("first"), FirstEngine)
    assert isinstance(main_engine.get_gateway("recording"), RecordingGateway)
    assert journal == ["start first", "start second"]


def test_unknown_names_are_refused_with_the_registered_ones_listed(main_engine):
    with pytest.raises(
        EngineError,
        match=(
            "no engine named 'nope'; "
            "registered: database, marketdata, position, risk, hedge, strategy, first, second"
        ),
    ):
        main_engine.get_engine("nope")
    with pytest.raises(
        GatewayError, match="no gateway named 'schwab'; registered: paper, ib, recording"
    ):
        main_engine.send_order(order_request(), "schwab")


def test_send_order_returns_the_gateways_order_id_and_cancel_finds_its_gateway(main_engine):
    gateway = main_engine.get_gateway("recording")
    order_id = main_engine.send_order(order_request(), "recording")
    assert order_id == "recording-1"
    main_engine.event_engine.process_pending()
    main_engine.cancel_order(CancelRequest(order_id=order_id))
    assert gateway.cancelled == ["recording-1"]
    with pytest.raises(GatewayError, match="cannot cancel order 'nobody': its gateway is unknown"):
        main_engine.cancel_order(CancelRequest(order_id="nobody"))


def test_subscribe_and_contract_cache(main_engine):
    main_engine.subscribe(SubscribeRequest(symbol="SPY"), "recording")
    assert main_engine.get_gateway("recording").subscribed == ["SPY"]
    spy = ContractData(symbol="SPY", product=Product.ETF, exchange=Exchange.ARCA)
    main_engine.get_gateway("recording").on_contract(spy)
    assert main_engine.get_contract("SPY") is None  # not handled yet
    main_engine.event_engine.process_pending()
    assert main_engine.get_contract("SPY") is spy


def test_connect_passes_settings_and_redacts_secrets_from_logs(main_engine, settings):
    main_engine.connect(
        "recording",
        {"host": "127.0.0.1", "password": "hunter2-very-secret", "token": Secret("tok-abcdef-123")},
    )
    main_engine.event_engine.process_pending()
    logger.bind(source="test").info("token is tok-abcdef-123")
    main_engine.close()
    text = (settings.log_directory / "otrade.log").read_text(encoding="utf-8")
    assert "connecting with password **********" in text
    assert "token is **********" in text
    assert "hunter2-very-secret" not in text
    assert "tok-abcdef-123" not in text


def test_close_runs_in_reverse_start_order_drains_events_and_survives_failures(main_engine):
    main_engine.connect("recording", {})
    main_engine.event_engine.put(Event("work", 1))
    main_engine.close()
    assert journal == [
        "start first",
        "start second",
        "close gateway recording",
        "work 1",
        "close second",
        "close first",
    ]
    assert not main_engine.io_loop.running
    main_engine.close()
    assert journal.count("close first") == 1
    with pytest.raises(EngineError, match="closed"):
        main_engine.send_order(order_request(), "recording")


def test_add_engine_refuses_duplicates_and_nameless_engines(main_engine):
    with pytest.raises(EngineError, match="'first' is already registered"):
        main_engine.add_engine(FirstEngine)

    class Nameless(BaseEngine):
        pass

    with pytest.raises(EngineError, match="Nameless has no engine_name"):
        main_engine.add_engine(Nameless)


def test_timer_events_follow_the_main_engines_clock(main_engine):
    ticks: list[datetime] = []
    main_engine.event_engine.register(EVENT_TIMER, lambda event: ticks.append(event.data))
    main_engine.clock.advance(2)
    main_engine.event_engine.process_pending()
    assert len(ticks) == 2


def test_threaded_main_engine_as_context_manager(settings, registry):
    journal.clear()
    with MainEngine(settings, plugins=registry) as engine:
        assert engine.event_engine.threaded
        assert engine.io_loop.running
    assert engine.closed
    assert journal[-2:] == ["close second", "close first"]


def test_find_engine_returns_the_engine_of_that_kind_or_none(main_engine):
    assert isinstance(main_engine.find_engine("first", FirstEngine), FirstEngine)
    assert main_engine.find_engine("first", SecondEngine) is None
    assert main_engine.find_engine("nope", FirstEngine) is None
