"""The plugin examples of the docs run as written: a datafeed and a gateway."""

from __future__ import annotations

import re
import types
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from otrade.clock import SimulatedClock
from otrade.constants import Direction, Exchange, OptionRight, OrderType, Product, Status
from otrade.engine import MainEngine
from otrade.event import EVENT_CONTRACT, EVENT_ORDER, Event, EventEngine
from otrade.objects import ContractData, OrderRequest
from otrade.plugins import PluginRegistry
from otrade.settings import LogSettings, MarketDataSettings, Settings

DOCS = Path(__file__).parents[2] / "docs"
START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def plugin_from(page: str) -> types.ModuleType:
    """The page's python block that declares a hook, executed as a module."""
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.DOTALL)
    (code,) = [block for block in blocks if "@hookimpl" in block]
    module = types.ModuleType(f"docs_{page.removesuffix('.md')}")
    exec(compile(code, page, "exec"), module.__dict__)
    return module


def main_engine(tmp_path, module: types.ModuleType, **marketdata: object) -> MainEngine:
    registry = PluginRegistry()
    registry.load(entry_points=False)
    registry.register(module, name=module.__name__, distribution="docs")
    clock = SimulatedClock(START)
    settings = Settings(data_directory=tmp_path, log=LogSettings(console=False),
                        marketdata=MarketDataSettings(**marketdata))  # type: ignore[arg-type]  # fmt: skip
    return MainEngine(settings, clock=clock, plugins=registry,
                      event_engine=EventEngine(clock=clock, threaded=False))  # fmt: skip


def test_the_datafeed_example_quotes_the_active_underlyings(tmp_path):
    engine = main_engine(tmp_path, plugin_from("marketdata.md"), feed="fixed")
    try:
        events = engine.event_engine
        events.put(Event(EVENT_CONTRACT, ContractData(symbol="SPY", product=Product.ETF,
                                                      exchange=Exchange.SMART)))  # fmt: skip
        option = ContractData(
            symbol="SPY261218C00450000", product=Product.OPTION, exchange=Exchange.SMART,
            multiplier=100, underlying_symbol="SPY", root="SPY", expiry=date(2026, 12, 18),
            strike=450.0, right=OptionRight.CALL,
        )  # fmt: skip
        events.put(Event(EVENT_CONTRACT, option))
        events.process_pending()
        market = engine.get_engine("marketdata")
        portfolio = market.get_portfolio("SPY")
        market.register_chains("test", [portfolio.find_chain("SPY", date(2026, 12, 18))])
        engine.clock.advance(1)
        events.process_pending()
        assert portfolio.underlying_price == pytest.approx(100.0)
    finally:
        engine.close()


def test_the_gateway_example_accepts_and_cancels(tmp_path):
    engine = main_engine(tmp_path, plugin_from("gateways.md"), feed="")
    try:
        orders = []
        events = engine.event_engine
        events.register(EVENT_ORDER, lambda event: orders.append(event.data))
        events.put(Event(EVENT_CONTRACT, ContractData(symbol="SPY", product=Product.ETF,
                                                      exchange=Exchange.SMART)))  # fmt: skip
        events.process_pending()
        request = OrderRequest(symbol="SPY", direction=Direction.LONG,
                               order_type=OrderType.LIMIT, volume=1, price=400.0)  # fmt: skip
        order_id = engine.send_order(request, "blackhole")
        events.process_pending()
        engine.cancel_order(orders[-1].create_cancel_request())
        events.process_pending()
        assert [o.status for o in orders if o.order_id == order_id] == [
            Status.SUBMITTING, Status.NOT_TRADED, Status.CANCELLED,
        ]  # fmt: skip
    finally:
        engine.close()


def test_the_combo_plugin_example_builds_by_name():
    from otrade.combos import ComboRegistry, build_combo
    from tests.unit.combos.chains import Chain

    registry = PluginRegistry()
    registry.load(entry_points=False)
    module = plugin_from("combos.md")
    registry.register(module, name=module.__name__, distribution="docs")
    chain = Chain()
    combo = build_combo(
        "wide_strangle",
        {"put": chain.put(90.0), "call": chain.call(110.0)},
        volume=2,
        registry=ComboRegistry.from_plugins(registry),
    )
    assert [(leg.role, leg.strike, leg.quantity(2)) for leg in combo.legs] == [
        ("put", 90.0, 2), ("call", 110.0, 2)]  # fmt: skip
