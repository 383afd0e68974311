"""Opening the database: URL resolution, engine creation, and plain-words errors.

:func:`open_database` turns ``settings.database`` into a verified SQLAlchemy
:class:`~sqlalchemy.Engine`: the SQLite file ``otrade.db`` under the data directory by
default, or the configured URL (``postgresql+psycopg://...``).  SQLite connections run in
WAL mode with foreign keys on and ``synchronous=FULL``: every commit reaches the disk.

Every failure becomes one :class:`~otrade.errors.DatabaseError` that names the file or the
URL (through :func:`display_url`, so a password never shows) and says what went wrong.  The
original exception is dropped from the chain, because a driver's message may quote the URL.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import sqlalchemy
from sqlalchemy import URL, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from otrade.errors import DatabaseError
from otrade.settings import Settings

__all__ = [
    "DATABASE_FILE_NAME",
    "URL_EXAMPLES",
    "database_errors",
    "display_url",
    "open_database",
    "resolve_url",
]

DATABASE_FILE_NAME = "otrade.db"
"""The SQLite file under ``settings.data_directory`` used when no URL is configured."""

URL_EXAMPLES = (
    "sqlite:////absolute/path/otrade.db or postgresql+psycopg://user:password@host:5432/database"
)
"""What a database URL looks like, quoted in error messages."""

_HIDDEN = "***"
_POSTGRESQL_CONNECT_TIMEOUT_S = 10
# The files SQLite may create for a database: the file itself and its companions.
_SQLITE_FILE_SUFFIXES = ("", "-wal", "-shm", "-journal")
_BACKGROUND_LINK = re.compile(r"\s*\(Background on this error at: [^)]*\)")
_SQL_ECHO = re.compile(r"\s*\[(SQL|parameters): .*", re.DOTALL)


def resolve_url(settings: Settings) -> URL:
    """The database URL: ``settings.database.url``, else the default SQLite file.

    Args:
        settings: The loaded settings.

    Returns:
        The configured URL, or ``sqlite:///<data_directory>/otrade.db``.

    Raises:
        DatabaseError: The configured URL is empty or not a valid SQLAlchemy URL; the message
            shows it with any password hidden and says what a URL looks like.
    """
    configured = settings.database.url
    if configured is None:
        return URL.create("sqlite", database=str(settings.data_directory / DATABASE_FILE_NAME))
    text = configured.get_secret_value().strip()
    if not text:
        raise DatabaseError(
            "database.url is empty; remove it to use the SQLite file under data_directory, "
            f"or give a URL such as {URL_EXAMPLES}"
        )
    try:
        return sqlalchemy.make_url(text)
    except (ArgumentError, ValueError):
        # Raised below, outside the handler: the parser's message may quote the password.
        pass
    raise DatabaseError(
        f"database URL {_hide_password_in_text(text)!r} is not a valid SQLAlchemy URL; "
        f"a URL looks like {URL_EXAMPLES}"
    )


def display_url(url: URL) -> str:
    """The URL as it may be shown: the file path for SQLite, else with passwords hidden.

    Args:
        url: A database URL.

    Returns:
        The file path for a SQLite file URL; otherwise the URL rendered with its password
        (and any ``password`` query parameter) replaced by ``***``.
    """
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        return str(sqlite_file)
    if "password" in url.query:
        url = url.update_query_dict({"password": _HIDDEN})
    return url.render_as_string(hide_password=True)


def open_database(settings: Settings) -> Engine:
    """Create the engine for ``settings.database`` and check that it connects.

    The data directory is created when the default SQLite file is used.  SQLite connections
    get ``journal_mode=WAL``, ``foreign_keys=ON``, ``busy_timeout`` (from
    ``settings.database.busy_timeout_s``) and ``synchronous=FULL``; PostgreSQL connections
    are pinged before each checkout.  When opening fails, the SQLite files and directories
    this call created are removed again.

    Args:
        settings: The loaded settings.

    Returns:
        An engine whose first connection succeeded; the caller disposes of it.

    Raises:
        DatabaseError: The URL is invalid, its dialect or driver is unknown, the driver is
            not installed, the server refused the connection or does not know the
            database, or the SQLite file cannot be created, cannot be opened or is not a
            database.  The message names the path or URL and the cause.
    """
    url = resolve_url(settings)
    shown = display_url(url)
    sqlite_file = _sqlite_file(url)
    created_directories: list[Path] = []
    if settings.database.url is None and sqlite_file is not None:
        created_directories = _create_directory(sqlite_file.parent, shown)
    new_files = [] if sqlite_file is None else _missing_sqlite_files(sqlite_file)

    message = None
    try:
        engine = _create_engine(url, settings.database.busy_timeout_s)
    except (ArgumentError, ImportError) as error:
        message = _describe_engine_failure(error, url)
    else:
        try:
            _check_connection(engine)
        except (SQLAlchemyError, sqlite3.Error) as error:
            message = _describe_connect_failure(error, url)
        else:
            return engine
        engine.dispose()
    _remove_created(new_files, created_directories)
    # Raised outside the handlers: the chain would carry the driver's text.
    raise DatabaseError(f"cannot open database {shown}: {message}")


@contextlib.contextmanager
def database_errors(url: URL | str, action: str | None = None) -> Iterator[None]:
    """Turn SQLAlchemy and sqlite3 errors raised inside the block into DatabaseError.

    The new error reads ``database <url>: [<action>: ]<the driver's reason>`` on one line.
    It carries no ``__cause__`` or ``__context__``, because the original may quote the URL;
    log the message, not the chain.

    Args:
        url: The database URL (its password is also scrubbed from the driver's text), or
            the text :func:`display_url` made of it.
        action: What was being done, e.g. ``"cannot store trade 0001f4e8.01"``.

    Raises:
        DatabaseError: In place of any :class:`sqlalchemy.exc.SQLAlchemyError` or
            :class:`sqlite3.Error` raised inside the block.
    """
    shown = display_url(url) if isinstance(url, URL) else url
    secrets = _secrets_of(url) if isinstance(url, URL) else ()
    prefix = f"database {shown}: " if action is None else f"database {shown}: {action}: "
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as error:
        message = prefix + _scrub(_driver_message(error), secrets)
    else:
        return
    _raise_without_chain(DatabaseError(message))


# --- Engine ------------------------------------------------------------------------------


def _create_engine(url: URL, busy_timeout_s: float) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sqlalchemy.create_engine(url)
        _install_sqlite_pragmas(engine, busy_timeout_s)
        return engine
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # Without a timeout libpq waits for the operating system's TCP timeout (minutes).
        return sqlalchemy.create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"connect_timeout": _POSTGRESQL_CONNECT_TIMEOUT_S},
        )
    return sqlalchemy.create_engine(url, pool_pre_ping=True)


def _install_sqlite_pragmas(engine: Engine, busy_timeout_s: float) -> None:
    busy_timeout_ms = round(busy_timeout_s * 1000)

    def set_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # WAL lets readers run beside the writer; FULL syncs every commit to disk,
            # because a lost trade costs more than a slow one.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    sqlalchemy.event.listen(engine, "connect", set_pragmas)


def _check_connection(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT 1")).scalar_one()


# --- SQLite files ------------------------------------------------------------------------


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for other backends and in-memory databases."""
    if url.get_backend_name() != "sqlite":
        return None
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        return None
    return Path(url.database)


def _create_directory(directory: Path, shown: str) -> list[Path]:
    """Create ``directory`` and its missing parents; returns those created, outermost first."""
    missing = [path for path in (directory, *directory.parents) if not path.exists()]
    missing.reverse()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = _blocking_file(directory) or _lower_first(error.strerror or str(error))
        _remove_created([], missing)
        raise DatabaseError(
            f"cannot open database {shown}: cannot create the data directory {directory}: {reason}"
        ) from None
    return missing


def _missing_sqlite_files(sqlite_file: Path) -> list[Path]:
    candidates = [Path(f"{sqlite_file}{suffix}") for suffix in _SQLITE_FILE_SUFFIXES]
    return [path for path in candidates if not path.exists()]


def _remove_created(files: list[Path], directories: list[Path]) -> None:
    """Remove files and (empty) directories that a failed open created."""
    for path in files:
        if path.is_file():
            path.unlink()
    for directory in reversed(directories):
        # Something else may have put a file there meanwhile; then the directory stays.
        with contextlib.suppress(OSError):
            directory.rmdir()


def _blocking_file(path: Path) -> str | None:
    """Name the file that stands where a directory on ``path`` should be, if any."""
    for ancestor in (path, *path.parents):
        if ancestor.exists():
            return None if ancestor.is_dir() else f"{ancestor} is a file, not a directory"
    return None


def _diagnose_sqlite_open(sqlite_file: Path) -> str:
    """Why SQLite said "unable to open database file", found by looking at the path."""
    directory = sqlite_file.parent
    if sqlite_file.is_dir():
        return "the path is a directory, not a database file"
    blocking = _blocking_file(directory)
    if blocking is not None:
        return blocking
    if not directory.exists():
        return f"the directory {directory} does not exist"
    if not sqlite_file.exists() and not os.access(directory, os.W_OK | os.X_OK):
        return f"the directory {directory} is not writable"
    if sqlite_file.exists() and not os.access(sqlite_file, os.R_OK | os.W_OK):
        return "permission denied: the file is not readable and writable by this user"
    return "unable to open the database file"


# --- Messages ----------------------------------------------------------------------------


def _describe_engine_failure(error: ArgumentError | ImportError, url: URL) -> str:
    if isinstance(error, NoSuchModuleError):
        return (
            f"unknown database dialect or driver {url.drivername!r}; "
            f"otrade supports sqlite and postgresql+psycopg, e.g. {URL_EXAMPLES}"
        )
    if isinstance(error, ImportError):
        module = error.name or url.get_driver_name()
        if url.get_backend_name() == "postgresql":
            return (
                f"the PostgreSQL driver {module!r} is not installed; "
                'install it with: pip install "otrade[postgres]"'
            )
        return f"the database driver module {module!r} is not installed"
    return _scrub(_driver_message(error), _secrets_of(url))


def _describe_connect_failure(error: SQLAlchemyError | sqlite3.Error, url: URL) -> str:
    reason = _scrub(_driver_message(error), _secrets_of(url))
    sqlite_file = _sqlite_file(url)
    if sqlite_file is None:
        return reason
    if "file is not a database" in reason:
        return "the file is not a database (it is damaged, encrypted or another kind of file)"
    if "unable to open database file" in reason:
        return _diagnose_sqlite_open(sqlite_file)
    if "readonly database" in reason:
        return "the file or its directory is read-only"
    return reason


def _driver_message(error: BaseException) -> str:
    """The driver's own words: no SQL echo, no documentation link, on one line."""
    original = getattr(error, "orig", None)
    source = original if isinstance(original, BaseException) else error
    text = _SQL_ECHO.sub("", _BACKGROUND_LINK.sub("", str(source)))
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or type(source).__name__


def _secrets_of(url: URL) -> tuple[str, ...]:
    found = [url.password, url.query.get("password")]
    return tuple(value for value in found if isinstance(value, str) and value)


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Hide every secret in ``text``, in case a driver quoted one."""
    for secret in secrets:
        text = text.replace(secret, _HIDDEN)
    return text


def _hide_password_in_text(text: str) -> str:
    """Hide the password of a string that did not parse as a URL (``user:password@``)."""
    scheme_end = text.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    at = text.rfind("@")
    if at < start:
        return text
    colon = text.find(":", start, at)
    if colon < 0:
        return text
    return f"{text[: colon + 1]}{_HIDDEN}{text[at:]}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _raise_without_chain(error: DatabaseError) -> NoReturn:
    """Raise ``error`` with no ``__cause__`` and no ``__context__``.

    Inside an ``except`` block or a context manager's exit, Python links the new error to
    the one being handled, even with ``from None`` (which only hides it from tracebacks).
    The original may quote a password, so the link is cut; a bare ``raise`` re-raises
    without linking again.
    """
    try:
        raise error from None
    except DatabaseError:
        error.__context__ = None
        raise
