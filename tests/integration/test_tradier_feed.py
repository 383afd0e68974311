"""TradierDataFeed (real IoLoop, real httpx) against the fake Tradier servers on 127.0.0.1.

The feed, the fake's rate window and the quote stamps share one accelerated SimulatedClock,
so minutes of polling take seconds.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from otrade.clock import SimulatedClock
from otrade.constants import Exchange, ExpiryType, OptionRight, Product
from otrade.datafeeds.base import ActiveChain
from otrade.datafeeds.ratelimit import RequestBudget
from otrade.datafeeds.tradier import TradierDataFeed, _Call, _Scheduler
from otrade.event import EVENT_CONTRACT, EVENT_GREEKS, EVENT_LOG, EVENT_QUOTE, EventEngine
from otrade.ioloop import IoLoop
from otrade.objects import ContractData, GreeksData, LogData, QuoteData
from otrade.settings import LogSettings, Secret, Settings, TradierSettings
from tests.fakes.tradier_server import TOKEN, FakeTradier, running_fake
from tests.fakes.tradier_stream_server import running_stream

START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 New York
FIRST_FRIDAY = date(2026, 12, 4)
THIRD_FRIDAY = date(2026, 12, 18)
CHAINS = "/v1/markets/options/chains"
QUOTES = "/v1/markets/quotes"


def spy(weeks: int) -> ActiveChain:
    return ActiveChain("SPY", "SPY", FIRST_FRIDAY + timedelta(weeks=weeks))


class Harness:
    """A feed on its own IoLoop, with a synchronous EventEngine collecting its events."""

    feed: TradierDataFeed

    def __init__(self, fake: FakeTradier, clock: SimulatedClock, tmp_path) -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        self.clock = clock
        self.events = EventEngine(clock=clock, threaded=False)
        self.quotes: list[QuoteData] = []
        self.greeks: list[GreeksData] = []
        self.logs: list[LogData] = []
        self.contracts: list[ContractData] = []
        self.events.register(EVENT_CONTRACT, lambda event: self.contracts.append(event.data))
        self.events.register(EVENT_QUOTE, lambda event: self.quotes.append(event.data))
        self.events.register(EVENT_GREEKS, lambda event: self.greeks.append(event.data))
        self.events.register(EVENT_LOG, lambda event: self.logs.append(event.data))
        self.io = IoLoop("test-tradier-io")
        self.io.start()

    def build(self, **tradier: object) -> None:
        options: dict[str, object] = {"token": Secret(TOKEN), "base_url": self.fake.url,
                                      "requests_per_minute": self.fake.limit_per_minute,
                                      "timeout_s": 0.3}  # fmt: skip
        settings = Settings(
            data_directory=self.tmp_path,
            log=LogSettings(console=False, file=False),
            tradier=TradierSettings(**(options | tradier)),  # type: ignore[arg-type]
        )
        self.feed = TradierDataFeed(self.events, self.clock, self.io, settings)

    def pump(self) -> None:
        self.events.process_pending(timers=False)

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self.pump()
            if predicate():
                return
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.01)

    def settle(self, real_s: float) -> None:
        time.sleep(real_s)
        self.pump()

    def symbols_quoted(self, source: str = "tradier") -> set[str]:
        return {quote.symbol for quote in self.quotes if quote.source == source}

    def log_lines(self, level: str) -> list[str]:
        return [record.message for record in self.logs if record.level == level]

    def requests_for(self, path: str) -> list[dict[str, str]]:
        return [params for (_, _, p), params in zip(self.fake.requests, self.fake.params,
                                                     strict=True) if p == path]  # fmt: skip

    def close(self) -> None:
        if hasattr(self, "feed"):
            self.feed.close()
        self.io.stop()


@pytest.fixture
def make_harness(tmp_path) -> Iterator[Callable[..., Harness]]:
    """Builds a fake Tradier and a feed sharing a SimulatedClock; closes both afterwards."""
    with contextlib.ExitStack() as stack:

        def make(
            *, speed: float = 20.0, limit: int = 300, build: bool = True, **tradier: object
        ) -> Harness:
            clock = SimulatedClock(START, speed=speed)
            fake = stack.enter_context(
                running_fake(clock=clock, limit_per_minute=limit, timeout_delay_s=0.5)
            )
            harness = Harness(fake, clock, tmp_path)
            stack.callback(harness.close)  # before the fake stops
            if build:
                harness.build(**tradier)
            return harness

        yield make


def max_in_window(times: list[float], window_s: float = 60.0) -> int:
    """The most requests in any window of ``window_s`` seconds."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, stamp in enumerate(ordered):
        while stamp - ordered[start] >= window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- data ---------------------------------------------------------------------------------


