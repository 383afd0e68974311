"""IbGateway (real ib_async on the IO loop) against the TWS wire-protocol fake on 127.0.0.1.

Each test runs a real MainEngine with the DatabaseEngine on a SQLite file, so trades go
through the storage gate exactly as in production.  ib_async's own log is watched: any
decoder error fails the test.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import date

import pytest

from otrade.clock import LiveClock
from otrade.constants import Direction, Exchange, OrderType, Product, Status
from otrade.engine import MainEngine
from otrade.errors import GatewayError, OrderRejected
from otrade.event import (
    EVENT_COMMISSION,
    EVENT_CONTRACT,
    EVENT_LOG,
    EVENT_ORDER,
    EVENT_POSITION,
    EVENT_QUOTE,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.gateways.ib import IbGateway
from otrade.objects import (
    CommissionData,
    ContractData,
    Leg,
    OrderData,
    OrderRequest,
    PositionData,
    QuoteData,
    SubscribeRequest,
    TradeData,
)
from otrade.plugins import PluginRegistry
from otrade.settings import LogSettings, MarketDataSettings, Settings
from otrade.symbols import from_ib_local_symbol, parse_option_symbol
from tests.fakes.tws import FakeTws, running_tws

SPY_CALL_450 = "SPY261218C00450000"
SPY_PUT_440 = "SPY261218P00440000"
SPY_CALL_460 = "SPY261218C00460000"


@pytest.fixture
def ib_log_errors() -> Iterator[list[str]]:
    """Every ib_async log record about decoding; the test fails if there is one."""
    found: list[str] = []

    class Catcher(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage()
            if "Error handling fields" in text or "Decode" in text or record.exc_info:
                found.append(text)

    handler = Catcher(level=logging.DEBUG)
    root = logging.getLogger("ib_async")
    root.addHandler(handler)
    yield found
    root.removeHandler(handler)
    assert found == [], f"ib_async reported decoder errors: {found}"


def listing(fake: FakeTws, symbol: str, *, with_con_id: bool = True) -> ContractData:
    """The otrade listing of one of the fake's options (as a listing sync stores it)."""
    options = [c for c in fake.contracts if c.sec_type == "OPT"]
    con_id = next(c.con_id for c in options if from_ib_local_symbol(c.local_symbol) == symbol)
    parsed = parse_option_symbol(symbol)
    return ContractData(
        symbol=symbol, product=Product.OPTION, exchange=Exchange.SMART, multiplier=100,
        underlying_symbol="SPY", root=parsed.root, expiry=parsed.expiry,
        strike=float(parsed.strike), right=parsed.right,
        broker_id=str(con_id) if with_con_id else "",
    )  # fmt: skip


