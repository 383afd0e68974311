"""Shape-based leg selection: pick a combo's legs from a chain the way traders describe them.

"Sell the 16-delta strangle with 5-wide wings", "buy the ATM straddle", "the 100 call
calendar, January against February": each helper here reads a :class:`ChainData` (two for
a calendar) and returns the mapping ``{role: OptionData}`` that
:func:`~otrade.combos.build_combo` takes, with the role names of the built-in combo types::

    legs = iron_condor_by_delta(chain, short_delta=0.16, wing_width=5.0)
    combo = build_combo("iron_condor", legs, Direction.LONG, volume=2)

The helpers only choose strikes; :func:`~otrade.combos.build_combo` still validates the
shape.  The direction is the caller's: the same straddle legs build ``straddle`` or
``short_straddle``.

**Deltas.**  A delta argument is always positive (0.16 for a 16-delta option); a put is
looked for at ``-delta``.  The option nearest a delta is
:meth:`ChainData.nearest_delta` of that right: options without a stored delta are skipped
and ties go to the lower strike.

**Widths.**  A width is a strike distance in price units (5.0 is five dollars).  Where the
combo type does not need equal widths (verticals, iron condors) the width is a minimum:
the far leg goes to the nearest listed strike *at or beyond* the distance, further out of
the money (above for calls, below for puts), so it is exactly ``width`` away whenever that
strike is listed.  Where the type needs equal widths (butterflies, iron butterflies) the
strikes ``width`` away must be listed exactly.  Strikes are compared with a tolerance of
1e-9 so that ``0.1``-step arithmetic matches.

**ATM.**  "At the money" is :meth:`ChainData.atm_strike`: the listed strike nearest the
put-call parity forward, else nearest the underlying's price, ties to the lower strike.

**Errors.**  A bad argument (a delta outside (0, 1), a width that is not positive) raises
:class:`ValueError` naming it.  A chain that cannot supply the shape raises
:class:`SelectionError` naming the shape, the role and what is missing; no helper ever
returns a partial mapping.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypeAlias

from otrade.constants import OptionRight
from otrade.errors import OTradeError
from otrade.portfolio import ChainData, OptionData

__all__ = [
    "DEFAULT_WING_WIDTH",
    "Legs",
    "SelectionError",
    "SpreadKind",
    "butterfly_at_atm",
    "calendar_at_strike",
    "calendar_type",
    "generic_legs",
    "iron_butterfly_at_atm",
    "iron_condor_by_delta",
    "straddle_at_atm",
    "strangle_by_delta",
    "vertical_by_delta",
    "vertical_by_width",
    "vertical_type",
]

Legs: TypeAlias = dict[str, OptionData]
"""Options by role name, in the combo type's role order."""

DEFAULT_WING_WIDTH = 5.0
"""Wing width of :func:`iron_condor_by_delta` when neither a width nor a delta is given."""

_STRIKE_TOLERANCE = 1e-9

_GENERIC_ROLES = {
    "long_call": "long_leg",
    "long_put": "long_leg",
    "short_call": "short_leg",
    "short_put": "short_leg",
    "near_call": "near",
    "near_put": "near",
    "far_call": "far",
    "far_put": "far",
}
_GENERIC_ORDERS = (("long_leg", "short_leg"), ("near", "far"))


class SelectionError(OTradeError, ValueError):
    """The chain cannot supply the shape asked for; nothing is selected.

    The message reads ``"<shape>: <reason>"``, the reason naming the role and what is
    missing, e.g. ``"iron_condor: no put strike at or below 85.0 for long_put (lowest
    listed 90.0)"``.

    Attributes:
        shape: The combo type being selected (``iron_condor``, ``call_calendar_spread``).
        role: The role that could not be filled ("" when the fault is not one role's).
        reason: What is missing, in words.
    """

    def __init__(self, shape: str, role: str, reason: str) -> None:
        super().__init__(f"{shape}: {reason}")
        self.shape = shape
        self.role = role
        self.reason = reason


