"""Settings: typed attrs classes loaded from a TOML file and ``OTRADE_*`` environment variables.

:func:`load_settings` reads an optional TOML file, lays ``OTRADE_*`` environment variables
over it, and structures the result into a frozen :class:`Settings` tree with a strict
cattrs converter::

    # otrade.toml
    data_directory = "/srv/otrade"

    [log]
    level = "DEBUG"

    [log.websocket]
    enabled = true
    port = 9000

An environment variable names a key with ``OTRADE_`` and its dotted path, ``__`` between
nesting levels, in any case: ``OTRADE_DATA_DIRECTORY``, ``OTRADE_LOG__LEVEL``,
``OTRADE_LOG__WEBSOCKET__PORT``.  ``OTRADE_CONFIG`` names the TOML file; names starting
with ``OTRADE_TEST_`` are reserved for otrade's test suite and ignored.

Every problem (unknown key, wrong type, value out of range) is collected and raised as one
:class:`~otrade.errors.ConfigError` that names, for each, the dotted key, where the value came
from, what was expected and the value itself; secret values are never shown.

The loader walks the attrs classes, so a new section is a new attrs class and a new field of
:class:`Settings`, nothing more.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import tomllib
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import cattrs
from cattrs.dispatch import StructureHook
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from otrade.errors import ConfigError

if typing.TYPE_CHECKING:
    from attrs import AttrsInstance

__all__ = [
    "ENVIRONMENT_PREFIX",
    "GREEKS_POLICIES",
    "KILL_SWITCH_MODES",
    "LOG_LEVELS",
    "REDACTED",
    "SECRET_KEY_PARTS",
    "TEST_VARIABLE_PREFIX",
    "DatabaseSettings",
    "EventSettings",
    "LogSettings",
    "MarketDataSettings",
    "PluginSettings",
    "RiskSettings",
    "RunSettings",
    "Scalar",
    "Secret",
    "Settings",
    "SimulatedFeedSettings",
    "StrategyInstanceSettings",
    "StrategySettings",
    "TradierSettings",
    "WebSocketLogSettings",
    "dump_settings_toml",
    "is_loopback_host",
    "load_settings",
    "secret_values",
    "settings_to_dict",
]

Scalar = bool | int | float | str
"""A plain setting value (strategy parameters, gateway connect settings)."""

SECRET_KEY_PARTS = ("password", "token", "secret", "api_key", "apikey")
"""Key fragments whose string values in free-form tables are kept as :class:`Secret`."""

REDACTED = "**********"
"""What a secret looks like in a repr, a str, :func:`settings_to_dict` and error messages."""

ENVIRONMENT_PREFIX = "OTRADE_"
"""Prefix of the environment variables that override settings."""

CONFIG_VARIABLE = "OTRADE_CONFIG"
"""Environment variable naming the TOML file; not a setting itself."""

TEST_VARIABLE_PREFIX = "OTRADE_TEST_"
"""Environment variables reserved for otrade's own test suite (``OTRADE_TEST_DATABASE_URL``);
they are not settings and are ignored."""

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
"""The accepted ``log.level`` values, lowest first."""

_NESTING_SEPARATOR = "__"
_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})

# A key's position in the settings tree: section and key names, and list indices.
_KeyPath = tuple[str | int, ...]


class _InvalidValueError(ValueError):
    """A value failed a type check or a validator.

    Attributes:
        expected: What was expected, e.g. ``"expected an integer"``; never contains the value.
        key: The field the problem belongs to, when the raiser knows it and cattrs does not
            (validators and cross-field checks run in ``__init__``).
    """

    def __init__(self, expected: str, key: str | None = None) -> None:
        super().__init__(f"{key}: {expected}" if key else expected)
        self.expected = expected
        self.key = key


# --- Validators ---------------------------------------------------------------------------


def _upper_case(value: str) -> str:
    return value.upper()


def _one_of(choices: tuple[str, ...]) -> Callable[[object, attrs.Attribute[str], str], None]:
    expected = f"expected one of {', '.join(choices)}"

    def validate(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in choices:
            raise _InvalidValueError(expected, attribute.name)

    return validate


def _integer_between(
    minimum: int, maximum: int | None = None
) -> Callable[[object, attrs.Attribute[int], int], None]:
    if maximum is None:
        expected = f"expected an integer >= {minimum}"
    else:
        expected = f"expected an integer from {minimum} to {maximum}"

    def validate(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if value < minimum or (maximum is not None and value > maximum):
            raise _InvalidValueError(expected, attribute.name)

    return validate


def _positive_number(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    # Written so that NaN fails too.
    if not value > 0:
        raise _InvalidValueError("expected a number > 0", attribute.name)


def _non_negative_number(
    _instance: object, attribute: attrs.Attribute[float], value: float
) -> None:
    # Written so that NaN fails too.
    if not value >= 0:
        raise _InvalidValueError("expected a number >= 0 (0 turns the rule off)", attribute.name)


def _ticker_symbols(
    _instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]
) -> None:
    for symbol in value:
        if not symbol or symbol != symbol.strip().upper() or any(c in symbol for c in " ,"):
            raise _InvalidValueError(
                "expected upper-case ticker symbols without spaces or commas",
                attribute.name,
            )


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ``::1``, ``[::1]``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- Schema ------------------------------------------------------------------------------


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


def _secret_keys_hidden(values: Mapping[str, object]) -> dict[str, object]:
    """Wrap string values under keys naming a password, token, secret or key in Secret."""
    return {
        key: Secret(value)
        if isinstance(value, str) and any(part in key.lower() for part in SECRET_KEY_PARTS)
        else value
        for key, value in values.items()
    }


@attrs.frozen
class WebSocketLogSettings:
    """The LogEngine's WebSocket stream.

    Attributes:
        enabled: Serve the stream.
        host: Interface to bind; ``127.0.0.1`` by default. Any other host requires ``token``.
        port: TCP port, 0 to 65535; 0 picks a free one.
        token: Shared secret a client must present (``Authorization: Bearer <token>`` header
            or ``?token=`` query parameter). Optional on loopback, required elsewhere.

    Raises:
        ValueError: A field is out of range, or the stream is enabled on a host other than
            loopback (127.0.0.0/8, ::1, localhost) without a non-empty ``token``.
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = attrs.field(default=8765, validator=_integer_between(0, 65535))
    token: Secret | None = None

    def __attrs_post_init__(self) -> None:
        if self.enabled and not is_loopback_host(self.host) and not self.token:
            raise _InvalidValueError(
                f"a non-empty token is required because the stream is enabled on host "
                f"{self.host!r}, which is not a loopback address (127.0.0.0/8, ::1, localhost)",
                "token",
            )


