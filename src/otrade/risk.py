"""The RiskEngine: pre-trade checks every order passes before any gateway sees it.

:meth:`RiskEngine.check` raises :class:`~otrade.errors.OrderRejected` whose ``reason``
starts with a stable reason code, then a colon, then the value that failed and the
``risk.*`` setting it broke.  The codes, in the order the rules run:

* ``halted``: the kill switch is ``halt``; every order is refused.
* ``reduce_only``: the kill switch is ``reduce_only`` and the order does not shrink every
  position it touches (needs the exposure provider; without one every order is refused,
  as none can be shown to reduce).
* ``max_volume``: volume per order above ``max_option_volume`` contracts,
  ``max_underlying_volume`` shares or ``max_combo_volume`` combo units.
* ``max_open_orders``: the strategy already has ``max_open_orders`` active orders.
* ``order_rate``: the strategy sent ``max_orders_per_second`` (or
  ``max_orders_per_minute``) orders in the rolling window.
* ``global_order_rate``: all strategies together reached ``max_global_orders_per_second``
  (or ``max_global_orders_per_minute``).
* ``stale_quote``: a market order while a leg's quote is stale
  (``refuse_stale_market_orders``).
* ``wide_spread``: a market order while a leg's ``(ask - bid) / mid`` is above
  ``max_market_spread_pct`` percent, or the leg has no two-sided quote.
* ``price_collar``: a limit price further from the mid than the wider of
  ``price_collar_pct`` percent and ``price_collar_ticks`` ticks, or no mid to compare
  with (unless ``collar_requires_mid`` is False).
* ``max_premium``: ``|price| x volume x multiplier`` of an option or combo order.
* ``max_notional``: ``price x shares`` of an underlying order.
* ``max_contracts``: the strategy's option contracts after the order
  (``max_strategy_contracts``; needs the exposure provider).
* ``max_delta``: the strategy's ``|net delta|`` after the order, in share equivalents
  (``max_strategy_delta``; needs the exposure provider).

Every limit is a ``risk.*`` setting (:class:`~otrade.settings.RiskSettings`), is
inclusive, and is turned off by 0.

Quotes come from the MarketDataEngine (``OptionData`` for options, the portfolio's
``UnderlyingData`` for underlyings).  A combo's mid is its net per unit:
``sum(ratio x leg mid x leg multiplier) / option multiplier``.  Market orders and stop
orders without a price are valued at that mid for the premium and notional limits.

The strategy rules (``max_contracts``, ``max_delta``) and ``reduce_only`` need an
:class:`ExposureProvider`: the built-in PositionEngine, found at start, or one set with
:meth:`RiskEngine.set_exposure_provider`; while there is none the two strategy rules are
skipped.  An order that does not grow the figure (a closing trade, a hedge) always passes
them, so a strategy over its limit can still get back under it.

Rate windows count the orders :meth:`RiskEngine.check` accepted, by clock time, so call it
once per order.  Open orders are counted from ``EVENT_ORDER``: an order is open while its
status is active.  Everything runs on the event thread.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol, runtime_checkable

import attrs

from otrade.constants import OrderType, Status
from otrade.engine import BaseEngine
from otrade.errors import EngineError, OrderRejected
from otrade.event import EVENT_LOG, EVENT_ORDER, Event, EventEngine
from otrade.gateways.orders import new_order_id
from otrade.marketdata import MarketDataEngine
from otrade.objects import LogData, OrderData, OrderRequest
from otrade.settings import KILL_SWITCH_MODES
from otrade.symbols import is_option_symbol

if TYPE_CHECKING:
    from otrade.engine import MainEngine

__all__ = ["RISK_GATEWAY_NAME", "ExposureProvider", "RiskEngine"]

RISK_GATEWAY_NAME: Final = "risk"
"""The ``gateway_name`` of the rejected orders the RiskEngine reports."""

# Used for an option whose contract is unknown (US equity options) and a missing min tick.
_DEFAULT_OPTION_MULTIPLIER: Final = 100
_DEFAULT_MIN_TICK: Final = 0.01
# Prices are floats: a price exactly at the collar must not fail on rounding.
_TOLERANCE: Final = 1e-9
# What an order trades, indexing RiskEngine._volume_limits and _VOLUME_NAMES.
_COMBO: Final = 0
_OPTION: Final = 1
_UNDERLYING: Final = 2
_VOLUME_NAMES: Final = (
    ("combo units", "max_combo_volume"),
    ("option contracts", "max_option_volume"),
    ("shares", "max_underlying_volume"),
)


@runtime_checkable
class ExposureProvider(Protocol):
    """What the RiskEngine reads about a strategy's holding (the PositionEngine's figures).

    Quantities are signed (positive long, negative short).  ``strategy`` is "" for manual
    orders.
    """

    def strategy_exposure(self, strategy: str) -> tuple[int, float]:
        """The strategy's option contracts (sum of ``|quantity|``) and net delta.

        The delta is in share equivalents: ``delta x multiplier x contracts`` of every
        option plus the underlying shares.
        """
        ...

    def position_quantity(self, strategy: str, symbol: str) -> int:
        """The strategy's signed quantity of one option or underlying; 0 when flat."""
        ...


