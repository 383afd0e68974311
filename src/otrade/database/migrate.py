"""Schema migrations: Alembic, driven from code.

The migration scripts live in :mod:`otrade.database.migrations` (found next to this module,
so an installed wheel needs no ``alembic.ini`` and no particular working directory).
:func:`ensure_schema` is what the DatabaseEngine calls at start: it creates the schema of a
new database, upgrades an older one when allowed, and refuses a schema it does not know
without touching it.  ``otrade db upgrade|downgrade|current|history`` wrap the other
functions.

Every migration runs in one transaction.  On SQLite the sqlite3 driver would commit each
CREATE or ALTER on its own, so the transaction is begun explicitly, and foreign keys are
off while it runs (as SQLite's documentation prescribes for table rebuilds: otherwise
rebuilding ``orders`` would cascade-delete the order history), then checked before commit.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from otrade.database.connection import database_errors, display_url
from otrade.database.schema import metadata
from otrade.errors import DatabaseError

__all__ = [
    "MigrationInfo",
    "current_revision",
    "downgrade",
    "ensure_schema",
    "head_revision",
    "history",
    "upgrade",
]

_MIGRATIONS_DIRECTORY = Path(__file__).parent / "migrations"
_ALEMBIC_LOGGER = "alembic"


@attrs.frozen
class MigrationInfo:
    """One migration script.

    Attributes:
        revision: Its revision id, e.g. ``"0001"``.
        down_revision: The revision it upgrades from; None for the first.  A merge of
            several revisions lists them comma-separated.
        description: The first paragraph of its docstring.
    """

    revision: str
    down_revision: str | None
    description: str


@attrs.frozen
class _DatabaseState:
    """What a database holds before a migration."""

    revision: str | None
    otrade_tables: list[str]


def head_revision() -> str:
    """The newest revision this otrade knows; a new database is created at it."""
    head = _script_directory().get_current_head()
    if head is None:  # only if the versions directory were empty
        raise DatabaseError(f"no migrations found in {_MIGRATIONS_DIRECTORY / 'versions'}")
    return head


def history() -> list[MigrationInfo]:
    """Every migration this otrade knows, oldest first."""
    scripts = list(_script_directory().walk_revisions())
    scripts.reverse()
    return [
        MigrationInfo(
            revision=script.revision,
            down_revision=_join_revisions(script.down_revision),
            description=" ".join(script.doc.split()),
        )
        for script in scripts
    ]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database without an otrade schema.

    Raises:
        DatabaseError: The database cannot be read.
    """
    return _read_state(engine).revision


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (``"head"``: the newest), in one transaction.

    Args:
        engine: The database, e.g. from :func:`~otrade.database.connection.open_database`.
        revision: The target revision id, ``"head"``, or a relative step such as ``"+1"``.

    Raises:
        DatabaseError: The database is at a revision this otrade does not know (a newer
            otrade wrote it) or holds otrade tables without a revision; the target is
            unknown; or a migration failed (then nothing was changed).
    """
    _refuse_unknown_schema(engine, _read_state(engine))
    _migrate(engine, revision, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the schema to ``revision`` (``"base"``: drop every otrade table).

    Args:
        engine: The database.
        revision: The target revision id, ``"base"``, or a relative step such as ``"-1"``.

    Raises:
        DatabaseError: As :func:`upgrade`.
    """
    _refuse_unknown_schema(engine, _read_state(engine))
    _migrate(engine, revision, lambda config: command.downgrade(config, revision))


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> str:
    """Make the schema usable by this otrade, or refuse without changing anything.

    A database without otrade tables gets the newest schema, whatever ``auto_upgrade``
    says.  An older schema is upgraded only when ``auto_upgrade`` is set.

    Args:
        engine: The database.
        auto_upgrade: Upgrade an older schema (``settings.database.auto_upgrade``).

    Returns:
        The revision the database is at afterwards (the head revision).

    Raises:
        DatabaseError: The schema is older and ``auto_upgrade`` is off (the message says to
            run ``otrade db upgrade``); the schema is newer than this otrade; otrade tables
            exist without a recorded revision; or the database cannot be read or migrated.
    """
    head = head_revision()
    state = _read_state(engine)
    _refuse_unknown_schema(engine, state)
    if state.revision == head:
        return head
    if state.revision is not None and not auto_upgrade:
        raise DatabaseError(
            f"database {display_url(engine.url)}: schema is at {state.revision}, "
            f"this otrade needs {head}; run `otrade db upgrade`"
        )
    _migrate(engine, head, lambda config: command.upgrade(config, head))
    revision = current_revision(engine)
    if revision != head:  # a migration script that does not reach its own revision
        raise DatabaseError(
            f"database {display_url(engine.url)}: upgrade ended at revision {revision}, "
            f"expected {head}"
        )
    return head


