"""The fake TWS (tests/fakes/tws.py) driven by a real ib_async 2.1.0 client over 127.0.0.1.

Each test runs the client with ``IB.connectAsync`` inside ``asyncio.run`` on the test's
thread while the fake serves from its own thread and loop.  The ``ib_log`` fixture fails a
test when ib_async logs a decoder error: a message the fake got wrong is otherwise dropped
silently by ib_async.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import TypeVar

import pytest
from ib_async import (
    IB,
    ComboLeg,
    CommissionReport,
    Contract,
    Fill,
    Index,
    LimitOrder,
    MarketOrder,
    Option,
    Order,
    Trade,
)

from tests.fakes.tws import BAG_CON_ID, SPX_CON_ID, FakeTws, running_tws

pytestmark = pytest.mark.timeout(30)

ACCOUNT = "DU1234567"
SPY_CALL_450 = "SPY   261218C00450000"
SPY_CALL_460 = "SPY   261218C00460000"
DECODER_PROBLEMS = ("Error handling fields", "Decode error", "Error for ", "timed out",
                    "No order found")  # fmt: skip


class IbLog(logging.Handler):
    """Keeps every ib_async log record; ``problems`` are the ones that fail a test."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def problems(self) -> list[str]:
        return [
            f"{record.name} {record.levelname}: {record.getMessage()}"
            for record in self.records
            if record.exc_info
            or (record.name == "ib_async.Decoder" and record.levelno >= logging.ERROR)
            or any(text in record.getMessage() for text in DECODER_PROBLEMS)
        ]

    def messages(self, level: int = logging.ERROR) -> list[str]:
        return [record.getMessage() for record in self.records if record.levelno >= level]

    def assert_clean(self) -> None:
        if self.problems:
            pytest.fail("ib_async logged decoder errors:\n" + "\n".join(self.problems))


@pytest.fixture
def ib_log() -> Iterator[IbLog]:
    handler = IbLog()
    logger = logging.getLogger("ib_async")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    handler.assert_clean()


@pytest.fixture
def fake() -> Iterator[FakeTws]:
    with running_tws() as server:
        yield server
        assert server.server_errors == []


Scenario = Callable[[IB], Awaitable[None]]
_T = TypeVar("_T")


def run_client(fake: FakeTws, ib_log: IbLog, scenario: Scenario, client_id: int = 1) -> None:
    """Connect a real IB client, run the scenario, disconnect; fail on decoder errors."""

    async def main() -> None:
        ib = IB()
        await ib.connectAsync(fake.host, fake.port, clientId=client_id, timeout=3)
        try:
            await scenario(ib)
        finally:
            ib.disconnect()

    asyncio.run(asyncio.wait_for(main(), 20))
    ib_log.assert_clean()