class _Instrument(NamedTuple):
    """What the checks need of one instrument: its kind, size and current quote.

    (Named tuples: every order builds these, and a tuple is the cheapest record.)
    """

    symbol: str
    is_option: bool
    multiplier: int
    min_tick: float
    bid: float | None = None
    ask: float | None = None
    mid: float | None = None
    stale: bool = True
    delta: float | None = None


class _Part(NamedTuple):
    """One instrument an order trades, with the signed quantity it trades."""

    instrument: _Instrument
    quantity: int


class RiskEngine(BaseEngine):
    """Refuses orders that break a ``risk.*`` limit, before any gateway sees them.

    Start mode and limits come from ``settings.risk``
    (:class:`~otrade.settings.RiskSettings`); the module docstring lists the rules and
    their reason codes.
    """

    engine_name = "risk"

    def __init__(self, main_engine: MainEngine, event_engine: EventEngine) -> None:
        super().__init__(main_engine, event_engine)
        self._settings = main_engine.settings.risk
        self._clock = main_engine.clock
        self._mode = self._settings.kill_switch
        self._provider: ExposureProvider | None = None
        self._market: MarketDataEngine | None = None  # found at the first order
        self._open_orders: dict[str, str] = {}  # order id -> strategy
        self._open_counts: Counter[str] = Counter()
        self._strategy_rates: dict[str, _Rates] = {}
        self._global_rates = _Rates()
        risk = self._settings  # frozen: what each order reads is taken once
        self._volume_limits = (
            risk.max_combo_volume, risk.max_option_volume, risk.max_underlying_volume
        )  # fmt: skip
        self._strategy_rate_limits = (risk.max_orders_per_second, risk.max_orders_per_minute)
        self._global_rate_limits = (
            risk.max_global_orders_per_second, risk.max_global_orders_per_minute
        )  # fmt: skip

    def start(self) -> None:
        """Track open orders from ``EVENT_ORDER``; read exposures from the PositionEngine.

        The built-in PositionEngine (started before this engine) is the exposure provider
        unless one was set already.
        """
        self.event_engine.register(EVENT_ORDER, self.process_order_event)
        if self._provider is None:
            try:
                positions = self.main_engine.get_engine("position")
            except EngineError:
                return
            if isinstance(positions, ExposureProvider):
                self._provider = positions

    # -- kill switch ----------------------------------------------------------------------

    @property
    def kill_switch(self) -> str:
        """The current mode: ``off``, ``reduce_only`` or ``halt``."""
        return self._mode

    def halt(self) -> None:
        """Refuse every order until :meth:`resume`."""
        self._set_mode("halt")

    def reduce_only(self) -> None:
        """Refuse every order that does not shrink the positions it touches."""
        self._set_mode("reduce_only")

    def resume(self) -> None:
        """Turn the kill switch off: orders are checked by the limits again."""
        self._set_mode("off")

    def _set_mode(self, mode: str) -> None:
        assert mode in KILL_SWITCH_MODES
        if mode == self._mode:
            return
        self._mode = mode
        self._log(f"kill switch set to {mode}", "WARNING" if mode != "off" else "INFO")

    # -- wiring ---------------------------------------------------------------------------

    def set_exposure_provider(self, provider: ExposureProvider | None) -> None:
        """Wire (or, with None, unwire) what reports each strategy's holding.

        Without a provider the ``max_contracts`` and ``max_delta`` rules are skipped and
        ``reduce_only`` refuses every order.
        """
        self._provider = provider

    @property
    def exposure_provider(self) -> ExposureProvider | None:
        """The wired provider, or None."""
        return self._provider

    def open_order_count(self, strategy: str) -> int:
        """Active orders of ``strategy`` as the order events reported them."""
        return self._open_counts[strategy]

    # -- events ---------------------------------------------------------------------------

    def process_order_event(self, event: Event) -> None:
        """Count an order as open while its status is active."""
        order: OrderData = event.data
        known = self._open_orders.get(order.order_id)
        if order.status.is_active:
            if known is None:
                self._open_orders[order.order_id] = order.strategy
                self._open_counts[order.strategy] += 1
            return
        if known is not None:
            del self._open_orders[order.order_id]
            self._open_counts[known] -= 1
            if not self._open_counts[known]:
                del self._open_counts[known]

    # -- checks ---------------------------------------------------------------------------

    def check(self, request: OrderRequest) -> None:
        """Pass ``request`` or refuse it; an accepted order counts toward the rate limits.

        The rules run in the order the module docstring lists, inline: every order of
        every strategy runs this, so the passing path makes as few calls and records as
        it can, and a message is formatted only for a refusal.

        Raises:
            OrderRejected: ``reason`` starts with the rule's code (see the module
                docstring) and names the value and the ``risk.*`` limit.
        """
        risk = self._settings
        strategy = request.strategy
        volume = request.volume
        legs = request.legs
        signed = request.direction.sign * volume
        instrument = self._instrument
        if legs:
            parts = [_Part(instrument(leg.symbol), leg.ratio * signed) for leg in legs]
        else:
            parts = [_Part(instrument(request.symbol), signed)]
        if self._mode != "off":
            self._check_kill_switch(request, parts)
        first = parts[0].instrument
        # max_volume
        kind = _COMBO if legs else _OPTION if first.is_option else _UNDERLYING
        limit = self._volume_limits[kind]
        if limit and volume > limit:
            what, key = _VOLUME_NAMES[kind]
            raise OrderRejected(f"max_volume: {volume} {what} is above risk.{key} = {limit}")
        # max_open_orders
        limit = risk.max_open_orders
        if limit:
            count = self._open_counts[strategy]
            if count >= limit:
                raise OrderRejected(
                    f"max_open_orders: strategy {strategy!r} has {count} open orders, "
                    f"risk.max_open_orders = {limit}"
                )
        # order_rate, global_order_rate
        now = self._clock.monotonic()
        rates = self._strategy_rates.get(strategy)
        if rates is not None:
            rates.check(now, self._strategy_rate_limits, strategy)
        self._global_rates.check(now, self._global_rate_limits, None)
        # stale_quote, wide_spread; price_collar
        price = request.price
        if request.order_type is OrderType.MARKET:
            self._check_market_quotes(parts)
        elif price is not None and (risk.price_collar_pct or risk.price_collar_ticks):
            self._check_collar(request, parts, price)
        # max_premium, max_notional
        self._check_value(request, parts, kind)
        # max_contracts, max_delta
        if self._provider is not None and (risk.max_strategy_contracts or risk.max_strategy_delta):
            self._check_exposure(self._provider, strategy, parts)
        # Accepted: count it in the rate windows.
        if rates is None:
            rates = self._strategy_rates[strategy] = _Rates()
        rates.add(now)
        self._global_rates.add(now)

    def refuse(self, request: OrderRequest, reason: str) -> OrderData:
        """Report ``request`` as a REJECTED order with ``reason`` and log a warning.

        Puts the order on ``EVENT_ORDER`` (gateway ``"risk"``, a new local order id) and
        a WARNING :class:`~otrade.objects.LogData` on ``EVENT_LOG``.

        Returns:
            The rejected order.
        """
        now = self._clock.now()
        order = attrs.evolve(
            request.create_order(new_order_id(self._clock), RISK_GATEWAY_NAME, now),
            status=Status.REJECTED,
            reject_reason=reason,
        )
        self.event_engine.put(Event(EVENT_ORDER, order))
        self._log(
            f"order {order.order_id} ({request.direction.value} {request.volume} "
            f"{request.symbol}, strategy {request.strategy!r}) refused: {reason}",
            "WARNING",
        )
        return order

    def check_and_report(self, request: OrderRequest) -> str | None:
        """:meth:`check`, and :meth:`refuse` on a refusal.

        Returns:
            None when the order passed, else the refusal's reason (already reported).
        """
        try:
            self.check(request)
        except OrderRejected as error:
            self.refuse(request, error.reason)
            return error.reason
        return None

    # -- rules that run only for some orders -----------------------------------------------

    def _check_kill_switch(self, request: OrderRequest, parts: list[_Part]) -> None:
        if self._mode == "halt":
            raise OrderRejected("halted: the kill switch is set to halt; every order is refused")
        if self._mode != "reduce_only":
            return
        if self._provider is None:
            raise OrderRejected(
                "reduce_only: no exposure provider is wired, so no order can be shown to "
                "reduce a position"
            )
        for part in parts:
            held = self._provider.position_quantity(request.strategy, part.instrument.symbol)
            after = held + part.quantity
            if held == 0 or abs(after) >= abs(held) or after * held < 0:
                raise OrderRejected(
                    f"reduce_only: {part.instrument.symbol} position {held:+d} would become "
                    f"{after:+d}; only orders that shrink a position pass"
                )

    def _check_market_quotes(self, parts: list[_Part]) -> None:
        risk = self._settings
        for part in parts:
            item = part.instrument
            if risk.refuse_stale_market_orders and item.stale:
                raise OrderRejected(
                    f"stale_quote: the quote of {item.symbol} is stale; a market order needs "
                    f"a live quote (risk.refuse_stale_market_orders = true)"
                )
            limit = risk.max_market_spread_pct
            if not limit:
                continue
            if item.mid is None or item.bid is None or item.ask is None or item.mid <= 0:
                raise OrderRejected(
                    f"wide_spread: {item.symbol} has no two-sided quote to measure its spread "
                    f"(risk.max_market_spread_pct = {limit:g})"
                )
            spread_pct = (item.ask - item.bid) / item.mid * 100
            if spread_pct > limit + _TOLERANCE:
                raise OrderRejected(
                    f"wide_spread: {item.symbol} spread {item.ask - item.bid:.4g} is "
                    f"{spread_pct:.4g}% of mid {item.mid:.4g}, risk.max_market_spread_pct = "
                    f"{limit:g}"
                )

    def _check_collar(self, request: OrderRequest, parts: list[_Part], price: float) -> None:
        risk = self._settings
        if request.legs:
            mid = _reference_mid(request, parts)
            min_tick = min(part.instrument.min_tick for part in parts)
        else:
            mid, min_tick = parts[0].instrument.mid, parts[0].instrument.min_tick
        if mid is None:
            if not risk.collar_requires_mid:
                return
            raise OrderRejected(
                f"price_collar: no mid for {request.symbol} to check limit price {price:g} "
                f"against (risk.collar_requires_mid = true)"
            )
        collar = max(abs(mid) * risk.price_collar_pct / 100, risk.price_collar_ticks * min_tick)
        distance = abs(price - mid)
        if distance > collar + _TOLERANCE:
            raise OrderRejected(
                f"price_collar: limit price {price:g} is {distance:.4g} from mid {mid:.4g}, "
                f"beyond the collar of {collar:.4g} (risk.price_collar_pct = "
                f"{risk.price_collar_pct:g}, risk.price_collar_ticks = {risk.price_collar_ticks})"
            )

    def _check_value(self, request: OrderRequest, parts: list[_Part], kind: int) -> None:
        risk = self._settings
        price = request.price
        if kind == _UNDERLYING:
            limit, code, key = risk.max_notional, "max_notional", "notional"
        else:
            limit, code, key = risk.max_premium, "max_premium", "premium"
        if limit:
            if price is None:
                price = request.trigger_price
            if price is None:
                price = _reference_mid(request, parts)
            if price is None:
                raise OrderRejected(
                    f"{code}: {request.symbol} has no limit price or mid to value the order "
                    f"by (risk.{code} = {limit:,.2f})"
                )
            value = abs(price) * request.volume * _order_multiplier(parts)
            if value > limit + _TOLERANCE:
                raise OrderRejected(
                    f"{code}: {key} {value:,.2f} of {request.volume} x {request.symbol} at "
                    f"{price:g} is above risk.{code} = {limit:,.2f}"
                )

    def _check_exposure(
        self, provider: ExposureProvider, strategy: str, parts: list[_Part]
    ) -> None:
        risk = self._settings
        contracts, delta = provider.strategy_exposure(strategy)
        limit = risk.max_strategy_contracts
        if limit:
            after = contracts
            for part in parts:
                if part.instrument.is_option:
                    held = provider.position_quantity(strategy, part.instrument.symbol)
                    after += abs(held + part.quantity) - abs(held)
            if after > limit and after > contracts:
                raise OrderRejected(
                    f"max_contracts: strategy {strategy!r} would hold {after} option contracts "
                    f"(now {contracts}), risk.max_strategy_contracts = {limit}"
                )
        delta_limit = risk.max_strategy_delta
        if delta_limit:
            delta_after = delta + _order_delta(parts)
            if abs(delta_after) > delta_limit + _TOLERANCE and abs(delta_after) > abs(delta):
                raise OrderRejected(
                    f"max_delta: strategy {strategy!r} would hold a delta of "
                    f"{delta_after:,.1f} (now {delta:,.1f}), risk.max_strategy_delta = "
                    f"{delta_limit:g}"
                )

    # -- instruments ----------------------------------------------------------------------

    def _instrument(self, symbol: str) -> _Instrument:
        contract = self.main_engine.get_contract(symbol)
        min_tick = contract.min_tick if contract is not None else _DEFAULT_MIN_TICK
        marketdata = self._market
        if marketdata is None:
            marketdata = self._market = self._marketdata()
        option = marketdata.get_option(symbol) if marketdata is not None else None
        if option is not None:
            return _Instrument(
                symbol, True, option.multiplier, min_tick, option.bid, option.ask, option.mid,
                option.stale, option.delta,
            )  # fmt: skip
        portfolio = marketdata.get_portfolio(symbol) if marketdata is not None else None
        if portfolio is not None:
            underlying = portfolio.underlying
            return _Instrument(
                symbol, False, 1, min_tick, underlying.bid, underlying.ask, underlying.mid,
                underlying.stale, 1.0,
            )  # fmt: skip
        if contract is not None:
            return _Instrument(symbol, contract.is_option, contract.multiplier, min_tick,
                               delta=None if contract.is_option else 1.0)  # fmt: skip
        if is_option_symbol(symbol):
            return _Instrument(symbol, True, _DEFAULT_OPTION_MULTIPLIER, min_tick)
        return _Instrument(symbol, False, 1, min_tick, delta=1.0)

    def _marketdata(self) -> MarketDataEngine | None:
        return self.main_engine.find_engine(MarketDataEngine.engine_name, MarketDataEngine)

    def _log(self, message: str, level: str) -> None:
        record = LogData(message=message, level=level, source="risk", time=self._clock.now())
        self.event_engine.put(Event(EVENT_LOG, record))


