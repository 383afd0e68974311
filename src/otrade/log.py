"""The LogEngine: otrade's log records on loguru, to the console, a daily file and a WebSocket.

All otrade code logs through the global :data:`loguru.logger`, bound to the name of whoever
writes (``logger.bind(source="ib").info(...)``).  Gateways and strategies may instead put a
:class:`~otrade.objects.LogData` as an ``EVENT_LOG`` event; the LogEngine writes it with its
own level, source and time.

While a LogEngine runs it sets loguru's global patcher (``logger.configure(patcher=...)``),
which for every record, in every sink:

* takes the time from the engine's :class:`~otrade.clock.Clock` (UTC), so a replay on a
  :class:`~otrade.clock.SimulatedClock` writes simulated times (and the file rotates at
  simulated midnights);
* sets the ``source`` extra to ``"otrade"`` when the caller bound none;
* replaces every secret (the :class:`~otrade.settings.Secret` values in the settings and the
  values given to :meth:`LogEngine.add_secret`) in the message by ``**********``.

The engine's own sinks also render the exception traceback themselves, redacted the same way,
instead of loguru's ``{exception}`` (and they run with ``diagnose=False``, because loguru's
diagnose mode prints local variable values).  Sinks that other code adds with
``logger.add`` get the redacted message but render exceptions their own way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, ClassVar, Final, NamedTuple
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

from loguru import logger
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from otrade.clock import Clock
from otrade.errors import ConfigError, EngineError
from otrade.event import EVENT_LOG, Event, EventEngine
from otrade.ioloop import IoLoop
from otrade.objects import LogData
from otrade.settings import REDACTED, Settings, is_loopback_host, secret_values

if TYPE_CHECKING:
    from loguru import Message, Record
    from websockets.http11 import Request, Response

__all__ = ["LogEngine"]

DEFAULT_SOURCE: Final = "otrade"
"""The source of records whose writer bound none."""
LOG_FILE_NAME: Final = "otrade.log"
"""The file under the log directory; rotated copies get the rotation time in their name."""
MIN_SECRET_LENGTH: Final = 4
"""Shorter values are not redacted: replacing them would mangle ordinary text."""

# Keys of record["extra"] the engine owns.  _TIME_KEY carries a LogData's own time from
# process_log_event to the patcher; _VIEW_KEY holds the redacted view every sink renders.
_TIME_KEY: Final = "otrade_time"
_VIEW_KEY: Final = "otrade_view"
# loguru's default stderr handler, added when loguru is imported.
_DEFAULT_HANDLER_ID: Final = 0
# A WebSocket client whose unsent data exceeds this is too slow to keep up; it is closed.
_MAX_CLIENT_BUFFER_BYTES = 1 << 20
# Clients only listen; anything they send is read and dropped, so keep it small.
_MAX_CLIENT_MESSAGE_BYTES: Final = 4096
_SERVER_TIMEOUT_S: Final = 10.0
_CLOSE_TIMEOUT_S: Final = 2.0

# The engine's sinks render the record's view, never loguru's {message} and {exception}.
_LINE = (
    "{extra[otrade_view].stamp} | {level: <8} | {extra[otrade_view].source}"
    " | {extra[otrade_view].message}"
)
_PLAIN_FORMAT: Final = _LINE + "\n"
_PLAIN_EXCEPTION_FORMAT: Final = _LINE + "\n{extra[otrade_view].exception}\n"
_COLOR_LINE = (
    "<green>{extra[otrade_view].stamp}</green> | <level>{level: <8}</level>"
    " | <cyan>{extra[otrade_view].source}</cyan> | <level>{extra[otrade_view].message}</level>"
)
_COLOR_FORMAT: Final = _COLOR_LINE + "\n"
_COLOR_EXCEPTION_FORMAT: Final = _COLOR_LINE + "\n<red>{extra[otrade_view].exception}</red>\n"


class _View(NamedTuple):
    """What the engine's sinks show of one record: clock time, source, redacted text."""

    time: datetime
    source: str
    message: str
    exception: str

    @property
    def stamp(self) -> str:
        """The time as ``2026-03-02 14:30:00.123`` (UTC)."""
        return f"{self.time:%Y-%m-%d %H:%M:%S}.{self.time.microsecond // 1000:03d}"

    def to_json(self, level: str) -> str:
        """One WebSocket message."""
        return json.dumps(
            {
                "time": self.time.isoformat(),
                "level": level,
                "source": self.source,
                "message": self.message,
                "exception": self.exception or None,
            },
            ensure_ascii=False,
        )


