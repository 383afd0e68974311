"""TradierStream against the fake REST and WebSocket servers: subscribe, resubscribe, reconnect."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from otrade.clock import LiveClock
from otrade.datafeeds.ratelimit import RequestBudget
from otrade.datafeeds.tradier_client import TradierAuthError, TradierClient
from otrade.datafeeds.tradier_stream import TradierStream, quote_from_frame
from otrade.objects import QuoteData
from otrade.settings import Secret
from tests.fakes.tradier_server import TOKEN, running_fake
from tests.fakes.tradier_stream_server import running_stream

RECEIVED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_quote_and_trade_frames_with_numbers_as_strings():
    quote = quote_from_frame(
        {"type": "quote", "symbol": "SPY", "bid": "449.5", "bidsz": "3", "biddate": "1764601200000",
         "ask": 449.6, "asksz": 2, "askdate": "1764601201000"},
        RECEIVED,
    )  # fmt: skip
    assert quote == QuoteData(symbol="SPY", time=datetime.fromtimestamp(1764601201, UTC),
                              bid=449.5, ask=449.6, bid_size=3, ask_size=2,
                              source="tradier-stream")  # fmt: skip
    trade = quote_from_frame(
        {"type": "trade", "symbol": "SPY", "price": "449.55", "size": "100", "cvol": "1200",
         "date": "1764601202000", "last": "449.55"},
        RECEIVED,
    )  # fmt: skip
    assert (trade.last, trade.volume) == (449.55, 1200)
    assert quote_from_frame({"type": "summary", "symbol": "SPY", "open": "1"}, RECEIVED) is None


class Collector:
    def __init__(self) -> None:
        self.quotes: list[QuoteData] = []

    def __call__(self, quote: QuoteData) -> None:
        self.quotes.append(quote)


async def wait_until(predicate, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def run_stream(fake, stream_fake, scenario, token: str = TOKEN, idle_timeout_s: float = 0.3):
    async def run() -> None:
        clock = LiveClock()
        client = TradierClient(Secret(token), clock, RequestBudget(clock, 6000),
                               base_url=fake.url, first_retry_wait_s=0.01)  # fmt: skip
        collector = Collector()
        stream = TradierStream(client, clock, collector, url=stream_fake.url,
                               idle_timeout_s=idle_timeout_s, reconnect_wait_s=0.05)  # fmt: skip
        task = asyncio.ensure_future(stream.run())
        try:
            await scenario(stream, collector, task)
        finally:
            task.cancel()
            # A stream that ignored the cancel fails here instead of hanging the suite.
            async with asyncio.timeout(5.0):
                await asyncio.gather(task, return_exceptions=True)
            await client.close()

    asyncio.run(run())


@pytest.fixture
def servers():
    with running_fake() as fake, running_stream(fake.sessions) as stream_fake:
        yield fake, stream_fake


def test_subscribes_with_a_fresh_session_and_delivers_quotes(servers):
    fake, stream_fake = servers

    async def scenario(stream, collector, task):
        stream.set_symbols(["SPY", "SPY261218C00450000"])
        await wait_until(
            lambda: {q.symbol for q in collector.quotes} >= {"SPY", "SPY261218C00450000"}
        )
        assert stream_fake.subscriptions[0]["sessionid"] == "session-1"
        assert stream_fake.subscriptions[0]["symbols"] == ["SPY", "SPY261218C00450000"]
        first = collector.quotes[0]
        assert (first.bid, first.ask, first.source) == (1.1, 1.2, "tradier-stream")

    run_stream(fake, stream_fake, scenario)


def test_a_changed_symbol_set_is_resent_on_the_same_socket(servers):
    fake, stream_fake = servers

    async def scenario(stream, collector, task):
        stream.set_symbols(["SPY"])
        await wait_until(lambda: len(stream_fake.subscriptions) == 1)
        stream.set_symbols(["SPY", "QQQ"])
        await wait_until(lambda: any(q.symbol == "QQQ" for q in collector.quotes))
        assert stream_fake.subscriptions[1] == stream_fake.subscriptions[0] | {
            "symbols": ["QQQ", "SPY"]
        }
        assert stream.sessions_created == 1

    run_stream(fake, stream_fake, scenario)


def test_a_silent_socket_is_replaced_with_a_new_session(servers):
    fake, stream_fake = servers

    async def scenario(stream, collector, task):
        stream.set_symbols(["SPY"])
        await wait_until(lambda: len(collector.quotes) > 0)
        stream_fake.go_silent()
        await wait_until(lambda: stream.sessions_created >= 2)
        stream_fake.silent = False
        count = len(collector.quotes)
        await wait_until(lambda: len(collector.quotes) > count)
        assert stream_fake.subscriptions[-1]["sessionid"] == f"session-{stream.sessions_created}"

    run_stream(fake, stream_fake, scenario)


def test_a_socket_closed_mid_stream_reconnects(servers):
    fake, stream_fake = servers

    async def scenario(stream, collector, task):
        stream.set_symbols(["SPY"])
        await wait_until(lambda: len(collector.quotes) > 0)
        stream_fake.close_all()
        await wait_until(lambda: stream.sessions_created >= 2)
        count = len(collector.quotes)
        await wait_until(lambda: len(collector.quotes) > count)

    run_stream(fake, stream_fake, scenario, idle_timeout_s=5.0)


def test_an_invalid_token_stops_the_stream(servers):
    fake, stream_fake = servers

    async def scenario(stream, collector, task):
        stream.set_symbols(["SPY"])
        with pytest.raises(TradierAuthError):
            await asyncio.wait_for(task, 5)

    run_stream(fake, stream_fake, scenario, token="wrong-token")