@attrs.frozen
class LogSettings:
    """Where log records go.

    Attributes:
        level: Lowest level written to the sinks (DEBUG, INFO, WARNING, ERROR, CRITICAL);
            any case is accepted and stored upper-cased.
        console: Write colored records to stderr.
        file: Write a daily-rotated file under ``directory``.
        directory: Log directory; defaults to ``<data_directory>/logs``.
        retention_days: Days of rotated files kept, at least 1.
        websocket: The WebSocket stream.
    """

    level: str = attrs.field(default="INFO", converter=_upper_case, validator=_one_of(LOG_LEVELS))
    console: bool = True
    file: bool = True
    directory: Path | None = None
    retention_days: int = attrs.field(default=14, validator=_integer_between(1))
    websocket: WebSocketLogSettings = attrs.field(factory=WebSocketLogSettings)


@attrs.frozen
class EventSettings:
    """The event engine.

    Attributes:
        timer_interval_s: Seconds between timer events; greater than 0.
        stop_timeout_s: How long ``stop()`` waits for queued events and threads, in seconds;
            greater than 0.
    """

    timer_interval_s: float = attrs.field(default=1.0, validator=_positive_number)
    stop_timeout_s: float = attrs.field(default=10.0, validator=_positive_number)


@attrs.frozen
class PluginSettings:
    """Plugin loading.

    Attributes:
        disabled: Entry-point names or distribution names that are not loaded.
    """

    disabled: tuple[str, ...] = ()


@attrs.frozen
class DatabaseSettings:
    """Storage.

    Attributes:
        url: A SQLAlchemy URL (``postgresql+psycopg://user:password@host/db``); it may hold a
            password, so it is a secret.  None means the SQLite file ``otrade.db`` under the
            data directory.
        auto_upgrade: Upgrade an older schema at start; when False, an older schema is
            refused with an error that says to run ``otrade db upgrade``.
        load_listings_on_start: Load the stored option listings at start and emit them as
            contract events.
        busy_timeout_s: How long a SQLite connection waits for a lock before failing.
        write_timeout_s: How long the event thread waits for a trade to be committed.
    """

    url: Secret | None = None
    auto_upgrade: bool = True
    load_listings_on_start: bool = True
    busy_timeout_s: float = attrs.field(default=10.0, validator=_positive_number)
    write_timeout_s: float = attrs.field(default=10.0, validator=_positive_number)


GREEKS_POLICIES = ("local", "provider", "both")
"""The accepted ``marketdata.greeks_policy`` values."""


@attrs.frozen
class MarketDataSettings:
    """Live market data.

    Attributes:
        feed: The datafeed by name (``simulated``, ``tradier``, or a plugin's); "" for
            none (portfolios are still built from the stored listings, with no live data).
        greeks_policy: ``local`` (computed from live mids, the default), ``provider`` (the
            feed's own), or ``both`` (local, with the provider's kept beside it and a
            divergence flag).
        stale_after_s: A quote older than this is marked stale.
        rate: The continuously compounded risk-free rate the local model uses.
        divergence_iv: With ``both``, the IV difference that flags a divergence.
    """

    feed: str = "simulated"
    greeks_policy: str = attrs.field(default="local", validator=_one_of(GREEKS_POLICIES))
    stale_after_s: float = attrs.field(default=30.0, validator=_positive_number)
    rate: float = 0.04
    divergence_iv: float = attrs.field(default=0.02, validator=_positive_number)


