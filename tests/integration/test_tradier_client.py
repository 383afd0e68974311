"""TradierClient (real httpx) against the fake Tradier server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import date

import pytest
from loguru import logger

from otrade.clock import LiveClock
from otrade.datafeeds.ratelimit import RequestBudget
from otrade.datafeeds.tradier_client import (
    TradierAuthError,
    TradierClient,
    TradierUnavailableError,
)
from otrade.datafeeds.tradier_json import TradierResponseError
from otrade.settings import Secret
from tests.fakes.tradier_server import TOKEN, running_fake


@pytest.fixture
def fake():
    with running_fake(timeout_delay_s=0.6) as server:
        yield server


@pytest.fixture
def log_lines():
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG")
    yield lines
    logger.remove(sink)


def call(fake, method_name: str, *args, token: str = TOKEN, limit: int = 6000, **options):
    async def run():
        client = TradierClient(
            Secret(token),
            LiveClock(),
            RequestBudget(LiveClock(), limit_per_minute=limit),
            base_url=fake.url,
            timeout_s=0.3,
            attempts=3,
            first_retry_wait_s=0.01,
            **options,
        )
        try:
            return await getattr(client, method_name)(*args)
        finally:
            await client.close()

    return asyncio.run(run())


def test_expirations_chain_quotes_and_clock(fake):
    expirations = call(fake, "expirations", "SPY")
    assert [e.expiry for e in expirations] == [
        date(2026, 12, 4),
        date(2026, 12, 11),
        date(2026, 12, 18),
    ]
    assert [e.expiration_type for e in expirations] == ["weeklys", "weeklys", "standard"]
    chain = call(fake, "chain", "SPY", date(2026, 12, 4))
    assert len(chain) == 6
    assert chain[0]["symbol"] == "SPY261204C00440000"
    quotes = call(fake, "quotes", ["SPY", "UNKNOWN1"])
    assert [q["symbol"] for q in quotes.quotes] == ["SPY"]
    assert quotes.unmatched_symbols == ["UNKNOWN1"]
    assert call(fake, "market_clock")["state"] == "open"


def test_quotes_are_posted_in_batches_without_duplicates(fake):
    symbols = [f"SYM{n}" for n in range(650)] + ["SYM0"]
    quotes = call(fake, "quotes", symbols)
    assert len(quotes.quotes) == 650
    assert fake.paths() == ["/v1/markets/quotes"] * 3


def test_an_invalid_token_stops_at_once_without_retries_or_leaks(fake, log_lines):
    with pytest.raises(TradierAuthError, match="HTTP 401") as raised:
        call(fake, "expirations", "SPY", token="wrong-token-abcdef")
    assert len(fake.requests) == 1
    assert "wrong-token-abcdef" not in str(raised.value)
    assert not any("wrong-token-abcdef" in line for line in log_lines)


def test_server_errors_timeouts_and_bad_json_are_retried(fake):
    fake.fail_next("500", "timeout")
    assert len(call(fake, "chain", "SPY", date(2026, 12, 4))) == 6
    assert len(fake.requests) == 3
    fake.fail_next("malformed")
    assert call(fake, "quotes", ["SPY"]).quotes[0]["symbol"] == "SPY"


def test_persistent_failure_gives_up_after_the_attempts_naming_the_call(fake):
    fake.fail_next("500", "500", "500")
    with pytest.raises(TradierUnavailableError, match=r"GET /v1/markets/clock failed 3 times"):
        call(fake, "market_clock")
    assert len(fake.requests) == 3


def test_errors_with_http_200_are_not_retried(fake):
    fake.fail_next("errors200")
    with pytest.raises(TradierResponseError, match="Invalid Parameter: symbols"):
        call(fake, "quotes", ["SPY"])
    assert len(fake.requests) == 1


def test_a_429_pauses_for_retry_after_then_succeeds(fake, log_lines):
    fake.fail_next("429")
    started = time.monotonic()
    assert call(fake, "market_clock")["state"] == "open"
    assert time.monotonic() - started >= 0.95  # Retry-After: 1
    assert len(fake.requests) == 2
    assert any("rate limit hit" in line for line in log_lines)


def test_requests_are_paced_by_the_budget(fake):
    call(fake, "quotes", [f"SYM{n}" for n in range(900)], limit=600)  # 3 requests, 0.11 s apart
    times = [stamp for stamp, _, _ in fake.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 60 / 540 - 0.02 for gap in gaps)


def test_a_missing_token_is_refused_before_any_request():
    with pytest.raises(TradierAuthError, match=r"tradier\.token"):
        TradierClient(Secret(""), LiveClock(), RequestBudget(LiveClock(), 120))
