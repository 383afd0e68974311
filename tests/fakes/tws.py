"""A fake TWS / IB Gateway that speaks the real TWS socket protocol at server version 178.

A real ``ib_async.IB`` client connects to it on 127.0.0.1 and sees what it would see from
TWS: the handshake, the startup synchronisation, contract details, option-chain parameters,
market data with model greeks, order acknowledgements, fills, commission reports, cancels,
rejects and connectivity errors.  The server runs an asyncio loop on its own daemon thread,
so tests drive it from synchronous code (or from the client's own loop on another thread);
every public method is thread-safe and marshals its work onto the server's loop.

Usage::

    with running_tws() as fake:
        ib = IB()
        await ib.connectAsync(fake.host, fake.port, clientId=1)
        trade = ib.placeOrder(option, LimitOrder("BUY", 2, 10.0))
        fake.wait_for_order(trade.order.orderId)     # or poll fake.placed_orders
        fake.fill(trade.order.orderId, 1, 10.0)      # partial fill, commission reported

What it supports
================

* **Connection.** ``API\\0`` + framed ``v157..178`` handshake, answered with version 178 and
  a connection time; ``startApi`` (71) is answered with ``managedAccounts`` (15) and
  ``nextValidId`` (9) and, unless disabled, the farm-status notices 2104/2106/2158.  A second
  session with a client id already in use gets error 326 and is closed, as TWS does.
* **Startup sync** ib_async waits for: ``reqPositions`` (61 → 61*, 62), ``reqOpenOrders``
  (5 → 5*, 3*, 53), ``reqCompletedOrders`` (99 → 101*, 102), ``reqAccountUpdates`` (6 → 6*,
  7*, 8, 54), ``reqAccountUpdatesMulti`` (76 → 73*, 74), ``reqExecutions`` (7 → 11*, 59*,
  55).  Also ``reqIds`` (8), ``reqManagedAccts`` (17), ``reqCurrentTime`` (49),
  ``reqAllOpenOrders`` (16), ``reqGlobalCancel`` (58), ``reqMarketDataType`` (59),
  ``reqAccountSummary`` (62) and the matching cancels.
* **Market.** A list of :class:`FakeContract` (stocks/ETFs, indexes, options with padded
  OCC-style ``localSymbol`` and ``tradingClass``), :func:`default_contracts` for SPY, SPX
  and SPXW.  ``reqContractDetails`` (9 → 10*, 52, or error 200 / 321 for BAG),
  ``reqSecDefOptParams`` (78 → 75 per (exchange, tradingClass), 76), ``reqMktData``
  (1 → 58, 81, tick prices/sizes, option computation 13 for options, 57 for snapshots)
  with values from :meth:`FakeTws.set_quote`; BAG market data is the natural combo price.
* **Orders.** ``placeOrder`` (3) is decoded field by field as ib_async 2.1.0 sends it at
  178 (including BAG combo legs, order combo-leg prices and smart-combo routing params) and
  recorded as a :class:`PlacedOrder`; it is acknowledged with ``openOrder`` (5) and
  ``orderStatus`` (3).  :meth:`FakeTws.fill` produces ``execDetails`` (11), ``orderStatus``
  and ``commissionReport`` (59, now or later via :meth:`FakeTws.send_commission`); a BAG
  fill sends one execution per leg (leg conId, quantity = combo quantity x ratio) and the
  BAG summary execution (conId 28812380).  ``cancelOrder`` (4) gives orderStatus
  ``Cancelled`` + error 202, or error 10147 / 10148; :meth:`FakeTws.reject_next_order`
  makes the next order fail with error 201.
* **Connectivity.** :meth:`FakeTws.drop_connections` aborts every client socket (and with
  ``stay_down=True`` stops listening until :meth:`FakeTws.restore`); executions and orders
  survive, so a reconnecting client gets every execution of the day replayed and its
  still-open orders back.  :meth:`FakeTws.send_connectivity` sends 1100/1101/1102/2110.
* **Recording.** Every decoded client message is kept as a :class:`ClientMessage`; message
  ids without a handler are recorded (``handled=False``) and ignored; an exception inside
  a handler is kept in :attr:`FakeTws.server_errors` and never stops the server.  Nothing is
  printed or logged.

Wire format and layouts it relies on
====================================

Every message after the 4-byte ``API\\0`` prefix is a 4-byte big-endian length and a payload
of text fields each terminated by ``\\0``.  Server → client layouts at version 178 (field 0
is the message id; "ver" is a version number the client skips)::

    error 4              4, 2, reqId, code, message, advancedOrderRejectJson
    nextValidId 9        9, 1, orderId                      (exactly 3 fields)
    managedAccounts 15   15, 1, "ACC1,ACC2"                 (exactly 3 fields, non-empty)
    contractDetails 10   10, reqId, symbol, secType, lastTradeDate, strike, right, exchange,
                         currency, localSymbol, marketName, tradingClass, conId, minTick,
                         multiplier, orderTypes, validExchanges, priceMagnifier, underConId,
                         longName, primaryExchange, contractMonth, industry, category,
                         subcategory, timeZoneId, tradingHours, liquidHours, evRule,
                         evMultiplier, 0 secIds, aggGroup, underSymbol, underSecType,
                         marketRuleIds, realExpirationDate, stockType, minSize,
                         sizeIncrement, suggestedSizeIncrement           (no version field)
    secDefOptParams 75   75, reqId, exchange, underConId, tradingClass, multiplier,
                         nExp, exp..., nStrikes, strike...
    tickPrice 1          1, 6, reqId, tickType, price, size, attrMask   (exactly 7)
    tickSize 2           2, 6, reqId, tickType, size
    tickOptionComp 21    21, reqId, tickType, tickAttrib, iv, delta, optPrice, pvDividend,
                         gamma, vega, theta, undPrice   (exactly 12; -1/-2 = not computed)
    orderStatus 3        3, orderId, status, filled, remaining, avgFillPrice, permId,
                         parentId, lastFillPrice, clientId, whyHeld, mktCapPrice
    openOrder 5          127 fields for a plain order (see ``_open_order_fields``)
    completedOrder 101   see ``_completed_order_fields``
    execDetails 11       11, reqId (-1 live), orderId, 11 contract fields, execId, time,
                         account, exchange, side, shares, price, permId, clientId,
                         liquidation, cumQty, avgPrice, orderRef, evRule, evMultiplier,
                         modelCode, lastLiquidity, pendingPriceRevision      (32 fields)
    commissionReport 59  59, 1, execId, commission, currency, realizedPNL, yield,
                         yieldRedemptionDate                                 (exactly 8)
    position 61          61, 3, account, 11 contract fields, position, avgCost (exactly 16)
    portfolioValue 7     7, 8, conId, symbol, secType, lastTradeDate, strike, right,
                         multiplier, primaryExchange, currency, localSymbol, tradingClass,
                         position, marketPrice, marketValue, averageCost, unrealizedPNL,
                         realizedPNL, account                                (exactly 20)

Client → server ``placeOrder`` at 178: 0 ``3``, 1 orderId, 2-13 contract (conId, symbol,
secType, lastTradeDate, strike, right, multiplier, exchange, primaryExchange, currency,
localSymbol, tradingClass), 14 secIdType, 15 secId, 16 action, 17 totalQuantity,
18 orderType, 19 lmtPrice, 20 auxPrice, 21 tif, 22 ocaGroup, 23 account, 24 openClose,
25 origin, 26 orderRef, 27 transmit, 28 parentId, 29-34 blockOrder .. hidden; for a BAG
then: leg count + 8 fields a leg (conId, ratio, action, exchange, openClose, shortSaleSlot,
designatedLocation, exemptCode), order-combo-leg count + a price each, smart-combo-routing
count + tag/value pairs; then the long tail, parsed as far as ``whatIf``.

Quirks worth knowing (all verified against ib_async 2.1.0): ib_async drops an error message
without the trailing ``advancedOrderRejectJson`` field at 178; it learns an order's permId
only from ``openOrder``, without which no ``commissionReportEvent`` fires; executions
answering ``reqExecutions`` never raise ``execDetailsEvent``; it keeps vega/theta at -2
(the "not computed" sentinel) instead of None.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import itertools
import math
import re
import struct
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final, ParamSpec, TypedDict, TypeVar, Unpack

SERVER_VERSION: Final = 178
BAG_CON_ID: Final = 28812380
"""The generic conId IB reports for every BAG (combo) contract."""

DONE_STATUSES: Final = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})
UNSET_DOUBLE_TEXT: Final = "1.7976931348623157E308"

CONNECTIVITY_MESSAGES: Final = {
    1100: "Connectivity between IB and Trader Workstation has been lost.",
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
    2110: "Connectivity between Trader Workstation and server is broken. "
    "It will be restored automatically.",
}
FARM_STATUS: Final = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)
NO_SECURITY_DEFINITION: Final = "No security definition has been found for the request"

# Tick types: live, and the delayed equivalents used after reqMarketDataType(3 or 4).
_LIVE_TICKS: Final = {"bid": 1, "ask": 2, "last": 4, "close": 9, "volume": 8, "greeks": 13}
_DELAYED_TICKS: Final = {"bid": 66, "ask": 67, "last": 68, "close": 75, "volume": 74,
                         "greeks": 83}  # fmt: skip
_CALL_OPEN_INTEREST: Final = 27
_PUT_OPEN_INTEREST: Final = 28

_P = ParamSpec("_P")
_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------
# Public records


@dataclass(frozen=True, slots=True)
class FakeContract:
    """One instrument the fake knows, in IB's terms.

    Attributes:
        con_id: IB contract id, unique within the fake.
        symbol: The (underlying) symbol, ``SPX`` for both SPX and SPXW options.
        sec_type: ``STK``, ``IND`` or ``OPT``.
        exchange: The exchange reported when the request names none (``SMART``, ``CBOE``).
        currency: ``USD``.
        last_trade_date: ``YYYYMMDD`` last trading day (options), IB's
            ``lastTradeDateOrContractMonth``.
        strike: Option strike, 0.0 otherwise.
        right: ``C`` or ``P`` for options, empty otherwise.
        multiplier: ``"100"`` for options, empty otherwise (a string, as on the wire).
        local_symbol: ``SPY`` for a stock; the OCC symbol with the root padded to six
            characters for an option (``SPY   261218C00450000``).
        trading_class: ``SPY``, ``SPX`` (AM-settled monthly) or ``SPXW``.
        primary_exchange: Listing exchange (``ARCA`` for SPY).
        valid_exchanges: Comma-separated exchanges a request may name; reqSecDefOptParams
            reports one entry per exchange here.
        long_name: ASCII description.
        underlying_con_id: The underlying's conId (options).
        underlying_sec_type: ``STK`` or ``IND`` (options).
        real_expiration_date: ``YYYYMMDD`` OCC expiration, later than
            ``last_trade_date`` for AM-settled monthlies.
        min_tick: Minimum price increment.
        stock_type: ``ETF``, ``COMMON`` or empty.
    """

    con_id: int
    symbol: str
    sec_type: str
    exchange: str = "SMART"
    currency: str = "USD"
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    primary_exchange: str = ""
    valid_exchanges: str = "SMART"
    long_name: str = ""
    underlying_con_id: int = 0
    underlying_sec_type: str = ""
    real_expiration_date: str = ""
    min_tick: float = 0.01
    stock_type: str = ""

    @property
    def exchanges(self) -> tuple[str, ...]:
        """The exchanges a request may name for this contract."""
        names = [name for name in self.valid_exchanges.split(",") if name]
        return tuple(dict.fromkeys([self.exchange, *names]))

    @property
    def multiplier_value(self) -> float:
        """The multiplier as a number (1.0 when there is none)."""
        return float(self.multiplier) if self.multiplier else 1.0


@dataclass(frozen=True, slots=True)
class FakeQuote:
    """Market data of one contract; None means "not sent".

    Prices in the contract's currency per unit; ``implied_vol`` as a fraction (0.18);
    ``delta`` per unit of underlying, ``gamma`` per point, ``vega`` per vol point (0.01),
    ``theta`` per calendar day, ``underlying_price`` in the underlying's currency.
    """

    bid: float | None = None
    ask: float | None = None
    last: float | None = None
    bid_size: float | None = 0.0
    ask_size: float | None = 0.0
    last_size: float | None = 0.0
    volume: float | None = None
    close: float | None = None
    open_interest: float | None = None
    implied_vol: float | None = None
    delta: float | None = None
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None
    option_price: float | None = None
    pv_dividend: float | None = None
    underlying_price: float | None = None

    @property
    def has_greeks(self) -> bool:
        """Whether an option computation tick is sent for this quote."""
        return self.implied_vol is not None or self.delta is not None

    def midpoint(self) -> float | None:
        """The bid/ask midpoint, else the last price, else None."""
        if self.bid is not None and self.ask is not None:
            return (self.bid + self.ask) / 2
        return self.last


@dataclass(frozen=True, slots=True)
class WireContract:
    """The twelve contract fields as a client sent them (in placeOrder, reqMktData, ...)."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""

    @classmethod
    def from_fields(cls, fields: Sequence[str]) -> WireContract:
        """Decode the twelve fields starting at ``fields[0]``."""
        (con_id, symbol, sec_type, last_trade_date, strike, right, multiplier, exchange,
         primary_exchange, currency, local_symbol, trading_class) = fields[:12]  # fmt: skip
        return cls(
            con_id=_int(con_id),
            symbol=symbol,
            sec_type=sec_type,
            last_trade_date=last_trade_date,
            strike=_float(strike) or 0.0,
            right=right,
            multiplier=multiplier,
            exchange=exchange,
            primary_exchange=primary_exchange,
            currency=currency,
            local_symbol=local_symbol,
            trading_class=trading_class,
        )


