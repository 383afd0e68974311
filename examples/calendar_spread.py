r"""Call calendar spread: sell a near-expiry ATM call, buy the same strike a few weeks later.

The trade.  Both calls have the same strike; the near one loses its time value faster, so
while the underlying stays near the strike the spread widens and the position (bought for
a debit) gains.  It also gains when implied volatility rises, the far leg having more vega.
It is the classic "quiet market, cheap volatility" trade.

How it is managed.

* Buy ``volume`` calendars at the near chain's ATM strike, the near leg in the expiry nearest
  ``near_days`` and the far leg in the expiry nearest ``far_days`` (it must be later), as one
  ``call_calendar_spread`` combo order (LONG: -1 near call, +1 far call per unit).
* Close the whole calendar with one reversed combo order when the near leg is
  ``exit_days`` or fewer days from expiry (gamma of the short leg grows sharply and
  assignment becomes possible), when the total P&L reaches ``profit_target_pct`` percent of
  the debit, or when it loses ``stop_loss_pct`` percent of it.  After an exit the strategy
  stays flat.

The risks.  The most it can lose is the debit paid (plus commissions) as long as both legs
are closed together before the near expiry; a large move either way collapses the spread
toward zero.  A fall in implied volatility, above all in the far month, marks it down.
The near call can be assigned early when deep in the money.  Profit and stop are judged
on mid marks; the close pays the spread of both legs.

Run it offline, in the live demo::

    python -m otrade demo --strategy examples/calendar_spread.py:CalendarSpread \
        --duration 20 --speed 120

or as a script, which trades a simulated half hour on a synchronous engine and prints the
holding::

    python examples/calendar_spread.py
"""

from __future__ import annotations

from otrade import (
    ChainData,
    ComboType,
    Direction,
    OptionRight,
    OptionStrategyTemplate,
    OrderData,
    Settings,
    Status,
    TradeData,
)
from otrade.combos.selection import SelectionError, calendar_at_strike
from otrade.offline import OfflineSession
from otrade.settings import LogSettings


