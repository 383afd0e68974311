"""The order state machine every gateway shares, order ids and request checks."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otrade.clock import SimulatedClock
from otrade.constants import Direction, Exchange, OrderType, Product, Status
from otrade.errors import OrderRejected
from otrade.gateways.orders import OrderBook, OrderUpdate, advance, check_request, new_order_id
from otrade.objects import ContractData, Leg, OrderData, OrderRequest
from otrade.symbols import parse_option_symbol

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
RANK = {
    Status.SUBMITTING: 0,
    Status.NOT_TRADED: 1,
    Status.PART_TRADED: 2,
    Status.ALL_TRADED: 3,
    Status.CANCELLED: 3,
    Status.REJECTED: 3,
}


def order(volume: int = 5, **changes: object) -> OrderData:
    fields: dict[str, object] = {
        "order_id": "01JTEST",
        "gateway_name": "paper",
        "symbol": "SPY",
        "direction": Direction.LONG,
        "order_type": OrderType.LIMIT,
        "volume": volume,
        "price": 450.0,
        "time": T0,
    }
    return OrderData(**(fields | changes))  # type: ignore[arg-type]


def test_the_happy_path_and_its_quantities():
    book = OrderBook()
    book.add(order())
    acknowledged = book.update("01JTEST", OrderUpdate(status=Status.NOT_TRADED,
                                                      broker_order_id="7"), T0)  # fmt: skip
    assert (acknowledged.status, acknowledged.broker_order_id) == (Status.NOT_TRADED, "7")
    partial = book.update("01JTEST", OrderUpdate(traded=2, average_price=450.5), T0)
    assert (partial.status, partial.traded, partial.average_price) == (Status.PART_TRADED, 2, 450.5)
    done = book.update("01JTEST", OrderUpdate(status=Status.ALL_TRADED, traded=5,
                                              average_price=450.3), T0)  # fmt: skip
    assert (done.status, done.traded, done.average_price) == (Status.ALL_TRADED, 5, 450.3)
    assert book.active() == []


def test_late_and_repeated_updates_change_nothing():
    filled = order(status=Status.PART_TRADED, traded=3, average_price=1.0)
    assert advance(filled, OrderUpdate(status=Status.NOT_TRADED), T0) is None
    assert advance(filled, OrderUpdate(status=Status.SUBMITTING, traded=1), T0) is None
    assert advance(filled, OrderUpdate(status=Status.PART_TRADED, traded=3), T0) is None
    for final in (Status.ALL_TRADED, Status.CANCELLED, Status.REJECTED):
        ended = order(status=final, traded=5 if final is Status.ALL_TRADED else 0)
        assert advance(ended, OrderUpdate(status=Status.NOT_TRADED), T0) is None
        assert advance(ended, OrderUpdate(status=Status.CANCELLED), T0) is None


def test_a_fill_that_completes_a_cancelled_order_wins():
    cancelled = order(status=Status.CANCELLED, traded=4)
    assert advance(cancelled, OrderUpdate(traded=4), T0) is None
    completed = advance(cancelled, OrderUpdate(traded=5, average_price=2.0), T0)
    assert (completed.status, completed.traded) == (Status.ALL_TRADED, 5)


def test_a_partial_fill_after_a_cancel_is_counted_but_the_order_stays_cancelled():
    cancelled = order(status=Status.CANCELLED, traded=1)
    later = advance(cancelled, OrderUpdate(traded=2, average_price=2.0), T0 + timedelta(seconds=1))
    assert (later.status, later.traded, later.time) == (
        Status.CANCELLED,
        2,
        T0 + timedelta(seconds=1),
    )


def test_rejected_keeps_its_reason_and_a_part_traded_reject_becomes_cancelled():
    rejected = advance(
        order(), OrderUpdate(status=Status.REJECTED, reject_reason="201: margin"), T0
    )
    assert (rejected.status, rejected.reject_reason) == (Status.REJECTED, "201: margin")
    part = order(status=Status.PART_TRADED, traded=2)
    ended = advance(part, OrderUpdate(status=Status.REJECTED, reject_reason="halted"), T0)
    assert (ended.status, ended.traded, ended.reject_reason) == (Status.CANCELLED, 2, "halted")


def test_traded_is_capped_at_the_volume_and_all_traded_needs_the_whole_volume():
    capped = advance(order(volume=2), OrderUpdate(traded=9), T0)
    assert (capped.status, capped.traded) == (Status.ALL_TRADED, 2)
    premature = advance(order(volume=2), OrderUpdate(status=Status.ALL_TRADED, traded=1), T0)
    assert (premature.status, premature.traded) == (Status.PART_TRADED, 1)


def test_a_rejected_order_that_reports_a_fill_becomes_cancelled():
    rejected = order(status=Status.REJECTED, reject_reason="201: x")
    later = advance(rejected, OrderUpdate(traded=1, average_price=3.0), T0)
    assert (later.status, later.traded, later.reject_reason) == (Status.CANCELLED, 1, "201: x")


def test_broker_ids_are_set_once():
    known = order(broker_order_id="7", broker_perm_id="99")
    assert advance(known, OrderUpdate(broker_order_id="8", broker_perm_id="100"), T0) is None


def test_the_book_refuses_a_second_order_with_the_same_id():
    book = OrderBook()
    book.add(order())
    with pytest.raises(ValueError, match="01JTEST"):
        book.add(order())
    with pytest.raises(KeyError):
        book.update("nope", OrderUpdate(), T0)


updates = st.builds(
    OrderUpdate,
    status=st.none() | st.sampled_from(list(Status)),
    traded=st.none() | st.integers(0, 12),
    average_price=st.none() | st.floats(0.01, 100.0),
    reject_reason=st.none() | st.just("reason"),
)


@settings(max_examples=300)
@given(volume=st.integers(1, 10), sequence=st.lists(updates, max_size=12))
def test_any_sequence_only_moves_forward(volume, sequence):
    state = order(volume=volume)
    for update in sequence:
        new = advance(state, update, T0)
        if new is None:
            continue
        assert new.traded >= state.traded
        assert new.traded <= volume
        assert (new.status is Status.ALL_TRADED) == (new.traded == volume)
        if state.status.is_final:
            # Only a completing fill changes a final order's status.
            assert new.status in (state.status, Status.ALL_TRADED) or (
                (state.status, new.status) == (Status.REJECTED, Status.CANCELLED)
            )
        else:
            assert RANK[new.status] >= RANK[state.status]
        if new.traded > 0:
            assert new.status not in (Status.NOT_TRADED, Status.SUBMITTING)
            assert new.status is not Status.REJECTED
        state = new


def test_order_ids_are_26_characters_unique_and_time_ordered():
    clock = SimulatedClock(T0)
    first = [new_order_id(clock) for _ in range(1_000)]
    clock.advance(0.001)
    later = new_order_id(clock)
    assert len(set(first)) == 1_000
    assert all(len(order_id) == 26 for order_id in first)
    assert all(later > order_id for order_id in first)
    restarted = SimulatedClock(T0)  # a restart at the same simulated time
    assert new_order_id(restarted) not in first


def option(symbol: str) -> ContractData:
    parsed = parse_option_symbol(symbol)
    return ContractData(
        symbol=symbol, product=Product.OPTION, exchange=Exchange.SMART, multiplier=100,
        underlying_symbol=parsed.root, root=parsed.root, expiry=parsed.expiry,
        strike=float(parsed.strike), right=parsed.right,
    )  # fmt: skip


CONTRACTS = {
    "SPY": ContractData(symbol="SPY", product=Product.ETF, exchange=Exchange.SMART),
    "SPY261218C00450000": option("SPY261218C00450000"),
    "SPY261218P00440000": option("SPY261218P00440000"),
    "IC1": ContractData(symbol="IC1", product=Product.COMBO, exchange=Exchange.SMART),
}
TYPES = (OrderType.MARKET, OrderType.LIMIT)


def request(**changes: object) -> OrderRequest:
    fields: dict[str, object] = {
        "symbol": "SPY", "direction": Direction.LONG, "order_type": OrderType.LIMIT,
        "volume": 1, "price": 450.0,
    }  # fmt: skip
    return OrderRequest(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"order_type": OrderType.STOP, "price": None, "trigger_price": 440.0},
         "order_type 'stop' is not supported here (supported: limit, market)"),
        ({"price": math.inf}, "price must be a finite number, got inf"),
        ({"order_type": OrderType.MARKET, "price": 450.0}, "price must be None for a market order"),
        ({"symbol": "QQQ"}, "symbol 'QQQ' is not a known contract"),
        ({"symbol": "x", "price": -1.2, "legs": (Leg("SPY261218C00450000", 1),)},
         "legs: a combo needs at least two legs"),
        ({"symbol": "x", "price": -1.2, "legs": (Leg("SPY261218C00450000", 1), Leg("NOPE", -1))},
         "legs: 'NOPE' is not a known contract"),
        ({"symbol": "x", "price": -1.2, "legs": (Leg("SPY261218C00450000", 1), Leg("IC1", -1))},
         "legs: 'IC1' is itself a combo"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_naming_the_field(changes, named):
    with pytest.raises(OrderRejected) as raised:
        check_request(request(**changes), CONTRACTS.get, TYPES)
    assert raised.value.reason == named


def test_good_requests_pass_including_a_credit_combo():
    check_request(request(), CONTRACTS.get, TYPES)
    check_request(request(order_type=OrderType.MARKET, price=None), CONTRACTS.get, TYPES)
    legs = (Leg("SPY261218C00450000", -1), Leg("SPY261218P00440000", -1))
    check_request(request(symbol="strangle", price=-3.15, legs=legs), CONTRACTS.get, TYPES)


def test_the_record_itself_refuses_zero_volume_and_nan_price():
    with pytest.raises(ValueError, match="volume"):
        request(volume=0)
    with pytest.raises(ValueError, match="price must be a number, got nan"):
        request(price=math.nan)