@dataclass(frozen=True, slots=True)
class ComboLegSpec:
    """One BAG leg as the client sent it in placeOrder."""

    con_id: int
    ratio: int
    action: str
    exchange: str
    open_close: int = 0
    short_sale_slot: int = 0
    designated_location: str = ""
    exempt_code: int = -1


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """One decoded placeOrder message (a modification is a second record, same order id).

    Prices are None when the client sent them empty (IB's "unset"); quantities are floats
    as on the wire.  ``fields`` keeps the raw message, ``fields[0]`` being ``"3"``.
    """

    order_id: int
    client_id: int
    contract: WireContract
    action: str
    total_quantity: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    oca_group: str
    account: str
    open_close: str
    origin: int
    order_ref: str
    transmit: bool
    parent_id: int
    outside_rth: bool
    combo_legs: tuple[ComboLegSpec, ...]
    combo_leg_prices: tuple[float | None, ...]
    smart_combo_routing_params: tuple[tuple[str, str], ...]
    good_till_date: str
    what_if: bool
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderState:
    """The fake's view of one order: what it last told the client about it."""

    order_id: int
    client_id: int
    perm_id: int
    status: str
    filled: float
    remaining: float
    avg_fill_price: float
    last_fill_price: float
    placed: PlacedOrder

    @property
    def is_open(self) -> bool:
        """Whether the order can still fill or be cancelled."""
        return self.status not in DONE_STATUSES


@dataclass(frozen=True, slots=True)
class FakeExecution:
    """One execution the fake reported (kept for the day, replayed on reqExecutions).

    ``commission`` is None until a commission report for it was sent.
    """

    exec_id: str
    order_id: int
    client_id: int
    perm_id: int
    account: str
    contract: FakeContract
    side: str
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    time: datetime
    exchange: str
    order_ref: str
    commission: float | None = None
    commission_currency: str = "USD"
    realized_pnl: float | None = None


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """One message a client sent: ``fields[0]`` is the message id as text."""

    client_id: int | None
    msg_id: int
    fields: tuple[str, ...]
    handled: bool


@dataclass(frozen=True, slots=True)
class Position:
    """A position the fake reports (``avg_cost`` includes the multiplier, as IB's does)."""

    account: str
    con_id: int
    position: float
    avg_cost: float


class FakeTwsOptions(TypedDict, total=False):
    """Keyword options of :class:`FakeTws` (and :func:`running_tws`)."""

    accounts: Sequence[str]
    next_order_id: int
    ack_status: str
    auto_commission: bool
    commission_per_contract: float
    fill_market_orders: bool
    farm_status: bool
    live_data: bool
    account_values: dict[str, str]
    match_expiration_date: bool
    today: date


# ---------------------------------------------------------------------------------------
# Contracts


def occ_local_symbol(root: str, expiry: date, right: str, strike: float) -> str:
    """The OCC option symbol with the root padded to six characters.

    >>> occ_local_symbol("SPY", date(2026, 12, 18), "C", 450)
    'SPY   261218C00450000'
    """
    return f"{root:<6}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"


def stock(con_id: int, symbol: str, *, primary_exchange: str = "ARCA",
          long_name: str = "", stock_type: str = "ETF") -> FakeContract:  # fmt: skip
    """A SMART-routed US stock or ETF."""
    return FakeContract(
        con_id=con_id,
        symbol=symbol,
        sec_type="STK",
        local_symbol=symbol,
        trading_class=symbol,
        primary_exchange=primary_exchange,
        valid_exchanges=f"SMART,{primary_exchange},NYSE,BATS,IEX",
        long_name=long_name or symbol,
        stock_type=stock_type,
    )


def index(con_id: int, symbol: str, *, exchange: str = "CBOE", long_name: str = "") -> FakeContract:
    """A cash index (no bid/ask, only last)."""
    return FakeContract(
        con_id=con_id,
        symbol=symbol,
        sec_type="IND",
        exchange=exchange,
        local_symbol=symbol,
        valid_exchanges=exchange,
        long_name=long_name or symbol,
    )


def option(
    con_id: int,
    underlying: FakeContract,
    expiry: date,
    right: str,
    strike: float,
    *,
    trading_class: str = "",
    last_trade_date: date | None = None,
    valid_exchanges: str = "SMART,CBOE",
    min_tick: float = 0.01,
) -> FakeContract:
    """A US option on ``underlying`` expiring (OCC date) on ``expiry``.

    Args:
        con_id: The option's conId.
        underlying: The underlying contract (its symbol, conId and secType are used).
        expiry: The OCC expiration date, used in ``localSymbol``.
        right: ``C`` or ``P``.
        strike: Strike price.
        trading_class: The OCC root (``SPXW``); defaults to the underlying symbol.
        last_trade_date: Last trading day when it differs from ``expiry`` (AM-settled
            monthlies trade last the day before).
        valid_exchanges: Exchanges listed by reqSecDefOptParams and accepted in requests.
        min_tick: Minimum price increment.
    """
    root = trading_class or underlying.symbol
    return FakeContract(
        con_id=con_id,
        symbol=underlying.symbol,
        sec_type="OPT",
        last_trade_date=f"{last_trade_date or expiry:%Y%m%d}",
        strike=float(strike),
        right=right,
        multiplier="100",
        local_symbol=occ_local_symbol(root, expiry, right, strike),
        trading_class=root,
        valid_exchanges=valid_exchanges,
        long_name=underlying.long_name,
        underlying_con_id=underlying.con_id,
        underlying_sec_type=underlying.sec_type,
        real_expiration_date=f"{expiry:%Y%m%d}",
        min_tick=min_tick,
    )


SPY_CON_ID: Final = 756733
SPX_CON_ID: Final = 416904


