"""Repository functions: every read and write of the database, on a given connection.

Each function takes a SQLAlchemy :class:`~sqlalchemy.engine.Connection` and does one thing;
the caller owns the transaction.  The DatabaseEngine runs the writes on its writer thread
and the reads on the caller's thread.  Records in and out are the frozen records of
:mod:`otrade.objects`.
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs
from sqlalchemy import Connection, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningInsert

from otrade.constants import (
    Direction,
    Exchange,
    ExpiryType,
    Offset,
    OptionRight,
    OrderType,
    Product,
    Status,
)
from otrade.database.schema import (
    option_listings,
    order_status_history,
    orders,
    strategies,
    trades,
    underlyings,
)
from otrade.objects import ContractData, Leg, OrderData, StrategyData, TradeData

__all__ = [
    "ListingCount",
    "OrderStatusRecord",
    "all_trades",
    "check_strategy",
    "delete_strategy",
    "get_order",
    "has_trade",
    "iterate_listings",
    "listing_counts",
    "load_strategies",
    "load_strategy",
    "order_history",
    "purge_expired_listings",
    "record_order",
    "record_trade",
    "save_strategy",
    "set_trade_commission",
    "trades_for_strategy",
    "upsert_contracts",
]

# Enum lookups by stored value; a dict is several times faster than Enum(value) per row.
_EXCHANGES = {member.value: member for member in Exchange}
_RIGHTS = {member.value: member for member in OptionRight}
_EXPIRY_TYPES = {member.value: member for member in ExpiryType}
_PRODUCTS = {member.value: member for member in Product}
_UNKNOWN_PRODUCT = ""


@attrs.frozen
class OrderStatusRecord:
    """One entry of an order's status history.

    Attributes:
        status: The status reported.
        traded: Units filled at that moment.
        reason: The reject reason, when rejected.
        time: When it was reported (UTC).
    """

    status: Status
    traded: int
    reason: str
    time: datetime


def _insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that supports ON CONFLICT on the connection's backend."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are not implemented for {connection.dialect.name}")


# -- listings -----------------------------------------------------------------------------

# The listing columns, in the order the raw statements below use them.
_LISTING_NAMES = (
    "symbol",
    "underlying_symbol",
    "root",
    "expiry",
    "last_trade_date",
    "strike",
    "right",
    "multiplier",
    "min_tick",
    "exchange",
    "currency",
    "broker_id",
    "expiry_type",
    "first_seen",
    "last_seen",
)
_KEPT_ON_UPDATE = ("symbol", "first_seen")


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def upsert_contracts(
    connection: Connection, contracts: Sequence[ContractData], now: datetime
) -> int:
    """Insert or update underlyings and option listings; idempotent.

    A listing seen before keeps its ``first_seen`` and gets ``last_seen = now`` and the
    latest field values.  An option's underlying gets a row even before the underlying's
    own contract arrives (with an unknown product until then).

    Returns:
        The number of contracts written.
    """
    options = [c for c in contracts if c.product is Product.OPTION]
    others = [c for c in contracts if c.product is not Product.OPTION]
    placeholders = {c.underlying_symbol: c for c in options}
    if placeholders:
        statement = _insert(connection, underlyings).on_conflict_do_nothing(
            index_elements=["symbol"]
        )
        connection.execute(
            statement,
            [
                {
                    "symbol": symbol,
                    "product": _UNKNOWN_PRODUCT,
                    "exchange": contract.exchange.value,
                    "currency": contract.currency,
                    "broker_id": "",
                    "first_seen": now,
                    "last_seen": now,
                }
                for symbol, contract in placeholders.items()
            ],
        )
    if others:
        _upsert_underlyings(connection, others, now)
    if options:
        _upsert_listings(connection, options, now)
    return len(contracts)


def _upsert_underlyings(
    connection: Connection, contracts: Sequence[ContractData], now: datetime
) -> None:
    statement = _insert(connection, underlyings)
    excluded = statement.excluded
    updated = ("product", "exchange", "currency", "broker_id", "last_seen")
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["symbol"], set_={name: getattr(excluded, name) for name in updated}
        ),
        [
            {
                "symbol": c.symbol,
                "product": c.product.value,
                "exchange": c.exchange.value,
                "currency": c.currency,
                "broker_id": c.broker_id,
                "first_seen": now,
                "last_seen": now,
            }
            for c in contracts
        ],
    )


def _upsert_listings(
    connection: Connection, options: Sequence[ContractData], now: datetime
) -> None:
    # Listings arrive a million at a time, so this statement goes straight to the driver's
    # executemany: SQLAlchemy's per-row parameter processing tripled its time
    # (bench/listings_load.py).  Values are converted here the way SQLAlchemy stores them.
    sqlite = connection.dialect.name == "sqlite"
    dates: dict[date | None, object] = {None: None}
    seen: object = _sqlite_datetime(now) if sqlite else now.astimezone(UTC)
    values = ", ".join([_placeholder(connection)] * len(_LISTING_NAMES))
    updates = ", ".join(
        f'"{name}" = excluded."{name}"' for name in _LISTING_NAMES if name not in _KEPT_ON_UPDATE
    )
    statement = (
        f"INSERT INTO option_listings ({_quoted(_LISTING_NAMES)}) VALUES ({values}) "
        f'ON CONFLICT ("symbol") DO UPDATE SET {updates}'
    )

    def stored_date(value: date | None) -> object:
        # A million listings share a few hundred dates: convert each once.
        if value not in dates:
            dates[value] = value.isoformat() if sqlite and value is not None else value
        return dates[value]

    # ``_value_`` rather than ``.value``: the enum property costs a microsecond a row.
    rows = [
        (
            c.symbol,
            c.underlying_symbol,
            c.root,
            stored_date(c.expiry),
            stored_date(c.last_trade_date),
            c.strike,
            c.right._value_ if c.right is not None else "",
            c.multiplier,
            c.min_tick,
            c.exchange._value_,
            c.currency,
            c.broker_id,
            c.expiry_type._value_,
            seen,
            seen,
        )
        for c in options
    ]
    connection.exec_driver_sql(statement, rows)


def _sqlite_datetime(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime type writes and parses back.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def iterate_listings(
    connection: Connection, underlying: str | None = None, batch_size: int = 10_000
) -> Iterator[list[ContractData]]:
    """Stored underlyings (with a known product) and option listings, in batches.

    Args:
        connection: Where to read.
        underlying: Only this underlying and its options; None for everything.
        batch_size: Contracts per batch.

    Yields:
        Lists of at most ``batch_size`` contracts: underlyings first, then options ordered
        by underlying, expiry, right and strike.
    """
    query = select(underlyings).where(underlyings.c.product != _UNKNOWN_PRODUCT)
    if underlying is not None:
        query = query.where(underlyings.c.symbol == underlying)
    batch = [
        ContractData(
            symbol=row.symbol,
            product=_PRODUCTS[row.product],
            exchange=_EXCHANGES[row.exchange],
            currency=row.currency,
            broker_id=row.broker_id,
        )
        for row in connection.execute(query)
    ]
    if batch:
        yield batch
    # Straight from the driver's cursor: SQLAlchemy's row handling was a third of the load
    # time.  PostgreSQL streams through a server-side (named) cursor.
    where = ""
    parameters: tuple[str, ...] = ()
    if underlying is not None:
        where = f' WHERE "underlying_symbol" = {_placeholder(connection)}'
        parameters = (underlying,)
    statement = f"SELECT {_quoted(_LISTING_NAMES[:-2])} FROM option_listings{where}"
    driver_connection: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        cursor = driver_connection.cursor(name="otrade_listings")
    else:
        cursor = driver_connection.cursor()
    # Every listing becomes a long-lived object, so the cyclic garbage collector would scan
    # the growing heap again and again for cycles that cannot exist here; pausing it while
    # the listings load took a quarter to a third off the load time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        cursor.execute(statement, parameters)
        make = _ListingFactory()
        while rows := cursor.fetchmany(batch_size):
            yield [make(row) for row in rows]
    finally:
        cursor.close()
        if collecting:
            gc.enable()


# Rows read back from option_listings were validated as ContractData when they were
# written, so _ListingFactory rebuilds them through the slot descriptors instead of
# __init__ (about 1.5 us instead of 5.5 us a record, most of the load time of a million
# listings).  The field list is checked here, at import, so a new ContractData field
# cannot be missed.
_CONTRACT_FIELDS = (
    "symbol",
    "product",
    "exchange",
    "name",
    "gateway_name",
    "multiplier",
    "min_tick",
    "currency",
    "underlying_symbol",
    "root",
    "expiry",
    "last_trade_date",
    "strike",
    "right",
    "expiry_type",
    "broker_id",
)
if tuple(field.name for field in attrs.fields(ContractData)) != _CONTRACT_FIELDS:
    raise RuntimeError("ContractData's fields changed; update repository._CONTRACT_FIELDS")
_SET = {name: getattr(ContractData, name).__set__ for name in _CONTRACT_FIELDS}


class _ListingFactory:
    """Builds ContractData from raw listing rows, sharing repeated values between records.

    A million listings repeat a few dozen underlyings, roots and dates; one shared object
    per distinct value keeps memory close to the size of the symbols themselves.
    """

    def __init__(self) -> None:
        self._dates: dict[object, date | None] = {None: None}
        self._strings: dict[str, str] = {}

    def _date(self, value: object) -> date | None:
        if value in self._dates:
            return self._dates[value]
        parsed = date.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(parsed, date):
            raise TypeError(f"expected a date in option_listings, got {value!r}")
        self._dates[value] = parsed
        return parsed

    def __call__(  # noqa: PLR0917 - one bound setter per field, on purpose
        self,
        row: Any,
        new: Any = object.__new__,
        s_symbol: Any = _SET["symbol"],
        s_product: Any = _SET["product"],
        s_exchange: Any = _SET["exchange"],
        s_name: Any = _SET["name"],
        s_gateway_name: Any = _SET["gateway_name"],
        s_multiplier: Any = _SET["multiplier"],
        s_min_tick: Any = _SET["min_tick"],
        s_currency: Any = _SET["currency"],
        s_underlying_symbol: Any = _SET["underlying_symbol"],
        s_root: Any = _SET["root"],
        s_expiry: Any = _SET["expiry"],
        s_last_trade_date: Any = _SET["last_trade_date"],
        s_strike: Any = _SET["strike"],
        s_right: Any = _SET["right"],
        s_expiry_type: Any = _SET["expiry_type"],
        s_broker_id: Any = _SET["broker_id"],
    ) -> ContractData:
        (symbol, underlying, root, expiry, last_trade, strike, right, multiplier, tick,
         exchange, currency, broker_id, expiry_type) = row  # fmt: skip
        shared = self._strings.setdefault
        dates = self._dates
        contract: ContractData = new(ContractData)
        s_symbol(contract, symbol)
        s_product(contract, Product.OPTION)
        s_exchange(contract, _EXCHANGES[exchange])
        s_name(contract, "")
        s_gateway_name(contract, "")
        s_multiplier(contract, multiplier)
        s_min_tick(contract, tick)
        s_currency(contract, shared(currency, currency))
        s_underlying_symbol(contract, shared(underlying, underlying))
        s_root(contract, shared(root, root))
        s_expiry(contract, dates[expiry] if expiry in dates else self._date(expiry))
        s_last_trade_date(
            contract, dates[last_trade] if last_trade in dates else self._date(last_trade)
        )
        s_strike(contract, strike)
        s_right(contract, _RIGHTS[right])
        s_expiry_type(contract, _EXPIRY_TYPES[expiry_type])
        s_broker_id(contract, broker_id)
        return contract


@attrs.frozen
class ListingCount:
    """How many listings one (underlying, root, expiry) has."""

    underlying: str
    root: str
    expiry: date
    count: int


def listing_counts(connection: Connection, underlyings: Sequence[str] = ()) -> list[ListingCount]:
    """Listings per underlying, root and expiry (every underlying when none are given)."""
    query = select(
        option_listings.c.underlying_symbol,
        option_listings.c.root,
        option_listings.c.expiry,
        func.count(),
    ).group_by(
        option_listings.c.underlying_symbol, option_listings.c.root, option_listings.c.expiry
    )
    if underlyings:
        query = query.where(option_listings.c.underlying_symbol.in_(list(underlyings)))
    query = query.order_by(
        option_listings.c.underlying_symbol, option_listings.c.expiry, option_listings.c.root
    )
    return [ListingCount(*row) for row in connection.execute(query)]


def purge_expired_listings(connection: Connection, today: date) -> int:
    """Delete listings whose last trading day (else expiry) is before ``today``.

    Args:
        connection: Where to write.
        today: The current date in the exchange's time zone.

    Returns:
        The number of listings deleted.
    """
    last_day = func.coalesce(option_listings.c.last_trade_date, option_listings.c.expiry)
    result = connection.execute(option_listings.delete().where(last_day < today))
    return result.rowcount


# -- orders -------------------------------------------------------------------------------


# The order columns a later state of the same order replaces.
_ORDER_MUTABLE = (
    "broker_order_id",
    "broker_perm_id",
    "status",
    "traded",
    "average_price",
    "reject_reason",
    "updated_at",
)


# The latest history entry of one order (built once: statements are costly to build).
_LAST_STATUS = (
    select(order_status_history.c.status, order_status_history.c.traded)
    .where(order_status_history.c.order_id == bindparam("order_id"))
    .order_by(order_status_history.c.id.desc())
    .limit(1)
)


@functools.cache
def _order_upsert(dialect_name: str) -> postgresql.Insert | sqlite.Insert:
    """The order upsert, built once per backend (building ``excluded`` costs ~1 ms)."""
    statement = postgresql.insert(orders) if dialect_name == "postgresql" else sqlite.insert(orders)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["order_id"],
        set_={name: getattr(excluded, name) for name in _ORDER_MUTABLE},
    )


@functools.cache
def _trade_insert(dialect_name: str) -> ReturningInsert[Any]:
    """The ledger insert that skips a known execution id, built once per backend."""
    statement = postgresql.insert(trades) if dialect_name == "postgresql" else sqlite.insert(trades)
    return statement.on_conflict_do_nothing(index_elements=["trade_id"]).returning(trades.c.id)


def record_order(connection: Connection, order: OrderData) -> None:
    """Store an order's latest state, and add it to the history when status or fill changed."""
    row = {
        "order_id": order.order_id,
        "gateway_name": order.gateway_name,
        "broker_order_id": order.broker_order_id,
        "broker_perm_id": order.broker_perm_id,
        "strategy": order.strategy,
        "reference": order.reference,
        "combo_id": order.combo_id,
        "combo_signature": order.combo_signature,
        "symbol": order.symbol,
        "direction": order.direction.value,
        "order_type": order.order_type.value,
        "offset": order.offset.value,
        "volume": order.volume,
        "price": order.price,
        "trigger_price": order.trigger_price,
        "legs": json.dumps([[leg.symbol, leg.ratio, leg.role] for leg in order.legs]),
        "status": order.status.value,
        "traded": order.traded,
        "average_price": order.average_price,
        "reject_reason": order.reject_reason,
        "created_at": order.time,
        "updated_at": order.time,
    }
    connection.execute(_order_upsert(connection.dialect.name), row)
    last = connection.execute(_LAST_STATUS, {"order_id": order.order_id}).first()
    if last is not None and (last.status, last.traded) == (order.status.value, order.traded):
        return
    connection.execute(
        order_status_history.insert(),
        {
            "order_id": order.order_id,
            "status": order.status.value,
            "traded": order.traded,
            "reason": order.reject_reason,
            "time": order.time,
        },
    )


