"""Opening the database: URLs, SQLite pragmas, and one plain error per failure, passwords hidden."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.exc import OperationalError

from otrade.database import connection
from otrade.database.connection import database_errors, display_url, open_database, resolve_url
from otrade.errors import DatabaseError
from otrade.settings import DatabaseSettings, Secret, Settings

PASSWORD = "hunter2secret"
REFUSED_URL = "postgresql+psycopg://postgres@127.0.0.1:1/test"
RUNNING_AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def settings_for(tmp_path: Path, url: str | None, **database: float) -> Settings:
    secret = None if url is None else Secret(url)
    return Settings(data_directory=tmp_path, database=DatabaseSettings(url=secret, **database))


def open_error(tmp_path: Path, url: str | None) -> DatabaseError:
    with pytest.raises(DatabaseError) as error_info:
        open_database(settings_for(tmp_path, url))
    return error_info.value


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything reachable through __cause__ and __context__."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend(link for link in (current.__cause__, current.__context__) if link)


def assert_password_hidden(error: BaseException) -> None:
    for linked in error_chain(error):
        assert PASSWORD not in str(linked)
        assert PASSWORD not in repr(linked)
        assert PASSWORD not in repr(linked.args)


# --- URLs ----------------------------------------------------------------------------------


def test_default_url_is_otrade_db_under_the_data_directory(tmp_path):
    url = resolve_url(settings_for(tmp_path, None))
    assert url.get_backend_name() == "sqlite"
    assert display_url(url) == str(tmp_path / "otrade.db")


def test_configured_url_is_used(tmp_path, database_url):
    url = resolve_url(settings_for(tmp_path, database_url))
    assert url == sqlalchemy.make_url(database_url)


def test_display_url_shows_a_sqlite_file_as_its_path(tmp_path):
    assert display_url(sqlalchemy.make_url(f"sqlite:///{tmp_path}/a.db")) == f"{tmp_path}/a.db"


def test_display_url_hides_passwords_in_the_url_and_its_query():
    url = sqlalchemy.make_url(
        f"postgresql+psycopg://trader:{PASSWORD}@db.example:5432/otrade?password={PASSWORD}"
    )
    shown = display_url(url)
    assert PASSWORD not in shown
    assert shown.startswith("postgresql+psycopg://trader:***@db.example:5432/otrade")


# --- Opening -------------------------------------------------------------------------------


def test_open_database_returns_a_working_engine(tmp_path, database_url):
    engine = open_database(settings_for(tmp_path, database_url))
    try:
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("SELECT 41 + 1")).scalar_one() == 42
    finally:
        engine.dispose()


def test_default_sqlite_file_is_created_with_its_data_directory(tmp_path):
    data_directory = tmp_path / "new" / "nested"
    engine = open_database(Settings(data_directory=data_directory))
    engine.dispose()
    assert (data_directory / "otrade.db").is_file()


def test_sqlite_connections_run_with_durable_pragmas(tmp_path):
    engine = open_database(settings_for(tmp_path, None, busy_timeout_s=2.5))
    try:
        # Two connections at once: the pragmas are set on every new connection.
        with engine.connect() as first, engine.connect() as second:
            for pooled in (first, second):
                pragmas = {
                    name: pooled.exec_driver_sql(f"PRAGMA {name}").scalar_one()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
                }
                assert pragmas == {
                    "journal_mode": "wal",
                    "foreign_keys": 1,
                    "busy_timeout": 2500,
                    "synchronous": 2,  # FULL
                }
    finally:
        engine.dispose()


def test_postgresql_connections_are_pinged_before_use(tmp_path, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("pool_pre_ping is a PostgreSQL setting")
    engine = open_database(settings_for(tmp_path, database_url))
    try:
        # The pool's own flag: a dropped server connection is replaced, not handed out.
        assert engine.pool._pre_ping is True
    finally:
        engine.dispose()


# --- Failures ------------------------------------------------------------------------------


def test_invalid_url_string_names_it_and_shows_what_a_url_looks_like(tmp_path):
    error = open_error(tmp_path, "otrade database please")
    assert "'otrade database please' is not a valid SQLAlchemy URL" in str(error)
    assert "postgresql+psycopg://user:password@host:5432/database" in str(error)


def test_invalid_url_with_a_password_hides_it(tmp_path):
    error = open_error(tmp_path, f"postgresql+psycopg://trader:{PASSWORD}@127.0.0.1:port/test")
    assert "postgresql+psycopg://trader:***@127.0.0.1:port/test" in str(error)
    assert "not a valid SQLAlchemy URL" in str(error)
    assert_password_hidden(error)


def test_empty_url_is_refused(tmp_path):
    error = open_error(tmp_path, "  ")
    assert "database.url is empty" in str(error)


def test_unknown_dialect_is_named(tmp_path):
    error = open_error(tmp_path, "oracle9000://trader@db.example/otrade")
    assert "oracle9000://trader@db.example/otrade" in str(error)
    assert "unknown database dialect or driver 'oracle9000'" in str(error)


def test_unknown_driver_is_named(tmp_path):
    error = open_error(tmp_path, "postgresql+nosuchdriver://trader@db.example/otrade")
    assert "unknown database dialect or driver 'postgresql+nosuchdriver'" in str(error)


def test_missing_postgresql_driver_says_how_to_install_it(tmp_path, monkeypatch):
    # None in sys.modules makes `import psycopg` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    error = open_error(tmp_path, "postgresql+psycopg://trader@db.example/otrade")
    assert "postgresql+psycopg://trader@db.example/otrade" in str(error)
    assert "the PostgreSQL driver 'psycopg' is not installed" in str(error)
    assert 'pip install "otrade[postgres]"' in str(error)


def test_refused_connection_names_the_url_and_the_cause(tmp_path):
    error = open_error(tmp_path, REFUSED_URL)
    assert str(error).startswith(f"cannot open database {REFUSED_URL}: ")
    assert "Connection refused" in str(error)
    assert "\n" not in str(error)
    assert error.__cause__ is None
    assert error.__context__ is None


def test_unknown_postgresql_database_is_named(tmp_path, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server is needed to refuse a database name")
    url = sqlalchemy.make_url(database_url).set(database="otrade_no_such_database")
    error = open_error(tmp_path, url.render_as_string(hide_password=False))
    assert 'database "otrade_no_such_database" does not exist' in str(error)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://trader:{PASSWORD}@127.0.0.1:1/test",
        f"postgresql+psycopg://trader:{PASSWORD}@127.0.0.1:not-a-port/test",
        f"postgresql+nosuchdriver://trader:{PASSWORD}@127.0.0.1/test",
        f"oracle9000://trader:{PASSWORD}@127.0.0.1/test",
        f"postgresql+psycopg://trader@127.0.0.1:1/test?password={PASSWORD}",
    ],
)
def test_password_never_appears_in_the_error_or_its_chain(tmp_path, url):
    error = open_error(tmp_path, url)
    assert "127.0.0.1" in str(error)
    assert_password_hidden(error)


def test_corrupt_sqlite_file_is_not_a_database(tmp_path):
    corrupt = tmp_path / "corrupt.db"
    garbage = b"this is not an SQLite file" * 200
    corrupt.write_bytes(garbage)
    error = open_error(tmp_path, f"sqlite:///{corrupt}")
    assert str(error).startswith(f"cannot open database {corrupt}: ")
    assert "file is not a database" in str(error)
    assert corrupt.read_bytes() == garbage


def test_directory_as_database_file_is_refused(tmp_path):
    directory = tmp_path / "otrade.db"
    directory.mkdir()
    error = open_error(tmp_path, f"sqlite:///{directory}")
    assert str(error) == (
        f"cannot open database {directory}: the path is a directory, not a database file"
    )


def test_sqlite_file_under_a_regular_file_is_refused(tmp_path):
    regular_file = tmp_path / "file.txt"
    regular_file.write_text("notes", encoding="utf-8")
    path = regular_file / "otrade.db"
    error = open_error(tmp_path, f"sqlite:///{path}")
    assert str(error) == f"cannot open database {path}: {regular_file} is a file, not a directory"


def test_data_directory_under_a_regular_file_is_refused(tmp_path):
    regular_file = tmp_path / "file.txt"
    regular_file.write_text("notes", encoding="utf-8")
    data_directory = regular_file / "otrade"
    with pytest.raises(DatabaseError) as error_info:
        open_database(Settings(data_directory=data_directory))
    assert str(error_info.value) == (
        f"cannot open database {data_directory / 'otrade.db'}: cannot create the data "
        f"directory {data_directory}: {regular_file} is a file, not a directory"
    )


def test_missing_directory_of_a_configured_file_is_not_created(tmp_path):
    path = tmp_path / "missing" / "otrade.db"
    error = open_error(tmp_path, f"sqlite:///{path}")
    assert str(error) == (
        f"cannot open database {path}: the directory {path.parent} does not exist"
    )
    assert not path.parent.exists()


@pytest.mark.skipif(RUNNING_AS_ROOT, reason="root reads and writes files whatever their mode")
def test_unreadable_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "locked.db"
    sqlite3.connect(path).close()
    path.chmod(0)
    try:
        error = open_error(tmp_path, f"sqlite:///{path}")
    finally:
        path.chmod(0o600)
    assert str(error).startswith(f"cannot open database {path}: ")
    assert "permission denied" in str(error)


@pytest.mark.skipif(RUNNING_AS_ROOT, reason="root writes into read-only directories")
def test_read_only_directory_is_refused(tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        error = open_error(tmp_path, f"sqlite:///{directory / 'otrade.db'}")
    finally:
        directory.chmod(0o700)
    assert f"the directory {directory} is not writable" in str(error)


def test_failed_open_removes_the_new_file_and_data_directory(tmp_path, monkeypatch):
    real_check = connection._check_connection

    def fail_after_creating_the_file(engine: sqlalchemy.Engine) -> None:
        real_check(engine)
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(connection, "_check_connection", fail_after_creating_the_file)
    data_directory = tmp_path / "new"
    with pytest.raises(DatabaseError, match="disk I/O error") as error_info:
        open_database(Settings(data_directory=data_directory))
    assert str(data_directory / "otrade.db") in str(error_info.value)
    assert not data_directory.exists()


def test_failed_open_keeps_what_existed(tmp_path, monkeypatch):
    engine = open_database(settings_for(tmp_path, None))
    engine.dispose()
    before = (tmp_path / "otrade.db").read_bytes()

    def fail(engine: sqlalchemy.Engine) -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(connection, "_check_connection", fail)
    with pytest.raises(DatabaseError, match="disk I/O error"):
        open_database(settings_for(tmp_path, None))
    assert (tmp_path / "otrade.db").read_bytes() == before


# --- database_errors -----------------------------------------------------------------------


def test_database_errors_names_the_database_and_the_cause(tmp_path, database_url):
    engine = open_database(settings_for(tmp_path, database_url))
    try:
        with (
            pytest.raises(DatabaseError) as error_info,
            database_errors(engine.url),
            engine.connect() as connection,
        ):
            connection.exec_driver_sql("SELECT * FROM no_such_table")
    finally:
        engine.dispose()
    message = str(error_info.value)
    assert message.startswith(f"database {display_url(engine.url)}: ")
    assert "no_such_table" in message
    assert "[SQL:" not in message
    assert "sqlalche.me" not in message
    assert error_info.value.__cause__ is None
    assert error_info.value.__context__ is None


def test_database_errors_accepts_the_displayed_url():
    expected = r"^database /srv/otrade\.db: database is locked$"
    with pytest.raises(DatabaseError, match=expected), database_errors("/srv/otrade.db"):
        raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))


def test_database_errors_says_what_was_being_done():
    expected = r"^database /srv/otrade\.db: cannot store trade T1: UNIQUE constraint failed"
    with (
        pytest.raises(DatabaseError, match=expected),
        database_errors("/srv/otrade.db", "cannot store trade T1"),
    ):
        raise sqlalchemy.exc.IntegrityError(
            "INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed: trades.trade_id")
        )


def test_database_errors_hides_a_password_the_driver_quoted():
    url = sqlalchemy.make_url(f"postgresql+psycopg://trader:{PASSWORD}@db.example/otrade")
    with pytest.raises(DatabaseError) as error_info, database_errors(url):
        raise OperationalError(
            "SELECT 1", {}, Exception(f"server closed the connection (password {PASSWORD})")
        )
    assert "server closed the connection (password ***)" in str(error_info.value)
    assert_password_hidden(error_info.value)


def test_database_errors_lets_other_errors_through():
    with pytest.raises(KeyError), database_errors("/srv/otrade.db"):
        raise KeyError("not a database problem")