def default_contracts() -> list[FakeContract]:
    """SPY with calls and puts at 440/450/460 over three Friday expiries, SPX with AM
    monthlies (last trade Thursday 2026-12-17, OCC date 2026-12-18) beside SPXW weeklies.

    ConIds: SPY 756733, SPX 416904, SPY options from 700001, SPX/SPXW options from 800001,
    in the order listed here.
    """
    spy = stock(SPY_CON_ID, "SPY", long_name="SPDR S&P 500 ETF TRUST")
    spx = index(SPX_CON_ID, "SPX", long_name="S&P 500 Stock Index")
    spy_ids = itertools.count(700001)
    spy_options = [
        option(
            next(spy_ids), spy, expiry, right, strike, valid_exchanges="SMART,AMEX,CBOE,ISE,PHLX"
        )
        for expiry in (date(2026, 12, 4), date(2026, 12, 11), date(2026, 12, 18))
        for strike in (440.0, 450.0, 460.0)
        for right in ("C", "P")
    ]
    spx_ids = itertools.count(800001)
    monthly = date(2026, 12, 18)
    spx_monthlies = [
        option(
            next(spx_ids),
            spx,
            monthly,
            right,
            strike,
            trading_class="SPX",
            last_trade_date=monthly - timedelta(days=1),
            min_tick=0.05,
        )
        for strike in (5000.0, 5050.0)
        for right in ("C", "P")
    ]
    spx_weeklies = [
        option(next(spx_ids), spx, expiry, right, strike, trading_class="SPXW", min_tick=0.05)
        for expiry in (date(2026, 12, 4), monthly)
        for strike in (5000.0, 5050.0)
        for right in ("C", "P")
    ]
    return [spy, spx, *spy_options, *spx_monthlies, *spx_weeklies]


def _normal_cdf(value: float) -> float:
    return 0.5 * (1.0 + math.erf(value / math.sqrt(2.0)))


def black_scholes(spot: float, strike: float, years: float, volatility: float,
                  right: str) -> tuple[float, float, float, float, float]:  # fmt: skip
    """Price, delta, gamma, vega (per vol point) and theta (per day) at zero rates."""
    years = max(years, 1.0 / 365.0)
    root_time = math.sqrt(years)
    d1 = (math.log(spot / strike) + 0.5 * volatility**2 * years) / (volatility * root_time)
    d2 = d1 - volatility * root_time
    density = math.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
    gamma = density / (spot * volatility * root_time)
    vega = spot * density * root_time / 100.0
    theta = -spot * density * volatility / (2.0 * root_time) / 365.0
    if right == "C":
        price = spot * _normal_cdf(d1) - strike * _normal_cdf(d2)
        delta = _normal_cdf(d1)
    else:
        price = strike * _normal_cdf(-d2) - spot * _normal_cdf(-d1)
        delta = _normal_cdf(d1) - 1.0
    return price, delta, gamma, vega, theta


