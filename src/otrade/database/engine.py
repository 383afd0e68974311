"""The DatabaseEngine: durable storage of listings, orders, trades and strategy records.

Threading: every write runs on one dedicated writer thread (``otrade-db-writer``) that owns
the only write transactions, in the order they were submitted.  The event thread hands it
work and, except for trades, does not wait.  Reads run on the caller's thread on their own
pooled connections (SQLite in WAL mode lets readers run beside the writer).

Trades: the engine registers an event *gate* for ``EVENT_TRADE`` (see
:meth:`otrade.event.EventEngine.register_gate`).  Before any handler sees a trade, the gate
has the writer commit it and waits for the commit.  A trade whose execution id is already
stored is dropped, so every engine sees each fill exactly once.  A trade that cannot be
stored is held back (logged as CRITICAL) and retried on every timer event; it reaches the
other engines only once it is committed.

Commissions reported after their trade (``EVENT_COMMISSION``) pass a gate too: the stored
trade's commission is replaced before any handler sees the event.  One that arrives before
its trade is held back and written into the trade when the trade comes, so the other
engines see every commission once, inside the trade or after it.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from datetime import date
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any, Final, TypeVar
from zoneinfo import ZoneInfo

import attrs
from loguru import logger
from sqlalchemy import Connection, Engine

from otrade.database import repository
from otrade.database.connection import database_errors, display_url, open_database
from otrade.database.migrate import ensure_schema
from otrade.database.repository import OrderStatusRecord
from otrade.engine import BaseEngine
from otrade.errors import DatabaseError
from otrade.event import (
    EVENT_COMMISSION,
    EVENT_CONTRACT,
    EVENT_ORDER,
    EVENT_TIMER,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.objects import CommissionData, ContractData, OrderData, StrategyData, TradeData

if TYPE_CHECKING:
    from otrade.engine import MainEngine

__all__ = ["EXCHANGE_TIME_ZONE", "DatabaseEngine"]

T = TypeVar("T")
R = TypeVar("R")

EXCHANGE_TIME_ZONE: Final = ZoneInfo("America/New_York")
"""US option listings expire by the calendar of this time zone."""

WRITE_BATCH_SIZE: Final = 256
"""At most this many queued writes are committed together in one transaction."""

ORDER_BATCH_SIZE: Final = 1_000
"""Order states are written in batches of this size, before each trade, and on the timer."""

CONTRACT_BATCH_SIZE: Final = 5_000
"""Contracts from gateways are written in batches of this size (or on the next timer)."""

_Job = tuple[Callable[[Connection], object], "concurrent.futures.Future[object]"]


class _Writer:
    """One thread that runs write jobs in submission order, committing them in groups.

    The jobs queued when the thread comes to them run in one transaction (at most
    ``WRITE_BATCH_SIZE``): one commit, one fsync, for a burst of order states and a trade.
    When any job of a group fails, the group is rolled back and its jobs run again one
    transaction each, so a bad record fails alone and the others are stored.  A job's
    future is resolved only after its transaction committed.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="otrade-db-writer", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[Connection], T]) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((job, future))  # type: ignore[arg-type]  # Future is invariant
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:  # stop
                return
            group = [item]
            stopping = False
            while len(group) < WRITE_BATCH_SIZE:
                try:
                    following = self._queue.get_nowait()
                except Empty:
                    break
                if following is None:
                    stopping = True
                    break
                group.append(following)
            self._run_group([job for job in group if job[1].set_running_or_notify_cancel()])
            if stopping:
                return

    def _run_group(self, group: list[_Job]) -> None:
        if len(group) > 1:
            try:
                with database_errors(self._engine.url), self._engine.begin() as connection:
                    results = [job(connection) for job, _ in group]
            except BaseException:  # noqa: BLE001 - every job runs again on its own below
                pass
            else:
                for (_, future), result in zip(group, results, strict=True):
                    future.set_result(result)
                return
        for job, future in group:
            try:
                with database_errors(self._engine.url), self._engine.begin() as connection:
                    result = job(connection)
            except BaseException as error:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(error)
            else:
                future.set_result(result)

    def stop(self, timeout_s: float) -> bool:
        """Finish the queued jobs and stop; False when the thread is still busy."""
        self._queue.put(None)
        self._thread.join(timeout_s)
        return not self._thread.is_alive()


