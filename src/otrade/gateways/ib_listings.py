"""Option listings from Interactive Brokers: discover, qualify, store, resume.

:class:`ListingSync` downloads every option listing of some underlyings (stocks, ETFs,
and indexes such as SPX) within an expiry window, using a connected ``ib_async.IB``:

1. the underlying is qualified as a stock, else as an index (well-known indexes such as
   SPX the other way round);
2. ``reqSecDefOptParams`` lists its option chains, one per (exchange, trading class):
   SPX gives SPX (AM-settled monthlies) and SPXW (PM-settled weeklies) apart, and
   adjusted roots come as their own trading classes;
3. per trading class and expiry within the window, one ``reqContractDetails`` for the
   partly specified option returns every listing of that expiry, with its ``conId``;
   ib_async paces the requests under IB's limit (45 messages a second), and a few run at
   once;
4. each listing's otrade symbol comes from its IB ``localSymbol`` (the padded OCC
   symbol), never from ``lastTradeDateOrContractMonth``: for AM-settled index monthlies
   that is the last trading day (a Thursday) while the OCC expiry is the Friday, which is
   kept as ``last_trade_date``;
5. each (trading class, expiry) is handed to ``store`` as one batch and then recorded in a
   small JSON state file, so an interrupted sync resumes where it stopped (on the same
   exchange date; ``restart=True`` starts over).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs
from loguru import logger

from otrade.clock import Clock
from otrade.constants import Exchange, ExpiryType, Product
from otrade.errors import GatewayError, SymbolError
from otrade.objects import ContractData
from otrade.symbols import from_ib_local_symbol, parse_option_symbol

__all__ = ["ListingSync", "SyncProgress", "SyncReport", "listing_from_details"]

NEW_YORK: Final = ZoneInfo("America/New_York")
# Underlyings looked up as an index before a stock.
KNOWN_INDEXES: Final = frozenset({"SPX", "XSP", "NDX", "RUT", "VIX", "DJX", "OEX", "XEO"})
# Contract-details requests in flight at once (ib_async paces the messages themselves).
CONCURRENT_REQUESTS: Final = 4


@attrs.frozen
class SyncProgress:
    """One step of a sync, for a progress display.

    Attributes:
        underlying: The underlying being synced.
        done: Units (trading class and expiry) finished for it, resumed ones included.
        total: Its units within the window.
        listings: Listings stored for it so far in this run.
        unit: The unit just finished ("" before the first).
    """

    underlying: str
    done: int
    total: int
    listings: int
    unit: str = ""


@attrs.frozen
class SyncReport:
    """What a sync did.

    Attributes:
        listings: Listings stored, by underlying.
        units: Units fetched in this run, by underlying.
        resumed: Units skipped because an earlier run finished them, by underlying.
        failed: Underlyings or units that failed, with the reason.
        seconds: Wall time on the clock.
    """

    listings: dict[str, int]
    units: dict[str, int]
    resumed: dict[str, int]
    failed: dict[str, str]
    seconds: float


def _expiry_type(expiry: date, trading_class: str, underlying: str) -> ExpiryType:
    third_friday = expiry.weekday() == 4 and 15 <= expiry.day <= 21
    if third_friday and trading_class == underlying:
        return ExpiryType.MONTHLY
    return ExpiryType.WEEKLY


def listing_from_details(details: Any, underlying: str) -> ContractData:
    """One IB ``ContractDetails`` of an option as an otrade listing.

    Raises:
        SymbolError: The ``localSymbol`` is not a padded OCC symbol.
    """
    contract = details.contract
    symbol = from_ib_local_symbol(contract.localSymbol)
    parsed = parse_option_symbol(symbol)
    last_trade = contract.lastTradeDateOrContractMonth[:8]
    last_trade_date = (
        datetime.strptime(last_trade, "%Y%m%d").date() if len(last_trade) == 8 else None
    )
    multiplier = int(float(contract.multiplier or 100))
    return ContractData(
        symbol=symbol,
        product=Product.OPTION,
        exchange=Exchange.SMART,
        name=details.longName or "",
        gateway_name="ib",
        multiplier=multiplier,
        min_tick=details.minTick if details.minTick > 0 else 0.01,
        currency=contract.currency or "USD",
        underlying_symbol=underlying,
        root=parsed.root,
        expiry=parsed.expiry,
        last_trade_date=last_trade_date if last_trade_date != parsed.expiry else None,
        strike=float(parsed.strike),
        right=parsed.right,
        expiry_type=_expiry_type(parsed.expiry, contract.tradingClass, underlying),
        broker_id=str(contract.conId),
    )


class ListingSync:
    """Downloads listings with a connected ``ib_async.IB`` (run it on that IB's loop).

    Args:
        ib: A connected ``ib_async.IB``.
        clock: For the window's first day and the state file's date (New York dates).
        store: Writes one batch of contracts (underlying or listings); called on the loop.
        state_path: The JSON file that lets an interrupted sync resume.
        window_days: Expiries from today to this many days ahead are synced.
        progress: Called after every unit (and once per underlying at the start).
    """

    def __init__(
        self,
        ib: Any,
        clock: Clock,
        store: Callable[[Sequence[ContractData]], None],
        state_path: Path,
        *,
        window_days: int = 60,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> None:
        if window_days < 0:
            raise ValueError(f"window_days must be >= 0, got {window_days}")
        self._ib = ib
        self._clock = clock
        self._store = store
        self._state_path = state_path
        self._window_days = window_days
        self._progress = progress or (lambda _step: None)
        self._log = logger.bind(source="ib-listings")

    async def run(self, underlyings: Sequence[str], *, restart: bool = False) -> SyncReport:
        """Sync ``underlyings`` one after another; return what was done.

        One underlying's failure is reported and the next goes on.
        """
        started = self._clock.timestamp()
        today = self._clock.now().astimezone(NEW_YORK).date()
        state = {} if restart else self._read_state(today)
        report = SyncReport({}, {}, {}, {}, 0.0)
        for underlying in underlyings:
            done: set[str] = set(state.get(underlying, []))
            state[underlying] = sorted(done)
            try:
                await self._sync_one(underlying, today, done, state, report)
            except (GatewayError, ConnectionError, OSError) as error:
                report.failed[underlying] = str(error)
                self._log.warning("listing sync of {} failed: {}", underlying, error)
        return attrs.evolve(report, seconds=self._clock.timestamp() - started)

    async def _sync_one(
        self,
        underlying: str,
        today: date,
        done: set[str],
        state: dict[str, list[str]],
        report: SyncReport,
    ) -> None:
        contract, product = await self._underlying(underlying)
        self._store(
            [
                ContractData(
                    symbol=underlying,
                    product=product,
                    exchange=Exchange.SMART,
                    gateway_name="ib",
                    currency=contract.currency or "USD",
                    broker_id=str(contract.conId),
                )
            ]
        )
        chains = await self._ib.reqSecDefOptParamsAsync(
            contract.symbol, "", contract.secType, contract.conId
        )
        smart = [chain for chain in chains if chain.exchange == "SMART"] or list(chains)
        last_day = today + timedelta(days=self._window_days)
        units: dict[str, tuple[str, str]] = {}
        for chain in smart:
            for expiration in chain.expirations:
                expiry = datetime.strptime(expiration, "%Y%m%d").date()
                if today <= expiry <= last_day:
                    units[f"{chain.tradingClass} {expiration}"] = (chain.tradingClass, expiration)
        ordered = sorted(units, key=lambda key: (units[key][1], units[key][0]))
        report.resumed[underlying] = sum(1 for key in ordered if key in done)
        report.units[underlying] = 0
        report.listings[underlying] = 0
        self._progress(SyncProgress(underlying, len(done & set(ordered)), len(ordered), 0))
        pending = [key for key in ordered if key not in done]
        slots = asyncio.Semaphore(CONCURRENT_REQUESTS)

        async def fetch(key: str) -> None:
            trading_class, expiration = units[key]
            async with slots:
                listings = await self._unit(contract, trading_class, expiration, underlying)
            self._store(listings)
            done.add(key)
            state[underlying] = sorted(done)
            self._write_state(today, state)
            report.units[underlying] += 1
            report.listings[underlying] += len(listings)
            self._progress(
                SyncProgress(
                    underlying,
                    len(done & set(ordered)),
                    len(ordered),
                    report.listings[underlying],
                    key,
                )
            )

        tasks = [asyncio.ensure_future(fetch(key)) for key in pending]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # Stop the other expiries before reporting: the state file then lists exactly
            # the expiries stored, and nothing is written after the failure.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _underlying(self, symbol: str) -> tuple[Any, Product]:
        import ib_async  # noqa: PLC0415 - the gateway's optional dependency

        stock = ib_async.Stock(symbol, "SMART", "USD")
        index = ib_async.Index(symbol, "", "USD")
        # Well-known indexes are asked for as indexes first, sparing IB an error 200.
        for wanted in (index, stock) if symbol in KNOWN_INDEXES else (stock, index):
            details = await self._ib.reqContractDetailsAsync(wanted)
            if not details:
                continue
            if wanted is index:
                return details[0].contract, Product.INDEX
            kind = (details[0].stockType or "").upper()
            return details[0].contract, Product.ETF if kind == "ETF" else Product.EQUITY
        raise GatewayError(f"IB knows no stock or index {symbol!r}")

    async def _unit(
        self, underlying_contract: Any, trading_class: str, expiration: str, underlying: str
    ) -> list[ContractData]:
        import ib_async  # noqa: PLC0415 - the gateway's optional dependency

        wanted = ib_async.Option(
            symbol=underlying_contract.symbol,
            lastTradeDateOrContractMonth=expiration,
            exchange="SMART",
            currency=underlying_contract.currency or "USD",
            tradingClass=trading_class,
        )
        details = await self._ib.reqContractDetailsAsync(wanted)
        listings = []
        for item in details:
            try:
                listings.append(listing_from_details(item, underlying))
            except (SymbolError, ValueError) as error:
                self._log.warning(
                    "listing {} skipped: {}", getattr(item.contract, "localSymbol", "?"), error
                )
        return listings

    # -- resume state ---------------------------------------------------------------------

    def _read_state(self, today: date) -> dict[str, list[str]]:
        try:
            saved = json.loads(self._state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(saved, dict) or saved.get("date") != today.isoformat():
            return {}
        done = saved.get("done")
        if not isinstance(done, dict):
            return {}
        return {
            str(key): [str(unit) for unit in units]
            for key, units in done.items()
            if isinstance(units, list)
        }

    def _write_state(self, today: date, state: dict[str, list[str]]) -> None:
        self._state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._state_path.with_suffix(".tmp")
        temporary.write_text(
            json.dumps({"date": today.isoformat(), "done": state}, indent=1), encoding="utf-8"
        )
        os.replace(temporary, self._state_path)
