"""A fake Tradier market WebSocket: a real websockets server on 127.0.0.1 in its own thread.

Each connection must first send a subscription frame with a session id the REST fake
issued; the server then sends a quote frame (numbers as strings, times as strings of
milliseconds) for every subscribed symbol every ``interval_s``.  ``go_silent()`` keeps the
sockets open but stops sending; ``close_all()`` closes them mid-stream.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from websockets.asyncio.server import Server, ServerConnection, serve


class FakeTradierStream:
    def __init__(self, valid_sessions: list[str], interval_s: float = 0.02) -> None:
        self.valid_sessions = valid_sessions
        self.interval_s = interval_s
        self.subscriptions: list[dict[str, object]] = []
        self.silent = False
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._connections: set[ServerConnection] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/markets/events"

    def start(self) -> None:
        self._thread.start()

        async def open_server() -> Server:
            return await serve(self._handle, "127.0.0.1", 0)

        self._server = asyncio.run_coroutine_threadsafe(open_server(), self._loop).result(5)
        self.port = next(iter(self._server.sockets)).getsockname()[1]

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def go_silent(self) -> None:
        self.silent = True

    def close_all(self) -> None:
        """Drop every connection abruptly (no closing handshake), as a network failure would."""

        def abort() -> None:
            for connection in list(self._connections):
                connection.transport.abort()

        self._loop.call_soon_threadsafe(abort)

    async def _handle(self, connection: ServerConnection) -> None:
        self._connections.add(connection)
        try:
            symbols: list[str] = []
            subscription = json.loads(await connection.recv())
            if subscription.get("sessionid") not in self.valid_sessions:
                await connection.send(json.dumps({"error": "invalid session"}))
                return
            self.subscriptions.append(subscription)
            symbols = list(subscription["symbols"])
            reader = asyncio.ensure_future(self._read_updates(connection, symbols))
            try:
                while True:
                    if not self.silent:
                        for symbol in symbols:
                            await connection.send(json.dumps(self._frame(symbol)))
                    await asyncio.sleep(self.interval_s)
            finally:
                reader.cancel()
        except Exception:  # noqa: BLE001 - a closed client ends the handler
            return
        finally:
            self._connections.discard(connection)

    async def _read_updates(self, connection: ServerConnection, symbols: list[str]) -> None:
        async for message in connection:
            update = json.loads(message)
            self.subscriptions.append(update)
            symbols[:] = list(update["symbols"])

    @staticmethod
    def _frame(symbol: str) -> dict[str, object]:
        stamp = str(int(time.time() * 1000))
        return {"type": "quote", "symbol": symbol, "bid": "1.10", "bidsz": "5",
                "bidexch": "C", "biddate": stamp, "ask": 1.2, "asksz": 7,
                "askexch": "C", "askdate": stamp}  # fmt: skip


@contextmanager
def running_stream(valid_sessions: list[str], **options: float) -> Iterator[FakeTradierStream]:
    fake = FakeTradierStream(valid_sessions, **options)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
