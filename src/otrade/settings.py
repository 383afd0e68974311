"""Settings: typed attrs classes loaded from a TOML file and ``OTRADE_*`` environment variables.

SCHEMA ONLY (loader to be written): see load_settings below.
"""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = [
    "EventSettings",
    "LogSettings",
    "PluginSettings",
    "Secret",
    "Settings",
    "WebSocketLogSettings",
]

REDACTED = "**********"


@attrs.frozen(repr=False)
class Secret:
    """A secret string (API token, password) whose str and repr are redacted.

    Use :meth:`get_secret_value` at the one place that must send it.
    """

    _value: str = attrs.field(alias="value")

    def get_secret_value(self) -> str:
        """The secret itself; never log or format it."""
        return self._value

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __bool__(self) -> bool:
        return bool(self._value)


@attrs.frozen
class WebSocketLogSettings:
    """The LogEngine's WebSocket stream.

    Attributes:
        enabled: Serve the stream.
        host: Interface to bind; ``127.0.0.1`` by default. Any other host requires ``token``.
        port: TCP port; 0 picks a free one.
        token: Shared secret a client must present (``Authorization: Bearer <token>`` header
            or ``?token=`` query parameter). Optional on loopback, required elsewhere.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8765
    token: Secret | None = None


@attrs.frozen
class LogSettings:
    """Where log records go.

    Attributes:
        level: Lowest level written to the sinks (DEBUG, INFO, WARNING, ERROR, CRITICAL).
        console: Write colored records to stderr.
        file: Write a daily-rotated file under ``directory``.
        directory: Log directory; defaults to ``<data_directory>/logs``.
        retention_days: Days of rotated files kept.
        websocket: The WebSocket stream.
    """

    level: str = "INFO"
    console: bool = True
    file: bool = True
    directory: Path | None = None
    retention_days: int = 14
    websocket: WebSocketLogSettings = attrs.field(factory=WebSocketLogSettings)


@attrs.frozen
class EventSettings:
    """The event engine.

    Attributes:
        timer_interval_s: Seconds between timer events.
        stop_timeout_s: How long ``stop()`` waits for queued events and threads.
    """

    timer_interval_s: float = 1.0
    stop_timeout_s: float = 10.0


@attrs.frozen
class PluginSettings:
    """Plugin loading.

    Attributes:
        disabled: Entry-point names or distribution names that are not loaded.
    """

    disabled: tuple[str, ...] = ()


@attrs.frozen
class Settings:
    """Everything otrade reads at start.

    Attributes:
        data_directory: Where otrade keeps its files (logs now; the database later).
        log: Logging.
        event: The event engine.
        plugins: Plugin loading.
    """

    data_directory: Path = attrs.field(factory=lambda: Path.home() / ".otrade")
    log: LogSettings = attrs.field(factory=LogSettings)
    event: EventSettings = attrs.field(factory=EventSettings)
    plugins: PluginSettings = attrs.field(factory=PluginSettings)

    @property
    def log_directory(self) -> Path:
        """The effective log directory."""
        return self.log.directory or self.data_directory / "logs"