class _Rates:
    """The accepted orders' times in the rolling second and minute, oldest first.

    Times come from the clock's monotonic reading, so they only grow: the expired ones are
    always at the left, and a count costs what expired since the last one (amortized O(1)).
    """

    __slots__ = ("minute", "second")

    def __init__(self) -> None:
        self.second: deque[float] = deque()
        self.minute: deque[float] = deque()

    def check(self, now: float, limits: tuple[int, int], strategy: str | None) -> None:
        """Refuse when the last second or the last minute holds its limit (0: no limit).

        The windows are ``(now - 1 s, now]`` and ``(now - 60 s, now]``.

        Raises:
            OrderRejected: ``order_rate`` naming ``strategy``, or ``global_order_rate`` when
                ``strategy`` is None.
        """
        second, minute = self.second, self.minute
        start = now - 1.0
        while second and second[0] <= start:
            second.popleft()
        start = now - 60.0
        while minute and minute[0] <= start:
            minute.popleft()
        per_second, per_minute = len(second), len(minute)
        if limits[0] and per_second >= limits[0]:
            raise _rate_refusal(per_second, limits[0], "second", strategy)
        if limits[1] and per_minute >= limits[1]:
            raise _rate_refusal(per_minute, limits[1], "minute", strategy)

    def add(self, now: float) -> None:
        """Record one accepted order at ``now`` (expired times go at the next count)."""
        self.second.append(now)
        self.minute.append(now)