class Harness:
    """A MainEngine (synchronous events, live clock) with the IB gateway and a SQLite file."""

    def __init__(self, tmp_path, fake: FakeTws) -> None:
        self.fake = fake
        self.clock = LiveClock()
        settings = Settings(
            data_directory=tmp_path,
            log=LogSettings(console=False),
            marketdata=MarketDataSettings(feed=""),
        )
        registry = PluginRegistry()
        registry.load(entry_points=False)
        self.events = EventEngine(clock=self.clock, threaded=False)
        self.main = MainEngine(settings, clock=self.clock, plugins=registry,
                               event_engine=self.events)  # fmt: skip
        gateway = self.main.get_gateway("ib")
        assert isinstance(gateway, IbGateway)
        self.gateway = gateway
        self.orders: list[OrderData] = []
        self.trades: list[TradeData] = []
        self.commissions: list[CommissionData] = []
        self.positions: list[PositionData] = []
        self.quotes: list[QuoteData] = []
        self.logs: list[str] = []
        self.events.register(EVENT_ORDER, lambda e: self.orders.append(e.data))
        self.events.register(EVENT_TRADE, lambda e: self.trades.append(e.data))
        self.events.register(EVENT_COMMISSION, lambda e: self.commissions.append(e.data))
        self.events.register(EVENT_POSITION, lambda e: self.positions.append(e.data))
        self.events.register(EVENT_QUOTE, lambda e: self.quotes.append(e.data))
        self.events.register(EVENT_LOG, lambda e: self.logs.append(e.data.message))
        spy = ContractData(symbol="SPY", product=Product.ETF, exchange=Exchange.SMART)
        spx = ContractData(symbol="SPX", product=Product.INDEX, exchange=Exchange.SMART)
        for contract in (spy, spx, listing(fake, SPY_CALL_450), listing(fake, SPY_PUT_440),
                         listing(fake, SPY_CALL_460, with_con_id=False)):  # fmt: skip
            self.events.put(Event(EVENT_CONTRACT, contract))
        self.pump()

    def pump(self) -> None:
        self.events.process_pending(timers=False)

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self.pump()
            if predicate():
                return
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.01)

    def connect(self, **settings: object) -> None:
        options = {"host": self.fake.host, "port": self.fake.port, "client_id": 7,
                   "timeout_s": 3.0, "reconnect_min_s": 0.05, "reconnect_max_s": 0.2}  # fmt: skip
        self.main.connect("ib", options | settings)
        self.wait_for(lambda: self.gateway.connected)

    def send(self, **fields: object) -> str:
        values = {"direction": Direction.LONG, "volume": 1} | fields
        return self.main.send_order(OrderRequest(**values), "ib")  # type: ignore[arg-type]

    def order(self, order_id: str) -> OrderData:
        return [o for o in self.orders if o.order_id == order_id][-1]

    def statuses(self, order_id: str) -> list[Status]:
        seen = [o.status for o in self.orders if o.order_id == order_id]
        return [status for i, status in enumerate(seen) if i == 0 or seen[i - 1] != status]

    def ib_id(self, order_id: str) -> int:
        self.wait_for(lambda: bool(self.order(order_id).broker_order_id))
        return int(self.order(order_id).broker_order_id)

    def stored_trades(self) -> list[TradeData]:
        database = self.main.get_engine("database")
        database.flush()
        return database.get_trades("")


@pytest.fixture
def fake() -> Iterator[FakeTws]:
    with running_tws(today=date(2026, 12, 2)) as server:
        yield server


@pytest.fixture
def harness(tmp_path, fake, ib_log_errors) -> Iterator[Harness]:
    harness = Harness(tmp_path, fake)
    harness.connect()
    yield harness
    harness.main.close()


def test_a_limit_order_is_placed_exactly_and_fills_with_its_commission(harness, fake):
    order_id = harness.send(symbol=SPY_CALL_450, order_type=OrderType.LIMIT, price=10.05,
                            volume=2)  # fmt: skip
    ib_id = harness.ib_id(order_id)
    placed = fake.wait_for_order(ib_id, client_id=7).placed
    assert (placed.action, placed.total_quantity, placed.order_type, placed.lmt_price) == (
        "BUY", 2.0, "LMT", 10.05)  # fmt: skip
    assert (placed.order_ref, placed.contract.con_id) == (
        order_id,
        int(listing(fake, SPY_CALL_450).broker_id),
    )
    harness.wait_for(lambda: harness.order(order_id).status is Status.NOT_TRADED)
    (exec_id,) = fake.fill(ib_id, 2, 10.0, client_id=7, commission=1.30)
    harness.wait_for(lambda: harness.order(order_id).status is Status.ALL_TRADED)
    harness.wait_for(lambda: len(harness.trades) == 1)
    (trade,) = harness.trades
    assert (trade.trade_id, trade.order_id, trade.symbol, trade.direction, trade.volume,
            trade.price) == (exec_id, order_id, SPY_CALL_450, Direction.LONG, 2, 10.0)  # fmt: skip
    harness.wait_for(lambda: harness.stored_trades()[0].commission == pytest.approx(1.30))
    assert harness.statuses(order_id) == [Status.SUBMITTING, Status.NOT_TRADED, Status.ALL_TRADED]
    assert harness.order(order_id).average_price == pytest.approx(10.0)


