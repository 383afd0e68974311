"""IB listing sync rate, order round trip and reconnect time against the TWS fake.

Everything is real except TWS: ib_async talks to the fake of ``tests/fakes/tws.py`` over
127.0.0.1 at server version 178.

* ``a_listing_sync``: :class:`~otrade.gateways.ib_listings.ListingSync` over one
  underlying with ``--expiries`` Friday expiries of ``--strikes`` strikes, calls and puts,
  storing into a SQLite file through the repository (as ``otrade contracts sync`` does):
  listings per second and contract-details requests made.  The fake answers at once, so
  this measures otrade and ib_async, not IB, whose contract details take 0.1-1 s each.
* ``b_order_round_trip``: ``--orders`` limit orders, ``--rate`` a second, through a
  MainEngine with the IB gateway: time from ``send_order`` to the NOT_TRADED
  acknowledgement (p50, p99), then from the fill to the stored trade.  Sent faster than
  about 45 a second, the orders meet ib_async's own throttle (45 client messages a
  second, under IB's pacing limit of 50), which queues them: at full speed a few
  acknowledgements then take 0.5 s.
* ``c_reconnect``: the fake drops the connection and refuses connects for
  ``--down-s`` seconds, one order fills meanwhile; the time from the fake's return to
  the gateway's reconnection with that fill booked (reconnect backoff 0.05 s doubling to
  0.5 s).

Prints one JSON line.

Usage: python bench/ib_gateway.py [--expiries E] [--strikes S] [--orders N] [--down-s D]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.fakes

from tests.fakes.tws import option, running_tws, stock

from otrade.clock import LiveClock, SimulatedClock
from otrade.constants import Direction, Exchange, OrderType, Product, Status
from otrade.database import repository
from otrade.database.connection import open_database
from otrade.database.migrate import ensure_schema
from otrade.engine import MainEngine
from otrade.event import EVENT_CONTRACT, EVENT_ORDER, EVENT_TRADE, Event, EventEngine
from otrade.gateways.ib_listings import ListingSync
from otrade.objects import ContractData, OrderRequest
from otrade.plugins import PluginRegistry
from otrade.settings import LogSettings, MarketDataSettings, Settings
from otrade.symbols import from_ib_local_symbol, parse_option_symbol

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def market(expiries: int, strikes: int) -> list[Any]:
    underlying = stock(900000, "XYZ", long_name="XYZ CORP")
    contracts = [underlying]
    con_id = 900001
    first_friday = TODAY + timedelta(days=(4 - TODAY.weekday()) % 7)
    for week in range(expiries):
        expiry = first_friday + timedelta(weeks=week)
        for number in range(strikes):
            for right in ("C", "P"):
                contracts.append(option(con_id, underlying, expiry, right, 50.0 + number))
                con_id += 1
    return contracts


def bench_listing_sync(fake: Any, directory: Path) -> dict[str, object]:
    import ib_async

    settings = Settings(data_directory=directory, log=LogSettings(console=False))
    engine = open_database(settings)
    ensure_schema(engine, auto_upgrade=True)

    def store(contracts: Any) -> None:
        with engine.begin() as connection:
            repository.upsert_contracts(connection, contracts, NOW)

    async def run() -> Any:
        ib = ib_async.IB()
        await ib.connectAsync(fake.host, fake.port, clientId=3, timeout=5, readonly=True)
        try:
            sync = ListingSync(ib, SimulatedClock(NOW), store, directory / "state.json",
                               window_days=400)  # fmt: skip
            started = time.perf_counter()
            report = await sync.run(["XYZ"])
            return report, time.perf_counter() - started
        finally:
            ib.disconnect()

    requests_before = len(fake.received(msg_id=9))
    report, seconds = asyncio.run(run())
    engine.dispose()
    listings = report.listings["XYZ"]
    return {
        "listings": listings,
        "contract_details_requests": len(fake.received(msg_id=9)) - requests_before,
        "seconds": round(seconds, 3),
        "listings_per_s": round(listings / seconds),
    }


class Session:
    def __init__(self, fake: Any, directory: Path) -> None:
        self.fake = fake
        clock = LiveClock()
        settings = Settings(data_directory=directory, log=LogSettings(console=False),
                            marketdata=MarketDataSettings(feed=""))  # fmt: skip
        registry = PluginRegistry()
        registry.load(entry_points=False)
        self.events = EventEngine(clock=clock, threaded=False)
        self.main = MainEngine(settings, clock=clock, plugins=registry, event_engine=self.events)
        self.acks: dict[str, float] = {}
        self.stored: dict[str, float] = {}
        self.orders: dict[str, Any] = {}
        self.events.register(EVENT_ORDER, self._order)
        self.events.register(EVENT_TRADE, self._trade)
        options = [c for c in fake.contracts if c.sec_type == "OPT"][:1]
        self.symbol = from_ib_local_symbol(options[0].local_symbol)
        parsed = parse_option_symbol(self.symbol)
        self.events.put(Event(EVENT_CONTRACT, ContractData(
            symbol=self.symbol, product=Product.OPTION, exchange=Exchange.SMART, multiplier=100,
            underlying_symbol="XYZ", root=parsed.root, expiry=parsed.expiry,
            strike=float(parsed.strike), right=parsed.right, broker_id=str(options[0].con_id),
        )))  # fmt: skip
        self.main.connect("ib", {"host": fake.host, "port": fake.port, "client_id": 8,
                                 "reconnect_min_s": 0.05, "reconnect_max_s": 0.5})  # fmt: skip
        self.wait(lambda: self.main.get_gateway("ib").connected)

    def _order(self, event: Event) -> None:
        self.orders[event.data.order_id] = event.data
        if event.data.status is Status.NOT_TRADED:
            self.acks.setdefault(event.data.order_id, time.perf_counter())

    def _trade(self, event: Event) -> None:
        self.stored.setdefault(event.data.order_id, time.perf_counter())

    def wait(self, predicate: Any, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            self.events.process_pending(timers=False)
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met")
            time.sleep(0.0005)

    def send(self) -> tuple[str, float]:
        request = OrderRequest(symbol=self.symbol, direction=Direction.LONG,
                               order_type=OrderType.LIMIT, volume=1, price=1.0)  # fmt: skip
        started = time.perf_counter()
        return self.main.send_order(request, "ib"), started

    def ib_id(self, order_id: str) -> int:
        self.wait(lambda: bool(getattr(self.orders.get(order_id), "broker_order_id", "")))
        return int(self.orders[order_id].broker_order_id)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_orders(session: Session, count: int, rate: float) -> dict[str, object]:
    acks, fills = [], []
    next_start = time.perf_counter()
    for _ in range(count):
        time.sleep(max(0.0, next_start - time.perf_counter()))
        next_start += 1.0 / rate
        order_id, started = session.send()
        session.wait(lambda order_id=order_id: order_id in session.acks)
        acks.append(session.acks[order_id] - started)
        ib_id = session.ib_id(order_id)
        filled = time.perf_counter()
        session.fake.fill(ib_id, 1, 1.0, client_id=8)
        session.wait(lambda order_id=order_id: order_id in session.stored)
        fills.append(session.stored[order_id] - filled)
    return {
        "orders": count,
        "orders_per_s": rate,
        "ack_p50_ms": round(statistics.median(acks) * 1000, 2),
        "ack_p99_ms": round(percentile(acks, 0.99) * 1000, 2),
        "fill_to_stored_trade_p50_ms": round(statistics.median(fills) * 1000, 2),
        "fill_to_stored_trade_p99_ms": round(percentile(fills, 0.99) * 1000, 2),
    }


def bench_reconnect(session: Session, down_s: float) -> dict[str, object]:
    order_id, _ = session.send()
    ib_id = session.ib_id(order_id)
    session.fake.wait_for_order(ib_id, client_id=8)
    gateway = session.main.get_gateway("ib")
    session.fake.drop_connections(stay_down=True)
    session.wait(lambda: not gateway.connected)
    session.fake.fill(ib_id, 1, 1.0, client_id=8)
    time.sleep(down_s)
    restored = time.perf_counter()
    session.fake.restore()
    session.wait(lambda: gateway.connected)
    connected = time.perf_counter()
    session.wait(lambda: order_id in session.stored)
    booked = time.perf_counter()
    return {
        "down_s": down_s,
        "reconnected_after_s": round(connected - restored, 3),
        "fill_booked_after_s": round(booked - restored, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expiries", type=int, default=20)
    parser.add_argument("--strikes", type=int, default=100)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--down-s", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second")
    arguments = parser.parse_args()
    contracts = market(arguments.expiries, arguments.strikes)
    with tempfile.TemporaryDirectory() as temporary, running_tws(contracts, today=TODAY) as fake:
        directory = Path(temporary)
        result: dict[str, object] = {"benchmark": "ib_gateway"}
        result["a_listing_sync"] = bench_listing_sync(fake, directory / "sync")
        session = Session(fake, directory / "session")
        try:
            result["b_order_round_trip"] = bench_orders(session, arguments.orders, arguments.rate)
            result["c_reconnect"] = bench_reconnect(session, arguments.down_s)
        finally:
            session.main.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
