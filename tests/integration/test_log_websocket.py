"""LogEngine's WebSocket stream against real websockets clients on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from loguru import logger
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

import otrade.log
from otrade.clock import SimulatedClock
from otrade.event import EVENT_LOG, Event, EventEngine
from otrade.ioloop import IoLoop
from otrade.log import LogEngine
from otrade.objects import LogData
from otrade.settings import LogSettings, Secret, Settings, WebSocketLogSettings

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
TOKEN = "stream-token-31337"
ADDED_SECRET = "ib-password-2718"
REDACTED = "**********"
TIMEOUT_S = 5.0

MakeEngine = Callable[..., LogEngine]


@pytest.fixture
def io_loop() -> Iterator[IoLoop]:
    loop = IoLoop("test-log-ws-io")
    loop.start()
    yield loop
    loop.stop()


@pytest.fixture
def event_engine() -> Iterator[EventEngine]:
    engine = EventEngine(clock=SimulatedClock(START), threaded=False)
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def make_engine(tmp_path: Path, event_engine: EventEngine, io_loop: IoLoop) -> Iterator[MakeEngine]:
    """Start LogEngines serving on 127.0.0.1, port 0; every one is closed after the test."""
    engines: list[LogEngine] = []

    def make(*, token: str | None = None, file: bool = False) -> LogEngine:
        websocket = WebSocketLogSettings(
            enabled=True, host="127.0.0.1", port=0, token=Secret(token) if token else None
        )
        log = LogSettings(
            level="DEBUG",
            console=False,
            file=file,
            directory=tmp_path / "logs",
            websocket=websocket,
        )
        settings = Settings(data_directory=tmp_path, log=log)
        engine = LogEngine(settings, event_engine.clock, event_engine, io_loop)
        engines.append(engine)
        engine.start()
        return engine

    yield make
    for engine in engines:
        engine.close()


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run the client side on this thread's own loop; the server runs on the IoLoop."""
    asyncio.run(asyncio.wait_for(coroutine, 4 * TIMEOUT_S))


def url(engine: LogEngine, query: str = "") -> str:
    return f"ws://127.0.0.1:{engine.websocket_port}/{query}"


def client(engine: LogEngine, query: str = "", headers: dict[str, str] | None = None) -> connect:
    return connect(
        url(engine, query), additional_headers=headers, proxy=None, open_timeout=TIMEOUT_S
    )


async def receive(connection: ClientConnection) -> dict[str, Any]:
    message = await asyncio.wait_for(connection.recv(), TIMEOUT_S)
    assert isinstance(message, str)  # a text frame
    record: dict[str, Any] = json.loads(message)
    return record


async def receive_until(connection: ClientConnection, text: str) -> dict[str, Any]:
    """The first record whose message contains ``text`` (the engine's own records may precede)."""
    while True:
        record = await receive(connection)
        if text in record["message"]:
            return record


