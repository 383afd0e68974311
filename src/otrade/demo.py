"""``otrade demo``: the whole system offline, on an accelerated clock, with a live view.

:func:`run_demo` runs otrade's real engines against the simulated market
(:mod:`otrade.datafeeds.simulated`) and the paper gateway, storing everything in SQLite
under a data directory:

* **Clock.**  A :class:`~otrade.clock.SimulatedClock` running ``speed`` simulated seconds
  per wall second.  The first run starts at 09:45 New York on the current (or next)
  trading day; the time reached is stored in ``demo-state.json`` and the next run resumes
  one second later, or at the next session's 09:45 when the stored time is past the
  16:00 close.  So the stored trades always lie in the clock's past.  The underlying's last
  price is stored too and is where the next run's market starts.
* **Strategy.**  One instance, named after its class, of ``ShortCondor`` (bundled) or of
  the class ``--strategy`` names: a loaded class name, ``package.module:ClassName`` or
  ``path/to/file.py:ClassName``.  When the data directory holds a stored record of that
  name, the OptionStrategyEngine restores it (and starts it when it was running) and the
  PositionEngine has already rebuilt its holding from the stored trades; otherwise it is
  added, initialised and started.
* **View.**  A rich ``Live`` view, refreshed four times a second: per strategy its
  positions (quantity, average price, mark, unrealized P&L), Greeks and P&L; the last
  orders with their status; the last hedge decisions; the simulated time.  Engine state
  lives on the event thread, so a timer handler there builds an immutable
  :class:`DemoView` and the UI thread only reads the latest one.
* **End.**  After ``duration_s`` wall seconds (or Ctrl-C) new orders are halted, open
  orders cancelled, the MainEngine closed (each strategy's state stored), the clock stored,
  and a summary printed.

The simulated seed of run *n* (counting from 0 in a data directory) is ``seed + n``, so
every run sees a new path and the same directory replays the same runs.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import attrs
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from otrade.clock import LiveClock, SimulatedClock
from otrade.constants import Direction
from otrade.database.connection import DATABASE_FILE_NAME
from otrade.database.engine import DatabaseEngine
from otrade.engine import MainEngine
from otrade.errors import ConfigError, EngineError, StrategyError
from otrade.event import EVENT_HEDGE, EVENT_ORDER, EVENT_TIMER, EVENT_TRADE, Event
from otrade.hedge import HedgeDecision
from otrade.marketdata import MarketDataEngine
from otrade.objects import OrderData, StrategyData
from otrade.plugins import PluginRegistry
from otrade.portfolio import is_trading_day
from otrade.position import Holding, HoldingSnapshot, HoldingSummary, Position, PositionEngine
from otrade.run_cli import (
    EventThreadCaller,
    OpenOrders,
    start_strategies,
    wind_down,
)
from otrade.settings import (
    EventSettings,
    LogSettings,
    MarketDataSettings,
    RunSettings,
    Settings,
    SimulatedFeedSettings,
    StrategyInstanceSettings,
    StrategySettings,
)
from otrade.strategy.engine import OptionStrategyEngine

__all__ = [
    "DEFAULT_STRATEGY",
    "DEMO_UNDERLYING",
    "STATE_FILE",
    "DemoMonitor",
    "DemoState",
    "DemoSummary",
    "DemoView",
    "PositionRow",
    "StrategyView",
    "default_data_directory",
    "demo_settings",
    "load_demo_state",
    "render_summary",
    "render_view",
    "resume_time",
    "run_demo",
    "timer_interval_for",
]

NEW_YORK: Final = ZoneInfo("America/New_York")
DEFAULT_STRATEGY: Final = "ShortCondor"
"""The strategy ``otrade demo`` runs unless ``--strategy`` names another."""
DEMO_UNDERLYING: Final = "SPY"
"""The simulated underlying the demo trades."""
STATE_FILE: Final = "demo-state.json"
"""The file in the data directory that carries the clock (and the market) across runs."""

SESSION_START: Final = time(9, 45)
"""New York time a new demo session starts at (a quarter hour after the open)."""
SESSION_CLOSE: Final = time(16, 0)
"""New York time after which a resumed run moves to the next session."""

_REFRESH_PER_SECOND: Final = 4
_VIEW_EVERY_S: Final = 0.2  # wall seconds between view builds on the event thread
_TIMERS_PER_WALL_SECOND: Final = 8.0
_LAST_ORDERS: Final = 8
_LAST_HEDGES: Final = 5
_STATE_VERSION: Final = 1


# -- records ------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PositionRow:
    """One open position of a strategy, for display.

    Attributes:
        group: ``"shares"``, ``"option"`` or ``"combo <id tail>"``.
        symbol: Canonical symbol.
        quantity: Signed contracts or shares.
        average_price: Average price per unit (per share for options).
        mark: Latest mark per unit, None until marked.
        unrealized: Unrealized P&L in money, None without a mark.
    """

    group: str
    symbol: str
    quantity: int
    average_price: float
    mark: float | None
    unrealized: float | None


@attrs.frozen(kw_only=True)
class StrategyView:
    """One strategy at one moment: state, variables, positions, Greeks and P&L.

    Attributes:
        name: The instance name.
        class_name: Its class.
        state: Its life-cycle state.
        error: Why it stopped, when in the error state.
        variables: Its variables by name, in declaration order, as display text (formatted
            on the event thread, so a mutable variable is never read from another thread).
        positions: Its open positions.
        summary: Its Greeks and P&L.
    """

    name: str
    class_name: str
    state: str
    error: str
    variables: tuple[tuple[str, str], ...]
    positions: tuple[PositionRow, ...]
    summary: HoldingSummary


@attrs.frozen(kw_only=True)
class DemoView:
    """What the live view shows, built on the event thread (immutable).

    Attributes:
        time: The simulated time (UTC).
        underlying_price: The demo underlying's price, None before its first quote.
        strategies: Every strategy in the engine, by name.
        orders: The latest state of the last orders, newest first.
        hedges: The last hedge decisions, newest first.
        order_count: Orders seen this run (refusals included).
        trade_count: Fills this run.
        hedge_checks: Hedge decisions this run.
        hedge_orders: Hedge orders sent this run.
    """

    time: datetime
    underlying_price: float | None
    strategies: tuple[StrategyView, ...]
    orders: tuple[OrderData, ...]
    hedges: tuple[HedgeDecision, ...]
    order_count: int
    trade_count: int
    hedge_checks: int
    hedge_orders: int


@attrs.frozen(kw_only=True)
class DemoState:
    """What ``demo-state.json`` carries from one run to the next.

    Attributes:
        clock: The simulated time the last run reached (UTC), None before the first run.
        prices: The last price of each simulated underlying.
        runs: How many runs finished in the directory.
    """

    clock: datetime | None = None
    prices: Mapping[str, float] = attrs.field(factory=dict)
    runs: int = 0


@attrs.frozen(kw_only=True)
class DemoSummary:
    """The outcome of one :func:`run_demo`.

    Attributes:
        data_directory: Where everything is stored.
        database_file: The SQLite file.
        strategy_name: The demo's strategy instance.
        restored: True when the instance came from a stored record (a second run).
        interrupted: True when Ctrl-C ended the run early.
        clock_start: Simulated time at the start (UTC).
        clock_end: Simulated time stored for the next run (UTC).
        orders: Orders seen this run (refusals included).
        trades: Fills this run.
        hedge_checks: Hedge decisions this run.
        hedge_orders: Hedge orders sent this run.
        cancelled_at_exit: Open orders cancelled at the end.
        holdings_at_start: Every strategy's holding as rebuilt from the ledger at start.
        holdings_at_end: Every strategy's holding at the end.
        summaries: Every strategy's Greeks and P&L at the end.
        strategies: Every strategy's record at the end (state, parameters, variables).
    """

    data_directory: Path
    database_file: Path
    strategy_name: str
    restored: bool
    interrupted: bool
    clock_start: datetime
    clock_end: datetime
    orders: int
    trades: int
    hedge_checks: int
    hedge_orders: int
    cancelled_at_exit: int
    holdings_at_start: Mapping[str, HoldingSnapshot]
    holdings_at_end: Mapping[str, HoldingSnapshot]
    summaries: Mapping[str, HoldingSummary]
    strategies: tuple[StrategyData, ...]

    def strategy(self, name: str) -> StrategyData:
        """The end record of strategy ``name``.

        Raises:
            KeyError: No such strategy.
        """
        for record in self.strategies:
            if record.name == name:
                return record
        raise KeyError(name)


# -- settings, clock and state --------------------------------------------------------------------


def default_data_directory() -> Path:
    """The per-user data directory of the demo (``platformdirs``), else ``~/.otrade/demo``."""
    try:
        import platformdirs  # noqa: PLC0415 - optional: not every install has it
    except ImportError:
        return Path.home() / ".otrade" / "demo"
    return platformdirs.user_data_path("otrade", appauthor=False) / "demo"


def _session_start(day: date) -> datetime:
    """09:45 New York on the first trading day on or after ``day``, in UTC."""
    while not is_trading_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, SESSION_START, NEW_YORK).astimezone(UTC)


def resume_time(stored: datetime | None, today: date) -> datetime:
    """Where the demo clock starts.

    Args:
        stored: The time the previous run reached, None for a first run.
        today: The New York date a first run starts on (or the next trading day).

    Returns:
        One second after ``stored`` while that is inside a session (09:45 that day when
        before it), else 09:45 New York on the next trading day; in UTC.
    """
    if stored is None:
        return _session_start(today)
    candidate = stored.astimezone(NEW_YORK) + timedelta(seconds=1)
    day = candidate.date()
    if is_trading_day(day) and candidate.time() < SESSION_START:
        return _session_start(day)
    if is_trading_day(day) and candidate.time() < SESSION_CLOSE:
        return candidate.astimezone(UTC)
    return _session_start(day + timedelta(days=1))


def load_demo_state(data_directory: Path) -> DemoState:
    """Read ``demo-state.json`` (an empty state when there is none).

    Raises:
        ConfigError: The file is not a demo state file (names the file and the key).
    """
    path = data_directory / STATE_FILE
    if not path.exists():
        return DemoState()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        clock = datetime.fromisoformat(document["clock"])
        prices = {str(key): float(value) for key, value in document["prices"].items()}
        runs = int(document["runs"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConfigError(
            f"{path}: not a demo state file ({type(error).__name__}: {error}); "
            "delete it to start the demo clock over"
        ) from None
    if clock.tzinfo is None:
        raise ConfigError(f"{path}: clock {document['clock']!r} has no time zone")
    return DemoState(clock=clock, prices=prices, runs=runs)


def _save_demo_state(data_directory: Path, state: DemoState) -> None:
    assert state.clock is not None
    document = {
        "version": _STATE_VERSION,
        "clock": state.clock.isoformat(),
        "prices": dict(state.prices),
        "runs": state.runs,
    }
    path = data_directory / STATE_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def timer_interval_for(speed: float) -> float:
    """Clock seconds between timer events: about eight per wall second, at least 1."""
    return max(1.0, speed / _TIMERS_PER_WALL_SECOND)


def demo_settings(
    data_directory: Path,
    *,
    seed: int,
    speed: float,
    start_price: float,
    strategy_class: str,
    strategy_paths: tuple[Path, ...] = (),
) -> Settings:
    """The settings of an offline demo run.

    SQLite (``otrade.db``) and the log files (``logs/``) under ``data_directory``, no
    console log (the live view owns the terminal), the simulated market on
    :data:`DEMO_UNDERLYING`, the paper gateway, and one strategy instance named after its
    class.  Timer and staleness limits scale with ``speed`` so that an accelerated clock
    neither floods the event queue nor finds its own quotes stale.

    Args:
        data_directory: Where everything is stored.
        seed: The simulated market's seed.
        speed: Simulated seconds per wall second.
        start_price: The underlying's price when the market starts.
        strategy_class: A loaded class name or ``package.module:ClassName``.
        strategy_paths: Files whose strategy classes to load.
    """
    interval_s = timer_interval_for(speed)
    stale_after_s = max(30.0, 4 * interval_s)
    instance = StrategyInstanceSettings(
        name=strategy_class.rpartition(":")[2],
        class_name=strategy_class,
        underlying=DEMO_UNDERLYING,
    )
    return Settings(
        data_directory=data_directory,
        log=LogSettings(console=False, file=True),
        event=EventSettings(timer_interval_s=interval_s),
        marketdata=MarketDataSettings(feed="simulated", stale_after_s=stale_after_s),
        simulated=SimulatedFeedSettings(
            seed=seed,
            underlyings=(DEMO_UNDERLYING,),
            start_price=start_price,
            interval_s=interval_s,
        ),
        strategy=StrategySettings(paths=strategy_paths, instances=(instance,)),
        run=RunSettings(gateway="paper"),
    )


def _strategy_spec(strategy: str) -> tuple[str, tuple[Path, ...]]:
    """``(class name or import path, files to load)`` from ``--strategy``.

    Raises:
        ConfigError: A ``.py`` file without ``:ClassName``, or a file that does not exist.
    """
    location, _, class_name = strategy.rpartition(":")
    if strategy.endswith(".py"):
        raise ConfigError(f"--strategy {strategy!r}: name the class, as {strategy}:ClassName")
    if not location.endswith(".py"):
        return strategy, ()
    path = Path(location).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"--strategy {strategy!r}: no file {path}")
    return class_name, (path,)


# -- the event-thread side ----------------------------------------------------------------------


class DemoMonitor:
    """Follows orders, trades and hedge decisions and builds :class:`DemoView` (event thread).

    :attr:`view` is replaced (never mutated), so the UI thread may read it at any time.

    Args:
        main: The running MainEngine.
    """

    def __init__(self, main: MainEngine) -> None:
        self._main = main
        self._wall = LiveClock()
        self._orders: OrderedDict[str, OrderData] = OrderedDict()
        self._order_ids: set[str] = set()
        self._hedges: deque[HedgeDecision] = deque(maxlen=_LAST_HEDGES)
        self._trade_count = 0
        self._hedge_checks = 0
        self._hedge_orders = 0
        self._next_view = 0.0
        self._handlers: tuple[tuple[str, Callable[[Event], None]], ...] = (
            (EVENT_ORDER, self.process_order_event),
            (EVENT_TRADE, self.process_trade_event),
            (EVENT_HEDGE, self.process_hedge_event),
            (EVENT_TIMER, self.process_timer_event),
        )
        self.view: DemoView | None = None

    def start(self) -> None:
        """Register the handlers."""
        for event_type, handler in self._handlers:
            self._main.event_engine.register(event_type, handler)

    def stop(self) -> None:
        """Unregister the handlers."""
        for event_type, handler in self._handlers:
            self._main.event_engine.unregister(event_type, handler)

    def process_order_event(self, event: Event) -> None:
        """Keep the latest state of the last orders."""
        order: OrderData = event.data
        self._order_ids.add(order.order_id)
        self._orders[order.order_id] = order
        self._orders.move_to_end(order.order_id)
        while len(self._orders) > _LAST_ORDERS:
            self._orders.popitem(last=False)

    def process_trade_event(self, event: Event) -> None:
        """Count fills (every trade event is one stored fill)."""
        self._trade_count += 1

    def process_hedge_event(self, event: Event) -> None:
        """Keep the last hedge decisions."""
        decision: HedgeDecision = event.data
        self._hedges.append(decision)
        self._hedge_checks += 1
        if decision.action == "order":
            self._hedge_orders += 1

    def process_timer_event(self, event: Event) -> None:
        """Build a new view, at most every 0.2 wall seconds."""
        now = self._wall.monotonic()
        if now >= self._next_view:
            self._next_view = now + _VIEW_EVERY_S
            self.view = self.build_view()

    def build_view(self) -> DemoView:
        """A view of everything now (event thread)."""
        main = self._main
        strategies = main.find_engine("strategy", OptionStrategyEngine)
        marketdata = main.find_engine("marketdata", MarketDataEngine)
        portfolio = marketdata.get_portfolio(DEMO_UNDERLYING) if marketdata else None
        now = main.clock.now()
        views = []
        if strategies is not None:
            for name, strategy in sorted(strategies.strategies.items()):
                holding = strategies.get_holding(name)
                views.append(StrategyView(
                    name=name, class_name=type(strategy).__name__, state=strategy.state,
                    error=strategy.error, variables=_variables_text(strategy.get_variables()),
                    positions=_position_rows(holding), summary=holding.summary(now),
                ))  # fmt: skip
        return DemoView(
            time=now,
            underlying_price=portfolio.underlying_price if portfolio is not None else None,
            strategies=tuple(views),
            orders=tuple(reversed(self._orders.values())),
            hedges=tuple(reversed(self._hedges)),
            order_count=len(self._order_ids),
            trade_count=self._trade_count,
            hedge_checks=self._hedge_checks,
            hedge_orders=self._hedge_orders,
        )


def _position_rows(holding: Holding) -> tuple[PositionRow, ...]:
    def row(group: str, position: Position) -> PositionRow:
        return PositionRow(group=group, symbol=position.symbol, quantity=position.quantity,
                           average_price=position.average_price, mark=position.mark,
                           unrealized=position.unrealized)  # fmt: skip

    rows = [row("shares", p) for p in holding.underlyings.values() if p.quantity]
    rows += [row("option", p) for p in holding.options.values() if p.quantity]
    for combo in holding.open_combos():
        rows += [row(f"combo ..{combo.combo_id[-6:]}", leg) for leg in combo.legs.values()
                 if leg.quantity]  # fmt: skip
    return tuple(rows)


# -- rendering ----------------------------------------------------------------------------------


def _money(value: float | None) -> Text:
    if value is None:
        return Text("-", style="dim")
    style = "red" if value < -0.005 else "green" if value > 0.005 else ""
    return Text(f"{value:,.2f}", style=style)


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _clock_text(moment: datetime) -> str:
    return moment.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S ET")


def _variable_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    text = str(value) or "-"
    # Long values are ids: their last 6 characters, as the order and combo columns show.
    return f"..{text[-6:]}" if len(text) > 20 else text


def _variables_text(values: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple((name, _variable_text(value)) for name, value in values.items())


def _strategy_panel(view: StrategyView) -> Panel:
    positions = Table(expand=True, box=None, padding=(0, 1))
    for header in ("", "symbol", "qty", "avg", "mark", "unrealized"):
        positions.add_column(header, justify="left" if header in ("", "symbol") else "right")
    for row in view.positions:
        positions.add_row(row.group, row.symbol, f"{row.quantity:+d}", _price(row.average_price),
                          _price(row.mark), _money(row.unrealized))  # fmt: skip
    if not view.positions:
        positions.add_row("", Text("flat", style="dim"), "", "", "", "")
    summary = view.summary
    figures = Table.grid(padding=(0, 2))
    figures.add_row(
        f"delta {summary.delta:+.1f}", f"gamma {summary.gamma:+.2f}",
        f"theta {summary.theta:+.2f}/day", f"vega {summary.vega:+.2f}/pt",
    )  # fmt: skip
    figures.add_row(
        Text.assemble("realized ", _money(summary.realized)),
        Text.assemble("unrealized ", _money(summary.unrealized)),
        Text.assemble("commissions ", _money(-summary.commissions)),
        Text.assemble("total ", _money(summary.total_pnl)),
    )
    variables = "  ".join(f"{key} {value}" for key, value in view.variables)
    state_style = {"running": "green", "error": "red"}.get(view.state, "yellow")
    title = Text.assemble((view.name, "bold"), f" ({view.class_name}) ", (view.state, state_style))
    body: list[RenderableType] = [positions, figures, Text(variables, style="dim")]
    if view.error:
        body.append(Text(view.error, style="red"))
    return Panel(Group(*body), title=title, title_align="left")


def _orders_table(orders: tuple[OrderData, ...]) -> Table:
    table = Table(title="last orders", expand=True, box=None, padding=(0, 1), title_justify="left")
    for header in ("time", "order", "what", "side", "qty", "limit", "filled", "avg", "status"):
        numeric = header in ("qty", "limit", "filled", "avg")
        table.add_column(header, justify="right" if numeric else "left", no_wrap=True,
                         overflow="ellipsis", min_width=max(len(header), 3),
                         ratio=None if numeric or header in ("time", "side") else 2)  # fmt: skip
    for order in orders:
        status = order.status.value + (f": {order.reject_reason}" if order.reject_reason else "")
        side = "combo" if order.legs else "buy" if order.direction is Direction.LONG else "sell"
        what = order.symbol + (f" ({order.reference})" if order.reference else "")
        table.add_row(
            order.time.astimezone(NEW_YORK).strftime("%H:%M:%S"), order.order_id[-6:], what,
            side, str(order.volume), "mkt" if order.price is None else f"{order.price:.2f}",
            str(order.traded), _price(order.average_price), status,
        )  # fmt: skip
    return table


def _hedges_table(hedges: tuple[HedgeDecision, ...]) -> Table:
    table = Table(title="last hedge decisions", expand=True, box=None, padding=(0, 1),
                  title_justify="left")  # fmt: skip
    for header in ("time", "strategy", "delta", "band", "action", "reason"):
        table.add_column(header, justify="right" if header in ("delta", "band") else "left",
                         no_wrap=True, overflow="ellipsis", min_width=len(header),
                         ratio=3 if header == "reason" else None)  # fmt: skip
    for decision in hedges:
        delta = "-" if decision.delta is None else f"{decision.delta:+.1f}"
        table.add_row(decision.time.astimezone(NEW_YORK).strftime("%H:%M:%S"), decision.strategy,
                      delta, f"{decision.band:.0f}", decision.action, decision.reason)  # fmt: skip
    return table


def render_view(
    view: DemoView | None, *, speed: float, wall_s: float, duration_s: float
) -> RenderableType:
    """The live view of ``view`` (a waiting line before the first one)."""
    if view is None:
        return Text(f"otrade demo: starting the engines ({wall_s:.0f} s)", style="dim")
    price = "-" if view.underlying_price is None else f"{view.underlying_price:.2f}"
    header = Text.assemble(
        ("otrade demo", "bold"), f"  {_clock_text(view.time)}  ",
        (f"{DEMO_UNDERLYING} {price}", "bold"),
        f"  speed {speed:g}x  {wall_s:.0f}/{duration_s:g} s  orders {view.order_count}  "
        f"fills {view.trade_count}  hedges {view.hedge_orders}/{view.hedge_checks}",
    )  # fmt: skip
    parts: list[RenderableType] = [header]
    parts += [_strategy_panel(strategy) for strategy in view.strategies]
    parts += [_orders_table(view.orders), _hedges_table(view.hedges)]
    return Group(*parts)


def render_summary(summary: DemoSummary) -> RenderableType:
    """The summary printed at the end of a run."""
    table = Table(title="otrade demo summary", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    started = "restored from the data directory" if summary.restored else "added"
    ending = "interrupted" if summary.interrupted else "finished"
    table.add_row("run", f"{ending}; strategy {summary.strategy_name} {started}")
    clock = f"{_clock_text(summary.clock_start)} -> {_clock_text(summary.clock_end)}"
    table.add_row("clock", clock)
    cancelled = summary.cancelled_at_exit
    table.add_row("orders", f"{summary.orders} this run ({cancelled} cancelled at exit)")
    table.add_row("fills", str(summary.trades))
    table.add_row("hedges", f"{summary.hedge_orders} sent after {summary.hedge_checks} checks")
    for name, figures in sorted(summary.summaries.items()):
        pnl = Text.assemble(
            "realized ", _money(figures.realized),
            "  unrealized ", _money(figures.unrealized),
            "  commissions ", _money(-figures.commissions),
            "  total ", _money(figures.total_pnl),
        )  # fmt: skip
        table.add_row(f"P&L {name}", pnl)
    for record in summary.strategies:
        variables = ", ".join(f"{k}={_variable_text(v)}" for k, v in record.variables.items())
        table.add_row(f"state {record.name}", f"{record.state}; {variables}")
    table.add_row("data", f"{summary.database_file} (run again to continue)")
    return table


# -- the run ------------------------------------------------------------------------------------


@contextmanager
def _no_interrupts() -> Iterator[None]:
    """Ignore Ctrl-C while shutting down (main thread only), so the shutdown completes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_demo(
    *,
    duration_s: float,
    speed: float,
    seed: int,
    strategy: str,
    data_dir: Path,
    console: Console | None = None,
) -> DemoSummary:
    """Run the offline demo (see the module docstring) and print its summary.

    Args:
        duration_s: Wall-clock seconds to run; > 0.
        speed: Simulated seconds per wall second; > 0.
        seed: The simulated market's seed (run *n* in a directory uses ``seed + n``).
        strategy: A strategy class name, ``package.module:ClassName`` or
            ``path/to/file.py:ClassName``.
        data_dir: Where the database, the logs and the clock state are kept.
        console: Where the view and the summary go (stdout when None).

    Returns:
        What happened (see :class:`DemoSummary`).

    Raises:
        ConfigError: A bad argument, an unloadable strategy, or a corrupt state file
            (names which); nothing was left running.
    """
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise ConfigError(f"--duration must be a number of seconds > 0, got {duration_s!r}")
    if not (math.isfinite(speed) and speed > 0):
        raise ConfigError(f"--speed must be > 0, got {speed!r}")
    console = console or Console()
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    state = load_demo_state(data_dir)
    class_name, paths = _strategy_spec(strategy)
    start = resume_time(state.clock, LiveClock().now().astimezone(NEW_YORK).date())
    settings = demo_settings(
        data_dir,
        seed=seed + state.runs,
        speed=speed,
        start_price=state.prices.get(DEMO_UNDERLYING, SimulatedFeedSettings().start_price),
        strategy_class=class_name,
        strategy_paths=paths,
    )
    registry = PluginRegistry(settings.plugins.disabled)
    registry.load()
    clock = SimulatedClock(start, speed=speed)
    main = MainEngine(settings, clock=clock, plugins=registry)
    run = _DemoRun(main, settings, console, speed=speed, duration_s=duration_s)
    try:
        run.start()
    except BaseException:
        with _no_interrupts():
            run.abort()
        raise
    try:
        run.wait()
    finally:
        with _no_interrupts():
            summary = run.finish(start)
            prices = dict(state.prices)
            if run.last_price is not None:
                prices[DEMO_UNDERLYING] = run.last_price
            ended = DemoState(clock=summary.clock_end, prices=prices, runs=state.runs + 1)
            _save_demo_state(data_dir, ended)
    console.print()
    console.print(render_summary(summary))
    return summary


