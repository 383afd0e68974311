"""The paper gateway: orders filled against live quotes, with no broker and no network.

:class:`PaperGateway` (gateway name ``paper``) is the embedded default.  It reads
contracts from the MainEngine's cache (:meth:`~otrade.gateways.base.BaseGateway.get_contract`)
and prices from quote events (whatever datafeed runs, the simulated market or Tradier), so
it fills against the same market the strategies see.

Fills, all at once and for the whole volume:

* a **market** order fills on arrival at the far side of every leg (buys at the ask,
  sells at the bid), moved ``slippage_ticks`` ticks further against the order;
* a **limit** order fills on arrival when it is marketable at those far-side prices, at
  those prices (so at or better than its limit); otherwise it rests and fills at the
  first quote that makes it marketable, at that quote's far side;
* a **combo** fills leg by leg at each leg's far side; its price is the net per unit,
  ``sum(ratio x leg price x leg multiplier) / option multiplier`` (per share of the
  options: ``sum(ratio x leg price)`` when every leg is an option, ``S - C`` for a
  buy-write of 100 shares and a short call), which may be negative (a credit).  A LONG
  combo buys the legs with a positive ratio and sells the others, a SHORT combo the
  reverse; each leg trades ``volume x |ratio|``.  A LONG limit fills when the net is at
  or below the limit, a SHORT one when it is at or above;
* a quote that is missing, one-sided where a side is needed, or older than
  ``max_quote_age_s`` is never filled against: a market order is then rejected with the
  reason (naming the symbol), and a limit order rests until the quote is fresh.

Commission per order fill: every leg's units times ``commission_per_contract`` (options)
or ``commission_per_share`` (everything else), at least ``minimum_commission`` for the
fill, shared among the leg trades in proportion.  Execution ids are the order id and the
leg's number, so they are unique across runs.  The gateway keeps a cash balance and
positions per symbol, reported as account and position events after every fill.

Order types: market and limit.  A request that is invalid (see
:func:`~otrade.gateways.orders.check_request`) raises
:class:`~otrade.errors.OrderRejected` and nothing is created.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Final

import attrs

from otrade.clock import Clock
from otrade.constants import Direction, OrderType, Product, Status
from otrade.errors import GatewayError
from otrade.event import EVENT_QUOTE, Event, EventEngine
from otrade.gateways.base import BaseGateway, settings_from_mapping
from otrade.gateways.orders import OrderBook, OrderUpdate, check_request, new_order_id
from otrade.ioloop import IoLoop
from otrade.objects import (
    AccountData,
    CancelRequest,
    ContractData,
    OrderData,
    OrderRequest,
    PositionData,
    QuoteData,
    SubscribeRequest,
    TradeData,
)

__all__ = ["PaperGateway", "PaperSettings"]

ORDER_TYPES: Final = frozenset({OrderType.MARKET, OrderType.LIMIT})
# Prices within this of the limit count as at the limit (float sums of leg prices).
_PRICE_EPSILON: Final = 1e-9


@attrs.frozen(kw_only=True)
class PaperSettings:
    """The paper gateway's connect settings.

    Attributes:
        account_id: The account name on account and position events.
        starting_cash: The cash balance at connect.
        commission_per_contract: Per option contract traded.
        commission_per_share: Per share (or unit) of anything else.
        minimum_commission: Least commission of one order fill.
        slippage_ticks: Ticks (the contract's ``min_tick``) a market order's fill price
            moves against it beyond the far side.
        max_quote_age_s: An older quote is stale and never filled against.
    """

    account_id: str = "PAPER"
    starting_cash: float = 100_000.0
    commission_per_contract: float = 0.65
    commission_per_share: float = 0.005
    minimum_commission: float = 1.0
    slippage_ticks: int = 0
    max_quote_age_s: float = 30.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> PaperSettings:
        """Build from connect settings, refusing unknown keys and bad values by name.

        Raises:
            GatewayError: The message names the key and what was expected.
        """
        return settings_from_mapping(cls, values, "paper settings", _checked)


def _checked(key: str, value: object, default: object) -> object:
    if isinstance(default, str):
        if not isinstance(value, str) or not value:
            raise GatewayError(f"paper settings: {key} must be a non-empty string, not {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise GatewayError(f"paper settings: {key} must be an integer >= 0, not {value!r}")
        return value
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not math.isfinite(number) or number < 0:
        raise GatewayError(f"paper settings: {key} must be a number >= 0, not {value!r}")
    if key == "max_quote_age_s" and number <= 0:
        raise GatewayError(f"paper settings: {key} must be > 0, not {value!r}")
    return float(number)


@attrs.frozen
class _LegFill:
    symbol: str
    direction: Direction
    volume: int
    price: float
    ratio: int  # signed, per combo unit (1 for a single instrument)
    role: str
    contract: ContractData


class PaperGateway(BaseGateway):
    """Fills orders against the live quotes; see the module docstring for the rules."""

    default_name: ClassVar[str] = "paper"
    default_settings: ClassVar[Mapping[str, object]] = attrs.asdict(PaperSettings())

    def __init__(
        self, event_engine: EventEngine, gateway_name: str, clock: Clock, io_loop: IoLoop
    ) -> None:
        super().__init__(event_engine, gateway_name, clock, io_loop)
        self._lock = threading.RLock()
        self._settings = PaperSettings()
        self._connected = False
        self._quotes: dict[str, QuoteData] = {}
        self._book = OrderBook()
        self._requests: dict[str, OrderRequest] = {}
        self._resting: dict[str, set[str]] = {}  # symbol -> ids of resting orders using it
        self._cash = 0.0
        self._positions: dict[str, tuple[int, float]] = {}  # symbol -> (quantity, average)
        # Quotes are tracked from the start, so a later connect has them.
        event_engine.register(EVENT_QUOTE, self.process_quote_event)

    # -- connection -----------------------------------------------------------------------

    def connect(self, settings: Mapping[str, object]) -> None:
        """Apply ``settings`` (see :class:`PaperSettings`) and accept orders.

        Raises:
            GatewayError: A setting is unknown or invalid (named).
        """
        parsed = PaperSettings.from_mapping(settings)
        with self._lock:
            if not self._connected:
                self._cash = parsed.starting_cash
            self._settings = parsed
            self._connected = True
        self.write_log(f"paper gateway connected (account {parsed.account_id})")
        self.query_account()

    def close(self) -> None:
        """Cancel the resting orders and stop accepting new ones; harmless twice.

        Quotes are still tracked, so a later :meth:`connect` has them.
        """
        with self._lock:
            if not self._connected:
                return
            self._connected = False
            for order in self._book.active():
                closed = OrderUpdate(status=Status.CANCELLED, reject_reason="paper gateway closed")
                self._apply(order.order_id, closed)

    # -- orders ---------------------------------------------------------------------------

    def send_order(self, request: OrderRequest) -> str:
        """Accept an order, fill it now if it can, and return its id.

        Raises:
            GatewayError: The gateway is not connected.
            OrderRejected: The request is invalid (the reason names the field).
        """
        with self._lock:
            if not self._connected:
                raise GatewayError(f"{self.gateway_name}: not connected")
            check_request(request, self.get_contract, ORDER_TYPES)
            order_id = new_order_id(self.clock)
            created = request.create_order(order_id, self.gateway_name, self.clock.now())
            order = self._book.add(created)
            self._requests[order_id] = request
            self.on_order(order)
            self._apply(order_id, OrderUpdate(status=Status.NOT_TRADED, broker_order_id=order_id))
            self._match(order_id, arriving=True)
            return order_id

    def cancel_order(self, request: CancelRequest) -> None:
        """Cancel a resting order; an unknown or finished one gets a WARNING."""
        with self._lock:
            order = self._book.get(request.order_id)
            if order is None or not order.status.is_active:
                state = "unknown" if order is None else order.status.value
                self.write_log(f"cancel of order {request.order_id}: it is {state}", "WARNING")
                return
            self._apply(request.order_id, OrderUpdate(status=Status.CANCELLED))

    def subscribe(self, request: SubscribeRequest) -> None:
        """Nothing to do: quotes come from the datafeed (register the chains you trade)."""

    def query_account(self) -> None:
        """Put the cash balance as an account event."""
        with self._lock:
            self.on_account(
                AccountData(
                    account_id=self._settings.account_id,
                    gateway_name=self.gateway_name,
                    balance=self._cash,
                    available=self._cash,
                    time=self.clock.now(),
                )
            )

    def query_positions(self) -> None:
        """Put every position as a position event."""
        with self._lock:
            for symbol in sorted(self._positions):
                self._put_position(symbol)

    @property
    def orders(self) -> list[OrderData]:
        """Every order's latest state, oldest first."""
        with self._lock:
            return list(self._book)

    # -- handlers (event thread) ----------------------------------------------------------

    def process_quote_event(self, event: Event) -> None:
        """Store a quote and fill the resting orders it makes marketable."""
        quote: QuoteData = event.data
        with self._lock:
            self._quotes[quote.symbol] = quote
            for order_id in sorted(self._resting.get(quote.symbol, ())):
                self._match(order_id, arriving=False)

    # -- matching -------------------------------------------------------------------------

    def _match(self, order_id: str, *, arriving: bool) -> None:
        order = self._book.get(order_id)
        if order is None or not order.status.is_active:
            return
        request = self._requests[order_id]
        fills = self._price_legs(request)
        if isinstance(fills, str):
            if request.order_type is OrderType.MARKET:
                self._apply(order_id, OrderUpdate(status=Status.REJECTED, reject_reason=fills))
            else:
                self._rest(order_id, request)
            return
        net = net_price(fills)
        if request.order_type is OrderType.LIMIT:
            assert request.price is not None  # checked by the record
            marketable = (
                net <= request.price + _PRICE_EPSILON
                if request.direction is Direction.LONG
                else net >= request.price - _PRICE_EPSILON
            )
            if not marketable:
                if arriving:
                    self._rest(order_id, request)
                return
        self._fill(order, fills, net)

    def _rest(self, order_id: str, request: OrderRequest) -> None:
        for symbol in _symbols(request):
            self._resting.setdefault(symbol, set()).add(order_id)

    def _unrest(self, order_id: str, request: OrderRequest) -> None:
        for symbol in _symbols(request):
            waiting = self._resting.get(symbol)
            if waiting is not None:
                waiting.discard(order_id)
                if not waiting:
                    del self._resting[symbol]

    def _price_legs(self, request: OrderRequest) -> list[_LegFill] | str:
        """Each leg's fill at its far side, or the reason it cannot be filled now."""
        legs = [(leg.symbol, leg.ratio, leg.role) for leg in request.legs] or [
            (request.symbol, 1, "")
        ]
        now = self.clock.now()
        slippage = self._settings.slippage_ticks if request.order_type is OrderType.MARKET else 0
        fills = []
        for symbol, ratio, role in legs:
            contract = self.get_contract(symbol)
            assert contract is not None  # checked when the order came in
            buying = (ratio > 0) == (request.direction is Direction.LONG)
            quote = self._quotes.get(symbol)
            reason = _unusable(quote, buying, now, self._settings.max_quote_age_s, symbol)
            if reason:
                return reason
            assert quote is not None
            side = quote.ask if buying else quote.bid
            assert side is not None
            price = side + (
                slippage * contract.min_tick if buying else -slippage * contract.min_tick
            )
            fills.append(
                _LegFill(
                    symbol=symbol,
                    direction=Direction.LONG if buying else Direction.SHORT,
                    volume=request.volume * abs(ratio),
                    price=max(price, 0.0),
                    ratio=ratio,
                    role=role,
                    contract=contract,
                )
            )
        return fills

    def _fill(self, order: OrderData, fills: list[_LegFill], net: float) -> None:
        request = self._requests[order.order_id]
        self._unrest(order.order_id, request)
        settings = self._settings
        raw = [
            fill.volume
            * (
                settings.commission_per_contract
                if fill.contract.product is Product.OPTION
                else settings.commission_per_share
            )
            for fill in fills
        ]
        total = max(settings.minimum_commission, sum(raw))
        shares = [part / sum(raw) for part in raw] if sum(raw) > 0 else [1.0 / len(raw)] * len(raw)
        now = self.clock.now()
        for number, (fill, share) in enumerate(zip(fills, shares, strict=True), start=1):
            commission = round(total * share, 6)
            trade = TradeData(
                trade_id=f"{order.order_id}-{number}",
                order_id=order.order_id,
                gateway_name=self.gateway_name,
                symbol=fill.symbol,
                direction=fill.direction,
                price=fill.price,
                volume=fill.volume,
                time=now,
                commission=commission,
                strategy=request.strategy,
                combo_id=order.combo_id,
                leg_role=fill.role,
            )
            self.on_trade(trade)
            self._book_trade(fill, commission, now)
        self._apply(
            order.order_id,
            OrderUpdate(status=Status.ALL_TRADED, traded=order.volume, average_price=net),
        )
        self.query_account()

    def _book_trade(self, fill: _LegFill, commission: float, now: datetime) -> None:
        signed = fill.volume * fill.direction.sign
        multiplier = fill.contract.multiplier
        self._cash -= signed * fill.price * multiplier + commission
        quantity, average = self._positions.get(fill.symbol, (0, 0.0))
        new_quantity = quantity + signed
        if new_quantity == 0:
            new_average = 0.0
        elif quantity == 0 or (quantity > 0) != (new_quantity > 0):
            new_average = fill.price  # opened, or flipped through zero
        elif abs(new_quantity) > abs(quantity):
            new_average = (average * quantity + fill.price * signed) / new_quantity
        else:
            new_average = average  # reduced: the rest keeps its cost
        self._positions[fill.symbol] = (new_quantity, new_average)
        self._put_position(fill.symbol, now)

    def _put_position(self, symbol: str, now: datetime | None = None) -> None:
        quantity, average = self._positions[symbol]
        self.on_position(
            PositionData(
                symbol=symbol,
                gateway_name=self.gateway_name,
                account_id=self._settings.account_id,
                quantity=quantity,
                average_price=average,
                time=now or self.clock.now(),
            )
        )

    def _apply(self, order_id: str, update: OrderUpdate) -> None:
        new = self._book.update(order_id, update, self.clock.now())
        if new is None:
            return
        if new.status.is_final:
            self._unrest(order_id, self._requests[order_id])
        self.on_order(new)


def net_price(fills: list[_LegFill]) -> float:
    """A combo's net price per unit, per share of its options (see the module docstring)."""
    option_multipliers = [
        fill.contract.multiplier for fill in fills if fill.contract.product is Product.OPTION
    ]
    scale = max(option_multipliers, default=1)
    return sum(fill.ratio * fill.price * fill.contract.multiplier for fill in fills) / scale


def _symbols(request: OrderRequest) -> list[str]:
    return [leg.symbol for leg in request.legs] or [request.symbol]


def _unusable(
    quote: QuoteData | None, buying: bool, now: datetime, max_age_s: float, symbol: str
) -> str:
    """Why ``quote`` cannot be filled against, or "" when it can."""
    if quote is None:
        return f"no quote for {symbol}"
    age = (now - quote.time).total_seconds()
    if age > max_age_s:
        return f"the quote for {symbol} is stale: {age:.0f} s old (max {max_age_s:g} s)"
    side, name = (quote.ask, "ask") if buying else (quote.bid, "bid")
    if side is None or not math.isfinite(side) or side < 0:
        return f"no {name} for {symbol}"
    return ""
