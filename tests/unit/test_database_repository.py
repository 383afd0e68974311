"""Repository properties: the trade ledger is idempotent by execution id and time-ordered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool

from otrade.constants import Direction
from otrade.database import repository
from otrade.database.schema import metadata
from otrade.objects import TradeData

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

trades = st.builds(
    TradeData,
    trade_id=st.sampled_from([f"exec-{n}" for n in range(8)]),
    order_id=st.just("01ORDER"),
    gateway_name=st.just("paper"),
    symbol=st.sampled_from(["SPY", "SPY261218C00450000", "SPXW261218P05000000"]),
    direction=st.sampled_from(Direction),
    price=st.floats(0.01, 10_000, allow_nan=False).map(lambda p: round(p, 2)),
    volume=st.integers(1, 500),
    time=st.integers(0, 5).map(lambda s: START + timedelta(seconds=s)),
    commission=st.floats(0, 20).map(lambda c: round(c, 2)),
    strategy=st.sampled_from(["wheel", "condors"]),
)


def memory_database() -> sqlalchemy.Engine:
    engine = sqlalchemy.create_engine("sqlite://", poolclass=StaticPool)
    metadata.create_all(engine)
    return engine


@settings(max_examples=60, deadline=None)
@given(st.lists(trades, max_size=30))
def test_ledger_keeps_the_first_fill_of_each_execution_id_in_time_order(fills):
    engine = memory_database()
    first: dict[str, TradeData] = {}
    with engine.begin() as connection:
        for fill in fills:
            assert repository.record_trade(connection, fill) is (fill.trade_id not in first)
            first.setdefault(fill.trade_id, fill)
    with engine.connect() as connection:
        for strategy in ("wheel", "condors"):
            expected = [t for t in first.values() if t.strategy == strategy]
            expected.sort(key=lambda t: t.time)  # stable: ties keep their booking order
            assert repository.trades_for_strategy(connection, strategy) == expected
    engine.dispose()