class CalendarSpread(OptionStrategyTemplate):
    """Long ``volume`` ATM call calendars, closed near the short leg's expiry or at a target."""

    author = "otrade examples"
    parameters = ("volume", "near_days", "far_days", "exit_days", "profit_target_pct",
                  "stop_loss_pct")  # fmt: skip
    variables = ("combo_id", "debit", "exit_reason")

    volume = 2
    near_days = 21
    far_days = 45
    exit_days = 7
    """Close when the near (short) leg has this many calendar days or fewer left."""
    profit_target_pct = 25.0
    """Take profit at this percent of the debit."""
    stop_loss_pct = 50.0
    """Stop out at a loss of this percent of the debit."""

    near_chain: ChainData
    far_chain: ChainData

    combo_id = ""
    """The order id of the calendar bought (the combo position's id)."""
    debit = 0.0
    """Premium paid, in money (price x contracts x multiplier)."""
    exit_reason = ""
    """Why the position was closed; once set the strategy only flattens."""

    def on_start(self) -> None:
        """Pick and watch the near and far chains."""
        if self.exit_reason:
            self.write_log(f"closed earlier ({self.exit_reason}); flattening only")
        near, far = self.calendar_chains()
        if near is None or far is None or not near.expiry < far.expiry:
            self.set_error(f"no pair of expiries near {self.near_days} and {self.far_days} "
                           f"days in {self.underlying_symbol}")  # fmt: skip
            return
        self.near_chain, self.far_chain = near, far
        self.subscribe_chains([near, far])
        self.write_log(f"watching {near.key} against {far.key}")

    def on_chain_update(self, chain: ChainData) -> None:
        """Open the calendar once, then watch the exits; one step per order."""
        if self.active_orders:
            return  # the entry or the close is working; its fills decide the next step
        if self.exit_reason:
            self.flatten()
        elif not self.combo_id:
            self.open_calendar()
        else:
            self.check_exit()

    def on_order(self, order: OrderData) -> None:
        """Forget an entry that ended without a fill, so the next update tries again."""
        if order.order_id != self.combo_id or order.traded:
            return
        if order.status in (Status.REJECTED, Status.CANCELLED):
            self.write_log(f"calendar order {order.status}: {order.reject_reason}", "WARNING")
            self.combo_id = ""

    def on_trade(self, trade: TradeData) -> None:
        """Add each entry leg's premium to :attr:`debit` (paid for the far, got for the near)."""
        if trade.combo_id and trade.combo_id == self.combo_id:
            option = self.portfolio.get_option(trade.symbol)
            multiplier = option.multiplier if option is not None else 100
            self.debit += trade.signed_volume * trade.price * multiplier

    # -- steps ------------------------------------------------------------------------

    def open_calendar(self) -> None:
        """Buy ``volume`` calendars at the near chain's ATM strike as one combo order."""
        try:
            legs = calendar_at_strike(self.near_chain, self.far_chain, OptionRight.CALL)
        except SelectionError as error:
            self.write_log(f"no calendar yet: {error}", "DEBUG")
            return
        if any(leg.bid is None or leg.ask is None or leg.stale for leg in legs.values()):
            return  # both chains must have fresh two-sided quotes at the strike
        order_id = self.combo_order(ComboType.CALL_CALENDAR_SPREAD, legs, Direction.LONG,
                                    self.volume)  # fmt: skip
        near, far = legs["near_call"], legs["far_call"]
        if order_id is None:
            self.write_log(f"buying the {near.strike:g} calendar was refused", "WARNING")
            return
        self.combo_id = order_id
        cost = (far.ask or 0.0) - (near.bid or 0.0)
        self.write_log(f"buying {self.volume} {near.strike:g} call calendars, {near.expiry} "
                       f"against {far.expiry}, at about {cost:.2f}")  # fmt: skip

    def check_exit(self) -> None:
        """Close near the short leg's expiry, at the profit target or at the stop."""
        combo = self.holding.combos.get(self.combo_id)
        if combo is None or not combo.is_open or self.debit <= 0:
            return
        days = self.near_leg_days()
        summary = self.summary
        pnl = summary.total_pnl
        if days is not None and days <= self.exit_days:
            self.exit_reason = f"near leg {days} days from expiry"
        elif summary.unmarked_positions:
            return  # a leg without a mark: the P&L would be wrong
        elif pnl >= self.debit * self.profit_target_pct / 100:
            self.exit_reason = f"profit target: P&L {pnl:.2f} on a debit of {self.debit:.2f}"
        elif pnl <= -self.debit * self.stop_loss_pct / 100:
            self.exit_reason = f"stop: P&L {pnl:.2f} on a debit of {self.debit:.2f}"
        else:
            return
        self.write_log(f"closing, {self.exit_reason}")
        self.flatten()

    def flatten(self) -> None:
        """Sell the calendar back with one reversed combo order."""
        combo = self.holding.combos.get(self.combo_id)
        if combo is not None and combo.is_open and self.close_combo_position(combo) is None:
            self.write_log(f"closing calendar {self.combo_id} was refused", "WARNING")

    def calendar_chains(self) -> tuple[ChainData | None, ChainData | None]:
        """The chains of the calendar held, else those nearest ``near_days`` and ``far_days``."""
        combo = self.holding.combos.get(self.combo_id)
        if combo is not None and combo.is_open:
            options = [self.portfolio.get_option(symbol) for symbol in combo.legs]
            chains = sorted({o.chain for o in options if o is not None}, key=lambda c: c.expiry)
            if len(chains) == 2:
                return chains[0], chains[1]
        now = self.clock_now()
        near = self.portfolio.nearest_chain(now, self.near_days)
        return near, self.portfolio.nearest_chain(now, self.far_days)

    def near_leg_days(self) -> int | None:
        """Calendar days to the expiry of the short (near) leg, None when none is held."""
        combo = self.holding.combos.get(self.combo_id)
        for symbol, position in combo.legs.items() if combo is not None else ():
            option = self.portfolio.get_option(symbol)
            if position.quantity < 0 and option is not None:
                return option.chain.days_to_expiry(self.clock_now())
        return None


def run_offline(minutes: int = 30) -> None:
    """Trade ``minutes`` of a simulated market on a synchronous engine; print the holding."""
    with OfflineSession(settings=Settings(log=LogSettings(file=False))) as session:
        strategy = session.start(CalendarSpread, "calendar", "SPY")
        session.run(minutes * 60)
        for position in strategy.holding.open_positions():
            print(position)
        print(strategy.summary)


if __name__ == "__main__":
    run_offline()