def default_quote(contract: FakeContract, underlying: FakeQuote | None, today: date) -> FakeQuote:
    """A plausible quote: fixed prices for SPY/SPX, Black-Scholes at 18% vol for options."""
    if contract.sec_type == "IND":
        return FakeQuote(last=5000.0, close=4990.0)
    if contract.sec_type != "OPT":
        return FakeQuote(bid=449.98, ask=450.02, last=450.0, bid_size=500, ask_size=600,
                         last_size=100, volume=1_000_000, close=448.5)  # fmt: skip
    spot = (underlying.midpoint() if underlying else None) or contract.strike
    expiry = datetime.strptime(contract.real_expiration_date, "%Y%m%d").date()
    years = (expiry - today).days / 365.0
    price, delta, gamma, vega, theta = black_scholes(spot, contract.strike, years, 0.18,
                                                     contract.right)  # fmt: skip
    tick = contract.min_tick
    mid = max(round(price / tick) * tick, 2 * tick)
    half_spread = max(tick, round(mid * 0.01 / tick) * tick)
    return FakeQuote(
        bid=round(mid - half_spread, 2), ask=round(mid + half_spread, 2), last=round(mid, 2),
        bid_size=10, ask_size=12, last_size=1, volume=100, close=round(mid, 2),
        open_interest=1000, implied_vol=0.18, delta=delta, gamma=gamma, vega=vega,
        theta=theta, option_price=price, pv_dividend=0.0, underlying_price=spot,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# Framing


def encode_message(fields: Iterable[object]) -> bytes:
    """Frame one message: length prefix and NUL-terminated text fields."""
    payload = "".join(f"{_text(value)}\0" for value in fields).encode()
    return struct.pack(">I", len(payload)) + payload


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return _decimal(value)
    return str(value)


def _decimal(value: float) -> str:
    """A number as TWS writes it: ``3`` for whole values, ``450.25`` otherwise."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return int(float(text))


def _float(text: str) -> float | None:
    if not text or text == UNSET_DOUBLE_TEXT:
        return None
    value = float(text)
    return None if value >= 1.7e308 else value


async def _read_message(reader: asyncio.StreamReader) -> list[str]:
    (size,) = struct.unpack(">I", await reader.readexactly(4))
    payload = await reader.readexactly(size)
    fields = payload.decode(errors="backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


class _Cursor:
    """Reads fields one after another (for the variable-length placeOrder message)."""

    def __init__(self, fields: Sequence[str], position: int) -> None:
        self.fields = fields
        self.position = position

    def next(self) -> str:
        value = self.fields[self.position]
        self.position += 1
        return value

    def skip(self, count: int) -> None:
        self.position += count


def _decode_order(client_id: int, fields: list[str]) -> PlacedOrder:
    """Decode placeOrder as ib_async 2.1.0 sends it at server version 178."""
    contract = WireContract.from_fields(fields[2:14])
    cursor = _Cursor(fields, 35)
    legs: list[ComboLegSpec] = []
    prices: list[float | None] = []
    params: list[tuple[str, str]] = []
    if contract.sec_type == "BAG":
        for _ in range(_int(cursor.next())):
            con_id, ratio, action, exchange, open_close, slot, location, exempt = (
                cursor.next() for _ in range(8)
            )
            legs.append(ComboLegSpec(_int(con_id), _int(ratio), action, exchange,
                                     _int(open_close), _int(slot), location,
                                     _int(exempt, -1)))  # fmt: skip
        prices = [_float(cursor.next()) for _ in range(_int(cursor.next()))]
        params = [(cursor.next(), cursor.next()) for _ in range(_int(cursor.next()))]
    good_till_date = fields[cursor.position + 3]
    return PlacedOrder(
        order_id=_int(fields[1]),
        client_id=client_id,
        contract=contract,
        action=fields[16],
        total_quantity=_float(fields[17]) or 0.0,
        order_type=fields[18],
        lmt_price=_float(fields[19]),
        aux_price=_float(fields[20]),
        tif=fields[21],
        oca_group=fields[22],
        account=fields[23],
        open_close=fields[24],
        origin=_int(fields[25]),
        order_ref=fields[26],
        transmit=fields[27] == "1",
        parent_id=_int(fields[28]),
        outside_rth=fields[33] == "1",
        combo_legs=tuple(legs),
        combo_leg_prices=tuple(prices),
        smart_combo_routing_params=tuple(params),
        good_till_date=good_till_date,
        what_if=_what_if(cursor),
        fields=tuple(fields),
    )


def _what_if(cursor: _Cursor) -> bool:
    """Walk the placeOrder tail (server 178, no faProfile) up to the whatIf flag."""
    try:
        cursor.skip(7 + 22)  # legacy .. faPercentage, modelCode .. volatilityType
        if cursor.next():  # deltaNeutralOrderType
            cursor.skip(9)
        else:
            cursor.skip(1)
        cursor.skip(6)  # continuousUpdate .. scaleSubsLevelSize
        increment = _float(cursor.next())
        if increment is not None and increment > 0:
            cursor.skip(7)
        cursor.skip(3)  # scaleTable, activeStartTime, activeStopTime
        if cursor.next():  # hedgeType
            cursor.skip(1)
        cursor.skip(4)  # optOutSmartRouting .. notHeld
        if cursor.next() == "1":  # deltaNeutralContract
            cursor.skip(3)
        if cursor.next():  # algoStrategy
            cursor.skip(2 * _int(cursor.next()))
        cursor.skip(1)  # algoId
        return cursor.next() == "1"
    except (IndexError, ValueError):
        return False


# ---------------------------------------------------------------------------------------
# Server-side state


@dataclass(slots=True)
class _Order:
    placed: PlacedOrder
    perm_id: int
    contract: FakeContract | None
    legs: list[tuple[FakeContract, ComboLegSpec]]
    status: str = "PendingSubmit"
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    leg_fills: dict[int, tuple[float, float]] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int]:
        return self.placed.client_id, self.placed.order_id

    @property
    def remaining(self) -> float:
        return max(self.placed.total_quantity - self.filled, 0.0)

    @property
    def is_open(self) -> bool:
        return self.status not in DONE_STATUSES

    @property
    def is_bag(self) -> bool:
        return self.placed.contract.sec_type == "BAG"

    def snapshot(self) -> OrderState:
        return OrderState(
            order_id=self.placed.order_id,
            client_id=self.placed.client_id,
            perm_id=self.perm_id,
            status=self.status,
            filled=self.filled,
            remaining=self.remaining,
            avg_fill_price=self.avg_fill_price,
            last_fill_price=self.last_fill_price,
            placed=self.placed,
        )


@dataclass(slots=True)
class _Subscription:
    req_id: int
    contract: FakeContract
    legs: list[tuple[FakeContract, int, str]]
    generic_ticks: str

    def involves(self, con_id: int) -> bool:
        return self.contract.con_id == con_id or any(
            leg.con_id == con_id for leg, _, _ in self.legs
        )


@dataclass(frozen=True, slots=True)
class _PendingReject:
    reason: str
    code: int
    status: str | None


class _Session:
    """One client connection."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.client_id: int | None = None
        self.ready = False
        self.closed = False
        self.market_data_type = 1
        self.subscriptions: dict[int, _Subscription] = {}
        self.wants_positions = False
        self.account_updates: str | None = None

    def send(self, *fields: object) -> None:
        if self.closed or self.writer.is_closing():
            return
        self.writer.write(encode_message(fields))

    def abort(self) -> None:
        self.closed = True
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()


_Handler = Callable[[_Session, list[str]], None]


class FakeTws:
    """A fake TWS on 127.0.0.1 (see the module docstring for what it speaks).

    Args:
        contracts: The instruments it knows; :func:`default_contracts` when None.
        accounts: Managed account codes (must not be empty).
        next_order_id: The first ``nextValidId`` for a client id never seen before.
        ack_status: Status of a newly placed order (``Submitted`` or ``PreSubmitted``).
        auto_commission: Send each execution's commission report right after it.
        commission_per_contract: Default commission per option contract; stocks pay
            0.005 a share, at least 1.0.
        fill_market_orders: Fill market orders in full at the quote when placed.
        farm_status: Send the 2104/2106/2158 farm notices after startApi.
        live_data: Whether live market data is "subscribed"; without it a live
            reqMktData gets error 354, a delayed one (type 3/4) delayed ticks and 10167.
        account_values: Account values (tag → value, USD) for account updates/summary.
        match_expiration_date: A requested ``lastTradeDateOrContractMonth`` also matches
            an option's OCC expiration date, so that (as with IB) SPX and SPXW on the same
            Friday are ambiguous without ``tradingClass``; off = last trading day only.
        today: The date default option quotes are computed for.
    """

    host: Final = "127.0.0.1"

    def __init__(
        self,
        contracts: Iterable[FakeContract] | None = None,
        *,
        accounts: Sequence[str] = ("DU1234567",),
        next_order_id: int = 1,
        ack_status: str = "Submitted",
        auto_commission: bool = True,
        commission_per_contract: float = 0.65,
        fill_market_orders: bool = False,
        farm_status: bool = True,
        live_data: bool = True,
        account_values: dict[str, str] | None = None,
        match_expiration_date: bool = True,
        today: date | None = None,
    ) -> None:
        if not accounts:
            raise ValueError("accounts: at least one account is needed (ib_async waits for it)")
        self.accounts = tuple(accounts)
        self.ack_status = ack_status
        self.auto_commission = auto_commission
        self.commission_per_contract = commission_per_contract
        self.fill_market_orders = fill_market_orders
        self.farm_status = farm_status
        self.live_data = live_data
        self.match_expiration_date = match_expiration_date
        self.today = today or date.today()
        self.port = 0
        self._first_order_id = next_order_id
        self._account_values = account_values or {
            "NetLiquidation": "1000000.00", "TotalCashValue": "1000000.00",
            "BuyingPower": "4000000.00", "AvailableFunds": "1000000.00",
            "ExcessLiquidity": "1000000.00", "InitMarginReq": "0.00",
            "MaintMarginReq": "0.00", "GrossPositionValue": "0.00",
        }  # fmt: skip
        self._contracts: dict[int, FakeContract] = {}
        self._quotes: dict[int, FakeQuote] = {}
        for contract in default_contracts() if contracts is None else contracts:
            self._add_contract(contract)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="fake-tws", daemon=True)
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._orders: dict[tuple[int, int], _Order] = {}
        self._placed: list[PlacedOrder] = []
        self._executions: dict[str, FakeExecution] = {}
        self._positions: dict[tuple[str, int], Position] = {}
        self._received: list[ClientMessage] = []
        self._errors: list[str] = []
        self._rejects: list[_PendingReject] = []
        self._used_order_ids: dict[int, int] = {}
        self._perm_ids = itertools.count(1_900_000_001)
        self._exec_numbers = itertools.count(1)
        self._exec_prefix = f"{int(time.time()) & 0xFFFFFFFF:08x}"
        self._down = False
        self._handlers: dict[int, _Handler] = {
            1: self._on_req_mkt_data, 2: self._on_cancel_mkt_data, 3: self._on_place_order,
            4: self._on_cancel_order, 5: self._on_req_open_orders,
            6: self._on_req_account_updates, 7: self._on_req_executions, 8: self._on_req_ids,
            9: self._on_req_contract_details, 15: self._on_ignored,
            16: self._on_req_all_open_orders, 17: self._on_req_managed_accounts,
            49: self._on_req_current_time, 58: self._on_req_global_cancel,
            59: self._on_req_market_data_type, 61: self._on_req_positions,
            62: self._on_req_account_summary, 63: self._on_ignored,
            64: self._on_cancel_positions, 76: self._on_req_account_updates_multi,
            77: self._on_ignored, 78: self._on_req_sec_def_opt_params,
            99: self._on_req_completed_orders,
        }  # fmt: skip

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop thread and listen on an ephemeral port of 127.0.0.1."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(5)

    def stop(self) -> None:
        """Close every client socket, stop listening and end the loop thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        for session in list(self._sessions):
            session.abort()
        self._sessions.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)

    # -- thread marshalling -------------------------------------------------------------

    def _call(self, function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run ``function`` on the server loop and return its result (or raise its error)."""
        if threading.get_ident() == self._thread.ident or not self._loop.is_running():
            return function(*args, **kwargs)
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(function(*args, **kwargs))
            except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
                future.set_exception(error)

        self._loop.call_soon_threadsafe(run)
        return future.result(timeout=5)

    # -- market -------------------------------------------------------------------------

    def add_contract(self, contract: FakeContract, quote: FakeQuote | None = None) -> None:
        """Make ``contract`` known (with ``quote``, or a default one).

        Raises:
            ValueError: a contract with the same conId exists.
        """
        self._call(self._add_contract, contract, quote)

    def _add_contract(self, contract: FakeContract, quote: FakeQuote | None = None) -> None:
        if contract.con_id in self._contracts:
            raise ValueError(f"con_id {contract.con_id} is already known")
        self._contracts[contract.con_id] = contract
        underlying = self._quotes.get(contract.underlying_con_id)
        self._quotes[contract.con_id] = quote or default_quote(contract, underlying, self.today)

    @property
    def contracts(self) -> list[FakeContract]:
        """Every known contract, in the order added."""
        return self._call(lambda: list(self._contracts.values()))

    def contract(self, con_id: int) -> FakeContract:
        """The contract with ``con_id`` (KeyError if unknown)."""
        return self._call(self._contracts.__getitem__, con_id)

    def find_contract(self, local_symbol: str) -> FakeContract:
        """The contract with this ``localSymbol`` (KeyError if none)."""
        for contract in self.contracts:
            if contract.local_symbol == local_symbol:
                return contract
        raise KeyError(f"no contract with local_symbol {local_symbol!r}")

    def quote(self, con_id: int) -> FakeQuote:
        """The current quote of ``con_id``."""
        return self._call(self._quotes.__getitem__, con_id)

    def set_quote(self, con_id: int, **values: float | None) -> FakeQuote:
        """Change fields of the quote of ``con_id`` and stream it to every subscriber.

        Keyword names are :class:`FakeQuote` fields (``bid``, ``ask``, ``last``,
        ``implied_vol``, ``delta``, ``gamma``, ``vega``, ``theta``, ``underlying_price``,
        ...); None stops sending a field.

        Raises:
            KeyError: unknown conId.
            TypeError: unknown field name.
        """
        return self._call(self._set_quote, con_id, values)

    def _set_quote(self, con_id: int, values: dict[str, float | None]) -> FakeQuote:
        quote = dataclasses.replace(self._quotes[con_id], **values)
        self._quotes[con_id] = quote
        for session in list(self._sessions):
            for subscription in list(session.subscriptions.values()):
                if subscription.involves(con_id):
                    self._send_ticks(session, subscription)
        return quote

    # -- account ------------------------------------------------------------------------

    def set_position(self, con_id: int, position: float, avg_cost: float,
                     account: str | None = None) -> None:  # fmt: skip
        """Set a position (``avg_cost`` including the multiplier) and stream it."""
        self._call(self._set_position, account or self.accounts[0], con_id, position, avg_cost)

    def positions(self) -> list[Position]:
        """Every position the fake holds (fills update them)."""
        return self._call(lambda: list(self._positions.values()))

    def set_account_value(self, tag: str, value: str) -> None:
        """Set an account value (USD) reported by account updates and summaries."""
        self._call(self._account_values.__setitem__, tag, value)

    # -- orders -------------------------------------------------------------------------

    @property
    def placed_orders(self) -> list[PlacedOrder]:
        """Every decoded placeOrder message, modifications included, in arrival order."""
        return self._call(lambda: list(self._placed))

    def order(self, order_id: int, client_id: int | None = None) -> OrderState:
        """The state of an order (KeyError if no such order was placed)."""
        return self._call(lambda: self._find_order(order_id, client_id).snapshot())

    def open_orders(self) -> list[OrderState]:
        """The orders that can still fill."""
        return self._call(lambda: [o.snapshot() for o in self._orders.values() if o.is_open])

    def wait_for_order(self, order_id: int, client_id: int | None = None,
                       timeout_s: float = 5.0) -> OrderState:  # fmt: skip
        """Block until the order arrived (not from the client's own event-loop thread)."""
        self.wait_until(lambda: self._has_order(order_id, client_id), timeout_s)
        return self.order(order_id, client_id)

    def _has_order(self, order_id: int, client_id: int | None) -> bool:
        return self._call(
            lambda: any(key[1] == order_id and client_id in (None, key[0]) for key in self._orders)
        )

    def reject_next_order(self, reason: str = "YOUR ORDER IS NOT ACCEPTED.", *,
                          code: int = 201, status: str | None = None) -> None:  # fmt: skip
        """Make the next placed order fail: error ``code`` with ``Order rejected -
        reason:<reason>``, then orderStatus ``status`` if given (``Inactive``)."""
        self._call(self._rejects.append, _PendingReject(reason, code, status))

    def fill(
        self,
        order_id: int,
        quantity: float | None = None,
        price: float | None = None,
        *,
        client_id: int | None = None,
        exec_id: str | None = None,
        leg_prices: dict[int, float] | None = None,
        commission: float | None = None,
        report_commission: bool | None = None,
        when: datetime | None = None,
    ) -> list[str]:
        """Fill (part of) an open order and report it to the client that placed it.

        Sends execDetails (reqId -1) per execution, then orderStatus (``Filled`` when
        complete, else ``Submitted`` with filled/remaining), then commission reports.  A
        BAG order gets one execution per leg (leg contract, ``quantity x ratio``, side
        from the combo and leg actions) and one BAG summary execution (conId 28812380);
        commission reports go to the leg executions only.  If the client is not
        connected, the executions are kept and come back on its next reqExecutions.

        Args:
            order_id: The order to fill.
            quantity: Combo units or shares/contracts; the whole remainder when None.
            price: Fill price (net price for a BAG); the limit price, else the quote.
            client_id: The owning client, needed only when order ids repeat across clients.
            exec_id: The execId of the (summary) execution; generated when None.
            leg_prices: BAG leg prices by conId; the leg's quote midpoint otherwise.
            commission: Commission per execution; by default 0.65 a contract.
            report_commission: Send commission reports now; ``auto_commission`` if None.
            when: Execution time (UTC now when None).

        Returns:
            The execIds, legs first and the BAG summary last.

        Raises:
            KeyError: no such order.
            ValueError: the order is done, or ``quantity`` exceeds what remains.
        """
        return self._call(
            lambda: self._fill(
                self._find_order(order_id, client_id), quantity=quantity, price=price,
                exec_id=exec_id, leg_prices=leg_prices or {}, commission=commission,
                report_commission=report_commission, when=when,
            )
        )  # fmt: skip

    def cancel(self, order_id: int, *, client_id: int | None = None,
               reason: str = "") -> None:  # fmt: skip
        """Cancel an open order from the server side (orderStatus Cancelled + error 202)."""
        self._call(lambda: self._cancel(self._find_order(order_id, client_id), reason))

    @property
    def executions(self) -> list[FakeExecution]:
        """Every execution of the day, in the order reported."""
        return self._call(lambda: list(self._executions.values()))

    def send_commission(self, exec_id: str, commission: float | None = None, *,
                        currency: str = "USD",
                        realized_pnl: float | None = None) -> None:  # fmt: skip
        """Send (or send again) the commission report of an execution."""
        self._call(self._send_commission, exec_id, commission, currency, realized_pnl)

    def resend_execution(self, exec_id: str, *, with_commission: bool = False) -> None:
        """Send an execution again as a live execDetails, same execId (a duplicate)."""
        self._call(self._resend_execution, exec_id, with_commission)

    # -- connectivity -------------------------------------------------------------------

    def drop_connections(self, *, stay_down: bool = False) -> None:
        """Abort every client socket; with ``stay_down`` also stop listening, so that
        connects are refused until :meth:`restore`."""
        asyncio.run_coroutine_threadsafe(self._drop(stay_down), self._loop).result(5)

    def restore(self) -> None:
        """Listen again (same port) after ``drop_connections(stay_down=True)``."""
        asyncio.run_coroutine_threadsafe(self._restore(), self._loop).result(5)

    @property
    def is_down(self) -> bool:
        """Whether connections are refused."""
        return self._down

    @property
    def connected_client_ids(self) -> list[int]:
        """Client ids of the sessions past startApi."""
        return self._call(
            lambda: sorted(s.client_id for s in self._sessions if s.client_id is not None)
        )

    def send_connectivity(self, code: int) -> None:
        """Send a connectivity notice (1100, 1101, 1102 or 2110) to every client."""
        self.send_error(code, CONNECTIVITY_MESSAGES[code])

    def send_error(self, code: int, message: str, req_id: int = -1, *,
                   client_id: int | None = None) -> None:  # fmt: skip
        """Send an error message to one client, or to all when ``client_id`` is None."""
        self.send_raw([4, 2, req_id, code, message, ""], client_id=client_id)

    def send_raw(self, fields: Sequence[object], *, client_id: int | None = None) -> None:
        """Send any message (e.g. a malformed one) to one client or to all."""
        self._call(self._send_raw, list(fields), client_id)

    def _send_raw(self, fields: list[object], client_id: int | None) -> None:
        for session in self._ready_sessions():
            if client_id is None or session.client_id == client_id:
                session.send(*fields)

    # -- recording ----------------------------------------------------------------------

    def received(
        self, msg_id: int | None = None, client_id: int | None = None
    ) -> list[ClientMessage]:
        """Messages clients sent, optionally only one message id and/or one client."""
        return [
            message
            for message in self._call(lambda: list(self._received))
            if msg_id in (None, message.msg_id) and client_id in (None, message.client_id)
        ]

    @property
    def unhandled(self) -> list[ClientMessage]:
        """Messages whose id the fake does not implement (recorded, not answered)."""
        return [message for message in self.received() if not message.handled]

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of exceptions raised while handling client messages."""
        return self._call(lambda: list(self._errors))

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Poll ``predicate`` until true (AssertionError after ``timeout_s``).

        Blocks the calling thread: do not call it from the client's event loop while the
        predicate depends on that client doing something.
        """
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout_s} s")
            time.sleep(0.005)

    # =====================================================================================
    # Everything below runs on the server loop.

    def _ready_sessions(self) -> list[_Session]:
        return [session for session in self._sessions if session.ready and not session.closed]

    def _session_for(self, client_id: int) -> _Session | None:
        for session in self._ready_sessions():
            if session.client_id == client_id:
                return session
        return None

    async def _drop(self, stay_down: bool) -> None:
        for session in list(self._sessions):
            session.abort()
        self._sessions.clear()
        if stay_down and self._server is not None:
            self._down = True
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _restore(self) -> None:
        self._down = False
        if self._server is None:
            await self._listen()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = _Session(writer)
        self._sessions.add(session)
        try:
            if await self._handshake(reader, session):
                while not session.closed:
                    await self._dispatch(session, await _read_message(reader))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            session.closed = True
            self._sessions.discard(session)
            with contextlib.suppress(Exception):
                writer.close()
            self._tasks.discard(task)

    async def _handshake(self, reader: asyncio.StreamReader, session: _Session) -> bool:
        if await reader.readexactly(4) != b"API\0":
            return False
        (versions, *_) = await _read_message(reader)
        found = re.match(r"v(\d+)\.\.(\d+)", versions)
        if not found or not int(found[1]) <= SERVER_VERSION <= int(found[2]):
            return False
        session.send(SERVER_VERSION, f"{datetime.now(UTC):%Y%m%d %H:%M:%S} UTC")
        return True

    async def _dispatch(self, session: _Session, fields: list[str]) -> None:
        try:
            msg_id = int(fields[0])
        except (IndexError, ValueError):
            self._record(session, -1, fields, handled=False)
            return
        if msg_id == 71:
            session_client_id = _int(fields[2]) if len(fields) > 2 else None
            self._received.append(ClientMessage(session_client_id, msg_id, tuple(fields), True))
            await self._on_start_api(session, fields)
            return
        handler = self._handlers.get(msg_id) if session.ready else None
        self._record(session, msg_id, fields, handled=handler is not None)
        if handler is None:
            return
        try:
            handler(session, fields)
        except Exception:  # noqa: BLE001 - a bad message must never stop the fake
            self._errors.append(traceback.format_exc())

    def _record(self, session: _Session, msg_id: int, fields: list[str], *, handled: bool) -> None:
        self._received.append(ClientMessage(session.client_id, msg_id, tuple(fields), handled))

    async def _on_start_api(self, session: _Session, fields: list[str]) -> None:
        if session.ready:
            return
        client_id = _int(fields[2])
        if self._session_for(client_id) is not None:
            await asyncio.sleep(0.1)  # a client that just closed may not be read yet
        if self._session_for(client_id) is not None:
            session.send(4, 2, -1, 326, "Unable to connect as the client id is already "
                         "in use. Retry with a unique client id.", "")  # fmt: skip
            await session.writer.drain()
            session.abort()
            return
        session.client_id = client_id
        session.ready = True
        session.send(15, 1, ",".join(self.accounts))
        session.send(9, 1, self._next_valid_id(client_id))
        if self.farm_status:
            for code, message in FARM_STATUS:
                session.send(4, 2, -1, code, message, "")

    def _next_valid_id(self, client_id: int) -> int:
        return max(self._first_order_id, self._used_order_ids.get(client_id, 0) + 1)

    # -- simple requests ----------------------------------------------------------------

    def _on_ignored(self, session: _Session, fields: list[str]) -> None:
        """Recorded only (reqAutoOpenOrders, cancelAccountSummary, cancelAccountUpdatesMulti)."""

    def _on_req_ids(self, session: _Session, fields: list[str]) -> None:
        assert session.client_id is not None
        session.send(9, 1, self._next_valid_id(session.client_id))

    def _on_req_managed_accounts(self, session: _Session, fields: list[str]) -> None:
        session.send(15, 1, ",".join(self.accounts))

    def _on_req_current_time(self, session: _Session, fields: list[str]) -> None:
        session.send(49, 1, int(time.time()))

    def _on_req_market_data_type(self, session: _Session, fields: list[str]) -> None:
        session.market_data_type = _int(fields[2], 1)

    # -- contracts ----------------------------------------------------------------------

    def _matches(self, contract: FakeContract, wanted: WireContract) -> bool:
        if wanted.con_id:
            return contract.con_id == wanted.con_id
        right = {"CALL": "C", "PUT": "P"}.get(wanted.right.upper(), wanted.right.upper())
        checks = (
            (wanted.symbol, contract.symbol),
            (wanted.sec_type, contract.sec_type),
            (right, contract.right),
            (wanted.currency, contract.currency),
            (wanted.local_symbol, contract.local_symbol),
            (wanted.trading_class, contract.trading_class),
        )
        if any(given and given != actual for given, actual in checks):
            return False
        if wanted.last_trade_date and not self._date_matches(contract, wanted.last_trade_date):
            return False
        if wanted.strike and abs(wanted.strike - contract.strike) > 1e-9:
            return False
        if wanted.multiplier and float(wanted.multiplier) != contract.multiplier_value:
            return False
        return not wanted.exchange or wanted.exchange in contract.exchanges

    def _date_matches(self, contract: FakeContract, wanted: str) -> bool:
        dates = [contract.last_trade_date]
        if self.match_expiration_date and contract.real_expiration_date:
            dates.append(contract.real_expiration_date)
        return any(known.startswith(wanted) for known in dates)

    def _lookup(self, wanted: WireContract) -> list[FakeContract]:
        return [c for c in self._contracts.values() if self._matches(c, wanted)]

    def _resolve(self, wanted: WireContract) -> FakeContract | None:
        found = self._lookup(wanted)
        return found[0] if len(found) == 1 else None

    def _on_req_contract_details(self, session: _Session, fields: list[str]) -> None:
        req_id = _int(fields[2])
        wanted = WireContract.from_fields(fields[3:15])
        if wanted.sec_type == "BAG":
            session.send(4, 2, req_id, 321, "Error validating request.-'bW' : cause - 'BAG' "
                         "isn't supported for contract data request.", "")  # fmt: skip
            return
        found = self._lookup(wanted)
        if not found:
            session.send(4, 2, req_id, 200, NO_SECURITY_DEFINITION, "")
            return
        for contract in found:
            session.send(*self._contract_details_fields(req_id, contract, wanted.exchange))
        session.send(52, 1, req_id)

    def _contract_details_fields(self, req_id: int, contract: FakeContract,
                                 exchange: str) -> list[object]:  # fmt: skip
        is_option = contract.sec_type == "OPT"
        underlying = self._contracts.get(contract.underlying_con_id)
        return [
            10, req_id, contract.symbol, contract.sec_type, contract.last_trade_date,
            contract.strike, contract.right, exchange or contract.exchange, contract.currency,
            contract.local_symbol, contract.trading_class or contract.symbol,
            contract.trading_class, contract.con_id, contract.min_tick,
            contract.multiplier, "ACTIVETIM,ADJUST,ALERT,DAY,GTC,IOC,LMT,MKT,STP,STPLMT,WHATIF",
            contract.valid_exchanges, 1, contract.underlying_con_id, contract.long_name,
            contract.primary_exchange, contract.last_trade_date[:6] if is_option else "",
            "", "", "", "US/Eastern", "", "", "", "",
            0,  # secIdList count
            "", underlying.symbol if underlying else "", contract.underlying_sec_type,
            "", contract.real_expiration_date, contract.stock_type,
            1, 1, 1,  # minSize, sizeIncrement, suggestedSizeIncrement
        ]  # fmt: skip

    def _on_req_sec_def_opt_params(self, session: _Session, fields: list[str]) -> None:
        req_id, symbol, underlying_con_id = _int(fields[1]), fields[2], _int(fields[5])
        groups: dict[tuple[str, str], tuple[str, set[str], set[float]]] = {}
        for contract in self._contracts.values():
            if contract.sec_type != "OPT":
                continue
            if underlying_con_id and contract.underlying_con_id != underlying_con_id:
                continue
            if not underlying_con_id and contract.symbol != symbol:
                continue
            for exchange in contract.exchanges:
                _, expirations, strikes = groups.setdefault(
                    (exchange, contract.trading_class), (contract.multiplier, set(), set())
                )
                expirations.add(contract.last_trade_date)
                strikes.add(contract.strike)
        for (exchange, trading_class), (multiplier, expirations, strikes) in groups.items():
            session.send(75, req_id, exchange, underlying_con_id, trading_class, multiplier,
                         len(expirations), *sorted(expirations), len(strikes),
                         *sorted(strikes))  # fmt: skip
        session.send(76, req_id)

    # -- market data --------------------------------------------------------------------

    def _on_req_mkt_data(self, session: _Session, fields: list[str]) -> None:
        req_id = _int(fields[2])
        wanted = WireContract.from_fields(fields[3:15])
        cursor = _Cursor(fields, 15)
        legs: list[tuple[FakeContract, int, str]] = []
        if wanted.sec_type == "BAG":
            for _ in range(_int(cursor.next())):
                con_id, ratio, action, _exchange = (cursor.next() for _ in range(4))
                leg = self._contracts.get(_int(con_id))
                if leg is None:
                    session.send(4, 2, req_id, 200, NO_SECURITY_DEFINITION, "")
                    return
                legs.append((leg, _int(ratio), action))
        if cursor.next() == "1":  # deltaNeutralContract
            cursor.skip(3)
        generic_ticks, snapshot = cursor.next(), cursor.next() == "1"
        contract = self._bag_contract(wanted) if legs else self._resolve(wanted)
        if contract is None:
            session.send(4, 2, req_id, 200, NO_SECURITY_DEFINITION, "")
            return
        delayed = session.market_data_type in (3, 4)
        if not self.live_data and not delayed:
            session.send(4, 2, req_id, 354, "Requested market data is not subscribed.", "")
            return
        subscription = _Subscription(req_id, contract, legs, generic_ticks)
        data_type = session.market_data_type if delayed else 1
        session.send(58, 1, req_id, data_type)
        if delayed and not self.live_data:
            session.send(4, 2, req_id, 10167, "Requested market data is not subscribed. "
                         "Displaying delayed market data.", "")  # fmt: skip
        session.send(81, req_id, contract.min_tick, "9c0001", 3)
        self._send_ticks(session, subscription)
        if snapshot:
            session.send(57, 1, req_id)
        else:
            session.subscriptions[req_id] = subscription

    def _on_cancel_mkt_data(self, session: _Session, fields: list[str]) -> None:
        session.subscriptions.pop(_int(fields[2]), None)

    def _bag_contract(self, wanted: WireContract) -> FakeContract:
        return FakeContract(con_id=BAG_CON_ID, symbol=wanted.symbol, sec_type="BAG",
                            exchange=wanted.exchange or "SMART",
                            currency=wanted.currency or "USD")  # fmt: skip

    def _quote_for(self, subscription: _Subscription) -> FakeQuote:
        if not subscription.legs:
            return self._quotes[subscription.contract.con_id]
        bid = ask = 0.0
        for leg, ratio, action in subscription.legs:
            quote = self._quotes[leg.con_id]
            if quote.bid is None or quote.ask is None:
                return FakeQuote()
            if action == "BUY":
                bid, ask = bid + ratio * quote.bid, ask + ratio * quote.ask
            else:
                bid, ask = bid - ratio * quote.ask, ask - ratio * quote.bid
        return FakeQuote(bid=round(bid, 4), ask=round(ask, 4), bid_size=1, ask_size=1)

    def _send_ticks(self, session: _Session, subscription: _Subscription) -> None:
        quote = self._quote_for(subscription)
        ticks = _DELAYED_TICKS if session.market_data_type in (3, 4) else _LIVE_TICKS
        req_id = subscription.req_id
        for name, size in (("bid", quote.bid_size), ("ask", quote.ask_size),
                           ("last", quote.last_size), ("close", 0.0)):  # fmt: skip
            price = getattr(quote, name)
            if price is not None:
                session.send(1, 6, req_id, ticks[name], float(price), float(size or 0.0), 0)
        if quote.volume is not None:
            session.send(2, 6, req_id, ticks["volume"], float(quote.volume))
        contract = subscription.contract
        if quote.open_interest is not None and "101" in subscription.generic_ticks.split(","):
            tick_type = _CALL_OPEN_INTEREST if contract.right == "C" else _PUT_OPEN_INTEREST
            session.send(2, 6, req_id, tick_type, float(quote.open_interest))
        if contract.sec_type == "OPT" and quote.has_greeks:
            session.send(21, req_id, ticks["greeks"], 0, *_greek_fields(quote))

    # -- orders -------------------------------------------------------------------------

    def _find_order(self, order_id: int, client_id: int | None) -> _Order:
        if client_id is not None:
            return self._orders[(client_id, order_id)]
        found = [o for key, o in self._orders.items() if key[1] == order_id]
        if not found:
            raise KeyError(f"order_id {order_id}: no such order")
        return found[-1]

    def _on_place_order(self, session: _Session, fields: list[str]) -> None:
        assert session.client_id is not None
        placed = _decode_order(session.client_id, fields)
        self._placed.append(placed)
        client_id, order_id = session.client_id, placed.order_id
        self._used_order_ids[client_id] = max(self._used_order_ids.get(client_id, 0), order_id)
        if placed.what_if:
            self._answer_what_if(session, placed)
            return
        existing = self._orders.get((client_id, order_id))
        if existing is not None:
            self._modify(session, existing, placed)
            return
        order = self._new_order(session, placed)
        self._orders[order.key] = order
        if not order.is_open:
            return
        order.status = self.ack_status
        session.send(*_open_order_fields(order))
        self._send_status(order)
        if self.fill_market_orders and placed.order_type == "MKT":
            self._fill(order, quantity=None, price=None, exec_id=None, leg_prices={},
                       commission=None, report_commission=None, when=None)  # fmt: skip

    def _new_order(self, session: _Session, placed: PlacedOrder) -> _Order:
        """A new order; a refused one (error sent) comes back already done."""
        order_id = placed.order_id
        if self._rejects:
            reject = self._rejects.pop(0)
            order = _Order(placed, next(self._perm_ids), self._resolve(placed.contract), [],
                           status=reject.status or "Cancelled")  # fmt: skip
            session.send(4, 2, order_id, reject.code,
                         f"Order rejected - reason:{reject.reason}", "")  # fmt: skip
            if reject.status:
                session.send(*_order_status_fields(order))
            return order
        legs: list[tuple[FakeContract, ComboLegSpec]] = []
        contract: FakeContract | None = None
        if placed.contract.sec_type == "BAG":
            for spec in placed.combo_legs:
                leg = self._contracts.get(spec.con_id)
                if leg is None:
                    break
                legs.append((leg, spec))
            known = bool(legs) and len(legs) == len(placed.combo_legs)
        else:
            contract = self._resolve(placed.contract)
            known = contract is not None
        order = _Order(placed, next(self._perm_ids), contract, legs)
        if not known:
            order.status = "Cancelled"
            session.send(4, 2, order_id, 200, NO_SECURITY_DEFINITION, "")
        return order

    def _modify(self, session: _Session, order: _Order, placed: PlacedOrder) -> None:
        if not order.is_open:
            session.send(4, 2, placed.order_id, 103, "Duplicate order id", "")
            return
        order.placed = placed
        session.send(*_open_order_fields(order))
        self._send_status(order)

    def _answer_what_if(self, session: _Session, placed: PlacedOrder) -> None:
        contract = self._resolve(placed.contract) if placed.contract.sec_type != "BAG" else None
        order = _Order(placed, 0, contract, [], status="PreSubmitted")
        session.send(*_open_order_fields(order, what_if=True))

    def _send_status(self, order: _Order) -> None:
        session = self._session_for(order.placed.client_id)
        if session is not None:
            session.send(*_order_status_fields(order))

    def _on_cancel_order(self, session: _Session, fields: list[str]) -> None:
        assert session.client_id is not None
        order_id = _int(fields[2])
        order = self._orders.get((session.client_id, order_id))
        if order is None:
            session.send(4, 2, order_id, 10147,
                         f"OrderId {order_id} that needs to be cancelled is not found.",
                         "")  # fmt: skip
        elif not order.is_open:
            session.send(4, 2, order_id, 10148, f"OrderId {order_id} that needs to be "
                         f"cancelled cannot be cancelled, state: {order.status}.", "")  # fmt: skip
        else:
            self._cancel(order, "")

    def _on_req_global_cancel(self, session: _Session, fields: list[str]) -> None:
        for order in list(self._orders.values()):
            if order.is_open:
                self._cancel(order, "")

    def _cancel(self, order: _Order, reason: str) -> None:
        if not order.is_open:
            raise ValueError(f"order {order.placed.order_id} is {order.status}")
        order.status = "Cancelled"
        self._send_status(order)
        session = self._session_for(order.placed.client_id)
        if session is not None:
            session.send(4, 2, order.placed.order_id, 202,
                         f"Order Canceled - reason:{reason}", "")  # fmt: skip

    def _on_req_open_orders(self, session: _Session, fields: list[str]) -> None:
        self._send_open_orders(session, all_clients=False)

    def _on_req_all_open_orders(self, session: _Session, fields: list[str]) -> None:
        self._send_open_orders(session, all_clients=True)

    def _send_open_orders(self, session: _Session, *, all_clients: bool) -> None:
        for order in self._orders.values():
            if order.is_open and (all_clients or order.placed.client_id == session.client_id):
                session.send(*_open_order_fields(order))
                session.send(*_order_status_fields(order))
        session.send(53, 1)

    def _on_req_completed_orders(self, session: _Session, fields: list[str]) -> None:
        for order in self._orders.values():
            if not order.is_open:
                session.send(*_completed_order_fields(order))
        session.send(102)

    # -- fills and executions -----------------------------------------------------------

    def _fill(
        self,
        order: _Order,
        *,
        quantity: float | None,
        price: float | None,
        exec_id: str | None,
        leg_prices: dict[int, float],
        commission: float | None,
        report_commission: bool | None,
        when: datetime | None,
    ) -> list[str]:
        if not order.is_open:
            raise ValueError(f"order {order.placed.order_id} is {order.status}")
        quantity = order.remaining if quantity is None else quantity
        if not 0 < quantity <= order.remaining + 1e-9:
            raise ValueError(f"quantity {quantity}: {order.remaining} remain to be filled")
        if price is None:
            price = order.placed.lmt_price
        if price is None:
            price = self._market_price(order)
        when = when or datetime.now(UTC)
        executions = [
            self._execute(order, leg, side=_leg_side(order.placed.action, spec.action),
                          shares=quantity * spec.ratio, price=self._leg_price(leg, leg_prices),
                          exec_id=None, when=when)
            for leg, spec in order.legs
        ]  # fmt: skip
        summary = order.contract or self._bag_contract(order.placed.contract)
        side = "BOT" if order.placed.action == "BUY" else "SLD"
        executions.append(self._execute(order, summary, side=side, shares=quantity, price=price,
                                        exec_id=exec_id, when=when))  # fmt: skip
        order.avg_fill_price = (order.avg_fill_price * order.filled + price * quantity) / (
            order.filled + quantity
        )
        order.filled += quantity
        order.last_fill_price = price
        order.status = "Filled" if order.remaining <= 1e-9 else "Submitted"
        session = self._session_for(order.placed.client_id)
        for execution in executions:
            if session is not None:
                session.send(*_exec_details_fields(-1, execution))
        self._send_status(order)
        report = self.auto_commission if report_commission is None else report_commission
        for execution in executions:
            if execution.contract.sec_type != "BAG":
                self._book_position(execution)
                if report:
                    self._send_commission(execution.exec_id, commission, "USD", None)
        return [execution.exec_id for execution in executions]

    def _market_price(self, order: _Order) -> float:
        buying = order.placed.action == "BUY"
        if order.contract is not None:
            quote = self._quotes[order.contract.con_id]
            price = quote.ask if buying else quote.bid
            return price if price is not None else quote.midpoint() or 0.0
        net = 0.0
        for leg, spec in order.legs:
            sign = 1 if spec.action == "BUY" else -1
            net += sign * spec.ratio * (self._quotes[leg.con_id].midpoint() or 0.0)
        return round(net, 4)

    def _leg_price(self, leg: FakeContract, leg_prices: dict[int, float]) -> float:
        if leg.con_id in leg_prices:
            return leg_prices[leg.con_id]
        return round(self._quotes[leg.con_id].midpoint() or 0.0, 4)

    def _execute(self, order: _Order, contract: FakeContract, *, side: str, shares: float,
                 price: float, exec_id: str | None, when: datetime) -> FakeExecution:  # fmt: skip
        done_shares, done_average = order.leg_fills.get(contract.con_id, (0.0, 0.0))
        cum_qty = done_shares + shares
        avg_price = (done_average * done_shares + price * shares) / cum_qty
        order.leg_fills[contract.con_id] = (cum_qty, avg_price)
        exec_id = exec_id or f"{self._exec_prefix}.{next(self._exec_numbers):08x}.01.01"
        if exec_id in self._executions:
            raise ValueError(f"exec_id {exec_id!r} was used before")
        venues = [name for name in contract.exchanges if name != "SMART"]
        execution = FakeExecution(
            exec_id=exec_id, order_id=order.placed.order_id, client_id=order.placed.client_id,
            perm_id=order.perm_id, account=order.placed.account or self.accounts[0],
            contract=contract, side=side, shares=shares, price=price, cum_qty=cum_qty,
            avg_price=avg_price, time=when, exchange=venues[0] if venues else "SMART",
            order_ref=order.placed.order_ref,
        )  # fmt: skip
        self._executions[exec_id] = execution
        return execution

    def _commission_for(self, execution: FakeExecution) -> float:
        if execution.contract.sec_type == "OPT":
            return round(self.commission_per_contract * execution.shares, 2)
        return round(max(1.0, 0.005 * execution.shares), 2)

    def _send_commission(self, exec_id: str, commission: float | None, currency: str,
                         realized_pnl: float | None) -> None:  # fmt: skip
        execution = self._executions[exec_id]
        if commission is None:
            commission = execution.commission
        if commission is None:
            commission = self._commission_for(execution)
        execution = dataclasses.replace(execution, commission=commission,
                                        commission_currency=currency,
                                        realized_pnl=realized_pnl)  # fmt: skip
        self._executions[exec_id] = execution
        session = self._session_for(execution.client_id)
        if session is not None:
            session.send(*_commission_fields(execution))

    def _resend_execution(self, exec_id: str, with_commission: bool) -> None:
        execution = self._executions[exec_id]
        session = self._session_for(execution.client_id)
        if session is None:
            return
        session.send(*_exec_details_fields(-1, execution))
        if with_commission and execution.commission is not None:
            session.send(*_commission_fields(execution))

    def _on_req_executions(self, session: _Session, fields: list[str]) -> None:
        req_id = _int(fields[2])
        client_filter, account, _time, symbol, sec_type, _exchange, side = (
            _int(fields[3]), *fields[4:10]
        )  # fmt: skip
        wanted_side = {"BUY": "BOT", "SELL": "SLD"}.get(side.upper(), side.upper())
        chosen = [
            execution
            for execution in self._executions.values()
            if execution.client_id == session.client_id
            and client_filter in (0, execution.client_id)
            and account in ("", execution.account)
            and symbol in ("", execution.contract.symbol)
            and sec_type in ("", execution.contract.sec_type)
            and wanted_side in ("", execution.side)
        ]
        for execution in chosen:
            session.send(*_exec_details_fields(req_id, execution))
        for execution in chosen:
            if execution.commission is not None:
                session.send(*_commission_fields(execution))
        session.send(55, 1, req_id)

    # -- positions and account ----------------------------------------------------------

    def _book_position(self, execution: FakeExecution) -> None:
        key = (execution.account, execution.contract.con_id)
        held = self._positions.get(key)
        old = held.position if held else 0.0
        average = held.avg_cost if held else 0.0
        signed = execution.shares if execution.side == "BOT" else -execution.shares
        cost = execution.price * execution.contract.multiplier_value
        new = old + signed
        if old == 0 or (old > 0) == (signed > 0):
            average = (abs(old) * average + abs(signed) * cost) / abs(new)
        elif abs(signed) > abs(old):
            average = cost
        elif new == 0:
            average = 0.0
        self._set_position(execution.account, execution.contract.con_id, new, average)

    def _set_position(self, account: str, con_id: int, position: float, avg_cost: float) -> None:
        contract = self._contracts[con_id]
        held = Position(account, con_id, position, avg_cost)
        self._positions[(account, con_id)] = held
        for session in self._ready_sessions():
            if session.wants_positions:
                session.send(*_position_fields(held, contract))
            if session.account_updates == account:
                session.send(*self._portfolio_fields(held))

    def _portfolio_fields(self, held: Position) -> list[object]:
        contract = self._contracts[held.con_id]
        quote = self._quotes.get(held.con_id)
        price = (quote.midpoint() if quote else None) or 0.0
        value = held.position * price * contract.multiplier_value
        unrealized = value - held.position * held.avg_cost
        return [
            7, 8, contract.con_id, contract.symbol, contract.sec_type, contract.last_trade_date,
            contract.strike, contract.right, contract.multiplier, contract.primary_exchange,
            contract.currency, contract.local_symbol, contract.trading_class, held.position,
            price, round(value, 2), held.avg_cost, round(unrealized, 2), 0.0, held.account,
        ]  # fmt: skip

    def _on_req_positions(self, session: _Session, fields: list[str]) -> None:
        session.wants_positions = True
        for held in self._positions.values():
            session.send(*_position_fields(held, self._contracts[held.con_id]))
        session.send(62, 1)

    def _on_cancel_positions(self, session: _Session, fields: list[str]) -> None:
        session.wants_positions = False

    def _on_req_account_updates(self, session: _Session, fields: list[str]) -> None:
        account = fields[3] or self.accounts[0]
        if fields[2] != "1":
            session.account_updates = None
            return
        session.account_updates = account
        for tag, value in self._account_values.items():
            session.send(6, 2, tag, value, "USD", account)
        for held in self._positions.values():
            if held.account == account:
                session.send(*self._portfolio_fields(held))
        session.send(8, 1, f"{datetime.now(UTC):%H:%M}")
        session.send(54, 1, account)

    def _on_req_account_updates_multi(self, session: _Session, fields: list[str]) -> None:
        req_id, account, model_code = _int(fields[2]), fields[3], fields[4]
        for tag, value in self._account_values.items():
            session.send(73, 1, req_id, account, model_code, tag, value, "USD")
        session.send(74, 1, req_id)

    def _on_req_account_summary(self, session: _Session, fields: list[str]) -> None:
        req_id, tags = _int(fields[2]), set(fields[4].split(","))
        for account in self.accounts:
            for tag, value in self._account_values.items():
                if tag in tags:
                    session.send(63, 1, req_id, account, tag, value, "USD")
        session.send(64, 1, req_id)


