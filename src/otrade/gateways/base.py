"""The gateway contract every broker connection implements.

A gateway turns otrade requests into broker calls and broker callbacks into otrade
events.  It never touches engine state: everything it learns it *puts* on the event bus
as a record from :mod:`otrade.objects`.  Network code runs on the MainEngine's IO loop
(:class:`~otrade.ioloop.IoLoop`); the methods below are called from the event thread or a
user thread and must not block for long.

**Methods.**

* :meth:`BaseGateway.connect` starts connecting with a settings mapping (the keys of
  :attr:`BaseGateway.default_settings`); progress and failures arrive as log events, and
  a bad setting raises :class:`~otrade.errors.GatewayError` naming it.
* :meth:`BaseGateway.close` disconnects; calling it twice is harmless.
* :meth:`BaseGateway.send_order` checks the request
  (:func:`~otrade.gateways.orders.check_request`: a bad one raises
  :class:`~otrade.errors.OrderRejected` naming the field, and nothing is created or sent)
  and returns the new local order id at once; everything after that arrives as events.
* :meth:`BaseGateway.cancel_order` asks for a cancel; the result is an order event.
* :meth:`BaseGateway.query_account` and :meth:`BaseGateway.query_positions` are answered
  with account and position events.

**Events.**  ``EVENT_ORDER`` (:class:`~otrade.objects.OrderData`, every state change),
``EVENT_TRADE`` (:class:`~otrade.objects.TradeData`, one per execution, keyed by the
broker's execution id), ``EVENT_ACCOUNT``, ``EVENT_POSITION``, ``EVENT_CONTRACT``,
``EVENT_QUOTE`` and ``EVENT_LOG``.

**Orders.**  Every gateway moves its orders through the one state machine of
:class:`~otrade.gateways.orders.OrderBook`: SUBMITTING, NOT_TRADED, PART_TRADED, then one
of ALL_TRADED, CANCELLED or REJECTED (with ``reject_reason``).  A late or repeated broker
update never moves an order backwards.  An order's ``volume`` is a number of units; for a
combo each leg trades ``volume x |ratio|`` (a 2-lot iron condor trades 2 of each leg), and
a combo's limit price is the net per unit, which may be negative (a credit).  A trade
that arrives for an order the gateway does not know is logged and still put: the fill
happened.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import attrs
from attrs import AttrsInstance

from otrade.clock import Clock
from otrade.errors import GatewayError
from otrade.event import (
    EVENT_ACCOUNT,
    EVENT_COMMISSION,
    EVENT_CONTRACT,
    EVENT_GREEKS,
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
    CommissionData,
    ContractData,
    GreeksData,
    LogData,
    OrderData,
    OrderRequest,
    PositionData,
    QuoteData,
    SubscribeRequest,
    TradeData,
)

__all__ = ["BaseGateway", "settings_from_mapping"]


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
        self._contract_lookup: Callable[[str], ContractData | None] = _no_contract
        self._order_lookup: Callable[[str], OrderData | None] = _no_order

    def bind_contracts(self, lookup: Callable[[str], ContractData | None]) -> None:
        """Read contracts through ``lookup`` (the MainEngine binds its contract cache)."""
        self._contract_lookup = lookup

    def get_contract(self, symbol: str) -> ContractData | None:
        """The contract of ``symbol`` among those reported so far, or None.

        Gateways read the MainEngine's cache of every contract event instead of keeping a
        copy: a million listings arrive at start.
        """
        return self._contract_lookup(symbol)

    def bind_orders(self, lookup: Callable[[str], OrderData | None]) -> None:
        """Read stored orders through ``lookup`` (the MainEngine binds the database's)."""
        self._order_lookup = lookup

    def stored_order(self, order_id: str) -> OrderData | None:
        """The order ``order_id`` as stored by an earlier session, or None.

        A gateway that finds one of its orders working at the broker after a restart takes
        what the broker does not keep from here: the strategy, the combo legs with their
        roles, the reference.  It may be called from the IO loop; it reads the database.
        """
        return self._order_lookup(order_id)

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

    def on_commission(self, commission: CommissionData) -> None:
        """Put a commission reported after its trade."""
        self.event_engine.put(Event(EVENT_COMMISSION, commission))

    def on_greeks(self, greeks: GreeksData) -> None:
        """Put the broker's Greeks of an option."""
        self.event_engine.put(Event(EVENT_GREEKS, greeks))

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


def _no_contract(symbol: str) -> ContractData | None:
    return None


def _no_order(order_id: str) -> OrderData | None:
    return None


SettingsT = TypeVar("SettingsT", bound=AttrsInstance)


def settings_from_mapping(
    settings_class: type[SettingsT],
    values: Mapping[str, object],
    label: str,
    check: Callable[[str, object, Any], object],
) -> SettingsT:
    """Build a gateway's attrs settings record from connect settings.

    Args:
        settings_class: The attrs record; its fields and their defaults are the known keys.
        values: The connect settings.
        label: How errors name the settings (``"paper settings"``).
        check: Called with each key, its value and the field's default; returns the value
            to store or raises :class:`~otrade.errors.GatewayError` naming the key.

    Raises:
        GatewayError: An unknown key (the message lists the known ones), or what
            ``check`` raises.
    """
    fields = {field.name: field for field in attrs.fields(settings_class)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise GatewayError(f"{label}: unknown key {unknown[0]!r} (known: {', '.join(fields)})")
    checked = {key: check(key, value, fields[key].default) for key, value in values.items()}
    return settings_class(**checked)