class _DemoRun:
    """One demo run's moving parts, in the order :func:`run_demo` uses them."""

    def __init__(
        self, main: MainEngine, settings: Settings, console: Console, *, speed: float,
        duration_s: float,
    ) -> None:  # fmt: skip
        self.main = main
        self.settings = settings
        self.console = console
        self.speed = speed
        self.duration_s = duration_s
        self.instance = settings.strategy.instances[0]
        self.caller = EventThreadCaller(main.event_engine)
        self.orders = OpenOrders(main.event_engine)
        self.monitor = DemoMonitor(main)
        self.restored = False
        self.interrupted = False
        self.cancelled = 0
        self.last_price: float | None = None
        self.holdings_at_start: dict[str, HoldingSnapshot] = {}

    def start(self) -> None:
        """Check the strategy, record the rebuilt holdings, connect, start the strategies.

        Raises:
            ConfigError: The strategy class does not load (names ``--strategy``).
        """
        for part in (self.caller, self.orders, self.monitor):
            part.start()
        strategies = self.main.find_engine("strategy", OptionStrategyEngine)
        positions = self.main.find_engine("position", PositionEngine)
        if strategies is None or positions is None:
            raise ConfigError("the demo needs the built-in strategy and position engines")

        def prepare() -> dict[str, HoldingSnapshot]:
            if strategies.load_failures:
                raise ConfigError(f"--strategy: {strategies.load_failures[-1]}")
            try:
                strategies.resolve_class(self.instance.class_name)
            except StrategyError as error:
                raise ConfigError(f"--strategy: {error}") from None
            return {name: positions.get_holding(name).snapshot() for name in positions.strategies}

        # Put before the first timer event (which would restore the strategies): the
        # holdings are exactly what the PositionEngine rebuilt from the ledger.
        self.holdings_at_start = self.caller.call(prepare)
        database = self.main.find_engine("database", DatabaseEngine)
        stored = database.get_strategy(self.instance.name) if database is not None else None
        self.restored = stored is not None
        paper = {"max_quote_age_s": self.settings.marketdata.stale_after_s}
        self.main.connect(self.settings.run.gateway, paper)
        start_strategies(self.main, self.caller)

    def wait(self) -> None:
        """Show the live view until the duration has passed or Ctrl-C."""
        wall = LiveClock()
        began = wall.monotonic()

        def renderable() -> RenderableType:
            elapsed = wall.monotonic() - began
            return render_view(self.monitor.view, speed=self.speed, wall_s=elapsed,
                               duration_s=self.duration_s)  # fmt: skip

        try:
            with Live(get_renderable=renderable, console=self.console,
                      refresh_per_second=_REFRESH_PER_SECOND, transient=False):  # fmt: skip
                while wall.monotonic() - began < self.duration_s:
                    wall.sleep(min(0.1, self.duration_s - (wall.monotonic() - began)))
        except KeyboardInterrupt:
            self.interrupted = True

    def abort(self) -> None:
        """Close everything after a failed start (nothing is stored for the next run)."""
        for part in (self.monitor, self.orders, self.caller):
            part.stop()
        self.main.close()

    def finish(self, clock_start: datetime) -> DemoSummary:
        """Halt new orders, cancel open ones, close the MainEngine, and sum the run up."""
        main = self.main
        try:
            if not main.closed:
                self.cancelled = wind_down(main, self.caller, self.orders, cancel=True)
                self.monitor.view = self.caller.call(self.monitor.build_view)
        except EngineError as error:
            self.console.print(f"[red]shutdown: {error}[/red]")
        finally:
            for part in (self.monitor, self.orders, self.caller):
                part.stop()
            main.close()
        # Closed: no thread touches the engines any more, so they are read directly.
        return self._summary(clock_start)

    def _summary(self, clock_start: datetime) -> DemoSummary:
        main = self.main
        clock_end = main.clock.now()
        strategies = main.find_engine("strategy", OptionStrategyEngine)
        positions = main.find_engine("position", PositionEngine)
        marketdata = main.find_engine("marketdata", MarketDataEngine)
        portfolio = marketdata.get_portfolio(DEMO_UNDERLYING) if marketdata else None
        self.last_price = portfolio.underlying_price if portfolio is not None else None
        names = positions.strategies if positions is not None else []
        holdings = {n: positions.get_holding(n) for n in names} if positions is not None else {}
        records = (
            tuple(strategies.record(s) for _, s in sorted(strategies.strategies.items()))
            if strategies is not None
            else ()
        )
        view = self.monitor.view
        return DemoSummary(
            data_directory=self.settings.data_directory,
            database_file=self.settings.data_directory / DATABASE_FILE_NAME,
            strategy_name=self.instance.name,
            restored=self.restored,
            interrupted=self.interrupted,
            clock_start=clock_start,
            clock_end=clock_end,
            orders=view.order_count if view else 0,
            trades=view.trade_count if view else 0,
            hedge_checks=view.hedge_checks if view else 0,
            hedge_orders=view.hedge_orders if view else 0,
            cancelled_at_exit=self.cancelled,
            holdings_at_start=self.holdings_at_start,
            holdings_at_end={name: holding.snapshot() for name, holding in holdings.items()},
            summaries={name: holding.summary(clock_end) for name, holding in holdings.items()},
            strategies=records,
        )
