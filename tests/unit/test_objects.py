"""Records: frozen, slotted, and refusing values a later engine would trip over."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from otrade.constants import (
    Direction,
    Exchange,
    Offset,
    OptionRight,
    OrderType,
    Product,
    Status,
)
from otrade.objects import (
    CancelRequest,
    ContractData,
    Leg,
    LogData,
    OrderRequest,
    QuoteData,
    TradeData,
)

NOW = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)


def spy_call() -> ContractData:
    return ContractData(
        symbol="SPY261218C00450000",
        product=Product.OPTION,
        exchange=Exchange.SMART,
        multiplier=100,
        underlying_symbol="SPY",
        root="SPY",
        expiry=date(2026, 12, 18),
        strike=450.0,
        right=OptionRight.CALL,
    )


def test_records_are_frozen_and_slotted():
    contract = spy_call()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        contract.strike = 500.0  # type: ignore[misc]
    assert not hasattr(contract, "__dict__")
    assert contract.is_option


def test_option_contract_must_carry_option_fields():
    with pytest.raises(ValueError, match="missing strike, right"):
        ContractData(
            symbol="SPY261218C00450000",
            product=Product.OPTION,
            exchange=Exchange.SMART,
            underlying_symbol="SPY",
            root="SPY",
            expiry=date(2026, 12, 18),
        )


def test_equity_contract_needs_no_option_fields():
    spy = ContractData(symbol="SPY", product=Product.ETF, exchange=Exchange.ARCA)
    assert spy.multiplier == 1
    assert not spy.is_option


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"volume": 0}, "volume must be a positive integer, got 0"),
        ({"volume": 1.5}, "volume must be a positive integer, got 1.5"),
        ({"volume": True}, "volume must be a positive integer, got True"),
        ({"order_type": OrderType.LIMIT, "price": None}, "price is required for a limit order"),
        ({"price": -1.0}, "price must be > 0 for a single-instrument order"),
        ({"price": float("nan")}, "price must be a number"),
        ({"order_type": OrderType.STOP}, "trigger_price is required for a stop order"),
        ({"symbol": ""}, "symbol must not be empty"),
    ],
)
def test_order_request_names_the_bad_field(changes, message):
    fields = {
        "symbol": "SPY",
        "direction": Direction.LONG,
        "order_type": OrderType.MARKET,
        "volume": 1,
    } | changes
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        OrderRequest(**fields)


def test_combo_request_may_carry_a_negative_net_price_but_not_repeated_legs():
    legs = (Leg("SPY261218P00440000", 1), Leg("SPY261218P00445000", -1))
    request = OrderRequest(
        symbol="bull_put_spread",
        direction=Direction.SHORT,
        order_type=OrderType.LIMIT,
        volume=2,
        price=-1.25,
        legs=legs,
    )
    assert request.is_combo
    with pytest.raises(ValueError, match="legs repeat a symbol"):
        attrs.evolve(request, legs=(*legs, Leg("SPY261218P00440000", 1)))


def test_leg_ratio_must_be_a_non_zero_integer():
    with pytest.raises(ValueError, match="ratio must be a non-zero integer, got 0"):
        Leg("SPY261218P00440000", 0)


@given(volume=st.integers(1, 10_000), ratio=st.integers(-10, 10).filter(bool))
def test_leg_quantity_is_volume_times_ratio_size(volume, ratio):
    leg = Leg("SPY261218P00440000", ratio)
    assert leg.quantity(volume) == volume * abs(ratio)
    assert leg.direction is (Direction.LONG if ratio > 0 else Direction.SHORT)


def test_create_order_copies_the_request_and_starts_submitting():
    request = OrderRequest(
        symbol="SPY",
        direction=Direction.SHORT,
        order_type=OrderType.LIMIT,
        volume=3,
        price=450.5,
        strategy="wheel",
        reference="roll-1",
    )
    order = request.create_order("01J0ORDER", "paper", NOW)
    assert (order.order_id, order.gateway_name, order.status) == (
        "01J0ORDER",
        "paper",
        Status.SUBMITTING,
    )
    assert (order.volume, order.price, order.strategy, order.reference) == (
        3,
        450.5,
        "wheel",
        "roll-1",
    )
    assert order.is_active
    assert order.remaining == 3
    assert order.create_cancel_request() == CancelRequest(
        order_id="01J0ORDER", gateway_name="paper"
    )


@given(
    direction=st.sampled_from(Direction),
    volume=st.integers(1, 500),
    price=st.none() | st.integers(-500, 500).filter(bool).map(lambda cents: cents / 100),
    ratios=st.lists(st.integers(-3, 3).filter(bool), max_size=4),
    offset=st.sampled_from(Offset),
    reference=st.sampled_from(("", "entry", "close:01J0COMBO")),
)
def test_an_order_gives_back_the_request_it_was_created_from(
    *, direction, volume, price, ratios, offset, reference
):
    legs = tuple(Leg(f"SPY261218P0044{index}000", ratio) for index, ratio in enumerate(ratios))
    if not legs and price is not None:
        price = abs(price)  # a single instrument's price is positive
    request = OrderRequest(
        symbol="SPY combo" if legs else "SPY", direction=direction,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT, volume=volume,
        price=price, offset=offset, legs=legs, strategy="wheel", reference=reference,
        combo_signature="sig" if legs else "",
    )  # fmt: skip
    order = attrs.evolve(request.create_order("01J0ORDER", "ib", NOW), status=Status.NOT_TRADED)
    assert order.create_request() == request


def test_order_cannot_trade_more_than_its_volume():
    order = OrderRequest(
        symbol="SPY", direction=Direction.LONG, order_type=OrderType.MARKET, volume=2
    ).create_order("id", "paper", NOW)
    filled = attrs.evolve(order, traded=2, status=Status.ALL_TRADED)
    assert not filled.is_active
    with pytest.raises(ValueError, match="traded 3 exceeds volume 2"):
        attrs.evolve(order, traded=3)


def test_times_must_be_timezone_aware():
    with pytest.raises(ValueError, match="time must be timezone-aware"):
        QuoteData(symbol="SPY", time=datetime(2026, 12, 18, 15, 0))


@pytest.mark.parametrize(
    ("bid", "ask", "mid"),
    [(1.0, 1.2, 1.1), (None, 1.2, None), (1.0, None, None), (1.3, 1.2, None), (0.0, 0.05, 0.025)],
)
def test_quote_mid_needs_a_sane_two_sided_quote(bid, ask, mid):
    quote = QuoteData(symbol="SPY", time=NOW, bid=bid, ask=ask)
    assert quote.mid == pytest.approx(mid) if mid is not None else quote.mid is None


def test_trade_signed_volume():
    trade = TradeData(
        trade_id="exec-1",
        order_id="id",
        gateway_name="paper",
        symbol="SPY",
        direction=Direction.SHORT,
        price=450.0,
        volume=7,
        time=NOW,
    )
    assert trade.signed_volume == -7


def test_log_level_is_checked():
    with pytest.raises(ValueError, match="level must be one of"):
        LogData(message="x", level="LOUD", time=NOW)


def test_status_and_direction_helpers():
    assert Status.PART_TRADED.is_active
    assert Status.CANCELLED.is_final
    assert Direction.LONG.sign == 1
    assert Direction.SHORT.opposite() is Direction.LONG
    assert OptionRight("C") is OptionRight.CALL