def test_a_chain_refresh_puts_quotes_and_greeks_of_exactly_the_chains_root(make_harness):
    harness = make_harness()
    spxw = ActiveChain("SPX", "SPXW", THIRD_FRIDAY)  # the fake serves SPX and SPXW that day
    harness.feed.set_active(frozenset({"SPX"}), frozenset({spxw}))
    harness.feed.start()
    harness.wait_for(lambda: len({g.symbol for g in harness.greeks}) == 6)
    options = harness.symbols_quoted() - {"SPX"}
    assert len(options) == 6
    assert all(symbol.startswith("SPXW261218") for symbol in options)
    assert {g.symbol for g in harness.greeks} == options
    assert "SPX" in harness.symbols_quoted()
    greeks = next(g for g in harness.greeks if g.symbol == "SPXW261218C00450000")
    assert (greeks.delta, greeks.gamma, greeks.theta, greeks.vega, greeks.rho) == (
        0.5, 0.012, -0.1, 0.3, 0.01,
    )  # fmt: skip
    assert (greeks.iv, greeks.source) == (0.18, "tradier")  # ORATS' smoothed smv_vol
    quote = next(q for q in harness.quotes if q.symbol == "SPXW261218C00450000")
    assert (quote.bid, quote.ask, quote.source) == (2.95, 3.05, "tradier")
    assert harness.requests_for(CHAINS)[0] == {
        "symbol": "SPX", "expiration": "2026-12-18", "greeks": "true",
    }  # fmt: skip


def test_spx_and_spxw_on_one_date_share_one_chain_call(make_harness):
    harness = make_harness()
    chains = frozenset({ActiveChain("SPX", "SPX", THIRD_FRIDAY),
                        ActiveChain("SPX", "SPXW", THIRD_FRIDAY)})  # fmt: skip
    harness.feed.set_active(frozenset({"SPX"}), chains)
    harness.feed.start()
    harness.wait_for(lambda: len(harness.fake.requests) >= 5)
    harness.wait_for(lambda: len({g.symbol for g in harness.greeks}) == 12)
    roots = {symbol[:-15] for symbol in harness.symbols_quoted() - {"SPX"}}
    assert roots == {"SPX", "SPXW"}
    # probe, then cycles of one quotes call and one chain call
    assert harness.fake.paths()[:5] == ["/v1/markets/clock", QUOTES, CHAINS, QUOTES, CHAINS]


def test_every_underlying_is_quoted_in_one_posted_call_per_cycle(make_harness):
    harness = make_harness()
    qqq = ActiveChain("QQQ", "QQQ", FIRST_FRIDAY)
    harness.feed.set_active(frozenset({"SPY", "QQQ"}), frozenset({spy(0), qqq}))
    harness.feed.start()
    harness.wait_for(lambda: {"SPY", "QQQ"} <= harness.symbols_quoted())
    harness.wait_for(lambda: len(harness.requests_for(QUOTES)) >= 2)
    assert harness.requests_for(QUOTES)[0] == {"symbols": "QQQ,SPY", "greeks": "false"}
    methods = {method for _, method, path in harness.fake.requests if path == QUOTES}
    assert methods == {"POST"}
    paths = harness.fake.paths()
    assert paths[1:5] == [QUOTES, CHAINS, CHAINS, QUOTES]  # after the market-clock probe


def test_a_changed_active_set_takes_effect(make_harness):
    harness = make_harness()
    harness.feed.set_active(frozenset({"SPY"}), frozenset({spy(0)}))
    harness.feed.start()
    harness.wait_for(lambda: "SPY261204C00440000" in harness.symbols_quoted())
    qqq = ActiveChain("QQQ", "QQQ", spy(1).expiry)
    harness.feed.set_active(frozenset({"QQQ"}), frozenset({qqq}))
    harness.wait_for(lambda: "QQQ261211P00460000" in harness.symbols_quoted())
    harness.wait_for(lambda: "QQQ" in harness.symbols_quoted())
    changed_at = len(harness.fake.requests)
    harness.wait_for(lambda: len(harness.fake.requests) >= changed_at + 10)
    later = harness.fake.params[changed_at + 4 :]  # allow calls already in flight
    assert {p.get("symbol") for p in later if "expiration" in p} == {"QQQ"}
    assert {p.get("symbols") for p in later if "symbols" in p} == {"QQQ"}


