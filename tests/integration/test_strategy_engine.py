"""OptionStrategyEngine end to end: real engines, the paper gateway, SQLite, quotes the test sets.

Each test drives a synchronous MainEngine (SimulatedClock, ``threaded=False``) with the
built-in engines: database, market data (no feed: the test puts the quotes), positions,
risk, hedge and strategy, and the paper gateway connected.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import attrs
import pytest
from sqlalchemy import create_engine, text

from otrade.constants import Direction, OrderType, Status
from otrade.database.engine import DatabaseEngine
from otrade.errors import StrategyError
from otrade.event import (
    EVENT_GREEKS,
    EVENT_HEDGE,
    EVENT_LOG,
    EVENT_ORDER,
    EVENT_STRATEGY,
    EVENT_TRADE,
)
from otrade.hedge import HedgeDecision
from otrade.objects import CancelRequest, GreeksData, Leg, OrderData, StrategyData, TradeData
from otrade.position import ComboPosition
from otrade.settings import (
    LogSettings,
    MarketDataSettings,
    RiskSettings,
    Settings,
    StrategyInstanceSettings,
    StrategySettings,
)
from otrade.strategy import OptionStrategyEngine, OptionStrategyTemplate, StrategyState
from tests.integration.test_paper_gateway import (
    CALL_460,
    CALL_470,
    PUT_430,
    PUT_440,
    Harness,
)


class Recorder(OptionStrategyTemplate):
    """Records its callbacks; the tests call its helpers directly."""

    author = "tests"
    parameters = ("volume", "threshold", "tag")
    variables = ("fills", "note")

    volume = 1
    threshold = 0.5
    tag = "x"
    fills = 0
    note = ""

    def on_init(self) -> None:
        self.calls: list[str] = ["init"]
        self.orders: list[OrderData] = []
        self.trades: list[TradeData] = []

    def on_start(self) -> None:
        self.calls.append("start")

    def on_stop(self) -> None:
        self.calls.append("stop")

    def on_timer(self) -> None:
        self.calls.append("timer")

    def on_order(self, order: OrderData) -> None:
        self.orders.append(order)

    def on_trade(self, trade: TradeData) -> None:
        self.trades.append(trade)
        self.fills += trade.volume


class StrategyHarness(Harness):
    """The paper-gateway harness plus the strategy engine and clock-driven timers.

    Args:
        tmp_path: The data directory (SQLite at ``otrade.db`` in it).
        feed: The datafeed ("" : the test puts the quotes).
        strategy: Strategy engine settings.
        risk: Risk limits.
    """

    def __init__(
        self,
        tmp_path: Path,
        feed: str = "",
        strategy: StrategySettings | None = None,
        risk: RiskSettings | None = None,
        greeks_policy: str = "local",
    ) -> None:
        self._extra = {"strategy": strategy or StrategySettings(), "risk": risk or RiskSettings()}
        self._greeks_policy = greeks_policy
        super().__init__(tmp_path, feed)
        engine = self.main.get_engine("strategy")
        assert isinstance(engine, OptionStrategyEngine)
        self.engine = engine
        self.connect(commission_per_contract=0.0, commission_per_share=0.0, minimum_commission=0.0)
        self.records: list[StrategyData] = []
        self.events.register(EVENT_STRATEGY, lambda e: self.records.append(e.data))

    def settings(self, tmp_path: Path, feed: str) -> Settings:
        return Settings(
            data_directory=tmp_path,
            log=LogSettings(console=False),
            marketdata=MarketDataSettings(feed=feed, greeks_policy=self._greeks_policy),
            **self._extra,
        )

    def tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.events.process_pending()
        self.database().flush()

    def database(self) -> DatabaseEngine:
        database = self.main.get_engine("database")
        assert isinstance(database, DatabaseEngine)
        return database

    def running(
        self, cls: type[OptionStrategyTemplate] = Recorder, name: str = "s1", **setting: object
    ) -> OptionStrategyTemplate:
        strategy = self.engine.add_strategy(cls, name, "SPY", setting)
        assert self.engine.init_strategy(name)
        assert self.engine.start_strategy(name)
        self.pump()
        return strategy

    def quote_all(self) -> None:
        self.quote("SPY", 449.95, 450.05)
        self.quote(PUT_430, 1.00, 1.10)
        self.quote(PUT_440, 2.00, 2.20)
        self.quote(CALL_460, 3.10, 3.30)
        self.quote(CALL_470, 1.40, 1.50)


@pytest.fixture
def harness(tmp_path):
    harness = StrategyHarness(tmp_path)
    harness.quote_all()
    yield harness
    harness.main.close()


def stored_states(tmp_path: Path) -> dict[str, str]:
    engine = create_engine(f"sqlite:///{tmp_path / 'otrade.db'}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, state FROM strategies")).all()
    engine.dispose()
    return dict(rows)


# -- order helpers ------------------------------------------------------------------------


def test_underlying_order_buys_shares_into_the_strategy_holding(harness):
    strategy = harness.running()
    order_id = strategy.underlying_order(Direction.LONG, 100, reference="entry")
    harness.pump()
    assert order_id is not None
    final = strategy.get_order(order_id)
    assert (final.status, final.traded, final.strategy, final.reference) == (
        Status.ALL_TRADED,
        100,
        "s1",
        "entry",
    )
    assert [t.price for t in strategy.trades] == [450.05]  # market buy at the ask
    assert strategy.holding.underlying_quantity("SPY") == 100
    assert strategy.fills == 100
    assert strategy.active_orders == {}


def test_option_order_and_the_short_call_shows_no_false_loss(harness):
    harness.quote(CALL_460, 2.00, 2.10)
    strategy = harness.running()
    order_id = strategy.option_order(CALL_460, Direction.SHORT, 1, 2.00, OrderType.LIMIT)
    harness.pump()
    assert strategy.get_order(order_id).status is Status.ALL_TRADED
    assert strategy.holding.options[CALL_460].quantity == -1
    harness.quote(CALL_460, 1.95, 2.05)  # marked at the sale price
    harness.tick()
    summary = strategy.summary
    assert summary.unrealized == 0.0
    assert summary.total_pnl == 0.0
    harness.quote(CALL_460, 1.45, 1.55)  # the call lost half a dollar: the short gains
    harness.tick()
    assert round(strategy.summary.unrealized, 2) == 50.00


def test_a_combo_of_volume_two_trades_two_of_each_leg_and_the_close_flattens_it(harness):
    strategy = harness.running()
    portfolio = strategy.portfolio
    legs = {
        role: portfolio.get_option(symbol)
        for role, symbol in (
            ("long_put", PUT_430),
            ("short_put", PUT_440),
            ("short_call", CALL_460),
            ("long_call", CALL_470),
        )
    }
    combo_id = strategy.combo_order("iron_condor", legs, Direction.LONG, 2)
    harness.pump()
    assert strategy.get_order(combo_id).status is Status.ALL_TRADED
    traded = {(t.symbol, t.direction, t.volume) for t in strategy.trades}
    assert traded == {
        (PUT_430, Direction.LONG, 2),
        (PUT_440, Direction.SHORT, 2),
        (CALL_460, Direction.SHORT, 2),
        (CALL_470, Direction.LONG, 2),
    }
    combo = strategy.holding.combos[combo_id]
    assert combo.quantities() == {PUT_430: 2, PUT_440: -2, CALL_460: -2, CALL_470: 2}
    # Opened for a credit: sold 2.00 + 3.10, paid 1.10 + 1.50 (far sides) = 2.50 a unit.
    harness.quote(PUT_430, 0.90, 1.00)
    harness.quote(PUT_440, 1.80, 1.90)
    harness.quote(CALL_460, 2.70, 2.80)
    harness.quote(CALL_470, 1.20, 1.30)
    close_id = strategy.close_combo_position(combo)
    assert strategy.close_combo_position(combo) is None  # a close is already working
    harness.pump()
    assert strategy.get_order(close_id).status is Status.ALL_TRADED
    assert combo.quantities() == {PUT_430: 0, PUT_440: 0, CALL_460: 0, CALL_470: 0}
    assert not combo.is_open
    assert list(strategy.holding.combos) == [combo_id]  # netted, not a second combo
    # Closed for 1.90 + 2.80 - 0.90 - 1.20 = 2.60 a unit: 2 units x 100 x (2.50 - 2.60).
    assert round(combo.realized, 2) == -20.00
    assert strategy.close_combo_position(combo_id) is None  # flat: nothing to send


def test_closing_a_single_leg_twice_never_sends_more_than_the_position(harness):
    strategy = harness.running()
    strategy.option_order(CALL_470, Direction.LONG, 3)
    harness.pump()
    assert strategy.holding.options[CALL_470].quantity == 3
    first = strategy.close_option_position(CALL_470, 1.55, OrderType.LIMIT)
    assert first is not None
    harness.pump()
    # The limit sell at 1.55 rests (the bid is 1.40): a second close sends nothing.
    assert strategy.close_option_position(CALL_470) is None
    assert strategy.active_orders[first].volume == 3
    strategy.cancel_order(first)
    harness.pump()
    assert strategy.active_orders == {}
    second = strategy.close_option_position(strategy.holding.options[CALL_470])
    harness.pump()
    assert strategy.get_order(second).traded == 3
    assert strategy.holding.options[CALL_470].quantity == 0
    assert strategy.close_option_position(CALL_470) is None


def test_close_underlying_and_close_all_flatten_everything(harness):
    strategy = harness.running()
    strategy.underlying_order(Direction.SHORT, 50)
    strategy.option_order(PUT_440, Direction.SHORT, 2)
    legs = {
        "long_call": harness.main.get_engine("marketdata").get_option(CALL_460),
        "short_call": harness.main.get_engine("marketdata").get_option(CALL_470),
    }
    strategy.combo_order("bull_call_spread", legs, Direction.LONG, 1)
    resting = strategy.option_order(CALL_470, Direction.LONG, 1, 1.35, OrderType.LIMIT)
    harness.pump()
    assert strategy.holding.underlying_quantity("SPY") == -50
    assert resting in strategy.active_orders
    harness.clock.advance(1)  # out of the second the four orders above were sent in
    sent = strategy.close_all_positions()
    harness.pump()
    assert len(sent) == 3
    assert strategy.active_orders == {}
    assert all(position.quantity == 0 for position in strategy.holding.positions())
    assert strategy.holding.open_combos() == []


def test_cancel_all_cancels_every_resting_order(harness):
    strategy = harness.running()
    ids = [
        strategy.option_order(symbol, Direction.LONG, 1, price, OrderType.LIMIT)
        for symbol, price in ((CALL_460, 3.00), (CALL_470, 1.35))
    ]
    harness.pump()
    assert set(strategy.active_orders) == set(ids)
    strategy.cancel_all()
    harness.pump()
    assert strategy.active_orders == {}
    assert {strategy.get_order(i).status for i in ids} == {Status.CANCELLED}


# -- risk and refusals --------------------------------------------------------------------


def test_a_risk_refusal_returns_none_and_reaches_on_order_with_its_reason(tmp_path):
    harness = StrategyHarness(tmp_path, risk=RiskSettings(max_option_volume=5))
    try:
        harness.quote_all()
        strategy = harness.running()
        assert strategy.option_order(CALL_460, Direction.LONG, 6) is None
        harness.pump()
        [refused] = strategy.orders
        assert refused.status is Status.REJECTED
        assert refused.reject_reason.startswith("max_volume")
        assert "risk.max_option_volume" in refused.reject_reason
        assert [o for o in harness.orders if o.gateway_name == "paper"] == []
        assert strategy.state == StrategyState.RUNNING
    finally:
        harness.main.close()


def test_orders_of_a_strategy_that_is_not_running_are_refused(harness):
    strategy = harness.running()
    harness.engine.stop_strategy("s1")
    assert strategy.underlying_order(Direction.LONG, 1) is None
    harness.pump()
    assert strategy.orders[-1].reject_reason.startswith("strategy_not_running")
    assert [o for o in harness.orders if o.gateway_name == "paper"] == []


def test_bad_order_input_names_the_field_and_sends_nothing(harness):
    strategy = harness.running()
    with pytest.raises(ValueError, match="volume"):
        strategy.option_order(CALL_460, Direction.LONG, 0)
    with pytest.raises(ValueError, match="price is required"):
        strategy.option_order(CALL_460, Direction.LONG, 1, order_type=OrderType.LIMIT)
    harness.pump()
    assert harness.orders == []


# -- isolation ----------------------------------------------------------------------------


class Broken(Recorder):
    """Raises in on_timer once it has an order resting."""

    timer_interval_s = 1.0

    def on_start(self) -> None:
        super().on_start()
        self.resting = self.option_order(CALL_470, Direction.LONG, 1, 1.35, OrderType.LIMIT)

    def on_timer(self) -> None:
        raise RuntimeError("bug in on_timer")


class Steady(Recorder):
    """Buys one share on every timer."""

    timer_interval_s = 1.0

    def on_timer(self) -> None:
        self.underlying_order(Direction.LONG, 1)


def test_a_strategy_raising_in_on_timer_stops_alone_while_another_keeps_trading(harness):
    broken = harness.running(Broken, "broken")
    steady = harness.running(Steady, "steady")
    harness.pump()
    assert broken.resting in broken.active_orders
    for _ in range(3):
        harness.tick()
    assert broken.state == StrategyState.ERROR
    assert "bug in on_timer" in broken.error
    assert broken.active_orders == {}
    assert broken.get_order(broken.resting).status is Status.CANCELLED
    assert steady.state == StrategyState.RUNNING
    assert steady.holding.underlying_quantity("SPY") == 3
    assert stored_states(harness.main.settings.data_directory)["broken"] == "error"
    # It can be initialised and started again after the fix.
    assert harness.engine.init_strategy("broken")


class RaisesInOnTrade(Recorder):
    def on_trade(self, trade: TradeData) -> None:
        raise ValueError("cannot handle fills")


def test_an_exception_in_on_trade_still_books_the_fill(harness):
    strategy = harness.running(RaisesInOnTrade)
    strategy.underlying_order(Direction.LONG, 10)
    harness.pump()
    assert strategy.state == StrategyState.ERROR
    assert strategy.holding.underlying_quantity("SPY") == 10


# -- life cycle and persistence -------------------------------------------------------------


def test_settings_are_checked_by_name_and_type(harness):
    with pytest.raises(StrategyError, match="'volumes' is not a parameter of Recorder"):
        harness.engine.add_strategy(Recorder, "a", "SPY", {"volumes": 2})
    with pytest.raises(StrategyError, match="parameter 'volume' must be int"):
        harness.engine.add_strategy(Recorder, "a", "SPY", {"volume": "2"})
    with pytest.raises(StrategyError, match="parameter 'volume' must be int"):
        harness.engine.add_strategy(Recorder, "a", "SPY", {"volume": True})
    strategy = harness.engine.add_strategy(Recorder, "a", "SPY", {"threshold": 1})
    assert strategy.threshold == 1.0
    assert isinstance(strategy.threshold, float)
    with pytest.raises(StrategyError, match="already exists"):
        harness.engine.add_strategy(Recorder, "a", "SPY")
    with pytest.raises(StrategyError, match="unknown strategy class 'Nope'"):
        harness.engine.add_strategy("Nope", "b", "SPY")
    with pytest.raises(StrategyError, match="start it after init_strategy"):
        harness.engine.start_strategy("a")


def test_each_life_cycle_step_is_stored(harness, tmp_path):
    strategy = harness.running(volume=3)
    strategy.note = "kept"
    harness.engine.stop_strategy("s1")
    harness.database().flush()
    assert strategy.calls == ["init", "start", "stop"]
    record = harness.database().get_strategy("s1")
    assert (record.state, dict(record.parameters)["volume"], record.variables["note"]) == (
        "stopped",
        3,
        "kept",
    )
    assert record.class_path.endswith(":Recorder")
    harness.engine.remove_strategy("s1")
    harness.database().flush()
    assert "s1" not in harness.engine.strategies
    assert stored_states(tmp_path) == {"s1": "removed"}
    restored = harness.engine.restore_strategy("s1")
    assert restored.volume == 3
    assert harness.engine.init_strategy("s1")
    assert restored.note == "kept"  # variables come back at init
    harness.engine.delete_strategy("s1")
    harness.database().flush()
    assert stored_states(tmp_path) == {}
    with pytest.raises(StrategyError, match="no stored strategy named 's1'"):
        harness.engine.restore_strategy("s1")
    harness.pump()
    states = [record.state for record in harness.records if record.name == "s1"]
    assert states[:4] == ["created", "initialized", "running", "stopped"]


def test_a_restart_restores_running_strategies_with_variables_and_identical_holdings(tmp_path):
    first = StrategyHarness(tmp_path)
    first.quote_all()
    strategy = first.running(volume=2)
    strategy.underlying_order(Direction.LONG, 100)
    legs = {
        "long_call": first.main.get_engine("marketdata").get_option(CALL_460),
        "short_call": first.main.get_engine("marketdata").get_option(CALL_470),
    }
    strategy.combo_order("bull_call_spread", legs, Direction.LONG, 2)
    strategy.option_order(PUT_430, Direction.SHORT, 1)
    first.pump()
    stopped = first.running(Recorder, "idle")
    first.engine.stop_strategy("idle")
    assert stopped.state == StrategyState.STOPPED
    before = strategy.holding.snapshot()
    fills_before = strategy.fills
    first.main.close()

    second = StrategyHarness(tmp_path)
    try:
        second.quote_all()
        second.tick()  # the first timer restores
        restored = second.engine.get_strategy("s1")
        assert restored is not strategy
        assert restored.state == StrategyState.RUNNING
        assert (restored.volume, restored.fills) == (2, fills_before)
        assert restored.calls == ["init", "start"]
        assert restored.holding.snapshot() == before
        assert second.engine.get_strategy("idle").state == StrategyState.STOPPED
        # The combo opened before the restart closes through the new engine.
        [combo] = restored.holding.open_combos()
        restored.close_combo_position(combo)
        second.pump()
        assert not combo.is_open
    finally:
        second.main.close()


def test_configured_instances_are_added_and_started_once(tmp_path):
    strategy_file = tmp_path / "mine.py"
    strategy_file.write_text(
        "from otrade import OptionStrategyTemplate\n"
        "class Mine(OptionStrategyTemplate):\n"
        "    parameters = ('size',)\n"
        "    size = 1\n"
    )
    broken_file = tmp_path / "broken.py"
    broken_file.write_text("import not_a_module_anywhere\n")
    settings = StrategySettings(
        paths=(strategy_file, broken_file, tmp_path / "missing.py"),
        instances=(
            StrategyInstanceSettings(
                name="m", class_name="Mine", underlying="spy", parameters={"size": 4}
            ),
            StrategyInstanceSettings(name="n", class_name="Nope", underlying="SPY"),
        ),
    )
    harness = StrategyHarness(tmp_path, strategy=settings)
    try:
        harness.tick()
        mine = harness.engine.get_strategy("m")
        assert (mine.state, mine.underlying_symbol, mine.size) == ("running", "SPY", 4)
        failures = "\n".join(harness.engine.load_failures)
        assert "broken.py failed to import" in failures
        assert "not_a_module_anywhere" in failures
        assert "missing.py does not exist" in failures
        assert "n" not in harness.engine.strategies
    finally:
        harness.main.close()
    again = StrategyHarness(tmp_path, strategy=settings)
    try:
        again.tick()
        assert again.engine.get_strategy("m").state == "running"  # restored, not re-added
        assert list(again.engine.strategies) == ["m"]
    finally:
        again.main.close()


def test_timer_cadence_follows_timer_interval(harness):
    class Slow(Recorder):
        timer_interval_s = 3.0

    strategy = harness.running(Slow)
    for _ in range(7):
        harness.tick()
    assert strategy.calls.count("timer") == 2  # at +3 s and +6 s
    harness.tick(timedelta(seconds=30).total_seconds())
    assert strategy.calls.count("timer") == 3  # a late tick runs once, not ten times


# -- hedging through the template ------------------------------------------------------------


class HedgedShortCalls(Recorder):
    """Sells ten calls and hedges their delta to zero within 20 shares."""

    def on_start(self) -> None:
        super().on_start()
        self.option_order(CALL_460, Direction.SHORT, 10)
        self.register_hedging(interval_s=2.0, delta_target=0.0, delta_band=20.0)


def test_registered_hedging_converges_as_the_options_delta_moves(tmp_path):
    harness = StrategyHarness(tmp_path, greeks_policy="provider")
    try:
        harness.quote_all()
        strategy = harness.running(HedgedShortCalls)

        def greeks(delta: float) -> None:
            harness.put(EVENT_GREEKS, GreeksData(symbol=CALL_460, time=harness.clock.now(),
                                                 iv=0.2, delta=delta, gamma=0.01, theta=-0.1,
                                                 vega=0.3))  # fmt: skip
            harness.quote("SPY", 449.95, 450.05)  # keep the hedge's quote fresh

        decisions: list[HedgeDecision] = []
        harness.events.register(EVENT_HEDGE, lambda e: decisions.append(e.data))
        greeks(0.55)
        for _ in range(3):
            harness.tick()
        assert strategy.holding.options[CALL_460].quantity == -10
        assert strategy.holding.underlying_quantity("SPY") == 550
        hedges = [o for o in strategy.orders if o.reference == "hedge" and o.status.is_final]
        assert [(o.direction, o.volume) for o in hedges] == [(Direction.LONG, 550)]
        assert decisions[0].delta == pytest.approx(-550.0)
        greeks(0.70)  # the calls moved in the money: 150 more shares
        for _ in range(2):
            greeks(0.70)
            harness.tick()
        assert strategy.holding.underlying_quantity("SPY") == 700
        assert abs(strategy.summary.delta) <= 20.0
        for _ in range(4):  # converged: no more orders
            greeks(0.70)
            harness.tick()
        assert strategy.holding.underlying_quantity("SPY") == 700
        assert decisions[-1].action == "none"
        harness.engine.stop_strategy("s1")
        hedge = harness.main.get_engine("hedge")
        assert not hedge.is_registered("s1")
    finally:
        harness.main.close()


def test_a_fill_reported_before_its_trade_still_counts_toward_the_close(harness):
    strategy = harness.running()
    strategy.option_order(CALL_470, Direction.LONG, 3)
    harness.pump()
    first = strategy.close_option_position(CALL_470, 1.55, OrderType.LIMIT)
    harness.pump()
    working = strategy.active_orders[first]
    # The broker reports the order filled; its execution arrives later.
    filled = attrs.evolve(working, status=Status.ALL_TRADED, traded=3, average_price=1.55)
    harness.put(EVENT_ORDER, filled)
    harness.pump()
    assert strategy.active_orders == {}
    assert strategy.holding.options[CALL_470].quantity == 3  # not booked yet
    assert strategy.close_option_position(CALL_470) is None  # the fill already covers it
    harness.put(EVENT_TRADE, TradeData(
        trade_id="late-1", order_id=first, gateway_name="paper", symbol=CALL_470,
        direction=Direction.SHORT, price=1.55, volume=3, time=harness.clock.now(),
        strategy="s1",
    ))  # fmt: skip
    harness.pump()
    harness.database().flush()
    assert strategy.holding.options[CALL_470].quantity == 0
    assert strategy.close_option_position(CALL_470) is None


def test_parameters_and_variables_may_not_reuse_the_templates_own_names(harness):
    class Clashing(OptionStrategyTemplate):
        variables = ("state", "note", "holding")
        note = ""

    with pytest.raises(StrategyError, match=r"\['holding', 'state'\] are names the template"):
        harness.engine.add_strategy(Clashing, "c", "SPY")
    assert "c" not in harness.engine.strategies


class ClosesOnStop(Recorder):
    """Keeps a resting bid; on stop, offers its calls with a resting limit."""

    def on_start(self) -> None:
        super().on_start()
        self.option_order(CALL_470, Direction.LONG, 2)
        self.bid_id = self.option_order(CALL_460, Direction.LONG, 1, 3.00, OrderType.LIMIT)

    def on_stop(self) -> None:
        super().on_stop()
        self.close_id = self.close_option_position(CALL_470, 1.55, OrderType.LIMIT)


def test_stopping_cancels_the_open_orders_first_and_keeps_what_on_stop_sends(harness):
    strategy = harness.running(ClosesOnStop)
    assert strategy.holding.options[CALL_470].quantity == 2
    harness.clock.advance(1)
    harness.engine.stop_strategy("s1")
    harness.pump()
    assert strategy.get_order(strategy.bid_id).status is Status.CANCELLED
    assert strategy.close_id is not None
    close = strategy.get_order(strategy.close_id)
    assert (close.status, close.volume, close.direction) == (
        Status.NOT_TRADED,
        2,
        Direction.SHORT,
    )
    assert strategy.state == StrategyState.STOPPED


def test_a_restored_strategy_does_not_see_orders_that_ended_while_it_was_removed(tmp_path):
    harness = StrategyHarness(tmp_path, strategy=StrategySettings(cancel_on_stop=False))
    try:
        harness.quote_all()
        strategy = harness.running()
        resting = strategy.option_order(CALL_460, Direction.LONG, 1, 3.00, OrderType.LIMIT)
        harness.pump()
        harness.engine.stop_strategy("s1")
        harness.engine.remove_strategy("s1")
        harness.main.cancel_order(CancelRequest(order_id=resting, gateway_name="paper"))
        harness.pump()
        restored = harness.engine.restore_strategy("s1")
        assert restored.active_orders == {}
        assert restored.get_order(resting).status is Status.CANCELLED
    finally:
        harness.main.close()


# -- closing over working closes that are being cancelled ------------------------------------


def open_bull_call_spread(
    harness: StrategyHarness, strategy: Recorder, volume: int
) -> ComboPosition:
    """Buy ``volume`` 460/470 call spreads at market; the combo position they opened."""
    marketdata = harness.main.get_engine("marketdata")
    legs = {
        "long_call": marketdata.get_option(CALL_460),
        "short_call": marketdata.get_option(CALL_470),
    }
    strategy.combo_order("bull_call_spread", legs, Direction.LONG, volume)
    harness.pump()
    (combo,) = strategy.holding.open_combos()
    return combo


def closes_sent(strategy: Recorder, but: str | None) -> list[tuple[OrderType, Direction, int, int]]:
    """Type, side, volume and filled volume of each close order but ``but``, as they end."""
    ids = dict.fromkeys(o.order_id for o in strategy.orders if o.reference.startswith("close"))
    ids.pop(but, None)
    return [
        (order.order_type, order.direction, order.volume, order.traded)
        for order in map(strategy.get_order, ids)
    ]


def test_close_all_replaces_a_resting_close_once_its_cancel_lands(harness):
    strategy = harness.running()
    strategy.option_order(CALL_470, Direction.LONG, 3)
    harness.pump()
    take_profit = strategy.close_option_position(CALL_470, 1.55, OrderType.LIMIT)
    harness.pump()
    assert strategy.active_orders[take_profit].volume == 3
    harness.clock.advance(1)
    # The take-profit is cancelled first; until that lands it still covers the position, so
    # the market close of all 3 goes out when the cancel is confirmed, not before.
    assert strategy.close_all_positions() == []
    harness.pump()
    assert strategy.get_order(take_profit).status is Status.CANCELLED
    assert closes_sent(strategy, but=take_profit) == [(OrderType.MARKET, Direction.SHORT, 3, 3)]
    assert strategy.holding.options[CALL_470].quantity == 0
    assert strategy.active_orders == {}


@pytest.mark.parametrize(
    ("filled_before_cancel", "expected_closes"),
    [
        (3, []),  # it filled in full: the position is flat, nothing more is sent
        (1, [(OrderType.MARKET, Direction.SHORT, 2, 2)]),  # 1 filled, then cancelled
        (0, [(OrderType.MARKET, Direction.SHORT, 3, 3)]),
    ],
)
def test_a_close_waiting_for_a_cancel_sends_only_what_the_cancelled_order_left(
    harness, monkeypatch, filled_before_cancel, expected_closes
):
    strategy = harness.running()
    strategy.option_order(CALL_470, Direction.LONG, 3)
    harness.pump()
    take_profit = strategy.close_option_position(CALL_470, 1.55, OrderType.LIMIT)
    harness.pump()
    # The broker has not acted on the cancel yet: the take-profit may still fill.
    monkeypatch.setattr(harness.main.get_gateway("paper"), "cancel_order", lambda request: None)
    harness.clock.advance(1)
    assert strategy.close_all_positions() == []
    harness.pump()
    assert closes_sent(strategy, but=take_profit) == []
    working = strategy.active_orders[take_profit]
    if filled_before_cancel:
        harness.put(EVENT_TRADE, TradeData(
            trade_id="race-1", order_id=take_profit, gateway_name="paper", symbol=CALL_470,
            direction=Direction.SHORT, price=1.55, volume=filled_before_cancel,
            time=harness.clock.now(), strategy="s1",
        ))  # fmt: skip
    final = Status.ALL_TRADED if filled_before_cancel == 3 else Status.CANCELLED
    harness.put(EVENT_ORDER, attrs.evolve(working, status=final, traded=filled_before_cancel,
                                          average_price=1.55))  # fmt: skip
    harness.pump()
    harness.database().flush()
    assert closes_sent(strategy, but=take_profit) == expected_closes
    assert strategy.holding.options[CALL_470].quantity == 0


class ClosesAllOnStop(Recorder):
    """Holds 2 calls with a resting take-profit; on stop, closes everything at market."""

    def on_start(self) -> None:
        super().on_start()
        self.option_order(CALL_470, Direction.LONG, 2)

    def on_trade(self, trade: TradeData) -> None:
        super().on_trade(trade)
        if trade.direction is Direction.LONG:
            self.take_profit = self.close_option_position(CALL_470, 1.55, OrderType.LIMIT)

    def on_stop(self) -> None:
        super().on_stop()
        self.sent_on_stop = self.close_all_positions()


def test_close_all_from_on_stop_goes_out_after_the_stop_cancelled_the_take_profit(harness):
    warnings: list[str] = []
    harness.events.register(
        EVENT_LOG, lambda e: warnings.append(e.data.message) if e.data.level == "WARNING" else None
    )
    strategy = harness.running(ClosesAllOnStop)
    assert strategy.active_orders[strategy.take_profit].volume == 2
    harness.clock.advance(1)
    harness.engine.stop_strategy("s1")
    assert strategy.state == StrategyState.STOPPED
    assert strategy.sent_on_stop == []  # the take-profit's cancel had not landed yet
    harness.pump()
    assert strategy.get_order(strategy.take_profit).status is Status.CANCELLED
    assert closes_sent(strategy, but=strategy.take_profit) == [
        (OrderType.MARKET, Direction.SHORT, 2, 2)
    ]
    assert strategy.holding.options[CALL_470].quantity == 0
    assert warnings == []  # close_all did not ask the gateway to cancel the take-profit twice
    # A stopped strategy's own call still sends nothing.
    strategy.option_order(CALL_470, Direction.LONG, 1)
    assert strategy.close_all_positions() == []


def test_a_combo_close_waiting_for_the_cancel_of_its_resting_close_flattens_every_leg(harness):
    strategy = harness.running()
    combo = open_bull_call_spread(harness, strategy, 2)
    assert combo.quantities() == {CALL_460: 2, CALL_470: -2}
    # Selling the spread for a credit of 1.85 rests: the legs' bid/ask give 1.60 (mid 1.75).
    resting = strategy.close_combo_position(combo, -1.85, OrderType.LIMIT)
    harness.pump()
    assert resting in strategy.active_orders
    harness.clock.advance(1)
    assert strategy.close_all_positions() == []
    harness.pump()
    assert strategy.get_order(resting).status is Status.CANCELLED
    assert closes_sent(strategy, but=resting) == [(OrderType.MARKET, Direction.LONG, 2, 2)]
    assert combo.quantities() == {CALL_460: 0, CALL_470: 0}
    assert strategy.holding.open_combos() == []


def test_a_combo_close_reported_filled_before_its_trades_is_not_sent_twice(harness):
    strategy = harness.running()
    combo = open_bull_call_spread(harness, strategy, 1)
    first = strategy.close_combo_position(combo, -1.85, OrderType.LIMIT)
    harness.pump()
    working = strategy.active_orders[first]
    # The broker reports the close filled; the legs' executions arrive later.
    harness.put(EVENT_ORDER, attrs.evolve(working, status=Status.ALL_TRADED, traded=1))
    harness.pump()
    assert strategy.active_orders == {}
    assert combo.is_open  # not booked yet
    assert strategy.close_combo_position(combo) is None
    for number, leg in enumerate(working.legs):
        harness.put(EVENT_TRADE, TradeData(
            trade_id=f"late-{number}", order_id=first, gateway_name="paper", symbol=leg.symbol,
            direction=Direction.LONG if leg.ratio > 0 else Direction.SHORT, price=1.0,
            volume=abs(leg.ratio), time=harness.clock.now(), strategy="s1",
            combo_id=working.combo_id, leg_role=leg.role,
        ))  # fmt: skip
    harness.pump()
    harness.database().flush()
    assert not combo.is_open
    assert closes_sent(strategy, but=None) == [(OrderType.LIMIT, Direction.LONG, 1, 1)]


def test_older_ended_orders_are_read_back_from_the_database(harness, monkeypatch):
    monkeypatch.setattr("otrade.strategy.engine._RECENT_ENDED", 2)
    strategy = harness.running()
    other = harness.running(name="s2")
    ids = []
    for number in range(3):
        harness.clock.advance(1)
        ids.append(strategy.option_order(CALL_470, Direction.LONG, number + 1))
        harness.pump()
    theirs = other.option_order(CALL_470, Direction.LONG, 1)
    harness.pump()
    assert list(harness.engine._ended["s1"]) == ids[1:]  # memory keeps the last two
    first = strategy.get_order(ids[0])  # from the database
    assert (first.status, first.volume, first.traded, first.strategy) == (
        Status.ALL_TRADED, 1, 1, "s1",
    )  # fmt: skip
    assert [strategy.get_order(i).volume for i in ids] == [1, 2, 3]
    assert strategy.get_order(theirs) is None  # another strategy's order
    assert other.get_order(theirs).traded == 1
    assert strategy.get_order("no-such-order") is None


def test_orders_reported_before_their_strategy_is_restored_count_once_it_is(harness):
    # After a restart the broker reports a strategy's working orders (and their fills) at
    # connect, before the strategy is restored on the first timer.
    now = harness.clock.now()
    harness.put(EVENT_TRADE, TradeData(
        trade_id="before-1", order_id="entry-1", gateway_name="paper", symbol=CALL_470,
        direction=Direction.LONG, price=1.50, volume=3, time=now, strategy="s1",
    ))  # fmt: skip
    working = OrderData(
        order_id="close-1", gateway_name="paper", symbol=CALL_470, direction=Direction.SHORT,
        order_type=OrderType.LIMIT, volume=3, price=1.55, strategy="s1", reference="close",
        status=Status.NOT_TRADED, time=now,
    )  # fmt: skip
    harness.put(EVENT_ORDER, working)
    harness.pump()
    strategy = harness.running()
    assert strategy.holding.options[CALL_470].quantity == 3
    assert set(strategy.active_orders) == {"close-1"}
    assert strategy.close_option_position(CALL_470) is None  # the working close covers it


def test_a_combo_close_reported_before_its_strategy_is_restored_is_not_sent_again(harness):
    strategy = harness.running()
    combo = open_bull_call_spread(harness, strategy, 1)
    harness.engine.stop_strategy("s1")
    harness.engine.remove_strategy("s1")
    # A restart: the broker reports the strategy's working close before it is restored.
    close = OrderData(
        order_id="close-before", gateway_name="paper", symbol="SPY close",
        direction=Direction.LONG, order_type=OrderType.LIMIT, volume=1, price=-1.85,
        legs=tuple(Leg(s, -q, combo.roles.get(s, "")) for s, q in combo.quantities().items()),
        strategy="s1", reference=f"close:{combo.combo_id}", status=Status.NOT_TRADED,
        time=harness.clock.now(),
    )  # fmt: skip
    harness.put(EVENT_ORDER, close)
    harness.pump()
    restored = harness.engine.restore_strategy("s1")
    assert harness.engine.init_strategy("s1")
    assert harness.engine.start_strategy("s1")
    assert set(restored.active_orders) == {"close-before"}
    assert restored.close_combo_position(combo.combo_id) is None  # it is already working


def test_closes_a_rate_limit_refused_go_out_on_the_next_timers(tmp_path):
    harness = StrategyHarness(tmp_path, risk=RiskSettings(max_orders_per_second=2))
    try:
        harness.quote_all()
        strategy = harness.running()
        for number, (symbol, volume) in enumerate(
            ((CALL_460, 1), (CALL_470, 2), (PUT_430, -3), (PUT_440, -1))
        ):
            if number % 2 == 0:
                harness.clock.advance(1)  # two orders a second at most
            direction = Direction.LONG if volume > 0 else Direction.SHORT
            assert strategy.option_order(symbol, direction, abs(volume)) is not None
            harness.pump()
        harness.clock.advance(1)
        sent = strategy.close_all_positions()
        harness.pump()
        assert len(sent) == 2  # the other two closes were refused by the rate limit...
        refused = [o for o in strategy.orders if o.reject_reason.startswith("order_rate:")]
        assert len(refused) == 2
        harness.tick(1.0)  # ...and go out at the next timer
        harness.pump()
        assert all(position.quantity == 0 for position in strategy.holding.positions())
        closes = closes_sent(strategy, but=None)
        assert sorted(volume for _, _, volume, traded in closes if traded) == [1, 1, 2, 3]
        harness.tick(1.0)
        assert len(closes_sent(strategy, but=None)) == len(closes)  # nothing more is sent
    finally:
        harness.main.close()


@pytest.mark.parametrize(
    ("status", "expected_close"),
    [
        (Status.PART_TRADED, 2),  # 4 held, 2 still working: the close sends the other 2
        (Status.CANCELLED, 4),  # it ended with 1 traded: nothing covers the 4 held
    ],
)
def test_an_order_partly_filled_before_a_restart_counts_only_its_remainder(
    tmp_path, status, expected_close
):
    # Bought 5; a sell-to-close of 3 filled 1, then otrade stopped.
    before = StrategyHarness(tmp_path)
    now = before.clock.now()
    for trade_id, direction, volume in (("b-1", Direction.LONG, 5), ("s-1", Direction.SHORT, 1)):
        before.put(EVENT_TRADE, TradeData(
            trade_id=trade_id, order_id=f"o-{trade_id}", gateway_name="paper", symbol=CALL_470,
            direction=direction, price=1.50, volume=volume, time=now, strategy="s1",
        ))  # fmt: skip
    before.pump()
    before.main.close()

    harness = StrategyHarness(tmp_path)  # the ledger is rebuilt; no trade event is replayed
    try:
        harness.quote_all()
        strategy = harness.running()
        assert strategy.holding.options[CALL_470].quantity == 4
        # The broker reports the order, traded 1 of 3.
        harness.put(EVENT_ORDER, OrderData(
            order_id="o-s-1", gateway_name="paper", symbol=CALL_470, direction=Direction.SHORT,
            order_type=OrderType.LIMIT, volume=3, price=1.55, strategy="s1", reference="close",
            status=status, traded=1, average_price=1.50, time=now,
        ))  # fmt: skip
        harness.pump()
        close = strategy.close_option_position(CALL_470)
        assert close is not None
        assert strategy.get_order(close).volume == expected_close
    finally:
        harness.main.close()
