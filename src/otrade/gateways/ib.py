"""The Interactive Brokers gateway, on ib_async (TWS or IB Gateway).

:class:`IbGateway` (gateway name ``ib``) runs one ``ib_async.IB`` on the MainEngine's IO
loop.  Every call from the event thread is marshalled onto that loop, and every ib_async
callback becomes an otrade event; the gateway never touches engine state.

**Connecting.**  :meth:`IbGateway.connect` takes ``host``, ``port``, ``client_id``,
``account``, ``readonly``, ``timeout_s`` and the reconnect backoff (see
:class:`IbSettings`).  A lost connection is retried with exponential backoff on the clock
until :meth:`IbGateway.close`.  After every (re)connect the gateway *reconciles*:

* every execution IB reports for the day (the startup ``reqExecutions``) becomes a trade
  unless this session already put it; the DatabaseEngine drops execution ids it stored
  before, so fills made while disconnected, or while otrade was down, are booked exactly
  once, and their commissions follow;
* open and completed orders update the orders they belong to, found by ``orderRef``
  (every order carries its local order id there), so orders placed before a drop or a
  restart move on from where they were; after a restart, what IB does not keep (strategy,
  legs and roles, reference, the volume in otrade units) comes from the stored order
  (:meth:`~otrade.gateways.base.BaseGateway.stored_order`), so fills book into the
  strategy that sent the order;
* positions and the account (net liquidation, available funds) are reported;
* market-data subscriptions are made again (IB drops them with the connection).

**Orders.**  Market and limit orders on stocks and ETFs (SMART), single options and
combos.  A combo goes out as an IB ``BAG`` whose legs are ``ComboLeg(conId, ratio,
action)`` with the ratios reduced by their greatest common divisor ``g``: the BAG's
``totalQuantity`` is ``volume x g`` and its limit price the net per unit divided by
``g``.  Options need their IB ``conId``: from the listing (``broker_id``), else the
contract is qualified by its IB ``localSymbol`` first.

**Statuses and errors.**  IB's statuses map to otrade's state machine
(:class:`~otrade.gateways.orders.OrderBook`): PendingSubmit and ApiPending are
SUBMITTING; PreSubmitted and Submitted are NOT_TRADED or PART_TRADED by the filled
quantity; Filled is ALL_TRADED; Cancelled and ApiCancelled are CANCELLED, or REJECTED when
IB refused the order (error 201, whose text becomes ``reject_reason``); Inactive is
REJECTED.  Error 202 (cancelled) completes a cancel; 10147 (no such order to cancel) is
logged and does *not* mark the order cancelled, since it may have filled; 1100, 1101 and
1102 are logged, and after 1101 (data lost) market data is requested again; 200 (no
security definition), 354 (no market-data subscription) and 162 (pacing) are logged as
warnings.

**Executions.**  Every execution becomes a :class:`~otrade.objects.TradeData` whose
``trade_id`` is IB's ``execId``.  ib_async reports no event for an execution of an order
it does not know (a manual order in TWS); the gateway finds those within a second in
``ib.fills()`` and books them with a WARNING, under the order id ``ib-perm-<permId>``.
A combo's per-leg executions become per-leg trades carrying the combo's order id and the
leg's role; the BAG summary execution is not booked.  A commission report that arrives
after its trade is put as :class:`~otrade.objects.CommissionData`.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
from collections.abc import Mapping
from datetime import UTC
from functools import reduce
from typing import Any, ClassVar, Final

import attrs
from loguru import logger
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from otrade.clock import Clock
from otrade.constants import Direction, OrderType, Product, Status
from otrade.errors import GatewayError, OrderRejected
from otrade.event import EventEngine
from otrade.gateways.base import BaseGateway, settings_from_mapping
from otrade.gateways.orders import OrderBook, OrderUpdate, check_request, new_order_id
from otrade.ioloop import IoLoop
from otrade.objects import (
    AccountData,
    CancelRequest,
    CommissionData,
    ContractData,
    GreeksData,
    OrderData,
    OrderRequest,
    PositionData,
    QuoteData,
    SubscribeRequest,
    TradeData,
)
from otrade.settings import Secret
from otrade.symbols import from_ib_local_symbol, is_option_symbol, to_ib_local_symbol

__all__ = ["IbGateway", "IbSettings", "ib_status_update", "reduce_ratios"]

ORDER_TYPES: Final = frozenset({OrderType.MARKET, OrderType.LIMIT})
_CONNECTIVITY: Final = {
    1100: "connectivity between IB and TWS lost",
    1101: "connectivity restored, data lost: market data requested again",
    1102: "connectivity restored, data kept",
}
_WARNINGS: Final = {200, 354, 162, 10147, 10148}
# How often executions ib_async kept without an event are looked for.
SWEEP_INTERVAL_S: Final = 1.0
_ORDER_ID: Final = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


@attrs.frozen(kw_only=True)
class IbSettings:
    """The IB gateway's connect settings.

    Attributes:
        host: TWS or IB Gateway host.
        port: Its API port (TWS 7497 paper / 7496 live, Gateway 4002 / 4001).
        client_id: The API client id; keep it fixed so open orders re-bind after a
            reconnect.
        account: The account to trade and report ("" for the only one); it may be given
            as a :class:`~otrade.settings.Secret`, which keeps it out of every log line.
        readonly: Connect read-only (no orders).
        timeout_s: Connect and startup-sync timeout.
        reconnect_min_s: First wait before a reconnect; it doubles up to
            ``reconnect_max_s``.
        reconnect_max_s: Longest wait between reconnect attempts.
    """

    host: str = "127.0.0.1"
    port: int = 7497
    client_id: int = 1
    account: str = ""
    readonly: bool = False
    timeout_s: float = 10.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> IbSettings:
        """Build from connect settings, refusing unknown keys and bad values by name.

        Raises:
            GatewayError: The message names the key and what was expected.
        """
        settings = settings_from_mapping(cls, values, "ib settings", _checked)
        if not 0 < settings.port < 65536:
            raise GatewayError(f"ib settings: port must be from 1 to 65535, not {settings.port}")
        return settings


def _checked(key: str, given: object, default: object) -> object:
    # The account may be given as a Secret: the MainEngine then redacts it in logs.
    value = given.get_secret_value() if isinstance(given, Secret) else given
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise GatewayError(f"ib settings: {key} must be true or false, not {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise GatewayError(f"ib settings: {key} must be an integer >= 0, not {value!r}")
        return value
    if isinstance(default, float):
        number = value if isinstance(value, int | float) else None
        if isinstance(value, bool) or number is None or not number > 0:
            raise GatewayError(f"ib settings: {key} must be a number > 0, not {value!r}")
        if not math.isfinite(number):
            raise GatewayError(f"ib settings: {key} must be finite, not {value!r}")
        return float(number)
    if not isinstance(value, str):
        raise GatewayError(f"ib settings: {key} must be a string, not {value!r}")
    return value


def reduce_ratios(ratios: list[int]) -> tuple[list[int], int]:
    """Signed leg ratios divided by their greatest common divisor, and the divisor."""
    divisor = reduce(math.gcd, (abs(ratio) for ratio in ratios))
    return [ratio // divisor for ratio in ratios], divisor


def ib_status_update(
    status: str, filled: float, average_price: float, reject_reason: str = ""
) -> OrderUpdate:
    """One IB order status in otrade's terms (see the module docstring)."""
    traded = round(filled)
    # 0 is IB's "no fills yet"; a combo's net price may be negative (a credit).
    usable = traded > 0 and average_price != 0 and math.isfinite(average_price)
    price = average_price if usable else None
    mapped = {
        "PendingSubmit": Status.SUBMITTING,
        "ApiPending": Status.SUBMITTING,
        "PreSubmitted": Status.NOT_TRADED,
        "Submitted": Status.NOT_TRADED,
        "Filled": Status.ALL_TRADED,
        "Cancelled": Status.REJECTED if reject_reason else Status.CANCELLED,
        "ApiCancelled": Status.CANCELLED,
        "Inactive": Status.REJECTED,
    }.get(status)
    return OrderUpdate(
        status=mapped,
        traded=traded,
        average_price=price,
        reject_reason=reject_reason or (f"IB status {status}" if status == "Inactive" else None),
    )