class SpreadKind(StrEnum):
    """Which way a vertical spread leans: it profits when the underlying rises or falls."""

    BULL = "bull"
    BEAR = "bear"


# --- type names ----------------------------------------------------------------------------


def vertical_type(right: OptionRight, kind: SpreadKind | Literal["bull", "bear"]) -> str:
    """The combo type name of a vertical: ``bull_call_spread``, ``bear_put_spread``...

    Args:
        right: Call or put.
        kind: Bull or bear.

    Raises:
        ValueError: ``kind`` is neither ``"bull"`` nor ``"bear"``.
    """
    return f"{SpreadKind(kind).value}_{_word(right)}_spread"


def calendar_type(right: OptionRight) -> str:
    """The combo type name of a calendar: ``call_calendar_spread`` or ``put_calendar_spread``."""
    return f"{_word(right)}_calendar_spread"


def generic_legs(legs: Mapping[str, OptionData]) -> Legs:
    """The legs of a vertical or calendar under the generic roles.

    ``long_call``/``long_put`` become ``long_leg`` and ``short_call``/``short_put``
    ``short_leg`` (for ``vertical_spread``); ``near_call``/``near_put`` become ``near`` and
    ``far_call``/``far_put`` ``far`` (for ``calendar_spread``).

    Args:
        legs: What :func:`vertical_by_delta`, :func:`vertical_by_width` or
            :func:`calendar_at_strike` returned.

    Returns:
        ``{"long_leg", "short_leg"}`` or ``{"near", "far"}``, in that order.

    Raises:
        ValueError: ``legs`` is not a two-leg vertical or calendar.
    """
    renamed = {_GENERIC_ROLES.get(role, role): option for role, option in legs.items()}
    for order in _GENERIC_ORDERS:
        if len(legs) == 2 and set(renamed) == set(order):
            return {role: renamed[role] for role in order}
    raise ValueError(
        f"legs must be a vertical or a calendar (long/short or near/far roles), "
        f"got roles {sorted(legs)}"
    )


# --- verticals -----------------------------------------------------------------------------


def vertical_by_delta(
    chain: ChainData,
    right: OptionRight,
    kind: SpreadKind | Literal["bull", "bear"],
    delta: float = 0.30,
    width: float = DEFAULT_WING_WIDTH,
) -> Legs:
    """A vertical whose leg nearer the money is the option nearest ``delta``.

    The leg nearer the money is the short leg of a credit spread (bear call, bull put) and
    the long leg of a debit spread (bull call, bear put).  The other leg is ``width``
    further out of the money: above it for calls, below it for puts, at the nearest listed
    strike at or beyond that distance.

    Roles (lower strike first):

    * bull call: ``long_call`` (K1, the delta leg), ``short_call`` (K2 >= K1 + width)
    * bear call: ``short_call`` (K1, the delta leg), ``long_call`` (K2 >= K1 + width)
    * bull put: ``long_put`` (K1 <= K2 - width), ``short_put`` (K2, the delta leg)
    * bear put: ``short_put`` (K1 <= K2 - width), ``long_put`` (K2, the delta leg)

    Build with ``build_combo(vertical_type(right, kind), legs)``.

    Args:
        chain: The chain to pick from.
        right: Call or put.
        kind: Bull or bear.
        delta: Absolute delta of the leg nearer the money, in (0, 1).
        width: Minimum strike distance to the other leg, > 0.

    Raises:
        ValueError: ``kind``, ``delta`` or ``width`` is out of range.
        SelectionError: No option of ``right`` has a delta, or no strike is listed
            ``width`` beyond the delta leg.
    """
    kind = SpreadKind(kind)
    _check_delta("delta", delta)
    _check_width("width", width)
    shape = vertical_type(right, kind)
    inner_role, outer_role = _vertical_roles(right, kind)
    inner = _by_delta(shape, inner_role, chain, right, delta)
    outer = _beyond(shape, outer_role, chain, right, _outward(right, inner.strike, width))
    return _vertical_legs(right, inner_role, inner, outer_role, outer)


