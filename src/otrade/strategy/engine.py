"""OptionStrategyEngine: loads strategy classes, runs strategy instances, sends their orders.

Life cycle of an instance (each step stored with its parameters and variables through the
DatabaseEngine): :meth:`~OptionStrategyEngine.add_strategy` (``created``) ->
:meth:`~OptionStrategyEngine.init_strategy` (``initialized``: stored variables restored,
``on_init``) -> :meth:`~OptionStrategyEngine.start_strategy` (``running``) ->
:meth:`~OptionStrategyEngine.stop_strategy` (``stopped``) ->
:meth:`~OptionStrategyEngine.remove_strategy` (``removed``: out of the engine, the record
kept for :meth:`~OptionStrategyEngine.restore_strategy`) or
:meth:`~OptionStrategyEngine.delete_strategy` (the record purged).

On the first timer after start (when every listing loaded at start is known) the engine
restores the stored strategies (``strategy.restore``), starting those that were running
(``strategy.start_restored``), then adds the ``strategy.instances`` not stored yet.

Orders: a strategy's helper builds the request (the combo library for combos), the
RiskEngine checks it (a refusal becomes a REJECTED order with its reason and the helper
returns None), and the MainEngine sends it to the ``run.gateway`` gateway.  Order and trade
events reach the PositionEngine first (it is registered earlier), then the owning strategy.

Isolation: an exception in any callback of a strategy puts that strategy in the ``error``
state (traceback logged, orders cancelled, hedging and chains released); every other
strategy and engine keeps running.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from loguru import logger

from otrade.combos.builder import ComboRegistry, LegSource
from otrade.combos.combo import Combo, opposite_signature
from otrade.combos.types import ComboType
from otrade.constants import Direction, Offset, OrderType
from otrade.database.engine import DatabaseEngine
from otrade.engine import BaseEngine
from otrade.errors import OrderRejected, OTradeError, StrategyError
from otrade.event import (
    EVENT_CHAIN_UPDATE,
    EVENT_LOG,
    EVENT_ORDER,
    EVENT_STRATEGY,
    EVENT_TIMER,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.hedge import HEDGE_REFERENCE, HedgeConfig, HedgeEngine
from otrade.marketdata import MarketDataEngine
from otrade.objects import (
    CancelRequest,
    ChainUpdateData,
    Leg,
    LogData,
    OrderData,
    OrderRequest,
    StrategyData,
    TradeData,
)
from otrade.portfolio import ChainData, PortfolioData
from otrade.position import CLOSE_REFERENCE_PREFIX, Holding, HoldingSummary, PositionEngine
from otrade.risk import RiskEngine
from otrade.strategy.template import OptionStrategyTemplate, StrategyState
from otrade.symbols import is_option_symbol

if TYPE_CHECKING:
    from otrade.engine import MainEngine

__all__ = ["HEDGE_REFERENCE", "OptionStrategyEngine", "class_path"]


_FILE_MODULE_PREFIX = "otrade_strategy_files"
# Attributes every template instance sets in __init__ (a subclass must not reuse them).
_INSTANCE_ATTRIBUTES = frozenset(
    {"strategy_engine", "strategy_name", "underlying_symbol", "state", "error"}
)
# Refusals that free up with time: a close they refused is sent again at the next timer.
_RATE_REFUSALS: Final = ("order_rate:", "global_order_rate:")
# Ended orders per strategy that get_order answers from memory.
_RECENT_ENDED: Final = 1000
# States in which a strategy still hears about its orders and fills.
_CALLBACK_STATES = frozenset({StrategyState.RUNNING, StrategyState.STOPPED})
_RESTORED_STATES = frozenset(
    {StrategyState.INITIALIZED, StrategyState.RUNNING, StrategyState.STOPPED}
)


def class_path(strategy_class: type) -> str:
    """``package.module:ClassName`` of a strategy class, as stored with its instances."""
    return f"{strategy_class.__module__}:{strategy_class.__qualname__}"


class _HedgeSender:
    """What the HedgeEngine calls to trade one strategy's underlying."""

    def __init__(self, engine: OptionStrategyEngine, strategy: OptionStrategyTemplate) -> None:
        self._engine = engine
        self._strategy = strategy

    def send_hedge(
        self, direction: Direction, volume: int, price: float | None, order_type: OrderType
    ) -> str | None:
        strategy = self._strategy
        return self._engine.send_single(
            strategy,
            strategy.underlying_symbol,
            direction,
            volume,
            price=price,
            order_type=order_type,
            reference=HEDGE_REFERENCE,
        )

    def cancel_hedge(self, order_id: str) -> None:
        self._engine.cancel_order(self._strategy, order_id)


class _DeferredClose(NamedTuple):
    """A close asked for that waits: for cancels to end, or (``on_timer``) a rate limit."""

    price: float | None
    order_type: OrderType
    on_timer: bool