def test_the_nearest_expiry_is_refreshed_first(make_harness):
    # Real time: calls start 0.2 s apart, so a loaded machine cannot reorder their arrival.
    harness = make_harness(speed=1.0)
    harness.feed.set_active(frozenset({"SPY"}), frozenset({spy(2), spy(0), spy(1)}))
    harness.feed.start()
    harness.wait_for(lambda: len(harness.requests_for(CHAINS)) >= 3)
    first_cycle = [params["expiration"] for params in harness.requests_for(CHAINS)[:3]]
    assert first_cycle == ["2026-12-04", "2026-12-11", "2026-12-18"]


def test_streaming_subscribes_underlyings_and_seen_options_and_delivers_quotes(make_harness):
    harness = make_harness(build=False)
    with running_stream(harness.fake.sessions) as stream_fake:
        harness.build(streaming=True, stream_url=stream_fake.url)
        harness.feed.set_active(frozenset({"SPY"}), frozenset({spy(0)}))
        harness.feed.start()
        harness.wait_for(lambda: {"SPY", "SPY261204C00450000"}
                         <= harness.symbols_quoted("tradier-stream"))  # fmt: skip
        harness.wait_for(lambda: len(stream_fake.subscriptions[-1]["symbols"]) == 7)
        expected = sorted({"SPY"} | {q.symbol for q in harness.quotes if q.symbol != "SPY"})
        assert stream_fake.subscriptions[-1]["symbols"] == expected
        qqq = ActiveChain("QQQ", "QQQ", FIRST_FRIDAY)
        harness.feed.set_active(frozenset({"QQQ"}), frozenset({qqq}))
        harness.wait_for(lambda: len(stream_fake.subscriptions[-1]["symbols"]) == 7
                         and "QQQ" in stream_fake.subscriptions[-1]["symbols"])  # fmt: skip
        assert not any(s.startswith("SPY") for s in stream_fake.subscriptions[-1]["symbols"])
        count = len(harness.greeks)
        harness.wait_for(lambda: len(harness.greeks) > count)  # REST polling goes on for Greeks
        harness.feed.close()


def test_streaming_is_ignored_in_the_sandbox_and_the_sandbox_limit_is_60(make_harness):
    harness = make_harness(sandbox=True, streaming=True, requests_per_minute=0)
    harness.feed.set_active(frozenset({"SPY"}), frozenset({spy(0)}))
    harness.feed.start()
    harness.wait_for(lambda: len(harness.greeks) >= 6)
    assert harness.feed.budget is not None
    assert harness.feed.budget.limit_per_minute == 60
    assert any("sandbox" in line for line in harness.log_lines("WARNING"))
    assert harness.fake.sessions == []


# -- faults -------------------------------------------------------------------------------


def test_faults_are_logged_and_data_keeps_arriving(make_harness):
    harness = make_harness()
    harness.feed.set_active(frozenset({"SPY"}), frozenset({spy(0), spy(1)}))
    harness.feed.start()
    harness.wait_for(lambda: len(harness.greeks) >= 12)
    harness.fake.fail_next("500", "timeout", "malformed", "errors200", "500", "errors200")
    harness.wait_for(lambda: not harness.fake.faults)
    count = len(harness.quotes)
    harness.wait_for(lambda: len(harness.quotes) >= count + 40, timeout_s=10)
    assert harness.feed.running
    assert harness.fake.faulted == 6
    assert any("Invalid Parameter" in line for line in harness.log_lines("WARNING"))
    assert harness.log_lines("ERROR") == []


