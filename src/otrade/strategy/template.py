"""OptionStrategyTemplate: the class a user subclasses to write a strategy.

A strategy declares its settable ``parameters`` and its persisted ``variables`` as class
attributes, overrides the callbacks it needs, and trades with one-line helpers::

    class ShortPut(OptionStrategyTemplate):
        author = "me"
        parameters = ("delta", "volume")
        variables = ("opened",)

        delta = 0.2
        volume = 1
        opened = False

        def on_start(self) -> None:
            self.chain = self.portfolio.nearest_chain(self.clock_now(), target_days=30)
            self.subscribe_chains([self.chain])

        def on_chain_update(self, chain: ChainData) -> None:
            if not self.opened and (put := chain.nearest_delta(-self.delta, OptionRight.PUT)):
                self.option_order(put, Direction.SHORT, self.volume)
                self.opened = True

Every callback runs on the event thread, one at a time, so a strategy needs no locks.  An
exception in any callback puts the strategy in the error state (see
:meth:`OptionStrategyTemplate.set_error`); nothing else stops.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from otrade.combos.combo import Combo
from otrade.combos.types import ComboType
from otrade.constants import Direction, OrderType
from otrade.errors import StrategyError
from otrade.objects import OrderData, TradeData
from otrade.portfolio import ChainData, OptionData, PortfolioData, UnderlyingData
from otrade.position import ComboPosition, Holding, HoldingSummary, Position

if TYPE_CHECKING:
    from otrade.combos.builder import LegSource
    from otrade.strategy.engine import OptionStrategyEngine

__all__ = ["OptionStrategyTemplate", "StrategyState"]


class StrategyState:
    """The life-cycle states a strategy record takes (stored as these strings)."""

    CREATED = "created"
    """Added; ``on_init`` has not run."""
    INITIALIZED = "initialized"
    """``on_init`` ran; not trading."""
    RUNNING = "running"
    """Started: callbacks run and orders may be sent."""
    STOPPED = "stopped"
    """Stopped by the user; may be started again."""
    ERROR = "error"
    """A callback raised (or :meth:`OptionStrategyTemplate.set_error`); stopped."""
    REMOVED = "removed"
    """Removed from the running engine; its record stays for :meth:`restore`."""


class OptionStrategyTemplate:
    """The base class of every strategy.

    Subclasses set :attr:`author`, :attr:`parameters`, :attr:`variables` and
    :attr:`timer_interval_s`, give each parameter and variable a class-level default, and
    override the callbacks.  The engine builds instances; a strategy never builds itself.

    Args:
        strategy_engine: The engine that runs it.
        strategy_name: The instance's unique name.
        underlying_symbol: The underlying (portfolio) it trades.
        setting: Parameter values by name (each must be in :attr:`parameters`).

    Raises:
        StrategyError: A setting names no parameter, or its value's type does not match the
            default's (an int is accepted for a float parameter).
    """

    author: ClassVar[str] = ""
    """Who wrote the strategy (shown by the engine)."""
    parameters: ClassVar[tuple[str, ...]] = ()
    """Attribute names settable from a strategy's setting; stored with the strategy."""
    variables: ClassVar[tuple[str, ...]] = ()
    """Attribute names of runtime state, shown and stored (restored after a restart)."""
    timer_interval_s: ClassVar[float] = 1.0
    """Clock seconds between :meth:`on_timer` calls (rounded up to the engine's timer)."""

    def __init__(
        self,
        strategy_engine: OptionStrategyEngine,
        strategy_name: str,
        underlying_symbol: str,
        setting: Mapping[str, object],
    ) -> None:
        self.strategy_engine = strategy_engine
        self.strategy_name = strategy_name
        self.underlying_symbol = underlying_symbol
        self.state = StrategyState.CREATED
        self.error = ""
        self.update_setting(setting)

    # -- settings and state -----------------------------------------------------------

    @property
    def trading(self) -> bool:
        """True while the strategy runs: callbacks are called and orders may be sent."""
        return self.state == StrategyState.RUNNING

    def update_setting(self, setting: Mapping[str, object]) -> None:
        """Set parameters from ``setting``, checking each name and type.

        Raises:
            StrategyError: Names the strategy, the key and what was expected.
        """
        for key, value in setting.items():
            if key not in self.parameters:
                known = ", ".join(self.parameters) or "none"
                raise StrategyError(
                    f"strategy {self.strategy_name!r}: {key!r} is not a parameter of "
                    f"{type(self).__name__} (parameters: {known})"
                )
            setattr(self, key, _checked_value(self, key, value, "parameter"))

    def update_variables(self, values: Mapping[str, object]) -> None:
        """Restore stored variables; names that are no longer variables are ignored."""
        for key, value in values.items():
            if key in self.variables:
                setattr(self, key, _checked_value(self, key, value, "variable"))

    def get_parameters(self) -> dict[str, object]:
        """The current parameter values by name."""
        return {name: getattr(self, name) for name in self.parameters}

    def get_variables(self) -> dict[str, object]:
        """The current variable values by name."""
        return {name: getattr(self, name) for name in self.variables}

    # -- callbacks (override) ---------------------------------------------------------

    def on_init(self) -> None:
        """Called once when the strategy is initialised (stored variables are restored first)."""

    def on_start(self) -> None:
        """Called when the strategy starts trading."""

    def on_stop(self) -> None:
        """Called when the strategy stops.

        Its hedging has stopped and its open orders were cancelled just before; orders sent
        here (to close a position) stay working.
        """

    def on_timer(self) -> None:
        """Called every :attr:`timer_interval_s` clock seconds while running."""

    def on_order(self, order: OrderData) -> None:
        """Called with every state of every order of this strategy, refusals included."""

    def on_trade(self, trade: TradeData) -> None:
        """Called with every fill of this strategy, after its holding booked it."""

    def on_chain_update(self, chain: ChainData) -> None:
        """Called when a chain this strategy subscribed has new quotes or Greeks."""

    # -- market data --------------------------------------------------------------------

    @property
    def portfolio(self) -> PortfolioData:
        """The underlying's portfolio: its underlying and every listed chain.

        Raises:
            StrategyError: No listings of the underlying are known.
        """
        return self.strategy_engine.get_portfolio(self.underlying_symbol, self.strategy_name)

    @property
    def underlying(self) -> UnderlyingData:
        """The underlying's live quote state."""
        return self.portfolio.underlying

    def clock_now(self) -> datetime:
        """The engine clock's time (simulated in the demo and in tests)."""
        return self.strategy_engine.main_engine.clock.now()

    def get_chain(self, key: str) -> ChainData:
        """The chain with ``key`` (``"SPY 2026-12-18"``).

        Raises:
            StrategyError: The portfolio has no such chain.
        """
        chain = self.portfolio.get_chain(key)
        if chain is None:
            known = ", ".join(list(self.portfolio.chains)[:8]) or "none"
            raise StrategyError(
                f"strategy {self.strategy_name!r}: no chain {key!r} in "
                f"{self.underlying_symbol} (first chains: {known})"
            )
        return chain

    def subscribe_chains(self, chains: Iterable[ChainData | str]) -> None:
        """Receive quotes, Greeks and :meth:`on_chain_update` for ``chains`` (or their keys)."""
        self.strategy_engine.subscribe_chains(self, [_chain_of(self, c) for c in chains])

    def unsubscribe_chains(self, chains: Iterable[ChainData | str] | None = None) -> None:
        """Stop receiving ``chains`` (every subscribed chain when None)."""
        picked = None if chains is None else [_chain_of(self, c) for c in chains]
        self.strategy_engine.unsubscribe_chains(self, picked)

    @property
    def subscribed_chains(self) -> tuple[str, ...]:
        """Keys of the chains this strategy subscribed, sorted."""
        return self.strategy_engine.subscribed_chains(self.strategy_name)

    # -- orders -------------------------------------------------------------------------

    def underlying_order(
        self,
        direction: Direction,
        volume: int,
        price: float | None = None,
        order_type: OrderType = OrderType.MARKET,
        *,
        reference: str = "",
    ) -> str | None:
        """Buy or sell ``volume`` shares of the underlying.

        Returns:
            The local order id, or None when the order was refused before reaching a
            gateway (the refusal also arrives at :meth:`on_order` as a REJECTED order
            whose ``reject_reason`` says why).

        Raises:
            ValueError: A bad volume or price (the message names the field); nothing is sent.
        """
        return self.strategy_engine.send_single(
            self,
            self.underlying_symbol,
            direction,
            volume,
            price=price,
            order_type=order_type,
            reference=reference,
        )

    def option_order(
        self,
        option: OptionData | str,
        direction: Direction,
        volume: int,
        price: float | None = None,
        order_type: OrderType = OrderType.MARKET,
        *,
        reference: str = "",
    ) -> str | None:
        """Buy or sell ``volume`` contracts of one option (an OptionData or its symbol).

        Returns:
            As :meth:`underlying_order`.
        """
        symbol = option.symbol if isinstance(option, OptionData) else option
        return self.strategy_engine.send_single(
            self, symbol, direction, volume, price=price, order_type=order_type, reference=reference
        )

    def combo_order(  # noqa: PLR0917 - the positional order the strategy guide documents
        self,
        combo_type: str | ComboType | Combo,
        legs: Mapping[str, LegSource] | None,
        direction: Direction,
        volume: int,
        price: float | None = None,
        order_type: OrderType = OrderType.MARKET,
        *,
        reference: str = "",
        ratios: Mapping[str, int] | None = None,
    ) -> str | None:
        """Trade a combo as one order: ``volume`` units, each leg ``volume x ratio``.

        Args:
            combo_type: A combo type (``ComboType.IRON_CONDOR``, a plugin's name) built
                from ``legs`` by :func:`~otrade.combos.build_combo`, or a built
                :class:`~otrade.combos.Combo` (then ``legs`` is None and its own volume and
                direction are replaced by ``volume`` and ``direction``).
            legs: The option (or underlying) filling each role, by role name.
            direction: LONG trades the structure as its type defines it; SHORT reverses
                every leg.  (The catalogue's ``iron_condor`` is the credit structure, short
                the inner strikes: LONG collects the credit, SHORT pays a debit.)
            volume: Combo units.
            price: For a limit, the net price per unit per share of the options
                (negative for a credit).
            order_type: Market or limit.
            reference: A free-form tag stored with the order.
            ratios: Only for ``custom`` combos: each leg's signed ratio per unit.

        Returns:
            As :meth:`underlying_order`.

        Raises:
            ComboValidationError: The legs do not make the type (names the role and rule).
        """
        combo = self.strategy_engine.build_combo(combo_type, legs, direction, volume, ratios)
        return self.strategy_engine.send_combo(self, combo, price, order_type, reference)

    def cancel_order(self, order_id: str) -> None:
        """Ask the gateway to cancel one of this strategy's orders (harmless when it ended)."""
        self.strategy_engine.cancel_order(self, order_id)

    def cancel_all(self) -> None:
        """Cancel every active order of this strategy.

        An order whose cancel was asked for already (and has not ended) is not asked
        again; :meth:`cancel_order` with its id does.
        """
        self.strategy_engine.cancel_all(self)

    @property
    def active_orders(self) -> dict[str, OrderData]:
        """This strategy's active orders by local order id (latest state of each)."""
        return self.strategy_engine.active_orders(self.strategy_name)

    def get_order(self, order_id: str) -> OrderData | None:
        """The latest state of one of this strategy's orders, or None when unknown.

        Active orders and the last 1,000 ended ones come from memory, older ones from the
        database.
        """
        return self.strategy_engine.get_order(self.strategy_name, order_id)

    # -- positions ------------------------------------------------------------------------

    @property
    def holding(self) -> Holding:
        """This strategy's live holding: underlying, single-leg and combo positions."""
        return self.strategy_engine.get_holding(self.strategy_name)

    @property
    def summary(self) -> HoldingSummary:
        """Delta, gamma, theta, vega, realized, unrealized and total P&L, commissions."""
        return self.strategy_engine.get_summary(self.strategy_name)

    def close_underlying_position(
        self, price: float | None = None, order_type: OrderType = OrderType.MARKET
    ) -> str | None:
        """Flatten the underlying shares held outside combos.

        Active orders that already reduce the position count toward it, so calling this
        twice never sends more than the position; orders that would add to it are not
        counted (cancel them first, or use :meth:`close_all_positions`).  Closing orders
        being cancelled count until they end; then the rest is sent on its own.  A close a
        risk rate limit refuses is asked for again at each timer event until it goes out.

        Returns:
            The order id, or None when there is nothing left to close now, or it was
            refused.
        """
        return self.strategy_engine.close_single(self, self.underlying_symbol, price, order_type)

    def close_option_position(
        self,
        position: Position | str,
        price: float | None = None,
        order_type: OrderType = OrderType.MARKET,
    ) -> str | None:
        """Flatten one single-leg option position (a Position or its symbol).

        Returns:
            As :meth:`close_underlying_position`.
        """
        symbol = position.symbol if isinstance(position, Position) else position
        return self.strategy_engine.close_single(self, symbol, price, order_type)

    def close_combo_position(
        self,
        position: ComboPosition | str,
        price: float | None = None,
        order_type: OrderType = OrderType.MARKET,
    ) -> str | None:
        """Close a combo position (or its combo id) with one reversed combo order.

        The order trades every open leg back to zero; its signature is the reverse of the
        open combo's, so its fills net against that combo and realize its P&L.

        A close waiting for the cancel of an earlier close, or refused by a risk rate
        limit, goes out later as for :meth:`close_underlying_position`.

        Returns:
            The order id, or None when the combo is flat, a close is already working or
            waits, or the order was refused.
        """
        combo_id = position.combo_id if isinstance(position, ComboPosition) else position
        return self.strategy_engine.close_combo(self, combo_id, price, order_type)

    def close_all_positions(self) -> list[str]:
        """Cancel every active order, then close every position with market orders.

        A close that waits for a cancel, or that a risk rate limit refused, goes out later
        on its own (see the strategy guide).

        Returns:
            The ids of the closing orders sent now.
        """
        return self.strategy_engine.close_all(self)

    # -- hedging --------------------------------------------------------------------------

    def register_hedging(
        self,
        interval_s: float = 5.0,
        delta_target: float = 0.0,
        delta_band: float = 50.0,
        *,
        hedge_to: str = "target",
        min_volume: int = 1,
        max_volume: int = 10_000,
        order_type: OrderType = OrderType.MARKET,
        limit_offset_ticks: int = 2,
        gamma_band_factor: float = 0.0,
    ) -> None:
        """Hedge this strategy's delta with the underlying (see :mod:`otrade.hedge`).

        Every ``interval_s`` the HedgeEngine compares the strategy's delta (share
        equivalents) with ``delta_target``; outside ``delta_band`` it trades whole shares
        through :meth:`underlying_order` (reference ``"hedge"``) to the target, or to the
        band edge with ``hedge_to="band"``.

        Raises:
            ValueError: A bad value (the message names the field).
            StrategyError: No HedgeEngine is registered.
        """
        self.strategy_engine.register_hedging(
            self,
            interval_s=interval_s,
            delta_target=delta_target,
            delta_band=delta_band,
            hedge_to=hedge_to,
            min_volume=min_volume,
            max_volume=max_volume,
            order_type=order_type,
            limit_offset_ticks=limit_offset_ticks,
            gamma_band_factor=gamma_band_factor,
        )

    def unregister_hedging(self) -> None:
        """Stop hedging this strategy (open hedge orders are left to :meth:`cancel_all`)."""
        self.strategy_engine.unregister_hedging(self)

    # -- logging and errors -----------------------------------------------------------------

    def write_log(self, msg: str, level: str = "INFO") -> None:
        """Log ``msg`` under this strategy's name (DEBUG, INFO, WARNING, ERROR, CRITICAL)."""
        self.strategy_engine.write_log(msg, level, self.strategy_name)

    def set_error(self, msg: str) -> None:
        """Stop this strategy with an error: cancel its orders, stop its hedging.

        ``on_stop`` is not called; the state becomes ``error`` and is stored.
        """
        self.strategy_engine.fail_strategy(self, msg)

    def put_event(self) -> None:
        """Store the variables now and announce the strategy's state on ``EVENT_STRATEGY``."""
        self.strategy_engine.save(self)


def _chain_of(strategy: OptionStrategyTemplate, chain: ChainData | str) -> ChainData:
    # A module function, not a method: a subclass may well name an attribute ``_chain``.
    return chain if isinstance(chain, ChainData) else strategy.get_chain(chain)


def _checked_value(strategy: OptionStrategyTemplate, key: str, value: object, kind: str) -> object:
    default = getattr(type(strategy), key, None)
    same_kind = isinstance(value, bool) == isinstance(default, bool)
    if default is None or (same_kind and isinstance(value, type(default))):
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise StrategyError(
        f"strategy {strategy.strategy_name!r}: {kind} {key!r} must be "
        f"{type(default).__name__} like its default {default!r}, got {value!r}"
    )