def vertical_by_width(
    chain: ChainData,
    right: OptionRight,
    kind: SpreadKind | Literal["bull", "bear"],
    strike: float | None = None,
    width: float = DEFAULT_WING_WIDTH,
    *,
    underlying_price: float | None = None,
    rate: float = 0.0,
    now: datetime | None = None,
) -> Legs:
    """A vertical whose leg nearer the money is at ``strike`` (the ATM strike by default).

    The roles and the other leg are as in :func:`vertical_by_delta`: ``width`` further out
    of the money, at the nearest listed strike at or beyond that distance.

    Args:
        chain: The chain to pick from.
        right: Call or put.
        kind: Bull or bear.
        strike: Strike of the leg nearer the money; it must be listed for ``right``.
            None for :meth:`ChainData.atm_strike`.
        width: Minimum strike distance to the other leg, > 0.
        underlying_price: For the ATM strike, as in :meth:`ChainData.atm_strike`.
        rate: For the ATM strike, as in :meth:`ChainData.atm_strike`.
        now: For the ATM strike, as in :meth:`ChainData.atm_strike`.

    Raises:
        ValueError: ``kind`` or ``width`` is out of range, or as in
            :meth:`ChainData.atm_strike`.
        SelectionError: No ATM strike, ``strike`` is not listed for ``right``, or no strike
            is listed ``width`` beyond it.
    """
    kind = SpreadKind(kind)
    _check_width("width", width)
    shape = vertical_type(right, kind)
    inner_role, outer_role = _vertical_roles(right, kind)
    if strike is None:
        strike = _atm(
            shape, inner_role, chain, underlying_price=underlying_price, rate=rate, now=now
        )
    inner = _exact(shape, inner_role, chain, right, strike)
    outer = _beyond(shape, outer_role, chain, right, _outward(right, inner.strike, width))
    return _vertical_legs(right, inner_role, inner, outer_role, outer)


def _vertical_roles(right: OptionRight, kind: SpreadKind) -> tuple[str, str]:
    """(role nearer the money, role further out) of a vertical."""
    word = _word(right)
    long_role, short_role = f"long_{word}", f"short_{word}"
    debit = (kind is SpreadKind.BULL) == (right is OptionRight.CALL)
    return (long_role, short_role) if debit else (short_role, long_role)


def _vertical_legs(
    right: OptionRight, inner_role: str, inner: OptionData, outer_role: str, outer: OptionData
) -> Legs:
    """The two legs, lower strike first (the role order of the four vertical types)."""
    if right is OptionRight.CALL:
        return {inner_role: inner, outer_role: outer}
    return {outer_role: outer, inner_role: inner}


# --- straddles and strangles ---------------------------------------------------------------


def straddle_at_atm(
    chain: ChainData,
    *,
    underlying_price: float | None = None,
    rate: float = 0.0,
    now: datetime | None = None,
) -> Legs:
    """The call and the put at the ATM strike: roles ``call`` and ``put``.

    For ``straddle`` or ``short_straddle``.

    Args:
        chain: The chain to pick from.
        underlying_price: As in :meth:`ChainData.atm_strike`.
        rate: As in :meth:`ChainData.atm_strike`.
        now: As in :meth:`ChainData.atm_strike`.

    Raises:
        ValueError: As in :meth:`ChainData.atm_strike`.
        SelectionError: No ATM strike, or no call or no put listed at it.
    """
    shape = "straddle"
    strike = _atm(shape, "call", chain, underlying_price=underlying_price, rate=rate, now=now)
    call = _exact(shape, "call", chain, OptionRight.CALL, strike)
    put = _exact(shape, "put", chain, OptionRight.PUT, strike)
    return {"call": call, "put": put}