@attrs.frozen
class TradierSettings:
    """The Tradier datafeed.

    Attributes:
        token: The API token (a secret).
        sandbox: Use the sandbox host (15-minute delayed data, no streaming).
        base_url: Any other REST base URL (tests use a local fake); "" for the default.
        stream_url: Any other WebSocket URL; "" for Tradier's.
        requests_per_minute: The market-data limit of the token; 0 for the default (120 in
            production, 60 in the sandbox).
        streaming: Stream quotes over the WebSocket (production only) besides polling.
        timeout_s: Per-request timeout.
        underlyings: Underlyings whose listings the feed loads from Tradier at start (every
            root's expirations, then one chain call per expiry), so portfolios exist with
            no gateway; empty leaves listings to the database and the gateway.
    """

    token: Secret | None = None
    sandbox: bool = False
    base_url: str = ""
    stream_url: str = ""
    requests_per_minute: int = attrs.field(default=0, validator=_integer_between(0))
    streaming: bool = False
    timeout_s: float = attrs.field(default=10.0, validator=_positive_number)
    underlyings: tuple[str, ...] = attrs.field(default=(), validator=_ticker_symbols)


@attrs.frozen
class SimulatedFeedSettings:
    """The simulated datafeed (the embedded default: no account, no network).

    Attributes:
        seed: Random seed; the same seed and clock give the same market.
        underlyings: The simulated underlyings.
        start_price: Every underlying's price when the simulation starts.
        volatility: At-the-money implied volatility of the nearest expiry, and the
            volatility of the underlying's path.
        interval_s: Clock seconds between market updates.
    """

    seed: int = 7
    underlyings: tuple[str, ...] = attrs.field(default=("SPY",), validator=_ticker_symbols)
    start_price: float = attrs.field(default=450.0, validator=_positive_number)
    volatility: float = attrs.field(default=0.18, validator=_positive_number)
    interval_s: float = attrs.field(default=1.0, validator=_positive_number)


KILL_SWITCH_MODES = ("off", "reduce_only", "halt")
"""The accepted ``risk.kill_switch`` values."""


@attrs.frozen
class RiskSettings:
    """Pre-trade checks of the RiskEngine (:mod:`otrade.risk`).

    Every limit is inclusive (an order exactly at the limit passes) and ``0`` turns its
    rule off.  Money is in the contract's currency; volumes are whole contracts, shares or
    combo units.

    Attributes:
        kill_switch: The mode at start: ``off`` (orders are checked by the rules below),
            ``reduce_only`` (only orders that shrink a position pass) or ``halt`` (every
            order is refused).  The engine's ``halt()``, ``reduce_only()`` and ``resume()``
            change it at run time.
        max_option_volume: Contracts per single-option order.
        max_underlying_volume: Shares per underlying order.
        max_combo_volume: Units per combo order.
        max_premium: ``|price| x volume x multiplier`` of an option or combo order (combos
            by their net price); a market order is valued at the current mid.
        max_notional: ``price x shares`` of an underlying order (the mid for a market order).
        max_open_orders: Active orders one strategy may have when it sends another.
        max_orders_per_second: Orders one strategy may send in any rolling second.
        max_orders_per_minute: Orders one strategy may send in any rolling minute.
        max_global_orders_per_second: Orders all strategies together may send per second.
        max_global_orders_per_minute: Orders all strategies together may send per minute.
        price_collar_pct: How far a limit price may be from the current mid, in percent of
            the mid.  The collar is the wider of this and ``price_collar_ticks``; both 0
            turn the rule off.
        price_collar_ticks: How far a limit price may be from the mid, in minimum ticks.
        collar_requires_mid: Refuse a limit order when there is no mid to compare its price
            with; when False such an order skips the collar.
        refuse_stale_market_orders: Refuse a market order when a leg's quote is stale.
        max_market_spread_pct: Refuse a market order when a leg's ``(ask - bid) / mid`` is
            above this, in percent (or when the leg has no two-sided quote).
        max_strategy_contracts: Option contracts (summed ``|quantity|``) one strategy may
            hold after the order.
        max_strategy_delta: The ``|net delta|`` one strategy may hold after the order, in
            share equivalents (``delta x multiplier x contracts`` plus shares).  Off by
            default: a sensible figure depends on the account's size.
    """

    kill_switch: str = attrs.field(default="off", validator=_one_of(KILL_SWITCH_MODES))
    max_option_volume: int = attrs.field(default=100, validator=_integer_between(0))
    max_underlying_volume: int = attrs.field(default=10_000, validator=_integer_between(0))
    max_combo_volume: int = attrs.field(default=50, validator=_integer_between(0))
    max_premium: float = attrs.field(default=50_000.0, validator=_non_negative_number)
    max_notional: float = attrs.field(default=1_000_000.0, validator=_non_negative_number)
    max_open_orders: int = attrs.field(default=20, validator=_integer_between(0))
    max_orders_per_second: int = attrs.field(default=5, validator=_integer_between(0))
    max_orders_per_minute: int = attrs.field(default=60, validator=_integer_between(0))
    max_global_orders_per_second: int = attrs.field(default=20, validator=_integer_between(0))
    max_global_orders_per_minute: int = attrs.field(default=300, validator=_integer_between(0))
    price_collar_pct: float = attrs.field(default=10.0, validator=_non_negative_number)
    price_collar_ticks: int = attrs.field(default=5, validator=_integer_between(0))
    collar_requires_mid: bool = True
    refuse_stale_market_orders: bool = True
    max_market_spread_pct: float = attrs.field(default=25.0, validator=_non_negative_number)
    max_strategy_contracts: int = attrs.field(default=500, validator=_integer_between(0))
    max_strategy_delta: float = attrs.field(default=0.0, validator=_non_negative_number)


