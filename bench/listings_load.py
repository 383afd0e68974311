"""Listing storage: bulk upsert and load of 1,000,000 option listings against a raw floor.

Builds a SQLite database of ``--listings`` option listings over 50 underlyings with about
40 expiries each, then times, each in a fresh process so peak RSS is its own:

  (a) the bulk upsert through the repository (rows/s);
  (b) loading every listing into the ContractData records the MarketDataEngine consumes;
  (c) loading one underlying (about 20,000 listings);
  (d) the floor: raw ``sqlite3`` ``SELECT * FROM option_listings`` with ``fetchall()``.

Prints one JSON line with seconds, peak RSS and the ratios of (b) to (d).
Usage: python bench/listings_load.py [--listings N] [--directory DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

UNDERLYINGS = 50
EXPIRIES = 40


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings_for(path: Path):
    from otrade.settings import DatabaseSettings, Secret, Settings

    return Settings(
        data_directory=path.parent, database=DatabaseSettings(url=Secret(f"sqlite:///{path}"))
    )


def make_listings(total: int):
    from otrade.constants import Exchange, ExpiryType, OptionRight, Product
    from otrade.objects import ContractData
    from otrade.symbols import build_option_symbol

    per_expiry = max(2, total // (UNDERLYINGS * EXPIRIES))
    strikes = per_expiry // 2
    first = date(2027, 1, 1)
    made = 0
    for number in range(UNDERLYINGS):
        symbol = f"U{number:02d}"
        for week in range(EXPIRIES):
            expiry = first + timedelta(weeks=week)
            for index in range(strikes):
                strike = 10.0 + index * 0.5
                for right in OptionRight:
                    if made == total:
                        return
                    made += 1
                    yield ContractData(
                        symbol=build_option_symbol(symbol, expiry, right, strike),
                        product=Product.OPTION,
                        exchange=Exchange.SMART,
                        multiplier=100,
                        underlying_symbol=symbol,
                        root=symbol,
                        expiry=expiry,
                        last_trade_date=expiry,
                        strike=strike,
                        right=right,
                        expiry_type=ExpiryType.WEEKLY,
                        broker_id=str(made),
                    )


def step_upsert(path: Path, total: int) -> dict[str, float]:
    from otrade.database import repository
    from otrade.database.connection import open_database
    from otrade.database.migrate import ensure_schema

    engine = open_database(settings_for(path))
    ensure_schema(engine, auto_upgrade=True)
    listings = list(make_listings(total))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    started = time.perf_counter()
    for offset in range(0, len(listings), 50_000):
        with engine.begin() as connection:
            repository.upsert_contracts(connection, listings[offset : offset + 50_000], now)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {
        "seconds": round(elapsed, 3),
        "rows_per_s": round(len(listings) / elapsed),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def step_load(path: Path, underlying: str | None) -> dict[str, float]:
    from otrade.database import repository
    from otrade.database.connection import open_database

    engine = open_database(settings_for(path))
    baseline = peak_rss_mb()
    started = time.perf_counter()
    with engine.connect() as connection:
        loaded = [c for batch in repository.iterate_listings(connection, underlying) for c in batch]
    elapsed = time.perf_counter() - started
    result = {
        "seconds": round(elapsed, 3),
        "count": len(loaded),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_growth_mb": round(peak_rss_mb() - baseline, 1),
    }
    engine.dispose()
    return result


def step_floor(path: Path) -> dict[str, float]:
    import otrade.database.repository  # noqa: F401 - same imports as step_load, same baseline
    from otrade.database.connection import open_database

    open_database(settings_for(path)).dispose()
    baseline = peak_rss_mb()
    started = time.perf_counter()
    connection = sqlite3.connect(path)
    rows = connection.execute("SELECT * FROM option_listings").fetchall()
    elapsed = time.perf_counter() - started
    result = {
        "seconds": round(elapsed, 3),
        "count": len(rows),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_growth_mb": round(peak_rss_mb() - baseline, 1),
    }
    connection.close()
    return result


def run_step(step: str, path: Path, argument: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--step", step, "--path", str(path), "--argument", argument],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--directory", default=None)
    parser.add_argument("--step", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--path", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--argument", default="", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.step:
        path = Path(arguments.path)
        if arguments.step == "upsert":
            print(json.dumps(step_upsert(path, int(arguments.argument))))
        elif arguments.step == "load":
            print(json.dumps(step_load(path, arguments.argument or None)))
        else:
            print(json.dumps(step_floor(path)))
        return

    with tempfile.TemporaryDirectory(dir=arguments.directory) as directory:
        path = Path(directory) / "listings.db"
        upsert = run_step("upsert", path, str(arguments.listings))
        load_all = run_step("load", path, "")
        load_one = run_step("load", path, "U07")
        floor = run_step("floor", path, "")
    print(
        json.dumps(
            {
                "benchmark": "listings_load",
                "listings": arguments.listings,
                "a_upsert": upsert,
                "b_load_all": load_all,
                "c_load_one_underlying": load_one,
                "d_raw_sqlite3_floor": floor,
                "b_time_vs_floor": round(load_all["seconds"] / floor["seconds"], 2),
                "b_memory_vs_floor": round(load_all["rss_growth_mb"] / floor["rss_growth_mb"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