class _Redactor:
    """Replaces secret values in text by ``**********``; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        """Redact ``value`` and the forms it takes when quoted, escaped or URL-encoded."""
        if len(value) < MIN_SECRET_LENGTH:
            return
        # repr() and json escape quotes, backslashes and control characters; tokens in URLs
        # are percent-encoded.  Each form is redacted so a formatted secret cannot slip by.
        forms = {
            value,
            repr(value)[1:-1],
            json.dumps(value)[1:-1],
            quote(value, safe=""),
            quote_plus(value, safe=""),
        }
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            ordered = sorted(self._values, key=len, reverse=True)  # longest first
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced."""
        pattern = self._pattern  # swapped whole by add(); no lock needed to read it
        if pattern is None or not text:
            return text
        return pattern.sub(REDACTED, text)


class _Running:
    """The LogEngines between start() and close(), newest last; read by the patcher."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.engines: tuple[LogEngine, ...] = ()

    def add(self, engine: LogEngine) -> None:
        with self._lock:
            if engine not in self.engines:
                self.engines = (*self.engines, engine)

    def remove(self, engine: LogEngine) -> None:
        with self._lock:
            self.engines = tuple(other for other in self.engines if other is not engine)

    def redact(self, text: str) -> str:
        for engine in self.engines:
            text = engine._redactor.redact(text)
        return text


_running = _Running()


def _patch_record(record: Record) -> None:
    """The global loguru patcher: clock time, default source and redaction, via the newest engine.

    With no LogEngine running it leaves records alone.  It must never raise: a patcher's
    exception would reach the code that logged.
    """
    engines = _running.engines
    if not engines:
        return
    try:
        engines[-1]._patch(record)
    except Exception as error:  # noqa: BLE001 - logging must not break the caller
        record["extra"][_VIEW_KEY] = _fallback_view(record, error)


def _fallback_view(record: Record, error: Exception) -> _View:
    # Shown instead of a record the engine failed to prepare; its text could hold a secret.
    record["message"] = f"[record not shown: preparing it raised {type(error).__name__}]"
    return _View(record["time"].astimezone(UTC), DEFAULT_SOURCE, record["message"], "")


def _exception_text(record: Record) -> str:
    exception = record["exception"]
    if exception is None or exception.type is None:
        return ""
    lines = traceback.format_exception(exception.type, exception.value, exception.traceback)
    return "".join(lines).rstrip("\n")


def _empty_format(record: Record) -> str:
    # The WebSocket sink builds its JSON from the record's view, not from a formatted line.
    return ""


def _presented_tokens(request: Request) -> Iterable[str]:
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        yield credentials.strip()
    yield from parse_qs(urlsplit(request.path).query).get("token", [])


class LogEngine:
    """Writes otrade's log records to the console, a daily-rotated file and a WebSocket stream.

    Which sinks run, their level, the log directory and the WebSocket address come from
    ``settings.log``.  Every sink shows ``time | LEVEL | source | message``, with the time
    from ``clock`` in UTC and every secret replaced by ``**********`` in the message and in
    the exception traceback.

    loguru is global, so the engine changes global state while it runs; :meth:`close` undoes
    it, except for two things:

    * The engine removes loguru's default stderr handler (id 0), which would print every line
      twice and runs in diagnose mode (local variable values, secrets among them, in
      tracebacks); it is not put back.
    * loguru has no way to remove a patcher, so the engine's patcher stays configured and
      does nothing while no LogEngine runs.  It replaces a patcher configured earlier with
      ``logger.configure(patcher=...)``.

    Args:
        settings: The settings; ``settings.log`` and the secrets in it are read.
        clock: Where record times come from.
        event_engine: Delivers ``EVENT_LOG`` events to :meth:`process_log_event`.
        io_loop: Runs the WebSocket server; it must run while the stream is enabled, from
            :meth:`start` until :meth:`close`.
    """

    name: ClassVar[str] = "log"

    def __init__(
        self, settings: Settings, clock: Clock, event_engine: EventEngine, io_loop: IoLoop
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._event_engine = event_engine
        self._io_loop = io_loop
        self._lock = threading.Lock()
        self._started = False
        self._redactor = _Redactor()
        for value in secret_values(settings):
            self._redactor.add(value)
        token = settings.log.websocket.token
        self._token: str | None = token.get_secret_value() if token else None
        self._handler_ids: list[int] = []
        self._websocket_handler_id: int | None = None
        self._server: Server | None = None
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing_clients: set[ServerConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._log = logger.bind(source="LogEngine")

    @property
    def websocket_port(self) -> int | None:
        """The port the WebSocket stream listens on, or None when it is not serving."""
        return self._port

    def add_secret(self, value: str) -> None:
        """Redact ``value`` from every record written from now on.

        Gateways call it with the passwords and tokens they are given at connect time.
        Values shorter than four characters are ignored, since redacting them would mangle
        ordinary text.

        Args:
            value: The secret text.
        """
        self._redactor.add(value)

    def start(self) -> None:
        """Add the sinks, handle ``EVENT_LOG`` events and serve the WebSocket stream.

        Starting a running engine does nothing.  When the WebSocket stream is enabled this
        returns once the server listens (see :attr:`websocket_port`).

        Raises:
            ConfigError: ``log.level`` is not a loguru level, ``log.retention_days`` is not
                positive, the log directory cannot be created, or the WebSocket host is not
                a loopback address and ``log.websocket.token`` is not set.
            EngineError: The WebSocket server cannot listen on ``host:port`` (or the IO loop
                is not running).
        """
        with self._lock:
            if self._started:
                return
            level = self._check_settings()
            try:
                self._start(level)
            except BaseException:
                self._stop()
                raise
            self._started = True
        self._log.debug("LogEngine started: {}", self._describe())

    def close(self) -> None:
        """Remove the sinks this engine added, stop the WebSocket server and its clients.

        Records queued for the file are written and the file is closed before this returns.
        Closing twice, or closing an engine that never started, does nothing.  Call it before
        stopping the IO loop.
        """
        with self._lock:
            self._started = False
            self._stop()

    def process_log_event(self, event: Event) -> None:
        """Write the event's :class:`~otrade.objects.LogData` with its level, source and time.

        Never raises: a record that cannot be written is reported on stderr without its text.

        Args:
            event: An ``EVENT_LOG`` event.
        """
        data = event.data
        if not isinstance(data, LogData):
            self._log.warning("ignored a log event carrying {}", type(data).__name__)
            return
        try:
            logger.bind(source=data.source or DEFAULT_SOURCE, **{_TIME_KEY: data.time}).log(
                data.level, data.message
            )
        except Exception as error:  # noqa: BLE001 - the engine boundary
            self._report(f"could not write a LogData from {data.source!r}: {type(error).__name__}")

    # -- start and stop ---------------------------------------------------------------------

    def _check_settings(self) -> str:
        log = self._settings.log
        level = log.level.upper()
        try:
            logger.level(level)
        except ValueError:
            raise ConfigError(
                f"log.level: {log.level!r} is not a level; "
                "use DEBUG, INFO, WARNING, ERROR or CRITICAL"
            ) from None
        if log.file and log.retention_days < 1:
            raise ConfigError(f"log.retention_days: must be at least 1, got {log.retention_days!r}")
        websocket = log.websocket
        if websocket.enabled and not self._token and not is_loopback_host(websocket.host):
            raise ConfigError(
                f"log.websocket.token: required to serve the log stream on the non-loopback "
                f"host {websocket.host!r}"
            )
        return level

    def _start(self, level: str) -> None:
        log = self._settings.log
        _running.add(self)
        logger.configure(patcher=_patch_record)
        # loguru's default stderr handler runs in diagnose mode, which prints local variable
        # values (secrets among them) in tracebacks; otrade's own sinks replace it for good.
        with contextlib.suppress(ValueError):  # already removed
            logger.remove(_DEFAULT_HANDLER_ID)
        if log.console:
            self._add_console_sink(level)
        if log.file:
            self._add_file_sink(level)
        if log.websocket.enabled:
            self._start_server()
            self._websocket_handler_id = logger.add(
                self._write_websocket,
                level=level,
                format=_empty_format,
                colorize=False,
                backtrace=False,
                diagnose=False,
            )
        self._event_engine.register(EVENT_LOG, self.process_log_event)

    def _add_console_sink(self, level: str) -> None:
        stream = sys.stderr
        if stream is None:  # pythonw and some services have no stderr
            return
        handler_id = logger.add(
            stream,
            level=level,
            format=self._console_format,
            colorize=None,  # colored on a terminal; honours NO_COLOR and FORCE_COLOR
            backtrace=False,
            diagnose=False,
        )
        self._handler_ids.append(handler_id)

    def _add_file_sink(self, level: str) -> None:
        directory = self._settings.log_directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"log.directory: cannot create {str(directory)!r}: {error.strerror}"
            ) from None
        handler_id = logger.add(
            directory / LOG_FILE_NAME,
            level=level,
            format=self._plain_format,
            rotation="00:00",
            retention=f"{self._settings.log.retention_days} days",
            enqueue=True,  # the writer thread does the disk I/O; logging never waits on it
            encoding="utf-8",
            colorize=False,
            backtrace=False,
            diagnose=False,
        )
        self._handler_ids.append(handler_id)

    def _stop(self) -> None:
        self._event_engine.unregister(EVENT_LOG, self.process_log_event)
        handler_ids = self._handler_ids
        if self._websocket_handler_id is not None:
            handler_ids = [self._websocket_handler_id, *handler_ids]
        self._websocket_handler_id = None
        self._handler_ids = []
        for handler_id in handler_ids:
            with contextlib.suppress(ValueError):  # removed by someone else already
                logger.remove(handler_id)
        self._stop_server()
        _running.remove(self)

    def _describe(self) -> str:
        log = self._settings.log
        parts = []
        if log.console:
            parts.append("console")
        if log.file:
            parts.append(f"file {self._settings.log_directory / LOG_FILE_NAME}")
        if self._port is not None:
            parts.append(f"websocket {log.websocket.host}:{self._port}")
        return ", ".join(parts) or "no sinks"

    # -- records -----------------------------------------------------------------------------

    def _patch(self, record: Record) -> None:
        extra = record["extra"]
        when = extra.pop(_TIME_KEY, None)
        if not isinstance(when, datetime) or when.utcoffset() is None:
            when = self._clock.now()
        when = when.astimezone(UTC)
        # Keep loguru's datetime subclass so "{time:...}" formats in other sinks still work.
        record["time"] = type(record["time"]).combine(when.date(), when.timetz())
        if not extra.get("source"):
            extra["source"] = DEFAULT_SOURCE
        record["message"] = self._redact(record["message"])
        extra[_VIEW_KEY] = _View(
            when, str(extra["source"]), record["message"], self._redact(_exception_text(record))
        )

    def _redact(self, text: str) -> str:
        # Every running engine's secrets, and this engine's own even while it is not running.
        text = _running.redact(text)
        return text if self in _running.engines else self._redactor.redact(text)

    def _view(self, record: Record) -> _View:
        """The record's view, set by the patcher, or built here if the patcher was replaced."""
        view = record["extra"].get(_VIEW_KEY)
        if isinstance(view, _View):
            return view
        try:
            view = _View(
                self._clock.now().astimezone(UTC),
                str(record["extra"].get("source") or DEFAULT_SOURCE),
                self._redact(record["message"]),
                self._redact(_exception_text(record)),
            )
        except Exception as error:  # noqa: BLE001 - a sink must not fail on a record
            view = _fallback_view(record, error)
        record["extra"][_VIEW_KEY] = view
        return view

    def _console_format(self, record: Record) -> str:
        view = self._view(record)
        return _COLOR_EXCEPTION_FORMAT if view.exception else _COLOR_FORMAT

    def _plain_format(self, record: Record) -> str:
        view = self._view(record)
        return _PLAIN_EXCEPTION_FORMAT if view.exception else _PLAIN_FORMAT

    def _write_websocket(self, message: Message) -> None:
        """The WebSocket sink: runs on the logging thread, hands the JSON to the IO loop."""
        loop = self._loop
        if loop is None:
            return
        record = message.record
        text = self._view(record).to_json(record["level"].name)
        # A closed loop means the engine is closing; the record still reached the other sinks.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._broadcast, text)

    @staticmethod
    def _report(text: str) -> None:
        # Logging about a logging failure could loop; stderr is the last resort.
        stream = sys.__stderr__
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.write(f"otrade LogEngine: {text}\n")

    # -- WebSocket stream (IO thread unless stated) -----------------------------------------

    def _start_server(self) -> None:
        """Serve the stream on the IO loop; called on the starting thread."""
        websocket = self._settings.log.websocket
        address = f"{websocket.host}:{websocket.port}"
        try:
            self._server = self._io_loop.run(self._open_server(), _SERVER_TIMEOUT_S)
        except OSError as error:
            raise EngineError(
                f"cannot serve the log WebSocket on {address}: {error.strerror or error}"
            ) from error
        except TimeoutError as error:
            raise EngineError(f"the log WebSocket on {address} did not start in time") from error
        self._loop = self._io_loop.loop
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def _open_server(self) -> Server:
        websocket = self._settings.log.websocket
        return await serve(
            self._serve_client,
            websocket.host,
            websocket.port,
            process_request=self._authorize,
            max_size=_MAX_CLIENT_MESSAGE_BYTES,
            close_timeout=_CLOSE_TIMEOUT_S,
        )

    def _stop_server(self) -> None:
        """Close the server and its connections; called on the closing thread."""
        server = self._server
        self._server = None
        self._loop = None
        self._port = None
        if server is None:
            return
        try:
            self._io_loop.run(self._close_server(server), _SERVER_TIMEOUT_S)
        except (EngineError, TimeoutError) as error:
            self._report(f"the log WebSocket server did not close cleanly: {error}")

    async def _close_server(self, server: Server) -> None:
        server.close()
        await server.wait_closed()
        for task in tuple(self._tasks):
            task.cancel()
        self._closing_clients.clear()

    def _authorize(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse the handshake with 401 unless the client presents the token (when one is set)."""
        token = self._token
        if token is None:
            return None
        expected = token.encode()
        for presented in _presented_tokens(request):
            if hmac.compare_digest(presented.encode(), expected):
                return None
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Missing or invalid token.\n")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    async def _serve_client(self, connection: ServerConnection) -> None:
        # Clients only listen; read and drop what they send until they go.
        with contextlib.suppress(ConnectionClosed):
            async for _ in connection:
                pass

    def _broadcast(self, text: str) -> None:
        server = self._server
        if server is None:
            return
        receivers = []
        for connection in server.connections:
            if connection.transport.get_write_buffer_size() <= _MAX_CLIENT_BUFFER_BYTES:
                receivers.append(connection)
            elif connection not in self._closing_clients:
                self._close_slow_client(connection)
        broadcast(receivers, text)

    def _close_slow_client(self, connection: ServerConnection) -> None:
        self._closing_clients.add(connection)
        task = asyncio.get_running_loop().create_task(
            connection.close(CloseCode.TRY_AGAIN_LATER, "too slow to follow the log")
        )
        self._tasks.add(task)

        def forget(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            self._closing_clients.discard(connection)

        task.add_done_callback(forget)
