"""``otrade contracts sync|list|purge``: option listings in the database.

``sync`` connects to TWS or IB Gateway read-only, runs
:class:`~otrade.gateways.ib_listings.ListingSync` with a progress bar, and writes every
batch to the database as it arrives; an interrupted sync resumes on the same day.  ``list``
prints the stored listings per underlying, root and expiry.  ``purge`` deletes the
listings whose last trading day has passed.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from sqlalchemy import Engine

from otrade.clock import LiveClock
from otrade.database import repository
from otrade.database.connection import display_url, open_database, resolve_url
from otrade.database.migrate import ensure_schema
from otrade.errors import GatewayError
from otrade.gateways.ib_listings import ListingSync, SyncProgress, SyncReport
from otrade.objects import ContractData
from otrade.settings import Settings

__all__ = ["run_contracts_command"]

NEW_YORK = ZoneInfo("America/New_York")
STATE_FILE = "ib-listing-sync.json"


def run_contracts_command(settings: Settings, arguments: argparse.Namespace) -> int:
    """Run one ``contracts`` subcommand; returns the exit status.

    Raises:
        DatabaseError: The database cannot be opened or has a newer schema.
        GatewayError: IB cannot be reached.
    """
    engine = open_database(settings)
    try:
        ensure_schema(engine, auto_upgrade=settings.database.auto_upgrade)
        print(f"database: {display_url(resolve_url(settings))}")
        if arguments.contracts_command == "sync":
            return _sync(settings, engine, arguments)
        if arguments.contracts_command == "list":
            return _list(engine, arguments.underlyings)
        return _purge(engine)
    finally:
        engine.dispose()


def _sync(settings: Settings, engine: Engine, arguments: argparse.Namespace) -> int:
    clock = LiveClock()

    def store(contracts: Sequence[ContractData]) -> None:
        with engine.begin() as connection:
            repository.upsert_contracts(connection, contracts, clock.now())

    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("expiries  {task.fields[listings]} listings"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(step: SyncProgress) -> None:
            if step.underlying not in tasks:
                tasks[step.underlying] = bar.add_task(step.underlying, total=step.total,
                                                      listings=0)  # fmt: skip
            bar.update(tasks[step.underlying], completed=step.done, total=step.total,
                       listings=step.listings)  # fmt: skip

        report = asyncio.run(_run_sync(settings, arguments, clock, store, progress))
    for underlying, count in report.listings.items():
        print(
            f"{underlying}: {count} listings from {report.units[underlying]} expiries "
            f"({report.resumed[underlying]} already synced today)"
        )
    for underlying, reason in report.failed.items():
        print(f"{underlying}: failed: {reason}")
    total = sum(report.listings.values())
    rate = total / report.seconds if report.seconds > 0 else 0.0
    print(f"{total} listings in {report.seconds:.1f} s ({rate:.0f} a second)")
    return 1 if report.failed else 0


async def _run_sync(
    settings: Settings,
    arguments: argparse.Namespace,
    clock: LiveClock,
    store: Callable[[Sequence[ContractData]], None],
    progress: Callable[[SyncProgress], None],
) -> SyncReport:
    import ib_async  # noqa: PLC0415 - only this command needs it

    ib = ib_async.IB()
    try:
        await ib.connectAsync(
            arguments.host,
            arguments.port,
            clientId=arguments.client_id,
            timeout=arguments.timeout,
            readonly=True,
        )
    except (OSError, TimeoutError, ConnectionError) as error:
        raise GatewayError(
            f"cannot connect to IB at {arguments.host}:{arguments.port} "
            f"(client id {arguments.client_id}): {error!r}"
        ) from None
    try:
        sync = ListingSync(
            ib,
            clock,
            store,
            settings.data_directory / STATE_FILE,
            window_days=arguments.days,
            progress=progress,
        )
        return await sync.run(arguments.underlyings, restart=arguments.restart)
    finally:
        ib.disconnect()


def _list(engine: Engine, underlyings: Sequence[str]) -> int:
    with engine.connect() as connection:
        counts = repository.listing_counts(connection, underlyings)
    if not counts:
        print("no listings stored" + (f" for {', '.join(underlyings)}" if underlyings else ""))
        return 0
    print(f"{'underlying':<10} {'root':<8} {'expiry':<10} {'listings':>8}")
    for row in counts:
        print(f"{row.underlying:<10} {row.root:<8} {row.expiry.isoformat():<10} {row.count:>8}")
    print(f"{sum(row.count for row in counts)} listings")
    return 0


def _purge(engine: Engine) -> int:
    today = LiveClock().now().astimezone(NEW_YORK).date()
    with engine.begin() as connection:
        deleted = repository.purge_expired_listings(connection, today)
    print(f"deleted {deleted} expired listings (before {today.isoformat()})")
    return 0
