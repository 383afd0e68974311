"""DatabaseEngine on SQLite and the real PostgreSQL: listings, orders, trades, strategies."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import attrs
import pytest
import sqlalchemy
from loguru import logger

from otrade.clock import SimulatedClock
from otrade.constants import Direction, OrderType, Status
from otrade.database import repository
from otrade.database.engine import DatabaseEngine
from otrade.database.schema import option_listings
from otrade.engine import MainEngine
from otrade.errors import DatabaseError
from otrade.event import EVENT_COMMISSION, EVENT_CONTRACT, EVENT_TRADE, Event, EventEngine
from otrade.objects import CommissionData, Leg, OrderRequest, StrategyData, TradeData
from otrade.plugins import PluginRegistry
from otrade.settings import (
    DatabaseSettings,
    LogSettings,
    MarketDataSettings,
    Secret,
    Settings,
)
from tests.fakes.chains import sample_listings, spx_and_spxw, spy_weeklies

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.fixture
def log_lines():
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG")
    yield lines
    logger.remove(sink)


class Harness:
    """A MainEngine in synchronous mode on a simulated clock, with the built-in engines."""

    def __init__(self, tmp_path, database_url: str, start: datetime = START, **database) -> None:
        self.clock = SimulatedClock(start)
        self.settings = Settings(
            data_directory=tmp_path,
            log=LogSettings(console=False),
            database=DatabaseSettings(url=Secret(database_url), **database),
            # No datafeed: the simulated one would store its own listings.
            marketdata=MarketDataSettings(feed=""),
        )
        registry = PluginRegistry()
        registry.load(entry_points=False)
        self.main = MainEngine(
            self.settings,
            clock=self.clock,
            event_engine=EventEngine(clock=self.clock, threaded=False),
            plugins=registry,
        )
        self.database = self.main.get_engine("database")
        assert isinstance(self.database, DatabaseEngine)
        self.seen_trades: list[TradeData] = []
        self.main.event_engine.register(EVENT_TRADE, lambda e: self.seen_trades.append(e.data))

    def pump(self) -> None:
        self.main.event_engine.process_pending()
        self.database.flush()

    def close(self) -> None:
        self.main.close()


@pytest.fixture
def harness(tmp_path, database_url):
    harness = Harness(tmp_path, database_url)
    yield harness
    harness.close()


def trade(trade_id: str, **changes: object) -> TradeData:
    fields = {
        "trade_id": trade_id,
        "order_id": "01ORDER",
        "gateway_name": "paper",
        "symbol": "SPY261218C00450000",
        "direction": Direction.LONG,
        "price": 4.25,
        "volume": 2,
        "time": START,
        "commission": 1.3,
        "strategy": "wheel",
    } | changes
    return TradeData(**fields)  # type: ignore[arg-type]


def put(harness: Harness, event_type: str, data: object) -> None:
    harness.main.event_engine.put(Event(event_type, data))
    harness.pump()


# -- listings -----------------------------------------------------------------------------


def test_listings_round_trip_exactly_and_spx_never_collides_with_spxw(harness):
    listings = sample_listings()
    assert harness.database.upsert_contracts(listings).result(10) == len(listings)
    stored = {c.symbol: c for c in harness.database.get_listings()}
    for contract in listings:
        assert stored[contract.symbol] == attrs.evolve(contract, gateway_name="")
    spx = stored["SPX261218C05000000"]
    spxw = stored["SPXW261218C05000000"]
    assert (spx.root, spx.last_trade_date) == ("SPX", date(2026, 12, 17))
    assert (spxw.root, spxw.last_trade_date) == ("SPXW", date(2026, 12, 18))
    assert spx.underlying_symbol == spxw.underlying_symbol == "SPX"
    assert stored["AAPL1261218C00150000"].root == "AAPL1"
    only_spx = harness.database.get_listings("SPX")
    assert {c.symbol for c in only_spx} == {"SPX"} | {c.symbol for c in spx_and_spxw()}


def test_upsert_is_idempotent_and_a_redownload_moves_last_seen_only(harness):
    listings = spy_weeklies(weeks=1)
    harness.database.upsert_contracts(listings).result(10)
    harness.clock.advance(timedelta(days=1))
    changed = attrs.evolve(listings[0], broker_id="123456")
    harness.database.upsert_contracts([changed, *listings[1:]]).result(10)
    engine = sqlalchemy.create_engine(harness.settings.database.url.get_secret_value())
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.select(option_listings)).all()
    engine.dispose()
    assert len(rows) == len(listings)
    first = next(row for row in rows if row.symbol == listings[0].symbol)
    assert first.first_seen == START
    assert first.last_seen == START + timedelta(days=1)
    assert first.broker_id == "123456"


def test_gateway_contracts_are_batched_to_storage_but_stored_ones_are_not_rewritten(
    tmp_path, database_url
):
    first = Harness(tmp_path, database_url)
    for contract in sample_listings():
        first.main.event_engine.put(Event(EVENT_CONTRACT, contract))
    first.main.event_engine.process_pending()
    assert first.database.get_listings() == []  # buffered until the next timer event
    first.clock.advance(1)
    first.pump()  # the timer event wrote the buffer
    assert len(first.database.get_listings()) == len(sample_listings())
    first.close()

    second = Harness(tmp_path, database_url, start=START + timedelta(hours=1))
    try:
        second.pump()
        assert second.main.get_contract("SPXW261218P05050000") is not None
        assert second.main.get_contract("SPY") is not None
        # Reloaded contracts (gateway_name "") are not written back: last_seen stays.
        engine = sqlalchemy.create_engine(database_url)
        with engine.connect() as connection:
            last_seen = connection.execute(
                sqlalchemy.select(sqlalchemy.func.max(option_listings.c.last_seen))
            ).scalar_one()
        engine.dispose()
        assert last_seen == START + timedelta(seconds=1)
    finally:
        second.close()


@pytest.mark.parametrize(
    ("now", "kept"),
    [
        # 22:00 in New York on Dec 18: SPXW (last trade Dec 18) is still listed today.
        (datetime(2026, 12, 19, 3, 0, tzinfo=UTC), {"SPXW"}),
        # 01:00 in New York on Dec 19: everything of Dec 18 has expired.
        (datetime(2026, 12, 19, 6, 0, tzinfo=UTC), set()),
    ],
)
def test_purge_uses_the_last_trade_date_in_new_york(tmp_path, database_url, now, kept):
    harness = Harness(tmp_path, database_url)
    try:
        harness.database.upsert_contracts(spx_and_spxw()).result(10)
        harness.clock.set_time(now)
        purged = harness.database.purge_expired_listings().result(10)
        roots = {c.root for c in harness.database.get_listings() if c.is_option}
        assert roots == kept
        assert purged == 8 - 4 * len(kept)
    finally:
        harness.close()


# -- trades -------------------------------------------------------------------------------


def test_a_trade_is_committed_before_any_handler_sees_it(harness):
    committed_when_seen: list[bool] = []
    harness.main.event_engine.register(
        EVENT_TRADE,
        lambda e: committed_when_seen.append(harness.database.has_trade(e.data.trade_id)),
    )
    put(harness, EVENT_TRADE, trade("exec-1"))
    assert committed_when_seen == [True]
    assert [t.trade_id for t in harness.seen_trades] == ["exec-1"]


def test_a_repeated_execution_id_changes_nothing_and_is_not_seen_twice(harness, log_lines):
    put(harness, EVENT_TRADE, trade("exec-1"))
    put(harness, EVENT_TRADE, trade("exec-1", price=9.99))
    assert [t.trade_id for t in harness.seen_trades] == ["exec-1"]
    stored = harness.database.get_trades("wheel")
    assert [(t.trade_id, t.price) for t in stored] == [("exec-1", 4.25)]
    assert "trade exec-1 is already booked; ignored" in "".join(log_lines)


def test_a_trade_that_cannot_be_stored_is_held_back_then_released_once(
    harness, monkeypatch, log_lines
):
    real = repository.record_trade
    failures = iter([True, False])

    def flaky(connection, record):
        if next(failures, False):
            raise DatabaseError("disk full")
        return real(connection, record)

    monkeypatch.setattr(repository, "record_trade", flaky)
    put(harness, EVENT_TRADE, trade("exec-7"))
    assert harness.seen_trades == []
    assert "could not store trade exec-7; held back" in "".join(log_lines)
    put(harness, EVENT_TRADE, trade("exec-7"))  # the broker repeats it meanwhile
    assert harness.seen_trades == []
    harness.clock.advance(1)
    harness.pump()
    harness.pump()
    assert [t.trade_id for t in harness.seen_trades] == ["exec-7"]
    assert harness.database.has_trade("exec-7")


def commission(trade_id: str, amount: float) -> CommissionData:
    return CommissionData(trade_id=trade_id, gateway_name="ib", commission=amount, time=START)


def test_a_late_commission_is_stored_in_its_trade_before_handlers_see_it(harness):
    seen: list[tuple[str, float]] = []
    harness.main.event_engine.register(
        EVENT_COMMISSION,
        lambda e: seen.append(
            (e.data.trade_id, harness.database.get_trades("wheel")[0].commission)
        ),
    )
    put(harness, EVENT_TRADE, trade("exec-1", commission=0.0))
    put(harness, EVENT_COMMISSION, commission("exec-1", 2.6))
    assert seen == [("exec-1", 2.6)]
    assert [t.commission for t in harness.database.get_trades("wheel")] == [2.6]


def test_a_commission_before_its_trade_is_held_and_written_with_the_trade(harness):
    seen: list[str] = []
    harness.main.event_engine.register(EVENT_COMMISSION, lambda e: seen.append(e.data.trade_id))
    put(harness, EVENT_COMMISSION, commission("exec-2", 1.95))
    assert seen == []  # no trade yet: nobody sees it on its own
    put(harness, EVENT_TRADE, trade("exec-2", commission=0.0))
    assert [t.commission for t in harness.seen_trades] == [1.95]
    assert [t.commission for t in harness.database.get_trades("wheel")] == [1.95]
    assert seen == []


def test_a_commission_for_a_held_back_trade_travels_with_it(harness, monkeypatch):
    real = repository.record_trade
    failures = iter([True])

    def flaky(connection, record):
        if next(failures, False):
            raise DatabaseError("disk full")
        return real(connection, record)

    monkeypatch.setattr(repository, "record_trade", flaky)
    put(harness, EVENT_TRADE, trade("exec-3", commission=0.0))
    put(harness, EVENT_COMMISSION, commission("exec-3", 0.65))
    harness.clock.advance(1)
    harness.pump()
    harness.pump()
    assert [(t.trade_id, t.commission) for t in harness.seen_trades] == [("exec-3", 0.65)]
    assert [t.commission for t in harness.database.get_trades("wheel")] == [0.65]


def test_a_commission_must_be_finite():
    with pytest.raises(ValueError, match="commission must be a finite number, got nan"):
        commission("exec-1", float("nan"))


def test_trades_for_a_strategy_come_back_in_time_order(harness):
    later = trade("exec-b", time=START + timedelta(seconds=5), direction=Direction.SHORT)
    earlier = trade("exec-a", time=START)
    tie = trade(
        "exec-c", time=START + timedelta(seconds=5), combo_id="01COMBO", leg_role="short_put"
    )
    other = trade("exec-x", strategy="other")
    for record in (later, earlier, tie, other):
        put(harness, EVENT_TRADE, record)
    assert harness.database.get_trades("wheel") == [earlier, later, tie]
    assert harness.database.get_trades("other") == [other]


# -- orders -------------------------------------------------------------------------------


def test_orders_keep_their_latest_state_and_a_deduplicated_status_history(harness):
    request = OrderRequest(
        symbol="iron_condor",
        direction=Direction.SHORT,
        order_type=OrderType.LIMIT,
        volume=2,
        price=-1.35,
        legs=(Leg("SPY261218P00440000", 1, "long_put"), Leg("SPY261218P00445000", -1, "short_put")),
        strategy="condors",
        reference="entry",
        combo_signature="iron_condor:short:SPY:261218:440/445",
    )
    submitted = request.create_order("01COMBO", "paper", START)
    accepted = attrs.evolve(
        submitted,
        status=Status.NOT_TRADED,
        broker_order_id="17",
        broker_perm_id="998877",
        time=START + timedelta(seconds=1),
    )
    part = attrs.evolve(
        accepted,
        status=Status.PART_TRADED,
        traded=1,
        average_price=-1.35,
        time=START + timedelta(seconds=2),
    )
    for order in (submitted, accepted, accepted, part):
        harness.main.event_engine.put(Event("order", order))
    harness.pump()
    assert harness.database.get_order("01COMBO") == part
    history = harness.database.get_order_history("01COMBO")
    assert [(h.status, h.traded, h.time) for h in history] == [
        (Status.SUBMITTING, 0, START),
        (Status.NOT_TRADED, 0, START + timedelta(seconds=1)),
        (Status.PART_TRADED, 1, START + timedelta(seconds=2)),
    ]
    assert harness.database.get_order("missing") is None


def test_a_rejected_order_keeps_its_reason(harness):
    request = OrderRequest(
        symbol="SPY", direction=Direction.LONG, order_type=OrderType.MARKET, volume=1
    )
    rejected = attrs.evolve(
        request.create_order("01REJ", "paper", START),
        status=Status.REJECTED,
        reject_reason="no quote for SPY",
    )
    put(harness, "order", rejected)
    assert harness.database.get_order("01REJ").reject_reason == "no quote for SPY"
    assert harness.database.get_order_history("01REJ")[0].reason == "no quote for SPY"


# -- strategies ---------------------------------------------------------------------------


def test_strategy_records_round_trip_and_replace(harness):
    record = StrategyData(
        name="wheel",
        class_path="examples.wheel:Wheel",
        portfolio="SPY",
        parameters={"delta": 0.3, "dte": [30, 45]},
        variables={"cycles": 2},
        state="running",
    )
    harness.database.save_strategy(record).result(10)
    loaded = harness.database.get_strategy("wheel")
    assert loaded == attrs.evolve(record, updated_at=START)
    harness.clock.advance(60)
    harness.database.save_strategy(attrs.evolve(record, state="stopped")).result(10)
    assert harness.database.get_strategy("wheel").state == "stopped"
    assert [r.name for r in harness.database.get_strategies()] == ["wheel"]
    assert harness.database.get_strategy("nobody") is None


def test_a_strategy_value_that_is_not_json_is_refused_by_name_and_nothing_is_written(harness):
    record = StrategyData(name="bad", class_path="x:Y", variables={"when": START})
    with pytest.raises(ValueError, match=r"strategy 'bad': variables\['when'\] = datetime"):
        harness.database.save_strategy(record)
    assert harness.database.get_strategy("bad") is None


# -- concurrency --------------------------------------------------------------------------


def test_readers_run_while_the_writer_writes(harness):
    errors: list[BaseException] = []
    done = threading.Event()
    reads = [0]

    def read() -> None:
        try:
            while not done.is_set():
                harness.database.get_listings("SPX")
                harness.database.get_trades("wheel")
                reads[0] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    futures = [
        harness.database.upsert_contracts(
            spy_weeklies(first_expiry=date(2027, 1, 1) + timedelta(weeks=batch), weeks=1)
        )
        for batch in range(20)
    ]
    for number in range(50):
        put(harness, EVENT_TRADE, trade(f"exec-{number}", time=START + timedelta(seconds=number)))
    for future in futures:
        future.result(30)
    done.set()
    reader.join(10)
    assert errors == []
    assert reads[0] > 0
    assert len(harness.database.get_listings("SPY")) == 20 * 42
    assert len(harness.database.get_trades("wheel")) == 50


def test_a_newer_schema_stops_the_main_engine_cleanly_and_is_left_untouched(tmp_path, database_url):
    Harness(tmp_path, database_url).close()
    engine = sqlalchemy.create_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(DatabaseError, match=r"9999 .*newer than this otrade"):
        Harness(tmp_path, database_url)
    with engine.connect() as connection:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    engine.dispose()
    assert revision == "9999"
    assert not any(t.name in ("otrade-io", "otrade-db-writer") for t in threading.enumerate())


def test_queued_writes_commit_together_and_a_failing_one_fails_alone(tmp_path):
    from otrade.database.engine import _Writer

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'group.db'}")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE t (v INTEGER PRIMARY KEY)"))
    writer = _Writer(engine)
    release = threading.Event()
    try:
        blocker = writer.submit(lambda connection: release.wait(5))
        insert = "INSERT INTO t (v) VALUES ({})"
        first = writer.submit(lambda c: c.execute(sqlalchemy.text(insert.format(1))).rowcount)
        duplicate = writer.submit(lambda c: c.execute(sqlalchemy.text(insert.format(1))))
        second = writer.submit(lambda c: c.execute(sqlalchemy.text(insert.format(2))).rowcount)
        release.set()  # the three above now run as one group, which fails and reruns
        assert blocker.result(5) is True
        assert (first.result(5), second.result(5)) == (1, 1)
        with pytest.raises(DatabaseError):
            duplicate.result(5)
    finally:
        assert writer.stop(5)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT v FROM t ORDER BY v")).scalars().all()
    engine.dispose()
    assert rows == [1, 2]
