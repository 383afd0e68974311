"""Initial schema: underlyings, option listings, orders, status history, trades, strategies.

Revision ID: 0001
Revises:
Create Date: 2025-01-06

Migrations are frozen history: every table, column, index and constraint is spelled out
here with the name schema.py's naming convention gives it, so later changes to schema.py
never change what this revision does.  Times are ``DateTime(timezone=True)`` (schema.py's
``UtcDateTime`` stores through that type).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _row_id() -> sa.types.TypeEngine[int]:
    # BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY is the rowid.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create every table with its keys and indexes."""
    op.create_table(
        "underlyings",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("product", sa.String(16), nullable=False),
        sa.Column("exchange", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("broker_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_underlyings"),
    )
    op.create_table(
        "option_listings",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("underlying_symbol", sa.String(32), nullable=False),
        sa.Column("root", sa.String(8), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=False),
        sa.Column("last_trade_date", sa.Date(), nullable=True),
        sa.Column("strike", sa.Float(), nullable=False),
        sa.Column("right", sa.String(1), nullable=False),
        sa.Column("multiplier", sa.Integer(), nullable=False),
        sa.Column("min_tick", sa.Float(), nullable=False),
        sa.Column("exchange", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("broker_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("expiry_type", sa.String(16), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_option_listings"),
        sa.ForeignKeyConstraint(
            ["underlying_symbol"],
            ["underlyings.symbol"],
            name="fk_option_listings_underlying_symbol_underlyings",
            ondelete="RESTRICT",
        ),
    )
    op.create_index(
        "ix_option_listings_underlying_expiry",
        "option_listings",
        ["underlying_symbol", "expiry"],
    )

    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("gateway_name", sa.String(32), nullable=False),
        sa.Column("broker_order_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("broker_perm_id", sa.String(32), nullable=False, server_default=""),
        sa.Column("strategy", sa.String(64), nullable=False, server_default=""),
        sa.Column("reference", sa.String(128), nullable=False, server_default=""),
        sa.Column("combo_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("combo_signature", sa.String(256), nullable=False, server_default=""),
        sa.Column("symbol", sa.String(256), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("offset", sa.String(8), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("trigger_price", sa.Float(), nullable=True),
        sa.Column("legs", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("traded", sa.Integer(), nullable=False),
        sa.Column("average_price", sa.Float(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_strategy", "orders", ["strategy"])
    op.create_index("ix_orders_broker_perm_id", "orders", ["broker_perm_id"])

    op.create_table(
        "order_status_history",
        sa.Column("id", _row_id(), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("traded", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_status_history"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.order_id"],
            name="fk_order_status_history_order_id_orders",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_order_status_history_order_id", "order_status_history", ["order_id", "id"])

    op.create_table(
        "trades",
        sa.Column("id", _row_id(), nullable=False),
        sa.Column("trade_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("gateway_name", sa.String(32), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False, server_default=""),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("volume", sa.Integer(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("commission", sa.Float(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("combo_id", sa.String(40), nullable=False, server_default=""),
        sa.Column("leg_role", sa.String(32), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_trades"),
        sa.UniqueConstraint("trade_id", name="uq_trades_trade_id"),
    )
    op.create_index("ix_trades_strategy_time", "trades", ["strategy", "time", "id"])
    op.create_index("ix_trades_order_id", "trades", ["order_id"])

    op.create_table(
        "strategies",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("class_path", sa.String(256), nullable=False),
        sa.Column("portfolio", sa.String(32), nullable=False, server_default=""),
        sa.Column("parameters", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("variables", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_strategies"),
    )


def downgrade() -> None:
    """Drop every index and table, dependants first."""
    op.drop_table("strategies")

    op.drop_index("ix_trades_order_id", table_name="trades")
    op.drop_index("ix_trades_strategy_time", table_name="trades")
    op.drop_table("trades")

    op.drop_index("ix_order_status_history_order_id", table_name="order_status_history")
    op.drop_table("order_status_history")

    op.drop_index("ix_orders_broker_perm_id", table_name="orders")
    op.drop_index("ix_orders_strategy", table_name="orders")
    op.drop_table("orders")

    op.drop_index("ix_option_listings_underlying_expiry", table_name="option_listings")
    op.drop_table("option_listings")

    op.drop_table("underlyings")
