"""Covered call: hold 100 shares per lot and sell a ~30-delta call about a month out against them.

The trade.  The shares earn the stock's return; each call sold collects premium in exchange
for the upside above its strike.  Selling at about 0.30 delta leaves room for the stock to
rise while the call still pays a meaningful premium; a month out, time decay does most of
the work.

How it is managed.

* Buy ``100 x lots`` shares first; only once they are held, sell ``lots`` calls nearest
  ``call_delta`` in the expiry nearest ``target_days`` that has more than ``roll_days`` left.
  The calls are therefore always covered, never naked.
* Roll when the call's delta rises above ``roll_delta`` (the stock ran toward the strike:
  most of the upside is given away) or when ``roll_days`` or fewer days are left (little
  premium remains, and expiry or assignment would take the shares).  A roll buys the call
  back, then sells a new one once the buy-back has filled.
* One step at a time: nothing is sent while an earlier order of the strategy still works.

The risks.  The premium cushions a fall of the stock only by its own size: below the
break-even (purchase price minus premium) the position loses like the stock.  Gains above
the strike are given up, and buying a call back after a rally realizes a loss on it.  An
in-the-money call can be assigned early, typically the day before an ex-dividend date (the
paper gateway does not model assignment).  Between the buy-back and the new sale the shares
are briefly uncovered.

Run it offline, in the live demo::

    python -m otrade demo --strategy examples/covered_call.py:CoveredCall --duration 20 --speed 120

or as a script, which trades a simulated half hour on a synchronous engine and prints the
holding::

    python examples/covered_call.py
"""

from __future__ import annotations

from otrade import (
    ChainData,
    Direction,
    OptionRight,
    OptionStrategyTemplate,
    Settings,
)
from otrade.offline import OfflineSession
from otrade.position import Position
from otrade.settings import LogSettings

SHARES_PER_LOT = 100


class CoveredCall(OptionStrategyTemplate):
    """Long ``100 x lots`` shares, short ``lots`` calls near ``call_delta``, rolled."""

    author = "otrade examples"
    parameters = ("lots", "call_delta", "target_days", "roll_delta", "roll_days")
    variables = ("call_symbol", "rolls")
    timer_interval_s = 5.0

    lots = 1
    call_delta = 0.30
    target_days = 30
    roll_delta = 0.60
    roll_days = 5

    call_symbol = ""
    """The call sold last (kept after it is bought back, until the next one is sold)."""
    rolls = 0
    """Calls bought back to roll."""

    def on_start(self) -> None:
        """Watch the chain a new call would come from, and the chain of a call held."""
        chains = []
        target = self.call_chain()
        if target is not None:
            chains.append(target)
        held = self.short_call()
        option = self.portfolio.get_option(held.symbol) if held is not None else None
        if option is not None and option.chain is not target:
            chains.append(option.chain)
        self.subscribe_chains(chains)
        self.write_log(f"watching {', '.join(chain.key for chain in chains) or 'no chain'}")

    def on_timer(self) -> None:
        """Buy the shares, then sell the call, then roll it when due: one step per order."""
        if self.active_orders:
            return  # the last order has not ended; its fills decide the next step
        wanted = SHARES_PER_LOT * self.lots
        shares = self.holding.underlying_quantity(self.underlying_symbol)
        if shares < wanted:
            self.buy_shares(wanted - shares)
            return
        call = self.short_call()
        if call is None:
            self.sell_call()
            return
        reason = self.roll_reason(call.symbol)
        if reason:
            self.roll(call, reason)

    # -- steps ------------------------------------------------------------------------

    def buy_shares(self, volume: int) -> None:
        """Buy the shares the calls will cover."""
        if self.underlying.mid is None:
            return  # no quote yet
        if self.underlying_order(Direction.LONG, volume) is None:
            self.write_log(f"buying {volume} shares was refused", "WARNING")
            return
        self.write_log(f"buying {volume} shares at about {self.underlying.mid:.2f}")

    def sell_call(self) -> None:
        """Sell ``lots`` calls nearest ``call_delta`` in the chain of :meth:`call_chain`."""
        chain = self.call_chain()
        if chain is None:
            self.write_log(f"no expiry with more than {self.roll_days} days left", "WARNING")
            return
        if chain.key not in self.subscribed_chains:
            self.unsubscribe_chains()  # no call is held: older chains are not needed
            self.subscribe_chains([chain])
            return  # its quotes and Greeks arrive with the next update
        option = chain.nearest_delta(self.call_delta, OptionRight.CALL)
        if option is None or option.delta is None or option.bid is None:
            return  # no Greeks or no bid yet
        if self.option_order(option, Direction.SHORT, self.lots) is None:
            self.write_log(f"selling {self.lots} {option.symbol} was refused", "WARNING")
            return
        self.call_symbol = option.symbol
        self.write_log(
            f"selling {self.lots} {option.symbol} (delta {option.delta:.2f}, bid {option.bid:.2f})"
        )

    def roll(self, call: Position, reason: str) -> None:
        """Buy the call back; the next timer sells its replacement."""
        if self.close_option_position(call) is None:
            self.write_log(f"buying back {call.symbol} was refused", "WARNING")
            return
        self.rolls += 1
        self.write_log(f"rolling {call.symbol}: {reason}")

    # -- reads ------------------------------------------------------------------------

    def call_chain(self) -> ChainData | None:
        """The live chain nearest ``target_days`` among those with over ``roll_days`` left."""
        now = self.clock_now()
        chains = [
            chain
            for chain in self.portfolio.live_chains(now)
            if chain.days_to_expiry(now) > self.roll_days
        ]
        return min(chains, key=lambda chain: abs(chain.days_to_expiry(now) - self.target_days),
                   default=None)  # fmt: skip

    def short_call(self) -> Position | None:
        """The short call position, None when no call is sold."""
        for position in self.holding.options.values():
            if position.quantity < 0:
                return position
        return None

    def roll_reason(self, symbol: str) -> str:
        """Why the call should be rolled now, "" when it should be kept."""
        option = self.portfolio.get_option(symbol)
        if option is None:
            return ""
        days = option.chain.days_to_expiry(self.clock_now())
        if days <= self.roll_days:
            return f"{days} days to expiry (roll at {self.roll_days})"
        if option.delta is not None and option.delta > self.roll_delta:
            return f"delta {option.delta:.2f} above {self.roll_delta:.2f}"
        return ""


def run_offline(minutes: int = 30) -> None:
    """Trade ``minutes`` of a simulated market on a synchronous engine; print the holding."""
    with OfflineSession(settings=Settings(log=LogSettings(file=False))) as session:
        strategy = session.start(CoveredCall, "covered-call", "SPY", {"lots": 2})
        session.run(minutes * 60)
        for position in strategy.holding.open_positions():
            print(position)
        print(strategy.summary)


if __name__ == "__main__":
    run_offline()
