r"""Delta-hedged short straddle: sell the at-the-money call and put, keep delta flat with shares.

The trade.  Selling the ATM straddle collects the most time value a single strike offers;
it earns when the underlying moves less than the options priced in (realized volatility
below implied).  The HedgeEngine trades whole shares whenever the book's delta leaves
``delta_band`` around zero, so the position stays a bet on volatility, not on direction.

How it is managed.

* Sell ``volume`` straddles at the ATM strike of the expiry nearest ``target_days``, as one
  combo order: the ``straddle`` type traded SHORT sells both legs.
* Hedging is registered at start: every ``hedge_interval_s`` the book (options and hedge
  shares) is brought back to zero delta when it is more than ``delta_band`` shares away.
* Exit, all at once (the combo with one reversed combo order, then the hedge shares), when
  the book's total P&L (commissions included) reaches ``profit_target_pct`` percent of the
  credit collected, or loses ``stop_loss_pct`` percent of it.  After an exit the strategy
  stays flat.

The risks.  The loss is unlimited in either direction: a move larger than the credit loses
money, and a gap (overnight, on news) moves through the band before any hedge can trade.
Hedging turns that into a steady cost: a short-gamma book sells after falls and buys after
rises, so in a volatile market each hedge locks in a small loss.  Vega is short: a rise in
implied volatility marks the position down even without a move.  The stop is checked on
mid marks; the close pays the spread.

Run it offline, in the live demo::

    python -m otrade demo --strategy examples/hedged_short_straddle.py:HedgedShortStraddle \
        --duration 20 --speed 120

or as a script, which trades a simulated half hour on a synchronous engine and prints the
holding::

    python examples/hedged_short_straddle.py
"""

from __future__ import annotations

from otrade import (
    ChainData,
    ComboType,
    Direction,
    OptionStrategyTemplate,
    OrderData,
    Settings,
    Status,
    TradeData,
)
from otrade.combos.selection import SelectionError, straddle_at_atm
from otrade.offline import OfflineSession
from otrade.settings import LogSettings


