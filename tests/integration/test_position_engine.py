"""PositionEngine with the real DatabaseEngine and MarketDataEngine: restart, commissions, marks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from otrade.clock import SimulatedClock
from otrade.constants import OptionRight
from otrade.database.engine import DatabaseEngine
from otrade.engine import MainEngine
from otrade.event import (
    EVENT_COMMISSION,
    EVENT_CONTRACT,
    EVENT_ORDER,
    EVENT_QUOTE,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.marketdata import MarketDataEngine
from otrade.objects import CommissionData, QuoteData
from otrade.plugins import PluginRegistry
from otrade.position import PositionEngine, rebuild_holdings
from otrade.settings import (
    DatabaseSettings,
    LogSettings,
    MarketDataSettings,
    Secret,
    Settings,
)
from tests.fakes.chains import option, underlying
from tests.unit.test_position import (
    CALL_450,
    CALL_455,
    EXPIRY,
    START,
    combo_order,
    leg_trades,
    trade,
)


class Harness:
    """A synchronous MainEngine with the built-in engines plus the PositionEngine."""

    def __init__(self, tmp_path, start: datetime = START) -> None:
        self.clock = SimulatedClock(start)
        settings = Settings(
            data_directory=tmp_path,
            log=LogSettings(console=False),
            database=DatabaseSettings(url=Secret(f"sqlite:///{tmp_path / 'otrade.db'}")),
            marketdata=MarketDataSettings(feed=""),
        )
        registry = PluginRegistry()
        registry.load(entry_points=False)
        self.main = MainEngine(
            settings,
            clock=self.clock,
            event_engine=EventEngine(clock=self.clock, threaded=False),
            plugins=registry,
        )
        position = self.main.get_engine("position")  # built in, after the database
        assert isinstance(position, PositionEngine)
        self.position = position
        database = self.main.get_engine("database")
        assert isinstance(database, DatabaseEngine)
        self.database = database
        marketdata = self.main.get_engine("marketdata")
        assert isinstance(marketdata, MarketDataEngine)
        self.marketdata = marketdata

    def put(self, event_type: str, data: object) -> None:
        self.main.event_engine.put(Event(event_type, data))
        self.pump()

    def pump(self) -> None:
        self.main.event_engine.process_pending()
        self.database.flush()

    def close(self) -> None:
        self.main.close()


def test_a_restart_rebuilds_every_holding_exactly_from_the_stored_trades(tmp_path):
    first = Harness(tmp_path)
    opening, closing = combo_order("C1", 1, 2), combo_order("C2", -1, 1)
    first.put(EVENT_ORDER, opening)
    fills = leg_trades(opening, 1, {CALL_450: 5.10, CALL_455: 2.35})
    fills += leg_trades(opening, 1, {CALL_450: 5.20, CALL_455: 2.30})
    single = trade(CALL_450, -1, 2.00, commission=0.0, strategy="")
    stock = trade("SPY", 100, 450.25, strategy="wheel", commission=1.0)
    for fill in (*fills, single, stock):
        first.put(EVENT_TRADE, fill)
    first.put(EVENT_TRADE, stock)  # repeated execution: the database gate drops it
    first.put(EVENT_COMMISSION, CommissionData(
        trade_id=single.trade_id, gateway_name="paper", commission=0.65, time=START
    ))  # fmt: skip
    first.put(EVENT_ORDER, closing)
    for fill in leg_trades(closing, 1, {CALL_450: 6.00, CALL_455: 3.00}):
        first.put(EVENT_TRADE, fill)
    before = {name: first.position.get_holding(name).snapshot() for name in ("wheel", "")}
    wheel = first.position.get_holding("wheel")
    assert list(wheel.combos) == ["C1"]
    assert wheel.combos["C1"].quantities() == {CALL_450: 1, CALL_455: -1}
    assert wheel.underlying_quantity("SPY") == 100
    assert first.position.get_summary("").commissions == pytest.approx(0.65)
    rest = combo_order("C3", -1, 1)
    first.put(EVENT_ORDER, rest)  # sent before the stop, filled after the restart
    first.close()

    second = Harness(tmp_path)
    try:
        assert second.position.strategies == ["", "wheel"]
        after = {name: second.position.get_holding(name).snapshot() for name in ("wheel", "")}
        assert after == before
        # A closing order this engine never saw still nets against the combo opened before
        # the restart: its signature is read back from storage.
        for fill in leg_trades(rest, 1, {CALL_450: 6.50, CALL_455: 3.10}):
            second.put(EVENT_TRADE, fill)
        combo = second.position.get_holding("wheel").combos["C1"]
        assert not combo.is_open
        # Each unit: paid (5.10 - 2.35) and (5.20 - 2.30) on average 2.825, sold for 3.00 and 3.40.
        assert round(combo.realized, 2) == round((3.00 - 2.825 + 3.40 - 2.825) * 100, 2)
    finally:
        second.close()


def test_the_stored_ledger_folds_to_the_live_holdings(tmp_path):
    harness = Harness(tmp_path)
    try:
        for index in range(5):
            harness.put(EVENT_TRADE, trade(
                "SPY", 10 if index % 2 else -30, 450.0 + index,
                time=START + timedelta(seconds=index),
            ))  # fmt: skip
        folded = rebuild_holdings(harness.database.get_all_trades(), {})
        assert folded["wheel"].snapshot() == harness.position.get_holding("wheel").snapshot()
    finally:
        harness.close()


def test_all_trades_come_back_in_time_order_then_storage_order_across_strategies(tmp_path):
    harness = Harness(tmp_path)
    try:
        later = trade("SPY", 1, 450.0, time=START + timedelta(seconds=2), strategy="a")
        tie_first = trade("SPY", 2, 451.0, time=START, strategy="b")
        tie_second = trade("SPY", 3, 452.0, time=START, strategy="a")
        for fill in (later, tie_first, tie_second):
            harness.put(EVENT_TRADE, fill)
        stored = harness.database.get_all_trades()
        assert [t.trade_id for t in stored] == [
            tie_first.trade_id,
            tie_second.trade_id,
            later.trade_id,
        ]
        assert stored[0] == tie_first
    finally:
        harness.close()


def test_marks_and_greeks_come_from_market_data_on_the_timer(tmp_path):
    harness = Harness(tmp_path)
    try:
        harness.put(EVENT_CONTRACT, underlying("SPY", gateway_name=""))
        harness.put(EVENT_CONTRACT, option(
            "SPY", "SPY", EXPIRY, OptionRight.CALL, 450.0, gateway_name=""
        ))  # fmt: skip
        harness.put(EVENT_TRADE, trade(CALL_450, -2, 2.00))
        harness.put(EVENT_TRADE, trade("SPY", 100, 450.0))
        summary = harness.position.get_summary("wheel")
        assert (summary.unmarked_positions, summary.unrealized) == (2, 0.0)
        quoted = START
        harness.put(EVENT_QUOTE, QuoteData(symbol=CALL_450, time=quoted, bid=1.90, ask=2.10))
        harness.put(EVENT_QUOTE, QuoteData(symbol="SPY", time=quoted, last=451.0))
        harness.clock.advance(timedelta(seconds=5))
        harness.pump()  # the timer: market data first, then the position engine
        assert harness.position.get_summary("wheel").unmarked_positions == 0
        # Exact Greeks, set after the market data engine computed its own on the timer.
        found = harness.marketdata.get_option(CALL_450)
        assert found is not None
        found.update_greeks(0.5, 0.5, 0.02, -0.05, 0.1, source="provider", time=quoted)
        harness.position.refresh_marks()
        summary = harness.position.get_summary("wheel")
        assert summary.unmarked_positions == 0
        assert summary.unrealized == pytest.approx(0.0 + 100.0)  # short call flat at mid 2.00
        assert summary.delta == pytest.approx(-0.5 * 100 * 2 + 100)
        assert summary.gamma == pytest.approx(-0.02 * 200)
        assert summary.oldest_mark_age_s == pytest.approx(5.0)
    finally:
        harness.close()


def test_a_time_ordered_restart_matches_even_after_a_late_commission_to_a_closed_combo(
    tmp_path,
):
    first = Harness(tmp_path, START - timedelta(days=1))
    order = combo_order("C9", 1, 1)
    first.put(EVENT_ORDER, order)
    fills = leg_trades(order, 1, {CALL_450: 5.0, CALL_455: 2.0})
    for fill in fills:
        first.put(EVENT_TRADE, fill)
    reverse = combo_order("C10", -1, 1)
    first.put(EVENT_ORDER, reverse)
    for fill in leg_trades(reverse, 1, {CALL_450: 5.5, CALL_455: 2.0}):
        first.put(EVENT_TRADE, fill)
    first.put(EVENT_COMMISSION, CommissionData(
        trade_id=fills[0].trade_id, gateway_name="paper", commission=1.25, time=START
    ))  # fmt: skip
    before = first.position.get_holding("wheel").snapshot()
    assert not before.combos[0].is_open
    assert first.position.get_summary("wheel").commissions == pytest.approx(1.25)
    first.close()
    second = Harness(tmp_path)
    try:
        assert second.position.get_holding("wheel").snapshot() == before
        assert second.position.get_summary("wheel").total_pnl == pytest.approx(50.0 - 1.25)
    finally:
        second.close()


def test_strategy_exposure_matches_the_summary(tmp_path):
    harness = Harness(tmp_path)
    try:
        opening = combo_order("C1", 1, 2)
        harness.put(EVENT_ORDER, opening)
        for fill in leg_trades(opening, 2, {CALL_450: 5.10, CALL_455: 2.35}):
            harness.put(EVENT_TRADE, fill)
        harness.put(EVENT_TRADE, trade(CALL_450, -3, 2.00, strategy="wheel"))
        harness.put(EVENT_TRADE, trade("SPY", 150, 450.0, strategy="wheel"))
        holding = harness.position.get_holding("wheel")
        deltas = {CALL_450: 0.52, CALL_455: 0.41}
        for position in holding.positions():
            if position.symbol in deltas:
                position.set_greeks(deltas[position.symbol], 0.01, -0.1, 0.2)
        contracts, delta = harness.position.strategy_exposure("wheel")
        # Combo legs +2 and -2 (two units filled), and -3 single calls: 2 + 2 + 3.
        assert contracts == 7
        expected = 150 + (2 * 0.52 - 2 * 0.41 - 3 * 0.52) * 100
        assert delta == pytest.approx(expected)
        assert delta == pytest.approx(harness.position.get_summary("wheel").delta)
        assert harness.position.strategy_exposure("nobody") == (0, 0.0)
    finally:
        harness.close()
