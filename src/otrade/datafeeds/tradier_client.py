"""An asyncio HTTP client for Tradier's market-data REST API.

Every call goes through one path (:meth:`TradierClient.request`):

1. the shared :class:`~otrade.datafeeds.ratelimit.RequestBudget` gives it a slot;
2. httpx sends it with ``Authorization: Bearer`` and ``Accept: application/json``;
3. the rate-limit headers are fed back to the budget;
4. a 401 raises :class:`TradierAuthError` at once (an invalid token must stop the feed,
   not be retried forever); a 429 pauses the budget and is retried; timeouts, connection
   errors, 5xx and unreadable JSON are retried with exponential backoff and jitter
   (tenacity, sleeping on the clock), then raise :class:`TradierUnavailableError`;
5. the JSON body is checked for ``errors`` even on HTTP 200, then handed to the
   normaliser of :mod:`otrade.datafeeds.tradier_json`.

The token is a :class:`~otrade.settings.Secret`; it is sent only in the header and never
appears in a log line or an exception.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

import httpx
from loguru import logger
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from otrade.clock import Clock
from otrade.datafeeds.ratelimit import RequestBudget
from otrade.datafeeds.tradier_json import (
    ExpirationInfo,
    QuotesResponse,
    TradierResponseError,
    parse_chain,
    parse_expirations,
    parse_quotes,
    raise_for_errors,
)
from otrade.errors import OTradeError
from otrade.settings import Secret

__all__ = [
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "TradierAuthError",
    "TradierClient",
    "TradierUnavailableError",
]

PRODUCTION_URL: Final = "https://api.tradier.com"
SANDBOX_URL: Final = "https://sandbox.tradier.com"
QUOTES_PER_REQUEST: Final = 300
"""Symbols per POSTed quotes request (Tradier publishes no maximum)."""


class TradierAuthError(OTradeError):
    """Tradier refused the token (HTTP 401): the feed stops instead of retrying."""


class TradierUnavailableError(OTradeError):
    """Tradier did not answer usefully after every retry (timeouts, 5xx, bad JSON)."""


class _Transient(Exception):  # noqa: N818 - internal retry signal, never escapes
    """A failure worth retrying; carries a description without secrets."""


class _RateLimited(Exception):  # noqa: N818 - internal retry signal, never escapes
    """HTTP 429: the budget has been paused; try again."""


class TradierClient:
    """Tradier market-data calls on the IO loop.

    Args:
        token: The API token.
        clock: Where time comes from (the budget and the retry waits sleep on it).
        budget: The request budget shared by every market-data call of this token.
        base_url: ``PRODUCTION_URL``, ``SANDBOX_URL`` or any other (tests use a fake).
        timeout_s: Per-request timeout.
        attempts: Tries per call for transient failures (429s do not count).
        first_retry_wait_s: The first backoff wait; it doubles (with jitter) up to 30 s.
        transport: An httpx transport, for tests; None for the default.
    """

    def __init__(
        self,
        token: Secret,
        clock: Clock,
        budget: RequestBudget,
        *,
        base_url: str = PRODUCTION_URL,
        timeout_s: float = 10.0,
        attempts: int = 4,
        first_retry_wait_s: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise TradierAuthError("no Tradier token is configured (tradier.token)")
        if attempts < 1:
            raise ValueError(f"attempts must be >= 1, got {attempts!r}")
        self._clock = clock
        self._budget = budget
        self._attempts = attempts
        self._first_retry_wait_s = first_retry_wait_s
        self._log = logger.bind(source="tradier")
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token.get_secret_value()}",
                "Accept": "application/json",
            },
            timeout=timeout_s,
            transport=transport,
        )

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> object:
        """One API call with pacing, retries and error checks; returns the decoded JSON.

        Raises:
            TradierAuthError: HTTP 401.
            TradierResponseError: Tradier answered with errors (any status) or another 4xx.
            TradierUnavailableError: Every attempt failed transiently.
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential_jitter(multiplier=self._first_retry_wait_s, max=30.0),
            retry=retry_if_exception_type(_Transient),
            sleep=self._clock.sleep_async,
            reraise=False,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_until_not_rate_limited(method, path, params, data)
        except RetryError as error:
            cause = error.last_attempt.exception()
            raise TradierUnavailableError(
                f"Tradier {method} {path} failed {self._attempts} times; last: {cause}"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover - AsyncRetrying returns or raises

    async def _send_until_not_rate_limited(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
    ) -> object:
        while True:
            try:
                return await self._send(method, path, params, data)
            except _RateLimited:
                continue

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
    ) -> object:
        await self._budget.acquire()
        try:
            response = await self._http.request(method, path, params=params, data=data)
        except httpx.TimeoutException:
            self._log.warning("Tradier {} {} timed out", method, path)
            raise _Transient(f"{method} {path} timed out") from None
        except httpx.TransportError as error:
            self._log.warning("Tradier {} {} failed: {}", method, path, type(error).__name__)
            raise _Transient(f"{method} {path}: {type(error).__name__}") from None
        self._budget.observe_headers(response.headers)
        status = response.status_code
        if status == 401:
            raise TradierAuthError(
                f"Tradier refused the token (HTTP 401 on {path}); check tradier.token and "
                "that a sandbox token is used with the sandbox URL"
            )
        if status == 429:
            pause = self._budget.observe_rate_limited(response.headers)
            self._log.warning("Tradier rate limit hit on {}; pausing {:.1f} s", path, pause)
            raise _RateLimited
        if status >= 500:
            self._log.warning("Tradier {} {} answered HTTP {}", method, path, status)
            raise _Transient(f"{method} {path} answered HTTP {status}")
        try:
            payload: object = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            if status >= 400:
                raise TradierResponseError(
                    [f"HTTP {status} on {path}: {response.text[:200]}"]
                ) from None
            raise _Transient(f"{method} {path} answered unreadable JSON") from None
        raise_for_errors(payload)
        if status >= 400:
            raise TradierResponseError([f"HTTP {status} on {path}: {response.text[:200]}"])
        return payload

    # -- endpoints ------------------------------------------------------------------------

    async def expirations(self, underlying: str) -> list[ExpirationInfo]:
        """Every expiration of every root of ``underlying`` (SPX and SPXW, AAPL and AAPL1)."""
        payload = await self.request(
            "GET",
            "/v1/markets/options/expirations",
            params={"symbol": underlying, "includeAllRoots": "true", "expirationType": "true"},
        )
        return parse_expirations(payload)

    async def chain(
        self, underlying: str, expiry: date, greeks: bool = True
    ) -> list[Mapping[str, object]]:
        """One expiration's option quotes (with Tradier's Greeks when ``greeks``)."""
        payload = await self.request(
            "GET",
            "/v1/markets/options/chains",
            params={
                "symbol": underlying,
                "expiration": expiry.isoformat(),
                "greeks": "true" if greeks else "false",
            },
        )
        return parse_chain(payload)

    async def quotes(self, symbols: Sequence[str]) -> QuotesResponse:
        """Quotes of underlyings and options, POSTed in batches of ``QUOTES_PER_REQUEST``."""
        quotes: list[Mapping[str, object]] = []
        unmatched: list[str] = []
        unique = list(dict.fromkeys(symbols))
        for start in range(0, len(unique), QUOTES_PER_REQUEST):
            batch = unique[start : start + QUOTES_PER_REQUEST]
            payload = await self.request(
                "POST",
                "/v1/markets/quotes",
                data={"symbols": ",".join(batch), "greeks": "false"},
            )
            parsed = parse_quotes(payload)
            quotes += parsed.quotes
            unmatched += parsed.unmatched_symbols
        return QuotesResponse(quotes, unmatched)

    async def market_clock(self) -> Mapping[str, object]:
        """The market clock (``state``: premarket, open, postmarket or closed)."""
        payload = await self.request("GET", "/v1/markets/clock")
        if not isinstance(payload, Mapping) or not isinstance(payload.get("clock"), Mapping):
            raise TradierResponseError([f"clock response without a clock: {payload!r}"])
        clock: Mapping[str, object] = payload["clock"]
        return clock