def get_order(connection: Connection, order_id: str) -> OrderData | None:
    """The latest stored state of one order, or None."""
    row = connection.execute(select(orders).where(orders.c.order_id == order_id)).first()
    if row is None:
        return None
    return OrderData(
        order_id=row.order_id,
        gateway_name=row.gateway_name,
        symbol=row.symbol,
        direction=Direction(row.direction),
        order_type=OrderType(row.order_type),
        volume=row.volume,
        price=row.price,
        trigger_price=row.trigger_price,
        offset=Offset(row.offset),
        legs=tuple(Leg(symbol, ratio, role) for symbol, ratio, role in json.loads(row.legs)),
        strategy=row.strategy,
        reference=row.reference,
        combo_signature=row.combo_signature,
        traded=row.traded,
        average_price=row.average_price,
        status=Status(row.status),
        time=row.updated_at,
        reject_reason=row.reject_reason,
        broker_order_id=row.broker_order_id,
        broker_perm_id=row.broker_perm_id,
    )


def order_history(connection: Connection, order_id: str) -> list[OrderStatusRecord]:
    """Every status one order passed through, oldest first."""
    query = (
        select(order_status_history)
        .where(order_status_history.c.order_id == order_id)
        .order_by(order_status_history.c.id)
    )
    return [
        OrderStatusRecord(Status(row.status), row.traded, row.reason, row.time)
        for row in connection.execute(query)
    ]


