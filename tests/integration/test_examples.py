"""The strategies of examples/, loaded from their files, on the simulated feed and paper gateway.

Each example runs on a synchronous MainEngine (every built-in engine, SQLite in a temporary
directory) against the simulated SPY market (seed 7, 450.00 at the start), one clock second
per step.  The listings are fixed by the start date, Wednesday 2026-12-02 10:00 New York:
weeklies 12-04, 12-11, 12-18 (monthly), 12-24 (Christmas is a holiday), monthlies 2027-01-15
and 2027-02-19.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from otrade.constants import Direction, OptionRight
from otrade.event import EVENT_HEDGE, EVENT_TRADE, Event
from otrade.hedge import HedgeDecision
from otrade.objects import TradeData
from otrade.offline import OfflineSession
from otrade.strategy import OptionStrategyTemplate, StrategyState
from otrade.symbols import parse_option_symbol

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
UNDERLYING = "SPY"


class Offline:
    """An OfflineSession (the one the examples run in), recording trades and hedge decisions."""

    def __init__(self, data_directory: Path, start: datetime = START) -> None:
        self.session = OfflineSession(data_directory, start=start, entry_points=False)
        self.clock = self.session.clock
        self.events = self.session.events
        self.main = self.session.main
        self.engine = self.session.strategy_engine
        self.trades: list[TradeData] = []
        self.decisions: list[HedgeDecision] = []
        self.events.register(EVENT_TRADE, lambda event: self.trades.append(event.data))
        self.events.register(EVENT_HEDGE, self._hedge)

    def _hedge(self, event: Event) -> None:
        self.decisions.append(event.data)

    def load(self, file: str, class_name: str) -> None:
        """Load ``examples/<file>`` by path, as ``otrade demo --strategy FILE:CLASS`` does."""
        assert class_name in self.engine.load_path(EXAMPLES / file), self.engine.load_failures

    def start(self, file: str, class_name: str, **setting: object) -> OptionStrategyTemplate:
        """Load ``examples/<file>``, then add, initialise and start ``class_name``."""
        self.load(file, class_name)
        strategy = self.engine.add_strategy(class_name, class_name.lower(), UNDERLYING, setting)
        assert self.engine.init_strategy(strategy.strategy_name)
        assert self.engine.start_strategy(strategy.strategy_name)
        return strategy

    def run(self, seconds: int) -> None:
        """Advance the clock one second at a time, handling every event of each second."""
        self.session.run(seconds)


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[Offline]:
    harness = Offline(tmp_path)
    yield harness
    harness.main.close()


def assert_healthy(strategy: OptionStrategyTemplate) -> None:
    assert strategy.state == StrategyState.RUNNING
    assert strategy.error == ""


def expiry_of(symbol: str) -> date:
    return parse_option_symbol(symbol).expiry


# -- covered call -------------------------------------------------------------------------------


def test_covered_call_buys_the_shares_then_sells_one_30_delta_call_per_100(
    offline: Offline,
) -> None:
    strategy = offline.start("covered_call.py", "CoveredCall", lots=2)
    offline.run(30)

    holding = strategy.holding
    assert holding.underlying_quantity(UNDERLYING) == 200
    shorts = {symbol: p.quantity for symbol, p in holding.options.items() if p.quantity}
    assert list(shorts.values()) == [-2]
    (call_symbol,) = shorts
    call = strategy.portfolio.get_option(call_symbol)
    assert call is not None
    assert call.delta is not None
    assert call.right is OptionRight.CALL
    # The expiry nearest 30 days with more than roll_days (5) left: 12-24, 22 days out.
    assert call.expiry == date(2026, 12, 24)
    assert call.strike > strategy.underlying.mid
    assert abs(call.delta - 0.30) < 0.05
    # Covered from the first moment: the shares traded before the call was sold.
    assert [(t.symbol, t.direction, t.volume) for t in offline.trades] == [
        (UNDERLYING, Direction.LONG, 200),
        (call_symbol, Direction.SHORT, 2),
    ]
    assert strategy.get_variables() == {"call_symbol": call_symbol, "rolls": 0}
    assert_healthy(strategy)


def test_covered_call_rolls_to_the_next_month_when_the_call_nears_expiry(
    offline: Offline,
) -> None:
    strategy = offline.start("covered_call.py", "CoveredCall", lots=2)
    offline.run(15)
    (first,) = (symbol for symbol, p in strategy.holding.options.items() if p.quantity)

    strategy.update_setting({"roll_days": 25})  # the 22 days left are now "near expiry"
    offline.run(30)

    holding = strategy.holding
    assert holding.options[first].quantity == 0
    assert holding.options[first].realized != 0.0
    open_calls = {symbol: p.quantity for symbol, p in holding.options.items() if p.quantity}
    assert list(open_calls.values()) == [-2]
    (second,) = open_calls
    assert expiry_of(second) == date(2027, 1, 15)  # nearest 30 days among those over 25
    assert holding.underlying_quantity(UNDERLYING) == 200  # the shares stay
    assert [(t.symbol, t.direction, t.volume) for t in offline.trades[2:]] == [
        (first, Direction.LONG, 2),
        (second, Direction.SHORT, 2),
    ]
    assert strategy.get_variables() == {"call_symbol": second, "rolls": 1}
    assert_healthy(strategy)


# -- hedged short straddle ---------------------------------------------------------------------


def test_short_straddle_sells_both_atm_legs_and_hedges_delta_into_the_band(
    offline: Offline,
) -> None:
    band = 2.0
    strategy = offline.start("hedged_short_straddle.py", "HedgedShortStraddle", volume=2,
                             delta_band=band, hedge_interval_s=2.0)  # fmt: skip
    offline.run(60)

    holding = strategy.holding
    (combo,) = holding.combos.values()
    assert combo.combo_id == strategy.get_variables()["combo_id"]
    legs = {parse_option_symbol(symbol): qty for symbol, qty in combo.quantities().items()}
    assert sorted(legs.values()) == [-2, -2]
    assert {leg.right for leg in legs} == {OptionRight.CALL, OptionRight.PUT}
    assert {leg.strike for leg in legs} == {450.0}  # the ATM strike at 450.00
    assert {leg.expiry for leg in legs} == {date(2026, 12, 11)}  # nearest 7 days out
    # The credit is what the two sold legs brought in.
    credit = -sum(leg.average_price * leg.quantity * 100 for leg in combo.legs.values())
    assert strategy.get_variables()["credit"] == pytest.approx(credit)
    assert credit > 0

    orders = [d for d in offline.decisions if d.strategy == strategy.strategy_name
              and d.action == "order"]  # fmt: skip
    assert orders, "the straddle's delta never left the band"
    hedged = sum(t.signed_volume for t in offline.trades if t.symbol == UNDERLYING)
    assert holding.underlying_quantity(UNDERLYING) == hedged != 0
    # Every check that follows a hedge finds delta back inside the band.
    for before, after in zip(offline.decisions, offline.decisions[1:], strict=False):
        if before.action == "order" and after.action != "wait":
            assert after.delta is not None
            assert abs(after.delta) <= band
    assert abs(strategy.summary.delta) <= band
    assert_healthy(strategy)


def test_short_straddle_stop_flattens_every_leg_and_the_hedge(offline: Offline) -> None:
    strategy = offline.start("hedged_short_straddle.py", "HedgedShortStraddle", volume=2,
                             delta_band=2.0, hedge_interval_s=2.0)  # fmt: skip
    offline.run(10)
    assert strategy.holding.underlying_quantity(UNDERLYING) != 0  # hedged once at least

    # Right after the sale the book is down the spread and the commissions: a stop at
    # 0.1 % of the credit is hit at the next update.
    strategy.update_setting({"stop_loss_pct": 0.1})
    offline.run(10)

    assert str(strategy.get_variables()["exit_reason"]).startswith("stop: P&L -")
    holding = strategy.holding
    assert [p.symbol for p in holding.open_positions()] == []
    (combo,) = holding.combos.values()  # the close netted against it, no new combo
    assert not combo.is_open
    assert strategy.summary.open_positions == 0
    decisions = len(offline.decisions)
    offline.run(20)  # flat, unhedged and not reopened
    assert len(offline.decisions) == decisions
    assert len(holding.combos) == 1
    assert_healthy(strategy)


# -- calendar spread ----------------------------------------------------------------------------


def test_calendar_sells_the_near_and_buys_the_far_call_at_one_strike(offline: Offline) -> None:
    strategy = offline.start("calendar_spread.py", "CalendarSpread", volume=2)
    offline.run(10)

    (combo,) = strategy.holding.combos.values()
    legs = {parse_option_symbol(symbol): qty for symbol, qty in combo.quantities().items()}
    by_expiry = {leg.expiry: qty for leg, qty in legs.items()}
    assert by_expiry == {date(2026, 12, 24): -2, date(2027, 1, 15): 2}
    assert {leg.strike for leg in legs} == {450.0}
    assert {leg.right for leg in legs} == {OptionRight.CALL}
    debit = sum(leg.average_price * leg.quantity * 100 for leg in combo.legs.values())
    assert debit > 0
    assert strategy.get_variables() == {
        "combo_id": combo.combo_id,
        "debit": pytest.approx(debit),
        "exit_reason": "",
    }
    assert_healthy(strategy)


def test_calendar_closes_every_leg_when_the_near_leg_nears_expiry(offline: Offline) -> None:
    strategy = offline.start("calendar_spread.py", "CalendarSpread", volume=2)
    offline.run(10)

    strategy.update_setting({"exit_days": 22})  # the near leg has 22 days left
    offline.run(5)

    assert strategy.get_variables()["exit_reason"] == "near leg 22 days from expiry"
    holding = strategy.holding
    assert [p.symbol for p in holding.open_positions()] == []
    (combo,) = holding.combos.values()
    assert not combo.is_open
    closing = [t for t in offline.trades if t.combo_id != combo.combo_id]
    assert sorted((t.direction, t.volume) for t in closing) == [
        (Direction.LONG, 2),
        (Direction.SHORT, 2),
    ]
    offline.run(10)  # not reopened
    assert len(holding.combos) == 1
    assert_healthy(strategy)


# -- restart ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "class_name", "setting"),
    [
        ("covered_call.py", "CoveredCall", {"lots": 2}),
        ("hedged_short_straddle.py", "HedgedShortStraddle", {"delta_band": 2.0}),
        ("calendar_spread.py", "CalendarSpread", {}),
    ],
)
def test_example_restarts_with_its_variables_and_holding_and_trades_nothing_new(
    tmp_path: Path, file: str, class_name: str, setting: dict[str, object]
) -> None:
    first = Offline(tmp_path)
    strategy = first.start(file, class_name, **setting)
    first.run(20)
    variables, holding = strategy.get_variables(), strategy.holding.snapshot()
    assert holding.options or holding.combos
    first.main.close()

    second = Offline(tmp_path, START + timedelta(seconds=30))
    second.load(file, class_name)
    second.run(1)  # restored and started on the first timer

    restored = second.engine.get_strategy(strategy.strategy_name)
    assert restored.get_variables() == variables
    assert restored.holding.snapshot() == holding
    second.run(20)
    orders = [restored.get_order(trade.order_id) for trade in second.trades]
    assert [order for order in orders if order is None or order.reference != "hedge"] == []
    assert_healthy(restored)
    second.main.close()
