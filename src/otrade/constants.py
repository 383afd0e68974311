"""Enumerations shared by every otrade engine, gateway and strategy.

Enum values are stable strings: they are what the database stores and what the log
stream and the CLI print, so renaming a value is a schema change.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIVE_STATUSES",
    "Direction",
    "Exchange",
    "ExpiryType",
    "Offset",
    "OptionRight",
    "OrderType",
    "Product",
    "Status",
]


class Direction(StrEnum):
    """Side of an order, a trade, a position or a combo (LONG buys, SHORT sells)."""

    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        """``+1`` for LONG, ``-1`` for SHORT."""
        return 1 if self is Direction.LONG else -1

    def opposite(self) -> Direction:
        """The other direction (what closes a position of this direction)."""
        return Direction.SHORT if self is Direction.LONG else Direction.LONG


class Offset(StrEnum):
    """Whether an order opens or closes exposure (``NONE`` when the caller does not say)."""

    NONE = "none"
    OPEN = "open"
    CLOSE = "close"


class OrderType(StrEnum):
    """How an order is priced."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class Status(StrEnum):
    """The life cycle of an order; one state machine for every gateway.

    ``SUBMITTING -> NOT_TRADED -> PART_TRADED -> ALL_TRADED`` with ``CANCELLED`` and
    ``REJECTED`` as the other final states.
    """

    SUBMITTING = "submitting"
    NOT_TRADED = "not_traded"
    PART_TRADED = "part_traded"
    ALL_TRADED = "all_traded"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_active(self) -> bool:
        """True while the order can still trade or be cancelled."""
        return self in ACTIVE_STATUSES

    @property
    def is_final(self) -> bool:
        """True once the order can never change again."""
        return self not in ACTIVE_STATUSES


ACTIVE_STATUSES = frozenset({Status.SUBMITTING, Status.NOT_TRADED, Status.PART_TRADED})
"""Statuses of an order that can still trade or be cancelled."""


class OptionRight(StrEnum):
    """Call or put; the value is the letter used in OCC symbols."""

    CALL = "C"
    PUT = "P"


class Product(StrEnum):
    """What kind of instrument a contract is."""

    EQUITY = "equity"
    ETF = "etf"
    INDEX = "index"
    FUTURES = "futures"
    OPTION = "option"
    COMBO = "combo"


class ExpiryType(StrEnum):
    """Listing cycle of an option expiry, when the source says it."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    UNKNOWN = "unknown"


class Exchange(StrEnum):
    """Exchanges and routing destinations otrade knows by name."""

    SMART = "SMART"
    CBOE = "CBOE"
    CBOE2 = "CBOE2"
    C2 = "C2"
    BOX = "BOX"
    ISE = "ISE"
    PHLX = "PHLX"
    AMEX = "AMEX"
    ARCA = "ARCA"
    NYSE = "NYSE"
    NASDAQ = "NASDAQ"
    CME = "CME"
    LOCAL = "LOCAL"
    """A simulated venue (the paper gateway, the simulated datafeed)."""
