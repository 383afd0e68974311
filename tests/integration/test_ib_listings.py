"""Listing sync (real ib_async) against the TWS fake, and ``otrade contracts``."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from otrade.cli import main
from otrade.clock import SimulatedClock
from otrade.constants import ExpiryType, OptionRight, Product
from otrade.gateways.ib_listings import ListingSync, SyncProgress, SyncReport
from otrade.objects import ContractData
from tests.fakes.tws import SPX_CON_ID, FakeTws, running_tws

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


class SyncStoppedError(Exception):
    """Stands in for a Ctrl-C in the middle of a sync."""


@pytest.fixture
def fake() -> Iterator[FakeTws]:
    with running_tws(today=date(2026, 12, 2)) as server:
        yield server


def sync(
    fake: FakeTws,
    state: Path,
    store: Callable[[Sequence[ContractData]], None],
    underlyings: Sequence[str],
    client_id: int = 5,
    **options: object,
) -> tuple[SyncReport, list[SyncProgress]]:
    import ib_async

    steps: list[SyncProgress] = []

    async def run() -> SyncReport:
        ib = ib_async.IB()
        await ib.connectAsync(fake.host, fake.port, clientId=client_id, timeout=3, readonly=True)
        try:
            listing = ListingSync(ib, SimulatedClock(NOW), store, state, window_days=30,
                                  progress=steps.append)  # fmt: skip
            return await listing.run(underlyings, **options)  # type: ignore[arg-type]
        finally:
            ib.disconnect()

    return asyncio.run(run()), steps


def test_spy_and_spx_listings_keep_roots_apart_and_match_by_local_symbol(fake, tmp_path):
    stored: list[ContractData] = []
    report, steps = sync(fake, tmp_path / "state.json", stored.extend, ["SPY", "SPX"])
    by_symbol = {contract.symbol: contract for contract in stored}
    assert report.listings == {"SPY": 18, "SPX": 12}
    assert report.failed == {}
    assert by_symbol["SPY"].product is Product.ETF
    spx = by_symbol["SPX"]
    assert (spx.product, spx.broker_id) == (Product.INDEX, str(SPX_CON_ID))
    monthly = by_symbol["SPX261218C05000000"]
    assert (monthly.root, monthly.expiry, monthly.last_trade_date, monthly.expiry_type) == (
        "SPX", date(2026, 12, 18), date(2026, 12, 17), ExpiryType.MONTHLY)  # fmt: skip
    weekly = by_symbol["SPXW261218C05000000"]
    assert (weekly.root, weekly.expiry, weekly.last_trade_date, weekly.expiry_type) == (
        "SPXW", date(2026, 12, 18), None, ExpiryType.WEEKLY)  # fmt: skip
    assert (weekly.underlying_symbol, weekly.strike, weekly.right, weekly.min_tick) == (
        "SPX", 5000.0, OptionRight.CALL, 0.05)  # fmt: skip
    assert weekly.broker_id != monthly.broker_id
    spy = by_symbol["SPY261204P00440000"]
    assert (spy.multiplier, spy.expiry_type, spy.gateway_name) == (100, ExpiryType.WEEKLY, "ib")
    assert by_symbol["SPY261218P00440000"].expiry_type is ExpiryType.MONTHLY
    assert steps[-1].underlying == "SPX"
    assert steps[-1].done == steps[-1].total


def test_an_interrupted_sync_resumes_where_it_stopped(fake, tmp_path):
    state = tmp_path / "state.json"
    stored: list[ContractData] = []

    def store_until_interrupted(contracts: Sequence[ContractData]) -> None:
        if len(stored) >= 1 + 6:  # the underlying, then one expiry
            raise SyncStoppedError
        stored.extend(contracts)

    with pytest.raises(SyncStoppedError):
        sync(fake, state, store_until_interrupted, ["SPY"])
    saved = json.loads(state.read_text())
    assert saved["date"] == "2026-12-02"
    assert saved["done"] == {"SPY": ["SPY 20261204"]}
    resumed: list[ContractData] = []
    # Another client id: requests of the first run may still be in flight.
    report, _ = sync(fake, state, resumed.extend, ["SPY"], client_id=6)
    assert (report.resumed, report.units, report.listings) == ({"SPY": 1}, {"SPY": 2}, {"SPY": 12})
    # the stock's details and the two remaining expiries: three requests, not four
    assert len(fake.received(msg_id=9, client_id=6)) == 3
    assert {c.expiry for c in resumed if c.product is Product.OPTION} == {
        date(2026, 12, 11), date(2026, 12, 18)}  # fmt: skip
    again, _ = sync(fake, state, resumed.extend, ["SPY"], restart=True)
    assert again.resumed == {"SPY": 0}


def test_an_unknown_underlying_fails_alone(fake, tmp_path):
    stored: list[ContractData] = []
    report, _ = sync(fake, tmp_path / "state.json", stored.extend, ["NOPE", "SPY"])
    assert report.failed == {"NOPE": "IB knows no stock or index 'NOPE'"}
    assert report.listings == {"SPY": 18}


@pytest.fixture
def config(tmp_path, monkeypatch) -> str:
    for name in [name for name in os.environ if name.startswith("OTRADE_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "otrade.toml"
    path.write_text(f"data_directory = {json.dumps(str(tmp_path / 'data'))}\n", encoding="utf-8")
    return str(path)


def test_the_contracts_commands_sync_list_and_purge(fake, config, capsys):
    port = str(fake.port)
    assert main(["--config", config, "contracts", "sync", "spy", "SPX", "--port", port,
                 "--client-id", "11", "--days", "60"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "SPY: 18 listings from 3 expiries (0 already synced today)" in out
    assert "SPX: 12 listings from 3 expiries (0 already synced today)" in out
    assert "30 listings in " in out
    assert main(["--config", config, "contracts", "list", "SPX"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "SPX        SPX      2026-12-18        4" in lines
    assert "SPX        SPXW     2026-12-18        4" in lines
    assert lines[-1] == "12 listings"
    assert main(["--config", config, "contracts", "purge"]) == 0
    assert "deleted 0 expired listings" in capsys.readouterr().out


def test_sync_names_an_unreachable_gateway(config, capsys):
    assert main(["--config", config, "contracts", "sync", "SPY", "--port", "1",
                 "--timeout", "1"]) == 2  # fmt: skip
    assert "cannot connect to IB at 127.0.0.1:1 (client id 99)" in capsys.readouterr().err