def strangle_by_delta(chain: ChainData, delta: float = 0.25) -> Legs:
    """The put nearest ``-delta`` and the call nearest ``+delta``: roles ``put`` and ``call``.

    For ``strangle`` or ``short_strangle``, put strike below call strike.

    Args:
        chain: The chain to pick from.
        delta: Absolute delta of both legs, in (0, 1).

    Raises:
        ValueError: ``delta`` is out of range.
        SelectionError: No put or no call has a delta, or the two land on one strike (or
            the put above the call), which is a straddle, not a strangle.
    """
    _check_delta("delta", delta)
    shape = "strangle"
    put = _by_delta(shape, "put", chain, OptionRight.PUT, delta)
    call = _by_delta(shape, "call", chain, OptionRight.CALL, delta)
    _check_below(shape, ("put", put), ("call", call), delta)
    return {"put": put, "call": call}


# --- butterflies and condors ---------------------------------------------------------------


def butterfly_at_atm(
    chain: ChainData,
    right: OptionRight,
    wing_width: float = DEFAULT_WING_WIDTH,
    *,
    underlying_price: float | None = None,
    rate: float = 0.0,
    now: datetime | None = None,
) -> Legs:
    """A butterfly of one right centred on the ATM strike, wings exactly ``wing_width`` out.

    Roles for ``butterfly_call``: ``lower_call`` (ATM - width), ``middle_call`` (ATM),
    ``upper_call`` (ATM + width); for ``butterfly_put`` the same with ``_put``.

    Args:
        chain: The chain to pick from.
        right: Call or put.
        wing_width: Strike distance from the body to each wing, > 0; both wing strikes
            must be listed exactly (the butterfly's strikes are equidistant).
        underlying_price: As in :meth:`ChainData.atm_strike`.
        rate: As in :meth:`ChainData.atm_strike`.
        now: As in :meth:`ChainData.atm_strike`.

    Raises:
        ValueError: ``wing_width`` is not > 0, or as in :meth:`ChainData.atm_strike`.
        SelectionError: No ATM strike, or an option of ``right`` is not listed at the ATM
            strike or exactly ``wing_width`` from it.
    """
    _check_width("wing_width", wing_width)
    word = _word(right)
    shape = f"butterfly_{word}"
    lower_role, middle_role, upper_role = f"lower_{word}", f"middle_{word}", f"upper_{word}"
    strike = _atm(shape, middle_role, chain, underlying_price=underlying_price, rate=rate, now=now)
    middle = _exact(shape, middle_role, chain, right, strike)
    lower = _exact(shape, lower_role, chain, right, strike - wing_width)
    upper = _exact(shape, upper_role, chain, right, strike + wing_width)
    return {lower_role: lower, middle_role: middle, upper_role: upper}


def iron_butterfly_at_atm(
    chain: ChainData,
    wing_width: float = DEFAULT_WING_WIDTH,
    *,
    underlying_price: float | None = None,
    rate: float = 0.0,
    now: datetime | None = None,
) -> Legs:
    """An iron butterfly whose short put and short call are at the ATM strike.

    Roles for ``iron_butterfly``: ``long_put`` (ATM - width), ``short_put`` (ATM),
    ``short_call`` (ATM), ``long_call`` (ATM + width).

    Args:
        chain: The chain to pick from.
        wing_width: Strike distance from the body to each wing, > 0; both wing strikes
            must be listed exactly (the iron butterfly's wings are equal).
        underlying_price: As in :meth:`ChainData.atm_strike`.
        rate: As in :meth:`ChainData.atm_strike`.
        now: As in :meth:`ChainData.atm_strike`.

    Raises:
        ValueError: ``wing_width`` is not > 0, or as in :meth:`ChainData.atm_strike`.
        SelectionError: No ATM strike, no put or call at it, or a wing not listed exactly
            ``wing_width`` from it.
    """
    _check_width("wing_width", wing_width)
    shape = "iron_butterfly"
    strike = _atm(shape, "short_put", chain, underlying_price=underlying_price, rate=rate, now=now)
    short_put = _exact(shape, "short_put", chain, OptionRight.PUT, strike)
    short_call = _exact(shape, "short_call", chain, OptionRight.CALL, strike)
    long_put = _exact(shape, "long_put", chain, OptionRight.PUT, strike - wing_width)
    long_call = _exact(shape, "long_call", chain, OptionRight.CALL, strike + wing_width)
    return {
        "long_put": long_put,
        "short_put": short_put,
        "short_call": short_call,
        "long_call": long_call,
    }