# ---------------------------------------------------------------------------------------
# Message builders (server version 178)


def _greek_fields(quote: FakeQuote) -> list[float]:
    def value(number: float | None, unset: float) -> float:
        return unset if number is None else float(number)

    return [
        value(quote.implied_vol, -1.0), value(quote.delta, -2.0),
        value(quote.option_price, -1.0), value(quote.pv_dividend, -1.0),
        value(quote.gamma, -2.0), value(quote.vega, -2.0), value(quote.theta, -2.0),
        value(quote.underlying_price, -1.0),
    ]  # fmt: skip


def _leg_side(combo_action: str, leg_action: str) -> str:
    buying = (combo_action == "BUY") == (leg_action == "BUY")
    return "BOT" if buying else "SLD"


def _contract_fields(contract: FakeContract) -> list[object]:
    """conId .. tradingClass as execDetails and position carry them (11 fields)."""
    return [
        contract.con_id, contract.symbol, contract.sec_type, contract.last_trade_date,
        contract.strike, contract.right, contract.multiplier, contract.exchange,
        contract.currency, contract.local_symbol, contract.trading_class,
    ]  # fmt: skip


def _order_contract_fields(order: _Order) -> list[object]:
    """The order's contract as openOrder/completedOrder carry it (11 fields)."""
    if order.contract is not None:
        return _contract_fields(order.contract)
    wire = order.placed.contract
    con_id = BAG_CON_ID if wire.sec_type == "BAG" else wire.con_id
    return [con_id, wire.symbol, wire.sec_type, wire.last_trade_date, wire.strike, wire.right,
            wire.multiplier, wire.exchange, wire.currency, wire.local_symbol,
            wire.trading_class]  # fmt: skip


