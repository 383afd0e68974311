"""The HedgeEngine: automatic delta hedging of each registered strategy with its underlying.

A strategy registers once (:meth:`HedgeEngine.register`) with its underlying, a
:class:`HedgeConfig` and a :class:`HedgeSender`, the strategy's own order path (risk checks
included).  On every timer event, each registration whose ``interval_s`` of clock time has
passed is checked (:meth:`HedgeEngine.check`):

1. **Unfinished hedges first.**  The engine remembers the hedge orders it sent for each
   strategy, and any active order reported with the reference ``hedge`` (one an earlier
   session left working), and follows their order and trade events.  While one is active
   it is cancelled (once) and the check waits; an order that ended counts as done only
   once its fills have arrived as trades, so the holding the next check reads already
   holds them (a broker may report the final status before the executions).
2. **A complete picture.**  Delta and gamma are the PositionEngine's summary of the
   strategy; when any open option has no Greeks the check does nothing.  The underlying's
   quote must be fresher than ``marketdata.stale_after_s``; a LIMIT hedge needs a bid and an
   ask, a MARKET hedge a mid or a last price.
3. **The decision** is :func:`decide_hedge`: nothing while ``|delta - target|`` is within
   the effective band, else whole shares toward the target (or the nearer band edge),
   within ``min_volume`` and ``max_volume``.  Selling lowers delta, buying raises it.
4. **The order** goes through :meth:`HedgeSender.send_hedge`; a sender that refuses or
   raises makes the decision ``none`` with the reason, and the engine goes on.

Every check puts one :class:`HedgeDecision` on ``EVENT_HEDGE``.  Units: delta in share
equivalents, gamma in share equivalents per 1.00 move of the underlying (as
:class:`~otrade.position.HoldingSummary`).  The engine has no thread: everything runs on
the event thread, and time comes only from the MainEngine's clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Final, Protocol

import attrs
from loguru import logger

from otrade.constants import Direction, OrderType, Status
from otrade.engine import BaseEngine, MainEngine
from otrade.errors import EngineError
from otrade.event import EVENT_HEDGE, EVENT_ORDER, EVENT_TIMER, EVENT_TRADE, Event, EventEngine
from otrade.marketdata import MarketDataEngine
from otrade.objects import OrderData, TradeData
from otrade.position import HoldingSummary, PositionEngine

__all__ = [
    "HEDGE_ACTIONS",
    "HEDGE_ORDER_TYPES",
    "HEDGE_REFERENCE",
    "HEDGE_TARGETS",
    "HedgeConfig",
    "HedgeDecision",
    "HedgeEngine",
    "HedgeSender",
    "decide_hedge",
    "effective_band",
]


HEDGE_TARGETS: Final = ("target", "band")
"""The accepted :attr:`HedgeConfig.hedge_to` values."""
HEDGE_ORDER_TYPES: Final = (OrderType.MARKET, OrderType.LIMIT)
"""The accepted :attr:`HedgeConfig.order_type` values."""
HEDGE_ACTIONS: Final = ("order", "none", "wait")
"""The :attr:`HedgeDecision.action` values."""
HEDGE_REFERENCE: Final = "hedge"
"""The reference of hedge orders (the strategy engine's sender tags them with it)."""

# The price step of a LIMIT hedge's offset, and the least price it is ever sent at.
_TICK: Final = 0.01
# Float slack: a due time, a band edge or a price exactly on its mark must count as on it.
_TOLERANCE: Final = 1e-9


class HedgeSender(Protocol):
    """What a strategy gives the HedgeEngine to trade its underlying (the strategy engine).

    Both methods are called on the event thread.
    """

    def send_hedge(
        self, direction: Direction, volume: int, price: float | None, order_type: OrderType
    ) -> str | None:
        """Send an underlying order tagged as a hedge through the strategy's own order path.

        The order must carry the strategy's name (so its fills land in the strategy's
        holding) and pass the risk checks.

        Args:
            direction: LONG buys shares, SHORT sells them.
            volume: Whole shares, at least 1.
            price: The limit price for a LIMIT order, None for a MARKET order.
            order_type: MARKET or LIMIT.

        Returns:
            The local order id (the one its order events carry), or None when the order
            was refused (the refusal is already reported).
        """
        ...

    def cancel_hedge(self, order_id: str) -> None:
        """Ask to cancel a hedge order this sender sent; the result arrives as order events."""
        ...


# -- configuration --------------------------------------------------------------------------


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not _number(value) or not math.isfinite(value):
        raise ValueError(f"{attribute.name} must be a finite number, got {value!r}")


def _positive_finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    _finite(instance, attribute, value)
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value!r}")