class OptionStrategyEngine(BaseEngine):
    """Runs strategies (see the module docstring).

    Registered as ``"strategy"`` after the database, market data, position, risk and hedge
    engines, so their handlers see each event before the strategies do.
    """

    engine_name = "strategy"

    def __init__(self, main_engine: MainEngine, event_engine: EventEngine) -> None:
        super().__init__(main_engine, event_engine)
        self._settings = main_engine.settings.strategy
        self._gateway = main_engine.settings.run.gateway
        self._clock = main_engine.clock
        self._log = logger.bind(source="strategy")
        self.classes: dict[str, type[OptionStrategyTemplate]] = {}
        self.load_failures: list[str] = []
        self.strategies: dict[str, OptionStrategyTemplate] = {}
        self._combos = ComboRegistry.from_plugins(main_engine.plugins)
        # strategy -> the latest ended orders by id, oldest first (at most _RECENT_ENDED;
        # older ones are read from the database, so a long session does not grow without end)
        self._ended: dict[str, dict[str, OrderData]] = {}
        # strategy -> active orders by id: the latest OrderData, or the request itself until
        # the gateway's first event (building an OrderData per send is measurable).
        self._active: dict[str, dict[str, OrderData | OrderRequest]] = {}
        self._booked: dict[str, int] = {}  # order id -> volume seen in trade events
        # Ended orders whose fills have not all arrived as trades yet (a broker may report
        # the final status first): order id -> the final order.
        self._unsettled: dict[str, OrderData] = {}
        # Combo close order id -> the combo it closes, until the order and its fills end.
        self._closing: dict[str, str] = {}
        # Orders this engine asked to cancel, until they and their fills end.  A close still
        # counts them (they may fill before the cancel lands) and sends the rest once they end.
        self._cancelling: set[str] = set()
        # strategy -> the closes waiting for such cancels, or for the next timer after a
        # refusal by a risk rate limit: ("single", symbol) or ("combo", combo id) -> the
        # close asked for.
        self._deferred_closes: dict[str, dict[tuple[str, str], _DeferredClose]] = {}
        self._refusal: str | None = None  # why the last send_request sent nothing
        self._subscriptions: dict[str, dict[str, ChainData]] = {}  # strategy -> key -> chain
        self._subscribers: dict[str, list[OptionStrategyTemplate]] = {}  # chain key -> running
        self._timer_due: dict[str, float] = {}
        self._saved_variables: dict[str, dict[str, object]] = {}
        self._next_save = 0.0
        self._sent_orders: set[str] = set()  # strategies that sent an order in this callback
        self._started_up = False
        self._database: DatabaseEngine | None = None
        self._marketdata: MarketDataEngine | None = None
        self._positions: PositionEngine | None = None
        self._risk: RiskEngine | None = None
        self._hedge: HedgeEngine | None = None

    # -- engine life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Find the other engines, load the strategy classes and register the handlers."""
        self._database = self.main_engine.find_engine("database", DatabaseEngine)
        self._marketdata = self.main_engine.find_engine("marketdata", MarketDataEngine)
        self._positions = self.main_engine.find_engine("position", PositionEngine)
        self._risk = self.main_engine.find_engine("risk", RiskEngine)
        self._hedge = self.main_engine.find_engine("hedge", HedgeEngine)
        for item in self.main_engine.plugins.items("strategy"):
            if isinstance(item.value, type) and issubclass(item.value, OptionStrategyTemplate):
                self.add_class(item.value)
            else:
                self._load_failed(f"plugin strategy {item.name!r} is not an OptionStrategyTemplate")
        for path in self._settings.paths:
            self.load_path(path)
        for module in self._settings.modules:
            self.load_module(module)
        register = self.event_engine.register
        register(EVENT_ORDER, self.process_order_event)
        register(EVENT_TRADE, self.process_trade_event)
        register(EVENT_CHAIN_UPDATE, self.process_chain_update_event)
        register(EVENT_TIMER, self.process_timer_event)

    def close(self) -> None:
        """Store every strategy's variables; states stay as they are, for the restore."""
        for strategy in list(self.strategies.values()):
            self._save_quietly(strategy)
        if self._database is not None:
            try:
                self._database.flush()
            except Exception:  # noqa: BLE001 - the database reports its own failure
                self._log.opt(exception=True).error("could not flush strategy records")

    # -- classes --------------------------------------------------------------------------

    def add_class(self, strategy_class: type[OptionStrategyTemplate]) -> None:
        """Make a strategy class available by its name.

        Raises:
            StrategyError: It is not a subclass of OptionStrategyTemplate, or another class
                already has its name.
        """
        if not (
            isinstance(strategy_class, type) and issubclass(strategy_class, OptionStrategyTemplate)
        ):
            raise StrategyError(f"{strategy_class!r} is not a subclass of OptionStrategyTemplate")
        name = strategy_class.__name__
        reserved = sorted(
            field
            for field in (*strategy_class.parameters, *strategy_class.variables)
            if hasattr(OptionStrategyTemplate, field) or field in _INSTANCE_ATTRIBUTES
        )
        if reserved:
            raise StrategyError(
                f"strategy class {name}: parameters or variables {reserved} are names the "
                "template uses itself; rename them"
            )
        known = self.classes.get(name)
        if known is not None and known is not strategy_class:
            raise StrategyError(
                f"two strategy classes are named {name!r}: {class_path(known)} and "
                f"{class_path(strategy_class)}"
            )
        self.classes[name] = strategy_class

    def load_path(self, path: Path | str) -> list[str]:
        """Load the strategy classes of a Python file, or of every ``*.py`` in a directory.

        A file that fails to import is logged and recorded in :attr:`load_failures`; the
        others still load.

        Returns:
            The names of the classes loaded.
        """
        target = Path(path).expanduser()
        if target.is_dir():
            files = sorted(p for p in target.glob("*.py") if not p.name.startswith("_"))
        elif target.is_file():
            files = [target]
        else:
            self._load_failed(f"strategy path {target} does not exist")
            return []
        loaded: list[str] = []
        for file in files:
            module_name = f"{_FILE_MODULE_PREFIX}.{file.stem}"
            spec = importlib.util.spec_from_file_location(module_name, file)
            if spec is None or spec.loader is None:
                self._load_failed(f"strategy file {file} cannot be imported")
                continue
            try:
                module = importlib.util.module_from_spec(spec)
                sys.modules[module_name] = module
                spec.loader.exec_module(module)
            except Exception:  # noqa: BLE001 - a broken file must not stop the others
                sys.modules.pop(module_name, None)
                self._load_failed(
                    f"strategy file {file} failed to import:\n{traceback.format_exc()}"
                )
                continue
            loaded += self._add_module_classes(module.__name__, vars(module).values())
        return loaded

    def load_module(self, module_name: str) -> list[str]:
        """Import a module and load the strategy classes defined in it.

        Returns:
            The names of the classes loaded ([] when the import failed; see
            :attr:`load_failures`).
        """
        try:
            module = importlib.import_module(module_name)
        except Exception:  # noqa: BLE001 - a broken module must not stop the others
            self._load_failed(
                f"strategy module {module_name} failed to import:\n{traceback.format_exc()}"
            )
            return []
        return self._add_module_classes(module.__name__, vars(module).values())

    def _add_module_classes(self, module_name: str, values: Iterable[object]) -> list[str]:
        loaded: list[str] = []
        for value in values:
            if (
                inspect.isclass(value)
                and issubclass(value, OptionStrategyTemplate)
                and value is not OptionStrategyTemplate
                and value.__module__ == module_name
            ):
                try:
                    self.add_class(value)
                except StrategyError as error:
                    self._load_failed(str(error))
                    continue
                loaded.append(value.__name__)
        return loaded

    def _load_failed(self, message: str) -> None:
        self.load_failures.append(message)
        self.write_log(message, "ERROR", "strategy")

    def resolve_class(self, name_or_path: str) -> type[OptionStrategyTemplate]:
        """A loaded class by name, or a class by import path ``package.module:ClassName``.

        Raises:
            StrategyError: Nothing matches (the message lists the loaded classes).
        """
        module_name, _, class_name = name_or_path.rpartition(":")
        found = self.classes.get(class_name or name_or_path)
        if found is not None and (not module_name or _same_module(found, module_name)):
            return found
        if module_name and not module_name.startswith(_FILE_MODULE_PREFIX):
            try:
                value = getattr(importlib.import_module(module_name), class_name)
            except Exception as error:  # noqa: BLE001 - reported with the name below
                raise StrategyError(
                    f"cannot load strategy class {name_or_path!r}: {error}"
                ) from None
            if isinstance(value, type) and issubclass(value, OptionStrategyTemplate):
                self.add_class(value)
                return value
            raise StrategyError(f"{name_or_path!r} is not an OptionStrategyTemplate subclass")
        if found is not None:
            return found  # a file-loaded class: its module name is not importable
        known = ", ".join(sorted(self.classes)) or "none"
        raise StrategyError(f"unknown strategy class {name_or_path!r}; loaded: {known}")

    # -- instances ------------------------------------------------------------------------

    def get_strategy(self, name: str) -> OptionStrategyTemplate:
        """The running-engine instance called ``name``.

        Raises:
            StrategyError: No such instance (the message lists them).
        """
        strategy = self.strategies.get(name)
        if strategy is None:
            known = ", ".join(sorted(self.strategies)) or "none"
            raise StrategyError(f"no strategy named {name!r}; strategies: {known}")
        return strategy

    def add_strategy(
        self,
        strategy_class: str | type[OptionStrategyTemplate],
        name: str,
        underlying: str,
        setting: Mapping[str, object] | None = None,
    ) -> OptionStrategyTemplate:
        """Build a strategy instance and store it as ``created``.

        Args:
            strategy_class: A class, a loaded class's name, or ``package.module:ClassName``.
            name: A unique instance name (it keys the record, the orders and the holding).
            underlying: The underlying it trades.
            setting: Parameter values by name.

        Raises:
            StrategyError: The name is empty or taken (in the engine or by a stored
                record: restore or delete that one), the class is unknown, or a setting
                is not a parameter or has the wrong type.
        """
        if not name or not name.strip():
            raise StrategyError("a strategy needs a non-empty name")
        if name in self.strategies:
            raise StrategyError(f"a strategy named {name!r} already exists")
        if self._database is not None and self._database.get_strategy(name) is not None:
            raise StrategyError(
                f"a stored strategy is named {name!r}: restore_strategy({name!r}) or "
                f"delete_strategy({name!r}) first"
            )
        cls = (
            strategy_class
            if isinstance(strategy_class, type)
            else self.resolve_class(strategy_class)
        )
        if isinstance(strategy_class, type):
            self.add_class(cls)
        strategy = cls(self, name, underlying.strip().upper(), dict(setting or {}))
        self.strategies[name] = strategy
        self.save(strategy)
        self.write_log(f"added ({cls.__name__} on {strategy.underlying_symbol})", "INFO", name)
        return strategy

    def init_strategy(self, name: str) -> bool:
        """Restore the strategy's stored variables, then run ``on_init``.

        Returns:
            True when ``on_init`` returned; False when it raised (the strategy is then in
            the error state).

        Raises:
            StrategyError: The strategy is unknown or already initialised.
        """
        strategy = self.get_strategy(name)
        if strategy.state not in (StrategyState.CREATED, StrategyState.ERROR):
            raise StrategyError(
                f"strategy {name!r} is {strategy.state}; it can be initialised "
                "only when created or after an error"
            )
        stored = self._database.get_strategy(name) if self._database is not None else None
        if stored is not None:
            try:
                strategy.update_variables(stored.variables)
            except StrategyError as error:
                self.write_log(f"stored variables not restored: {error}", "WARNING", name)
        strategy.error = ""
        if not self._call(strategy, strategy.on_init):
            return False
        self._set_state(strategy, StrategyState.INITIALIZED)
        return True

    def start_strategy(self, name: str) -> bool:
        """Run ``on_start`` and start trading.

        Returns:
            False when ``on_start`` raised (the strategy is then in the error state).

        Raises:
            StrategyError: The strategy is unknown, not initialised, or already running.
        """
        strategy = self.get_strategy(name)
        if strategy.state not in (StrategyState.INITIALIZED, StrategyState.STOPPED):
            raise StrategyError(
                f"strategy {name!r} is {strategy.state}; start it after init_strategy"
            )
        strategy.state = StrategyState.RUNNING  # orders sent in on_start are allowed
        self._index_subscriptions(strategy)
        if not self._call(strategy, strategy.on_start):
            return False
        self._timer_due[name] = self._clock.monotonic() + strategy.timer_interval_s
        self._set_state(strategy, StrategyState.RUNNING)
        return True

    def stop_strategy(self, name: str) -> None:
        """Stop hedging, cancel open orders (``strategy.cancel_on_stop``), run ``on_stop``.

        The cancels go first, so orders ``on_stop`` sends on purpose (closing a position)
        stay working.  Stopping a strategy that does not run changes nothing.

        Raises:
            StrategyError: The strategy is unknown.
        """
        strategy = self.get_strategy(name)
        if strategy.state != StrategyState.RUNNING:
            return
        self._halt(strategy, cancel=self._settings.cancel_on_stop)
        self._call(strategy, strategy.on_stop)
        if strategy.state == StrategyState.ERROR:
            return  # on_stop raised: the error path already cleaned up
        self._set_state(strategy, StrategyState.STOPPED)

    def remove_strategy(self, name: str) -> None:
        """Take a stopped strategy out of the engine; its record stays for a restore.

        Raises:
            StrategyError: Unknown, or still running (stop it first).
        """
        strategy = self.get_strategy(name)
        if strategy.state == StrategyState.RUNNING:
            raise StrategyError(f"strategy {name!r} is running; stop it before removing it")
        self._halt(strategy, cancel=False)
        self._drop_deferred_closes(name, "removed")
        self.unsubscribe_chains(strategy, None)
        self._set_state(strategy, StrategyState.REMOVED)
        self._forget(name)

    def restore_strategy(self, name: str) -> OptionStrategyTemplate:
        """Rebuild a strategy from its stored record, in the ``created`` state.

        Raises:
            StrategyError: No stored record, it is in the engine already, or its class
                or parameters no longer load.
        """
        if name in self.strategies:
            raise StrategyError(f"strategy {name!r} is already in the engine")
        record = self._database.get_strategy(name) if self._database is not None else None
        if record is None:
            raise StrategyError(f"no stored strategy named {name!r}")
        cls = self.resolve_class(record.class_path)
        strategy = cls(self, name, record.portfolio, dict(record.parameters))
        try:
            strategy.update_variables(record.variables)
        except StrategyError as error:
            self.write_log(f"stored variables not restored: {error}", "WARNING", name)
        self.strategies[name] = strategy
        self.save(strategy)
        self.write_log(f"restored ({cls.__name__} on {strategy.underlying_symbol})", "INFO", name)
        return strategy

    def delete_strategy(self, name: str) -> None:
        """Stop and remove the strategy if it is in the engine, and purge its record.

        Its orders and trades stay in the ledger.

        Raises:
            StrategyError: Neither in the engine nor stored.
        """
        strategy = self.strategies.get(name)
        if strategy is not None:
            self.stop_strategy(name)
            self._halt(strategy, cancel=False)
            self.unsubscribe_chains(strategy, None)
            self._forget(name)
        deleted = False
        if self._database is not None:
            deleted = self._database.delete_strategy(name).result()
        if strategy is None and not deleted:
            raise StrategyError(f"no strategy named {name!r} to delete")
        self.write_log("deleted", "INFO", name)

    def startup(self) -> None:
        """Restore the stored strategies and add the configured instances (once).

        Called on the first timer event; call it earlier to restore at a moment of your
        choosing.  A strategy that fails to restore is logged; the others continue.
        """
        if self._started_up:
            return
        self._started_up = True
        records = self._database.get_strategies() if self._database is not None else []
        stored = {record.name: record for record in records}
        if self._settings.restore:
            for record in records:
                if record.state == StrategyState.REMOVED or record.name in self.strategies:
                    continue
                self._restore_record(record)
        for instance in self._settings.instances:
            if instance.name in stored or instance.name in self.strategies:
                continue
            try:
                self.add_strategy(
                    instance.class_name, instance.name, instance.underlying, instance.parameters
                )
            except StrategyError as error:
                self.write_log(f"not added: {error}", "ERROR", instance.name)
                continue
            if instance.start and self.init_strategy(instance.name):
                self.start_strategy(instance.name)

    def _restore_record(self, record: StrategyData) -> None:
        try:
            strategy = self.restore_strategy(record.name)
        except StrategyError as error:
            self.write_log(f"not restored: {error}", "ERROR", record.name)
            return
        if record.state == StrategyState.ERROR:
            strategy.state = StrategyState.ERROR
            strategy.error = "stopped by an error before the restart; init_strategy to retry"
            self._set_state(strategy, StrategyState.ERROR)
            return
        if record.state not in _RESTORED_STATES or not self.init_strategy(record.name):
            return
        if record.state == StrategyState.RUNNING and self._settings.start_restored:
            self.start_strategy(record.name)
        elif record.state == StrategyState.STOPPED:
            self._set_state(strategy, StrategyState.STOPPED)

    def _forget(self, name: str) -> None:
        self.strategies.pop(name, None)
        self._timer_due.pop(name, None)
        self._saved_variables.pop(name, None)

    # -- state, persistence, errors -------------------------------------------------------

    def _set_state(self, strategy: OptionStrategyTemplate, state: str) -> None:
        strategy.state = state
        if state != StrategyState.RUNNING:
            self._unindex_subscriptions(strategy)
        self._save_quietly(strategy)

    def record(self, strategy: OptionStrategyTemplate) -> StrategyData:
        """The strategy's current record (what is stored)."""
        return StrategyData(
            name=strategy.strategy_name,
            class_path=class_path(type(strategy)),
            portfolio=strategy.underlying_symbol,
            parameters=strategy.get_parameters(),
            variables=strategy.get_variables(),
            state=strategy.state,
            updated_at=self._clock.now(),
        )

    def save(self, strategy: OptionStrategyTemplate) -> None:
        """Store the strategy's record and put it on ``EVENT_STRATEGY``.

        Raises:
            ValueError: A parameter or variable cannot be stored as JSON (names which).
        """
        record = self.record(strategy)
        if self._database is not None:
            self._database.save_strategy(record)
        self._saved_variables[strategy.strategy_name] = dict(record.variables)
        self.event_engine.put(Event(EVENT_STRATEGY, record))

    def _save_quietly(self, strategy: OptionStrategyTemplate) -> None:
        try:
            self.save(strategy)
        except ValueError as error:
            self.write_log(f"not stored: {error}", "ERROR", strategy.strategy_name)

    def fail_strategy(self, strategy: OptionStrategyTemplate, message: str) -> None:
        """Put ``strategy`` in the error state: log, cancel its orders, stop its hedging."""
        self.write_log(f"stopped by an error: {message}", "ERROR", strategy.strategy_name)
        strategy.error = message.strip().splitlines()[-1] if message.strip() else "error"
        self._halt(strategy, cancel=True)
        self._drop_deferred_closes(strategy.strategy_name, "stopped by an error")
        self.unsubscribe_chains(strategy, None)
        self._set_state(strategy, StrategyState.ERROR)

    def _halt(self, strategy: OptionStrategyTemplate, *, cancel: bool) -> None:
        self.unregister_hedging(strategy)
        self._timer_due.pop(strategy.strategy_name, None)
        if cancel:
            self.cancel_all(strategy)

    def _call(
        self, strategy: OptionStrategyTemplate, callback: Callable[..., None], *args: object
    ) -> bool:
        """Run one callback; an exception puts the strategy in the error state.

        When the callback sent an order, or handled an order or a trade, changed variables
        are stored at once: a restart right after an order must not forget it (a strategy
        that keeps its open combo's id in a variable would otherwise open a second one).
        """
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 - one strategy's bug must not stop the others
            name = getattr(callback, "__name__", "callback")
            self.fail_strategy(strategy, f"{name} raised:\n{traceback.format_exc()}")
            return False
        name = strategy.strategy_name
        sent = name in self._sent_orders
        if sent or (args and isinstance(args[0], OrderData | TradeData)):
            self._sent_orders.discard(name)
            if strategy.get_variables() != self._saved_variables.get(name):
                self._save_quietly(strategy)
        return True

    def write_log(self, message: str, level: str, source: str) -> None:
        """Log ``message`` under ``source`` through the LogEngine."""
        record = LogData(message=message, level=level, source=source, time=self._clock.now())
        self.event_engine.put(Event(EVENT_LOG, record))

    # -- market data ----------------------------------------------------------------------

    def get_portfolio(self, underlying: str, strategy: str) -> PortfolioData:
        """The portfolio of ``underlying``.

        Raises:
            StrategyError: No MarketDataEngine, or no listing of the underlying is known.
        """
        portfolio = self._marketdata.get_portfolio(underlying) if self._marketdata else None
        if portfolio is None:
            raise StrategyError(
                f"strategy {strategy!r}: no listings of {underlying!r} are known (is it in "
                "the datafeed's underlyings, or synced with 'otrade contracts sync'?)"
            )
        return portfolio

    def subscribe_chains(
        self, strategy: OptionStrategyTemplate, chains: Iterable[ChainData]
    ) -> None:
        """Make ``chains`` active for ``strategy`` and route their updates to it."""
        picked = list(chains)
        if self._marketdata is not None:
            self._marketdata.register_chains(strategy.strategy_name, picked)
        table = self._subscriptions.setdefault(strategy.strategy_name, {})
        for chain in picked:
            table[chain.key] = chain
        if strategy.trading:
            self._index_subscriptions(strategy)

    def unsubscribe_chains(
        self, strategy: OptionStrategyTemplate, chains: Iterable[ChainData] | None
    ) -> None:
        """Release ``chains`` (all when None) of ``strategy``."""
        name = strategy.strategy_name
        table = self._subscriptions.get(name, {})
        picked = list(table.values()) if chains is None else list(chains)
        if self._marketdata is not None and picked:
            self._marketdata.unregister_chains(name, picked)
        self._unindex_subscriptions(strategy)
        for chain in picked:
            table.pop(chain.key, None)
        if strategy.trading:
            self._index_subscriptions(strategy)

    def subscribed_chains(self, name: str) -> tuple[str, ...]:
        """Keys of the chains ``name`` subscribed, sorted."""
        return tuple(sorted(self._subscriptions.get(name, {})))

    def _index_subscriptions(self, strategy: OptionStrategyTemplate) -> None:
        for key in self._subscriptions.get(strategy.strategy_name, {}):
            subscribers = self._subscribers.setdefault(key, [])
            if strategy not in subscribers:
                subscribers.append(strategy)

    def _unindex_subscriptions(self, strategy: OptionStrategyTemplate) -> None:
        for key in list(self._subscribers):
            subscribers = self._subscribers[key]
            if strategy in subscribers:
                subscribers.remove(strategy)
            if not subscribers:
                del self._subscribers[key]

    # -- orders ---------------------------------------------------------------------------

    def build_combo(
        self,
        combo_type: str | ComboType | Combo,
        legs: Mapping[str, LegSource] | None,
        direction: Direction,
        volume: int,
        ratios: Mapping[str, int] | None = None,
    ) -> Combo:
        """Build (or re-size and re-direct) a combo with this engine's combo types.

        Raises:
            ComboValidationError: Bad legs, volume or type (names the role and the rule).
        """
        if isinstance(combo_type, Combo):
            base = combo_type if combo_type.direction is Direction.LONG else combo_type.reversed()
            if direction is Direction.SHORT:
                base = base.reversed()
            return Combo(
                type_name=base.type_name,
                direction=base.direction,
                volume=volume,
                underlying=base.underlying,
                legs=base.legs,
            )
        legs_by_role: dict[str, LegSource] = dict(legs) if legs is not None else {}
        return self._combos.build(combo_type, legs_by_role, direction, volume, ratios=ratios)

    def send_single(
        self,
        strategy: OptionStrategyTemplate,
        symbol: str,
        direction: Direction,
        volume: int,
        *,
        price: float | None = None,
        order_type: OrderType = OrderType.MARKET,
        reference: str = "",
        offset: Offset = Offset.NONE,
        deferred: bool = False,
    ) -> str | None:
        """Send an underlying or option order for ``strategy`` (see the template helpers).

        ``deferred`` is for a close asked for while the strategy ran, sent once the cancels
        it waited for ended: it goes out even if the strategy stopped meanwhile.

        Raises:
            ValueError: A bad field of the request (named); nothing is sent.
        """
        request = OrderRequest(
            symbol=symbol,
            direction=Direction(direction),
            order_type=OrderType(order_type),
            volume=volume,
            price=price,
            offset=offset,
            strategy=strategy.strategy_name,
            reference=reference,
        )
        return self.send_request(strategy, request, deferred=deferred)

    def send_combo(
        self,
        strategy: OptionStrategyTemplate,
        combo: Combo,
        price: float | None,
        order_type: OrderType,
        reference: str,
    ) -> str | None:
        """Send a built combo as one order for ``strategy``."""
        request = combo.order_request(
            OrderType(order_type), price, strategy=strategy.strategy_name, reference=reference
        )
        return self.send_request(strategy, request)

    def send_request(
        self, strategy: OptionStrategyTemplate, request: OrderRequest, *, deferred: bool = False
    ) -> str | None:
        """Check ``request`` with the RiskEngine and send it through the MainEngine.

        Only a running strategy sends, or a stopped one with ``deferred`` (see
        :meth:`send_single`).

        Returns:
            The local order id, or None when refused (reported as a REJECTED order).
        """
        name = strategy.strategy_name
        state = strategy.state
        if state != StrategyState.RUNNING and not (deferred and state == StrategyState.STOPPED):
            self._refusal = f"strategy_not_running: strategy {name!r} is {strategy.state}"
            self._refuse(request, self._refusal)
            return None
        if request.strategy != name:
            raise StrategyError(f"request names strategy {request.strategy!r}, not {name!r}")
        risk = self._risk
        if risk is not None:
            self._refusal = risk.check_and_report(request)
            if self._refusal is not None:
                return None
        try:
            order_id = self.main_engine.send_order(request, self._gateway)
        except OTradeError as error:
            reason = error.reason if isinstance(error, OrderRejected) else str(error)
            self._refusal = f"gateway: {reason}"
            self._refuse(request, self._refusal)
            return None
        self._refusal = None
        self._sent_orders.add(name)
        self._active.setdefault(name, {})[order_id] = request
        return order_id

    def _refuse(self, request: OrderRequest, reason: str) -> None:
        if self._risk is not None:
            self._risk.refuse(request, reason)
        else:
            self.write_log(
                f"order {request.symbol} refused: {reason}",
                "WARNING",
                request.strategy or "strategy",
            )

    def cancel_order(self, strategy: OptionStrategyTemplate, order_id: str) -> None:
        """Cancel one of ``strategy``'s active orders; an ended or unknown id is ignored."""
        order = self._active.get(strategy.strategy_name, {}).get(order_id)
        if order is None:
            return
        gateway = order.gateway_name if isinstance(order, OrderData) else self._gateway
        request = CancelRequest(order_id=order_id, gateway_name=gateway)
        try:
            self.main_engine.cancel_order(request)
        except OTradeError as error:
            self.write_log(
                f"cancel of {order_id} failed: {error}", "WARNING", strategy.strategy_name
            )
            return
        self._cancelling.add(order_id)

    def cancel_all(self, strategy: OptionStrategyTemplate) -> None:
        """Cancel every active order of ``strategy`` whose cancel is not asked for already.

        (:meth:`cancel_order` with the id asks again.)
        """
        for order_id in list(self._active.get(strategy.strategy_name, {})):
            if order_id not in self._cancelling:
                self.cancel_order(strategy, order_id)

    def active_orders(self, name: str) -> dict[str, OrderData]:
        """``name``'s active orders by id (a copy)."""
        return {
            order_id: self._as_order(order_id, order)
            for order_id, order in self._active.get(name, {}).items()
        }

    def get_order(self, name: str, order_id: str) -> OrderData | None:
        """The latest state of one of ``name``'s orders, or None.

        Active orders and the last ended ones are held in memory; an older order is read
        from the database (stored order states are written first).
        """
        sent = self._active.get(name, {}).get(order_id)
        if sent is not None:
            return self._as_order(order_id, sent)
        order = self._ended.get(name, {}).get(order_id)
        if order is None and self._database is not None:
            order = self._database.get_order(order_id)
        return order if order is not None and order.strategy == name else None

    def _as_order(self, order_id: str, order: OrderData | OrderRequest) -> OrderData:
        """An active order as OrderData (SUBMITTING while only the request is known)."""
        if isinstance(order, OrderData):
            return order
        return order.create_order(order_id, self._gateway, self._clock.now())

    # -- closing --------------------------------------------------------------------------

    def close_single(
        self,
        strategy: OptionStrategyTemplate,
        symbol: str,
        price: float | None,
        order_type: OrderType,
        *,
        deferred: bool = False,
    ) -> str | None:
        """Send the order that flattens ``strategy``'s single-leg position in ``symbol``.

        Working closing orders count against the position.  Those with a cancel requested
        count too, as they may still fill; once they end, the close is asked for again and
        sends what is left (``deferred``: see :meth:`send_single`).
        """
        name = strategy.strategy_name
        holding = self.get_holding(name)
        table = holding.options if is_option_symbol(symbol) else holding.underlyings
        position = table.get(symbol)
        held = position.quantity if position is not None else 0
        if held == 0:
            return None
        closing = Direction.SHORT if held > 0 else Direction.LONG
        working, cancelling = self._working_volume(name, symbol, closing)
        if cancelling and (deferred or strategy.trading):
            self._defer_close(name, ("single", symbol), price, order_type)
        remaining = abs(held) - working
        if remaining <= 0:
            if cancelling:
                message = f"{symbol}: closes {cancelling} once the cancels of closing orders end"
            else:
                message = f"{symbol}: closing orders already cover {held:+d}"
            self.write_log(message, "INFO", name)
            return None
        order_id = self.send_single(
            strategy,
            symbol,
            closing,
            remaining,
            price=price,
            order_type=order_type,
            reference="close",
            offset=Offset.CLOSE,
            deferred=deferred,
        )
        if order_id is None and self._rate_limited() and (deferred or strategy.trading):
            self._defer_close(name, ("single", symbol), price, order_type, on_timer=True)
        return order_id

    def _working_volume(self, name: str, symbol: str, direction: Direction) -> tuple[int, int]:
        """Units of ``symbol`` in ``direction`` sent as single orders but not yet booked.

        Returns:
            All of them, and those of orders with a cancel requested.
        """
        total = cancelling = 0
        unsettled = (o for o in self._unsettled.values() if o.strategy == name)
        working = [*self._active.get(name, {}).items(), *((o.order_id, o) for o in unsettled)]
        for order_id, order in working:
            if order.legs or order.symbol != symbol or order.direction is not direction:
                continue
            ended = isinstance(order, OrderData) and not order.status.is_active
            expected = order.traded if isinstance(order, OrderData) and ended else order.volume
            volume = max(0, expected - self._booked.get(order_id, 0))
            total += volume
            if order_id in self._cancelling:
                cancelling += volume
        return total, cancelling

    def _defer_close(
        self,
        name: str,
        target: tuple[str, str],
        price: float | None,
        order_type: OrderType,
        *,
        on_timer: bool = False,
    ) -> None:
        close = _DeferredClose(price, OrderType(order_type), on_timer)
        self._deferred_closes.setdefault(name, {})[target] = close

    def _rate_limited(self) -> bool:
        """True when the last refusal was a risk rate limit (it frees up with time)."""
        return self._refusal is not None and self._refusal.startswith(_RATE_REFUSALS)

    def _waits_for_cancel(self, name: str, target: tuple[str, str]) -> bool:
        """True while an order ``target`` waits for has a cancel requested and has not ended."""
        kind, key = target
        active = self._active.get(name, {})
        for order_id in self._cancelling:
            order = active.get(order_id) or self._unsettled.get(order_id)
            if order is None or order.strategy != name:
                continue
            if kind == "combo" and self._closing.get(order_id) == key:
                return True
            if kind == "single" and not order.legs and order.symbol == key:
                return True
        return False

    def _send_deferred_closes(self, name: str, *, timer: bool = False) -> None:
        """Ask again for the closes of ``name`` whose cancels have all ended.

        Those a rate limit refused wait for a timer event (``timer``): retried on an order
        event, a refusal's own REJECTED event would retry it at once, again and again.
        """
        waiting = self._deferred_closes.get(name)
        strategy = self.strategies.get(name)
        if not waiting or strategy is None:
            return
        for target, close in list(waiting.items()):
            if (close.on_timer and not timer) or self._waits_for_cancel(name, target):
                continue
            del waiting[target]
            kind, key = target
            if kind == "single":
                self.close_single(strategy, key, close.price, close.order_type, deferred=True)
            else:
                self.close_combo(strategy, key, close.price, close.order_type, deferred=True)
        if not waiting:
            self._deferred_closes.pop(name, None)

    def _drop_deferred_closes(self, name: str, why: str) -> None:
        waiting = self._deferred_closes.pop(name, None)
        if waiting:
            targets = ", ".join(f"{kind} {key}" for kind, key in waiting)
            self.write_log(f"{why}: closes no longer sent for {targets}", "WARNING", name)

    def close_combo(
        self,
        strategy: OptionStrategyTemplate,
        combo_id: str,
        price: float | None,
        order_type: OrderType,
        *,
        deferred: bool = False,
    ) -> str | None:
        """Send one combo order that trades every open leg of a combo position to zero.

        While a close of the combo works, nothing is sent; when every such close has a
        cancel requested, the close is asked for again once they end (``deferred``: see
        :meth:`send_single`).
        """
        name = strategy.strategy_name
        combo = self.get_holding(name).combos.get(combo_id)
        if combo is None:
            raise StrategyError(f"strategy {name!r} has no combo position {combo_id!r}")
        quantities = {symbol: qty for symbol, qty in combo.quantities().items() if qty}
        if not quantities:
            return None
        closes = [order_id for order_id, closed in self._closing.items() if closed == combo_id]
        if closes:
            if not all(order_id in self._cancelling for order_id in closes):
                self.write_log(f"combo {combo_id}: a close is already working", "INFO", name)
            elif deferred or strategy.trading:
                self._defer_close(name, ("combo", combo_id), price, order_type)
                self.write_log(
                    f"combo {combo_id}: closes once the cancel of its close ends", "INFO", name
                )
            return None
        volume = math.gcd(*quantities.values())
        legs = tuple(
            Leg(symbol, -quantity // volume, combo.roles.get(symbol, ""))
            for symbol, quantity in quantities.items()
        )
        signature = opposite_signature(combo.signature) if combo.signature else ""
        request = OrderRequest(
            symbol=f"{strategy.underlying_symbol} close",
            direction=Direction.LONG,
            order_type=OrderType(order_type),
            volume=volume,
            price=price,
            offset=Offset.CLOSE,
            legs=legs,
            strategy=name,
            reference=f"{CLOSE_REFERENCE_PREFIX}{combo_id}",
            combo_signature=signature,
        )
        order_id = self.send_request(strategy, request, deferred=deferred)
        if order_id is not None:
            self._closing[order_id] = combo_id
        elif self._rate_limited() and (deferred or strategy.trading):
            self._defer_close(name, ("combo", combo_id), price, order_type, on_timer=True)
        return order_id

    def close_all(self, strategy: OptionStrategyTemplate) -> list[str]:
        """Cancel ``strategy``'s orders, then close every open position it holds."""
        self.cancel_all(strategy)
        holding = self.get_holding(strategy.strategy_name)
        sent: list[str | None] = []
        for symbol, position in list(holding.underlyings.items()):
            if position.quantity:
                sent.append(self.close_single(strategy, symbol, None, OrderType.MARKET))
        for symbol, position in list(holding.options.items()):
            if position.quantity:
                sent.append(self.close_single(strategy, symbol, None, OrderType.MARKET))
        for combo in holding.open_combos():
            sent.append(self.close_combo(strategy, combo.combo_id, None, OrderType.MARKET))
        return [order_id for order_id in sent if order_id is not None]

    # -- positions and hedging ----------------------------------------------------------

    def get_holding(self, name: str) -> Holding:
        """``name``'s live holding (empty without a PositionEngine)."""
        if self._positions is None:
            return Holding(name)
        return self._positions.get_holding(name)

    def get_summary(self, name: str) -> HoldingSummary:
        """``name``'s Greeks and P&L now."""
        return self.get_holding(name).summary(self._clock.now())

    def register_hedging(self, strategy: OptionStrategyTemplate, **config: Any) -> None:
        """Register ``strategy`` with the HedgeEngine (see the template's helper).

        Raises:
            ValueError: A bad setting (named).
            StrategyError: No HedgeEngine is registered.
        """
        if self._hedge is None:
            raise StrategyError("no HedgeEngine is registered (engine 'hedge')")
        settings = HedgeConfig(**config)
        self._hedge.register(
            strategy.strategy_name,
            strategy.underlying_symbol,
            settings,
            _HedgeSender(self, strategy),
        )

    def unregister_hedging(self, strategy: OptionStrategyTemplate) -> None:
        """Stop hedging ``strategy`` (harmless when it is not hedged)."""
        if self._hedge is not None:
            self._hedge.unregister(strategy.strategy_name)

    # -- handlers (event thread) --------------------------------------------------------

    def process_order_event(self, event: Event) -> None:
        """Track the order and pass it to its strategy's ``on_order``."""
        order: OrderData = event.data
        name = order.strategy
        strategy = self.strategies.get(name)
        # Every strategy's orders are followed, loaded or not: a broker reports working
        # orders at connect, before the first timer restores their strategy, and a removed
        # strategy restored later must not see orders that ended meanwhile as working.
        # Manual orders (no strategy) are not.
        if not name:
            return
        active = self._active.setdefault(name, {})
        if order.order_id not in active and order.order_id not in self._unsettled:
            self._note_unsent(order)
        if order.status.is_active:
            active[order.order_id] = order
        else:
            active.pop(order.order_id, None)
            ended = self._ended.setdefault(name, {})
            ended.pop(order.order_id, None)
            ended[order.order_id] = order
            if len(ended) > _RECENT_ENDED:
                del ended[next(iter(ended))]
            if order.traded > self._booked.get(order.order_id, 0):
                self._unsettled[order.order_id] = order
            else:
                self._settled(order.order_id)
        if strategy is not None and strategy.state in _CALLBACK_STATES:
            self._call(strategy, strategy.on_order, order)
        if name in self._deferred_closes:
            self._send_deferred_closes(name)

    def process_trade_event(self, event: Event) -> None:
        """Pass a stored trade (already booked by the PositionEngine) to ``on_trade``."""
        trade: TradeData = event.data
        strategy = self.strategies.get(trade.strategy)
        if not trade.strategy:
            return
        booked = self._booked[trade.order_id] = self._booked.get(trade.order_id, 0) + trade.volume
        ended = self._unsettled.get(trade.order_id)
        if ended is not None and booked >= ended.traded:
            del self._unsettled[trade.order_id]
            self._settled(trade.order_id)
        if strategy is not None and strategy.state in _CALLBACK_STATES:
            self._call(strategy, strategy.on_trade, trade)
        if trade.strategy in self._deferred_closes:
            self._send_deferred_closes(trade.strategy)

    def _note_unsent(self, order: OrderData) -> None:
        """First sight of an order this session did not send (reported after a restart).

        What it traded before is in the ledger already (stored trades, or executions the
        broker replayed before reporting the order), so it counts as booked; a working
        combo close is known as its combo's close.
        """
        order_id = order.order_id
        if order.traded:
            self._booked[order_id] = max(self._booked.get(order_id, 0), order.traded)
        closes = order.reference.removeprefix(CLOSE_REFERENCE_PREFIX)
        if order.legs and order.status.is_active and closes != order.reference:
            self._closing.setdefault(order_id, closes)

    def _settled(self, order_id: str) -> None:
        """Forget an order that ended and whose fills are all booked."""
        self._booked.pop(order_id, None)
        self._closing.pop(order_id, None)
        self._cancelling.discard(order_id)

    def process_chain_update_event(self, event: Event) -> None:
        """Call ``on_chain_update`` of every running strategy subscribed to the chain."""
        update: ChainUpdateData = event.data
        subscribers = self._subscribers.get(update.chain_key)
        if not subscribers:
            return
        for strategy in tuple(subscribers):
            chain = self._subscriptions[strategy.strategy_name].get(update.chain_key)
            if chain is not None and strategy.state == StrategyState.RUNNING:
                self._call(strategy, strategy.on_chain_update, chain)

    def process_timer_event(self, event: Event) -> None:
        """Restore at the first tick; then ``on_timer`` when due, and store changed variables."""
        if not self._started_up:
            self.startup()
        for name in list(self._deferred_closes):
            self._send_deferred_closes(name, timer=True)
        now = self._clock.monotonic()
        for name, due in list(self._timer_due.items()):
            strategy = self.strategies.get(name)
            if strategy is None or now < due or strategy.state != StrategyState.RUNNING:
                continue
            following = due + strategy.timer_interval_s
            self._timer_due[name] = (
                following if following > now else now + strategy.timer_interval_s
            )
            self._call(strategy, strategy.on_timer)
        if now >= self._next_save:
            self._next_save = now + self._settings.save_interval_s
            for name, strategy in list(self.strategies.items()):
                if strategy.get_variables() != self._saved_variables.get(name):
                    self._save_quietly(strategy)


def _same_module(strategy_class: type, module_name: str) -> bool:
    return strategy_class.__module__ == module_name or module_name.startswith(_FILE_MODULE_PREFIX)
