"""Quote-to-order latency: a chain update put on the bus until the paper gateway has the order.

Everything runs as in production: a LiveClock, the threaded EventEngine, every built-in
engine (the DatabaseEngine on SQLite in a temporary directory, market data, positions,
risk checks, hedging, strategies) and the paper gateway.  The bench is the datafeed: it
puts the listings of the simulated SPY market (:class:`SimulatedMarket`) and quotes of the
underlying and of the chain nearest 30 days out on the bus, as a feed would, and puts the
same quotes again every 10 s so that they stay fresh (stale after 30 s); nothing else
quotes.

The strategy subscribes that chain and, in ``on_chain_update``, sends a one-contract
limit order for the ATM call at the far side (buying at the ask, then selling at the bid,
in turn, so its position stays within one contract): the order passes every risk rule,
the collar included, and fills on arrival.  The risk engine's rate and open-order limits
are raised so that they do not refuse this flow; any order refused anyway is counted.

The bench thread puts ``--updates`` EVENT_CHAIN_UPDATE events for the chain, one at a
time, taking ``perf_counter_ns()`` just before ``EventEngine.put``; the timed gateway (a
PaperGateway subclass) takes it on entering ``send_order``.  The next update is put once
the strategy saw its order end (filled: the trade is stored and booked) and ``--gap-us``
more, so updates do not queue behind the previous order's events.  ``fill_booked`` is the
time from the put to that moment.  The ``--warmup`` updates before the timed ones, and the
orders the requotes cause, are not timed.

Prints one JSON line: p50/p99/max latency in microseconds, count, refused, target_p99_us
(200) and met; and the anchor, measured in the same run: put to handler on a bare threaded
EventEngine with the same pacing (``anchor_bare_bus_hop``), the floor any handler pays on
this machine before it runs, with the ratio of the two p99s.

Usage: python bench/quote_to_order.py [--updates N] [--gap-us G] [--warmup W]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from otrade.clock import LiveClock
from otrade.constants import Direction, OptionRight, OrderType
from otrade.datafeeds.simulated import SimulatedMarket
from otrade.engine import MainEngine
from otrade.event import EVENT_CHAIN_UPDATE, EVENT_CONTRACT, EVENT_QUOTE, Event, EventEngine
from otrade.gateways.paper import PaperGateway
from otrade.marketdata import MarketDataEngine
from otrade.objects import ChainUpdateData, OrderData, OrderRequest, QuoteData
from otrade.plugins import PluginRegistry
from otrade.portfolio import ChainData, OptionData
from otrade.settings import (
    LogSettings,
    MarketDataSettings,
    RiskSettings,
    RunSettings,
    Settings,
)
from otrade.strategy import OptionStrategyEngine, OptionStrategyTemplate

UNDERLYING = "SPY"
GATEWAY = "timed"
TARGET_P99_US = 200
LOOSE = 10_000_000  # rate and open-order limits no bench run can reach
REQUOTE_S = 10.0  # quotes are stale after 30 s (marketdata and paper defaults)


class TimedPaperGateway(PaperGateway):
    """The paper gateway, noting when each order arrives (perf_counter_ns, by order id)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: dict[str, int] = {}

    def send_order(self, request: OrderRequest) -> str:
        arrived = time.perf_counter_ns()
        order_id = super().send_order(request)
        self.arrivals[order_id] = arrived
        return order_id


class OrderOnEveryUpdate(OptionStrategyTemplate):
    """Sends a one-contract far-side limit order for the ATM call on every chain update."""

    parameters = ("chain_key",)
    chain_key = ""

    def on_init(self) -> None:
        self.handled = threading.Event()  # on_chain_update returned
        self.settled = threading.Event()  # the order it sent ended (filled)
        self.settled_ns = 0
        self.last_order_id: str | None = None
        self.refused = 0
        self.buying = True

    def on_start(self) -> None:
        chain = self.get_chain(self.chain_key)
        strike = chain.nearest_strike(self.underlying.mid or 0.0)
        option = chain.get_option(OptionRight.CALL, strike) if strike is not None else None
        assert option is not None, f"no ATM call in {chain.key}"
        self.option: OptionData = option
        self.subscribe_chains([chain])

    def on_chain_update(self, chain: ChainData) -> None:
        option = self.option
        direction = Direction.LONG if self.buying else Direction.SHORT
        price = option.ask if self.buying else option.bid
        order_id = self.option_order(option, direction, 1, price, OrderType.LIMIT)
        if order_id is None:
            self.refused += 1
        else:
            self.buying = not self.buying
        self.last_order_id = order_id
        self.handled.set()

    def on_order(self, order: OrderData) -> None:
        if order.order_id == self.last_order_id and order.status.is_final:
            self.settled_ns = time.perf_counter_ns()
            self.settled.set()