async def refused_status(engine: LogEngine, query: str = "", **headers: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with client(engine, query, headers or None):
            pass
    return refused.value.response.status_code


def raise_with(text: str) -> None:
    raise RuntimeError(text)


def test_port_zero_binds_a_free_port(make_engine):
    engine = make_engine()
    assert isinstance(engine.websocket_port, int)
    assert engine.websocket_port > 0


def test_client_receives_one_json_record_per_log_call(make_engine):
    engine = make_engine()

    async def scenario() -> None:
        async with client(engine) as connection:
            logger.bind(source="iron_condor").info("opened {} legs", 4)
            record = await receive_until(connection, "opened")
        assert record == {
            "time": "2026-03-02T14:30:00+00:00",
            "level": "INFO",
            "source": "iron_condor",
            "message": "opened 4 legs",
            "exception": None,
        }

    run(scenario())


def test_json_record_carries_the_redacted_exception(make_engine):
    engine = make_engine(token=TOKEN)
    engine.add_secret(ADDED_SECRET)

    async def scenario() -> None:
        async with client(engine, f"?token={TOKEN}") as connection:
            try:
                raise_with(f"login refused for {ADDED_SECRET} with {TOKEN}")
            except RuntimeError:
                logger.bind(source="ib").exception("connect failed using {}", ADDED_SECRET)
            raw = await asyncio.wait_for(connection.recv(), TIMEOUT_S)
        assert isinstance(raw, str)
        assert ADDED_SECRET not in raw
        assert TOKEN not in raw
        record = json.loads(raw)
        assert record["level"] == "ERROR"
        assert record["message"] == f"connect failed using {REDACTED}"
        assert record["exception"].startswith("Traceback (most recent call last):")
        assert record["exception"].endswith(
            f"RuntimeError: login refused for {REDACTED} with {REDACTED}"
        )

    run(scenario())


def test_log_data_event_reaches_the_stream_with_its_own_time(make_engine, event_engine):
    engine = make_engine()

    async def scenario() -> None:
        async with client(engine) as connection:
            written = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
            data = LogData(message="order acknowledged", level="WARNING", source="ib", time=written)
            event_engine.put(Event(EVENT_LOG, data))
            event_engine.process_pending()
            record = await receive_until(connection, "order acknowledged")
        assert record["time"] == "2026-03-02T09:15:00+00:00"
        assert record["level"] == "WARNING"
        assert record["source"] == "ib"

    run(scenario())


def test_without_token_any_loopback_client_is_served(make_engine):
    engine = make_engine()

    async def scenario() -> None:
        async with client(engine, "?token=whatever") as connection:
            logger.info("open stream")
            await receive_until(connection, "open stream")

    run(scenario())


def test_token_is_required_when_configured(make_engine):
    engine = make_engine(token=TOKEN)

    async def scenario() -> None:
        assert await refused_status(engine) == 401
        assert await refused_status(engine, "?token=wrong-token") == 401
        assert await refused_status(engine, Authorization="Bearer wrong-token") == 401
        assert await refused_status(engine, Authorization=f"Basic {TOKEN}") == 401

    run(scenario())


def test_header_and_query_tokens_are_accepted(make_engine):
    engine = make_engine(token=TOKEN)

    async def scenario() -> None:
        header = {"Authorization": f"Bearer {TOKEN}"}
        async with (
            client(engine, headers=header) as by_header,
            client(engine, f"?token={TOKEN}") as by_query,
        ):
            logger.bind(source="risk").info("both listening")
            assert (await receive_until(by_header, "both listening"))["source"] == "risk"
            assert (await receive_until(by_query, "both listening"))["source"] == "risk"

    run(scenario())


def test_a_gone_client_does_not_break_later_logging(make_engine, tmp_path):
    engine = make_engine(file=True)

    async def scenario() -> None:
        async with client(engine) as staying:
            leaving = await client(engine)
            logger.info("first")
            await receive_until(leaving, "first")
            leaving.transport.abort()  # vanish without a closing handshake
            async with client(engine) as polite:
                pass
            for number in range(20):
                logger.info("after {}", number)
            assert (await receive_until(staying, "after 19"))["message"] == "after 19"
        assert polite.close_code == 1000

    run(scenario())
    logger.info("still logging")
    logger.complete()
    assert "still logging" in (tmp_path / "logs" / "otrade.log").read_text(encoding="utf-8")


def test_a_client_that_cannot_keep_up_is_closed(make_engine, monkeypatch):
    engine = make_engine()
    monkeypatch.setattr(otrade.log, "_MAX_CLIENT_BUFFER_BYTES", -1)  # every client is too slow

    async def scenario() -> None:
        async with client(engine) as connection:
            logger.info("too much")
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(connection.recv(), TIMEOUT_S)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013

    run(scenario())


def test_close_closes_clients_and_the_port(make_engine):
    engine = make_engine()
    port = engine.websocket_port

    async def scenario() -> None:
        async with client(engine) as connection:
            await asyncio.to_thread(engine.close)
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(connection.recv(), TIMEOUT_S)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1001
        assert engine.websocket_port is None
        with pytest.raises(OSError):  # noqa: PT011 - connection refused, spelled per platform
            await connect(f"ws://127.0.0.1:{port}/", proxy=None, open_timeout=TIMEOUT_S)

    run(scenario())
    logger.info("no server to send this to")  # the sink is gone, nothing raises