@attrs.frozen
class _Placed:
    """What the gateway remembers of an order it sent."""

    request: OrderRequest
    leg_roles: Mapping[str, str]  # leg symbol -> role
    divisor: int = 1  # IB units per otrade unit (a combo's reduced ratios)


def _placed(request: OrderRequest) -> _Placed:
    roles = {leg.symbol: leg.role for leg in request.legs}
    divisor = reduce_ratios([leg.ratio for leg in request.legs])[1] if request.legs else 1
    return _Placed(request, roles, divisor)


class IbGateway(BaseGateway):
    """Interactive Brokers through ib_async; see the module docstring."""

    default_name: ClassVar[str] = "ib"
    default_settings: ClassVar[Mapping[str, object]] = attrs.asdict(IbSettings())

    def __init__(
        self, event_engine: EventEngine, gateway_name: str, clock: Clock, io_loop: IoLoop
    ) -> None:
        super().__init__(event_engine, gateway_name, clock, io_loop)
        self._log = logger.bind(source=gateway_name)
        self._lock = threading.RLock()
        self._settings = IbSettings()
        self._symbols_by_conid: dict[int, str] = {}
        self._book = OrderBook()
        self._placed: dict[str, _Placed] = {}
        self._not_stored: set[str] = set()  # order ids with no stored order to read back
        self._ib_orders: dict[str, Any] = {}  # local order id -> ib_async Order
        self._reject_reasons: dict[str, str] = {}
        self._booked: set[str] = set()  # execution ids put this session
        self._commissions: dict[str, float] = {}  # execution id -> commission put
        self._subscriptions: dict[str, Any] = {}  # symbol -> ib_async Contract
        self._tickers: dict[int, str] = {}  # id(ticker) -> symbol
        # IO-loop state.
        self._ib: Any = None
        self._closing = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Future[None] | None = None

    # -- connection -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the API connection is up."""
        ib = self._ib
        return bool(ib is not None and ib.isConnected())

    def connect(self, settings: Mapping[str, object]) -> None:
        """Check ``settings`` and connect on the IO loop (progress arrives as log events).

        Raises:
            GatewayError: A setting is unknown or invalid (named), or the IO loop is not
                running.
        """
        parsed = IbSettings.from_mapping(settings)
        self._settings = parsed
        self._closing = False
        try:
            loop = self.io_loop.loop
        except Exception as error:
            raise GatewayError(f"{self.gateway_name}: the IO loop is not running") from error
        asyncio.run_coroutine_threadsafe(self._connect_first(), loop)

    def close(self) -> None:
        """Disconnect and stop reconnecting; harmless twice."""
        self._closing = True
        if self._ib is None:
            return
        try:
            self.io_loop.run(self._disconnect(), timeout_s=5.0)
        except Exception:  # noqa: BLE001 - closing must not raise
            self._log.opt(exception=True).warning("IB disconnect did not finish cleanly")

    async def _connect_first(self) -> None:
        import ib_async  # noqa: PLC0415 - imported where it runs: on the IO loop

        if self.connected or (self._reconnecting is not None and not self._reconnecting.done()):
            self.write_log("IB connect: already connected or reconnecting", "WARNING")
            return
        if self._ib is None:
            self._ib = ib_async.IB()
            self._wire(self._ib)
        try:
            await self._connect_once()
        except Exception as error:  # noqa: BLE001 - reported; the reconnect loop retries
            self.write_log(f"IB connection to {self._where()} failed: {error!r}", "WARNING")
            self._schedule_reconnect()

    async def _connect_once(self) -> None:
        settings = self._settings
        await self._ib.connectAsync(
            settings.host,
            settings.port,
            clientId=settings.client_id,
            timeout=settings.timeout_s,
            readonly=settings.readonly,
            account=settings.account,
        )
        self.write_log(f"IB connected to {self._where()} as client {settings.client_id}")
        try:
            self._reconcile()
        except Exception:  # noqa: BLE001 - the connection stands; the next connect retries
            self._log.opt(exception=True).error("IB reconciliation failed")
            self.write_log("IB reconciliation failed (traceback in the log)", "ERROR")
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.ensure_future(self._sweep_forever())

    async def _disconnect(self) -> None:
        for task in (self._reconnecting, self._sweeper):
            if task is not None and not task.done():
                task.cancel()
        if self._ib is not None and self._ib.isConnected():
            self._ib.disconnect()

    def _where(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    def _schedule_reconnect(self) -> None:
        if self._closing or (self._reconnecting is not None and not self._reconnecting.done()):
            return
        self._reconnecting = asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        settings = self._settings
        retrying = AsyncRetrying(
            sleep=self.clock.sleep_async,
            wait=wait_exponential(
                multiplier=settings.reconnect_min_s, max=settings.reconnect_max_s
            ),
            # Any failure is retried: a reconnect loop that died would leave the
            # gateway down for good.
            retry=retry_if_exception_type(Exception),
            before_sleep=self._log_retry,
            reraise=True,
        )
        started = self.clock.timestamp()
        async for attempt in retrying:
            with attempt:
                if self._closing:
                    return
                await self._connect_once()
        elapsed = self.clock.timestamp() - started
        self.write_log(f"IB reconnected after {elapsed:.1f} s")

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        self._log.warning(
            "IB reconnect attempt {} to {} failed: {!r}", state.attempt_number, self._where(), error
        )

    def _wire(self, ib: Any) -> None:
        ib.disconnectedEvent += self._on_disconnected
        ib.orderStatusEvent += self._on_order_status
        ib.execDetailsEvent += self._on_exec_details
        ib.commissionReportEvent += self._on_commission_report
        ib.errorEvent += self._on_error
        ib.pendingTickersEvent += self._on_tickers
        ib.positionEvent += self._on_position

    def _on_disconnected(self) -> None:
        if self._closing:
            self.write_log("IB disconnected")
            return
        self.write_log(f"IB connection to {self._where()} lost; reconnecting", "WARNING")
        self._schedule_reconnect()

    # -- reconciliation (IO loop) ---------------------------------------------------------

    def _reconcile(self) -> None:
        ib = self._ib
        for fill in ib.fills():
            self._book_fill(fill.contract, fill.execution, fill.commissionReport)
        for trade in ib.trades():
            self._update_from_trade(trade)
        for position in ib.positions():
            self._on_position(position)
        self._put_account()
        for symbol, contract in self._subscriptions.items():
            self._request_market_data(symbol, contract)

    async def _sweep_forever(self) -> None:
        """Book, every second, executions ib_async kept without an event.

        ib_async raises no execDetailsEvent for an execution whose order it does not know
        (a manual order in TWS, another client's) and no commission event for its
        report; they only land in ``ib.fills()``, which this sweeps.
        """
        while not self._closing:
            await self.clock.sleep_async(SWEEP_INTERVAL_S)
            if self.connected:
                self._sweep_fills()

    def _sweep_fills(self) -> None:
        for fill in self._ib.fills():
            exec_id = fill.execution.execId
            if exec_id not in self._booked:
                self._book_fill(fill.contract, fill.execution, fill.commissionReport)
            elif fill.commissionReport.execId == exec_id:
                self._put_commission(exec_id, fill.commissionReport)

    def _put_account(self) -> None:
        values = {
            value.tag: value
            for value in self._ib.accountValues()
            if value.tag in ("NetLiquidation", "AvailableFunds") and value.currency != "BASE"
        }
        if "NetLiquidation" not in values:
            return
        balance = values["NetLiquidation"]
        available = values.get("AvailableFunds", balance)
        self.on_account(
            AccountData(
                account_id=balance.account,
                gateway_name=self.gateway_name,
                balance=_number(balance.value),
                available=_number(available.value),
                currency=balance.currency or "USD",
                time=self.clock.now(),
            )
        )

    # -- orders ---------------------------------------------------------------------------

    def send_order(self, request: OrderRequest) -> str:
        """Check the request, send it on the IO loop and return its local id at once.

        Raises:
            GatewayError: Not connected, or connected read-only.
            OrderRejected: The request is invalid, or trades an index (named).
        """
        if not self.connected:
            raise GatewayError(f"{self.gateway_name}: not connected")
        if self._settings.readonly:
            raise GatewayError(f"{self.gateway_name}: connected read-only; orders are refused")
        check_request(request, self.get_contract, ORDER_TYPES)
        for symbol in [leg.symbol for leg in request.legs] or [request.symbol]:
            if self._contract(symbol).product is Product.INDEX:
                raise OrderRejected(f"symbol {symbol!r} is an index, which cannot be traded")
        order_id = new_order_id(self.clock)
        with self._lock:
            order = self._book.add(
                request.create_order(order_id, self.gateway_name, self.clock.now())
            )
            self._placed[order_id] = _placed(request)
        self.on_order(order)
        asyncio.run_coroutine_threadsafe(self._place(order_id, request), self.io_loop.loop)
        return order_id

    def cancel_order(self, request: CancelRequest) -> None:
        """Ask IB to cancel; the result arrives as an order event."""
        order = self._book.get(request.order_id)
        if order is None or not order.status.is_active:
            state = "unknown" if order is None else order.status.value
            self.write_log(f"cancel of order {request.order_id}: it is {state}", "WARNING")
            return
        self.io_loop.loop.call_soon_threadsafe(self._cancel, request.order_id)

    def _cancel(self, order_id: str) -> None:
        ib_order = self._ib_orders.get(order_id)
        if ib_order is None or not self.connected:
            self.write_log(f"cancel of order {order_id}: not sent to IB yet", "WARNING")
            return
        self._ib.cancelOrder(ib_order)

    async def _place(self, order_id: str, request: OrderRequest) -> None:
        try:
            await self._place_order(order_id, request)
        except (OrderRejected, GatewayError) as error:
            self._apply(order_id, OrderUpdate(status=Status.REJECTED, reject_reason=str(error)))
        except Exception as error:  # noqa: BLE001 - the order is refused, never lost silently
            self._log.opt(exception=True).error("order {} could not be sent", order_id)
            reason = f"not sent: {error!r}"
            self._apply(order_id, OrderUpdate(status=Status.REJECTED, reject_reason=reason))

    async def _place_order(self, order_id: str, request: OrderRequest) -> None:
        import ib_async  # noqa: PLC0415 - see _connect_first

        contract, quantity, price = await self._ib_contract(request)
        action = "BUY" if request.direction is Direction.LONG else "SELL"
        common: dict[str, Any] = {"orderRef": order_id, "tif": "DAY"}
        if self._settings.account:
            common["account"] = self._settings.account
        ib_order: ib_async.Order
        if request.order_type is OrderType.MARKET or price is None:
            ib_order = ib_async.MarketOrder(action, quantity, **common)
        else:
            ib_order = ib_async.LimitOrder(action, quantity, price, **common)
        trade = self._ib.placeOrder(contract, ib_order)
        self._ib_orders[order_id] = trade.order
        self._apply(order_id, OrderUpdate(broker_order_id=str(trade.order.orderId)))

    async def _ib_contract(self, request: OrderRequest) -> tuple[Any, int, float | None]:
        """The IB contract, quantity and limit price of ``request``."""
        import ib_async  # noqa: PLC0415 - see _connect_first

        if not request.legs:
            contract = await self._qualified(request.symbol)
            return contract, request.volume, request.price
        ratios, divisor = reduce_ratios([leg.ratio for leg in request.legs])
        legs = []
        for leg, ratio in zip(request.legs, ratios, strict=True):
            qualified = await self._qualified(leg.symbol)
            legs.append(
                ib_async.ComboLeg(
                    conId=qualified.conId,
                    ratio=abs(ratio),
                    action="BUY" if ratio > 0 else "SELL",
                    exchange="SMART",
                )
            )
        first = self._contract(request.legs[0].symbol)
        underlying = first.underlying_symbol or first.symbol
        bag = ib_async.Contract(
            secType="BAG", symbol=underlying, exchange="SMART", currency=first.currency,
            comboLegs=legs,
        )  # fmt: skip
        price = None if request.price is None else request.price / divisor
        return bag, request.volume * divisor, price

    async def _qualified(self, symbol: str) -> Any:
        """An IB contract with its conId for one otrade symbol."""
        import ib_async  # noqa: PLC0415 - see _connect_first

        known = self._contract(symbol)
        if known.broker_id:
            contract = ib_async.Contract(conId=int(known.broker_id), exchange="SMART")
            self._symbols_by_conid[contract.conId] = symbol
            return contract
        if known.product is Product.OPTION:
            wanted = ib_async.Contract(
                secType="OPT", localSymbol=to_ib_local_symbol(symbol), exchange="SMART",
                currency=known.currency,
            )  # fmt: skip
        else:
            wanted = ib_async.Stock(symbol, "SMART", known.currency)
        (qualified,) = await self._ib.qualifyContractsAsync(wanted)
        if qualified is None:
            raise OrderRejected(f"symbol {symbol!r}: IB has no contract for it (error 200)")
        self._symbols_by_conid[qualified.conId] = symbol
        return qualified

    def _apply(self, order_id: str, update: OrderUpdate) -> OrderData | None:
        with self._lock:
            if order_id not in self._book:
                return None
            new = self._book.update(order_id, update, self.clock.now())
        if new is not None:
            self.on_order(new)
        return new

    # -- ib_async callbacks (IO loop) -----------------------------------------------------

    def _on_order_status(self, trade: Any) -> None:
        self._update_from_trade(trade)

    def _update_from_trade(self, trade: Any) -> None:
        order_id = self._local_id(trade.order.orderRef, trade.order.orderId)
        if order_id is None:
            return
        self._ib_orders.setdefault(order_id, trade.order)
        if order_id not in self._book:
            self._adopt(order_id, trade)
        status = trade.orderStatus
        last = trade.log[-1] if trade.log else None
        last_code = last.errorCode if last is not None else 0
        if status.status == "Cancelled" and last_code == 10147:
            return  # "no such order to cancel": it may have filled; executions will tell
        reason = self._reject_reasons.get(order_id, "")
        if status.status == "Cancelled" and last is not None and last_code not in (0, 202):
            # ib_async cancels an order IB refused (201, 200, 103...): that is a rejection.
            reason = reason or f"{last_code}: {_error_text(last.message)}"
            self._reject_reasons[order_id] = reason
        placed = self._placed_for(order_id)
        divisor = placed.divisor if placed is not None else 1
        update = ib_status_update(
            status.status, status.filled / divisor, status.avgFillPrice * divisor, reason
        )
        current = self._book.get(order_id)
        if status.status == "Filled" and current is not None:
            # Filled means complete; a completed order replayed after a reconnect reports
            # no quantity at all.
            update = attrs.evolve(update, traded=current.volume)
        ids = OrderUpdate(
            broker_order_id=str(trade.order.orderId) if trade.order.orderId else None,
            broker_perm_id=str(trade.order.permId or status.permId or "") or None,
        )
        self._apply(order_id, ids)
        self._apply(order_id, update)

    def _adopt(self, order_id: str, trade: Any) -> None:
        """Track an order this process did not send (placed before a restart).

        The stored order gives what IB does not keep: strategy, legs and roles, reference,
        and the volume in otrade units.  Without one it is tracked as IB reports it.
        """
        placed = self._placed_for(order_id)
        if placed is not None:
            with self._lock:
                self._book.add(placed.request.create_order(order_id, self.gateway_name,
                                                           self.clock.now()))  # fmt: skip
            self.write_log(f"order {order_id} (placed before this session) is tracked again")
            return
        order = trade.order
        symbol = self._symbol_of(trade.contract)
        if symbol is None:
            symbol = f"IB {trade.contract.secType} {trade.contract.conId}"
        order_type = OrderType.LIMIT if order.orderType == "LMT" else OrderType.MARKET
        limit = order.lmtPrice if order_type is OrderType.LIMIT else None
        adopted = OrderData(
            order_id=order_id,
            gateway_name=self.gateway_name,
            symbol=symbol,
            direction=Direction.LONG if order.action == "BUY" else Direction.SHORT,
            order_type=order_type,
            volume=max(1, round(order.totalQuantity)),
            price=limit if limit is not None and math.isfinite(limit) else None,
            status=Status.NOT_TRADED,
            time=self.clock.now(),
        )
        with self._lock:
            self._book.add(adopted)
        self.write_log(f"order {order_id} (placed before this session) is tracked again")

    def _placed_for(self, order_id: str) -> _Placed | None:
        """What was sent as ``order_id``: by this session, or stored by an earlier one."""
        placed = self._placed.get(order_id)
        if placed is not None or order_id in self._not_stored:
            return placed
        stored = self.stored_order(order_id)
        if stored is None or stored.gateway_name != self.gateway_name:
            self._not_stored.add(order_id)
            return None
        try:
            placed = _placed(stored.create_request())
        except ValueError as error:
            self.write_log(f"stored order {order_id} cannot be read back: {error}", "WARNING")
            self._not_stored.add(order_id)
            return None
        with self._lock:
            self._placed[order_id] = placed
        return placed

    def _local_id(self, order_ref: str, ib_order_id: int) -> str | None:
        # otrade's orders carry their ULID in orderRef; other references (manual orders
        # in TWS, other programs) belong to no otrade order.
        if order_ref and _ORDER_ID.fullmatch(order_ref):
            return str(order_ref)
        for order_id, ib_order in self._ib_orders.items():
            if ib_order.orderId == ib_order_id and ib_order_id:
                return order_id
        return None

    def _on_exec_details(self, trade: Any, fill: Any) -> None:
        self._book_fill(fill.contract, fill.execution, fill.commissionReport)

    def _book_fill(self, contract: Any, execution: Any, report: Any) -> None:
        exec_id = execution.execId
        if contract.secType == "BAG" or not exec_id or exec_id in self._booked:
            return  # a combo's summary execution is not a position change
        order_id = self._local_id(execution.orderRef, execution.orderId)
        placed = self._placed_for(order_id) if order_id else None
        symbol = self._symbol_of(contract) or f"IB {contract.secType} {contract.conId}"
        if order_id is None or (placed is None and order_id not in self._book):
            self.write_log(
                f"execution {exec_id} ({execution.side} {execution.shares:g} {symbol}) belongs "
                f"to no order of this gateway; booked all the same",
                "WARNING",
            )
        commission = report.commission if report is not None and report.execId == exec_id else 0.0
        request = placed.request if placed is not None else None
        is_combo = bool(request is not None and request.legs)
        time = execution.time if execution.time.tzinfo else execution.time.replace(tzinfo=UTC)
        trade = TradeData(
            trade_id=exec_id,
            order_id=order_id or f"ib-perm-{execution.permId}",
            gateway_name=self.gateway_name,
            symbol=symbol,
            direction=Direction.LONG if execution.side == "BOT" else Direction.SHORT,
            price=execution.price,
            volume=round(execution.shares),
            time=time,
            commission=_finite(commission),
            strategy=request.strategy if request is not None else "",
            combo_id=order_id if is_combo and order_id else "",
            leg_role=placed.leg_roles.get(symbol, "") if placed is not None else "",
        )
        self._booked.add(exec_id)
        if trade.commission:
            self._commissions[exec_id] = trade.commission
        self.on_trade(trade)

    def _on_commission_report(self, trade: Any, fill: Any, report: Any) -> None:
        exec_id = report.execId
        if exec_id not in self._booked:
            self._book_fill(fill.contract, fill.execution, report)
            return
        self._put_commission(exec_id, report)

    def _put_commission(self, exec_id: str, report: Any) -> None:
        commission = _finite(report.commission)
        if self._commissions.get(exec_id, 0.0) == commission:
            return  # IB repeats reports; and 0 means none yet
        self._commissions[exec_id] = commission
        self.on_commission(
            CommissionData(
                trade_id=exec_id,
                gateway_name=self.gateway_name,
                commission=commission,
                currency=report.currency or "USD",
                time=self.clock.now(),
            )
        )

    def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None:
        order_id = self._order_of_request(req_id)
        if code == 201 and order_id is not None:
            self._reject_reasons[order_id] = f"201: {message}"
            self._apply(
                order_id, OrderUpdate(status=Status.REJECTED, reject_reason=f"201: {message}")
            )
            return
        if code == 202 and order_id is not None:
            self._apply(order_id, OrderUpdate(status=Status.CANCELLED))
            return
        if code in _CONNECTIVITY:
            self.write_log(f"IB {code}: {_CONNECTIVITY[code]} ({message})", "WARNING")
            if code == 1101:
                for symbol, subscribed in self._subscriptions.items():
                    self._request_market_data(symbol, subscribed)
            return
        level = "WARNING" if code in _WARNINGS or 2100 <= code < 2200 else "ERROR"
        if 2100 <= code < 2200 or code in (2104, 2106, 2158):
            level = "INFO"
        about = f" (order {order_id})" if order_id else f" (request {req_id})" if req_id > 0 else ""
        self.write_log(f"IB {code}: {message}{about}", level)

    def _order_of_request(self, req_id: int) -> str | None:
        if req_id <= 0:
            return None
        for order_id, ib_order in self._ib_orders.items():
            if ib_order.orderId == req_id:
                return order_id
        return None

    def _on_position(self, position: Any) -> None:
        symbol = self._symbol_of(position.contract)
        if symbol is None:
            return
        multiplier = _number(position.contract.multiplier or "1") or 1.0
        self.on_position(
            PositionData(
                symbol=symbol,
                gateway_name=self.gateway_name,
                account_id=position.account,
                quantity=round(position.position),
                average_price=position.avgCost / multiplier,
                time=self.clock.now(),
            )
        )

    # -- market data ----------------------------------------------------------------------

    def subscribe(self, request: SubscribeRequest) -> None:
        """Stream quotes (and, for options, IB's model Greeks) of one known instrument.

        Raises:
            GatewayError: The symbol is not a known contract.
        """
        if self.get_contract(request.symbol) is None:
            raise GatewayError(f"subscribe: {request.symbol!r} is not a known contract")
        asyncio.run_coroutine_threadsafe(self._subscribe(request.symbol), self.io_loop.loop)

    async def _subscribe(self, symbol: str) -> None:
        try:
            contract = await self._qualified(symbol)
        except OrderRejected as error:
            self.write_log(f"subscribe: {error}", "WARNING")
            return
        self._subscriptions[symbol] = contract
        if self.connected:
            self._request_market_data(symbol, contract)

    def _request_market_data(self, symbol: str, contract: Any) -> None:
        if not self.connected:
            return
        ticker = self._ib.reqMktData(contract, "", False, False)
        self._tickers[id(ticker)] = symbol

    def _on_tickers(self, tickers: Any) -> None:
        now = self.clock.now()
        for ticker in tickers:
            symbol = self._tickers.get(id(ticker))
            if symbol is None:
                continue
            self.on_quote(
                QuoteData(
                    symbol=symbol,
                    time=now,
                    bid=_price(ticker.bid),
                    ask=_price(ticker.ask),
                    last=_price(ticker.last),
                    bid_size=_size(ticker.bidSize),
                    ask_size=_size(ticker.askSize),
                    source=self.gateway_name,
                )
            )
            greeks = ticker.modelGreeks
            if greeks is not None and is_option_symbol(symbol):
                self.on_greeks(
                    GreeksData(
                        symbol=symbol,
                        time=now,
                        iv=_greek(greeks.impliedVol),
                        delta=_greek(greeks.delta),
                        gamma=_greek(greeks.gamma),
                        theta=_greek(greeks.theta),
                        vega=_greek(greeks.vega),
                        source=self.gateway_name,
                    )
                )

    # -- contracts ------------------------------------------------------------------------

    def _contract(self, symbol: str) -> ContractData:
        contract = self.get_contract(symbol)
        if contract is None:
            raise OrderRejected(f"symbol {symbol!r} is not a known contract")
        return contract

    def _symbol_of(self, contract: Any) -> str | None:
        known = self._symbols_by_conid.get(contract.conId)
        if known is not None:
            return known
        if contract.secType in ("OPT", "FOP") and contract.localSymbol:
            try:
                return from_ib_local_symbol(contract.localSymbol)
            except ValueError:
                return None
        if contract.secType in ("STK", "IND") and contract.symbol:
            return str(contract.symbol)
        return None

    @property
    def orders(self) -> list[OrderData]:
        """Every order's latest state, oldest first."""
        with self._lock:
            return list(self._book)


def _error_text(message: str) -> str:
    """IB's own text out of ib_async's "Error 201, reqId 7: <text>, contract: ..." line."""
    text = message.split(": ", 1)[1] if ": " in message else message
    return text.split(", contract: ", 1)[0]


def _number(text: object) -> float:
    try:
        return float(str(text))
    except ValueError:
        return 0.0


def _finite(value: float) -> float:
    return value if math.isfinite(value) and abs(value) < 1e100 else 0.0


def _price(value: float) -> float | None:
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def _size(value: float) -> int:
    return int(value) if value is not None and math.isfinite(value) and value > 0 else 0


def _greek(value: float | None) -> float | None:
    # ib_async leaves IB's "not computed" -2 in vega and theta (see the IB reference).
    if value is None or not math.isfinite(value) or value in (-1.0, -2.0):
        return None
    return value
