"""The PositionEngine: one holding per strategy, P&L by average cost, and position Greeks.

**Holdings.**  Every trade belongs to the strategy named in its ``strategy`` field ("" for
manual trades).  A strategy's :class:`Holding` has

* underlying positions (signed shares, by symbol),
* single-leg option positions (signed contracts, by symbol),
* combo positions (by combo id, the order id of the combo order that opened it), each with
  its legs' signed quantities and the order's ``combo_signature``.

Leg trades of a combo order update that combo's legs, each leg following its own fills, so
partial fills show as they happen.  A combo order whose signature is the
:func:`~otrade.combos.combo.opposite_signature` of an open combo of the same strategy nets
against that combo (the oldest such one) instead of opening a new one: its leg trades
reduce the matching legs and realize P&L.  A combo whose every leg is flat is closed (it
stays in :attr:`Holding.combos` with its realized P&L; :meth:`Holding.open_combos` skips it).
A single-leg option trade never reduces a combo's leg, and a closing combo order that
trades more than the open combo holds flips those legs rather than opening a new combo.

**Ledger math.**  Each position keeps its signed quantity and the average price of that
quantity (commissions are *not* in the average; they are kept beside it).  A fill that
reduces a position realizes ``(exit - average) x closed quantity x multiplier x sign``
(sign +1 for a long, -1 for a short); a fill through zero closes the old side and opens
the rest at the fill price.  So a call sold at 2.00 and marked at 2.00 shows zero
unrealized P&L.  Unrealized P&L is ``(mark - average) x quantity x multiplier``; a
position without a mark has None, never 0.  Total P&L is
``realized + unrealized - commissions``.

**Marks and Greeks.**  On every timer event the engine reads marks (the mid, else the last
price, with its quote time) and per-share Greeks from the MarketDataEngine when one is
registered.  A position's Greek is ``per-share Greek x multiplier x signed quantity``; an
underlying position's delta is its signed share count.  Units follow
:class:`~otrade.portfolio.OptionData`: theta per calendar day, vega per volatility point.

**Multipliers.**  From contract events (:attr:`ContractData.multiplier`), the
MainEngine's contract cache or the MarketDataEngine's options; when none is known, 100 for
a symbol in OCC form and 1 for anything else (an underlying).  Realized P&L is kept per
unit of price, so a multiplier learned after the trades (listings load after the rebuild
at start) corrects every figure at once.

**Rebuild.**  A holding is a fold over the stored trades (time order, then storage order):
:func:`rebuild_holdings` is that fold, and the engine runs it at start over the
DatabaseEngine's ledger, so the holdings after a restart equal those before the stop (as
long as trades arrived in time order, which brokers guarantee per execution stream).
Booking is idempotent on the execution id, so a repeated trade changes nothing even
without the DatabaseEngine's gate.

Threading: holdings are live objects owned by the event thread; read them there (strategy
callbacks run there) or take a :meth:`Holding.snapshot`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs
from loguru import logger

from otrade.combos.combo import opposite_signature
from otrade.constants import Product
from otrade.database.engine import DatabaseEngine
from otrade.engine import BaseEngine
from otrade.event import (
    EVENT_COMMISSION,
    EVENT_CONTRACT,
    EVENT_ORDER,
    EVENT_TIMER,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.marketdata import MarketDataEngine
from otrade.objects import CommissionData, ContractData, OrderData, TradeData
from otrade.symbols import is_option_symbol

if TYPE_CHECKING:
    from otrade.engine import MainEngine

__all__ = [
    "CLOSE_REFERENCE_PREFIX",
    "DEFAULT_OPTION_MULTIPLIER",
    "ComboPosition",
    "ComboState",
    "Holding",
    "HoldingSnapshot",
    "HoldingSummary",
    "Position",
    "PositionEngine",
    "PositionState",
    "default_multiplier",
    "rebuild_holdings",
]


DEFAULT_OPTION_MULTIPLIER: Final = 100
"""The multiplier assumed for an OCC option symbol whose contract is not known."""
CLOSE_REFERENCE_PREFIX: Final = "close:"
"""A combo order whose reference is this plus a combo id closes that combo position: its
leg fills book into that combo whatever its signature (how ``close_combo_position`` works)."""


def default_multiplier(symbol: str) -> int:
    """100 (:data:`DEFAULT_OPTION_MULTIPLIER`) for an OCC option symbol, 1 otherwise."""
    return DEFAULT_OPTION_MULTIPLIER if is_option_symbol(symbol) else 1


# -- frozen views -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PositionState:
    """The ledger state of one position, without marks (what a rebuild must reproduce).

    Attributes:
        symbol: Canonical symbol.
        quantity: Signed contracts (options) or shares (underlyings).
        average_price: Average price per unit of the open quantity; 0.0 when flat.
        realized: Realized P&L in the account currency, before commissions.
        commission: Commissions of the position's trades.
        multiplier: Units of the underlying per contract (1 for an underlying).
    """

    symbol: str
    quantity: int
    average_price: float
    realized: float
    commission: float
    multiplier: int


@attrs.frozen(kw_only=True)
class ComboState:
    """The ledger state of one combo position.

    Attributes:
        combo_id: The order id of the combo order that opened it.
        signature: The opening order's combo signature ("" when unknown).
        legs: Its legs' states, in the order they first traded.
        is_open: False once every leg is flat.
    """

    combo_id: str
    signature: str
    legs: tuple[PositionState, ...]
    is_open: bool


@attrs.frozen(kw_only=True)
class HoldingSnapshot:
    """A read-only copy of a holding's ledger, safe to keep and to pass to other threads.

    Attributes:
        strategy: The strategy ("" for manual trades).
        underlyings: Underlying positions by symbol order.
        options: Single-leg option positions by symbol order.
        combos: Combo positions in the order they opened.
    """

    strategy: str
    underlyings: tuple[PositionState, ...]
    options: tuple[PositionState, ...]
    combos: tuple[ComboState, ...]


@attrs.frozen(kw_only=True)
class HoldingSummary:
    """One strategy's totals at one moment.

    Greeks are summed over the open positions whose Greeks are known; unrealized P&L over
    the open positions that have a mark (``unmarked_positions`` says how many have none,
    so a partial sum never passes for a complete one).

    Attributes:
        strategy: The strategy ("" for manual trades).
        delta: Shares-equivalent delta.
        gamma: Delta change per 1.00 move of the underlying.
        theta: Value change per calendar day.
        vega: Value change per volatility point.
        realized: Realized P&L before commissions.
        unrealized: Unrealized P&L of the marked open positions.
        commissions: Commissions of every trade.
        total_pnl: ``realized + unrealized - commissions``.
        open_positions: Open positions, combo legs counted one by one.
        unmarked_positions: Open positions without a mark.
        positions_without_greeks: Open option positions without Greeks.
        oldest_mark_age_s: Age of the oldest mark of an open position, None when none.
    """

    strategy: str
    delta: float
    gamma: float
    theta: float
    vega: float
    realized: float
    unrealized: float
    commissions: float
    total_pnl: float
    open_positions: int
    unmarked_positions: int
    positions_without_greeks: int
    oldest_mark_age_s: float | None


# -- live ledgers -----------------------------------------------------------------------------


class Position:
    """The live ledger of one instrument within a holding (event thread only).

    Args:
        symbol: Canonical symbol.
        multiplier: Units of the underlying per contract (1 for an underlying).
        is_option: True for an option, False for an underlying (shares).

    Attributes:
        quantity: Signed contracts or shares.
        average_price: Average price per unit of the open quantity (0.0 when flat).
        realized_points: Realized P&L per unit of price (times the multiplier gives money).
        commission: Commissions of the position's trades.
        mark: Latest mark per unit (mid, else last), None until marked.
        mark_time: When the mark was quoted, None until marked.
        delta: Per-share delta, None until known (underlyings use their share count).
        gamma: Per-share gamma, None until known.
        theta: Per-share theta per calendar day, None until known.
        vega: Per-share vega per volatility point, None until known.
    """

    __slots__ = (
        "average_price",
        "commission",
        "delta",
        "gamma",
        "is_option",
        "mark",
        "mark_time",
        "multiplier",
        "quantity",
        "realized_points",
        "symbol",
        "theta",
        "vega",
    )

    def __init__(self, symbol: str, multiplier: int, *, is_option: bool) -> None:
        self.symbol = symbol
        self.multiplier = multiplier
        self.is_option = is_option
        self.quantity = 0
        self.average_price = 0.0
        self.realized_points = 0.0
        self.commission = 0.0
        self.mark: float | None = None
        self.mark_time: datetime | None = None
        self.delta: float | None = None
        self.gamma: float | None = None
        self.theta: float | None = None
        self.vega: float | None = None

    def __repr__(self) -> str:
        return (
            f"Position({self.symbol!r}, quantity={self.quantity}, "
            f"average_price={self.average_price!r})"
        )

    def apply_fill(self, signed_volume: int, price: float) -> None:
        """Book a fill of ``signed_volume`` units (positive bought, negative sold) at ``price``."""
        held = self.quantity
        if held == 0 or (held > 0) == (signed_volume > 0):
            total = abs(held) + abs(signed_volume)
            self.average_price = (
                self.average_price * abs(held) + price * abs(signed_volume)
            ) / total
            self.quantity = held + signed_volume
            return
        closed = min(abs(held), abs(signed_volume))
        side = 1 if held > 0 else -1
        self.realized_points += (price - self.average_price) * closed * side
        self.quantity = held + signed_volume
        if self.quantity == 0:
            self.average_price = 0.0
        elif (self.quantity > 0) != (held > 0):
            self.average_price = price  # went through zero: the rest opened at this fill

    def set_mark(self, price: float | None, time: datetime | None) -> None:
        """Store a mark per unit and its quote time; a None price keeps the previous mark."""
        if price is None:
            return
        self.mark = price
        self.mark_time = time

    def set_greeks(
        self,
        delta: float | None,
        gamma: float | None,
        theta: float | None,
        vega: float | None,
    ) -> None:
        """Store per-share Greeks (options only; an underlying's delta is its share count)."""
        self.delta, self.gamma, self.theta, self.vega = delta, gamma, theta, vega

    @property
    def is_open(self) -> bool:
        """True while the quantity is not zero."""
        return self.quantity != 0

    @property
    def realized(self) -> float:
        """Realized P&L in money, before commissions."""
        return self.realized_points * self.multiplier

    @property
    def unrealized(self) -> float | None:
        """``(mark - average) x quantity x multiplier``; 0.0 when flat, None without a mark."""
        if self.quantity == 0:
            return 0.0
        if self.mark is None:
            return None
        return (self.mark - self.average_price) * self.quantity * self.multiplier

    def _greek(self, per_share: float | None) -> float | None:
        if per_share is None:
            return None
        return per_share * self.multiplier * self.quantity

    @property
    def position_delta(self) -> float | None:
        """Shares-equivalent delta: the share count for an underlying."""
        if not self.is_option:
            return float(self.quantity)
        return self._greek(self.delta)

    @property
    def position_gamma(self) -> float | None:
        """Gamma of the whole position (0 for an underlying)."""
        return self._greek(self.gamma) if self.is_option else 0.0

    @property
    def position_theta(self) -> float | None:
        """Theta per calendar day of the whole position (0 for an underlying)."""
        return self._greek(self.theta) if self.is_option else 0.0

    @property
    def position_vega(self) -> float | None:
        """Vega per volatility point of the whole position (0 for an underlying)."""
        return self._greek(self.vega) if self.is_option else 0.0

    def state(self) -> PositionState:
        """The ledger state as a frozen record."""
        return PositionState(
            symbol=self.symbol,
            quantity=self.quantity,
            average_price=self.average_price,
            realized=self.realized,
            commission=self.commission,
            multiplier=self.multiplier,
        )


class ComboPosition:
    """A combo position: the legs one combo order opened (event thread only).

    Args:
        combo_id: The order id of the combo order that opened it.
        signature: That order's combo signature ("" when unknown: it then never nets).

    Attributes:
        legs: The leg positions by symbol, in the order they first traded.
        roles: Each leg's role (``short_put``...) by symbol, as its trades said.
    """

    __slots__ = ("combo_id", "legs", "roles", "signature")

    def __init__(self, combo_id: str, signature: str) -> None:
        self.combo_id = combo_id
        self.signature = signature
        self.legs: dict[str, Position] = {}
        self.roles: dict[str, str] = {}

    def __repr__(self) -> str:
        quantities = {symbol: leg.quantity for symbol, leg in self.legs.items()}
        return f"ComboPosition({self.combo_id!r}, {quantities})"

    @property
    def is_open(self) -> bool:
        """True while any leg is not flat."""
        return any(leg.quantity != 0 for leg in self.legs.values())

    def quantities(self) -> dict[str, int]:
        """Signed quantity per leg symbol."""
        return {symbol: leg.quantity for symbol, leg in self.legs.items()}

    @property
    def realized(self) -> float:
        """Realized P&L of every leg, before commissions."""
        return sum(leg.realized for leg in self.legs.values())

    def state(self) -> ComboState:
        """The ledger state as a frozen record."""
        return ComboState(
            combo_id=self.combo_id,
            signature=self.signature,
            legs=tuple(leg.state() for leg in self.legs.values()),
            is_open=self.is_open,
        )


class Holding:
    """One strategy's positions (event thread only; see :meth:`snapshot` for a copy).

    Args:
        strategy: The strategy's name ("" for manual trades).

    Attributes:
        underlyings: Underlying positions by symbol.
        options: Single-leg option positions by symbol.
        combos: Combo positions by combo id, open and closed, in the order they opened.
    """

    __slots__ = ("_booked", "_open", "_routes", "combos", "options", "strategy", "underlyings")

    def __init__(self, strategy: str) -> None:
        self.strategy = strategy
        self.underlyings: dict[str, Position] = {}
        self.options: dict[str, Position] = {}
        self.combos: dict[str, ComboPosition] = {}
        # Combo order id -> the combo its leg trades update (itself, or the one it closes).
        self._routes: dict[str, ComboPosition] = {}
        # Execution id -> (the position it booked into, its commission so far).
        self._booked: dict[str, tuple[Position, float]] = {}
        # The positions whose quantity is not zero, by id(): what the risk figures read on
        # every order, however many flat ledgers the holding keeps for their P&L.
        self._open: dict[int, Position] = {}

    def __repr__(self) -> str:
        return (
            f"Holding({self.strategy!r}, underlyings={len(self.underlyings)}, "
            f"options={len(self.options)}, combos={len(self.combos)})"
        )

    # -- updates ----------------------------------------------------------------------

    def apply_trade(self, trade: TradeData, order: OrderData | None, multiplier: int) -> bool:
        """Book one trade; a repeated execution id changes nothing.

        Args:
            trade: The fill.
            order: For a combo leg fill, the combo order (for its signature), when known.
            multiplier: The traded instrument's multiplier (1 for an underlying).

        Returns:
            False when the trade was already booked.
        """
        if trade.trade_id in self._booked:
            return False
        position = self._position_for(trade, order, multiplier)
        position.apply_fill(trade.signed_volume, trade.price)
        position.commission += trade.commission
        if position.quantity:
            self._open[id(position)] = position
        else:
            self._open.pop(id(position), None)
        self._booked[trade.trade_id] = (position, trade.commission)
        return True

    def apply_commission(self, trade_id: str, commission: float) -> bool:
        """Replace a booked trade's commission (a late commission report).

        Returns:
            False when no trade with that execution id is booked here.
        """
        booked = self._booked.get(trade_id)
        if booked is None:
            return False
        position, previous = booked
        position.commission += commission - previous
        self._booked[trade_id] = (position, commission)
        return True

    def set_multiplier(self, symbol: str, multiplier: int) -> None:
        """Correct the multiplier of every position in ``symbol``."""
        for position in self.positions():
            if position.symbol == symbol:
                position.multiplier = multiplier

    def _position_for(self, trade: TradeData, order: OrderData | None, multiplier: int) -> Position:
        symbol = trade.symbol
        if trade.combo_id:
            combo = self._routes.get(trade.combo_id) or self._route(trade.combo_id, order)
            leg = combo.legs.get(symbol)
            if leg is None:
                leg = combo.legs[symbol] = _new_position(symbol, multiplier)
                combo.roles[symbol] = trade.leg_role
            return leg
        table = self.options if is_option_symbol(symbol) else self.underlyings
        position = table.get(symbol)
        if position is None:
            position = table[symbol] = _new_position(symbol, multiplier)
        return position

    def _route(self, combo_id: str, order: OrderData | None) -> ComboPosition:
        signature = order.combo_signature if order is not None else ""
        target = self._closing_target(order)
        if target is None:
            target = self._closable(signature)
        if target is None:
            target = self.combos[combo_id] = ComboPosition(combo_id, signature)
        self._routes[combo_id] = target
        return target

    def _closing_target(self, order: OrderData | None) -> ComboPosition | None:
        """The open combo a close order names in its reference (``close:<combo id>``)."""
        if order is None or not order.reference.startswith(CLOSE_REFERENCE_PREFIX):
            return None
        target = self.combos.get(order.reference[len(CLOSE_REFERENCE_PREFIX) :])
        return target if target is not None and target.is_open else None

    def _closable(self, signature: str) -> ComboPosition | None:
        if not signature:
            return None
        try:
            reverse = opposite_signature(signature)
        except ValueError:
            return None  # not a signature the combo library wrote: it cannot net
        for combo in self.combos.values():
            if combo.is_open and combo.signature == reverse:
                return combo
        return None

    # -- reads ------------------------------------------------------------------------

    def positions(self) -> Iterator[Position]:
        """Every position ledger: underlyings, single options, then every combo leg."""
        yield from self.underlyings.values()
        yield from self.options.values()
        for combo in self.combos.values():
            yield from combo.legs.values()

    def open_positions(self) -> Iterator[Position]:
        """The positions whose quantity is not zero."""
        return (position for position in self.positions() if position.quantity != 0)

    def open_combos(self) -> list[ComboPosition]:
        """The combo positions with a leg that is not flat."""
        return [combo for combo in self.combos.values() if combo.is_open]

    def exposure(self) -> tuple[int, float]:
        """Option contracts (sum of ``|quantity|``, combo legs included) and net delta.

        The delta is in share equivalents, as :attr:`HoldingSummary.delta`: option
        positions without a delta yet count 0.  Reads only the open positions.
        """
        contracts, delta = 0, 0.0
        for position in self._open.values():
            quantity = position.quantity
            if not position.is_option:
                delta += quantity
                continue
            contracts += abs(quantity)
            if position.delta is not None:
                delta += position.delta * position.multiplier * quantity
        return contracts, delta

    def quantity_of(self, symbol: str) -> int:
        """Signed quantity of ``symbol``, single legs and combo legs together (0 when flat)."""
        quantity = 0
        for position in self._open.values():
            if position.symbol == symbol:
                quantity += position.quantity
        return quantity

    def underlying_quantity(self, symbol: str) -> int:
        """Signed shares of ``symbol`` held outside combos (0 when none)."""
        position = self.underlyings.get(symbol)
        return position.quantity if position is not None else 0

    @property
    def realized(self) -> float:
        """Realized P&L of every position, before commissions."""
        return sum(position.realized for position in self.positions())

    @property
    def commissions(self) -> float:
        """Commissions of every booked trade."""
        return sum(position.commission for position in self.positions())

    def summary(self, now: datetime) -> HoldingSummary:
        """The strategy's Greeks and P&L; ``now`` (from the clock) dates the marks."""
        greeks = [0.0, 0.0, 0.0, 0.0]
        unrealized = 0.0
        open_count = unmarked = without_greeks = 0
        oldest: datetime | None = None
        for position in self.open_positions():
            open_count += 1
            value = position.unrealized
            if value is None:
                unmarked += 1
            else:
                unrealized += value
            if position.mark_time is not None and (oldest is None or position.mark_time < oldest):
                oldest = position.mark_time
            parts = (
                position.position_delta,
                position.position_gamma,
                position.position_theta,
                position.position_vega,
            )
            if any(part is None for part in parts):
                without_greeks += 1
            for index, part in enumerate(parts):
                greeks[index] += part or 0.0
        realized, commissions = self.realized, self.commissions
        return HoldingSummary(
            strategy=self.strategy,
            delta=greeks[0],
            gamma=greeks[1],
            theta=greeks[2],
            vega=greeks[3],
            realized=realized,
            unrealized=unrealized,
            commissions=commissions,
            total_pnl=realized + unrealized - commissions,
            open_positions=open_count,
            unmarked_positions=unmarked,
            positions_without_greeks=without_greeks,
            oldest_mark_age_s=None if oldest is None else (now - oldest).total_seconds(),
        )

    def snapshot(self) -> HoldingSnapshot:
        """A frozen copy of the ledger (no marks), for other threads and for comparison."""
        return HoldingSnapshot(
            strategy=self.strategy,
            underlyings=tuple(self.underlyings[s].state() for s in sorted(self.underlyings)),
            options=tuple(self.options[s].state() for s in sorted(self.options)),
            combos=tuple(combo.state() for combo in self.combos.values()),
        )


def _new_position(symbol: str, multiplier: int) -> Position:
    return Position(symbol, multiplier, is_option=is_option_symbol(symbol))


def rebuild_holdings(
    trades: Iterable[TradeData],
    orders: Mapping[str, OrderData],
    multipliers: Mapping[str, int] | None = None,
) -> dict[str, Holding]:
    """Fold trades, in the order given, into one holding per strategy.

    Args:
        trades: The ledger in time order, ties in storage order.
        orders: Combo orders by order id (for their signatures); a combo order missing
            here opens its own combo position and never nets.
        multipliers: Known multipliers by symbol; :func:`default_multiplier` for the rest.

    Returns:
        Holdings by strategy name.
    """
    known = multipliers or {}
    holdings: dict[str, Holding] = {}
    for trade in trades:
        holding = holdings.get(trade.strategy)
        if holding is None:
            holding = holdings[trade.strategy] = Holding(trade.strategy)
        order = orders.get(trade.combo_id) if trade.combo_id else None
        multiplier = known.get(trade.symbol) or default_multiplier(trade.symbol)
        holding.apply_trade(trade, order, multiplier)
    return holdings


# -- the engine -------------------------------------------------------------------------------


class PositionEngine(BaseEngine):
    """Keeps one :class:`Holding` per strategy from trades, commissions and marks.

    At start it rebuilds every holding from the DatabaseEngine's trade ledger (when a
    DatabaseEngine is registered); afterwards it books each trade event (after the
    database gate committed it), late commissions, contract multipliers, and on every timer
    the marks and Greeks from the MarketDataEngine (when one is registered).
    """

    engine_name = "position"

    def __init__(self, main_engine: MainEngine, event_engine: EventEngine) -> None:
        super().__init__(main_engine, event_engine)
        self._clock = main_engine.clock
        self._log = logger.bind(source="position")
        self._holdings: dict[str, Holding] = {}
        self._orders: dict[str, OrderData] = {}
        self._multipliers: dict[str, int] = {}
        self._handlers: tuple[tuple[str, Callable[[Event], None]], ...] = (
            (EVENT_ORDER, self.process_order_event),
            (EVENT_TRADE, self.process_trade_event),
            (EVENT_COMMISSION, self.process_commission_event),
            (EVENT_CONTRACT, self.process_contract_event),
            (EVENT_TIMER, self.process_timer_event),
        )

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Rebuild the holdings from the stored trades and register the handlers."""
        database = self._database()
        if database is not None:
            trades = database.get_all_trades()
            orders: dict[str, OrderData] = {}
            for combo_id in dict.fromkeys(t.combo_id for t in trades if t.combo_id):
                order = database.get_order(combo_id)
                if order is not None:
                    orders[combo_id] = order
            self.rebuild_from(trades, orders)
            self._log.info(
                "rebuilt {} holdings from {} stored trades", len(self._holdings), len(trades)
            )
        for event_type, handler in self._handlers:
            self.event_engine.register(event_type, handler)

    def close(self) -> None:
        """Unregister the handlers."""
        for event_type, handler in self._handlers:
            self.event_engine.unregister(event_type, handler)

    def _database(self) -> DatabaseEngine | None:
        return self.main_engine.find_engine("database", DatabaseEngine)

    def _marketdata(self) -> MarketDataEngine | None:
        return self.main_engine.find_engine("marketdata", MarketDataEngine)

    # -- reads ------------------------------------------------------------------------

    @property
    def strategies(self) -> list[str]:
        """Strategies that have a holding, by name."""
        return sorted(self._holdings)

    def get_holding(self, strategy: str) -> Holding:
        """The live holding of ``strategy`` (an empty one when it never traded).

        The holding is owned by the event thread; elsewhere use :meth:`Holding.snapshot`.
        """
        holding = self._holdings.get(strategy)
        return holding if holding is not None else Holding(strategy)

    def get_summary(self, strategy: str) -> HoldingSummary:
        """The Greeks and P&L of ``strategy`` now (see :class:`HoldingSummary`)."""
        return self.get_holding(strategy).summary(self._clock.now())

    # -- exposure (what the RiskEngine reads) ------------------------------------------

    def strategy_exposure(self, strategy: str) -> tuple[int, float]:
        """The strategy's option contracts and net delta, for the RiskEngine.

        Contracts are the sum of ``|quantity|`` of option positions, combo legs included;
        the delta is :attr:`HoldingSummary.delta`, in share equivalents (see
        :meth:`Holding.exposure`; every order the strategy sends asks for it).
        """
        holding = self._holdings.get(strategy)
        return holding.exposure() if holding is not None else (0, 0.0)

    def position_quantity(self, strategy: str, symbol: str) -> int:
        """The strategy's signed quantity of ``symbol``, single legs and combo legs together."""
        holding = self._holdings.get(strategy)
        return holding.quantity_of(symbol) if holding is not None else 0

    def rebuild_from(self, trades: Iterable[TradeData], orders: Mapping[str, OrderData]) -> None:
        """Replace every holding with the fold of ``trades`` (see :func:`rebuild_holdings`)."""
        self._orders.update(orders)
        self._holdings = rebuild_holdings(trades, orders, self._multipliers)

    # -- handlers (event thread) ------------------------------------------------------

    def process_order_event(self, event: Event) -> None:
        """Remember combo orders, whose signatures decide how their leg trades book."""
        order: OrderData = event.data
        if order.legs:
            self._orders[order.order_id] = order

    def process_trade_event(self, event: Event) -> None:
        """Book a stored trade into its strategy's holding."""
        trade: TradeData = event.data
        holding = self._holdings.get(trade.strategy)
        if holding is None:
            holding = self._holdings[trade.strategy] = Holding(trade.strategy)
        order = self._find_order(trade.combo_id) if trade.combo_id else None
        holding.apply_trade(trade, order, self._multiplier(trade.symbol))

    def process_commission_event(self, event: Event) -> None:
        """Replace a booked trade's commission with the late-reported one."""
        commission: CommissionData = event.data
        for holding in self._holdings.values():
            if holding.apply_commission(commission.trade_id, commission.commission):
                return
        self._log.warning("commission for unknown trade {} ignored", commission.trade_id)

    def process_contract_event(self, event: Event) -> None:
        """Learn a contract's multiplier and correct positions booked with a default."""
        contract: ContractData = event.data
        if contract.product is Product.COMBO:
            return
        # A million listings arrive at start: only a multiplier other than the default
        # can change a figure (trades otherwise read it from the MainEngine's contracts).
        if contract.multiplier == default_multiplier(contract.symbol):
            return
        self._learn_multiplier(contract.symbol, contract.multiplier)

    def process_timer_event(self, event: Event) -> None:
        """Refresh marks and Greeks from the MarketDataEngine."""
        self.refresh_marks()

    def refresh_marks(self) -> None:
        """Read marks (mid, else last) and per-share Greeks of every open position."""
        marketdata = self._marketdata()
        if marketdata is None:
            return
        for holding in self._holdings.values():
            for position in holding.open_positions():
                self._mark(position, marketdata)

    def _mark(self, position: Position, marketdata: MarketDataEngine) -> None:
        if position.is_option:
            option = marketdata.get_option(position.symbol)
            if option is None:
                return
            if option.multiplier != position.multiplier:
                self._learn_multiplier(position.symbol, option.multiplier)
            price = option.mid if option.mid is not None else option.last
            position.set_mark(price, option.quote_time)
            position.set_greeks(option.delta, option.gamma, option.theta, option.vega)
            return
        portfolio = marketdata.get_portfolio(position.symbol)
        if portfolio is None:
            return
        underlying = portfolio.underlying
        price = underlying.mid if underlying.mid is not None else underlying.last
        position.set_mark(price, underlying.quote_time)

    def _learn_multiplier(self, symbol: str, multiplier: int) -> None:
        if self._multipliers.get(symbol) == multiplier:
            return
        self._multipliers[symbol] = multiplier
        for holding in self._holdings.values():
            holding.set_multiplier(symbol, multiplier)

    def _multiplier(self, symbol: str) -> int:
        known = self._multipliers.get(symbol)
        if known is not None:
            return known
        contract = self.main_engine.get_contract(symbol)
        if contract is not None:
            return contract.multiplier
        return default_multiplier(symbol)

    def _find_order(self, order_id: str) -> OrderData | None:
        order = self._orders.get(order_id)
        if order is not None:
            return order
        database = self._database()
        if database is None:
            return None
        try:
            order = database.get_order(order_id)
        except Exception:  # noqa: BLE001 - book the trade without the signature
            self._log.opt(exception=True).error("could not read order {}", order_id)
            return None
        if order is not None:
            self._orders[order_id] = order
        return order
