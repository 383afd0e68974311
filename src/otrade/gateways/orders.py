r"""What every gateway shares about orders: ids, request checks and the order state machine.

* :func:`new_order_id` makes local order ids: 26-character ULIDs (48 bits of clock
  milliseconds, 80 random bits, Crockford base 32), so ids sort by creation time and never
  repeat across restarts, even on a SimulatedClock that restarts at the same time.
* :func:`check_request` refuses a bad order before anything is sent, with
  :class:`~otrade.errors.OrderRejected` naming the field.
* :class:`OrderBook` is the one state machine every gateway runs its orders through::

      SUBMITTING -> NOT_TRADED -> PART_TRADED -> ALL_TRADED
               \-> REJECTED      \-> CANCELLED

  An update that would move an order backwards (a late ``Submitted`` after a fill, a
  smaller traded quantity, anything after a final state) changes nothing, so brokers'
  repeated and out-of-order reports are harmless.  The one change a final order still
  takes is a fill: one that completes it ends it as ALL_TRADED (a cancel that lost the race
  to the last fill), and a REJECTED order that reports a fill becomes CANCELLED, as a
  rejected order never traded.  The traded quantity never exceeds the volume.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Final

import attrs

from otrade.clock import Clock
from otrade.constants import OrderType, Product, Status
from otrade.errors import OrderRejected
from otrade.objects import ContractData, OrderData, OrderRequest

__all__ = ["OrderBook", "OrderUpdate", "check_request", "new_order_id"]

_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_id(clock: Clock) -> str:
    """A new local order id: a ULID from the clock's time and 80 random bits."""
    milliseconds = int(clock.timestamp() * 1000) & ((1 << 48) - 1)
    value = (milliseconds << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def check_request(
    request: OrderRequest,
    contract_of: Callable[[str], ContractData | None],
    order_types: Collection[OrderType],
) -> None:
    """Refuse ``request`` unless a gateway can send it as it stands.

    The record itself already guarantees a positive whole volume, a price where the order
    type needs one and distinct leg symbols; this adds what depends on the gateway.

    Args:
        request: The order.
        contract_of: Looks a canonical symbol up among the known contracts.
        order_types: The order types the gateway supports.

    Raises:
        OrderRejected: The reason names the field: an unsupported ``order_type``, a
            ``price`` or ``trigger_price`` that is not a finite number, an unknown
            ``symbol`` or leg symbol, a leg that is itself a combo, or a combo of one leg.
    """
    if request.order_type not in order_types:
        supported = ", ".join(sorted(order_type.value for order_type in order_types))
        raise OrderRejected(
            f"order_type {request.order_type.value!r} is not supported here "
            f"(supported: {supported})"
        )
    for field in ("price", "trigger_price"):
        value = getattr(request, field)
        if value is not None and not math.isfinite(value):
            raise OrderRejected(f"{field} must be a finite number, got {value!r}")
    if request.order_type is OrderType.MARKET and request.price is not None:
        raise OrderRejected("price must be None for a market order")
    if not request.legs:
        if contract_of(request.symbol) is None:
            raise OrderRejected(f"symbol {request.symbol!r} is not a known contract")
        return
    if len(request.legs) < 2:
        raise OrderRejected("legs: a combo needs at least two legs")
    for leg in request.legs:
        contract = contract_of(leg.symbol)
        if contract is None:
            raise OrderRejected(f"legs: {leg.symbol!r} is not a known contract")
        if contract.product is Product.COMBO:
            raise OrderRejected(f"legs: {leg.symbol!r} is itself a combo")


@attrs.frozen(kw_only=True)
class OrderUpdate:
    """What a broker says about an order; None fields are left as they are.

    Attributes:
        status: The broker's status in otrade's terms.
        traded: Units traded so far (cumulative).
        average_price: Average fill price so far.
        reject_reason: Why the broker refused or cancelled the order.
        broker_order_id: The broker's id of the order.
        broker_perm_id: The broker's permanent id.
    """

    status: Status | None = None
    traded: int | None = None
    average_price: float | None = None
    reject_reason: str | None = None
    broker_order_id: str | None = None
    broker_perm_id: str | None = None


_RANK: Final = {
    Status.SUBMITTING: 0,
    Status.NOT_TRADED: 1,
    Status.PART_TRADED: 2,
    Status.ALL_TRADED: 3,
    Status.CANCELLED: 3,
    Status.REJECTED: 3,
}


class OrderBook:
    """The orders of one gateway, each moved only forward through the state machine.

    Not thread-safe: a gateway calls it from one thread (its IO loop, or the event thread
    for a gateway without network).
    """

    def __init__(self) -> None:
        self._orders: dict[str, OrderData] = {}

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def __iter__(self) -> Iterator[OrderData]:
        return iter(list(self._orders.values()))

    def __len__(self) -> int:
        return len(self._orders)

    def get(self, order_id: str) -> OrderData | None:
        """The order's latest state, or None."""
        return self._orders.get(order_id)

    def active(self) -> list[OrderData]:
        """Orders that can still trade or be cancelled, oldest first."""
        return [order for order in self._orders.values() if order.status.is_active]

    def add(self, order: OrderData) -> OrderData:
        """Track a new order (normally in SUBMITTING).

        Raises:
            ValueError: The order id is already tracked.
        """
        if order.order_id in self._orders:
            raise ValueError(f"order {order.order_id!r} is already tracked")
        self._orders[order.order_id] = order
        return order

    def update(self, order_id: str, update: OrderUpdate, time: datetime) -> OrderData | None:
        """Apply ``update``; return the new state, or None when nothing changed.

        Raises:
            KeyError: The order is not tracked.
        """
        current = self._orders[order_id]
        new = advance(current, update, time)
        if new is None:
            return None
        self._orders[order_id] = new
        return new


def advance(order: OrderData, update: OrderUpdate, time: datetime) -> OrderData | None:
    """The order after ``update``, or None when the update would change nothing or go back.

    See the module docstring for the rules.
    """
    traded = order.traded
    if update.traded is not None and update.traded > traded:
        traded = min(update.traded, order.volume)
    status = _next_status(order, traded, update.status)
    changes: dict[str, object] = {}
    if status is not order.status:
        changes["status"] = status
    if traded != order.traded:
        changes["traded"] = traded
    fills_changed = traded != order.traded or order.average_price is None
    if update.average_price is not None and traded > 0 and fills_changed:
        changes["average_price"] = update.average_price
    if changes.get("status") in (Status.REJECTED, Status.CANCELLED) and update.reject_reason:
        changes["reject_reason"] = update.reject_reason
    for field in ("broker_order_id", "broker_perm_id"):
        value = getattr(update, field)
        if value and not getattr(order, field):
            changes[field] = value
    if not changes:
        return None
    return attrs.evolve(order, time=time, **changes)  # type: ignore[arg-type]


def _next_status(order: OrderData, traded: int, reported: Status | None) -> Status:
    if traded == order.volume:
        return Status.ALL_TRADED
    if order.status.is_final:
        if order.status is Status.REJECTED and traded > 0:
            return Status.CANCELLED  # it traded after all: a rejected order never did
        return order.status
    wanted = reported if reported is not None else order.status
    if wanted is Status.ALL_TRADED:
        wanted = Status.PART_TRADED  # the quantity says it is not complete
    if wanted is Status.REJECTED and traded > 0:
        wanted = Status.CANCELLED  # what traded stays traded; the rest is dead
    if traded > 0 and _RANK[wanted] < _RANK[Status.PART_TRADED]:
        wanted = Status.PART_TRADED
    return wanted if _RANK[wanted] >= _RANK[order.status] else order.status