def _combo_fields(placed: PlacedOrder) -> list[object]:
    """Combo legs, order-combo-leg prices and smart-combo routing params, with counts."""
    fields: list[object] = [len(placed.combo_legs)]
    for leg in placed.combo_legs:
        fields += [leg.con_id, leg.ratio, leg.action, leg.exchange, leg.open_close,
                   leg.short_sale_slot, leg.designated_location, leg.exempt_code]  # fmt: skip
    fields += [len(placed.combo_leg_prices), *placed.combo_leg_prices]
    fields.append(len(placed.smart_combo_routing_params))
    for tag, value in placed.smart_combo_routing_params:
        fields += [tag, value]
    return fields


def _open_order_fields(order: _Order, *, what_if: bool = False) -> list[object]:
    """openOrder (5) at server version 178, as ``Decoder.openOrder`` reads it."""
    placed = order.placed
    raw = placed.fields
    margins = ["10000.00", "10000.00", "1000000.00", "500.00", "500.00", "0.00",
               "10500.00", "10500.00", "1000000.00"] if what_if else [""] * 9  # fmt: skip
    return [
        5, placed.order_id, *_order_contract_fields(order),
        placed.action, placed.total_quantity, placed.order_type, raw[19], raw[20], placed.tif,
        placed.oca_group, placed.account or "", placed.open_close, placed.origin,
        placed.order_ref, placed.client_id, order.perm_id, placed.outside_rth, False,
        "", "", "", "", "", "",  # discretionaryAmt, goodAfterTime, legacy, faGroup..Percentage
        "", placed.good_till_date, "", "", "", 0, "", -1,  # modelCode .. exemptCode
        0, "", "", "", "", "", 0, False, False, False, "", 0,  # auctionStrategy .. ocaType
        False, False, "", placed.parent_id, 0, "", 0, "", "",  # eTradeOnly .. dnAuxPrice
        False, 0, "", "", "", 0, "",  # continuousUpdate .. comboLegsDescrip
        *_combo_fields(placed),
        "", "", "",  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
        "",  # hedgeType
        False, "", "", False, False,  # optOutSmartRouting .. notHeld, deltaNeutralContract
        "",  # algoStrategy
        False, what_if, order.status, *margins,
        1.0 if what_if else "", "", "", "USD" if what_if else "", "",  # commission .. warning
        False, False,  # randomizeSize, randomizePrice
        0,  # conditions
        "", "", "", "", "", "", "", 0,  # adjustedOrderType .. adjustableTrailingUnit
        "", "", "",  # softDollarTier name, value, displayName
        "", False, False, "", "",  # cashQty .. usePriceMgmtAlgo
        "", False, False,  # duration, postToAts, autoCancelParent
        "", "", "", "", "",  # minTradeQty .. midOffsetAtHalf
    ]  # fmt: skip