@attrs.frozen
class StrategyInstanceSettings:
    """A strategy for the OptionStrategyEngine to add at start (``[[strategy.instances]]``).

    Attributes:
        name: The instance's unique name (it keys the stored record and the holding).
        class_name: The strategy class: a name the engine loaded (from ``strategy.paths``,
            ``strategy.modules`` or a plugin) or an import path ``package.module:ClassName``.
        underlying: The underlying (portfolio) it trades.
        parameters: Values for the class's ``parameters``, by name.
        start: Initialise and start it once added (False: only add it).
    """

    name: str = attrs.field(validator=attrs.validators.min_len(1))
    class_name: str = attrs.field(validator=attrs.validators.min_len(1))
    underlying: str = ""
    parameters: dict[str, Scalar] = attrs.field(factory=dict)
    start: bool = True


@attrs.frozen
class StrategySettings:
    """The OptionStrategyEngine (:mod:`otrade.strategy`).

    Attributes:
        paths: Python files, or directories of them, whose strategy classes to load.
        modules: Importable modules whose strategy classes to load.
        restore: At start, add and initialise every stored strategy that was not deleted.
        start_restored: Start the restored strategies that were running at the last stop.
        cancel_on_stop: Cancel a strategy's open orders when it stops.
        save_interval_s: How often (clock seconds) changed variables are saved.
        instances: Strategies to add at start when no stored record has their name.
    """

    paths: tuple[Path, ...] = ()
    modules: tuple[str, ...] = ()
    restore: bool = True
    start_restored: bool = True
    cancel_on_stop: bool = True
    save_interval_s: float = attrs.field(default=5.0, validator=_positive_number)
    instances: tuple[StrategyInstanceSettings, ...] = ()


@attrs.frozen
class RunSettings:
    """``otrade run``: which gateway to connect and what to do at exit.

    Attributes:
        gateway: The gateway to connect (``ib``, ``paper`` or a plugin's).
        connect: The gateway's connect settings (for ``ib``: host, port, client_id,
            account...).  A string under a key naming a password, token, secret or API
            key is kept as a :class:`Secret`, so it is redacted everywhere.
        cancel_open_orders_on_exit: Cancel every open order before shutting down (False
            keeps them working at the broker).
    """

    gateway: str = "paper"
    connect: dict[str, Scalar | Secret] = attrs.field(factory=dict, converter=_secret_keys_hidden)
    cancel_open_orders_on_exit: bool = True


@attrs.frozen
class Settings:
    """Everything otrade reads at start.

    Attributes:
        data_directory: Where otrade keeps its files (logs, the SQLite database).
        log: Logging.
        event: The event engine.
        plugins: Plugin loading.
        database: Storage.
        marketdata: Live market data.
        tradier: The Tradier datafeed.
        simulated: The simulated datafeed.
        risk: Pre-trade risk checks.
        strategy: The strategy engine and the strategies to run.
        run: What ``otrade run`` connects.
    """

    data_directory: Path = attrs.field(factory=lambda: Path.home() / ".otrade")
    log: LogSettings = attrs.field(factory=LogSettings)
    event: EventSettings = attrs.field(factory=EventSettings)
    plugins: PluginSettings = attrs.field(factory=PluginSettings)
    database: DatabaseSettings = attrs.field(factory=DatabaseSettings)
    marketdata: MarketDataSettings = attrs.field(factory=MarketDataSettings)
    tradier: TradierSettings = attrs.field(factory=TradierSettings)
    simulated: SimulatedFeedSettings = attrs.field(factory=SimulatedFeedSettings)
    risk: RiskSettings = attrs.field(factory=RiskSettings)
    strategy: StrategySettings = attrs.field(factory=StrategySettings)
    run: RunSettings = attrs.field(factory=RunSettings)

    @property
    def log_directory(self) -> Path:
        """The effective log directory."""
        return self.log.directory or self.data_directory / "logs"