def iron_condor_by_delta(
    chain: ChainData,
    short_delta: float = 0.16,
    *,
    wing_width: float | None = None,
    wing_delta: float | None = None,
) -> Legs:
    """An iron condor whose short strikes are the put and call nearest ``short_delta``.

    The short put is the put nearest ``-short_delta``, the short call the call nearest
    ``+short_delta``.  The wings are either ``wing_width`` beyond them (the nearest listed
    strike at or below short put - width, at or above short call + width) or, with
    ``wing_delta``, the put nearest ``-wing_delta`` below the short put and the call
    nearest ``+wing_delta`` above the short call.  Neither given: a width of
    :data:`DEFAULT_WING_WIDTH`.

    Roles for ``iron_condor``: ``long_put`` (K1), ``short_put`` (K2), ``short_call`` (K3),
    ``long_call`` (K4), with K1 < K2 < K3 < K4.

    Args:
        chain: The chain to pick from.
        short_delta: Absolute delta of the short legs, in (0, 1).
        wing_width: Minimum strike distance from each short leg to its wing, > 0.
        wing_delta: Absolute delta of the wings, in (0, ``short_delta``).

    Raises:
        ValueError: A delta or the width is out of range, or both ``wing_width`` and
            ``wing_delta`` are given.
        SelectionError: No put or call has a delta, the short put is not below the short
            call (the deltas meet at one strike), or no wing is listed beyond a short leg.
    """
    _check_delta("short_delta", short_delta)
    if wing_width is not None and wing_delta is not None:
        raise ValueError(
            f"give wing_width or wing_delta, not both (got {wing_width!r} and {wing_delta!r})"
        )
    if wing_delta is not None and not 0.0 < wing_delta < short_delta:
        raise ValueError(
            f"wing_delta must be between 0 and short_delta ({short_delta!r}), got {wing_delta!r}"
        )
    if wing_delta is None:
        wing_width = DEFAULT_WING_WIDTH if wing_width is None else wing_width
        _check_width("wing_width", wing_width)
    shape = "iron_condor"
    short_put = _by_delta(shape, "short_put", chain, OptionRight.PUT, short_delta)
    short_call = _by_delta(shape, "short_call", chain, OptionRight.CALL, short_delta)
    _check_below(shape, ("short_put", short_put), ("short_call", short_call), short_delta)
    if wing_delta is not None:
        long_put = _wing_by_delta(shape, "long_put", chain, short_put, wing_delta)
        long_call = _wing_by_delta(shape, "long_call", chain, short_call, wing_delta)
    else:
        assert wing_width is not None
        put_target = short_put.strike - wing_width
        call_target = short_call.strike + wing_width
        long_put = _beyond(shape, "long_put", chain, OptionRight.PUT, put_target)
        long_call = _beyond(shape, "long_call", chain, OptionRight.CALL, call_target)
    return {
        "long_put": long_put,
        "short_put": short_put,
        "short_call": short_call,
        "long_call": long_call,
    }


# --- calendars -----------------------------------------------------------------------------


