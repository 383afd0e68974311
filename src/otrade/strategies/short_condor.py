"""ShortCondor: sell an iron condor picked by delta, hedge its delta, take profit or stop out.

The strategy ``otrade demo`` runs, and a worked example of the template:

1. **Chain.**  On start it picks the chain whose days to expiry are nearest
   ``target_days`` (among chains with more than ``exit_days`` left) and subscribes it.
2. **Entry.**  When the chain has Greeks and no condor is open, it selects the legs with
   :func:`~otrade.combos.selection.iron_condor_by_delta` (short strikes at
   ``short_delta``, wings at least ``wing_width`` further out) and sells ``volume``
   condors as one combo order: ``iron_condor`` traded LONG is the credit structure in
   otrade's catalogue (+1 put K1, -1 put K2, -1 call K3, +1 call K4).  ``order_type``
   ``"market"`` sends a market order; ``"limit"`` sends a limit at the net mid, cancelled
   after ``limit_timeout_s`` when it has not filled (the next chain update prices a new
   one).
3. **Hedging.**  It registers delta hedging with the underlying every
   ``hedge_interval_s``, outside ``delta_band`` shares.
4. **Exit.**  It values the open condor at the legs' marks (mids): the *cost to close*
   per share is what buying it back costs.  It closes the whole combo with one reversed
   market order (:meth:`~otrade.strategy.OptionStrategyTemplate.close_combo_position`)
   when the profit reaches ``take_profit_pct`` of the credit, the loss reaches
   ``stop_loss_pct`` of the credit, or ``exit_days`` calendar days are left to expiry.
   After ``cooldown_s`` it may open the next condor.  Hedge shares left after a close
   are the strategy's whole delta then, so the hedging trades them back inside the band.

**Money.**  Prices are per share, as quoted: a condor sold for a net 1.85 (``credit``)
brought in 1.85 x 100 = 185.00 per unit before commissions.  Its profit per share is
``credit - cost to close``; the take-profit at 50 % closes it when buying it back costs
0.925 or less, the stop at 200 % when it costs 5.55 or more.  The combo's limit price
follows the order convention: the net per share, negative for a credit.

**State.**  The variables (``combo_id``, ``chain_key``, ``credit``, ``trades_done``,
``last_exit``, ``last_exit_ts``) are stored with the strategy, so a restarted engine
finds the open condor again in the holding it rebuilt from the trade ledger.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from otrade.combos.builder import build_combo
from otrade.combos.selection import SelectionError, iron_condor_by_delta
from otrade.combos.types import ComboType
from otrade.constants import Direction, OrderType, Status
from otrade.errors import StrategyError
from otrade.objects import OrderData
from otrade.portfolio import ChainData
from otrade.position import ComboPosition
from otrade.strategy.template import OptionStrategyTemplate

if TYPE_CHECKING:
    from otrade.strategy.engine import OptionStrategyEngine

__all__ = ["ShortCondor"]

ORDER_TYPES = ("market", "limit")
"""The accepted values of :attr:`ShortCondor.order_type`."""

_RETRY_AFTER_S = 60.0  # clock seconds before a refused or unfilled entry is tried again
_LOG_EVERY_S = 600.0  # clock seconds between repeats of the same "waiting" log line


class ShortCondor(OptionStrategyTemplate):
    """A short iron condor, delta-hedged, with take-profit, stop-loss and time exits.

    See the module docstring for the rules.  Parameters (settable, stored):

    Attributes:
        target_days: Wanted calendar days to expiry of the chain traded.
        short_delta: Absolute delta of the short put and the short call, in (0, 1).
        wing_width: Least strike distance from each short leg to its wing, in price units.
        volume: Condors per entry (each leg trades ``volume`` contracts).
        order_type: ``"market"`` or ``"limit"`` (a limit at the net mid) for the entry.
        limit_timeout_s: Clock seconds after which an unfilled limit entry is cancelled.
        take_profit_pct: Close when the profit is this percentage of the credit.
        stop_loss_pct: Close when the loss is this percentage of the credit.
        exit_days: Close when this many calendar days or fewer are left to expiry.
        cooldown_s: Clock seconds after an exit before the next entry.
        hedge_interval_s: Clock seconds between delta-hedge checks.
        delta_band: Shares of delta either side of zero left unhedged.

    Variables (stored, restored after a restart):

    Attributes:
        combo_id: The open condor's combo id ("" when flat).
        chain_key: The chain traded (``"SPY 2026-12-18"``).
        credit: The open condor's net credit per share per unit (0.0 when flat).
        trades_done: Condors opened so far.
        last_exit: Why the last condor was closed (``take profit``, ``stop loss``,
            ``expiry``), "" before the first exit.
        last_exit_ts: When it was closed, POSIX seconds of the clock (0.0 before).
    """

    author = "otrade"
    parameters = (
        "target_days",
        "short_delta",
        "wing_width",
        "volume",
        "order_type",
        "limit_timeout_s",
        "take_profit_pct",
        "stop_loss_pct",
        "exit_days",
        "cooldown_s",
        "hedge_interval_s",
        "delta_band",
    )
    variables = ("combo_id", "chain_key", "credit", "trades_done", "last_exit", "last_exit_ts")
    timer_interval_s = 10.0

    target_days = 30
    short_delta = 0.16
    wing_width = 10.0
    volume = 1
    order_type = "market"
    limit_timeout_s = 300.0
    take_profit_pct = 50.0
    stop_loss_pct = 200.0
    exit_days = 7
    cooldown_s = 900.0
    hedge_interval_s = 60.0
    delta_band = 5.0

    combo_id = ""
    chain_key = ""
    credit = 0.0
    trades_done = 0
    last_exit = ""
    last_exit_ts = 0.0

    def __init__(
        self,
        strategy_engine: OptionStrategyEngine,
        strategy_name: str,
        underlying_symbol: str,
        setting: Mapping[str, object],
    ) -> None:
        """Build the strategy (see :class:`~otrade.strategy.OptionStrategyTemplate`)."""
        super().__init__(strategy_engine, strategy_name, underlying_symbol, setting)
        self._traded_chain: ChainData | None = None
        self._entry_order_id = ""
        self._entry_sent_ts = 0.0
        self._close_order_id = ""
        self._close_reason = ""
        self._next_entry_ts = 0.0
        self._logged: dict[str, float] = {}

    # -- callbacks --------------------------------------------------------------------------

    def on_init(self) -> None:
        """Check the parameters.

        Raises:
            StrategyError: A parameter is out of range (the message names it).
        """
        checks = {
            "short_delta": 0.0 < self.short_delta < 1.0,
            "wing_width": self.wing_width > 0,
            "volume": self.volume >= 1,
            "order_type": self.order_type in ORDER_TYPES,
            "target_days": self.target_days > self.exit_days >= 0,
            "take_profit_pct": self.take_profit_pct > 0,
            "stop_loss_pct": self.stop_loss_pct > 0,
            "limit_timeout_s": self.limit_timeout_s > 0,
            "cooldown_s": self.cooldown_s >= 0,
            "hedge_interval_s": self.hedge_interval_s > 0,
            "delta_band": self.delta_band >= 0,
        }
        for name, valid in checks.items():
            if not valid:
                raise StrategyError(
                    f"strategy {self.strategy_name!r}: parameter {name} = "
                    f"{getattr(self, name)!r} is out of range"
                )
        self.write_log(
            f"initialised: {self.volume} x {self.short_delta:.2f}-delta condor, "
            f"{self.wing_width:g} wide, ~{self.target_days} days"
        )

    def on_start(self) -> None:
        """Find the open condor (after a restart), subscribe its chain, start hedging."""
        self._adopt_open_combo()
        now = self.clock_now()
        chain = self._stored_chain() if self.combo_id else None
        self._use_chain(chain or self._pick_chain(now))
        self.register_hedging(interval_s=self.hedge_interval_s, delta_band=self.delta_band)
        if self.combo_id:
            self.write_log(f"resuming condor {self.combo_id} (credit {self.credit:.2f})")

    def on_stop(self) -> None:
        """Log; the engine cancels open orders and stops the hedging."""
        self.write_log("stopped")

    def on_chain_update(self, chain: ChainData) -> None:
        """Open a condor when flat, out of the cooldown, and the chain has Greeks."""
        if chain is not self._traded_chain or self.combo_id or self._entry_order_id:
            return
        now_ts = self.clock_now().timestamp()
        if now_ts < max(self._next_entry_ts, self.last_exit_ts + self.cooldown_s):
            return
        self._open(chain, now_ts)

    def on_timer(self) -> None:
        """Time out a limit entry, check the exits, roll the chain when flat."""
        now = self.clock_now()
        now_ts = now.timestamp()
        waited = now_ts - self._entry_sent_ts
        if self._entry_order_id and self.order_type == "limit" and waited >= self.limit_timeout_s:
            self.cancel_order(self._entry_order_id)
        if self.combo_id:
            self._check_exit(now)
            return
        if not self._entry_order_id and (
            self._traded_chain is None or self._traded_chain.days_to_expiry(now) <= self.exit_days
        ):
            self._use_chain(self._pick_chain(now))

    def on_order(self, order: OrderData) -> None:
        """Follow the entry and the close order to their ends."""
        if order.order_id == self._entry_order_id:
            self._entry_progress(order)
        elif order.order_id == self._close_order_id:
            self._close_progress(order)

    # -- entry ------------------------------------------------------------------------------

    def _open(self, chain: ChainData, now_ts: float) -> None:
        try:
            legs = iron_condor_by_delta(chain, self.short_delta, wing_width=self.wing_width)
        except SelectionError as error:
            self._log_once("selection", f"no condor in {chain.key} yet: {error}", now_ts)
            return
        combo = build_combo(ComboType.IRON_CONDOR, legs, Direction.LONG, self.volume)
        mids = {option.symbol: option.mid for option in legs.values()}
        if any(mid is None for mid in mids.values()):
            self._log_once("quotes", f"{chain.key}: a leg has no two-sided quote", now_ts)
            return
        # Net per share of one unit: negative for the credit this structure collects.
        net_mid = sum(leg.ratio * (mids[leg.symbol] or 0.0) for leg in combo.legs)
        if net_mid >= 0:
            self._log_once("credit", f"{chain.key}: no credit at the mids ({net_mid:+.2f})", now_ts)
            return
        limit = self.order_type == "limit"
        order_id = self.combo_order(
            combo,
            None,
            Direction.LONG,
            self.volume,
            round(net_mid, 2) if limit else None,
            OrderType.LIMIT if limit else OrderType.MARKET,
            reference="open condor",
        )
        strikes = "/".join(f"{option.strike:g}" for option in legs.values())
        if order_id is None:
            self._next_entry_ts = now_ts + _RETRY_AFTER_S
            self.write_log(f"condor {strikes} refused; retrying later", "WARNING")
            return
        self._entry_order_id, self._entry_sent_ts = order_id, now_ts
        self.write_log(
            f"selling {self.volume} condor {chain.key} {strikes} at a mid credit of "
            f"{-net_mid:.2f} ({self.order_type})"
        )

    def _entry_progress(self, order: OrderData) -> None:
        if order.traded > 0 and order.average_price is not None:
            self.combo_id = order.order_id
            self.credit = -order.average_price
        if order.is_active:
            return
        self._entry_order_id = ""
        if order.status is Status.ALL_TRADED or order.traded > 0:
            self.trades_done += 1
            self.write_log(
                f"opened condor {self.combo_id}: {order.traded} at a credit of "
                f"{self.credit:.2f} per share ({self.credit * 100 * order.traded:.2f} total)"
            )
            self.put_event()
            return
        self._next_entry_ts = self.clock_now().timestamp() + _RETRY_AFTER_S
        reason = f": {order.reject_reason}" if order.reject_reason else ""
        self.write_log(f"entry {order.order_id} ended {order.status.value}{reason}", "WARNING")

    # -- exit -------------------------------------------------------------------------------

    def _check_exit(self, now: datetime) -> None:
        combo = self.holding.combos.get(self.combo_id)
        if combo is None or self._close_order_id:
            return  # the fills are not booked yet, or a close is working
        if not combo.is_open:
            self._flat("closed elsewhere", now)
            return
        reason = self._exit_reason(combo, now)
        if not reason:
            return
        order_id = self.close_combo_position(combo)
        if order_id is None:
            self._log_once("close", f"close of {self.combo_id} not sent; retrying", now.timestamp())
            return
        self._close_order_id, self._close_reason = order_id, reason
        self.write_log(f"closing condor {self.combo_id}: {reason}")

    def _exit_reason(self, combo: ComboPosition, now: datetime) -> str:
        chain = self._traded_chain
        if chain is not None and chain.days_to_expiry(now) <= self.exit_days:
            return "expiry"
        cost = cost_to_close(combo)
        if cost is None or self.credit <= 0:
            return ""
        profit = self.credit - cost
        if profit >= self.credit * self.take_profit_pct / 100:
            return "take profit"
        if -profit >= self.credit * self.stop_loss_pct / 100:
            return "stop loss"
        return ""

    def _close_progress(self, order: OrderData) -> None:
        if order.is_active:
            return
        self._close_order_id = ""
        if order.status is Status.ALL_TRADED:
            self.write_log(
                f"closed condor {self.combo_id} ({self._close_reason}) at a net "
                f"{order.average_price or 0.0:.2f} per share against a credit of "
                f"{self.credit:.2f}"
            )
            self._flat(self._close_reason, self.clock_now())
            return
        reason = f": {order.reject_reason}" if order.reject_reason else ""
        self.write_log(f"close {order.order_id} ended {order.status.value}{reason}", "WARNING")

    def _flat(self, reason: str, now: datetime) -> None:
        self.combo_id, self.credit = "", 0.0
        self.last_exit, self.last_exit_ts = reason, now.timestamp()
        self.put_event()

    # -- chains and restore -----------------------------------------------------------------

    def _pick_chain(self, now: datetime) -> ChainData | None:
        """The live chain nearest ``target_days`` with more than ``exit_days`` left."""
        candidates = self.portfolio.chains_by_days(
            now, self.exit_days + 1, max(3 * self.target_days, self.exit_days + 1)
        )
        if not candidates:
            self._log_once("chain", "no chain with enough days to expiry", now.timestamp())
            return None
        return min(candidates, key=lambda chain: abs(chain.days_to_expiry(now) - self.target_days))

    def _use_chain(self, chain: ChainData | None) -> None:
        if chain is None or chain is self._traded_chain:
            return
        if self._traded_chain is not None:
            self.unsubscribe_chains([self._traded_chain])
        self._traded_chain = chain
        self.chain_key = chain.key
        self.subscribe_chains([chain])
        self.write_log(f"trading chain {chain.key} ({chain.days_to_expiry(self.clock_now())} days)")

    def _stored_chain(self) -> ChainData | None:
        """The chain of the open condor: by the stored key, else by its first leg."""
        chain = self.portfolio.get_chain(self.chain_key) if self.chain_key else None
        if chain is not None:
            return chain
        combo = self.holding.combos.get(self.combo_id)
        for symbol in combo.legs if combo is not None else ():
            option = self.portfolio.get_option(symbol)
            if option is not None:
                return option.chain
        return None

    def _adopt_open_combo(self) -> None:
        """Match ``combo_id`` with the rebuilt holding: forget a flat one, adopt an open one."""
        holding = self.holding
        combo = holding.combos.get(self.combo_id) if self.combo_id else None
        if combo is not None and combo.is_open:
            return
        if self.combo_id:
            self.write_log(f"condor {self.combo_id} is no longer open in the holding", "WARNING")
            self.combo_id, self.credit = "", 0.0
        open_combos = holding.open_combos()
        if not open_combos:
            return
        adopted = open_combos[0]
        self.combo_id = adopted.combo_id
        self.credit = opening_credit(adopted)
        self.write_log(f"adopted open condor {self.combo_id} from the ledger")

    def _log_once(self, key: str, message: str, now_ts: float) -> None:
        """Log ``message`` at most once per :data:`_LOG_EVERY_S` clock seconds per ``key``."""
        if now_ts - self._logged.get(key, -math.inf) >= _LOG_EVERY_S:
            self._logged[key] = now_ts
            self.write_log(message)


def _units(combo: ComboPosition) -> int:
    """Combo units held: the greatest common divisor of the open legs' quantities."""
    quantities = [abs(leg.quantity) for leg in combo.legs.values() if leg.quantity]
    return math.gcd(*quantities) if quantities else 0


def cost_to_close(combo: ComboPosition) -> float | None:
    """What buying back one unit of ``combo`` costs now, per share, at the legs' marks.

    Positive for a short (credit) structure: ``-sum(quantity x mark) / units``.  None when
    the combo is flat or a leg has no mark.
    """
    units = _units(combo)
    if units == 0:
        return None
    value = 0.0
    for leg in combo.legs.values():
        if leg.quantity == 0:
            continue
        if leg.mark is None:
            return None
        value += leg.quantity * leg.mark
    return -value / units


def opening_credit(combo: ComboPosition) -> float:
    """The net credit per share per unit the open legs were opened at (by average cost).

    ``-sum(quantity x average price) / units``: positive for a credit; 0.0 when flat.
    """
    units = _units(combo)
    if units == 0:
        return 0.0
    return -sum(leg.quantity * leg.average_price for leg in combo.legs.values()) / units
