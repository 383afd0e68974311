"""PositionEngine ledger math: average cost, signs of shorts, combos, commissions, folds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otrade.clock import SimulatedClock
from otrade.combos.combo import ComboLeg, combo_signature
from otrade.constants import Direction, OptionRight, OrderType, Status
from otrade.engine import MainEngine
from otrade.event import EVENT_COMMISSION, EVENT_ORDER, EVENT_TRADE, Event, EventEngine
from otrade.objects import CommissionData, Leg, OrderData, TradeData
from otrade.plugins import PluginRegistry
from otrade.position import (
    Holding,
    Position,
    PositionEngine,
    default_multiplier,
    rebuild_holdings,
)
from otrade.settings import LogSettings, Settings
from otrade.symbols import build_option_symbol

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
EXPIRY = date(2026, 12, 18)
CALL_450 = build_option_symbol("SPY", EXPIRY, OptionRight.CALL, 450)
CALL_455 = build_option_symbol("SPY", EXPIRY, OptionRight.CALL, 455)
PUT_440 = build_option_symbol("SPY", EXPIRY, OptionRight.PUT, 440)

_ids = count(1)


def trade(symbol: str, signed_volume: int, price: float, **changes: object) -> TradeData:
    fields = {
        "trade_id": f"T{next(_ids):06d}",
        "order_id": "O1",
        "gateway_name": "paper",
        "symbol": symbol,
        "direction": Direction.LONG if signed_volume > 0 else Direction.SHORT,
        "price": price,
        "volume": abs(signed_volume),
        "time": START,
        "strategy": "wheel",
    } | changes
    return TradeData(**fields)  # type: ignore[arg-type]


def vertical_legs(sign: int) -> tuple[ComboLeg, ...]:
    """A 450/455 SPY call vertical: long 450, short 455 (``sign`` -1 reverses it)."""
    return tuple(
        ComboLeg(
            role=role,
            symbol=build_option_symbol("SPY", EXPIRY, OptionRight.CALL, strike),
            right=OptionRight.CALL,
            strike=strike,
            expiry=EXPIRY,
            root="SPY",
            ratio=ratio * sign,
            multiplier=100,
        )
        for role, strike, ratio in (("long_call", 450.0, 1), ("short_call", 455.0, -1))
    )


def combo_order(order_id: str, sign: int, volume: int, strategy: str = "wheel") -> OrderData:
    legs = vertical_legs(sign)
    return OrderData(
        order_id=order_id,
        gateway_name="paper",
        symbol="SPY vertical",
        direction=Direction.LONG,
        order_type=OrderType.LIMIT,
        volume=volume,
        price=1.0,
        legs=tuple(Leg(leg.symbol, leg.ratio, leg.role) for leg in legs),
        strategy=strategy,
        combo_signature=combo_signature(legs),
        status=Status.NOT_TRADED,
        time=START,
    )


def leg_trades(order: OrderData, units: int, prices: dict[str, float]) -> list[TradeData]:
    return [
        trade(
            leg.symbol,
            leg.ratio * units,
            prices[leg.symbol],
            order_id=order.order_id,
            combo_id=order.combo_id,
            leg_role=leg.role,
            strategy=order.strategy,
        )
        for leg in order.legs
    ]


# -- one position -------------------------------------------------------------------------


def test_short_call_sold_at_2_and_marked_at_2_shows_zero_unrealized():
    holding = Holding("wheel")
    holding.apply_trade(trade(CALL_450, -1, 2.00, commission=0.65), None, 100)
    position = holding.options[CALL_450]
    assert (position.quantity, position.average_price) == (-1, 2.00)
    assert position.unrealized is None  # no mark yet: unknown, not 0
    position.set_mark(2.00, START)
    assert position.unrealized == 0.0
    position.set_mark(1.50, START)
    assert position.unrealized == pytest.approx(50.0)  # the short gained as the call fell
    holding.apply_trade(trade(CALL_450, 1, 1.20, commission=0.65), None, 100)
    assert position.quantity == 0
    assert position.realized == pytest.approx(80.0)
    assert holding.commissions == pytest.approx(1.30)
    summary = holding.summary(START)
    assert summary.total_pnl == pytest.approx(80.0 - 1.30)
    assert summary.open_positions == 0


def test_a_fill_through_zero_realizes_the_old_side_and_opens_the_rest_at_the_fill():
    position = Position("SPY", 1, is_option=False)
    position.apply_fill(100, 450.0)
    position.apply_fill(50, 456.0)
    assert position.average_price == pytest.approx(452.0)
    position.apply_fill(-200, 460.0)
    assert position.quantity == -50
    assert position.average_price == 460.0
    assert position.realized == pytest.approx((460.0 - 452.0) * 150)


def test_position_greeks_are_per_share_times_multiplier_times_signed_quantity():
    holding = Holding("wheel")
    holding.apply_trade(trade(CALL_450, -2, 3.0), None, 100)
    holding.apply_trade(trade("SPY", 60, 450.0), None, 1)
    holding.options[CALL_450].set_greeks(0.5, 0.02, -0.05, 0.1)
    holding.options[CALL_450].set_mark(3.5, START - timedelta(seconds=30))
    summary = holding.summary(START)
    assert summary.delta == pytest.approx(-0.5 * 100 * 2 + 60)
    assert summary.gamma == pytest.approx(-0.02 * 200)
    assert summary.theta == pytest.approx(0.05 * 200)
    assert summary.vega == pytest.approx(-0.1 * 200)
    assert summary.unrealized == pytest.approx(-100.0)  # the stock has no mark
    assert (summary.open_positions, summary.unmarked_positions) == (2, 1)
    assert summary.positions_without_greeks == 0
    assert summary.oldest_mark_age_s == 30.0
    assert holding.underlying_quantity("SPY") == 60


def test_an_unknown_multiplier_defaults_to_100_for_occ_symbols_and_1_otherwise():
    assert default_multiplier(CALL_450) == 100
    assert default_multiplier("SPY") == 1


def test_a_learned_multiplier_corrects_realized_pnl_booked_with_the_default():
    holding = Holding("")
    adjusted = build_option_symbol("AAPL1", EXPIRY, OptionRight.CALL, 150)
    holding.apply_trade(trade(adjusted, 1, 2.0), None, 100)
    holding.apply_trade(trade(adjusted, -1, 3.0), None, 100)
    holding.set_multiplier(adjusted, 150)
    assert holding.realized == pytest.approx(150.0)


def test_a_repeated_execution_id_books_once():
    holding = Holding("wheel")
    fill = trade(CALL_450, 1, 2.0)
    assert holding.apply_trade(fill, None, 100)
    assert not holding.apply_trade(fill, None, 100)
    assert holding.options[CALL_450].quantity == 1


# -- combos -------------------------------------------------------------------------------


def test_partial_then_full_combo_fill_at_volume_2_gives_2_per_leg():
    holding = Holding("wheel")
    order = combo_order("C1", 1, 2)
    prices = {CALL_450: 5.0, CALL_455: 2.0}
    for fill in leg_trades(order, 1, prices)[:1]:  # one leg of the first unit only
        holding.apply_trade(fill, order, 100)
    assert holding.combos["C1"].quantities() == {CALL_450: 1}
    for fill in leg_trades(order, 1, prices)[1:] + leg_trades(order, 1, prices):
        holding.apply_trade(fill, order, 100)
    assert holding.combos["C1"].quantities() == {CALL_450: 2, CALL_455: -2}
    assert holding.combos["C1"].roles == {CALL_450: "long_call", CALL_455: "short_call"}
    assert not holding.options  # combo legs are not single-leg positions


def test_closing_a_combo_with_its_reversed_signature_flattens_every_leg_to_the_cent():
    holding = Holding("wheel")
    opening, closing = combo_order("C1", 1, 2), combo_order("C2", -1, 2)
    for fill in leg_trades(opening, 2, {CALL_450: 5.10, CALL_455: 2.35}):
        holding.apply_trade(fill, opening, 100)
    assert [combo.combo_id for combo in holding.open_combos()] == ["C1"]
    for fill in leg_trades(closing, 2, {CALL_450: 6.45, CALL_455: 3.05}):
        holding.apply_trade(fill, closing, 100)
    assert list(holding.combos) == ["C1"]  # netted, no second combo
    combo = holding.combos["C1"]
    assert combo.quantities() == {CALL_450: 0, CALL_455: 0}
    assert not combo.is_open
    assert holding.open_combos() == []
    # Debit 2.75, credit 3.40: 0.65 x 100 x 2 = 130.00
    assert round(combo.realized, 2) == 130.00
    assert round(holding.summary(START).realized, 2) == 130.00


def test_a_combo_order_of_the_same_signature_opens_a_second_combo():
    holding = Holding("wheel")
    first, second = combo_order("C1", 1, 1), combo_order("C2", 1, 1)
    for order in (first, second):
        for fill in leg_trades(order, 1, {CALL_450: 5.0, CALL_455: 2.0}):
            holding.apply_trade(fill, order, 100)
    assert [combo.combo_id for combo in holding.open_combos()] == ["C1", "C2"]


def test_a_reversed_combo_of_another_strategy_does_not_net():
    holdings = rebuild_holdings(
        leg_trades(combo_order("C1", 1, 1), 1, {CALL_450: 5.0, CALL_455: 2.0})
        + leg_trades(combo_order("C2", -1, 1, "other"), 1, {CALL_450: 5.0, CALL_455: 2.0}),
        {"C1": combo_order("C1", 1, 1), "C2": combo_order("C2", -1, 1, "other")},
    )
    assert len(holdings["wheel"].open_combos()) == 1
    assert holdings["other"].open_combos()[0].quantities() == {CALL_450: -1, CALL_455: 1}


# -- the engine without storage -----------------------------------------------------------


@pytest.fixture
def engine(tmp_path) -> Iterator[PositionEngine]:
    clock = SimulatedClock(START)
    main = MainEngine(
        Settings(data_directory=tmp_path, log=LogSettings(console=False)),
        clock=clock,
        event_engine=EventEngine(clock=clock, threaded=False),
        plugins=PluginRegistry(),  # nothing registered: no database, no market data
    )
    position_engine = main.add_engine(PositionEngine)
    yield position_engine
    main.close()


def put(engine: PositionEngine, event_type: str, data: object) -> None:
    engine.event_engine.put(Event(event_type, data))
    engine.event_engine.process_pending()


def test_a_late_commission_replaces_the_trade_commission(engine):
    fill = trade(CALL_450, -1, 2.0, commission=0.0)
    put(engine, EVENT_TRADE, fill)
    put(engine, EVENT_COMMISSION, CommissionData(
        trade_id=fill.trade_id, gateway_name="paper", commission=0.65, time=START
    ))  # fmt: skip
    put(engine, EVENT_COMMISSION, CommissionData(
        trade_id=fill.trade_id, gateway_name="paper", commission=0.70, time=START
    ))  # fmt: skip
    assert engine.get_summary("wheel").commissions == pytest.approx(0.70)
    assert engine.get_holding("wheel").options[CALL_450].commission == pytest.approx(0.70)


def test_without_market_data_the_timer_leaves_positions_unmarked(engine):
    put(engine, EVENT_TRADE, trade(CALL_450, 1, 2.0))
    engine.refresh_marks()
    summary = engine.get_summary("wheel")
    assert (summary.unmarked_positions, summary.unrealized) == (1, 0.0)
    assert engine.get_holding("nobody").snapshot().options == ()


# -- property tests -----------------------------------------------------------------------

SYMBOLS = (CALL_450, PUT_440, "SPY")
fills = st.lists(
    st.tuples(
        st.sampled_from(SYMBOLS),
        st.integers(-5, 5).filter(bool),
        st.integers(1, 2000).map(lambda cents: cents / 100),
        st.sampled_from(("wheel", "")),
        st.integers(0, 3).map(lambda n: n * 0.65),
    ),
    max_size=30,
)


def as_trades(raw: list[tuple[str, int, float, str, float]]) -> list[TradeData]:
    return [
        trade(
            symbol,
            volume,
            price,
            strategy=strategy,
            commission=commission,
            time=START + timedelta(seconds=index),
        )
        for index, (symbol, volume, price, strategy, commission) in enumerate(raw)
    ]


def ledger(
    raw: list[tuple[str, int, float, str, float]], combo_units: list[int]
) -> tuple[list[TradeData], dict[str, OrderData]]:
    """The single fills of ``raw``, then one vertical per entry of ``combo_units`` (signed
    units) with its leg fills: the trades in order, and the combo orders by id."""
    trades = as_trades(raw)
    orders: dict[str, OrderData] = {}
    for index, units in enumerate(combo_units):
        order = combo_order(f"C{index}", 1 if units > 0 else -1, abs(units))
        orders[order.order_id] = order
        trades += leg_trades(order, abs(units), {CALL_450: 5.0 + index, CALL_455: 2.0})
    return trades, orders


# The engine is reset at the top of every example (rebuild_from an empty ledger, and the
# combo orders put again), so sharing the function-scoped fixture is safe.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=fills, combo_units=st.lists(st.integers(-2, 2).filter(bool), max_size=4))
def test_the_fold_equals_incremental_application_through_the_engine(engine, raw, combo_units):
    trades, orders = ledger(raw, combo_units)
    engine.rebuild_from([], {})
    for order in orders.values():
        put(engine, EVENT_ORDER, order)
    for fill in trades:
        put(engine, EVENT_TRADE, fill)
    if trades:
        put(engine, EVENT_TRADE, trades[0])  # a repeated execution changes nothing
    folded = rebuild_holdings(trades, orders)
    assert set(engine.strategies) == set(folded)
    for strategy, holding in folded.items():
        assert engine.get_holding(strategy).snapshot() == holding.snapshot()


@settings(max_examples=200, deadline=None)
@given(
    moves=st.lists(st.tuples(st.integers(-10, 10).filter(bool), st.integers(1, 5000)), min_size=1),
    mark_cents=st.integers(1, 5000),
    multiplier=st.sampled_from((1, 100)),
)
def test_realized_plus_unrealized_equals_the_mark_to_market_of_the_cash_flows(
    moves, mark_cents, multiplier
):
    position = Position("X", multiplier, is_option=multiplier != 1)
    cash = 0.0
    for volume, cents in moves:
        position.apply_fill(volume, cents / 100)
        cash -= volume * cents / 100 * multiplier
    mark = mark_cents / 100
    position.set_mark(mark, START)
    assert position.quantity == sum(volume for volume, _ in moves)
    unrealized = position.unrealized
    assert unrealized is not None
    expected = cash + position.quantity * mark * multiplier
    assert position.realized + unrealized == pytest.approx(expected, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    raw=fills,
    combo_units=st.lists(st.integers(-2, 2).filter(bool), max_size=4),
    deltas=st.fixed_dictionaries(
        {symbol: st.none() | st.floats(-1, 1) for symbol in (CALL_450, CALL_455, PUT_440)}
    ),
)
def test_the_risk_figures_read_from_open_positions_equal_a_recount_of_every_ledger(
    raw, combo_units, deltas
):
    # Holding.exposure and quantity_of read an index of the open positions; the index must
    # follow every fill, through zero and back, single legs and combo legs alike.
    trades, orders = ledger(raw, combo_units)
    for holding in rebuild_holdings(trades, orders).values():
        for position in holding.positions():
            if position.is_option:
                position.set_greeks(deltas[position.symbol], None, None, None)
        ledgers = list(holding.positions())
        contracts = sum(abs(p.quantity) for p in ledgers if p.is_option)
        delta = sum(p.quantity for p in ledgers if not p.is_option) + sum(
            p.delta * p.multiplier * p.quantity for p in ledgers if p.is_option and p.delta
        )
        # Flat ledgers leave the index, so each order's checks cost what is open.
        assert sorted(map(id, holding.open_positions())) == sorted(holding._open)
        exposure = holding.exposure()
        assert exposure[0] == contracts
        assert exposure[1] == pytest.approx(delta, abs=1e-9)
        for symbol in (*SYMBOLS, CALL_455):
            assert holding.quantity_of(symbol) == sum(
                p.quantity for p in ledgers if p.symbol == symbol
            )
