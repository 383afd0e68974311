"""Tradier's streaming market data over a WebSocket, with an idle watchdog and reconnects.

A stream session is created over REST (``POST /v1/markets/events/session``, counted in the
market-data budget); the WebSocket is then opened and one JSON subscription frame is sent
with the session id and the symbols.  A changed symbol set is sent again on the same
socket.  When no frame arrives for ``idle_timeout_s`` (Tradier's sockets are known to go
silent or close overnight), or the socket closes, the stream reconnects with a *new*
session after a backoff.

Frames are converted to :class:`~otrade.objects.QuoteData`: ``quote`` frames carry bid and
ask, ``trade``/``tradex`` frames the last price.  Numbers may arrive as strings.
Streaming carries no Greeks; they come from the local model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Final

import websockets
from loguru import logger
from websockets.asyncio.client import ClientConnection, connect

from otrade.clock import Clock
from otrade.datafeeds.tradier_client import TradierAuthError, TradierClient
from otrade.datafeeds.tradier_json import TradierResponseError, number, whole_number
from otrade.objects import QuoteData

__all__ = ["STREAM_URL", "TradierStream", "quote_from_frame"]

STREAM_URL: Final = "wss://ws.tradier.com/v1/markets/events"
"""Tradier's market WebSocket (production only; the sandbox has no market streaming)."""


def _stamp(value: object, field: str, received: datetime) -> datetime:
    milliseconds = number(value, field)
    if not milliseconds:
        return received
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def quote_from_frame(frame: Mapping[str, object], received: datetime) -> QuoteData | None:
    """A stream frame as a QuoteData, or None for frames that carry no price.

    Raises:
        TradierResponseError: A price field is not a number (named with the symbol).
    """
    kind = frame.get("type")
    symbol = str(frame.get("symbol") or "")
    if not symbol:
        return None
    if kind == "quote":
        bid = number(frame.get("bid"), f"{symbol}.bid")
        ask = number(frame.get("ask"), f"{symbol}.ask")
        times = [
            _stamp(frame.get("biddate"), f"{symbol}.biddate", received),
            _stamp(frame.get("askdate"), f"{symbol}.askdate", received),
        ]
        return QuoteData(
            symbol=symbol,
            time=max(times),
            bid=bid or None,
            ask=ask or None,
            bid_size=whole_number(frame.get("bidsz"), f"{symbol}.bidsz") or 0,
            ask_size=whole_number(frame.get("asksz"), f"{symbol}.asksz") or 0,
            source="tradier-stream",
        )
    if kind in ("trade", "tradex"):
        return QuoteData(
            symbol=symbol,
            time=_stamp(frame.get("date"), f"{symbol}.date", received),
            last=number(frame.get("price", frame.get("last")), f"{symbol}.price"),
            volume=whole_number(frame.get("cvol"), f"{symbol}.cvol") or 0,
            source="tradier-stream",
        )
    return None


class TradierStream:
    """Keeps one streaming session alive and delivers its quotes.

    Args:
        client: Creates the stream sessions (through the shared budget).
        clock: Stamps frames without a time and times the backoff.
        on_quote: Called on the IO loop with every quote (it should put an event).
        url: The WebSocket URL (tests point it at a fake).
        idle_timeout_s: Reconnect when no frame arrives for this long.
        reconnect_wait_s: First wait before reconnecting; doubles up to 60 s.
    """

    def __init__(
        self,
        client: TradierClient,
        clock: Clock,
        on_quote: Callable[[QuoteData], None],
        *,
        url: str = STREAM_URL,
        idle_timeout_s: float = 120.0,
        reconnect_wait_s: float = 1.0,
    ) -> None:
        self._client = client
        self._clock = clock
        self._on_quote = on_quote
        self._url = url
        self._idle_timeout_s = idle_timeout_s
        self._reconnect_wait_s = reconnect_wait_s
        self._symbols: tuple[str, ...] = ()
        self._session_id = ""
        self._changed = asyncio.Event()
        self._log = logger.bind(source="tradier-stream")
        self.sessions_created = 0
        """How many sessions were created (one per (re)connect)."""

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols subscribed (or to be subscribed at the next connect)."""
        return self._symbols

    def set_symbols(self, symbols: Iterable[str]) -> None:
        """Change the subscription; sent on the open socket at once (call on the IO loop)."""
        new = tuple(sorted(set(symbols)))
        if new != self._symbols:
            self._symbols = new
            self._changed.set()

    async def run(self) -> None:
        """Stream until cancelled; reconnects after silence, closes and errors.

        Raises:
            TradierAuthError: The token was refused (the stream stops).
        """
        wait = self._reconnect_wait_s
        while True:
            try:
                await self._run_session()
                wait = self._reconnect_wait_s
            except TradierAuthError:
                raise
            except (OSError, websockets.exceptions.WebSocketException, TradierResponseError,
                    TimeoutError) as error:  # fmt: skip
                self._log.warning("stream interrupted ({}); reconnecting in {:.1f} s", error, wait)
            await self._clock.sleep_async(wait)
            wait = min(wait * 2, 60.0)

    async def _create_session(self) -> str:
        payload = await self._client.request("POST", "/v1/markets/events/session")
        stream = payload.get("stream") if isinstance(payload, Mapping) else None
        session = stream.get("sessionid") if isinstance(stream, Mapping) else None
        if not isinstance(session, str) or not session:
            raise TradierResponseError(
                [f"stream session response without a sessionid: {payload!r}"]
            )
        self.sessions_created += 1
        return session

    async def _subscribe(self, socket: ClientConnection) -> None:
        self._changed.clear()
        frame = {"sessionid": self._session_id, "symbols": list(self._symbols),
                 "filter": ["quote", "trade"], "linebreak": False, "validOnly": True}  # fmt: skip
        await socket.send(json.dumps(frame))

    async def _run_session(self) -> None:
        """One session: returns when the socket went silent; raises when it closed."""
        self._session_id = await self._create_session()
        async with connect(self._url, open_timeout=self._idle_timeout_s) as socket:
            await self._subscribe(socket)
            resubscriber = asyncio.ensure_future(self._resubscribe_on_change(socket))
            try:
                while True:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                    # cancellation that races a frame's arrival, and the stream then never
                    # stops.
                    try:
                        async with asyncio.timeout(self._idle_timeout_s):
                            message = await socket.recv()
                    except TimeoutError:
                        self._log.warning(
                            "stream silent for {} s; reconnecting", self._idle_timeout_s
                        )
                        return
                    self._deliver(message)
            finally:
                resubscriber.cancel()

    async def _resubscribe_on_change(self, socket: ClientConnection) -> None:
        while True:
            await self._changed.wait()
            await self._subscribe(socket)

    def _deliver(self, message: str | bytes) -> None:
        try:
            frame = json.loads(message)
        except json.JSONDecodeError:
            self._log.warning("unreadable stream frame: {!r}", message[:200])
            return
        if not isinstance(frame, Mapping):
            return
        if "error" in frame:
            self._log.error("Tradier stream error: {}", frame["error"])
            return
        try:
            quote = quote_from_frame(frame, self._clock.now())
        except TradierResponseError as error:
            self._log.warning("bad stream frame: {}", error)
            return
        if quote is not None:
            self._on_quote(quote)