class HedgedShortStraddle(OptionStrategyTemplate):
    """Short ``volume`` ATM straddles, delta-hedged, closed at a profit target or a stop."""

    author = "otrade examples"
    parameters = ("volume", "target_days", "delta_band", "hedge_interval_s",
                  "profit_target_pct", "stop_loss_pct")  # fmt: skip
    variables = ("combo_id", "credit", "exit_reason")

    volume = 2
    target_days = 7
    delta_band = 20.0
    """Shares of delta either side of zero left unhedged."""
    hedge_interval_s = 5.0
    profit_target_pct = 50.0
    """Take profit at this percent of the credit."""
    stop_loss_pct = 100.0
    """Stop out at a loss of this percent of the credit."""

    combo_id = ""
    """The order id of the straddle sold (the combo position's id)."""
    credit = 0.0
    """Premium collected, in money (price x contracts x multiplier)."""
    exit_reason = ""
    """Why the position was closed; once set the strategy only flattens."""

    def on_start(self) -> None:
        """Watch the straddle's chain and start hedging, unless the trade is over."""
        if self.exit_reason:
            self.write_log(f"closed earlier ({self.exit_reason}); flattening only")
        chain = self.straddle_chain()
        if chain is None:
            self.set_error(f"no live expiry of {self.underlying_symbol}")
            return
        self.subscribe_chains([chain])
        if not self.exit_reason:
            self.register_hedging(interval_s=self.hedge_interval_s, delta_band=self.delta_band)
        self.write_log(f"watching {chain.key}; hedging delta outside +-{self.delta_band:g}")

    def on_chain_update(self, chain: ChainData) -> None:
        """Open the straddle once, then watch the exits; one step per order."""
        if self.active_orders:
            return  # an entry, hedge or close is working; its fills decide the next step
        if self.exit_reason:
            self.flatten()
        elif not self.combo_id:
            self.open_straddle(chain)
        else:
            self.check_exit()

    def on_order(self, order: OrderData) -> None:
        """Forget an entry that ended without a fill, so the next update tries again."""
        if order.order_id != self.combo_id or order.traded:
            return
        if order.status in (Status.REJECTED, Status.CANCELLED):
            self.write_log(f"straddle order {order.status}: {order.reject_reason}", "WARNING")
            self.combo_id = ""

    def on_trade(self, trade: TradeData) -> None:
        """Add the premium of each leg the entry sold to :attr:`credit`."""
        if trade.combo_id and trade.combo_id == self.combo_id:
            option = self.portfolio.get_option(trade.symbol)
            multiplier = option.multiplier if option is not None else 100
            self.credit -= trade.signed_volume * trade.price * multiplier

    # -- steps ------------------------------------------------------------------------

    def open_straddle(self, chain: ChainData) -> None:
        """Sell ``volume`` straddles at the chain's ATM strike as one combo order."""
        try:
            legs = straddle_at_atm(chain)
        except SelectionError as error:
            self.write_log(f"no straddle yet: {error}", "DEBUG")
            return
        if any(leg.bid is None or leg.stale for leg in legs.values()):
            return  # wait for fresh two-sided quotes on both legs
        order_id = self.combo_order(ComboType.STRADDLE, legs, Direction.SHORT, self.volume)
        if order_id is None:
            self.write_log(f"selling the {legs['call'].strike:g} straddle was refused", "WARNING")
            return
        self.combo_id = order_id
        bid = sum(leg.bid or 0.0 for leg in legs.values())
        self.write_log(f"selling {self.volume} {chain.key} {legs['call'].strike:g} straddles "
                       f"at about {bid:.2f}")  # fmt: skip

    def check_exit(self) -> None:
        """Close at the profit target or the stop, judged on the whole book's P&L."""
        combo = self.holding.combos.get(self.combo_id)
        summary = self.summary
        if combo is None or not combo.is_open or self.credit <= 0:
            return
        if summary.unmarked_positions:
            return  # a leg without a mark: the P&L would be wrong
        pnl = summary.total_pnl
        if pnl >= self.credit * self.profit_target_pct / 100:
            self.exit_reason = f"profit target: P&L {pnl:.2f} on a credit of {self.credit:.2f}"
        elif pnl <= -self.credit * self.stop_loss_pct / 100:
            self.exit_reason = f"stop: P&L {pnl:.2f} on a credit of {self.credit:.2f}"
        else:
            return
        self.write_log(f"closing, {self.exit_reason}")
        self.flatten()

    def flatten(self) -> None:
        """Stop hedging, buy the straddle back and trade the hedge shares to zero."""
        self.unregister_hedging()
        combo = self.holding.combos.get(self.combo_id)
        if combo is not None and combo.is_open and self.close_combo_position(combo) is None:
            self.write_log(f"closing straddle {self.combo_id} was refused", "WARNING")
        if self.holding.underlying_quantity(self.underlying_symbol):
            self.close_underlying_position()

    def straddle_chain(self) -> ChainData | None:
        """The chain of the straddle held, else the live chain nearest ``target_days``."""
        combo = self.holding.combos.get(self.combo_id)
        for symbol in combo.legs if combo is not None else ():
            option = self.portfolio.get_option(symbol)
            if option is not None:
                return option.chain
        return self.portfolio.nearest_chain(self.clock_now(), self.target_days)


def run_offline(minutes: int = 30) -> None:
    """Trade ``minutes`` of a simulated market on a synchronous engine; print the holding."""
    with OfflineSession(settings=Settings(log=LogSettings(file=False))) as session:
        strategy = session.start(HedgedShortStraddle, "short-straddle", "SPY", {"delta_band": 5.0})
        session.run(minutes * 60)
        for position in strategy.holding.open_positions():
            print(position)
        print(strategy.summary)


if __name__ == "__main__":
    run_offline()