def _non_negative_finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    _finite(instance, attribute, value)
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value!r}")


def _integer_at_least(least: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{attribute.name} must be an integer >= {least}, got {value!r}")

    return check


def _hedge_order_type(value: OrderType | str) -> OrderType:
    """MARKET or LIMIT, from the enum or its value (``"market"``, as a parameter file has it)."""
    if value in HEDGE_ORDER_TYPES:  # StrEnum: the plain strings match too
        return OrderType(value)
    raise ValueError(f"order_type must be OrderType.MARKET or LIMIT, got {value!r}")


@attrs.frozen(kw_only=True)
class HedgeConfig:
    """How one strategy is hedged.  Every field is checked when the config is built.

    Attributes:
        interval_s: Seconds of clock time between checks; finite and > 0.
        delta_target: The delta to hedge toward, in share equivalents; finite.
        delta_band: Shares either side of the target within which nothing is done; >= 0.
        hedge_to: ``"target"`` (trade back to the target) or ``"band"`` (trade only to the
            nearer edge of the band, so less often and less).
        min_volume: The smallest hedge in whole shares; a smaller one is not sent.  >= 1.
        max_volume: The largest hedge in whole shares; a bigger one is capped and the rest
            waits for the next check.  >= ``min_volume``.
        order_type: MARKET, or LIMIT for a marketable limit order; nothing else (the
            strings ``"market"`` and ``"limit"`` are accepted and converted).
        limit_offset_ticks: For LIMIT, cents beyond the far side: buy at ``ask + ticks x
            0.01``, sell at ``bid - ticks x 0.01`` (never below 0.01).  >= 0.
        gamma_band_factor: Widens the band by this fraction of the delta a 1% move of the
            underlying makes: ``delta_band + factor x |gamma| x spot x 0.01``.  >= 0.

    Raises:
        ValueError: A field is out of range; the message names it and its value.
    """

    interval_s: float = attrs.field(default=5.0, validator=_positive_finite)
    delta_target: float = attrs.field(default=0.0, validator=_finite)
    delta_band: float = attrs.field(default=50.0, validator=_non_negative_finite)
    hedge_to: str = attrs.field(default="target")
    min_volume: int = attrs.field(default=1, validator=_integer_at_least(1))
    max_volume: int = attrs.field(default=10_000, validator=_integer_at_least(1))
    order_type: OrderType = attrs.field(default=OrderType.MARKET, converter=_hedge_order_type)
    limit_offset_ticks: int = attrs.field(default=2, validator=_integer_at_least(0))
    gamma_band_factor: float = attrs.field(default=0.0, validator=_non_negative_finite)

    @hedge_to.validator
    def _check_hedge_to(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in HEDGE_TARGETS:
            raise ValueError(f"hedge_to must be 'target' or 'band', got {value!r}")

    @max_volume.validator
    def _check_max_volume(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < self.min_volume:
            raise ValueError(f"max_volume must be >= min_volume ({self.min_volume}), got {value!r}")


@attrs.frozen(kw_only=True)
class HedgeDecision:
    """What one check decided for one strategy (the payload of ``EVENT_HEDGE``).

    Attributes:
        strategy: The strategy.
        underlying: The symbol it is hedged with.
        time: When the check ran (clock time, UTC).
        delta: The strategy's delta before any hedge, in share equivalents; None when the
            PositionEngine is missing.
        gamma: Its gamma, share equivalents per 1.00 move; None with ``delta``.
        target: :attr:`HedgeConfig.delta_target`.
        band: The effective band (see :func:`effective_band`); the configured one when
            there was no price to widen it with.
        action: ``"order"`` (a hedge was sent), ``"none"`` (nothing was sent: inside the
            band, or something was missing or failed) or ``"wait"`` (an earlier hedge has
            not finished; it was asked to cancel).
        direction: The hedge's side for ``"order"``, else None.
        volume: The hedge's shares for ``"order"``, else 0.
        order_id: The hedge's local order id for ``"order"``; for ``"wait"`` the ids of
            the unfinished orders, comma-separated; else "".
        price: The limit price of a LIMIT hedge, else None.
        reason: Why, for a reader: what was sent, or why nothing was.
    """

    strategy: str
    underlying: str
    time: datetime
    delta: float | None
    gamma: float | None
    target: float
    band: float
    action: str = attrs.field()
    direction: Direction | None = None
    volume: int = 0
    order_id: str = ""
    price: float | None = None
    reason: str

    @action.validator
    def _check_action(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in HEDGE_ACTIONS:
            raise ValueError(f"action must be one of {', '.join(HEDGE_ACTIONS)}, got {value!r}")


# -- the decision ----------------------------------------------------------------------------


def effective_band(gamma: float, spot: float, config: HedgeConfig) -> float:
    """``delta_band + gamma_band_factor x |gamma| x spot x 0.01``, in share equivalents.

    ``|gamma| x spot x 0.01`` is the delta a 1% move of the underlying makes.
    """
    return config.delta_band + config.gamma_band_factor * abs(gamma) * spot * 0.01


def decide_hedge(
    delta: float, gamma: float, spot: float, config: HedgeConfig
) -> tuple[Direction | None, int, float, str]:
    """Decide the hedge for one strategy, as a pure function.

    Nothing is done while ``|delta - target|`` is within the effective band.  Otherwise
    the hedge sells shares when delta is above the target (buys when below): to the target,
    rounded to the nearest whole share, or with ``hedge_to="band"`` the whole shares that
    bring delta just inside the nearer band edge (never past the target beyond rounding).
    A hedge below ``min_volume`` is not made; one above ``max_volume`` is capped.

    Args:
        delta: The strategy's delta, share equivalents.
        gamma: Its gamma, share equivalents per 1.00 move of the underlying.
        spot: The underlying's price, > 0.
        config: The hedging rules.

    Returns:
        ``(direction, shares, effective band, reason)``; direction None and shares 0 when
        nothing is to be done.

    Raises:
        ValueError: ``delta`` or ``gamma`` is not finite, or ``spot`` not finite and > 0.
    """
    for name, value in (("delta", delta), ("gamma", gamma), ("spot", spot)):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not spot > 0:
        raise ValueError(f"spot must be > 0, got {spot!r}")
    band = effective_band(gamma, spot, config)
    deviation = delta - config.delta_target
    where = f"{config.delta_target:.1f} +- {band:.1f}"
    if abs(deviation) <= band:
        return None, 0, band, f"delta {delta:.1f} inside {where}: no hedge"
    to_target = round(abs(deviation))
    if config.hedge_to == "band":
        # Up to the edge, so delta ends inside the band, but never further than the target.
        volume = min(math.ceil(abs(deviation) - band - _TOLERANCE), to_target)
    else:
        volume = to_target
    outside = f"delta {delta:.1f} outside {where}"
    if volume < config.min_volume:
        return (
            None,
            0,
            band,
            (f"{outside}: a hedge of {volume} shares is below min_volume {config.min_volume}"),
        )
    direction = Direction.SHORT if deviation > 0 else Direction.LONG
    verb = "selling" if direction is Direction.SHORT else "buying"
    if volume > config.max_volume:
        return (
            direction,
            config.max_volume,
            band,
            (
                f"{outside}: {verb} {config.max_volume} shares (capped at max_volume; "
                f"{volume} needed)"
            ),
        )
    return direction, volume, band, f"{outside}: {verb} {volume} shares"


def _limit_price(direction: Direction, bid: float, ask: float, ticks: int) -> float:
    """A marketable limit on the cent grid: ``ask + ticks`` cents, or ``bid - ticks`` cents.

    Never below 0.01.
    """
    # Rounded to 6 places first so that float noise (450.03 * 100 = 45002.999...) is not a
    # whole cent away.
    if direction is Direction.LONG:
        cents = math.ceil(round((ask + ticks * _TICK) * 100, 6))
    else:
        cents = math.floor(round((bid - ticks * _TICK) * 100, 6))
    return max(cents, 1) / 100


# -- the engine -----------------------------------------------------------------------------


class _Registration:
    """One strategy's hedging: what to trade, how, through whom, and when next."""

    __slots__ = ("config", "next_check", "sender", "underlying")

    def __init__(
        self, underlying: str, config: HedgeConfig, sender: HedgeSender, next_check: float
    ) -> None:
        self.underlying = underlying
        self.config = config
        self.sender = sender
        self.next_check = next_check


class _HedgeOrder:
    """A hedge order the engine sent and follows until it ended and its fills were booked."""

    __slots__ = ("booked", "cancel_requested", "order_id", "status", "strategy", "trade_ids",
                 "traded")  # fmt: skip

    def __init__(self, order_id: str, strategy: str) -> None:
        self.order_id = order_id
        self.strategy = strategy
        self.status = Status.SUBMITTING
        self.traded = 0
        self.booked = 0
        self.trade_ids: set[str] = set()
        self.cancel_requested = False

    @property
    def settled(self) -> bool:
        """Ended, and every unit it traded has arrived as a trade."""
        return self.status.is_final and self.booked >= self.traded


@attrs.frozen
class _Quote:
    """The underlying prices a check uses: the spot, and for a LIMIT hedge the bid and ask."""

    spot: float
    bid: float = math.nan
    ask: float = math.nan


class HedgeEngine(BaseEngine):
    """Delta-hedges each registered strategy with its underlying; see the module docstring.

    Add it after the PositionEngine, so that on each timer event the marks and Greeks are
    refreshed before the checks read them.
    """

    engine_name = "hedge"

    def __init__(self, main_engine: MainEngine, event_engine: EventEngine) -> None:
        super().__init__(main_engine, event_engine)
        self._clock = main_engine.clock
        self._stale_after_s = main_engine.settings.marketdata.stale_after_s
        self._log = logger.bind(source="hedge")
        self._registrations: dict[str, _Registration] = {}
        self._orders: dict[str, _HedgeOrder] = {}  # order id -> the hedge order
        self._handlers: tuple[tuple[str, Callable[[Event], None]], ...] = (
            (EVENT_ORDER, self.process_order_event),
            (EVENT_TRADE, self.process_trade_event),
            (EVENT_TIMER, self.process_timer_event),
        )

    def start(self) -> None:
        """Register the order, trade and timer handlers."""
        for event_type, handler in self._handlers:
            self.event_engine.register(event_type, handler)

    def close(self) -> None:
        """Unregister the handlers and forget every registration."""
        for event_type, handler in self._handlers:
            self.event_engine.unregister(event_type, handler)
        self._registrations.clear()

    # -- registration -------------------------------------------------------------------

    def register(
        self, strategy: str, underlying: str, config: HedgeConfig, sender: HedgeSender
    ) -> None:
        """Hedge ``strategy`` with ``underlying`` from now on; registering again replaces.

        The first check is due ``config.interval_s`` after this call.  Hedge orders sent
        under an earlier registration are still followed.

        Args:
            strategy: The strategy whose holding is hedged (the ``strategy`` of its trades).
            underlying: The symbol traded to hedge (the portfolio's underlying).
            config: The hedging rules.
            sender: The strategy's order path for hedge orders.

        Raises:
            ValueError: ``underlying`` is empty.
        """
        if not underlying:
            raise ValueError(f"underlying must not be empty (strategy {strategy!r})")
        due = self._clock.monotonic() + config.interval_s
        self._registrations[strategy] = _Registration(underlying, config, sender, due)
        self._log.info(
            "hedging strategy {!r} with {} every {:g} s: delta {:g} +- {:g}, {} orders",
            strategy, underlying, config.interval_s, config.delta_target, config.delta_band,
            config.order_type.value,
        )  # fmt: skip

    def unregister(self, strategy: str) -> None:
        """Stop checking ``strategy``; harmless when it is not registered.

        Its unfinished hedge orders are not cancelled (the strategy decides that).
        """
        if self._registrations.pop(strategy, None) is not None:
            self._log.info("stopped hedging strategy {!r}", strategy)

    def is_registered(self, strategy: str) -> bool:
        """True while ``strategy`` is registered."""
        return strategy in self._registrations

    @property
    def registrations(self) -> dict[str, HedgeConfig]:
        """The config of every registered strategy, by strategy (a copy)."""
        return {name: registration.config for name, registration in self._registrations.items()}

    def pending_orders(self, strategy: str) -> list[str]:
        """Ids of the strategy's hedge orders not yet ended or not yet fully booked."""
        return [o.order_id for o in self._orders.values() if o.strategy == strategy]

    # -- handlers (event thread) --------------------------------------------------------

    def process_timer_event(self, event: Event) -> None:
        """Check every registration whose interval has passed on the clock."""
        now = self._clock.monotonic()
        for strategy, registration in list(self._registrations.items()):
            if now + _TOLERANCE < registration.next_check:
                continue
            try:
                self.check(strategy)
            except Exception:  # noqa: BLE001 - one strategy's failure must not stop the others
                registration.next_check = now + registration.config.interval_s
                self._log.opt(exception=True).error("hedge check of {!r} failed", strategy)

    def process_order_event(self, event: Event) -> None:
        """Follow the status and traded units of the hedge orders.

        Those the engine sent, and any other active order of a strategy with the reference
        ``hedge``: one a broker reports working after a restart is an unfinished hedge, so
        the next check cancels it and waits for it instead of hedging on top of it.
        """
        order: OrderData = event.data
        hedge = self._orders.get(order.order_id)
        if hedge is None:
            if order.reference != HEDGE_REFERENCE or not order.strategy:
                return
            if not order.status.is_active:
                return
            hedge = self._orders[order.order_id] = _HedgeOrder(order.order_id, order.strategy)
            # What it traded before the engine saw it is in the ledger already (stored
            # trades, or executions the broker replayed before reporting the order).
            hedge.booked = order.traded
        hedge.status = order.status
        hedge.traded = order.traded
        self._forget_if_settled(hedge)

    def process_trade_event(self, event: Event) -> None:
        """Count the fills of the engine's hedge orders as they reach the holdings."""
        trade: TradeData = event.data
        hedge = self._orders.get(trade.order_id)
        if hedge is None or trade.trade_id in hedge.trade_ids:
            return
        hedge.trade_ids.add(trade.trade_id)
        hedge.booked += trade.volume
        self._forget_if_settled(hedge)

    def _forget_if_settled(self, hedge: _HedgeOrder) -> None:
        if hedge.settled:
            del self._orders[hedge.order_id]

    # -- the check ----------------------------------------------------------------------

    def check(self, strategy: str) -> HedgeDecision:
        """Run one check of ``strategy`` now, put its decision on ``EVENT_HEDGE``, return it.

        The next timer check is then due ``interval_s`` later.

        Raises:
            EngineError: ``strategy`` is not registered.
        """
        registration = self._registrations.get(strategy)
        if registration is None:
            raise EngineError(f"strategy {strategy!r} is not registered for hedging")
        config = registration.config
        registration.next_check = self._clock.monotonic() + config.interval_s
        build = _DecisionBuilder(strategy, registration, self._clock.now())
        decision = self._decide(strategy, registration, build)
        self.event_engine.put(Event(EVENT_HEDGE, decision))
        if decision.action == "none":
            self._log.debug("strategy {!r}: {}", strategy, decision.reason)
        else:
            self._log.info("strategy {!r}: {}", strategy, decision.reason)
        return decision

    def _decide(
        self, strategy: str, registration: _Registration, build: _DecisionBuilder
    ) -> HedgeDecision:
        positions = self.main_engine.find_engine("position", PositionEngine)
        if positions is None:
            return build.none("no PositionEngine is registered, so the delta is unknown")
        summary = positions.get_summary(strategy)
        build.summary = summary
        waiting = self._wait_for_orders(strategy, registration, build)
        if waiting is not None:
            return waiting
        if summary.positions_without_greeks:
            return build.none(
                f"Greeks are missing for {summary.positions_without_greeks} open position(s); "
                f"no hedge on a partial delta"
            )
        if not (math.isfinite(summary.delta) and math.isfinite(summary.gamma)):
            return build.none(f"delta {summary.delta} or gamma {summary.gamma} is not finite")
        quote = self._quote(registration)
        if isinstance(quote, str):
            return build.none(quote)
        config = registration.config
        direction, volume, band, reason = decide_hedge(
            summary.delta, summary.gamma, quote.spot, config
        )
        build.band = band
        if direction is None:
            return build.none(reason)
        price = None
        if config.order_type is OrderType.LIMIT:
            price = _limit_price(direction, quote.bid, quote.ask, config.limit_offset_ticks)
        return self._send(strategy, registration, build, (direction, volume, price, reason))

    def _wait_for_orders(
        self, strategy: str, registration: _Registration, build: _DecisionBuilder
    ) -> HedgeDecision | None:
        """Cancel the strategy's active hedges (once each); a decision while any is unfinished."""
        pending = [o for o in self._orders.values() if o.strategy == strategy]
        if not pending:
            return None
        ids = ", ".join(o.order_id for o in pending)
        for hedge in pending:
            if not hedge.status.is_active or hedge.cancel_requested:
                continue
            try:
                registration.sender.cancel_hedge(hedge.order_id)
            except Exception as error:  # noqa: BLE001 - the sender's failure, reported below
                self._log.opt(exception=True).error(
                    "strategy {!r}: cancel of hedge order {} failed", strategy, hedge.order_id
                )
                return build.none(f"cancel of hedge order {hedge.order_id} failed: {error!r}")
            hedge.cancel_requested = True
        active = [o for o in pending if o.status.is_active]
        if active:
            states = ", ".join(f"{o.order_id} ({o.status.value})" for o in active)
            return build.wait(ids, f"hedge order(s) {states} not finished: cancel requested")
        unbooked = ", ".join(f"{o.order_id} ({o.booked} of {o.traded})" for o in pending)
        return build.wait(ids, f"waiting for the fills of hedge order(s) {unbooked} to book")

    def _quote(self, registration: _Registration) -> _Quote | str:
        """The underlying's usable price, or the reason there is none."""
        symbol = registration.underlying
        marketdata = self.main_engine.find_engine("marketdata", MarketDataEngine)
        portfolio = marketdata.get_portfolio(symbol) if marketdata is not None else None
        underlying = portfolio.underlying if portfolio is not None else None
        if underlying is None or underlying.quote_time is None:
            return f"no quote for {symbol}"
        # The age is measured here, to the moment: the MarketDataEngine's stale flag is
        # set on its timer, up to a timer interval late.
        age_s = (self._clock.now() - underlying.quote_time).total_seconds()
        if age_s > self._stale_after_s:
            return (
                f"the quote for {symbol} is stale: {age_s:.0f} s old "
                f"(marketdata.stale_after_s = {self._stale_after_s:g})"
            )
        if registration.config.order_type is OrderType.LIMIT:
            bid, ask = underlying.bid, underlying.ask
            if bid is None or ask is None or underlying.mid is None or bid <= 0 or ask <= 0:
                return f"{symbol} has no two-sided quote to price a LIMIT hedge"
            return _Quote(underlying.mid, bid, ask)
        spot = underlying.price
        if spot is None or not math.isfinite(spot) or spot <= 0:
            return f"{symbol} has no mid or last price"
        return _Quote(spot)

    def _send(
        self,
        strategy: str,
        registration: _Registration,
        build: _DecisionBuilder,
        order: tuple[Direction, int, float | None, str],
    ) -> HedgeDecision:
        direction, volume, price, reason = order
        order_type = registration.config.order_type
        reason = f"{reason} of {registration.underlying}"
        if price is not None:
            reason = f"{reason} at {price:.2f}"
        try:
            order_id = registration.sender.send_hedge(direction, volume, price, order_type)
        except Exception as error:  # noqa: BLE001 - the sender's failure, reported below
            self._log.opt(exception=True).error("strategy {!r}: hedge order failed", strategy)
            return build.none(f"{reason}, but sending it failed: {error!r}")
        if not order_id:
            return build.none(f"{reason}, but the order was refused")
        self._orders[order_id] = _HedgeOrder(order_id, strategy)
        return build.order(
            "order", f"{reason} (order {order_id})",
            direction=direction, volume=volume, order_id=order_id, price=price,
        )  # fmt: skip


class _DecisionBuilder:
    """Fills the common fields of a check's :class:`HedgeDecision` as they become known."""

    __slots__ = ("band", "registration", "strategy", "summary", "time")

    def __init__(self, strategy: str, registration: _Registration, time: datetime) -> None:
        self.strategy = strategy
        self.registration = registration
        self.time = time
        self.summary: HoldingSummary | None = None
        self.band = registration.config.delta_band

    def none(self, reason: str) -> HedgeDecision:
        """Nothing was sent, because of ``reason``."""
        return self.order("none", reason)

    def wait(self, order_ids: str, reason: str) -> HedgeDecision:
        """Earlier hedges are unfinished."""
        return self.order("wait", reason, order_id=order_ids)

    def order(
        self,
        action: str,
        reason: str,
        *,
        direction: Direction | None = None,
        volume: int = 0,
        order_id: str = "",
        price: float | None = None,
    ) -> HedgeDecision:
        """The decision, with the order's fields when one was sent."""
        summary = self.summary
        return HedgeDecision(
            strategy=self.strategy,
            underlying=self.registration.underlying,
            time=self.time,
            delta=summary.delta if summary is not None else None,
            gamma=summary.gamma if summary is not None else None,
            target=self.registration.config.delta_target,
            band=self.band,
            action=action,
            direction=direction,
            volume=volume,
            order_id=order_id,
            price=price,
            reason=reason,
        )