def test_a_partial_fill_then_the_rest(harness, fake):
    order_id = harness.send(symbol=SPY_PUT_440, order_type=OrderType.LIMIT, price=4.0, volume=3,
                            direction=Direction.SHORT)  # fmt: skip
    ib_id = harness.ib_id(order_id)
    fake.wait_for_order(ib_id, client_id=7)
    fake.fill(ib_id, 1, 4.0, client_id=7)
    harness.wait_for(lambda: harness.order(order_id).traded == 1)
    assert harness.order(order_id).status is Status.PART_TRADED
    fake.fill(ib_id, 2, 4.1, client_id=7)
    harness.wait_for(lambda: harness.order(order_id).status is Status.ALL_TRADED)
    harness.wait_for(lambda: len(harness.trades) == 2)
    assert [(t.direction, t.volume, t.price) for t in harness.trades] == [
        (Direction.SHORT, 1, 4.0), (Direction.SHORT, 2, 4.1)]  # fmt: skip


def test_an_option_without_a_con_id_is_qualified_by_its_local_symbol(harness, fake):
    order_id = harness.send(symbol=SPY_CALL_460, order_type=OrderType.MARKET)
    placed = fake.wait_for_order(harness.ib_id(order_id), client_id=7).placed
    expected = next(c.con_id for c in fake.contracts if c.local_symbol == "SPY   261218C00460000")
    assert (placed.order_type, placed.contract.con_id) == ("MKT", expected)


def test_cancel(harness, fake):
    order_id = harness.send(symbol=SPY_CALL_450, order_type=OrderType.LIMIT, price=1.0)
    fake.wait_for_order(harness.ib_id(order_id), client_id=7)
    harness.wait_for(lambda: harness.order(order_id).status is Status.NOT_TRADED)
    harness.main.cancel_order(harness.order(order_id).create_cancel_request())
    harness.wait_for(lambda: harness.order(order_id).status is Status.CANCELLED)
    assert harness.trades == []


def test_a_rejected_order_keeps_ibs_reason(harness, fake):
    fake.reject_next_order("Insufficient margin")
    order_id = harness.send(symbol=SPY_CALL_450, order_type=OrderType.LIMIT, price=10.0)
    harness.wait_for(lambda: harness.order(order_id).status is Status.REJECTED)
    reason = harness.order(order_id).reject_reason
    assert reason.startswith("201: ")
    assert "Insufficient margin" in reason


def test_a_combo_goes_out_as_a_bag_with_reduced_ratios_and_books_per_leg(harness, fake):
    legs = (Leg(SPY_CALL_450, 2, "long_call"), Leg(SPY_PUT_440, -2, "short_put"))
    order_id = harness.send(symbol="SPY risk reversal", order_type=OrderType.LIMIT, price=-0.40,
                            volume=3, legs=legs, strategy="rr")  # fmt: skip
    ib_id = harness.ib_id(order_id)
    placed = fake.wait_for_order(ib_id, client_id=7).placed
    call_id = int(listing(fake, SPY_CALL_450).broker_id)
    put_id = int(listing(fake, SPY_PUT_440).broker_id)
    assert placed.contract.sec_type == "BAG"
    assert [(leg.con_id, leg.ratio, leg.action) for leg in placed.combo_legs] == [
        (call_id, 1, "BUY"), (put_id, 1, "SELL")]  # fmt: skip
    # ratios 2:2 reduced to 1:1, so 3 combo units are 6 IB units at half the net price
    assert (placed.total_quantity, placed.lmt_price) == (6.0, -0.20)
    fake.fill(ib_id, 6, -0.20, client_id=7, leg_prices={call_id: 10.0, put_id: 10.2})
    harness.wait_for(lambda: len(harness.trades) == 2)
    harness.wait_for(lambda: harness.order(order_id).status is Status.ALL_TRADED)
    done = harness.order(order_id)
    assert (done.traded, done.average_price) == (3, pytest.approx(-0.40))  # per otrade unit
    by_role = {t.leg_role: t for t in harness.trades}
    assert {role: (t.symbol, t.direction, t.volume, t.price, t.combo_id, t.strategy)
            for role, t in by_role.items()} == {
        "long_call": (SPY_CALL_450, Direction.LONG, 6, 10.0, order_id, "rr"),
        "short_put": (SPY_PUT_440, Direction.SHORT, 6, 10.2, order_id, "rr"),
    }  # fmt: skip
    time.sleep(0.1)
    harness.pump()
    assert len(harness.trades) == 2  # the BAG summary execution is not booked