def test_configured_underlyings_are_listed_from_expirations_and_chains(make_harness):
    harness = make_harness(underlyings=("SPY", "SPX"))
    harness.feed.start()
    # SPY: 3 expiries x 3 strikes x 2 rights, plus SPY (19); SPX: SPXW on all 3 dates and
    # SPX on the 18th (24), plus SPX (25).
    harness.wait_for(
        lambda: any("listing of SPY, SPX done" in m for m in harness.log_lines("INFO"))
    )
    assert "listing of SPY, SPX done: 44 contracts" in harness.log_lines("INFO")[-1]
    by_symbol = {contract.symbol: contract for contract in harness.contracts}
    assert len(by_symbol) == 44 == len(harness.contracts)
    assert by_symbol["SPY"] == ContractData(
        symbol="SPY", product=Product.ETF, exchange=Exchange.SMART
    )
    assert by_symbol["SPX"].product is Product.INDEX
    assert by_symbol["SPXW261211P00440000"] == ContractData(
        symbol="SPXW261211P00440000", product=Product.OPTION, exchange=Exchange.SMART,
        multiplier=100, underlying_symbol="SPX", root="SPXW", expiry=date(2026, 12, 11),
        strike=440.0, right=OptionRight.PUT, expiry_type=ExpiryType.WEEKLY,
    )  # fmt: skip
    assert by_symbol["SPX261218C00460000"].expiry_type is ExpiryType.MONTHLY
    assert by_symbol["SPXW261218C00460000"].expiry_type is ExpiryType.WEEKLY
    spy_roots = {(c.root, c.expiry) for c in harness.contracts if c.underlying_symbol == "SPY"}
    assert spy_roots == {("SPY", FIRST_FRIDAY + timedelta(weeks=n)) for n in range(3)}
    assert harness.requests_for("/v1/markets/options/expirations") == [
        {"symbol": "SPY", "includeAllRoots": "true", "expirationType": "true"},
        {"symbol": "SPX", "includeAllRoots": "true", "expirationType": "true"},
    ]
    assert {p["greeks"] for p in harness.requests_for(CHAINS)} == {"false"}
    assert harness.log_lines("WARNING") == []


def test_listing_skips_a_failed_call_and_names_the_bad_entry(make_harness):
    harness = make_harness(underlyings=("SPY", "UNKNOWN1"))
    # The clock probe and the quotes call answer; SPY's expirations come back as errors.
    harness.fake.fail_next("none", "none", "errors200")
    harness.feed.start()
    harness.wait_for(lambda: any("listing of" in m for m in harness.log_lines("INFO")), 10.0)
    warnings = harness.log_lines("WARNING")
    assert any("tradier.underlyings" in w and "UNKNOWN1" in w for w in warnings)
    assert any("expirations of SPY failed" in w for w in warnings)
    assert harness.feed.running


def test_an_invalid_token_stops_the_feed_with_one_error_and_no_more_requests(make_harness):
    harness = make_harness(token=Secret("wrong-token-abcdef"))
    harness.feed.set_active(frozenset({"SPY"}), frozenset({spy(0)}))
    harness.feed.start()
    harness.wait_for(lambda: not harness.feed.running)
    harness.settle(0.5)  # 10 simulated seconds: many budget slots
    errors = harness.log_lines("ERROR")
    assert len(errors) == 1
    assert "HTTP 401" in errors[0]
    assert "wrong-token-abcdef" not in " ".join(r.message for r in harness.logs)
    assert len(harness.fake.requests) == 1
    harness.feed.set_active(frozenset({"QQQ"}), frozenset())
    harness.settle(0.2)
    assert len(harness.fake.requests) == 1


def test_a_missing_token_logs_an_error_and_sends_nothing(make_harness):
    harness = make_harness(token=None)
    harness.feed.set_active(frozenset({"SPY"}), frozenset({spy(0)}))
    harness.feed.start()
    harness.settle(0.2)
    errors = harness.log_lines("ERROR")
    assert len(errors) == 1
    assert "tradier.token" in errors[0]
    assert harness.fake.requests == []
    assert not harness.feed.running
    harness.feed.close()


def test_close_is_idempotent_and_stops_requests(make_harness):
    harness = make_harness()
    harness.feed.close()  # before start: harmless
    harness = make_harness()
    harness.feed.set_active(frozenset({"SPY"}), frozenset({spy(0)}))
    harness.feed.start()
    harness.wait_for(lambda: len(harness.greeks) >= 6)
    harness.feed.close()
    sent = len(harness.fake.requests)
    harness.settle(0.3)
    assert len(harness.fake.requests) == sent
    assert not harness.feed.running
    harness.feed.close()
    harness.feed.start()  # a closed feed stays closed
    harness.settle(0.1)
    assert len(harness.fake.requests) == sent


# -- budget -------------------------------------------------------------------------------