def calendar_at_strike(
    near_chain: ChainData,
    far_chain: ChainData,
    right: OptionRight,
    strike: float | None = None,
    *,
    underlying_price: float | None = None,
    rate: float = 0.0,
    now: datetime | None = None,
) -> Legs:
    """The option of ``right`` at one strike in a near and a later far chain.

    Roles for ``call_calendar_spread``: ``near_call``, ``far_call``; for
    ``put_calendar_spread``: ``near_put``, ``far_put`` (:func:`generic_legs` turns them
    into ``near`` and ``far`` for ``calendar_spread``).  The chains may have different
    roots (SPX against SPXW) but must be on one underlying.

    Args:
        near_chain: The chain expiring first.
        far_chain: The chain expiring later.
        right: Call or put.
        strike: The strike, listed in both chains; None for the near chain's
            :meth:`ChainData.atm_strike`.
        underlying_price: For the ATM strike, as in :meth:`ChainData.atm_strike`.
        rate: For the ATM strike, as in :meth:`ChainData.atm_strike`.
        now: For the ATM strike, as in :meth:`ChainData.atm_strike`.

    Raises:
        ValueError: As in :meth:`ChainData.atm_strike`.
        SelectionError: The chains are on different underlyings, the far chain does not
            expire after the near one, there is no ATM strike, or either chain does not
            list ``right`` at the strike.
    """
    word = _word(right)
    shape = calendar_type(right)
    near_role, far_role = f"near_{word}", f"far_{word}"
    if near_chain.underlying_symbol != far_chain.underlying_symbol:
        raise SelectionError(
            shape,
            "",
            f"near chain {near_chain.key!r} is on {near_chain.underlying_symbol!r}, "
            f"far chain {far_chain.key!r} on {far_chain.underlying_symbol!r}",
        )
    if not near_chain.expiry < far_chain.expiry:
        raise SelectionError(
            shape,
            far_role,
            f"far chain {far_chain.key!r} for {far_role} does not expire after near chain "
            f"{near_chain.key!r}",
        )
    if strike is None:
        strike = _atm(
            shape, near_role, near_chain, underlying_price=underlying_price, rate=rate, now=now
        )
    near = _exact(shape, near_role, near_chain, right, strike)
    far = _exact(shape, far_role, far_chain, right, strike)
    return {near_role: near, far_role: far}


# --- helpers -------------------------------------------------------------------------------


def _word(right: OptionRight) -> str:
    return "call" if right is OptionRight.CALL else "put"


def _check_delta(name: str, delta: float) -> None:
    if not 0.0 < delta < 1.0:
        raise ValueError(f"{name} must be between 0 and 1 (a put's as positive), got {delta!r}")


def _check_width(name: str, width: float) -> None:
    if not (math.isfinite(width) and width > 0):
        raise ValueError(f"{name} must be a finite strike distance > 0, got {width!r}")


def _strike_text(strike: float) -> str:
    """A strike for a message, without float noise (``85.0``, not ``84.99999999999999``)."""
    return repr(round(strike, 6))


def _outward(right: OptionRight, strike: float, width: float) -> float:
    """The strike ``width`` further out of the money than ``strike`` for ``right``."""
    return strike + width if right is OptionRight.CALL else strike - width


def _listed(chain: ChainData, right: OptionRight) -> list[float]:
    """Ascending strikes at which ``chain`` lists ``right``."""
    by_strike = chain.calls if right is OptionRight.CALL else chain.puts
    return [strike for strike in chain.strikes if strike in by_strike]


def _option(chain: ChainData, right: OptionRight, strike: float) -> OptionData:
    option = chain.get_option(right, strike)
    assert option is not None, (chain.key, right, strike)
    return option


def _by_delta(
    shape: str, role: str, chain: ChainData, right: OptionRight, delta: float
) -> OptionData:
    """The option of ``right`` nearest ``delta`` (negated for a put); ties to the lower strike."""
    target = delta if right is OptionRight.CALL else -delta
    option = chain.nearest_delta(target, right)
    if option is None:
        raise SelectionError(
            shape, role, f"no {_word(right)} with a delta for {role} in chain {chain.key!r}"
        )
    return option