def _completed_order_fields(order: _Order) -> list[object]:
    """completedOrder (101) at server version 178, as ``Decoder.completedOrder`` reads it."""
    placed = order.placed
    raw = placed.fields
    return [
        101, *_order_contract_fields(order),
        placed.action, placed.total_quantity, placed.order_type, raw[19], raw[20], placed.tif,
        placed.oca_group, placed.account, placed.open_close, placed.origin, placed.order_ref,
        order.perm_id, placed.outside_rth, False, "", "", "", "", "",
        "", placed.good_till_date, "", "", "", 0, "", -1,  # modelCode .. exemptCode
        "", "", "", "", "", 0, False, False, "", 0, 0, "", 0, "", "",  # .. dnAuxPrice
        False, 0, "", "", "",  # continuousUpdate .. comboLegsDescrip
        *_combo_fields(placed),
        "", "", "",  # scale
        "",  # hedgeType
        "", "", False, False,  # clearingAccount, clearingIntent, notHeld, dnc
        "",  # algoStrategy
        False, order.status, False, False,  # solicited, status, randomize size/price
        0,  # conditions
        "", "", "", False, False, "", order.filled, 0, False, "", False, False, 0,
        f"{datetime.now(UTC):%Y%m%d %H:%M:%S} UTC", order.status,
        "", "", "", "", "",  # minTradeQty .. midOffsetAtHalf
    ]  # fmt: skip


