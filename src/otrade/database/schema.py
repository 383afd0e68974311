"""The database schema, as SQLAlchemy Core tables.

Core rather than the ORM: listings are read a million at a time, and building ORM objects
costs several times the raw fetch (see ``bench/listings_load.py``).  The tables are the
single source of truth for the Alembic migrations in :mod:`otrade.database.migrations`;
a test checks that the migrated schema matches them.

Times are stored as timezone-aware UTC (:class:`UtcDateTime`); dates as dates; enums as
their stable string values (see :mod:`otrade.constants`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "UtcDateTime",
    "metadata",
    "option_listings",
    "order_status_history",
    "orders",
    "strategies",
    "trades",
    "underlyings",
]


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones, so values are converted to UTC and stored naive; they come
    back as aware UTC datetimes.  A naive datetime is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; naive values are refused."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store naive datetime {value.isoformat()}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Constraint names are fixed so migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

underlyings = Table(
    "underlyings",
    metadata,
    Column("symbol", String(32), primary_key=True),
    Column("product", String(16), nullable=False),
    Column("exchange", String(16), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("broker_id", String(32), nullable=False, server_default=""),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
)
"""Every underlying with listed options (SPX for SPX and SPXW options)."""

option_listings = Table(
    "option_listings",
    metadata,
    Column("symbol", String(32), primary_key=True),
    Column(
        "underlying_symbol",
        String(32),
        ForeignKey("underlyings.symbol", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("root", String(8), nullable=False),
    Column("expiry", Date(), nullable=False),
    Column("last_trade_date", Date(), nullable=True),
    Column("strike", Float(), nullable=False),
    Column("right", String(1), nullable=False),
    Column("multiplier", Integer(), nullable=False),
    Column("min_tick", Float(), nullable=False),
    Column("exchange", String(16), nullable=False),
    Column("currency", String(8), nullable=False),
    Column("broker_id", String(32), nullable=False, server_default=""),
    Column("expiry_type", String(16), nullable=False),
    Column("first_seen", UtcDateTime(), nullable=False),
    Column("last_seen", UtcDateTime(), nullable=False),
    Index("ix_option_listings_underlying_expiry", "underlying_symbol", "expiry"),
)
"""Every option listing, keyed by its canonical OCC symbol (root kept apart: SPX vs SPXW)."""

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("gateway_name", String(32), nullable=False),
    Column("broker_order_id", String(32), nullable=False, server_default=""),
    Column("broker_perm_id", String(32), nullable=False, server_default=""),
    Column("strategy", String(64), nullable=False, server_default=""),
    Column("reference", String(128), nullable=False, server_default=""),
    Column("combo_id", String(40), nullable=False, server_default=""),
    Column("combo_signature", String(256), nullable=False, server_default=""),
    Column("symbol", String(256), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("order_type", String(16), nullable=False),
    Column("offset", String(8), nullable=False),
    Column("volume", Integer(), nullable=False),
    Column("price", Float(), nullable=True),
    Column("trigger_price", Float(), nullable=True),
    Column("legs", Text(), nullable=False, server_default="[]"),
    Column("status", String(16), nullable=False),
    Column("traded", Integer(), nullable=False),
    Column("average_price", Float(), nullable=True),
    Column("reject_reason", Text(), nullable=False, server_default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_orders_strategy", "strategy"),
    Index("ix_orders_broker_perm_id", "broker_perm_id"),
)
"""The latest state of every order; ``legs`` is a JSON list of [symbol, ratio, role]."""

order_status_history = Table(
    "order_status_history",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column(
        "order_id",
        String(40),
        ForeignKey("orders.order_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),
    Column("traded", Integer(), nullable=False),
    Column("reason", Text(), nullable=False, server_default=""),
    Column("time", UtcDateTime(), nullable=False),
    Index("ix_order_status_history_order_id", "order_id", "id"),
)
"""Every status an order passed through, with the time it was reported."""

trades = Table(
    "trades",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("trade_id", String(64), nullable=False, unique=True),
    # No foreign key: a fill for an order this database never saw is kept, not refused.
    Column("order_id", String(40), nullable=False),
    Column("gateway_name", String(32), nullable=False),
    Column("strategy", String(64), nullable=False, server_default=""),
    Column("symbol", String(32), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("volume", Integer(), nullable=False),
    Column("price", Float(), nullable=False),
    Column("commission", Float(), nullable=False),
    Column("time", UtcDateTime(), nullable=False),
    Column("combo_id", String(40), nullable=False, server_default=""),
    Column("leg_role", String(32), nullable=False, server_default=""),
    Index("ix_trades_strategy_time", "strategy", "time", "id"),
    Index("ix_trades_order_id", "order_id"),
)
"""The trade ledger: one row per execution id; holdings are rebuilt from it."""

strategies = Table(
    "strategies",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("class_path", String(256), nullable=False),
    Column("portfolio", String(32), nullable=False, server_default=""),
    Column("parameters", Text(), nullable=False, server_default="{}"),
    Column("variables", Text(), nullable=False, server_default="{}"),
    Column("state", String(32), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
"""One record per strategy instance; parameters and variables are JSON objects."""