def test_a_repeated_execution_is_booked_once(harness, fake):
    order_id = harness.send(symbol=SPY_CALL_450, order_type=OrderType.LIMIT, price=10.0)
    ib_id = harness.ib_id(order_id)
    fake.wait_for_order(ib_id, client_id=7)
    (exec_id,) = fake.fill(ib_id, 1, 10.0, client_id=7)
    harness.wait_for(lambda: len(harness.trades) == 1)
    fake.resend_execution(exec_id, with_commission=True)
    time.sleep(0.2)
    harness.pump()
    assert [t.trade_id for t in harness.stored_trades()] == [exec_id]
    assert len(harness.trades) == 1


def test_a_fill_while_disconnected_is_booked_once_after_the_reconnect(harness, fake):
    order_id = harness.send(symbol=SPY_CALL_450, order_type=OrderType.LIMIT, price=10.0,
                            volume=2)  # fmt: skip
    ib_id = harness.ib_id(order_id)
    fake.wait_for_order(ib_id, client_id=7)
    (first,) = fake.fill(ib_id, 1, 10.0, client_id=7)
    harness.wait_for(lambda: len(harness.trades) == 1)
    fake.drop_connections(stay_down=True)
    harness.wait_for(lambda: not harness.gateway.connected)
    (second,) = fake.fill(ib_id, 1, 10.1, client_id=7)  # nobody connected to hear it
    started = time.monotonic()
    fake.restore()
    harness.wait_for(lambda: len(harness.trades) == 2, timeout_s=10.0)
    reconnect_s = time.monotonic() - started
    harness.wait_for(lambda: harness.order(order_id).status is Status.ALL_TRADED)
    assert [t.trade_id for t in harness.trades] == [first, second]
    assert sorted(t.trade_id for t in harness.stored_trades()) == sorted([first, second])
    assert any("reconnected" in line for line in harness.logs)
    assert reconnect_s < 5.0


def test_a_restart_between_fill_and_commission_stores_the_trade_once(tmp_path, fake, ib_log_errors):
    first = Harness(tmp_path, fake)
    first.connect()
    order_id = first.send(symbol=SPY_CALL_450, order_type=OrderType.LIMIT, price=10.0)
    ib_id = first.ib_id(order_id)
    fake.wait_for_order(ib_id, client_id=7)
    (exec_id,) = fake.fill(ib_id, 1, 10.0, client_id=7, report_commission=False)
    first.wait_for(lambda: len(first.trades) == 1)
    assert first.stored_trades()[0].commission == 0.0
    first.main.close()  # the process stops before the commission report

    second = Harness(tmp_path, fake)
    try:
        second.connect()
        second.wait_for(lambda: order_id in {o.order_id for o in second.orders})
        fake.send_commission(exec_id, 0.65)
        second.wait_for(lambda: [c.trade_id for c in second.commissions] == [exec_id])
        stored = second.stored_trades()
        assert [(t.trade_id, t.commission) for t in stored] == [(exec_id, 0.65)]
        assert second.trades == []  # the replayed execution was already booked
    finally:
        second.main.close()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"symbol": "QQQ", "order_type": OrderType.MARKET}, "symbol 'QQQ' is not a known contract"),
        ({"symbol": "SPX", "order_type": OrderType.MARKET},
         "symbol 'SPX' is an index, which cannot be traded"),
        ({"symbol": SPY_CALL_450, "order_type": OrderType.STOP, "trigger_price": 9.0},
         "order_type 'stop' is not supported here (supported: limit, market)"),
        ({"symbol": SPY_CALL_450, "order_type": OrderType.LIMIT, "price": float("inf")},
         "price must be a finite number, got inf"),
    ],
)  # fmt: skip
def test_bad_orders_never_reach_ib(harness, fake, fields, reason):
    with pytest.raises(OrderRejected) as raised:
        harness.send(**fields)
    assert raised.value.reason == reason
    time.sleep(0.05)
    assert fake.placed_orders == []
    assert harness.orders == []