def _order_status_fields(order: _Order) -> list[object]:
    placed = order.placed
    return [3, placed.order_id, order.status, order.filled, order.remaining,
            order.avg_fill_price, order.perm_id, placed.parent_id, order.last_fill_price,
            placed.client_id, "", 0.0]  # fmt: skip


def _exec_details_fields(req_id: int, execution: FakeExecution) -> list[object]:
    return [
        11, req_id, execution.order_id, *_contract_fields(execution.contract),
        execution.exec_id, f"{execution.time.astimezone(UTC):%Y%m%d %H:%M:%S} UTC",
        execution.account, execution.exchange, execution.side, execution.shares,
        execution.price, execution.perm_id, execution.client_id, 0, execution.cum_qty,
        execution.avg_price, execution.order_ref, "", "", "", 1, False,
    ]  # fmt: skip


def _commission_fields(execution: FakeExecution) -> list[object]:
    pnl = UNSET_DOUBLE_TEXT if execution.realized_pnl is None else execution.realized_pnl
    return [59, 1, execution.exec_id, execution.commission, execution.commission_currency,
            pnl, UNSET_DOUBLE_TEXT, ""]  # fmt: skip


def _position_fields(held: Position, contract: FakeContract) -> list[object]:
    return [61, 3, held.account, *_contract_fields(contract), held.position, held.avg_cost]


@contextmanager
def running_tws(
    contracts: Iterable[FakeContract] | None = None, **options: Unpack[FakeTwsOptions]
) -> Iterator[FakeTws]:
    """Start a :class:`FakeTws` on 127.0.0.1 and stop it (closing every client) afterwards."""
    fake = FakeTws(contracts, **options)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
