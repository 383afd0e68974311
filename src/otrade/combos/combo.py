"""A built combo: its legs with signed ratios, its signature, and the order that closes it.

A :class:`Combo` is immutable.  Its legs carry the *effective* signed ratio per unit of
the combo: the definition's ratio for a LONG combo, negated for a SHORT one.  One unit of
an iron condor LONG is +1 put K1, -1 put K2, -1 call K3, +1 call K4; an order of
``volume`` units trades ``volume x ratio`` of each leg (a 2-lot trades 2 of each leg).

**Signature.**  :func:`combo_signature` describes the structure alone: for every leg its
root, expiry, right and strike (or the underlying's symbol for a stock leg) and its
signed ratio, the ratios reduced by their greatest common divisor, the legs sorted.  The
same structure built twice has the same signature whatever its volume or type name; the
reversed structure has :func:`opposite_signature` of it (every sign flipped), which is how
the position engine nets a close against its open; two different structures never share
one.  Example (a LONG 430/440/460/470 iron condor on SPY, December 18 2026)::

    SPY 2026-12-18 P 430 +1|SPY 2026-12-18 P 440 -1|SPY 2026-12-18 C 460 -1|SPY 2026-12-18 C 470 +1

with the legs in a fixed order: stock legs first, then by expiry, strike, right and root.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date
from functools import reduce

import attrs

from otrade.constants import Direction, OptionRight, OrderType
from otrade.objects import Leg, OrderRequest

__all__ = ["Combo", "ComboLeg", "combo_signature", "opposite_signature"]


@attrs.frozen(kw_only=True)
class ComboLeg:
    """One leg of a built combo.

    Attributes:
        role: The leg's role in its combo type (``short_put``); for ``custom`` combos the
            caller's name.
        symbol: Canonical symbol (OCC for options, the ticker for the underlying).
        right: Call or put; None for an underlying (stock) leg.
        strike: The option's strike; None for an underlying leg.
        expiry: The option's expiry; None for an underlying leg.
        root: The option's root (``SPXW``); "" for an underlying leg.
        ratio: Signed quantity per unit of the combo after the combo's direction: options
            in contracts, an underlying leg in shares (a covered call is +100 shares and
            -1 call).  Never 0.
        multiplier: Units of the underlying per contract (1 for an underlying leg).
    """

    role: str
    symbol: str
    right: OptionRight | None
    strike: float | None
    expiry: date | None
    root: str
    ratio: int
    multiplier: int = 1

    @property
    def is_underlying(self) -> bool:
        """True for a stock (underlying) leg."""
        return self.right is None

    @property
    def direction(self) -> Direction:
        """LONG when the leg buys, SHORT when it sells."""
        return Direction.LONG if self.ratio > 0 else Direction.SHORT

    def quantity(self, volume: int) -> int:
        """Signed contracts (or shares) this leg trades for ``volume`` combo units."""
        return self.ratio * volume

    def reversed(self) -> ComboLeg:
        """The same leg with its ratio negated."""
        return attrs.evolve(self, ratio=-self.ratio)

    def signature_part(self, ratio: int) -> str:
        """This leg's part of a signature, with ``ratio`` (already reduced)."""
        sign = f"{ratio:+d}"
        if self.is_underlying:
            return f"{self.symbol} STK {sign}"
        assert self.expiry is not None
        assert self.strike is not None
        assert self.right is not None
        return f"{self.root} {self.expiry.isoformat()} {self.right.value} {self.strike:g} {sign}"

    def sort_key(self) -> tuple[int, str, float, str, str]:
        """Stock legs first, then by expiry, strike, right and root."""
        if self.is_underlying:
            return (0, "", 0.0, "", self.symbol)
        assert self.expiry is not None
        assert self.strike is not None
        assert self.right is not None
        return (1, self.expiry.isoformat(), self.strike, self.right.value, self.root)


