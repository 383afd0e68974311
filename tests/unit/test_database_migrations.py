"""Schema migrations: creation, upgrade, refusal of unknown schemas, and parity with schema.py."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from otrade.database import migrate
from otrade.database.connection import display_url, open_database
from otrade.database.migrate import (
    MigrationInfo,
    current_revision,
    downgrade,
    ensure_schema,
    head_revision,
    history,
    upgrade,
)
from otrade.database.schema import (
    metadata,
    option_listings,
    order_status_history,
    orders,
    underlyings,
)
from otrade.errors import DatabaseError
from otrade.settings import DatabaseSettings, Secret, Settings

NOW = datetime(2025, 3, 21, 14, 30, tzinfo=UTC)
OTRADE_TABLES = set(metadata.tables)

# A second migration, as a newer otrade would ship it; {body} is its upgrade().
SECOND_REVISION = '''"""Test only: a second revision.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''

ADD_MARKER_TABLE = (
    '    op.create_table("test_marker", sa.Column("id", sa.Integer(), primary_key=True))'
)


@pytest.fixture
def engine(tmp_path: Path, database_url: str) -> Iterator[sqlalchemy.Engine]:
    settings = Settings(
        data_directory=tmp_path, database=DatabaseSettings(url=Secret(database_url))
    )
    engine = open_database(settings)
    yield engine
    engine.dispose()