# --- Public API --------------------------------------------------------------------------


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Load settings from a TOML file and ``OTRADE_*`` environment variables.

    Environment variables win over the file; keys in neither keep their defaults.  Strings
    from the environment are converted by the field's type: booleans accept
    true/false/1/0/yes/no/on/off, an empty string sets an optional field to None, and
    ``tuple[str, ...]`` fields take comma-separated items.  File values must already have
    the right TOML type (an integer is accepted where a number is expected; nothing else is
    coerced).  Paths expand a leading ``~``.

    Args:
        path: The TOML file.  None means the file named by ``OTRADE_CONFIG`` in ``environ``,
            or no file when that is unset or empty.
        environ: The environment to read; defaults to :data:`os.environ`.

    Returns:
        The validated settings.

    Raises:
        ConfigError: The named file does not exist or cannot be read, it is not valid TOML,
            or any key or value is wrong.  One error lists every problem, one per line.
    """
    environ = os.environ if environ is None else environ
    file_path = _settings_file(path, environ)
    file_data = _read_toml(file_path) if file_path is not None else {}
    environment = _read_environment(environ, Settings)
    merged = _merge(file_data, environment.values)
    try:
        settings = _CONVERTER.structure(merged, Settings)
    except Exception as error:  # noqa: BLE001 - every failure becomes a line of one ConfigError
        failures = _failures_from(error)
    else:
        if not environment.problems:
            return settings
        failures = []
    # Raised outside the except block so that no cattrs exception (which may quote a
    # secret) rides along as __context__.
    describer = _ProblemDescriber(Settings, merged, file_data, file_path, environment.sources)
    problems = environment.problems + [describer.describe(failure) for failure in failures]
    raise ConfigError(_format_problems(problems))


def secret_values(settings: object) -> list[str]:
    """Every non-empty secret in an attrs tree, in field order, without duplicates.

    Args:
        settings: A :class:`Settings` or any attrs instance, sequence or mapping holding
            :class:`Secret` values at any depth.

    Returns:
        The secrets' values, for a log sink to redact.
    """
    return list(dict.fromkeys(_iterate_secrets(settings)))


def settings_to_dict(settings: Settings) -> dict[str, object]:
    """The settings as plain data: nested dicts, Paths as str, tuples as lists.

    Secrets are replaced by :data:`REDACTED`; unset optional keys are None.

    Args:
        settings: The settings to show.

    Returns:
        A dict that ``json.dumps`` can write.
    """
    data = _CONVERTER.unstructure(settings)
    if not isinstance(data, dict):
        raise TypeError(f"expected settings to unstructure to a dict, got {type(data).__name__}")
    return data


def dump_settings_toml(settings: Settings) -> str:
    """The settings as a TOML document that :func:`load_settings` reads back.

    Secrets are written as :data:`REDACTED` and unset optional keys are left out, so the
    output is for display and as a template, not a way to copy secrets.

    Args:
        settings: The settings to write.

    Returns:
        The TOML text, ending in a newline.
    """
    lines: list[str] = []
    _write_toml_table(settings_to_dict(settings), (), lines)
    return "\n".join(lines) + "\n"


# --- Schema walking ----------------------------------------------------------------------


def _is_section(type_: object) -> typing.TypeGuard[type[AttrsInstance]]:
    """True for an attrs class that is a table of settings (a Secret is a leaf value)."""
    return isinstance(type_, type) and attrs.has(type_) and not issubclass(type_, Secret)


def _without_none(type_: object) -> tuple[object, bool]:
    """``(X, True)`` for ``X | None``, else ``(type_, False)``."""
    if typing.get_origin(type_) not in (typing.Union, types.UnionType):
        return type_, False
    arguments = [argument for argument in typing.get_args(type_) if argument is not type(None)]
    if len(arguments) == len(typing.get_args(type_)):
        return type_, False
    return (arguments[0] if len(arguments) == 1 else type_), True


def _sequence_item_type(type_: object) -> object | None:
    """The item type of ``tuple[X, ...]`` or ``list[X]``, else None."""
    origin = typing.get_origin(type_)
    arguments = typing.get_args(type_)
    homogeneous_tuple = origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis
    if not (homogeneous_tuple or (origin is list and len(arguments) == 1)):
        return None
    item_type: object = arguments[0]
    return item_type


def _is_sequence_type(type_: object) -> bool:
    return _sequence_item_type(type_) is not None


def _field_types(section: type[AttrsInstance]) -> dict[str, object]:
    """The section's initialisable fields and their resolved types, in field order."""
    hints = typing.get_type_hints(section)
    return {field.name: hints[field.name] for field in attrs.fields(section) if field.init}