def _rate_refusal(count: int, limit: int, unit: str, strategy: str | None) -> OrderRejected:
    span = 1 if unit == "second" else 60
    if strategy is None:
        return OrderRejected(
            f"global_order_rate: {count} orders were sent in the last {span} s, "
            f"risk.max_global_orders_per_{unit} = {limit}"
        )
    return OrderRejected(
        f"order_rate: strategy {strategy!r} sent {count} orders in the last {span} s, "
        f"risk.max_orders_per_{unit} = {limit}"
    )


def _order_multiplier(parts: list[_Part]) -> int:
    """The multiplier a price per unit is quoted in: the first option leg's, else 1."""
    for part in parts:
        if part.instrument.is_option:
            return part.instrument.multiplier
    return 1


def _reference_mid(request: OrderRequest, parts: list[_Part]) -> float | None:
    """The mid of a single instrument, or a combo's net mid per unit."""
    if not request.legs:
        return parts[0].instrument.mid
    total = 0.0
    for leg, part in zip(request.legs, parts, strict=True):
        mid = part.instrument.mid
        if mid is None or not math.isfinite(mid):
            return None
        total += leg.ratio * mid * part.instrument.multiplier
    return total / _order_multiplier(parts)


def _order_delta(parts: list[_Part]) -> float:
    """The order's delta in share equivalents.

    Raises:
        OrderRejected: An option leg has no delta yet (code ``max_delta``).
    """
    total = 0.0
    for part in parts:
        item = part.instrument
        if item.delta is None:
            raise OrderRejected(
                f"max_delta: {item.symbol} has no delta yet to estimate the order's delta "
                f"(risk.max_strategy_delta is set)"
            )
        total += part.quantity * item.delta * item.multiplier
    return total