# -- trades -------------------------------------------------------------------------------


def record_trade(connection: Connection, trade: TradeData) -> bool:
    """Append a trade to the ledger unless its execution id is already there.

    Returns:
        True when the trade was new, False when its execution id was already stored
        (nothing is changed then).
    """
    _insert(connection, trades)  # refuses a backend without upserts, as before
    result = connection.execute(
        _trade_insert(connection.dialect.name),
        {
            "trade_id": trade.trade_id,
            "order_id": trade.order_id,
            "gateway_name": trade.gateway_name,
            "strategy": trade.strategy,
            "symbol": trade.symbol,
            "direction": trade.direction.value,
            "volume": trade.volume,
            "price": trade.price,
            "commission": trade.commission,
            "time": trade.time,
            "combo_id": trade.combo_id,
            "leg_role": trade.leg_role,
        },
    )
    # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING.
    return result.first() is not None


def set_trade_commission(connection: Connection, trade_id: str, commission: float) -> bool:
    """Replace a stored trade's commission; False when no trade has this execution id."""
    statement = update(trades).where(trades.c.trade_id == trade_id).values(commission=commission)
    return connection.execute(statement).rowcount > 0


def has_trade(connection: Connection, trade_id: str) -> bool:
    """True when a trade with this execution id is stored."""
    query = select(trades.c.id).where(trades.c.trade_id == trade_id)
    return connection.execute(query).first() is not None