# --- Alembic -------------------------------------------------------------------------------


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    # The value goes through configparser interpolation, where "%" is special.
    config.set_main_option("script_location", str(_MIGRATIONS_DIRECTORY).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _join_revisions(revisions: str | tuple[str, ...] | list[str] | None) -> str | None:
    if revisions is None or isinstance(revisions, str):
        return revisions
    return ", ".join(revisions)


def _known_revisions() -> set[str]:
    return {script.revision for script in _script_directory().walk_revisions()}


def _read_state(engine: Engine) -> _DatabaseState:
    with _quiet_alembic(), database_errors(engine.url), engine.connect() as connection:
        try:
            revision = MigrationContext.configure(connection).get_current_revision()
        except CommandError as error:  # e.g. several rows in alembic_version
            message = str(error)
        else:
            tables = set(sqlalchemy.inspect(connection).get_table_names())
            return _DatabaseState(revision, sorted(tables & set(metadata.tables)))
    raise DatabaseError(f"database {display_url(engine.url)}: {message}")


def _refuse_unknown_schema(engine: Engine, state: _DatabaseState) -> None:
    shown = display_url(engine.url)
    if state.revision is None and state.otrade_tables:
        raise DatabaseError(
            f"database {shown} has otrade tables ({', '.join(state.otrade_tables)}) but no "
            "recorded schema revision (alembic_version); refusing to guess which schema they "
            "have: use an empty database, or restore the alembic_version table"
        )
    if state.revision is not None and state.revision not in _known_revisions():
        raise DatabaseError(
            f"database schema revision {state.revision} of {shown} is newer than this otrade "
            f"(head {head_revision()}); upgrade otrade"
        )


def _migrate(engine: Engine, target: str, run: Callable[[Config], None]) -> None:
    """Run one Alembic command in a single transaction, with Alembic's INFO lines quiet."""
    action = f"cannot migrate to {target}"
    try:
        with (
            _quiet_alembic(),
            database_errors(engine.url, action),
            engine.connect() as connection,
        ):
            if connection.dialect.name == "sqlite":
                _migrate_sqlite(connection, run)
            else:
                with connection.begin():
                    run(_config(connection))
    except (CommandError, _MigrationRefusedError) as error:
        reason = str(error)
    else:
        return
    raise DatabaseError(f"database {display_url(engine.url)}: {action}: {reason}")


class _MigrationRefusedError(Exception):
    """A check after the migration failed; raised inside the transaction to roll it back."""


def _migrate_sqlite(connection: Connection, run: Callable[[Config], None]) -> None:
    # PRAGMA foreign_keys is ignored inside a transaction, so it goes first.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        with connection.begin():
            # The sqlite3 driver (legacy transaction control) begins only before INSERT,
            # UPDATE and DELETE; without this BEGIN each CREATE, ALTER and DROP would be
            # committed on its own, and a failed migration would leave half a schema.
            if not getattr(connection.connection.dbapi_connection, "in_transaction", True):
                connection.exec_driver_sql("BEGIN")
            run(_config(connection))
            _check_foreign_keys(connection)
    finally:
        # Never hand a connection with foreign keys off back to the pool: close it, and
        # the pool opens a fresh one with the engine's pragmas.
        connection.invalidate()


def _check_foreign_keys(connection: Connection) -> None:
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if violations:
        table, row_id, parent, _ = violations[0]
        raise _MigrationRefusedError(
            f"it would leave {len(violations)} rows whose foreign key points nowhere "
            f"(first: {table} row {row_id} -> {parent}); nothing was changed"
        )


@contextlib.contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Keep Alembic's INFO lines ("Running upgrade ...") off stderr while a command runs.

    Only when nobody set the ``alembic`` logger's level: someone who did wants its output.
    Warnings still pass.
    """
    logger = logging.getLogger(_ALEMBIC_LOGGER)
    if logger.level != logging.NOTSET:
        yield
        return
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(logging.NOTSET)