def test_orders_need_a_connection(tmp_path, fake, ib_log_errors):
    harness = Harness(tmp_path, fake)
    try:
        with pytest.raises(GatewayError, match="ib: not connected"):
            harness.send(symbol=SPY_CALL_450, order_type=OrderType.MARKET)
        with pytest.raises(GatewayError, match="ib settings: unknown key 'clientid'"):
            harness.main.connect("ib", {"clientid": 3})
    finally:
        harness.main.close()


def test_quotes_and_a_1101_resubscribes(harness, fake):
    harness.main.subscribe(SubscribeRequest(symbol=SPY_CALL_450), "ib")
    harness.wait_for(lambda: any(q.symbol == SPY_CALL_450 and q.bid for q in harness.quotes))
    requests = len(fake.received(msg_id=1, client_id=7))
    fake.send_connectivity(1101)
    harness.wait_for(lambda: len(fake.received(msg_id=1, client_id=7)) > requests)
    assert any("1101" in line for line in harness.logs)


def test_10147_does_not_cancel_an_order_that_may_have_filled(harness, fake):
    order_id = harness.send(symbol=SPY_CALL_450, order_type=OrderType.LIMIT, price=10.0)
    ib_id = harness.ib_id(order_id)
    fake.wait_for_order(ib_id, client_id=7)
    harness.wait_for(lambda: harness.order(order_id).status is Status.NOT_TRADED)
    fake.send_error(10147, f"OrderId {ib_id} that needs to be cancelled is not found.",
                    req_id=ib_id, client_id=7)  # fmt: skip
    harness.wait_for(lambda: any("10147" in line for line in harness.logs))
    assert harness.order(order_id).status is Status.NOT_TRADED
    fake.fill(ib_id, 1, 10.0, client_id=7)
    harness.wait_for(lambda: len(harness.trades) == 1)
    assert harness.trades[0].order_id == order_id
    harness.wait_for(lambda: harness.order(order_id).status is Status.ALL_TRADED)


def test_an_option_ib_does_not_know_is_rejected_with_error_200(harness, fake):
    unknown = "SPY261218C00999000"
    parsed = parse_option_symbol(unknown)
    harness.events.put(Event(EVENT_CONTRACT, ContractData(
        symbol=unknown, product=Product.OPTION, exchange=Exchange.SMART, multiplier=100,
        underlying_symbol="SPY", root="SPY", expiry=parsed.expiry, strike=999.0,
        right=parsed.right,
    )))  # fmt: skip
    harness.pump()
    order_id = harness.send(symbol=unknown, order_type=OrderType.MARKET)
    harness.wait_for(lambda: harness.order(order_id).status is Status.REJECTED)
    assert harness.order(order_id).reject_reason == (
        f"symbol {unknown!r}: IB has no contract for it (error 200)")  # fmt: skip
    assert fake.placed_orders == []


@pytest.mark.parametrize(
    ("code", "level_text"),
    [(1100, "IB 1100: connectivity between IB and TWS lost"),
     (1102, "IB 1102: connectivity restored, data kept"),
     (354, "IB 354: Requested market data is not subscribed."),
     (162, "IB 162: Historical Market Data Service error message:API historical data query "
           "cancelled: 1")],
)  # fmt: skip
def test_connectivity_and_data_errors_become_log_lines(harness, fake, code, level_text):
    messages = {354: "Requested market data is not subscribed.",
                162: "Historical Market Data Service error message:API historical data query "
                     "cancelled: 1"}  # fmt: skip
    if code in messages:
        fake.send_error(code, messages[code], req_id=1, client_id=7)
    else:
        fake.send_connectivity(code)
    harness.wait_for(lambda: any(line.startswith(level_text) for line in harness.logs))
    assert harness.gateway.connected