def _wing_by_delta(
    shape: str, role: str, chain: ChainData, short: OptionData, delta: float
) -> OptionData:
    """The option of ``short``'s right beyond its strike nearest ``delta``; ties go low."""
    right = short.right
    target = delta if right is OptionRight.CALL else -delta
    best: OptionData | None = None
    best_distance = math.inf
    for strike in _listed(chain, right):  # ascending, so a tie keeps the lower strike
        beyond = strike > short.strike if right is OptionRight.CALL else strike < short.strike
        option = _option(chain, right, strike)
        if option.delta is None or not beyond:
            continue
        distance = abs(option.delta - target)
        if distance < best_distance:
            best, best_distance = option, distance
    if best is None:
        side = "above" if right is OptionRight.CALL else "below"
        raise SelectionError(
            shape,
            role,
            f"no {_word(right)} with a delta {side} strike {_strike_text(short.strike)} for {role}",
        )
    return best


def _check_below(
    shape: str, lower: tuple[str, OptionData], upper: tuple[str, OptionData], delta: float
) -> None:
    """Raise unless the put ``lower`` is at a strike below the call ``upper``."""
    (lower_role, put), (upper_role, call) = lower, upper
    if put.strike < call.strike:
        return
    raise SelectionError(
        shape,
        upper_role,
        f"{upper_role} strike {_strike_text(call.strike)} (nearest +{delta!r} delta) is not "
        f"above {lower_role} strike {_strike_text(put.strike)} (nearest -{delta!r} delta)",
    )


def _atm(
    shape: str,
    role: str,
    chain: ChainData,
    *,
    underlying_price: float | None,
    rate: float,
    now: datetime | None,
) -> float:
    strike = chain.atm_strike(underlying_price, rate, now)
    if strike is None:
        detail = (
            "the chain is empty"
            if not chain.strikes
            else "no strike has both mids and there is no underlying price"
        )
        raise SelectionError(
            shape, role, f"no ATM strike for {role} in chain {chain.key!r} ({detail})"
        )
    return strike


def _exact(
    shape: str, role: str, chain: ChainData, right: OptionRight, strike: float
) -> OptionData:
    """The option of ``right`` listed at ``strike`` (within the tolerance)."""
    strikes = _listed(chain, right)
    index = bisect.bisect_left(strikes, strike - _STRIKE_TOLERANCE)
    if index < len(strikes) and abs(strikes[index] - strike) <= _STRIKE_TOLERANCE:
        return _option(chain, right, strikes[index])
    word = _word(right)
    if not strikes:
        detail = f"no {word}s listed"
    elif index == 0:
        detail = f"lowest listed {_strike_text(strikes[0])}"
    elif index == len(strikes):
        detail = f"highest listed {_strike_text(strikes[-1])}"
    else:
        below, above = _strike_text(strikes[index - 1]), _strike_text(strikes[index])
        detail = f"nearest listed {below} and {above}"
    raise SelectionError(
        shape,
        role,
        f"no {word} at strike {_strike_text(strike)} for {role} in chain {chain.key!r} ({detail})",
    )


def _beyond(
    shape: str, role: str, chain: ChainData, right: OptionRight, strike: float
) -> OptionData:
    """The option of ``right`` at the listed strike nearest ``strike``, at it or further out.

    Further out of the money is above for calls and below for puts.
    """
    strikes = _listed(chain, right)
    word = _word(right)
    if right is OptionRight.CALL:
        index = bisect.bisect_left(strikes, strike - _STRIKE_TOLERANCE)
        if index < len(strikes):
            return _option(chain, right, strikes[index])
        side, edge = "above", "highest"
        edge_strike = strikes[-1] if strikes else None
    else:
        index = bisect.bisect_right(strikes, strike + _STRIKE_TOLERANCE)
        if index > 0:
            return _option(chain, right, strikes[index - 1])
        side, edge = "below", "lowest"
        edge_strike = strikes[0] if strikes else None
    detail = (
        f"no {word}s listed"
        if edge_strike is None
        else f"{edge} listed {_strike_text(edge_strike)}"
    )
    raise SelectionError(
        shape,
        role,
        f"no {word} strike at or {side} {_strike_text(strike)} for {role} ({detail})",
    )