def _walk_schema(
    section: type[AttrsInstance], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every key below ``section`` (sections and leaves), depth first, with its type."""
    for name, type_ in _field_types(section).items():
        path = (*prefix, name)
        yield path, type_
        inner, _ = _without_none(type_)
        if _is_section(inner):
            yield from _walk_schema(inner, path)


def _type_at(schema: type[AttrsInstance], path: _KeyPath) -> object | None:
    """The declared type at ``path``, or None when no field is there."""
    current: object = schema
    for part in path:
        inner, _ = _without_none(current)
        if isinstance(part, str) and _is_section(inner):
            found = _field_types(inner).get(part)
        elif isinstance(part, int):
            found = _sequence_item_type(inner)
        else:
            found = None
        if found is None:
            return None
        current = found
    return current


def _mentions_secret(type_: object) -> bool:
    if type_ is Secret:
        return True
    return any(_mentions_secret(argument) for argument in typing.get_args(type_))


def _iterate_secrets(value: object) -> Iterator[str]:
    if isinstance(value, Secret):
        if value:
            yield value.get_secret_value()
    elif attrs.has(value_type := type(value)):
        for field in attrs.fields(value_type):
            yield from _iterate_secrets(getattr(value, field.name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _iterate_secrets(item)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for item in value:
            yield from _iterate_secrets(item)


# --- The file ----------------------------------------------------------------------------


def _settings_file(path: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path)
    configured = environ.get(CONFIG_VARIABLE, "")
    return Path(configured) if configured else None


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"settings file {path} is not valid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"settings file {path} is not UTF-8 text: {error.reason}") from None
    except OSError as error:
        raise ConfigError(f"cannot read settings file {path}: {error.strerror}") from None


# --- The environment ---------------------------------------------------------------------


@attrs.frozen
class _Problem:
    """One line of a ConfigError."""

    key: str
    source: str
    expected: str
    shown_value: str | None = None

    def __str__(self) -> str:
        line = f"{self.key} (from {self.source}): {self.expected}"
        return line if self.shown_value is None else f"{line}, got {self.shown_value}"


_UNREADABLE = object()
"""Stands for an environment value that could not be parsed (already reported)."""


@attrs.frozen
class _EnvironmentSettings:
    """Values read from ``OTRADE_*`` variables, keyed by path, and the variable behind each."""

    values: dict[tuple[str, ...], object]
    sources: dict[tuple[str, ...], str]
    problems: list[_Problem]


def _variable_name(path: Sequence[str]) -> str:
    return ENVIRONMENT_PREFIX + _NESTING_SEPARATOR.join(part.upper() for part in path)


def _read_environment(
    environ: Mapping[str, str], schema: type[AttrsInstance]
) -> _EnvironmentSettings:
    leaves: dict[str, tuple[tuple[str, ...], object]] = {}
    sections: dict[str, tuple[str, ...]] = {}
    for path, type_ in _walk_schema(schema):
        if _is_section(_without_none(type_)[0]):
            sections[_variable_name(path)] = path
        else:
            leaves[_variable_name(path)] = (path, type_)
    result = _EnvironmentSettings(values={}, sources={}, problems=[])
    for variable in sorted(environ):
        if not variable.startswith(ENVIRONMENT_PREFIX):
            continue
        canonical = ENVIRONMENT_PREFIX + variable.removeprefix(ENVIRONMENT_PREFIX).upper()
        if canonical == CONFIG_VARIABLE or canonical.startswith(TEST_VARIABLE_PREFIX):
            continue
        source = f"environment variable {variable}"
        if canonical in leaves:
            path, type_ = leaves[canonical]
            _read_variable(result, variable, environ[variable], path, type_)
        elif canonical in sections:
            key = ".".join(sections[canonical])
            keys = [name for name in leaves if name.startswith(canonical + _NESTING_SEPARATOR)]
            examples = ", ".join(keys[:3]) + (", ..." if len(keys) > 3 else "")
            expected = f"names a whole section, not a key; set its keys instead: {examples}"
            result.problems.append(_Problem(key, source, expected))
        else:
            key = canonical.removeprefix(ENVIRONMENT_PREFIX).lower().replace("__", ".")
            result.problems.append(_Problem(key, source, _not_a_setting(canonical, leaves)))
    return result


def _not_a_setting(canonical: str, leaves: Mapping[str, object]) -> str:
    # Compare without the shared prefix, which would make every name look close.
    suffixes = {name.removeprefix(ENVIRONMENT_PREFIX): name for name in leaves}
    suffix = canonical.removeprefix(ENVIRONMENT_PREFIX)
    close = [suffixes[match] for match in difflib.get_close_matches(suffix, suffixes, n=3)]
    if close:
        return f"not a setting; did you mean {' or '.join(close)}?"
    return f"not a setting; valid variables: {', '.join(leaves)}"


def _read_variable(
    result: _EnvironmentSettings, variable: str, text: str, path: tuple[str, ...], type_: object
) -> None:
    source = f"environment variable {variable}"
    key = ".".join(path)
    if path in result.sources:
        expected = f"also set by environment variable {result.sources[path]}; set it once"
        result.problems.append(_Problem(key, source, expected))
        return
    result.sources[path] = variable
    try:
        result.values[path] = _parse_environment_value(text, type_)
    except _InvalidValueError as error:
        shown = "<redacted>" if _mentions_secret(type_) else repr(text)
        result.problems.append(_Problem(key, source, error.expected, shown))
        # Drop the file's value too, so the key is not checked again under this variable.
        result.values[path] = _UNREADABLE


def _parse_environment_value(text: str, type_: object) -> object:
    """Turn an environment string into the value a TOML file would hold for ``type_``.

    Strings for str, Path, Secret and other types are returned as they are; the converter
    structures them like file values.
    """
    inner, optional = _without_none(type_)
    if optional and not text.strip():
        return None
    if inner is bool:
        word = text.strip().lower()
        if word in _TRUE_WORDS or word in _FALSE_WORDS:
            return word in _TRUE_WORDS
        raise _InvalidValueError("expected a boolean (true/false, 1/0, yes/no, on/off)")
    if inner is int:
        try:
            return int(text)
        except ValueError:
            raise _InvalidValueError("expected an integer") from None
    if inner is float:
        try:
            return float(text)
        except ValueError:
            raise _InvalidValueError("expected a number") from None
    item_type = _sequence_item_type(inner)
    if item_type is not None:
        items = (item.strip() for item in text.split(","))
        return [_parse_environment_value(item, item_type) for item in items if item]
    return text


def _merge(
    file_data: Mapping[str, object], environment: Mapping[tuple[str, ...], object]
) -> dict[str, object]:
    """The file's tables with the environment's values laid over them (copies, not views)."""
    merged = _copy_tables(file_data)
    for path, value in environment.items():
        table = merged
        for part in path[:-1]:
            child = table.setdefault(part, {})
            if not isinstance(child, dict):
                # The file holds a non-table here; its own error is reported instead.
                break
            table = child
        else:
            if value is _UNREADABLE:
                table.pop(path[-1], None)
            else:
                table[path[-1]] = value
    return merged


def _copy_tables(table: Mapping[str, object]) -> dict[str, object]:
    return {
        key: _copy_tables(value) if isinstance(value, Mapping) else value
        for key, value in table.items()
    }


# --- Structuring -------------------------------------------------------------------------


def _structure_int(value: object, _type: object) -> int:
    # bool is an int subclass; a TOML true is never a port number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _InvalidValueError("expected an integer")
    return value


def _structure_float(value: object, _type: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _InvalidValueError("expected a number")
    return float(value)


def _structure_bool(value: object, _type: object) -> bool:
    if not isinstance(value, bool):
        raise _InvalidValueError("expected a boolean (true or false)")
    return value


def _structure_str(value: object, _type: object) -> str:
    if not isinstance(value, str):
        raise _InvalidValueError("expected a string")
    return value


def _structure_scalar(value: object, _type: object) -> object:
    # TOML gives these types already; bool before int (True is an int).
    if isinstance(value, bool | int | float | str):
        return value
    raise _InvalidValueError("expected a string, a number or a boolean")


def _structure_path(value: object, _type: object) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str):
        raise _InvalidValueError("expected a path (a string)")
    if not value:
        raise _InvalidValueError("expected a non-empty path")
    return Path(value).expanduser()


def _structure_secret(value: object, _type: object) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise _InvalidValueError("expected a string")
    return Secret(value)


def _structure_as(converter: cattrs.Converter, value: object, type_: object) -> object:
    # cattrs types the target as type[T]; a settings field's type may be a union or generic.
    return converter.structure(value, typing.cast("type[object]", type_))


def _sequence_hook_factory(sequence_type: object, converter: cattrs.Converter) -> StructureHook:
    item_type = _sequence_item_type(sequence_type)
    make = tuple if typing.get_origin(sequence_type) is tuple else list

    def structure(value: object, _type: object) -> object:
        # A str is iterable; without this check "abc" would become ("a", "b", "c").
        if not isinstance(value, list | tuple):
            raise _InvalidValueError("expected an array")
        items: list[object] = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                items.append(_structure_as(converter, item, item_type))
            except Exception as error:  # noqa: BLE001 - collected, then reported together
                error.add_note(IterableValidationNote(f"@ index {index}", index, item_type))
                errors.append(error)
        if errors:
            raise IterableValidationError(f"While structuring {sequence_type!r}", errors, make)
        return make(items)

    return structure


def _checked_field_hook(
    converter: cattrs.Converter, field: attrs.Attribute[object]
) -> StructureHook:
    """Structure one field and run its converter and validator right away.

    attrs stops at a class's first failing validator; running each field's validator here,
    inside cattrs' per-field error collection, reports every bad field of a section at once.
    """
    field_converter = field.converter
    field_validator = field.validator

    def structure(value: object, type_: object) -> object:
        result = _structure_as(converter, value, type_)
        if callable(field_converter):
            result = field_converter(result)
        if field_validator is not None:
            field_validator(None, field, result)
        return result

    return structure


def _checks_values(field: attrs.Attribute[object]) -> bool:
    # An attrs.Converter may need the instance; such a field is left to __init__.
    plain_converter = field.converter is not None and not isinstance(
        field.converter, attrs.Converter
    )
    return field.validator is not None or plain_converter


def _section_hook_factory(section: type, converter: cattrs.Converter) -> StructureHook:
    overrides = {
        field.name: override(struct_hook=_checked_field_hook(converter, field))
        for field in attrs.fields(section)
        if _checks_values(field)
    }
    # The converter forbids extra keys and collects detailed errors; the overrides are the
    # only keyword arguments (mypy cannot tell them from the _cattrs_* flags).
    structure_fields: StructureHook = make_dict_structure_fn(section, converter, **overrides)  # type: ignore[arg-type]

    def structure(value: object, type_: object) -> object:
        if not isinstance(value, Mapping):
            raise _InvalidValueError("expected a table of settings")
        return structure_fields(value, type_)

    return structure


def _unstructure_sequence(items: Sequence[object]) -> list[object]:
    return [_CONVERTER.unstructure(item) for item in items]


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(Path, _structure_path)
    converter.register_structure_hook_func(
        lambda type_: type_ in (Scalar, Scalar | Secret), _structure_scalar
    )
    converter.register_structure_hook(Secret, _structure_secret)
    converter.register_structure_hook_factory(_is_sequence_type, _sequence_hook_factory)
    converter.register_structure_hook_factory(_is_section, _section_hook_factory)
    converter.register_unstructure_hook(Path, str)
    converter.register_unstructure_hook(Secret, lambda _secret: REDACTED)
    converter.register_unstructure_hook_func(_is_sequence_type, _unstructure_sequence)
    return converter


_CONVERTER = _make_converter()


@attrs.frozen
class _Failure:
    """A structuring failure at ``path``, before the source and value are looked up."""

    path: _KeyPath
    expected: str
    show_value: bool = True
    from_foreign_error: bool = False
    """The text came from an exception otrade did not raise and may quote the value."""


def _failures_from(error: Exception) -> list[_Failure]:
    failures: list[_Failure] = []
    _collect_failures(error, (), attributed=False, failures=failures)
    return failures


def _collect_failures(
    error: BaseException, path: _KeyPath, *, attributed: bool, failures: list[_Failure]
) -> None:
    """Walk cattrs' exception groups, turning each leaf exception into a :class:`_Failure`.

    ``attributed`` tells whether cattrs already added the field's name to ``path``; when it
    did not (the exception came from a class's ``__init__``), the key the raiser names is used.
    """
    if isinstance(error, ClassValidationError):
        with_notes, without_notes = error.group_exceptions()
        for sub_error, attribute_note in with_notes:
            _collect_failures(
                sub_error, (*path, attribute_note.name), attributed=True, failures=failures
            )
        for sub_error in without_notes:
            _collect_failures(sub_error, path, attributed=False, failures=failures)
    elif isinstance(error, IterableValidationError):
        indexed, unindexed = error.group_exceptions()
        for sub_error, index_note in indexed:
            _collect_failures(
                sub_error, (*path, index_note.index), attributed=True, failures=failures
            )
        for sub_error in unindexed:
            _collect_failures(sub_error, path, attributed=False, failures=failures)
    elif isinstance(error, ForbiddenExtraKeysError):
        valid = [field.name for field in attrs.fields(error.cl) if field.init]
        for key in sorted(error.extra_fields):
            # The value stays hidden: a misspelled secret key still holds a secret.
            failures.append(_Failure((*path, key), _unknown_key(key, valid), show_value=False))
    elif isinstance(error, _InvalidValueError):
        key_path = path if attributed or error.key is None else (*path, error.key)
        failures.append(_Failure(key_path, error.expected))
    elif isinstance(error, KeyError):
        failures.append(_Failure(path, "required key is missing", show_value=False))
    else:
        detail = str(error) or type(error).__name__
        failures.append(_Failure(path, f"invalid value ({detail})", from_foreign_error=True))


def _unknown_key(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}; valid keys: {', '.join(valid)}"


# --- Error messages ----------------------------------------------------------------------

_MISSING = object()


def _lookup(data: object, path: _KeyPath) -> object:
    for part in path:
        in_table = isinstance(part, str) and isinstance(data, Mapping) and part in data
        in_array = isinstance(part, int) and isinstance(data, list | tuple) and part < len(data)
        if not (in_table or in_array):
            return _MISSING
        data = data[part]  # type: ignore[index]
    return data


def _dotted(path: _KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "<settings>"


@attrs.frozen
class _ProblemDescriber:
    """Names the source of a failure and shows its value (redacting secrets)."""

    schema: type[AttrsInstance]
    merged: Mapping[str, object]
    file_data: Mapping[str, object]
    file_path: Path | None
    environment_sources: Mapping[tuple[str, ...], str]

    def describe(self, failure: _Failure) -> _Problem:
        secret = _mentions_secret(_type_at(self.schema, failure.path))
        expected = failure.expected
        if secret and failure.from_foreign_error:
            expected = "invalid value"
        shown_value = None
        value = _lookup(self.merged, failure.path)
        if failure.show_value and value is not _MISSING:
            shown_value = "<redacted>" if secret else repr(value)
        return _Problem(_dotted(failure.path), self.source(failure.path), expected, shown_value)

    def source(self, path: _KeyPath) -> str:
        for length in range(len(path), 0, -1):
            variable = self.environment_sources.get(typing.cast(tuple[str, ...], path[:length]))
            if variable is not None:
                return f"environment variable {variable}"
        if self.file_path is not None and _lookup(self.file_data, path) is not _MISSING:
            return str(self.file_path)
        # A cross-field check on a key nobody set: name whatever set the keys beside it.
        section = path[:-1]
        sources = [
            f"environment variable {variable}"
            for key, variable in self.environment_sources.items()
            if key[: len(section)] == section
        ]
        section_data = _lookup(self.file_data, section)
        if self.file_path is not None and isinstance(section_data, Mapping) and section_data:
            sources.append(str(self.file_path))
        return " and ".join(sources) or "defaults"


def _format_problems(problems: Sequence[_Problem]) -> str:
    count = f"{len(problems)} problem" + ("" if len(problems) == 1 else "s")
    return f"invalid settings ({count}):\n" + "\n".join(f"  {problem}" for problem in problems)


# --- TOML output -------------------------------------------------------------------------


def _write_toml_table(table: Mapping[str, object], path: tuple[str, ...], lines: list[str]) -> None:
    if path:
        if lines:
            lines.append("")
        lines.append(f"[{'.'.join(path)}]")
    for key, value in table.items():
        if value is not None and not isinstance(value, Mapping):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in table.items():
        if isinstance(value, Mapping):
            _write_toml_table(value, (*path, key), lines)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        # repr gives TOML's spelling, including inf and nan.
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are TOML basic-string escapes; TOML also wants DEL escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):  # an inline table (a table inside an array)
        items = (f"{json.dumps(str(key))} = {_toml_value(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"cannot write a {type(value).__name__} as a TOML value")