def test_an_execution_of_no_otrade_order_is_logged_and_booked(harness, fake):
    from datetime import UTC, datetime

    from tests.fakes.tws import FakeExecution, _exec_details_fields

    contract = fake.contract(int(listing(fake, SPY_CALL_450).broker_id))
    manual = FakeExecution(
        exec_id="0000e0a1.01.01", order_id=0, client_id=7, perm_id=1_234_567, account="DU1234567",
        contract=contract, side="BOT", shares=2.0, price=3.5, cum_qty=2.0, avg_price=3.5,
        time=datetime(2026, 12, 2, 15, 0, tzinfo=UTC), exchange="CBOE", order_ref="hedge in TWS",
    )  # fmt: skip
    fake.send_raw(_exec_details_fields(-1, manual), client_id=7)
    harness.wait_for(lambda: len(harness.trades) == 1)
    (trade,) = harness.trades
    assert (trade.trade_id, trade.order_id, trade.symbol, trade.volume, trade.price) == (
        "0000e0a1.01.01", "ib-perm-1234567", SPY_CALL_450, 2, 3.5)  # fmt: skip
    assert any("belongs to no order of this gateway" in line for line in harness.logs)
    assert harness.orders == []


def test_a_working_combo_of_a_strategy_fills_into_that_strategy_after_a_restart(
    tmp_path, fake, ib_log_errors
):
    first = Harness(tmp_path, fake)
    first.connect()
    legs = (Leg(SPY_CALL_450, 2, "long_call"), Leg(SPY_PUT_440, -2, "short_put"))
    order_id = first.send(symbol="SPY risk reversal", order_type=OrderType.LIMIT, price=-0.40,
                          volume=3, legs=legs, strategy="rr", reference="entry")  # fmt: skip
    ib_id = first.ib_id(order_id)
    fake.wait_for_order(ib_id, client_id=7)
    first.main.close()  # otrade stops; the order keeps working at IB

    second = Harness(tmp_path, fake)
    try:
        second.connect()
        second.wait_for(lambda: order_id in {o.order_id for o in second.orders})
        adopted = second.order(order_id)
        # The broker knows none of these: they come back from the stored order.
        assert (adopted.strategy, adopted.reference, adopted.legs, adopted.volume) == (
            "rr", "entry", legs, 3,
        )  # fmt: skip
        call_id = int(listing(fake, SPY_CALL_450).broker_id)
        put_id = int(listing(fake, SPY_PUT_440).broker_id)
        fake.fill(ib_id, 2, -0.20, client_id=7, leg_prices={call_id: 10.0, put_id: 10.2})
        second.wait_for(lambda: len(second.trades) == 2)
        second.wait_for(lambda: second.order(order_id).traded == 1)
        booked = {(t.leg_role, t.symbol, t.volume, t.combo_id, t.strategy) for t in second.trades}
        assert booked == {
            ("long_call", SPY_CALL_450, 2, order_id, "rr"),
            ("short_put", SPY_PUT_440, 2, order_id, "rr"),
        }  # fmt: skip
        partial = second.order(order_id)
        assert (partial.status, partial.traded, partial.average_price) == (
            Status.PART_TRADED, 1, pytest.approx(-0.40),
        )  # fmt: skip
        stored = second.main.get_engine("database").get_trades("rr")
        assert sorted(t.leg_role for t in stored) == ["long_call", "short_put"]
    finally:
        second.main.close()


def test_a_fill_made_while_otrade_was_down_is_booked_to_its_strategy(tmp_path, fake, ib_log_errors):
    first = Harness(tmp_path, fake)
    first.connect()
    order_id = first.send(symbol=SPY_CALL_450, order_type=OrderType.LIMIT, price=10.0,
                          volume=2, strategy="wheel", reference="entry")  # fmt: skip
    ib_id = first.ib_id(order_id)
    fake.wait_for_order(ib_id, client_id=7)
    first.main.close()
    (exec_id,) = fake.fill(ib_id, 2, 10.0, client_id=7)  # nobody connected to hear it

    second = Harness(tmp_path, fake)
    try:
        second.connect()
        second.wait_for(lambda: len(second.trades) == 1)
        second.wait_for(lambda: second.order(order_id).status is Status.ALL_TRADED)
        (trade,) = second.trades
        assert (trade.trade_id, trade.order_id, trade.strategy, trade.volume) == (
            exec_id, order_id, "wheel", 2,
        )  # fmt: skip
        assert second.order(order_id).strategy == "wheel"
        stored = second.main.get_engine("database").get_trades("wheel")
        assert [t.trade_id for t in stored] == [exec_id]
    finally:
        second.main.close()
