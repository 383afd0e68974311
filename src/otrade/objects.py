"""Records that cross engine boundaries.

Every event carries one of these frozen, slotted attrs records, never a mutable engine
object, so a handler can keep a record without copying it and no engine can change
another engine's state by accident.  Records validate what a later engine would otherwise
trip over (a non-positive volume, a limit order without a price, an option contract
without a strike) and raise ``ValueError`` naming the field.

Units: prices in the contract's currency per unit of the instrument (per share of an
option, not per contract); quantities are whole contracts or shares as ``int``; times are
timezone-aware UTC datetimes from the clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

import attrs

from otrade.constants import (
    Direction,
    Exchange,
    ExpiryType,
    Offset,
    OptionRight,
    OrderType,
    Product,
    Status,
)

__all__ = [
    "AccountData",
    "CancelRequest",
    "ChainUpdateData",
    "CommissionData",
    "ContractData",
    "GreeksData",
    "Leg",
    "LogData",
    "OrderData",
    "OrderRequest",
    "PositionData",
    "QuoteData",
    "StrategyData",
    "SubscribeRequest",
    "TradeData",
]


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware, got {value.isoformat()}")


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _positive_int(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{attribute.name} must be a positive integer, got {value!r}")


def _non_negative_int(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be an integer >= 0, got {value!r}")


def _non_empty(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must not be empty")


@attrs.frozen(kw_only=True)
class ContractData:
    """A tradable instrument: an underlying, an option or a listed combo.

    Attributes:
        symbol: Canonical symbol: the ticker for underlyings, the unpadded OCC symbol for
            options (see :mod:`otrade.symbols`).
        product: What the instrument is.
        exchange: Listing or routing exchange.
        name: Human-readable description.
        gateway_name: The gateway that reported it ("" when loaded from storage).
        multiplier: Units of the underlying per contract (100 for US equity options).
        min_tick: Smallest price increment.
        currency: ISO currency code.
        underlying_symbol: For options, the underlying's symbol (``SPX`` for SPXW options).
        root: For options, the OCC root / trading class (``SPXW``, ``AAPL1``).
        expiry: For options, the expiration date (the OCC date).
        last_trade_date: For options, the last trading day when it differs from or is known
            besides the expiry (AM-settled index monthlies stop trading the day before).
        strike: For options, the strike price.
        right: For options, call or put.
        expiry_type: Weekly, monthly or quarterly when known.
        broker_id: The broker's contract id (IB conId) as text, "" when unknown.
    """

    symbol: str = attrs.field(validator=_non_empty)
    product: Product
    exchange: Exchange
    name: str = ""
    gateway_name: str = ""
    multiplier: int = attrs.field(default=1, validator=_positive_int)
    min_tick: float = attrs.field(default=0.01, validator=_positive)
    currency: str = "USD"
    underlying_symbol: str = ""
    root: str = ""
    expiry: date | None = None
    last_trade_date: date | None = None
    strike: float | None = None
    right: OptionRight | None = None
    expiry_type: ExpiryType = ExpiryType.UNKNOWN
    broker_id: str = ""

    def __attrs_post_init__(self) -> None:
        """Check that an option carries its option fields."""
        if self.product is not Product.OPTION:
            return
        missing = [
            name
            for name in ("underlying_symbol", "root", "expiry", "strike", "right")
            if getattr(self, name) in (None, "")
        ]
        if missing:
            raise ValueError(f"option contract {self.symbol!r} is missing {', '.join(missing)}")
        if self.strike is not None and not self.strike > 0:
            raise ValueError(f"strike must be > 0, got {self.strike!r} for {self.symbol!r}")

    @property
    def is_option(self) -> bool:
        """True for option contracts."""
        return self.product is Product.OPTION


@attrs.frozen(kw_only=True)
class QuoteData:
    """A top-of-book snapshot of one instrument.

    Prices are None when the source has no value (no bid in a far OTM option, say).

    Attributes:
        symbol: Canonical symbol.
        time: When the source stamped the quote (UTC).
        bid: Best bid price.
        ask: Best ask price.
        last: Last trade price.
        bid_size: Size at the bid.
        ask_size: Size at the ask.
        volume: Day volume.
        source: Name of the datafeed or gateway that produced it.
    """

    symbol: str = attrs.field(validator=_non_empty)
    time: datetime = attrs.field(validator=_aware)
    bid: float | None = None
    ask: float | None = None
    last: float | None = None
    bid_size: int = 0
    ask_size: int = 0
    volume: int = 0
    source: str = ""

    @property
    def mid(self) -> float | None:
        """The midpoint of a two-sided quote, or None when a side is missing or crossed."""
        if self.bid is None or self.ask is None or self.ask < self.bid or self.bid < 0:
            return None
        return (self.bid + self.ask) / 2


@attrs.frozen
class Leg:
    """One leg of a combo order: an option or underlying with a signed ratio per unit.

    A combo order of ``volume`` units trades ``volume * abs(ratio)`` of each leg, buying
    when the ratio is positive and selling when it is negative (for a LONG order; a SHORT
    order reverses every leg).

    Attributes:
        symbol: Canonical symbol of the leg's instrument.
        ratio: Signed quantity per unit of the combo, never 0.
        role: The leg's name in its combo type (``short_put``, ``long_call``...), or "".
    """

    symbol: str = attrs.field(validator=_non_empty)
    ratio: int = attrs.field()
    role: str = ""

    @ratio.validator
    def _check_ratio(self, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value == 0:
            raise ValueError(
                f"leg {self.symbol!r}: ratio must be a non-zero integer, got {value!r}"
            )

    @property
    def direction(self) -> Direction:
        """LONG when the leg buys in a LONG combo, SHORT when it sells."""
        return Direction.LONG if self.ratio > 0 else Direction.SHORT

    def quantity(self, volume: int) -> int:
        """Contracts (or shares) this leg trades for ``volume`` combo units."""
        return volume * abs(self.ratio)


@attrs.frozen(kw_only=True)
class OrderRequest:
    """What a strategy or user asks a gateway to do.

    For a combo, ``symbol`` names the combo (its signature) and ``legs`` holds the legs;
    ``price`` is the net price per unit and may be negative (a credit).

    Attributes:
        symbol: Canonical symbol, or the combo's name for combos.
        direction: Buy (LONG) or sell (SHORT).
        order_type: How the order is priced.
        volume: Number of units (contracts, shares, or combo units); positive.
        price: Limit price; required for LIMIT and STOP_LIMIT, ignored for MARKET.
        trigger_price: Stop trigger; required for STOP and STOP_LIMIT.
        offset: Whether the order opens or closes exposure, when the caller says.
        legs: The legs of a combo order; empty for single-instrument orders.
        strategy: The strategy that sent it ("" for manual orders).
        reference: Free-form tag the caller chooses.
        combo_signature: For combos, the direction-aware signature of the structure
            (built by the combo library), "" otherwise.
    """

    symbol: str = attrs.field(validator=_non_empty)
    direction: Direction
    order_type: OrderType
    volume: int = attrs.field(validator=_positive_int)
    price: float | None = None
    trigger_price: float | None = None
    offset: Offset = Offset.NONE
    legs: tuple[Leg, ...] = ()
    strategy: str = ""
    reference: str = ""
    combo_signature: str = ""

    def __attrs_post_init__(self) -> None:
        """Check that the price fields fit the order type."""
        needs_price = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        if needs_price and self.price is None:
            raise ValueError(f"price is required for a {self.order_type.value} order")
        if self.price is not None and self.price != self.price:
            raise ValueError("price must be a number, got nan")
        if self.price is not None and not self.legs and self.price <= 0:
            raise ValueError(f"price must be > 0 for a single-instrument order, got {self.price!r}")
        needs_trigger = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_trigger and self.trigger_price is None:
            raise ValueError(f"trigger_price is required for a {self.order_type.value} order")
        if self.legs:
            symbols = [leg.symbol for leg in self.legs]
            if len(set(symbols)) != len(symbols):
                raise ValueError(f"legs repeat a symbol: {symbols}")

    @property
    def is_combo(self) -> bool:
        """True when the request has legs."""
        return bool(self.legs)

    def create_order(self, order_id: str, gateway_name: str, time: datetime) -> OrderData:
        """The :class:`OrderData` a gateway reports when it accepts this request."""
        return OrderData(
            order_id=order_id,
            gateway_name=gateway_name,
            symbol=self.symbol,
            direction=self.direction,
            order_type=self.order_type,
            volume=self.volume,
            price=self.price,
            trigger_price=self.trigger_price,
            offset=self.offset,
            legs=self.legs,
            strategy=self.strategy,
            reference=self.reference,
            combo_signature=self.combo_signature,
            status=Status.SUBMITTING,
            time=time,
        )


@attrs.frozen(kw_only=True)
class OrderData:
    """The state of an order at one moment, as its gateway reports it.

    Attributes:
        order_id: The local order id (unique across restarts).
        gateway_name: The gateway that owns the order.
        symbol: As in the request.
        direction: As in the request.
        order_type: As in the request.
        volume: As in the request.
        price: As in the request.
        trigger_price: As in the request.
        offset: As in the request.
        legs: As in the request.
        strategy: As in the request.
        reference: As in the request.
        combo_signature: As in the request.
        traded: Units filled so far.
        average_price: Volume-weighted fill price so far, None before the first fill.
        status: Life-cycle state.
        time: When this state was reported.
        reject_reason: Why it was rejected, when it was.
        broker_order_id: The broker's id for it (IB orderId), "" until known.
        broker_perm_id: The broker's permanent id (IB permId), "" until known.
    """

    order_id: str = attrs.field(validator=_non_empty)
    gateway_name: str
    symbol: str
    direction: Direction
    order_type: OrderType
    volume: int = attrs.field(validator=_positive_int)
    price: float | None = None
    trigger_price: float | None = None
    offset: Offset = Offset.NONE
    legs: tuple[Leg, ...] = ()
    strategy: str = ""
    reference: str = ""
    combo_signature: str = ""
    traded: int = attrs.field(default=0, validator=_non_negative_int)
    average_price: float | None = None
    status: Status = Status.SUBMITTING
    time: datetime = attrs.field(validator=_aware)
    reject_reason: str = ""
    broker_order_id: str = ""
    broker_perm_id: str = ""

    @traded.validator
    def _check_traded(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value > self.volume:
            raise ValueError(f"traded {value} exceeds volume {self.volume} of {self.order_id!r}")

    @property
    def is_active(self) -> bool:
        """True while the order can still trade or be cancelled."""
        return self.status.is_active

    @property
    def combo_id(self) -> str:
        """The combo id every leg trade of this order carries: the order id for a combo."""
        return self.order_id if self.legs else ""

    @property
    def remaining(self) -> int:
        """Units not yet filled."""
        return self.volume - self.traded

    def create_cancel_request(self) -> CancelRequest:
        """A request to cancel this order."""
        return CancelRequest(order_id=self.order_id, gateway_name=self.gateway_name)

    def create_request(self) -> OrderRequest:
        """The request this order was sent from (the inverse of ``create_order``).

        Raises:
            ValueError: The order's fields do not make a valid request.
        """
        return OrderRequest(
            symbol=self.symbol,
            direction=self.direction,
            order_type=self.order_type,
            volume=self.volume,
            price=self.price,
            trigger_price=self.trigger_price,
            offset=self.offset,
            legs=self.legs,
            strategy=self.strategy,
            reference=self.reference,
            combo_signature=self.combo_signature,
        )


@attrs.frozen(kw_only=True)
class TradeData:
    """One execution (fill) of an order, or of one leg of a combo order.

    Attributes:
        trade_id: The broker's execution id (unique; booking is idempotent on it).
        order_id: The local order id.
        gateway_name: The gateway that reported it.
        symbol: Canonical symbol of what traded (the leg's symbol for combo legs).
        direction: Bought (LONG) or sold (SHORT).
        price: Fill price per unit.
        volume: Units filled; positive.
        time: Execution time (UTC).
        commission: Commission charged for this fill, in the account currency.
        strategy: The strategy whose order it was.
        combo_id: The combo order's id for leg fills, "" otherwise.
        leg_role: The leg's role in its combo, "" otherwise.
    """

    trade_id: str = attrs.field(validator=_non_empty)
    order_id: str
    gateway_name: str
    symbol: str = attrs.field(validator=_non_empty)
    direction: Direction
    price: float
    volume: int = attrs.field(validator=_positive_int)
    time: datetime = attrs.field(validator=_aware)
    commission: float = 0.0
    strategy: str = ""
    combo_id: str = ""
    leg_role: str = ""

    @property
    def signed_volume(self) -> int:
        """``+volume`` for a buy, ``-volume`` for a sell."""
        return self.volume * self.direction.sign


@attrs.frozen(kw_only=True)
class CommissionData:
    """A trade's commission, reported after the trade itself (IB's commission report).

    It replaces the trade's ``commission``; the trade is identified by its execution id.

    Attributes:
        trade_id: The execution id of the trade.
        gateway_name: The gateway that reported it.
        commission: The whole commission of the trade, a cost (>= 0 for a charge).
        currency: ISO currency code.
        time: When it was reported.
    """

    trade_id: str = attrs.field(validator=_non_empty)
    gateway_name: str
    commission: float = attrs.field()
    currency: str = "USD"
    time: datetime = attrs.field(validator=_aware)

    @commission.validator
    def _check_commission(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not math.isfinite(value):
            raise ValueError(f"commission must be a finite number, got {value!r}")


@attrs.frozen(kw_only=True)
class CancelRequest:
    """A request to cancel an order.

    Attributes:
        order_id: The local order id.
        gateway_name: The gateway that owns the order ("" lets the MainEngine look it up).
    """

    order_id: str = attrs.field(validator=_non_empty)
    gateway_name: str = ""


@attrs.frozen(kw_only=True)
class SubscribeRequest:
    """A request for live quotes of one instrument.

    Attributes:
        symbol: Canonical symbol.
        exchange: Where to take the quotes from.
    """

    symbol: str = attrs.field(validator=_non_empty)
    exchange: Exchange = Exchange.SMART


@attrs.frozen(kw_only=True)
class AccountData:
    """Balances of one broker account.

    Attributes:
        account_id: The broker's account id (may be masked where configured).
        gateway_name: The gateway that reported it.
        balance: Net liquidation value.
        available: Funds available for new positions.
        currency: ISO currency code.
        time: When it was reported.
    """

    account_id: str
    gateway_name: str
    balance: float
    available: float
    currency: str = "USD"
    time: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class PositionData:
    """A broker-side position in one instrument (account level, not per strategy).

    Attributes:
        symbol: Canonical symbol.
        gateway_name: The gateway that reported it.
        account_id: The account holding it.
        quantity: Signed units: positive long, negative short.
        average_price: Average cost per unit, as the broker reports it.
        time: When it was reported.
    """

    symbol: str = attrs.field(validator=_non_empty)
    gateway_name: str
    account_id: str
    quantity: int
    average_price: float
    time: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class LogData:
    """A log record put on the event bus by a gateway, datafeed or strategy.

    Attributes:
        message: The text; secrets are redacted by the LogEngine before it reaches a sink.
        level: DEBUG, INFO, WARNING, ERROR or CRITICAL.
        source: Who wrote it (engine, gateway or strategy name).
        time: When it was written (UTC).
    """

    message: str
    level: str = attrs.field(default="INFO")
    source: str = ""
    time: datetime = attrs.field(validator=_aware)

    @level.validator
    def _check_level(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(
                f"level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {value!r}"
            )


def _read_only(value: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class StrategyData:
    """The stored record of one strategy instance, from which it is restored after a restart.

    Attributes:
        name: The strategy instance's unique name.
        class_path: Where its class lives, ``package.module:ClassName``.
        portfolio: The underlying (portfolio) it trades, "" when none.
        parameters: Its parameters by name; values must be JSON-serializable.
        variables: Its persisted runtime variables by name; JSON-serializable.
        state: Its lifecycle state (for example ``initialized``, ``running``, ``stopped``).
        updated_at: When the record was last saved (UTC); None before the first save.
    """

    name: str = attrs.field(validator=_non_empty)
    class_path: str = attrs.field(validator=_non_empty)
    portfolio: str = ""
    parameters: Mapping[str, object] = attrs.field(factory=dict, converter=_read_only)
    variables: Mapping[str, object] = attrs.field(factory=dict, converter=_read_only)
    state: str = "created"
    updated_at: datetime | None = None


@attrs.frozen(kw_only=True)
class GreeksData:
    """Implied volatility and Greeks of one option, as a data provider computed them.

    Units follow otrade's pricing conventions: volatility as a decimal fraction, theta per
    calendar day, vega and rho per 1 percentage point, all per unit of the underlying.

    Attributes:
        symbol: The option's canonical symbol.
        time: When the provider computed them (UTC), else when they were received.
        iv: Implied volatility, None when not computable.
        delta: Delta.
        gamma: Gamma.
        theta: Theta per calendar day.
        vega: Vega per volatility point.
        rho: Rho per rate point.
        source: The provider (``tradier``, ``simulated``...).
    """

    symbol: str = attrs.field(validator=_non_empty)
    time: datetime = attrs.field(validator=_aware)
    iv: float | None = None
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    rho: float | None = None
    source: str = ""


@attrs.frozen(kw_only=True)
class ChainUpdateData:
    """Says that a chain's (or an underlying's) live data changed.

    Attributes:
        underlying: The portfolio's underlying symbol.
        chain_key: The chain (``"SPXW 2026-12-18"``), "" when only the underlying changed.
        time: When the update was applied (clock time).
    """

    underlying: str = attrs.field(validator=_non_empty)
    chain_key: str = ""
    time: datetime = attrs.field(validator=_aware)