async def wait_until(predicate: Callable[[], object], timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def qualified(ib: IB, local_symbol: str) -> Contract:
    (contract,) = await ib.qualifyContractsAsync(
        Contract(secType="OPT", localSymbol=local_symbol, exchange="SMART", currency="USD")
    )
    assert contract is not None
    return contract


async def acknowledged(trade: Trade) -> None:
    """Wait until the fake acknowledged the order (so it can be filled)."""
    await wait_until(lambda: trade.orderStatus.status in ("Submitted", "PreSubmitted"))


class Recorder:
    """Collects the arguments of every emit of an ib_async event."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def __call__(self, *args: object) -> None:
        self.calls.append(args)


# -- connection -----------------------------------------------------------------------


def test_connect_completes_the_startup_sync_at_once(fake, ib_log):
    async def scenario(ib: IB) -> None:
        assert ib.isConnected()
        assert ib.client.serverVersion() == 178
        assert ib.managedAccounts() == [ACCOUNT]
        values = {value.tag: value.value for value in ib.accountValues() if not value.modelCode}
        assert values["NetLiquidation"] == "1000000.00"

    started = time.monotonic()
    run_client(fake, ib_log, scenario)
    assert time.monotonic() - started < 2.0
    sent = [message.msg_id for message in fake.received(client_id=1)]
    assert sent[0] == 71  # startApi
    assert {61, 5, 99, 6, 76, 7} <= set(sent)  # every sync request was answered
    assert not [m for m in ib_log.messages() if "timed out" in m]
    assert fake.unhandled == []


def test_a_second_session_with_the_same_client_id_is_refused(fake, ib_log):
    async def scenario(ib: IB) -> None:
        second = IB()
        with pytest.raises((ConnectionError, TimeoutError)):
            await second.connectAsync(fake.host, fake.port, clientId=1, timeout=0.5)
        assert ib.isConnected()

    run_client(fake, ib_log, scenario)
    assert "already in use" in " ".join(ib_log.messages())


def test_connectivity_codes_reach_the_error_event_and_the_socket_stays_up(fake, ib_log):
    errors = Recorder()

    async def scenario(ib: IB) -> None:
        ib.errorEvent += errors
        for code in (1100, 1101, 1102):
            fake.send_connectivity(code)
        await wait_until(lambda: len(errors.calls) == 3)
        assert ib.isConnected()

    run_client(fake, ib_log, scenario)
    assert [(call[0], call[1]) for call in errors.calls] == [(-1, 1100), (-1, 1101), (-1, 1102)]


# -- contracts ------------------------------------------------------------------------


def test_qualify_a_known_option_fills_conid_local_symbol_and_trading_class(fake, ib_log):
    async def scenario(ib: IB) -> None:
        spy = Option("SPY", "20261218", 450, "C", "SMART", tradingClass="SPY")
        spx_monthly = Contract(secType="OPT", localSymbol="SPX   261218C05000000",
                               exchange="SMART", currency="USD")  # fmt: skip
        assert await ib.qualifyContractsAsync(spy, spx_monthly) == [spy, spx_monthly]
        expected = fake.find_contract(SPY_CALL_450)
        assert (spy.conId, spy.localSymbol, spy.tradingClass, spy.multiplier) == (
            expected.con_id, SPY_CALL_450, "SPY", "100",
        )  # fmt: skip
        # the AM-settled monthly: last trade Thursday, OCC date Friday
        assert (spx_monthly.symbol, spx_monthly.tradingClass) == ("SPX", "SPX")
        assert spx_monthly.lastTradeDateOrContractMonth == "20261217"
        details = await ib.reqContractDetailsAsync(spx_monthly)
        assert details[0].realExpirationDate == "20261218"
        assert details[0].underConId == SPX_CON_ID

    run_client(fake, ib_log, scenario)


def test_qualify_an_unknown_option_gives_none_and_error_200(fake, ib_log):
    errors = Recorder()

    async def scenario(ib: IB) -> None:
        ib.errorEvent += errors
        unknown = Option("SPY", "20261218", 455, "C", "SMART")
        assert await ib.qualifyContractsAsync(unknown) == [None]
        await wait_until(lambda: errors.calls)

    run_client(fake, ib_log, scenario)
    (req_id, code, message, contract) = errors.calls[0]
    assert (code, message) == (200, "No security definition has been found for the request")
    assert isinstance(contract, Option)
    assert contract.strike == 455
    assert fake.received(9)[-1].fields[2] == str(req_id)


def test_spx_and_spxw_on_the_same_friday_are_ambiguous_without_trading_class(fake, ib_log):
    async def scenario(ib: IB) -> None:
        loose = Option("SPX", "20261218", 5000, "C", "SMART")
        weekly = Option("SPX", "20261218", 5000, "C", "SMART", tradingClass="SPXW")
        assert await ib.qualifyContractsAsync(loose, weekly) == [None, weekly]
        assert weekly.localSymbol == "SPXW  261218C05000000"
        assert weekly.lastTradeDateOrContractMonth == "20261218"

    run_client(fake, ib_log, scenario)
    assert "Ambiguous contract" in " ".join(ib_log.messages(logging.WARNING))


def test_sec_def_opt_params_lists_spx_and_spxw_separately(fake, ib_log):
    async def scenario(ib: IB) -> None:
        spx = Index("SPX", "CBOE", "USD")
        await ib.qualifyContractsAsync(spx)
        chains = await ib.reqSecDefOptParamsAsync("SPX", "", "IND", spx.conId)
        smart = {chain.tradingClass: chain for chain in chains if chain.exchange == "SMART"}
        assert set(smart) == {"SPX", "SPXW"}
        assert {chain.exchange for chain in chains} == {"SMART", "CBOE"}
        assert smart["SPX"].expirations == ["20261217"]
        assert smart["SPXW"].expirations == ["20261204", "20261218"]
        assert smart["SPXW"].strikes == [5000.0, 5050.0]
        assert (smart["SPX"].underlyingConId, smart["SPX"].multiplier) == (str(SPX_CON_ID), "100")

    run_client(fake, ib_log, scenario)


# -- market data ----------------------------------------------------------------------


def test_option_market_data_delivers_bid_ask_and_model_greeks(fake, ib_log):
    con_id = fake.find_contract(SPY_CALL_450).con_id
    fake.set_quote(con_id, bid=7.3, ask=7.45, bid_size=10, ask_size=12, last=7.4,
                   implied_vol=0.185, delta=0.52, gamma=0.021, vega=0.41, theta=-0.19,
                   option_price=7.37, underlying_price=450.0)  # fmt: skip

    async def scenario(ib: IB) -> None:
        option = await qualified(ib, SPY_CALL_450)
        ticker = ib.reqMktData(option)
        await wait_until(lambda: ticker.modelGreeks is not None and ticker.ask == 7.45)
        assert (ticker.bid, ticker.bidSize, ticker.ask, ticker.askSize, ticker.last) == (
            7.3, 10, 7.45, 12, 7.4,
        )  # fmt: skip
        greeks = ticker.modelGreeks
        assert greeks is not None
        assert (greeks.impliedVol, greeks.delta, greeks.gamma, greeks.vega, greeks.theta,
                greeks.optPrice, greeks.undPrice) == (0.185, 0.52, 0.021, 0.41, -0.19, 7.37,
                                                      450.0)  # fmt: skip
        fake.set_quote(con_id, bid=7.5, ask=7.6, delta=0.55)
        await wait_until(lambda: ticker.bid == 7.5 and ticker.modelGreeks.delta == 0.55)
        ib.cancelMktData(option)

    run_client(fake, ib_log, scenario)


def test_without_live_data_a_live_request_gets_354_and_a_delayed_one_delayed_ticks(ib_log):
    errors = Recorder()

    async def scenario(ib: IB) -> None:
        ib.errorEvent += errors
        option = await qualified(ib, SPY_CALL_450)
        ib.reqMktData(option)
        await wait_until(lambda: errors.calls)
        ib.cancelMktData(option)
        ib.reqMarketDataType(3)
        delayed = ib.reqMktData(option, "101")
        await wait_until(lambda: delayed.modelGreeks is not None and delayed.bid > 0)
        assert delayed.marketDataType == 3
        assert delayed.callOpenInterest == 1000

    with running_tws(live_data=False) as server:
        run_client(server, ib_log, scenario)
    requests = [int(message.fields[2]) for message in server.received(1)]
    assert [call[:2] for call in errors.calls] == [(requests[0], 354), (requests[1], 10167)]


# -- orders ---------------------------------------------------------------------------


def test_market_order_fills_with_exec_id_and_a_later_commission_report(fake, ib_log):
    executions = Recorder()
    commissions = Recorder()

    async def scenario(ib: IB) -> None:
        ib.execDetailsEvent += executions
        ib.commissionReportEvent += commissions
        option = await qualified(ib, SPY_CALL_450)
        trade = ib.placeOrder(option, MarketOrder("BUY", 2, orderRef="otrade-1"))
        await acknowledged(trade)
        (exec_id,) = fake.fill(trade.order.orderId, price=7.45, report_commission=False)
        await wait_until(trade.isDone)
        assert trade.orderStatus.status == "Filled"
        (fill,) = trade.fills
        assert (fill.execution.execId, fill.execution.shares, fill.execution.price) == (
            exec_id, 2, 7.45,
        )  # fmt: skip
        assert (fill.execution.side, fill.execution.orderRef) == ("BOT", "otrade-1")
        assert fill.contract.conId == option.conId
        assert commissions.calls == []
        fake.send_commission(exec_id, 1.30)
        await wait_until(lambda: commissions.calls)
        report = commissions.calls[0][2]
        assert isinstance(report, CommissionReport)
        assert (report.execId, report.commission, report.currency) == (exec_id, 1.30, "USD")
        assert fill.commissionReport.commission == 1.30

    run_client(fake, ib_log, scenario)
    assert len(executions.calls) == 1
    (order,) = fake.placed_orders
    assert (order.action, order.total_quantity, order.order_type, order.lmt_price) == (
        "BUY", 2, "MKT", None,
    )  # fmt: skip
    assert (order.contract.con_id, order.order_ref, order.account) == (
        fake.find_contract(SPY_CALL_450).con_id, "otrade-1", "",
    )  # fmt: skip


def test_limit_order_partial_then_full_fill_reports_filled_and_remaining(fake, ib_log):
    async def scenario(ib: IB) -> None:
        option = await qualified(ib, SPY_CALL_450)
        trade = ib.placeOrder(option, LimitOrder("BUY", 5, 7.4, tif="DAY"))
        await acknowledged(trade)
        fake.fill(trade.order.orderId, 2, 7.4)
        await wait_until(lambda: trade.orderStatus.filled == 2)
        status = trade.orderStatus
        assert (status.status, status.filled, status.remaining) == ("Submitted", 2, 3)
        fake.fill(trade.order.orderId, 3, 7.35)
        await wait_until(trade.isDone)
        status = trade.orderStatus
        assert (status.status, status.filled, status.remaining) == ("Filled", 5, 0)
        assert status.avgFillPrice == pytest.approx((2 * 7.4 + 3 * 7.35) / 5)
        assert status.lastFillPrice == 7.35
        assert [fill.execution.cumQty for fill in trade.fills] == [2, 5]

    run_client(fake, ib_log, scenario)
    (order,) = fake.placed_orders
    assert (order.order_type, order.lmt_price, order.tif, order.total_quantity) == (
        "LMT", 7.4, "DAY", 5,
    )  # fmt: skip


def test_cancel_ends_in_cancelled_with_error_202(fake, ib_log):
    errors = Recorder()

    async def scenario(ib: IB) -> None:
        ib.errorEvent += errors
        trade = ib.placeOrder(await qualified(ib, SPY_CALL_450), LimitOrder("BUY", 1, 5.0))
        await acknowledged(trade)
        ib.cancelOrder(trade.order)
        await wait_until(lambda: trade.orderStatus.status == "Cancelled" and errors.calls)
        assert errors.calls[0][:2] == (trade.order.orderId, 202)

    run_client(fake, ib_log, scenario)
    assert fake.open_orders() == []


def test_cancelling_an_unknown_order_gives_error_10147(fake, ib_log):
    errors = Recorder()

    async def scenario(ib: IB) -> None:
        ib.errorEvent += errors
        ib.cancelOrder(Order(orderId=4242))
        await wait_until(lambda: errors.calls)

    run_client(fake, ib_log, scenario)
    assert errors.calls[0][:2] == (4242, 10147)


@pytest.mark.parametrize(("then_status", "final_status"),
                         [(None, "Cancelled"), ("Inactive", "Inactive")])  # fmt: skip
def test_a_rejected_order_reports_error_201_with_its_reason(fake, ib_log, then_status,
                                                            final_status):  # fmt: skip
    errors = Recorder()
    fake.reject_next_order("YOUR ORDER IS NOT ACCEPTED. MARGIN", status=then_status)

    async def scenario(ib: IB) -> None:
        ib.errorEvent += errors
        trade = ib.placeOrder(await qualified(ib, SPY_CALL_450), LimitOrder("SELL", 1, 9.0))
        await wait_until(lambda: trade.orderStatus.status == final_status)
        assert errors.calls[0][:3] == (
            trade.order.orderId, 201, "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. MARGIN",
        )  # fmt: skip
        assert any(entry.errorCode == 201 for entry in trade.log)

    run_client(fake, ib_log, scenario)


def test_what_if_order_returns_margins_without_placing(fake, ib_log):
    async def scenario(ib: IB) -> None:
        option = await qualified(ib, SPY_CALL_450)
        state = await ib.whatIfOrderAsync(option, LimitOrder("BUY", 1, 7.0))
        assert float(state.initMarginChange) == 500.0

    run_client(fake, ib_log, scenario)
    assert fake.placed_orders[0].what_if
    assert fake.open_orders() == []


# -- combos ---------------------------------------------------------------------------


def test_bag_order_sends_its_legs_and_fills_per_leg_with_a_bag_summary(fake, ib_log):
    commissions = Recorder()
    long_call = fake.find_contract(SPY_CALL_450).con_id
    short_call = fake.find_contract(SPY_CALL_460).con_id

    async def scenario(ib: IB) -> None:
        ib.commissionReportEvent += commissions
        bag = Contract(secType="BAG", symbol="SPY", exchange="SMART", currency="USD",
                       comboLegs=[ComboLeg(conId=long_call, ratio=1, action="BUY",
                                           exchange="SMART"),
                                  ComboLeg(conId=short_call, ratio=2, action="SELL",
                                           exchange="SMART")])  # fmt: skip
        trade = ib.placeOrder(bag, LimitOrder("BUY", 3, 1.25))
        await acknowledged(trade)
        exec_ids = fake.fill(trade.order.orderId, leg_prices={long_call: 7.4, short_call: 3.1})
        await wait_until(lambda: trade.isDone() and len(commissions.calls) == 2)
        legs = [fill for fill in trade.fills if fill.contract.secType == "OPT"]
        assert [
            (f.contract.conId, f.execution.shares, f.execution.side, f.execution.price)
            for f in legs
        ] == [(long_call, 3, "BOT", 7.4), (short_call, 6, "SLD", 3.1)]
        (summary,) = [fill for fill in trade.fills if fill.contract.secType == "BAG"]
        assert (summary.contract.conId, summary.execution.shares, summary.execution.price) == (
            BAG_CON_ID, 3, 1.25,
        )  # fmt: skip
        assert [fill.execution.execId for fill in trade.fills] == exec_ids
        assert trade.filled() == 3
        assert {call[1].execution.execId for call in commissions.calls} == set(exec_ids[:2])
        positions = {p.contract.conId: p.position for p in ib.positions()}
        assert positions == {long_call: 3, short_call: -6}

    run_client(fake, ib_log, scenario)
    (order,) = fake.placed_orders
    assert (order.contract.sec_type, order.total_quantity, order.lmt_price) == ("BAG", 3, 1.25)
    assert [(leg.con_id, leg.ratio, leg.action, leg.exchange) for leg in order.combo_legs] == [
        (long_call, 1, "BUY", "SMART"), (short_call, 2, "SELL", "SMART"),
    ]  # fmt: skip


# -- executions and reconnects --------------------------------------------------------


def test_a_duplicate_execution_is_seen_once(fake, ib_log):
    executions = Recorder()

    async def scenario(ib: IB) -> None:
        ib.execDetailsEvent += executions
        trade = ib.placeOrder(await qualified(ib, SPY_CALL_450), MarketOrder("SELL", 1))
        await acknowledged(trade)
        (exec_id,) = fake.fill(trade.order.orderId, price=7.3, exec_id="0000e0d5.6745a2b1.01.01")
        await wait_until(lambda: trade.fills and trade.fills[0].commissionReport.execId)
        fake.resend_execution(exec_id, with_commission=True)
        assert await ib.reqCurrentTimeAsync()  # a round trip: the duplicate has arrived
        assert [fill.execution.execId for fill in ib.fills()] == [exec_id]
        assert len(trade.fills) == 1

    run_client(fake, ib_log, scenario)
    assert len(executions.calls) == 1


def test_after_a_drop_the_reconnect_replays_the_day_and_the_open_orders(fake, ib_log):
    live = Recorder()

    async def scenario(ib: IB) -> None:
        option = await qualified(ib, SPY_CALL_450)
        first = ib.placeOrder(option, MarketOrder("BUY", 1))
        working = ib.placeOrder(option, LimitOrder("BUY", 2, 7.0))
        resting = ib.placeOrder(option, LimitOrder("SELL", 1, 9.0))
        for trade in (first, working, resting):
            await acknowledged(trade)
        (first_exec,) = fake.fill(first.order.orderId, price=7.45)
        await wait_until(lambda: first.fills and first.fills[0].commissionReport.execId)
        dropped = asyncio.Event()
        ib.disconnectedEvent += dropped.set
        fake.drop_connections(stay_down=True)
        await asyncio.wait_for(dropped.wait(), 3)
        (missed_exec,) = fake.fill(working.order.orderId, price=6.95)  # while disconnected
        with pytest.raises(ConnectionRefusedError):
            await ib.connectAsync(fake.host, fake.port, clientId=1, timeout=2)
        fake.restore()
        ib.execDetailsEvent += live
        await ib.connectAsync(fake.host, fake.port, clientId=1, timeout=3)
        fills: dict[str, Fill] = {fill.execution.execId: fill for fill in ib.fills()}
        assert set(fills) == {first_exec, missed_exec}
        assert fills[missed_exec].execution.shares == 2
        assert fills[missed_exec].commissionReport.commission == 1.30
        assert [trade.order.orderId for trade in ib.openTrades()] == [resting.order.orderId]
        assert ib.openTrades()[0].orderStatus.status == "Submitted"
        completed = {t.order.permId: t.orderStatus.status for t in ib.trades() if t.isDone()}
        assert completed == {first.order.permId: "Filled", working.order.permId: "Filled"}
        assert {p.contract.conId: p.position for p in ib.positions()} == {option.conId: 3}
        again = await ib.reqExecutionsAsync()
        assert sorted(fill.execution.execId for fill in again) == sorted(fills)
        assert len(ib.fills()) == 2

    run_client(fake, ib_log, scenario)
    assert live.calls == []  # replayed executions raise no execDetailsEvent
    assert len(fake.received(7)) == 3


def test_a_client_on_a_dedicated_loop_thread_with_blocking_test_code(fake, ib_log):
    """The gateway's pattern: IB runs on its own loop thread, the test blocks on the fake."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    ib = IB()

    def on_loop(coroutine: Coroutine[object, object, _T]) -> _T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(5)

    async def place() -> Trade:
        put = Contract(conId=fake.find_contract("SPY   261218P00440000").con_id, exchange="SMART")
        await ib.qualifyContractsAsync(put)
        return ib.placeOrder(put, LimitOrder("SELL", 4, 3.0))

    async def disconnect() -> None:
        ib.disconnect()

    try:
        on_loop(ib.connectAsync(fake.host, fake.port, clientId=5, timeout=3))
        trade = on_loop(place())
        assert fake.wait_for_order(trade.order.orderId).placed.total_quantity == 4
        fake.fill(trade.order.orderId, 4)
        fake.wait_until(lambda: trade.orderStatus.status == "Filled")
        on_loop(disconnect())
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    ib_log.assert_clean()
    assert [(p.con_id, p.position, p.avg_cost) for p in fake.positions()] == [
        (fake.find_contract("SPY   261218P00440000").con_id, -4, 300.0)
    ]


# -- robustness -----------------------------------------------------------------------


def test_a_malformed_request_is_kept_as_a_server_error_and_the_fake_goes_on(ib_log):
    async def scenario(ib: IB) -> None:
        ib.client.send(3, 77)  # a placeOrder cut short
        assert await ib.reqCurrentTimeAsync()

    with running_tws() as server:
        run_client(server, ib_log, scenario)
        (error,) = server.server_errors
    assert "ValueError: not enough values to unpack" in error


def test_an_unknown_message_is_recorded_and_ignored(fake, ib_log):
    async def scenario(ib: IB) -> None:
        ib.client.send(999, 1, "whatever")
        assert await ib.reqCurrentTimeAsync()

    run_client(fake, ib_log, scenario)
    (unknown,) = fake.unhandled
    assert (unknown.msg_id, unknown.fields, unknown.client_id) == (999, ("999", "1", "whatever"), 1)


def test_the_log_fixture_catches_a_decoder_error(fake, ib_log):
    async def scenario(ib: IB) -> None:
        fake.send_raw([1, 6, 1])  # a tickPrice with fields missing
        assert await ib.reqCurrentTimeAsync()
        assert ib_log.problems
        ib_log.records.clear()

    run_client(fake, ib_log, scenario)