def build(data_directory: Path) -> tuple[MainEngine, TimedPaperGateway]:
    risk = RiskSettings(
        max_open_orders=LOOSE,
        max_orders_per_second=LOOSE,
        max_orders_per_minute=LOOSE,
        max_global_orders_per_second=LOOSE,
        max_global_orders_per_minute=LOOSE,
    )
    settings = Settings(
        data_directory=data_directory,
        log=LogSettings(console=False, file=False),
        marketdata=MarketDataSettings(feed=""),  # the bench is the feed
        risk=risk,
        run=RunSettings(gateway=GATEWAY),
    )
    registry = PluginRegistry()
    registry.load(entry_points=False)
    clock = LiveClock()
    events = EventEngine(settings.event.timer_interval_s, clock)  # threaded, as in production
    main = MainEngine(settings, clock=clock, event_engine=events, plugins=registry)
    gateway = main.add_gateway(TimedPaperGateway, GATEWAY)
    assert isinstance(gateway, TimedPaperGateway)
    main.connect(GATEWAY, {})
    return main, gateway


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Bench:
    """The bench thread's side: it is the datafeed, and it puts and times the chain updates."""

    def __init__(self, main: MainEngine, gateway: TimedPaperGateway) -> None:
        self.main = main
        self.gateway = gateway
        self.put = main.event_engine.put
        marketdata = main.get_engine("marketdata")
        assert isinstance(marketdata, MarketDataEngine)
        self.marketdata = marketdata
        self.chain_key = ""
        self.quotes: list[QuoteData] = []
        self.quoted_at = 0.0

    def list_and_quote(self) -> None:
        """Put the listings, then quotes of the underlying and the chain nearest 30 days."""
        market = SimulatedMarket([UNDERLYING], self.main.clock.now())
        listings = market.listings
        for contract in listings:
            self.put(Event(EVENT_CONTRACT, contract))

        def listed() -> bool:
            portfolio = self.marketdata.get_portfolio(UNDERLYING)
            return portfolio is not None and portfolio.option_count == len(listings) - 1

        wait_for(listed, "the listings")
        portfolio = self.marketdata.get_portfolio(UNDERLYING)
        assert portfolio is not None
        chain = portfolio.nearest_chain(self.main.clock.now(), 30)
        assert chain is not None
        self.chain_key = chain.key
        options = chain.options
        quotes, _ = market.option_quotes([option.contract for option in options],
                                         [chain.expiry_time] * len(options))  # fmt: skip
        self.quotes = [market.underlying_quote(UNDERLYING), *quotes]
        self.requote()
        wait_for(lambda: all(option.quote_time is not None for option in options), "the quotes")

    def requote(self) -> None:
        """Put the same quotes stamped now, so they stay fresh (no older than 30 s)."""
        now = self.main.clock.now()
        for quote in self.quotes:
            self.put(Event(EVENT_QUOTE, attrs.evolve(quote, time=now)))
        self.quoted_at = time.monotonic()

    def refresh(self, strategy: OrderOnEveryUpdate) -> None:
        """Requote, and let the chain update it makes (and its untimed order) go through."""
        strategy.handled.clear()
        strategy.settled.clear()
        self.requote()
        if not strategy.handled.wait(5.0):
            raise TimeoutError("the requote made no chain update")
        if strategy.last_order_id is not None and not strategy.settled.wait(5.0):
            raise TimeoutError(f"order {strategy.last_order_id} did not end")

    def drive(
        self, strategy: OrderOnEveryUpdate, updates: int, warmup: int, gap_us: float
    ) -> tuple[list[int], list[int]]:
        """Put the chain updates one at a time.

        Returns:
            Each timed order's latency to the gateway, and to its end as the strategy saw
            it (fills booked), in nanoseconds.
        """
        to_gateway: list[int] = []
        to_settled: list[int] = []
        for number in range(warmup + updates):
            if time.monotonic() - self.quoted_at > REQUOTE_S:
                self.refresh(strategy)
            strategy.handled.clear()
            strategy.settled.clear()
            update = ChainUpdateData(underlying=UNDERLYING, chain_key=self.chain_key,
                                     time=self.main.clock.now())  # fmt: skip
            event = Event(EVENT_CHAIN_UPDATE, update)
            started = time.perf_counter_ns()
            self.put(event)
            if not strategy.handled.wait(5.0):
                raise TimeoutError(f"update {number} was not handled")
            order_id = strategy.last_order_id
            if order_id is not None:
                if not strategy.settled.wait(5.0):
                    raise TimeoutError(f"order {order_id} did not end")
                if number >= warmup:
                    to_gateway.append(self.gateway.arrivals[order_id] - started)
                    to_settled.append(strategy.settled_ns - started)
            time.sleep(gap_us / 1e6)
        return to_gateway, to_settled