def trades_for_strategy(
    connection: Connection, strategy: str, since: datetime | None = None
) -> list[TradeData]:
    """One strategy's trades in time order (ties in the order they were stored).

    Args:
        connection: Where to read.
        strategy: The strategy name ("" for manual trades).
        since: Only trades at or after this time.
    """
    query = select(trades).where(trades.c.strategy == strategy)
    if since is not None:
        query = query.where(trades.c.time >= since)
    query = query.order_by(trades.c.time, trades.c.id)
    return [_trade(row) for row in connection.execute(query)]


def all_trades(connection: Connection) -> list[TradeData]:
    """Every strategy's trades in time order (ties in the order they were stored)."""
    query = select(trades).order_by(trades.c.time, trades.c.id)
    return [_trade(row) for row in connection.execute(query)]


def _trade(row: Any) -> TradeData:
    return TradeData(
        trade_id=row.trade_id,
        order_id=row.order_id,
        gateway_name=row.gateway_name,
        symbol=row.symbol,
        direction=Direction(row.direction),
        price=row.price,
        volume=row.volume,
        time=row.time,
        commission=row.commission,
        strategy=row.strategy,
        combo_id=row.combo_id,
        leg_role=row.leg_role,
    )


# -- strategies ---------------------------------------------------------------------------


