"""The gateway contract every broker connection implements.

A gateway turns otrade requests into broker calls and broker callbacks into otrade
events.  It never touches engine state: everything it learns it *puts* on the event bus
as a record from :mod:`otrade.objects` (order, trade, account, position, contract, quote,
log).  Network code runs on the MainEngine's IO loop (:class:`~otrade.ioloop.IoLoop`);
the methods below are called from the event thread or a user thread and must not block
for long.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

from otrade.clock import Clock
from otrade.event import (
    EVENT_ACCOUNT,
    EVENT_CONTRACT,
    EVENT_LOG,
    EVENT_ORDER,
    EVENT_POSITION,
    EVENT_QUOTE,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.ioloop import IoLoop
from otrade.objects import (
    AccountData,
    CancelRequest,
    ContractData,
    LogData,
    OrderData,
    OrderRequest,
    PositionData,
    QuoteData,
    SubscribeRequest,
    TradeData,
)

__all__ = ["BaseGateway"]


class BaseGateway(ABC):
    """Base class of every gateway.

    Subclasses set :attr:`default_name` and implement the abstract methods.

    Args:
        event_engine: Where the gateway puts its events.
        gateway_name: The name this instance is registered under.
        clock: The clock to stamp records with.
        io_loop: The shared IO loop for network clients.
    """

    default_name: ClassVar[str] = ""
    """The name the gateway registers under unless the caller gives another."""

    default_settings: ClassVar[Mapping[str, object]] = {}
    """The connect settings the gateway accepts, with their defaults."""

    def __init__(
        self, event_engine: EventEngine, gateway_name: str, clock: Clock, io_loop: IoLoop
    ) -> None:
        self.event_engine = event_engine
        self.gateway_name = gateway_name
        self.clock = clock
        self.io_loop = io_loop

    @abstractmethod
    def connect(self, settings: Mapping[str, object]) -> None:
        """Start connecting with ``settings``; progress and failures arrive as log events."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect and release every resource; calling it twice is harmless."""

    @abstractmethod
    def send_order(self, request: OrderRequest) -> str:
        """Send an order and return its local order id at once.

        The order's life cycle then arrives as order and trade events.
        """

    @abstractmethod
    def cancel_order(self, request: CancelRequest) -> None:
        """Ask the broker to cancel an order; the result arrives as an order event."""

    @abstractmethod
    def subscribe(self, request: SubscribeRequest) -> None:
        """Start streaming quotes of one instrument as quote events."""

    def query_account(self) -> None:  # noqa: B027 - optional, default does nothing
        """Request account balances (answered with account events)."""

    def query_positions(self) -> None:  # noqa: B027
        """Request broker positions (answered with position events)."""

    def on_order(self, order: OrderData) -> None:
        """Put an order event."""
        self.event_engine.put(Event(EVENT_ORDER, order))

    def on_trade(self, trade: TradeData) -> None:
        """Put a trade event."""
        self.event_engine.put(Event(EVENT_TRADE, trade))

    def on_contract(self, contract: ContractData) -> None:
        """Put a contract event."""
        self.event_engine.put(Event(EVENT_CONTRACT, contract))

    def on_quote(self, quote: QuoteData) -> None:
        """Put a quote event."""
        self.event_engine.put(Event(EVENT_QUOTE, quote))

    def on_account(self, account: AccountData) -> None:
        """Put an account event."""
        self.event_engine.put(Event(EVENT_ACCOUNT, account))

    def on_position(self, position: PositionData) -> None:
        """Put a position event."""
        self.event_engine.put(Event(EVENT_POSITION, position))

    def write_log(self, message: str, level: str = "INFO") -> None:
        """Put a log event with this gateway as its source."""
        record = LogData(
            message=message, level=level, source=self.gateway_name, time=self.clock.now()
        )
        self.event_engine.put(Event(EVENT_LOG, record))
