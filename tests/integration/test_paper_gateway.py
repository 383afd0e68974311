"""PaperGateway through a real MainEngine: fills, combos, stale quotes, bad input, storage."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import create_engine, text

from otrade.clock import SimulatedClock
from otrade.constants import Direction, Exchange, OrderType, Product, Status
from otrade.engine import MainEngine
from otrade.errors import GatewayError, OrderRejected
from otrade.event import (
    EVENT_ACCOUNT,
    EVENT_CONTRACT,
    EVENT_LOG,
    EVENT_ORDER,
    EVENT_POSITION,
    EVENT_QUOTE,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.gateways.paper import PaperGateway
from otrade.objects import (
    AccountData,
    ContractData,
    Leg,
    OrderData,
    OrderRequest,
    PositionData,
    QuoteData,
    TradeData,
)
from otrade.plugins import PluginRegistry
from otrade.settings import LogSettings, MarketDataSettings, Settings
from otrade.symbols import build_option_symbol, parse_option_symbol

START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
EXPIRY = date(2026, 12, 18)


def option_symbol(right: str, strike: float) -> str:
    return build_option_symbol("SPY", EXPIRY, right, strike)


PUT_430, PUT_440 = option_symbol("P", 430), option_symbol("P", 440)
CALL_460, CALL_470 = option_symbol("C", 460), option_symbol("C", 470)


def option_contract(symbol: str) -> ContractData:
    parsed = parse_option_symbol(symbol)
    return ContractData(
        symbol=symbol, product=Product.OPTION, exchange=Exchange.SMART, multiplier=100,
        underlying_symbol="SPY", root="SPY", expiry=parsed.expiry,
        strike=float(parsed.strike), right=parsed.right,
    )  # fmt: skip


class Harness:
    """A MainEngine with no datafeed: the test puts the quotes itself."""

    def __init__(self, tmp_path, feed: str = "") -> None:
        self.clock = SimulatedClock(START)
        settings = self.settings(tmp_path, feed)
        registry = PluginRegistry()
        registry.load(entry_points=False)
        self.events = EventEngine(clock=self.clock, threaded=False)
        self.main = MainEngine(settings, clock=self.clock, plugins=registry,
                               event_engine=self.events)  # fmt: skip
        self.orders: list[OrderData] = []
        self.trades: list[TradeData] = []
        self.positions: list[PositionData] = []
        self.accounts: list[AccountData] = []
        self.warnings: list[str] = []
        self.events.register(EVENT_ORDER, lambda e: self.orders.append(e.data))
        self.events.register(EVENT_TRADE, lambda e: self.trades.append(e.data))
        self.events.register(EVENT_POSITION, lambda e: self.positions.append(e.data))
        self.events.register(EVENT_ACCOUNT, lambda e: self.accounts.append(e.data))
        self.events.register(EVENT_LOG, self._log)
        gateway = self.main.get_gateway("paper")
        assert isinstance(gateway, PaperGateway)
        self.gateway = gateway
        if not feed:
            self.put(EVENT_CONTRACT, ContractData(symbol="SPY", product=Product.ETF,
                                                  exchange=Exchange.SMART))  # fmt: skip
            for symbol in (PUT_430, PUT_440, CALL_460, CALL_470):
                self.put(EVENT_CONTRACT, option_contract(symbol))
        self.pump()

    def settings(self, tmp_path, feed: str) -> Settings:
        return Settings(
            data_directory=tmp_path,
            log=LogSettings(console=False),
            marketdata=MarketDataSettings(feed=feed),
        )

    def _log(self, event: Event) -> None:
        if event.data.level == "WARNING":
            self.warnings.append(event.data.message)

    def put(self, kind: str, data: object) -> None:
        self.events.put(Event(kind, data))

    def quote(self, symbol: str, bid: float | None, ask: float | None) -> None:
        self.put(EVENT_QUOTE, QuoteData(symbol=symbol, time=self.clock.now(), bid=bid, ask=ask))
        self.pump()

    def pump(self) -> None:
        self.events.process_pending(timers=False)

    def connect(self, **settings: object) -> None:
        self.main.connect("paper", settings)
        self.pump()

    def send(self, **fields: object) -> str:
        request = OrderRequest(**({"direction": Direction.LONG, "volume": 1} | fields))  # type: ignore[arg-type]
        order_id = self.main.send_order(request, "paper")
        self.pump()
        return order_id

    def last_order(self, order_id: str) -> OrderData:
        return [o for o in self.orders if o.order_id == order_id][-1]


@pytest.fixture
def harness(tmp_path):
    harness = Harness(tmp_path)
    harness.connect()
    yield harness
    harness.main.close()


def test_a_market_buy_fills_at_the_ask_with_commission_cash_and_position(harness):
    harness.quote(CALL_460, 3.10, 3.30)
    order_id = harness.send(symbol=CALL_460, order_type=OrderType.MARKET, volume=3)
    statuses = [o.status for o in harness.orders if o.order_id == order_id]
    assert statuses == [Status.SUBMITTING, Status.NOT_TRADED, Status.ALL_TRADED]
    (trade,) = harness.trades
    assert (trade.symbol, trade.direction, trade.volume, trade.price) == (
        CALL_460, Direction.LONG, 3, 3.30)  # fmt: skip
    assert trade.commission == pytest.approx(1.95)  # 3 x 0.65
    assert trade.trade_id == f"{order_id}-1"
    assert harness.last_order(order_id).average_price == pytest.approx(3.30)
    assert harness.positions[-1].quantity == 3
    assert harness.positions[-1].average_price == pytest.approx(3.30)
    # 100,000 - 3 x 3.30 x 100 - 1.95
    assert harness.accounts[-1].balance == pytest.approx(99_008.05, abs=1e-9)


def test_the_minimum_commission_and_slippage_apply_to_a_market_sell(tmp_path):
    harness = Harness(tmp_path)
    try:
        harness.connect(slippage_ticks=2, minimum_commission=1.5)
        harness.quote(PUT_440, 2.00, 2.20)
        harness.send(symbol=PUT_440, order_type=OrderType.MARKET, direction=Direction.SHORT)
        (trade,) = harness.trades
        assert (trade.direction, trade.price, trade.commission) == (Direction.SHORT, 1.98, 1.5)
        assert harness.positions[-1].quantity == -1
        assert harness.accounts[-1].balance == pytest.approx(100_000 + 198.0 - 1.5)
    finally:
        harness.main.close()


def test_a_limit_order_rests_until_the_market_crosses_and_fills_at_the_far_side(harness):
    harness.quote(CALL_460, 3.10, 3.30)
    order_id = harness.send(symbol=CALL_460, order_type=OrderType.LIMIT, price=3.00, volume=2)
    assert harness.last_order(order_id).status is Status.NOT_TRADED
    assert harness.trades == []
    harness.quote(CALL_460, 2.90, 3.05)  # still above the limit
    assert harness.trades == []
    harness.quote(CALL_460, 2.80, 2.95)
    (trade,) = harness.trades
    assert (trade.price, trade.volume) == (2.95, 2)
    assert harness.last_order(order_id).status is Status.ALL_TRADED
    harness.quote(CALL_460, 2.00, 2.10)
    assert len(harness.trades) == 1  # filled once


def test_a_marketable_limit_fills_on_arrival_at_or_better_than_its_limit(harness):
    harness.quote(PUT_430, 1.00, 1.10)
    harness.send(symbol=PUT_430, order_type=OrderType.LIMIT, price=0.95,
                 direction=Direction.SHORT)  # fmt: skip
    (trade,) = harness.trades
    assert (trade.direction, trade.price) == (Direction.SHORT, 1.00)


def iron_condor(direction: Direction, **fields: object) -> dict[str, object]:
    legs = (
        Leg(PUT_430, 1, "long_put"),
        Leg(PUT_440, -1, "short_put"),
        Leg(CALL_460, -1, "short_call"),
        Leg(CALL_470, 1, "long_call"),
    )
    return {"symbol": "SPY iron condor", "direction": direction, "legs": legs} | fields


def quote_condor(harness: Harness) -> None:
    harness.quote(PUT_430, 1.00, 1.10)
    harness.quote(PUT_440, 2.00, 2.20)
    harness.quote(CALL_460, 3.10, 3.30)
    harness.quote(CALL_470, 1.40, 1.50)


def test_a_two_lot_iron_condor_trades_two_of_each_leg_at_the_net_credit(harness):
    quote_condor(harness)
    order_id = harness.send(**iron_condor(Direction.LONG, order_type=OrderType.LIMIT,
                                          price=-2.00, volume=2))  # fmt: skip
    by_role = {trade.leg_role: trade for trade in harness.trades}
    assert {role: (t.direction, t.volume, t.price) for role, t in by_role.items()} == {
        "long_put": (Direction.LONG, 2, 1.10),
        "short_put": (Direction.SHORT, 2, 2.00),
        "short_call": (Direction.SHORT, 2, 3.10),
        "long_call": (Direction.LONG, 2, 1.50),
    }
    assert {trade.combo_id for trade in harness.trades} == {order_id}
    order = harness.last_order(order_id)
    # net per unit: 1.10 - 2.00 - 3.10 + 1.50 = -2.50, a credit at least the 2.00 asked
    assert (order.status, order.traded, order.average_price) == (Status.ALL_TRADED, 2,
                                                                  pytest.approx(-2.50))  # fmt: skip
    # 8 contracts x 0.65 = 5.20, shared equally by the four legs
    assert [t.commission for t in harness.trades] == [1.30, 1.30, 1.30, 1.30]
    assert harness.accounts[-1].balance == pytest.approx(100_000 + 2 * 2.50 * 100 - 5.20)
    assert len({t.trade_id for t in harness.trades}) == 4


def test_a_combo_limit_that_is_not_marketable_rests(harness):
    quote_condor(harness)
    order_id = harness.send(**iron_condor(Direction.LONG, order_type=OrderType.LIMIT,
                                          price=-2.60))  # fmt: skip
    assert harness.trades == []
    harness.quote(PUT_440, 2.10, 2.30)  # the net credit grows to 2.60
    assert harness.last_order(order_id).status is Status.ALL_TRADED
    assert harness.last_order(order_id).average_price == pytest.approx(-2.60)


def test_selling_the_combo_reverses_every_leg(harness):
    quote_condor(harness)
    harness.send(**iron_condor(Direction.SHORT, order_type=OrderType.MARKET))
    sides = {t.leg_role: (t.direction, t.price) for t in harness.trades}
    assert sides == {
        "long_put": (Direction.SHORT, 1.00), "short_put": (Direction.LONG, 2.20),
        "short_call": (Direction.LONG, 3.30), "long_call": (Direction.SHORT, 1.40),
    }  # fmt: skip


def test_a_market_order_on_a_stale_or_missing_quote_is_rejected_with_the_reason(harness):
    order_id = harness.send(symbol=CALL_460, order_type=OrderType.MARKET)
    assert harness.last_order(order_id).status is Status.REJECTED
    assert harness.last_order(order_id).reject_reason == f"no quote for {CALL_460}"
    harness.quote(CALL_460, 3.10, 3.30)
    harness.clock.advance(45)
    stale = harness.send(symbol=CALL_460, order_type=OrderType.MARKET)
    reason = harness.last_order(stale).reject_reason
    assert reason == f"the quote for {CALL_460} is stale: 45 s old (max 30 s)"
    harness.quote(CALL_460, None, 3.30)
    no_bid = harness.send(symbol=CALL_460, order_type=OrderType.MARKET, direction=Direction.SHORT)
    assert harness.last_order(no_bid).reject_reason == f"no bid for {CALL_460}"
    assert harness.trades == []


def test_a_limit_order_waits_out_a_stale_quote(harness):
    harness.quote(CALL_460, 2.80, 2.95)
    harness.clock.advance(31)
    order_id = harness.send(symbol=CALL_460, order_type=OrderType.LIMIT, price=3.00)
    assert harness.last_order(order_id).status is Status.NOT_TRADED
    harness.quote(CALL_460, 2.80, 2.95)
    assert harness.last_order(order_id).status is Status.ALL_TRADED


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"symbol": "QQQ", "order_type": OrderType.MARKET}, "symbol 'QQQ' is not a known contract"),
        ({"symbol": CALL_460, "order_type": OrderType.STOP, "trigger_price": 3.0},
         "order_type 'stop' is not supported here (supported: limit, market)"),
        ({"symbol": CALL_460, "order_type": OrderType.LIMIT, "price": math.inf},
         "price must be a finite number, got inf"),
    ],
)  # fmt: skip
def test_bad_orders_are_refused_before_anything_is_created(harness, fields, reason):
    harness.quote(CALL_460, 3.10, 3.30)
    with pytest.raises(OrderRejected) as raised:
        harness.send(**fields)
    assert raised.value.reason == reason
    assert harness.orders == []
    assert harness.trades == []


def test_zero_volume_and_nan_prices_never_make_a_request():
    with pytest.raises(ValueError, match="volume"):
        OrderRequest(symbol=CALL_460, direction=Direction.LONG, order_type=OrderType.MARKET,
                     volume=0)  # fmt: skip
    with pytest.raises(ValueError, match="nan"):
        OrderRequest(symbol=CALL_460, direction=Direction.LONG, order_type=OrderType.LIMIT,
                     volume=1, price=math.nan)  # fmt: skip


def test_cancel_a_resting_order_and_a_warning_for_an_unknown_one(harness):
    harness.quote(CALL_460, 3.10, 3.30)
    order_id = harness.send(symbol=CALL_460, order_type=OrderType.LIMIT, price=2.00)
    resting = harness.last_order(order_id)
    harness.main.cancel_order(resting.create_cancel_request())
    harness.pump()
    assert harness.last_order(order_id).status is Status.CANCELLED
    harness.quote(CALL_460, 1.00, 1.50)
    assert harness.trades == []  # a cancelled order never fills
    harness.main.cancel_order(resting.create_cancel_request())
    harness.pump()
    assert harness.warnings[-1] == f"cancel of order {order_id}: it is cancelled"


def test_orders_need_a_connection_and_settings_are_checked_by_name(tmp_path):
    harness = Harness(tmp_path)
    try:
        with pytest.raises(GatewayError, match="paper: not connected"):
            harness.send(symbol=CALL_460, order_type=OrderType.MARKET)
        with pytest.raises(GatewayError, match="paper settings: unknown key 'comission'"):
            harness.connect(comission=1.0)
        with pytest.raises(GatewayError, match="commission_per_contract must be a number >= 0"):
            harness.connect(commission_per_contract=-0.65)
        with pytest.raises(GatewayError, match="max_quote_age_s must be > 0"):
            harness.connect(max_quote_age_s=0)
        with pytest.raises(GatewayError, match="slippage_ticks must be an integer >= 0"):
            harness.connect(slippage_ticks=0.5)
    finally:
        harness.main.close()


def test_closing_cancels_resting_orders(tmp_path):
    harness = Harness(tmp_path)
    harness.connect()
    harness.quote(CALL_460, 3.10, 3.30)
    order_id = harness.send(symbol=CALL_460, order_type=OrderType.LIMIT, price=2.00)
    harness.main.disconnect("paper")
    harness.pump()
    last = harness.last_order(order_id)
    assert (last.status, last.reject_reason) == (Status.CANCELLED, "paper gateway closed")
    harness.main.close()


def test_against_the_simulated_market_trades_are_stored_once(tmp_path):
    harness = Harness(tmp_path, feed="simulated")
    try:
        harness.connect()
        market = harness.main.get_engine("marketdata")
        chain = market.get_portfolio("SPY").find_chain("SPY", EXPIRY)
        market.register_chains("test", [chain])
        harness.clock.advance(1)
        harness.events.process_pending()
        atm = next(o for o in chain.options if o.strike == 450.0 and o.is_call)
        order_id = harness.send(symbol=atm.symbol, order_type=OrderType.MARKET, volume=2)
        (trade,) = harness.trades
        assert trade.price == atm.ask
        database = harness.main.get_engine("database")
        database.flush()
        url = f"sqlite:///{tmp_path / 'otrade.db'}"
        with create_engine(url).connect() as connection:
            rows = connection.execute(text("SELECT trade_id, volume, price FROM trades")).all()
        assert rows == [(f"{order_id}-1", 2, atm.ask)]
    finally:
        harness.main.close()


def test_a_buy_write_is_priced_per_share_of_its_option(harness):
    harness.quote("SPY", 450.00, 450.10)
    harness.quote(CALL_460, 3.10, 3.30)
    legs = (Leg("SPY", 100, "underlying"), Leg(CALL_460, -1, "short_call"))
    order_id = harness.send(symbol="SPY covered call", order_type=OrderType.LIMIT,
                            price=446.90, volume=2, legs=legs)  # fmt: skip
    # net per unit: 450.10 - 3.10 = 447.00 per share, above the 446.90 limit
    assert harness.last_order(order_id).status is Status.NOT_TRADED
    harness.quote("SPY", 449.90, 450.00)
    order = harness.last_order(order_id)
    assert (order.status, order.average_price) == (Status.ALL_TRADED, pytest.approx(446.90))
    assert {(t.symbol, t.direction, t.volume, t.price) for t in harness.trades} == {
        ("SPY", Direction.LONG, 200, 450.00), (CALL_460, Direction.SHORT, 2, 3.10)}  # fmt: skip
    # 200 shares x 0.005 = 1.00 and 2 contracts x 0.65 = 1.30: 2.30 in all
    assert sum(t.commission for t in harness.trades) == pytest.approx(2.30)
    assert harness.accounts[-1].balance == pytest.approx(100_000 - 200 * 450.00 + 2 * 310.0 - 2.30)