def test_requests_never_exceed_the_budget_in_any_60_s_window(make_harness, monkeypatch):
    # The slots the budget hands out are exact; arrival times at the fake add the
    # machine's scheduling jitter, multiplied by the clock's speed (50 ms real is 3 s
    # here), so windows are counted on the slots and the fake checks its own windows.
    slots: list[float] = []
    reserve = RequestBudget.reserve

    def recording_reserve(self: RequestBudget) -> float:
        slot = reserve(self)
        slots.append(slot)
        return slot

    monkeypatch.setattr(RequestBudget, "reserve", recording_reserve)
    harness = make_harness(speed=60.0, limit=30)  # 27 a minute, 2.2 s apart
    harness.feed.set_active(frozenset({"SPY"}), frozenset(spy(week) for week in range(4)))
    harness.feed.start()
    stop_at = START.timestamp() + 180
    harness.wait_for(lambda: harness.clock.timestamp() > stop_at, timeout_s=10)
    harness.feed.close()
    times = [stamp for stamp, _, _ in harness.fake.requests]
    assert len(times) >= 75
    assert len(slots) >= len(times)
    assert max_in_window(slots) <= 27  # the budget: 90 % of the limit of 30
    # Spread evenly, no bursts: any 10 s hold at most 5 slots (10 / 2.22 = 4.5).
    assert max_in_window(slots, 10.0) <= 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert sum(gaps) / len(gaps) == pytest.approx(60 / 27, rel=0.05)
    assert harness.fake.rate_limited == 0
    # 1 quotes call + 4 chains a cycle fit: each chain is refreshed in every 60 s
    refreshed = [(stamp, params["expiration"]) for (stamp, _, path), params
                 in zip(harness.fake.requests, harness.fake.params, strict=True)
                 if path == CHAINS]  # fmt: skip
    for week in range(4):
        expiry = spy(week).expiry.isoformat()
        stamps = [START.timestamp()] + [s for s, e in refreshed if e == expiry]
        assert max(b - a for a, b in itertools.pairwise(stamps)) < 60


def test_too_many_chains_for_the_limit_are_refreshed_round_robin_with_one_warning(make_harness):
    harness = make_harness(speed=120.0, limit=10)  # 9 calls a window: 1 quotes + 7 chains
    chains = frozenset(spy(week) for week in range(10))
    harness.feed.set_active(frozenset({"SPY"}), chains)
    harness.feed.start()
    harness.wait_for(lambda: len(harness.requests_for(CHAINS)) >= 21, timeout_s=10)
    expiries = [params["expiration"] for params in harness.requests_for(CHAINS)]
    nearest_first = [spy(week).expiry.isoformat() for week in range(10)]
    assert expiries[:7] == nearest_first[:7]
    assert expiries[7:14] == nearest_first[:4] + nearest_first[7:]  # oldest first, in order
    assert set(expiries[:14]) == set(nearest_first)
    warnings = [line for line in harness.log_lines("WARNING") if "too low" in line]
    assert len(warnings) == 1
    assert "10 chains" in warnings[0]


def test_a_failed_call_is_made_again_at_once_at_most_twice_a_cycle():
    scheduler = _Scheduler(lambda: 100)
    scheduler.set_active({"SPY"}, frozenset({spy(0), spy(1)}))
    quotes, first = scheduler.next_call(), scheduler.next_call()
    assert quotes is not None
    assert first is not None
    assert (quotes.underlyings, first.expiry) == (("SPY",), spy(0).expiry)
    for _ in range(2):
        scheduler.failed(first)
        scheduler.failed(first)  # already queued: not twice
        assert scheduler.next_call() == first
    scheduler.failed(first)  # a third failure waits for the next cycle
    second = scheduler.next_call()
    assert second is not None
    assert second.expiry == spy(1).expiry
    next_cycle = scheduler.next_call()
    assert next_cycle is not None
    assert next_cycle.underlyings == ("SPY",)
    scheduler.set_active({"QQQ"}, frozenset())
    scheduler.failed(first)  # no longer active: dropped
    assert scheduler.next_call() == _Call(underlyings=("QQQ",))
    scheduler.set_active(set(), frozenset())
    assert scheduler.next_call() is None


def test_a_change_mid_cycle_does_not_repeat_calls_already_made():
    scheduler = _Scheduler(lambda: 100)
    scheduler.set_active({"SPY"}, frozenset({spy(0), spy(1)}))
    scheduler.next_call()
    scheduler.next_call()  # spy(0)
    scheduler.set_active({"SPY"}, frozenset({spy(0), spy(1), spy(2)}))
    rest = [scheduler.next_call() for _ in range(2)]
    assert [call.expiry for call in rest if call] == [spy(1).expiry, spy(2).expiry]
    following = scheduler.next_call()
    assert following is not None
    assert following.underlyings == ("SPY",)  # a new cycle