def combo_signature(legs: Iterable[ComboLeg]) -> str:
    """The canonical, direction-aware signature of a set of legs (see the module docs).

    Raises:
        ValueError: No legs, or a leg with a zero ratio.
    """
    ordered = sorted(legs, key=ComboLeg.sort_key)
    if not ordered:
        raise ValueError("a combo needs at least one leg")
    if any(leg.ratio == 0 for leg in ordered):
        raise ValueError("a leg's ratio must not be 0")
    divisor = reduce(math.gcd, (abs(leg.ratio) for leg in ordered))
    return "|".join(leg.signature_part(leg.ratio // divisor) for leg in ordered)


def opposite_signature(signature: str) -> str:
    """The signature of the reversed structure: every leg's sign flipped."""
    flipped = []
    for part in signature.split("|"):
        head, _, ratio = part.rpartition(" ")
        flipped.append(f"{head} {-int(ratio):+d}")
    return "|".join(flipped)


@attrs.frozen(kw_only=True)
class Combo:
    """A built, validated combo (see :func:`~otrade.combos.build_combo`).

    Attributes:
        type_name: The combo type it was built as (``iron_condor``, ``custom``...).
        direction: LONG takes every leg as the type defines it; SHORT negates every leg.
        volume: Combo units; each leg trades ``volume x ratio``.
        underlying: The underlying's symbol.
        legs: The legs, in the type's role order, with effective signed ratios.
        signature: :func:`combo_signature` of the legs.
    """

    type_name: str
    direction: Direction
    volume: int
    underlying: str
    legs: tuple[ComboLeg, ...]
    signature: str = attrs.field()

    @signature.default
    def _signature(self) -> str:
        return combo_signature(self.legs)

    def __attrs_post_init__(self) -> None:
        """Check the volume and the legs."""
        if isinstance(self.volume, bool) or not isinstance(self.volume, int) or self.volume <= 0:
            raise ValueError(f"volume must be a positive whole number, got {self.volume!r}")
        if not self.legs:
            raise ValueError("a combo needs at least one leg")

    def leg(self, role: str) -> ComboLeg:
        """The leg with ``role``.

        Raises:
            KeyError: No leg has that role.
        """
        for leg in self.legs:
            if leg.role == role:
                return leg
        raise KeyError(f"{self.type_name} has no leg {role!r}")

    def quantities(self) -> dict[str, int]:
        """Signed contracts (shares for an underlying leg) per symbol for the volume."""
        return {leg.symbol: leg.quantity(self.volume) for leg in self.legs}

    def reversed(self) -> Combo:
        """The combo that closes this one: the other direction, every leg flipped."""
        return Combo(
            type_name=self.type_name,
            direction=self.direction.opposite(),
            volume=self.volume,
            underlying=self.underlying,
            legs=tuple(leg.reversed() for leg in self.legs),
        )

    def order_legs(self) -> tuple[Leg, ...]:
        """The legs as an :class:`~otrade.objects.OrderRequest` takes them."""
        return tuple(Leg(leg.symbol, leg.ratio, leg.role) for leg in self.legs)

    def order_request(
        self,
        order_type: OrderType,
        price: float | None = None,
        *,
        strategy: str = "",
        reference: str = "",
    ) -> OrderRequest:
        """The order that trades this combo: LONG with the effective legs.

        Args:
            order_type: Market or limit.
            price: For a limit, the net price per unit per share of the options,
                ``sum(ratio x leg price x multiplier) / option multiplier``: simply
                ``sum(ratio x leg price)`` for options-only combos; negative for a credit.
            strategy: The strategy sending it.
            reference: Free-form tag.
        """
        return OrderRequest(
            symbol=f"{self.underlying} {self.type_name}",
            direction=Direction.LONG,
            order_type=order_type,
            volume=self.volume,
            price=price,
            legs=self.order_legs(),
            strategy=strategy,
            reference=reference,
            combo_signature=self.signature,
        )
