"""A combo from the simulated market to paper fills: select by shape, build, send, fill."""

from __future__ import annotations

from datetime import date

import pytest

from otrade.combos import build_combo, opposite_signature
from otrade.combos.payoff import analyze_payoff
from otrade.combos.selection import iron_condor_by_delta
from otrade.constants import Direction, OrderType, Status
from tests.integration.test_paper_gateway import Harness

EXPIRY = date(2026, 12, 18)


@pytest.fixture
def harness(tmp_path):
    harness = Harness(tmp_path, feed="simulated")
    harness.connect()
    market = harness.main.get_engine("marketdata")
    chain = market.get_portfolio("SPY").find_chain("SPY", EXPIRY)
    market.register_chains("condor", [chain])
    for _ in range(2):  # quotes, then local Greeks at the next timer
        harness.clock.advance(1)
        harness.events.process_pending()
    harness.chain = chain
    yield harness
    harness.main.close()


def test_an_iron_condor_picked_by_delta_fills_two_of_each_leg_and_closes(harness):
    legs = iron_condor_by_delta(harness.chain, short_delta=0.16, wing_width=10.0)
    strikes = [option.strike for option in legs.values()]
    assert strikes == sorted(strikes)
    assert strikes[1] - strikes[0] >= 10.0
    combo = build_combo("iron_condor", legs, Direction.LONG, volume=2)
    analysis = analyze_payoff(combo, {option.symbol: option.mid for option in legs.values()})
    assert analysis.premium.per_unit < 0  # a credit
    assert len(analysis.breakevens) == 2

    order_id = harness.main.send_order(combo.order_request(OrderType.MARKET), "paper")
    harness.pump()
    order = harness.last_order(order_id)
    assert (order.status, order.traded, order.combo_signature) == (
        Status.ALL_TRADED, 2, combo.signature)  # fmt: skip
    filled = {trade.leg_role: (trade.symbol, trade.direction, trade.volume)
              for trade in harness.trades}  # fmt: skip
    assert filled == {
        "long_put": (legs["long_put"].symbol, Direction.LONG, 2),
        "short_put": (legs["short_put"].symbol, Direction.SHORT, 2),
        "short_call": (legs["short_call"].symbol, Direction.SHORT, 2),
        "long_call": (legs["long_call"].symbol, Direction.LONG, 2),
    }
    # Sold at the bids and bought at the asks: the fill's net is the far-side credit.
    far_side = (legs["long_put"].ask - legs["short_put"].bid - legs["short_call"].bid
                + legs["long_call"].ask)  # fmt: skip
    assert order.average_price == pytest.approx(far_side)

    closing = combo.reversed()
    assert closing.signature == opposite_signature(combo.signature)
    close_id = harness.main.send_order(closing.order_request(OrderType.MARKET), "paper")
    harness.pump()
    assert harness.last_order(close_id).status is Status.ALL_TRADED
    assert {p.symbol: p.quantity for p in harness.positions}[legs["short_call"].symbol] == 0