def percentiles_us(samples: list[int]) -> dict[str, float | None]:
    ordered = sorted(samples)
    if not ordered:
        return {"p50_us": None, "p99_us": None, "max_us": None}
    return {
        "p50_us": round(statistics.median(ordered) / 1000, 1),
        "p99_us": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] / 1000, 1),
        "max_us": round(ordered[-1] / 1000, 1),
    }


def bus_hop(events: int, gap_us: float) -> list[int]:
    """The anchor: put to handler on a bare threaded EventEngine, paced the same way.

    What any handler waits for on this machine before doing anything (thread wake-up and
    the GIL hand-over), measured in the same run.
    """
    engine = EventEngine(1.0, LiveClock())
    handled = threading.Event()
    stamps: list[int] = []

    def handler(_event: Event) -> None:
        stamps.append(time.perf_counter_ns())
        handled.set()

    engine.register("bench_hop", handler)
    engine.start()
    samples: list[int] = []
    try:
        for _ in range(events):
            handled.clear()
            started = time.perf_counter_ns()
            engine.put(Event("bench_hop", None))
            if not handled.wait(5.0):
                raise TimeoutError("the bare bus did not answer")
            samples.append(stamps[-1] - started)
            time.sleep(gap_us / 1e6)
    finally:
        engine.stop()
    return samples[len(samples) // 10 :]


def run(updates: int, warmup: int, gap_us: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as data_directory:
        main, gateway = build(Path(data_directory))
        try:
            bench = Bench(main, gateway)
            bench.list_and_quote()
            time.sleep(1.2)  # past the first timer: stored strategies restored, Greeks computed
            engine = main.get_engine(OptionStrategyEngine.engine_name)
            assert isinstance(engine, OptionStrategyEngine)
            strategy = engine.add_strategy(OrderOnEveryUpdate, "bench", UNDERLYING,
                                           {"chain_key": bench.chain_key})  # fmt: skip
            assert isinstance(strategy, OrderOnEveryUpdate)
            engine.init_strategy("bench")
            engine.start_strategy("bench")
            to_gateway, to_settled = bench.drive(strategy, updates, warmup, gap_us)
            refused = strategy.refused
        finally:
            main.close()
    latency = percentiles_us(to_gateway)
    p99 = latency["p99_us"]
    anchor = percentiles_us(bus_hop(max(1000, updates // 5), gap_us))
    anchor_p99 = anchor["p99_us"]
    return {
        "benchmark": "quote_to_order",
        "updates": updates,
        "count": len(to_gateway),
        "refused": refused,
        **latency,
        "target_p99_us": TARGET_P99_US,
        "met": p99 is not None and p99 <= TARGET_P99_US,
        "fill_booked": percentiles_us(to_settled),
        "anchor_bare_bus_hop": anchor,
        "p99_over_bare_bus_hop_p99": (
            round(p99 / anchor_p99, 2) if p99 is not None and anchor_p99 else None
        ),
        "gap_us": gap_us,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--gap-us", type=float, default=200.0)
    arguments = parser.parse_args()
    print(json.dumps(run(arguments.updates, arguments.warmup, arguments.gap_us)))


if __name__ == "__main__":
    main()