class DatabaseEngine(BaseEngine):
    """Stores option listings, orders, trades and strategy records.

    On start it opens the database named by ``settings.database`` (SQLite under the data
    directory by default), creates or upgrades its schema (refusing a schema newer than
    this otrade), starts the writer thread, and, when ``load_listings_on_start`` is set,
    loads every stored listing and puts it as a contract event before any other event.

    Raises:
        DatabaseError: From :meth:`start` when the database cannot be opened or migrated.
    """

    engine_name = "database"

    def __init__(self, main_engine: MainEngine, event_engine: EventEngine) -> None:
        super().__init__(main_engine, event_engine)
        self._settings = main_engine.settings.database
        self._clock = main_engine.clock
        self._log = logger.bind(source="database")
        self._engine: Engine | None = None
        self._writer: _Writer | None = None
        self._url = ""
        self._pending_contracts: list[ContractData] = []
        # Order states waiting for the next write (the event thread appends; a read from
        # another thread may take them, hence the lock).
        self._orders_lock = threading.Lock()
        self._pending_orders: list[OrderData] = []
        self._held_trades: dict[str, TradeData] = {}
        self._released: set[str] = set()
        self._early_commissions: dict[str, CommissionData] = {}

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Open and migrate the database, start the writer, load listings."""
        self._engine = open_database(self.main_engine.settings)
        self._url = display_url(self._engine.url)
        try:
            revision = ensure_schema(self._engine, auto_upgrade=self._settings.auto_upgrade)
        except BaseException:
            self._engine.dispose()
            self._engine = None
            raise
        self._writer = _Writer(self._engine)
        self._log.info("database {} at schema revision {}", self._url, revision)
        self.event_engine.register_gate(EVENT_TRADE, self.gate_trade_event)
        self.event_engine.register_gate(EVENT_COMMISSION, self.gate_commission_event)
        self.event_engine.register(EVENT_ORDER, self.process_order_event)
        self.event_engine.register(EVENT_CONTRACT, self.process_contract_event)
        self.event_engine.register(EVENT_TIMER, self.process_timer_event)
        if self._settings.load_listings_on_start:
            count = self.load_listings()
            self._log.info("loaded {} stored contracts", count)

    def close(self) -> None:
        """Write what is pending, stop the writer and release the connections."""
        self.event_engine.unregister_gate(EVENT_TRADE, self.gate_trade_event)
        self.event_engine.unregister_gate(EVENT_COMMISSION, self.gate_commission_event)
        self.event_engine.unregister(EVENT_ORDER, self.process_order_event)
        self.event_engine.unregister(EVENT_CONTRACT, self.process_contract_event)
        self.event_engine.unregister(EVENT_TIMER, self.process_timer_event)
        if self._writer is not None:
            self._flush_orders()
            self._flush_contracts()
            if not self._writer.stop(self._settings.write_timeout_s):
                self._log.error("the database writer did not finish within its timeout")
            self._writer = None
        for trade in self._held_trades.values():
            self._log.critical(
                "trade {} ({} {} {} @ {}) was never stored; the broker will report it again "
                "at the next reconciliation",
                trade.trade_id, trade.direction.value, trade.volume, trade.symbol, trade.price,
            )  # fmt: skip
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- event handlers (event thread) ----------------------------------------------------

    def gate_trade_event(self, event: Event) -> bool:
        """Commit a trade before any engine sees it; drop repeated execution ids."""
        trade: TradeData = event.data
        early = self._early_commissions.pop(trade.trade_id, None)
        if early is not None:
            trade = attrs.evolve(trade, commission=early.commission)
            event.data = trade
        if trade.trade_id in self._released:
            self._released.discard(trade.trade_id)
            return True
        if trade.trade_id in self._held_trades:
            return False  # already waiting for a retry
        # The order states before the fill first: the writer commits them together with
        # the trade, so a stored trade always has its order stored.
        self._flush_orders()
        try:
            is_new = self._write(repository.record_trade, trade).result(
                self._settings.write_timeout_s
            )
        except Exception:  # noqa: BLE001 - a fill must never be lost: hold it back
            self._held_trades[trade.trade_id] = trade
            self._log.opt(exception=True).critical(
                "could not store trade {}; held back and retried every timer", trade.trade_id
            )
            return False
        if not is_new:
            self._log.info("trade {} is already booked; ignored", trade.trade_id)
        return is_new

    def gate_commission_event(self, event: Event) -> bool:
        """Store a late commission in its trade before any engine sees it.

        A commission for a trade not stored yet is held and written with the trade; one
        that cannot be written is logged and dropped from the event (the broker reports
        it again at the next reconciliation).
        """
        commission: CommissionData = event.data
        if commission.trade_id in self._held_trades:
            held = self._held_trades[commission.trade_id]
            self._held_trades[commission.trade_id] = attrs.evolve(
                held, commission=commission.commission
            )
            return False
        try:
            stored = self._write(
                lambda connection, record: repository.set_trade_commission(
                    connection, record.trade_id, record.commission
                ),
                commission,
            ).result(self._settings.write_timeout_s)
        except Exception:  # noqa: BLE001 - logged; the rest of otrade goes on
            self._log.opt(exception=True).error(
                "could not store the commission of trade {}", commission.trade_id
            )
            return False
        if not stored:
            self._early_commissions[commission.trade_id] = commission
            self._log.debug("commission of trade {} held until the trade", commission.trade_id)
        return stored

    def process_order_event(self, event: Event) -> None:
        """Queue the order's state for its status history (the event thread does not wait).

        Order states are written in batches: before the next trade (in the same commit),
        on the timer, when ``ORDER_BATCH_SIZE`` are waiting, before an order is read, and
        at close.  So a fill never waits behind them, and a crash loses at most the order
        states of the last timer interval that led to no trade (brokers report open orders
        again at the next reconciliation); never a trade, nor the order of a stored trade.
        """
        with self._orders_lock:
            self._pending_orders.append(event.data)
            full = len(self._pending_orders) >= ORDER_BATCH_SIZE
        if full:
            self._flush_orders()

    def process_contract_event(self, event: Event) -> None:
        """Buffer contracts reported by gateways and write them in batches."""
        contract: ContractData = event.data
        if not contract.gateway_name:  # loaded from this database
            return
        self._pending_contracts.append(contract)
        if len(self._pending_contracts) >= CONTRACT_BATCH_SIZE:
            self._flush_contracts()

    def process_timer_event(self, event: Event) -> None:
        """Write buffered order states and contracts, and retry held-back trades."""
        self._flush_orders()
        self._flush_contracts()
        self._retry_held_trades()

    # -- writes ---------------------------------------------------------------------------

    def _submit(self, job: Callable[[Connection], T]) -> concurrent.futures.Future[T]:
        if self._writer is None:
            raise DatabaseError(f"database {self._url} is not open")
        return self._writer.submit(job)

    def _write(self, job: Callable[[Connection, R], T], record: R) -> concurrent.futures.Future[T]:
        return self._submit(lambda connection: job(connection, record))

    def _report_failure(self, what: str) -> Callable[[concurrent.futures.Future[Any]], None]:
        def report(future: concurrent.futures.Future[Any]) -> None:
            error = future.exception()
            if error is not None:
                self._log.error("could not store {}: {}", what, error)

        return report

    def _flush_orders(self) -> concurrent.futures.Future[None] | None:
        def record_all(connection: Connection) -> None:
            for order in batch:
                repository.record_order(connection, order)

        # Queued under the lock: batches taken by two threads reach the writer in the order
        # they were taken, so an older state never overwrites a newer one.
        with self._orders_lock:
            batch, self._pending_orders = self._pending_orders, []
            if not batch or self._writer is None:
                return None
            future = self._submit(record_all)
        future.add_done_callback(self._report_failure(f"{len(batch)} order states"))
        return future

    def _flush_contracts(self) -> None:
        if not self._pending_contracts or self._writer is None:
            return
        batch, self._pending_contracts = self._pending_contracts, []
        future = self.upsert_contracts(batch)
        future.add_done_callback(self._report_failure(f"{len(batch)} contracts"))

    def _retry_held_trades(self) -> None:
        for trade_id, trade in list(self._held_trades.items()):
            try:
                self._write(repository.record_trade, trade).result(self._settings.write_timeout_s)
            except Exception as error:  # noqa: BLE001 - still failing: keep holding
                self._log.critical("trade {} still cannot be stored: {}", trade_id, error)
                continue
            # New or already there (an earlier attempt committed after its wait timed
            # out): either way no engine has seen it yet, so release it.
            del self._held_trades[trade_id]
            self._released.add(trade_id)
            self.event_engine.put(Event(EVENT_TRADE, trade))
            self._log.warning("held-back trade {} stored and released", trade_id)

    def upsert_contracts(self, contracts: Sequence[ContractData]) -> concurrent.futures.Future[int]:
        """Insert or update listings and underlyings (idempotent) on the writer thread.

        Returns:
            A future of the number of contracts written.
        """
        batch = list(contracts)
        now = self._clock.now()
        return self._submit(lambda connection: repository.upsert_contracts(connection, batch, now))

    def purge_expired_listings(self) -> concurrent.futures.Future[int]:
        """Delete listings whose last trading day has passed in New York.

        Returns:
            A future of the number of listings deleted.
        """
        today = self.exchange_date()
        return self._submit(lambda connection: repository.purge_expired_listings(connection, today))

    def save_strategy(self, record: StrategyData) -> concurrent.futures.Future[None]:
        """Insert or replace a strategy record on the writer thread.

        Raises:
            ValueError: A parameter or variable is not JSON-serializable (raised here, at
                once, so nothing is queued).
        """
        repository.check_strategy(record)
        now = self._clock.now()
        return self._submit(lambda connection: repository.save_strategy(connection, record, now))

    def delete_strategy(self, name: str) -> concurrent.futures.Future[bool]:
        """Delete a strategy record on the writer thread (its orders and trades stay).

        Returns:
            A future of False when there was no record of that name.
        """
        return self._submit(lambda connection: repository.delete_strategy(connection, name))

    def flush(self, timeout_s: float | None = None) -> None:
        """Write buffered order states and contracts; wait for every write submitted so far."""
        self._flush_orders()
        self._flush_contracts()
        self._wait_for_writes(timeout_s)

    # -- reads (any thread) ---------------------------------------------------------------

    def _read(self, job: Callable[[Connection], T]) -> T:
        if self._engine is None:
            raise DatabaseError(f"database {self._url} is not open")
        with database_errors(self._engine.url), self._engine.connect() as connection:
            return job(connection)

    def exchange_date(self) -> date:
        """Today's date in the exchange's time zone, from the clock."""
        return self._clock.now().astimezone(EXCHANGE_TIME_ZONE).date()

    def load_listings(self, underlying: str | None = None) -> int:
        """Put every stored contract (or one underlying's) as a contract event.

        Contracts are read and put in batches, so memory stays bounded by what the
        handlers keep.

        Returns:
            The number of contracts put.
        """
        put = self.event_engine.put

        def put_all(connection: Connection) -> int:
            count = 0
            for batch in repository.iterate_listings(connection, underlying):
                for contract in batch:
                    put(Event(EVENT_CONTRACT, contract))
                count += len(batch)
            return count

        return self._read(put_all)

    def get_listings(self, underlying: str | None = None) -> list[ContractData]:
        """Every stored contract, or one underlying's, as a list."""
        return self._read(
            lambda connection: [
                contract
                for batch in repository.iterate_listings(connection, underlying)
                for contract in batch
            ]
        )

    def _settle_orders(self) -> None:
        future = self._flush_orders()
        if future is not None:
            future.result(self._settings.write_timeout_s)

    def get_order(self, order_id: str) -> OrderData | None:
        """The latest stored state of one order, or None (order states queued are written first)."""
        self._settle_orders()
        return self._read(lambda connection: repository.get_order(connection, order_id))

    def get_order_history(self, order_id: str) -> list[OrderStatusRecord]:
        """Every status one order passed through, oldest first (queued ones written first)."""
        self._settle_orders()
        return self._read(lambda connection: repository.order_history(connection, order_id))

    def has_trade(self, trade_id: str) -> bool:
        """True when a trade with this execution id is stored."""
        return self._read(lambda connection: repository.has_trade(connection, trade_id))

    def get_trades(self, strategy: str) -> list[TradeData]:
        """One strategy's trades in time order, from which its holding is rebuilt."""
        return self._read(lambda connection: repository.trades_for_strategy(connection, strategy))

    def get_all_trades(self) -> list[TradeData]:
        """Every strategy's trades in time order, from which all holdings are rebuilt."""
        return self._read(repository.all_trades)

    def _wait_for_writes(self, timeout_s: float | None = None) -> None:
        if self._writer is not None:
            self._writer.submit(lambda connection: None).result(
                timeout_s or self._settings.write_timeout_s
            )

    def get_strategy(self, name: str) -> StrategyData | None:
        """One strategy record, or None (after the writes submitted so far)."""
        self._wait_for_writes()
        return self._read(lambda connection: repository.load_strategy(connection, name))

    def get_strategies(self) -> list[StrategyData]:
        """Every strategy record, by name (after the writes submitted so far)."""
        self._wait_for_writes()
        return self._read(repository.load_strategies)
