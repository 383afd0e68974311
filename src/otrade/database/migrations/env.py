"""Alembic environment for otrade: online migrations on the connection otrade passes in.

:mod:`otrade.database.migrate` puts an open connection, already inside a transaction, in
``config.attributes["connection"]`` and runs an Alembic command; this script binds the
migration context to it.  There is no ``alembic.ini`` and no offline (SQL script) mode;
use ``otrade db upgrade`` or :func:`otrade.database.migrate.upgrade`.
"""

from __future__ import annotations

from alembic import context

from otrade.database.schema import metadata

target_metadata = metadata


def run_migrations_online() -> None:
    """Run the migrations on the connection in ``config.attributes["connection"]``.

    Raises:
        RuntimeError: No connection was passed in (Alembic run from its own command line).
    """
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "otrade migrations run through otrade.database.migrate (`otrade db upgrade`), "
            'which passes a connection in config.attributes["connection"]'
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters most things by copying the table; batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("otrade migrations run online only; offline SQL scripts are not supported")
run_migrations_online()