def install_second_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Point migrate at a copy of the real migrations plus revision 0002."""
    directory = tmp_path / "migrations"
    shutil.copytree(
        migrate._MIGRATIONS_DIRECTORY, directory, ignore=shutil.ignore_patterns("__pycache__")
    )
    second = SECOND_REVISION.format(body=body)
    (directory / "versions" / "0002_test.py").write_text(second, encoding="utf-8")
    monkeypatch.setattr(migrate, "_MIGRATIONS_DIRECTORY", directory)


def table_names(engine: sqlalchemy.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(sqlalchemy.inspect(connection).get_table_names())


def stored_version(engine: sqlalchemy.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def insert_spx(engine: sqlalchemy.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            underlyings.insert().values(
                symbol="SPX", product="IND", exchange="CBOE", currency="USD",
                first_seen=NOW, last_seen=NOW,
            )
        )  # fmt: skip


def insert_order_with_history(engine: sqlalchemy.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            orders.insert().values(
                order_id="IB.1", gateway_name="IB", symbol="SPXW  250321C05800000",
                direction="LONG", order_type="LIMIT", offset="OPEN", volume=1,
                status="SUBMITTING", traded=0, created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        connection.execute(
            order_status_history.insert().values(
                order_id="IB.1", status="SUBMITTING", traded=0, time=NOW
            )
        )


def is_sqlite_empty_default_noise(connection: sqlalchemy.Connection, difference: object) -> bool:
    """Alembic's SQLite comparison reports every ``server_default=""`` as changed.

    It is noise only when the database holds exactly that default, the SQL literal ``''``;
    that is checked here against the reflected column, not assumed.
    """
    if connection.dialect.name != "sqlite" or not isinstance(difference, list):
        return False
    if len(difference) != 1 or difference[0][0] != "modify_default":
        return False
    _operation, _schema, table, column, _existing, _reflected, expected = difference[0]
    if expected is None or expected.arg != "":
        return False
    columns = sqlalchemy.inspect(connection).get_columns(table)
    return {found["name"]: found["default"] for found in columns}[column] == "''"


# --- Creating and dropping -----------------------------------------------------------------


def test_empty_database_is_created_at_head_even_without_auto_upgrade(engine):
    assert current_revision(engine) is None
    assert ensure_schema(engine, auto_upgrade=False) == head_revision()
    assert current_revision(engine) == head_revision()
    assert table_names(engine) == OTRADE_TABLES | {"alembic_version"}


def test_schema_at_head_is_left_as_it_is(engine):
    ensure_schema(engine, auto_upgrade=False)
    insert_spx(engine)
    assert ensure_schema(engine, auto_upgrade=False) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.select(underlyings.c.symbol)).scalars().all() == [
            "SPX"
        ]


def test_downgrade_to_base_drops_every_table_and_upgrade_recreates_them(engine):
    ensure_schema(engine, auto_upgrade=False)
    downgrade(engine, "base")
    # Alembic keeps its (now empty) version table.
    assert table_names(engine) == {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert table_names(engine) == OTRADE_TABLES | {"alembic_version"}


def test_history_lists_every_revision_oldest_first():
    migrations = history()
    assert migrations[0] == MigrationInfo(
        revision="0001",
        down_revision=None,
        description=(
            "Initial schema: underlyings, option listings, orders, status history, trades, "
            "strategies."
        ),
    )
    assert migrations[-1].revision == head_revision()


# --- Parity with schema.py -----------------------------------------------------------------


def test_migrated_schema_matches_schema_py(engine):
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, metadata)
        real = [d for d in differences if not is_sqlite_empty_default_noise(connection, d)]
    assert real == []


def test_migrated_constraints_and_indexes_have_schema_py_names(engine):
    upgrade(engine)
    with engine.connect() as connection:
        inspector = sqlalchemy.inspect(connection)
        for table in metadata.sorted_tables:
            name = table.name
            assert inspector.get_pk_constraint(name)["name"] == table.primary_key.name
            assert {key["name"] for key in inspector.get_foreign_keys(name)} == {
                key.name for key in table.foreign_key_constraints
            }
            assert {unique["name"] for unique in inspector.get_unique_constraints(name)} == {
                constraint.name
                for constraint in table.constraints
                if isinstance(constraint, sqlalchemy.UniqueConstraint)
            }
            # PostgreSQL also lists the index behind a unique constraint; it is not an Index.
            reflected_indexes = {
                index["name"]
                for index in inspector.get_indexes(name)
                if not index.get("duplicates_constraint")
            }
            assert reflected_indexes == {index.name for index in table.indexes}


def test_foreign_keys_are_enforced_after_migrating(engine):
    ensure_schema(engine, auto_upgrade=False)
    listing = option_listings.insert().values(
        symbol="SPXW  250321C05800000", underlying_symbol="NOPE", root="SPXW",
        expiry=NOW.date(), strike=5800.0, right="C", multiplier=100, min_tick=0.05,
        exchange="SMART", currency="USD", expiry_type="WEEKLY", first_seen=NOW, last_seen=NOW,
    )  # fmt: skip
    with pytest.raises(sqlalchemy.exc.IntegrityError), engine.begin() as connection:
        connection.execute(listing)


# --- Older, newer and unknown schemas ------------------------------------------------------


def test_older_schema_without_auto_upgrade_is_refused_with_the_command_to_run(
    engine, tmp_path, monkeypatch
):
    install_second_revision(tmp_path, monkeypatch, ADD_MARKER_TABLE)
    upgrade(engine, "0001")
    with pytest.raises(DatabaseError) as error_info:
        ensure_schema(engine, auto_upgrade=False)
    assert str(error_info.value) == (
        f"database {display_url(engine.url)}: schema is at 0001, this otrade needs 0002; "
        "run `otrade db upgrade`"
    )
    assert current_revision(engine) == "0001"
    assert "test_marker" not in table_names(engine)


def test_older_schema_with_auto_upgrade_is_upgraded(engine, tmp_path, monkeypatch):
    install_second_revision(tmp_path, monkeypatch, ADD_MARKER_TABLE)
    upgrade(engine, "0001")
    insert_spx(engine)
    assert ensure_schema(engine, auto_upgrade=True) == "0002"
    assert current_revision(engine) == "0002"
    assert "test_marker" in table_names(engine)
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.select(underlyings.c.symbol)).scalar_one() == "SPX"


def test_newer_schema_is_refused_and_nothing_changes(engine):
    upgrade(engine)
    insert_spx(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    tables_before = table_names(engine)
    expected = (
        f"database schema revision 0099 of {display_url(engine.url)} is newer than this otrade "
        f"(head {head_revision()}); upgrade otrade"
    )
    for attempt in (
        lambda: ensure_schema(engine, auto_upgrade=True),
        lambda: upgrade(engine),
        lambda: downgrade(engine, "base"),
    ):
        with pytest.raises(DatabaseError) as error_info:
            attempt()
        assert str(error_info.value) == expected
    assert stored_version(engine) == ["0099"]
    assert table_names(engine) == tables_before
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.select(underlyings.c.symbol)).scalar_one() == "SPX"


def test_tables_without_a_recorded_revision_are_refused(engine):
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE alembic_version")
    with pytest.raises(DatabaseError, match="refusing to guess") as error_info:
        ensure_schema(engine, auto_upgrade=True)
    assert display_url(engine.url) in str(error_info.value)
    assert "no recorded schema revision" in str(error_info.value)
    assert table_names(engine) == OTRADE_TABLES


def test_unknown_target_revision_is_refused(engine):
    with pytest.raises(DatabaseError, match="Can't locate revision identified by 'nosuch'"):
        upgrade(engine, "nosuch")


# --- Transactions ----------------------------------------------------------------------------


def test_failing_migration_changes_nothing(engine, tmp_path, monkeypatch):
    body = "\n".join(
        [
            ADD_MARKER_TABLE,
            '    op.execute("INSERT INTO test_marker (id) VALUES (1)")',
            '    op.execute("SELECT * FROM no_such_table")',
        ]
    )
    install_second_revision(tmp_path, monkeypatch, body)
    upgrade(engine, "0001")
    with pytest.raises(DatabaseError, match="no_such_table") as error_info:
        upgrade(engine)
    assert str(error_info.value).startswith(
        f"database {display_url(engine.url)}: cannot migrate to head: "
    )
    # On SQLite too: the CREATE TABLE was rolled back with the rest.
    assert current_revision(engine) == "0001"
    assert "test_marker" not in table_names(engine)


def test_migration_leaving_a_dangling_foreign_key_is_rolled_back(engine, tmp_path, monkeypatch):
    # SQLite runs migrations with foreign keys off, then checks them before committing;
    # PostgreSQL refuses the row itself.  Either way nothing is kept.
    body = "\n".join(
        [
            ADD_MARKER_TABLE,
            "    op.execute(",
            '        "INSERT INTO order_status_history (order_id, status, traded, reason, time) "',
            "        \"VALUES ('ghost', 'FILLED', 1, '', '2025-03-21 14:30:00+00:00')\"",
            "    )",
        ]
    )
    install_second_revision(tmp_path, monkeypatch, body)
    upgrade(engine, "0001")
    with pytest.raises(DatabaseError, match=r"cannot migrate to head: .*foreign key"):
        upgrade(engine)
    assert current_revision(engine) == "0001"
    assert "test_marker" not in table_names(engine)
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.select(order_status_history)).all() == []


def test_rebuilding_a_parent_table_keeps_its_children(engine, tmp_path, monkeypatch):
    # SQLite alters most things by copying a table and dropping the old one; with foreign
    # keys on, dropping "orders" would cascade-delete its status history.
    body = "\n".join(
        [
            '    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"',
            '    with op.batch_alter_table("orders", recreate=recreate) as batch:',
            '        batch.add_column(sa.Column("note", sa.Text(), nullable=True))',
        ]
    )
    install_second_revision(tmp_path, monkeypatch, body)
    upgrade(engine, "0001")
    insert_order_with_history(engine)
    upgrade(engine)
    with engine.connect() as connection:
        history_rows = connection.execute(sqlalchemy.select(order_status_history)).all()
        assert [row.order_id for row in history_rows] == ["IB.1"]
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1


# --- Logging -------------------------------------------------------------------------------


def test_migrations_keep_alembic_quiet_without_disabling_it(engine, caplog):
    caplog.set_level(logging.INFO)
    ensure_schema(engine, auto_upgrade=False)
    downgrade(engine, "base")
    assert [record for record in caplog.records if record.name.startswith("alembic")] == []
    alembic_logger = logging.getLogger("alembic")
    assert alembic_logger.level == logging.NOTSET
    assert not alembic_logger.disabled


def test_alembic_logs_when_its_level_was_set_on_purpose(engine, caplog):
    caplog.set_level(logging.INFO, logger="alembic")
    upgrade(engine)
    assert any("Running upgrade" in record.getMessage() for record in caplog.records)