def check_strategy(record: StrategyData) -> None:
    """Check that a strategy record can be stored.

    Raises:
        ValueError: A parameter or variable is not JSON-serializable (names which).
    """
    _to_json(record.name, "parameters", record.parameters)
    _to_json(record.name, "variables", record.variables)


def save_strategy(connection: Connection, record: StrategyData, now: datetime) -> None:
    """Insert or replace one strategy record.

    Raises:
        ValueError: A parameter or variable is not JSON-serializable (names which).
    """
    row = {
        "name": record.name,
        "class_path": record.class_path,
        "portfolio": record.portfolio,
        "parameters": _to_json(record.name, "parameters", record.parameters),
        "variables": _to_json(record.name, "variables", record.variables),
        "state": record.state,
        "updated_at": now,
    }
    statement = _insert(connection, strategies)
    excluded = statement.excluded
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={name: getattr(excluded, name) for name in row if name != "name"},
        ),
        row,
    )


def _to_json(strategy: str, field: str, values: Mapping[str, object]) -> str:
    for key, value in values.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"strategy {strategy!r}: {field}[{key!r}] = {value!r} cannot be stored: {error}"
            ) from None
    return json.dumps(dict(values), allow_nan=False, sort_keys=True)


def delete_strategy(connection: Connection, name: str) -> bool:
    """Delete one strategy record (its orders and trades stay in the ledger).

    Returns:
        False when there was no record of that name.
    """
    result = connection.execute(strategies.delete().where(strategies.c.name == name))
    return bool(result.rowcount)


def load_strategy(connection: Connection, name: str) -> StrategyData | None:
    """One strategy record, or None."""
    row = connection.execute(select(strategies).where(strategies.c.name == name)).first()
    return None if row is None else _strategy(row)


def load_strategies(connection: Connection) -> list[StrategyData]:
    """Every strategy record, by name."""
    query = select(strategies).order_by(strategies.c.name)
    return [_strategy(row) for row in connection.execute(query)]


def _strategy(row: Any) -> StrategyData:
    return StrategyData(
        name=row.name,
        class_path=row.class_path,
        portfolio=row.portfolio,
        parameters=json.loads(row.parameters),
        variables=json.loads(row.variables),
        state=row.state,
        updated_at=row.updated_at,
    )
