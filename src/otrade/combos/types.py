"""The built-in combo types, and :class:`ComboType` to name them with autocompletion.

The legs follow QuantConnect LEAN's ``OptionStrategies`` and the OIC's conventions; every
definition's ``description`` states its legs for one LONG unit.  Strikes are written
K1 < K2 < K3 < K4; "near" and "far" are the earlier and the later expiry; underlying
ratios are in shares (``covered_call`` is +100 shares and -1 call).

A ``short_X`` type is the exact negation of ``X`` with the same role names, so a LONG
``short_iron_condor`` has the legs of a SHORT ``iron_condor`` (its ``long_put`` role then
sells).  ``custom`` takes any legs with the signed ratios the caller gives.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

from otrade.combos.definitions import (
    AscendingStrikes,
    ComboDefinition,
    ComboRule,
    DifferentStrikes,
    EqualWidths,
    EquidistantStrikes,
    LaterExpiry,
    Role,
    RoleRight,
    SameExpiry,
    SameRight,
    SameStrike,
)

__all__ = ["BUILTIN_DEFINITIONS", "BUILTIN_TYPES", "CUSTOM", "ComboType"]

SHARES_PER_CONTRACT: Final = 100
"""Shares of the underlying a stock-and-option type holds per option contract."""


def _call(name: str, ratio: int) -> Role:
    return Role(name, RoleRight.CALL, ratio)


def _put(name: str, ratio: int) -> Role:
    return Role(name, RoleRight.PUT, ratio)


def _shares(ratio: int) -> Role:
    return Role("underlying", RoleRight.UNDERLYING, ratio * SHARES_PER_CONTRACT)


# --- stock and option ----------------------------------------------------------------------

COVERED_CALL = ComboDefinition(
    name="covered_call",
    roles=(_shares(+1), _call("short_call", -1)),
    description="Covered call: +100 shares of the underlying, -1 call.",
)
PROTECTIVE_CALL = ComboDefinition(
    name="protective_call",
    roles=(_shares(-1), _call("long_call", +1)),
    description="Protective call: -100 shares of the underlying, +1 call (a negated covered call).",
)
COVERED_PUT = ComboDefinition(
    name="covered_put",
    roles=(_shares(-1), _put("short_put", -1)),
    description="Covered put: -100 shares of the underlying, -1 put.",
)
PROTECTIVE_PUT = ComboDefinition(
    name="protective_put",
    roles=(_shares(+1), _put("long_put", +1)),
    description="Protective put: +100 shares of the underlying, +1 put (a negated covered put).",
)
PROTECTIVE_COLLAR = ComboDefinition(
    name="protective_collar",
    roles=(_shares(+1), _put("long_put", +1), _call("short_call", -1)),
    rules=(
        SameExpiry(("long_put", "short_call")),
        AscendingStrikes(("long_put", "short_call")),
    ),
    description=("Protective collar: +100 shares, +1 put K1, -1 call K2; K1 < K2, one expiry."),
)
CONVERSION = ComboDefinition(
    name="conversion",
    roles=(_shares(+1), _call("short_call", -1), _put("long_put", +1)),
    rules=(SameExpiry(("short_call", "long_put")), SameStrike(("short_call", "long_put"))),
    description="Conversion: +100 shares, -1 call K, +1 put K; one strike, one expiry.",
)
REVERSE_CONVERSION = ComboDefinition(
    name="reverse_conversion",
    roles=(_shares(-1), _call("long_call", +1), _put("short_put", -1)),
    rules=(SameExpiry(("long_call", "short_put")), SameStrike(("long_call", "short_put"))),
    description=("Reverse conversion: -100 shares, +1 call K, -1 put K; one strike, one expiry."),
)

# --- single options ------------------------------------------------------------------------

NAKED_CALL = ComboDefinition(
    name="naked_call", roles=(_call("short_call", -1),), description="Naked call: -1 call."
)
NAKED_PUT = ComboDefinition(
    name="naked_put", roles=(_put("short_put", -1),), description="Naked put: -1 put."
)

# --- verticals -----------------------------------------------------------------------------

BEAR_CALL_SPREAD = ComboDefinition(
    name="bear_call_spread",
    roles=(_call("short_call", -1), _call("long_call", +1)),
    rules=(
        SameExpiry(("short_call", "long_call")),
        AscendingStrikes(("short_call", "long_call")),
    ),
    description="Bear call spread (credit): -1 call K1, +1 call K2; K1 < K2, one expiry.",
)
BEAR_PUT_SPREAD = ComboDefinition(
    name="bear_put_spread",
    roles=(_put("short_put", -1), _put("long_put", +1)),
    rules=(SameExpiry(("short_put", "long_put")), AscendingStrikes(("short_put", "long_put"))),
    description="Bear put spread (debit): -1 put K1, +1 put K2; K1 < K2, one expiry.",
)
BULL_CALL_SPREAD = ComboDefinition(
    name="bull_call_spread",
    roles=(_call("long_call", +1), _call("short_call", -1)),
    rules=(
        SameExpiry(("long_call", "short_call")),
        AscendingStrikes(("long_call", "short_call")),
    ),
    description="Bull call spread (debit): +1 call K1, -1 call K2; K1 < K2, one expiry.",
)
BULL_PUT_SPREAD = ComboDefinition(
    name="bull_put_spread",
    roles=(_put("long_put", +1), _put("short_put", -1)),
    rules=(SameExpiry(("long_put", "short_put")), AscendingStrikes(("long_put", "short_put"))),
    description="Bull put spread (credit): +1 put K1, -1 put K2; K1 < K2, one expiry.",
)
VERTICAL_SPREAD = ComboDefinition(
    name="vertical_spread",
    roles=(Role("long_leg", RoleRight.OPTION, +1), Role("short_leg", RoleRight.OPTION, -1)),
    rules=(
        SameRight(("long_leg", "short_leg")),
        SameExpiry(("long_leg", "short_leg")),
        DifferentStrikes("long_leg", "short_leg"),
    ),
    description=(
        "Vertical spread (generic): +1 option, -1 option of the same right (calls or "
        "puts, as given) and expiry at a different strike, in either order."
    ),
)

# --- straddles and strangles ---------------------------------------------------------------

STRADDLE = ComboDefinition(
    name="straddle",
    roles=(_call("call", +1), _put("put", +1)),
    rules=(SameExpiry(("call", "put")), SameStrike(("call", "put"))),
    description="Straddle: +1 call K, +1 put K; one strike, one expiry.",
)
SHORT_STRADDLE = STRADDLE.negated(
    "short_straddle", "Short straddle: -1 call K, -1 put K; one strike, one expiry."
)
STRANGLE = ComboDefinition(
    name="strangle",
    roles=(_put("put", +1), _call("call", +1)),
    rules=(SameExpiry(("put", "call")), AscendingStrikes(("put", "call"))),
    description="Strangle: +1 put K1, +1 call K2; K1 < K2, one expiry.",
)
SHORT_STRANGLE = STRANGLE.negated(
    "short_strangle", "Short strangle: -1 put K1, -1 call K2; K1 < K2, one expiry."
)
STRAP = ComboDefinition(
    name="strap",
    roles=(_call("call", +2), _put("put", +1)),
    rules=(SameExpiry(("call", "put")), SameStrike(("call", "put"))),
    description="Strap: +2 calls K, +1 put K; one strike, one expiry.",
)
STRIP = ComboDefinition(
    name="strip",
    roles=(_call("call", +1), _put("put", +2)),
    rules=(SameExpiry(("call", "put")), SameStrike(("call", "put"))),
    description="Strip: +1 call K, +2 puts K; one strike, one expiry.",
)

# --- butterflies and condors ---------------------------------------------------------------


def _three(right: str) -> tuple[str, str, str]:
    return (f"lower_{right}", f"middle_{right}", f"upper_{right}")


def _butterfly(
    name: str, right: RoleRight, ratios: tuple[int, int, int], text: str
) -> ComboDefinition:
    roles = _three(right.value)
    return ComboDefinition(
        name=name,
        roles=tuple(Role(role, right, ratio) for role, ratio in zip(roles, ratios, strict=True)),
        rules=(SameExpiry(roles), AscendingStrikes(roles), EquidistantStrikes(*roles)),
        description=text,
    )


BUTTERFLY_CALL = _butterfly(
    "butterfly_call",
    RoleRight.CALL,
    (+1, -2, +1),
    "Call butterfly: +1 call K1, -2 calls K2, +1 call K3; K2 - K1 == K3 - K2, one expiry.",
)
SHORT_BUTTERFLY_CALL = BUTTERFLY_CALL.negated(
    "short_butterfly_call",
    "Short call butterfly: -1 call K1, +2 calls K2, -1 call K3; K2 - K1 == K3 - K2, one expiry.",
)
BUTTERFLY_PUT = _butterfly(
    "butterfly_put",
    RoleRight.PUT,
    (+1, -2, +1),
    "Put butterfly: +1 put K1, -2 puts K2, +1 put K3; K2 - K1 == K3 - K2, one expiry.",
)
SHORT_BUTTERFLY_PUT = BUTTERFLY_PUT.negated(
    "short_butterfly_put",
    "Short put butterfly: -1 put K1, +2 puts K2, -1 put K3; K2 - K1 == K3 - K2, one expiry.",
)


def _broken_wing(name: str, right: RoleRight, text: str) -> ComboDefinition:
    roles = _three(right.value)
    return ComboDefinition(
        name=name,
        roles=tuple(
            Role(role, right, ratio) for role, ratio in zip(roles, (1, -2, 1), strict=True)
        ),
        rules=(SameExpiry(roles), AscendingStrikes(roles)),
        description=text,
    )


BROKEN_WING_BUTTERFLY_CALL = _broken_wing(
    "broken_wing_butterfly_call",
    RoleRight.CALL,
    "Broken-wing call butterfly: +1 call K1, -2 calls K2, +1 call K3; K1 < K2 < K3, one "
    "expiry; the wings may differ in width.",
)
BROKEN_WING_BUTTERFLY_PUT = _broken_wing(
    "broken_wing_butterfly_put",
    RoleRight.PUT,
    "Broken-wing put butterfly: +1 put K1, -2 puts K2, +1 put K3; K1 < K2 < K3, one "
    "expiry; the wings may differ in width.",
)


def _condor(name: str, right: RoleRight, text: str) -> ComboDefinition:
    word = right.value
    roles = (f"lower_{word}", f"lower_middle_{word}", f"upper_middle_{word}", f"upper_{word}")
    return ComboDefinition(
        name=name,
        roles=tuple(
            Role(role, right, ratio) for role, ratio in zip(roles, (1, -1, -1, 1), strict=True)
        ),
        rules=(
            SameExpiry(roles),
            AscendingStrikes(roles),
            EqualWidths((roles[0], roles[1]), (roles[2], roles[3])),
        ),
        description=text,
    )


CALL_CONDOR = _condor(
    "call_condor",
    RoleRight.CALL,
    "Call condor: +1 call K1, -1 call K2, -1 call K3, +1 call K4; K1 < K2 < K3 < K4, "
    "K2 - K1 == K4 - K3, one expiry.",
)
PUT_CONDOR = _condor(
    "put_condor",
    RoleRight.PUT,
    "Put condor: +1 put K1, -1 put K2, -1 put K3, +1 put K4; K1 < K2 < K3 < K4, "
    "K2 - K1 == K4 - K3, one expiry.",
)

_IRON = ("long_put", "short_put", "short_call", "long_call")
IRON_CONDOR = ComboDefinition(
    name="iron_condor",
    roles=(
        _put("long_put", +1),
        _put("short_put", -1),
        _call("short_call", -1),
        _call("long_call", +1),
    ),
    rules=(SameExpiry(_IRON), AscendingStrikes(_IRON)),
    description=(
        "Iron condor (credit): +1 put K1, -1 put K2, -1 call K3, +1 call K4; "
        "K1 < K2 < K3 < K4, one expiry (the wings may differ in width)."
    ),
)
SHORT_IRON_CONDOR = IRON_CONDOR.negated(
    "short_iron_condor",
    "Short iron condor (debit): -1 put K1, +1 put K2, +1 call K3, -1 call K4; "
    "K1 < K2 < K3 < K4, one expiry.",
)
IRON_BUTTERFLY = ComboDefinition(
    name="iron_butterfly",
    roles=IRON_CONDOR.roles,
    rules=(
        SameExpiry(_IRON),
        AscendingStrikes(("long_put", "short_put")),
        SameStrike(("short_put", "short_call")),
        AscendingStrikes(("short_call", "long_call")),
        EqualWidths(("long_put", "short_put"), ("short_call", "long_call")),
    ),
    description=(
        "Iron butterfly (credit): +1 put K1, -1 put K2, -1 call K2, +1 call K3; "
        "K2 - K1 == K3 - K2, one expiry."
    ),
)
SHORT_IRON_BUTTERFLY = IRON_BUTTERFLY.negated(
    "short_iron_butterfly",
    "Short iron butterfly (debit): -1 put K1, +1 put K2, +1 call K2, -1 call K3; "
    "K2 - K1 == K3 - K2, one expiry.",
)

_BOX = ("long_call", "short_call", "long_put", "short_put")
BOX_SPREAD = ComboDefinition(
    name="box_spread",
    roles=(
        _call("long_call", +1),
        _call("short_call", -1),
        _put("long_put", +1),
        _put("short_put", -1),
    ),
    rules=(
        SameExpiry(_BOX),
        AscendingStrikes(("long_call", "short_call")),
        SameStrike(("long_put", "short_call")),
        SameStrike(("short_put", "long_call")),
    ),
    description=(
        "Box spread: +1 call K1, -1 call K2, +1 put K2, -1 put K1; K1 < K2, one expiry "
        "(a bull call spread and a bear put spread)."
    ),
)
SHORT_BOX_SPREAD = BOX_SPREAD.negated(
    "short_box_spread",
    "Short box spread: -1 call K1, +1 call K2, -1 put K2, +1 put K1; K1 < K2, one expiry.",
)

# --- ladders, backspreads, ratio spreads, trees --------------------------------------------


def _ladder(
    name: str, right: RoleRight, ratios: tuple[int, int, int], text: str
) -> ComboDefinition:
    roles = _three(right.value)
    return ComboDefinition(
        name=name,
        roles=tuple(Role(role, right, ratio) for role, ratio in zip(roles, ratios, strict=True)),
        rules=(SameExpiry(roles), AscendingStrikes(roles)),
        description=text,
    )


BEAR_CALL_LADDER = _ladder(
    "bear_call_ladder",
    RoleRight.CALL,
    (-1, +1, +1),
    "Bear call ladder: -1 call K1, +1 call K2, +1 call K3; K1 < K2 < K3, one expiry.",
)
BEAR_PUT_LADDER = _ladder(
    "bear_put_ladder",
    RoleRight.PUT,
    (-1, -1, +1),
    "Bear put ladder: -1 put K1, -1 put K2, +1 put K3; K1 < K2 < K3, one expiry.",
)
BULL_CALL_LADDER = _ladder(
    "bull_call_ladder",
    RoleRight.CALL,
    (+1, -1, -1),
    "Bull call ladder: +1 call K1, -1 call K2, -1 call K3; K1 < K2 < K3, one expiry.",
)
BULL_PUT_LADDER = _ladder(
    "bull_put_ladder",
    RoleRight.PUT,
    (+1, +1, -1),
    "Bull put ladder: +1 put K1, +1 put K2, -1 put K3; K1 < K2 < K3, one expiry.",
)
CALL_CHRISTMAS_TREE = _ladder(
    "call_christmas_tree",
    RoleRight.CALL,
    (+1, -3, +2),
    "Call Christmas tree (butterfly): +1 call K1, -3 calls K2, +2 calls K3; K1 < K2 < K3, "
    "one expiry.",
)
PUT_CHRISTMAS_TREE = _ladder(
    "put_christmas_tree",
    RoleRight.PUT,
    (+2, -3, +1),
    "Put Christmas tree (butterfly): +2 puts K1, -3 puts K2, +1 put K3; K1 < K2 < K3, one expiry.",
)


def _two(name: str, right: RoleRight, ratios: tuple[int, int], text: str) -> ComboDefinition:
    roles = (f"lower_{right.value}", f"upper_{right.value}")
    return ComboDefinition(
        name=name,
        roles=tuple(Role(role, right, ratio) for role, ratio in zip(roles, ratios, strict=True)),
        rules=(SameExpiry(roles), AscendingStrikes(roles)),
        description=text,
    )


CALL_BACKSPREAD = _two(
    "call_backspread",
    RoleRight.CALL,
    (-1, +2),
    "Call backspread: -1 call K1, +2 calls K2; K1 < K2, one expiry.",
)
SHORT_CALL_BACKSPREAD = CALL_BACKSPREAD.negated(
    "short_call_backspread",
    "Short call backspread: +1 call K1, -2 calls K2; K1 < K2, one expiry.",
)
PUT_BACKSPREAD = _two(
    "put_backspread",
    RoleRight.PUT,
    (+2, -1),
    "Put backspread: +2 puts K1, -1 put K2; K1 < K2, one expiry.",
)
SHORT_PUT_BACKSPREAD = PUT_BACKSPREAD.negated(
    "short_put_backspread",
    "Short put backspread: -2 puts K1, +1 put K2; K1 < K2, one expiry.",
)
CALL_RATIO_SPREAD = _two(
    "call_ratio_spread",
    RoleRight.CALL,
    (+1, -2),
    "Call ratio spread: +1 call K1, -2 calls K2; K1 < K2, one expiry.",
)
PUT_RATIO_SPREAD = _two(
    "put_ratio_spread",
    RoleRight.PUT,
    (-2, +1),
    "Put ratio spread: -2 puts K1, +1 put K2; K1 < K2, one expiry.",
)

# --- calendars and diagonals ---------------------------------------------------------------


def _calendar(name: str, right: RoleRight, near_ratio: int, text: str) -> ComboDefinition:
    near, far = (f"near_{right.value}", f"far_{right.value}")
    if right is RoleRight.OPTION:
        near, far = "near", "far"
    rules: tuple[ComboRule, ...] = (SameStrike((near, far)), LaterExpiry(far, near))
    if right is RoleRight.OPTION:
        rules = (SameRight((near, far)), *rules)
    return ComboDefinition(
        name=name,
        roles=(Role(near, right, near_ratio), Role(far, right, -near_ratio)),
        rules=rules,
        description=text,
    )


CALL_CALENDAR_SPREAD = _calendar(
    "call_calendar_spread",
    RoleRight.CALL,
    -1,
    "Call calendar spread: -1 call K near, +1 call K far; one strike, far expires later.",
)
SHORT_CALL_CALENDAR_SPREAD = CALL_CALENDAR_SPREAD.negated(
    "short_call_calendar_spread",
    "Short call calendar spread: +1 call K near, -1 call K far; one strike, far expires later.",
)
PUT_CALENDAR_SPREAD = _calendar(
    "put_calendar_spread",
    RoleRight.PUT,
    -1,
    "Put calendar spread: -1 put K near, +1 put K far; one strike, far expires later.",
)
SHORT_PUT_CALENDAR_SPREAD = PUT_CALENDAR_SPREAD.negated(
    "short_put_calendar_spread",
    "Short put calendar spread: +1 put K near, -1 put K far; one strike, far expires later.",
)
CALENDAR_SPREAD = _calendar(
    "calendar_spread",
    RoleRight.OPTION,
    -1,
    "Calendar spread (generic): -1 option K near, +1 option K far of the same right "
    "(calls or puts, as given); one strike, far expires later.",
)


def _diagonal(name: str, right: RoleRight, text: str) -> ComboDefinition:
    near, far = (f"near_{right.value}", f"far_{right.value}")
    return ComboDefinition(
        name=name,
        roles=(Role(near, right, -1), Role(far, right, +1)),
        rules=(LaterExpiry(far, near), DifferentStrikes(near, far)),
        description=text,
    )


CALL_DIAGONAL_SPREAD = _diagonal(
    "call_diagonal_spread",
    RoleRight.CALL,
    "Call diagonal spread: -1 call K near, +1 call K' far; K != K', far expires later.",
)
PUT_DIAGONAL_SPREAD = _diagonal(
    "put_diagonal_spread",
    RoleRight.PUT,
    "Put diagonal spread: -1 put K near, +1 put K' far; K != K', far expires later.",
)
POOR_MANS_COVERED_CALL = ComboDefinition(
    name="poor_mans_covered_call",
    roles=(_call("long_call", +1), _call("short_call", -1)),
    rules=(
        LaterExpiry("long_call", "short_call"),
        AscendingStrikes(("long_call", "short_call")),
    ),
    description=(
        "Poor man's covered call: +1 call K1 far (deep in the money), -1 call K2 near; "
        "K1 < K2, the long call expires later."
    ),
)
_DOUBLE = ("far_put", "near_put", "near_call", "far_call")
DOUBLE_DIAGONAL = ComboDefinition(
    name="double_diagonal",
    roles=(
        _put("far_put", +1),
        _put("near_put", -1),
        _call("near_call", -1),
        _call("far_call", +1),
    ),
    rules=(
        SameExpiry(("near_put", "near_call")),
        SameExpiry(("far_put", "far_call")),
        LaterExpiry("far_put", "near_put"),
        AscendingStrikes(_DOUBLE),
    ),
    description=(
        "Double diagonal: +1 put K1 far, -1 put K2 near, -1 call K3 near, +1 call K4 far; "
        "K1 < K2 < K3 < K4, the far legs expire later."
    ),
)
DOUBLE_CALENDAR = ComboDefinition(
    name="double_calendar",
    roles=(
        _put("near_put", -1),
        _put("far_put", +1),
        _call("near_call", -1),
        _call("far_call", +1),
    ),
    rules=(
        SameExpiry(("near_put", "near_call")),
        SameExpiry(("far_put", "far_call")),
        LaterExpiry("far_put", "near_put"),
        SameStrike(("near_put", "far_put")),
        SameStrike(("near_call", "far_call")),
        AscendingStrikes(("near_put", "near_call")),
    ),
    description=(
        "Double calendar: -1 put K1 near, +1 put K1 far, -1 call K2 near, +1 call K2 far; "
        "K1 < K2, the far legs expire later."
    ),
)
_JELLY = ("near_call", "far_call", "near_put", "far_put")
JELLY_ROLL = ComboDefinition(
    name="jelly_roll",
    roles=(
        _call("near_call", -1),
        _call("far_call", +1),
        _put("near_put", +1),
        _put("far_put", -1),
    ),
    rules=(
        SameStrike(_JELLY),
        SameExpiry(("near_call", "near_put")),
        SameExpiry(("far_call", "far_put")),
        LaterExpiry("far_call", "near_call"),
    ),
    description=(
        "Jelly roll: -1 call K near, +1 call K far, +1 put K near, -1 put K far; one "
        "strike, the far legs expire later (a long call calendar and a short put calendar)."
    ),
)
SHORT_JELLY_ROLL = JELLY_ROLL.negated(
    "short_jelly_roll",
    "Short jelly roll: +1 call K near, -1 call K far, -1 put K near, +1 put K far; one "
    "strike, the far legs expire later.",
)

# --- synthetics and other three-leg structures ---------------------------------------------

SYNTHETIC_LONG = ComboDefinition(
    name="synthetic_long",
    roles=(_call("long_call", +1), _put("short_put", -1)),
    rules=(SameExpiry(("long_call", "short_put")), SameStrike(("long_call", "short_put"))),
    description="Synthetic long stock: +1 call K, -1 put K; one strike, one expiry.",
)
SYNTHETIC_SHORT = ComboDefinition(
    name="synthetic_short",
    roles=(_call("short_call", -1), _put("long_put", +1)),
    rules=(SameExpiry(("short_call", "long_put")), SameStrike(("short_call", "long_put"))),
    description="Synthetic short stock: -1 call K, +1 put K; one strike, one expiry.",
)
RISK_REVERSAL = ComboDefinition(
    name="risk_reversal",
    roles=(_put("short_put", -1), _call("long_call", +1)),
    rules=(SameExpiry(("short_put", "long_call")), AscendingStrikes(("short_put", "long_call"))),
    description="Risk reversal: -1 put K1, +1 call K2; K1 < K2, one expiry.",
)
_THREE_WAY = ("short_put", "long_call", "short_call")
SEAGULL = ComboDefinition(
    name="seagull",
    roles=(_put("short_put", -1), _call("long_call", +1), _call("short_call", -1)),
    rules=(SameExpiry(_THREE_WAY), AscendingStrikes(_THREE_WAY)),
    description=(
        "Seagull (bullish): -1 put K1, +1 call K2, -1 call K3; K1 < K2 < K3, one expiry "
        "(a bull call spread financed by a short put)."
    ),
)
_LIZARD = ("short_put", "short_call", "long_call")
JADE_LIZARD = ComboDefinition(
    name="jade_lizard",
    roles=(_put("short_put", -1), _call("short_call", -1), _call("long_call", +1)),
    rules=(SameExpiry(_LIZARD), AscendingStrikes(_LIZARD)),
    description=(
        "Jade lizard: -1 put K1, -1 call K2, +1 call K3; K1 < K2 < K3, one expiry "
        "(a short put and a bear call spread)."
    ),
)

CUSTOM = ComboDefinition(
    name="custom",
    roles=(),
    description=(
        "Custom: any legs on one underlying, each with the signed ratio the caller gives "
        "(options in contracts, the underlying in shares)."
    ),
    custom=True,
)

BUILTIN_DEFINITIONS: Final[tuple[ComboDefinition, ...]] = (
    # The 41 structures of QuantConnect LEAN's OptionStrategies.
    COVERED_CALL,
    PROTECTIVE_CALL,
    COVERED_PUT,
    PROTECTIVE_PUT,
    PROTECTIVE_COLLAR,
    CONVERSION,
    REVERSE_CONVERSION,
    NAKED_CALL,
    NAKED_PUT,
    BEAR_CALL_SPREAD,
    BEAR_PUT_SPREAD,
    BULL_CALL_SPREAD,
    BULL_PUT_SPREAD,
    STRADDLE,
    SHORT_STRADDLE,
    STRANGLE,
    SHORT_STRANGLE,
    BUTTERFLY_CALL,
    SHORT_BUTTERFLY_CALL,
    BUTTERFLY_PUT,
    SHORT_BUTTERFLY_PUT,
    CALL_CALENDAR_SPREAD,
    SHORT_CALL_CALENDAR_SPREAD,
    PUT_CALENDAR_SPREAD,
    SHORT_PUT_CALENDAR_SPREAD,
    IRON_BUTTERFLY,
    SHORT_IRON_BUTTERFLY,
    IRON_CONDOR,
    SHORT_IRON_CONDOR,
    BOX_SPREAD,
    SHORT_BOX_SPREAD,
    JELLY_ROLL,
    SHORT_JELLY_ROLL,
    BEAR_CALL_LADDER,
    BEAR_PUT_LADDER,
    BULL_CALL_LADDER,
    BULL_PUT_LADDER,
    CALL_BACKSPREAD,
    PUT_BACKSPREAD,
    SHORT_CALL_BACKSPREAD,
    SHORT_PUT_BACKSPREAD,
    # More structures traders name.
    CALL_DIAGONAL_SPREAD,
    PUT_DIAGONAL_SPREAD,
    DOUBLE_DIAGONAL,
    DOUBLE_CALENDAR,
    CALL_CONDOR,
    PUT_CONDOR,
    CALL_RATIO_SPREAD,
    PUT_RATIO_SPREAD,
    BROKEN_WING_BUTTERFLY_CALL,
    BROKEN_WING_BUTTERFLY_PUT,
    CALL_CHRISTMAS_TREE,
    PUT_CHRISTMAS_TREE,
    RISK_REVERSAL,
    SYNTHETIC_LONG,
    SYNTHETIC_SHORT,
    STRAP,
    STRIP,
    SEAGULL,
    POOR_MANS_COVERED_CALL,
    JADE_LIZARD,
    VERTICAL_SPREAD,
    CALENDAR_SPREAD,
    CUSTOM,
)
"""Every built-in definition, in catalogue order."""

BUILTIN_TYPES: Final = MappingProxyType({d.name: d for d in BUILTIN_DEFINITIONS})
"""The built-in definitions by name (read-only)."""


class ComboType(StrEnum):
    """The names of the built-in combo types; ``build_combo`` takes a member or its string."""

    COVERED_CALL = "covered_call"
    PROTECTIVE_CALL = "protective_call"
    COVERED_PUT = "covered_put"
    PROTECTIVE_PUT = "protective_put"
    PROTECTIVE_COLLAR = "protective_collar"
    CONVERSION = "conversion"
    REVERSE_CONVERSION = "reverse_conversion"
    NAKED_CALL = "naked_call"
    NAKED_PUT = "naked_put"
    BEAR_CALL_SPREAD = "bear_call_spread"
    BEAR_PUT_SPREAD = "bear_put_spread"
    BULL_CALL_SPREAD = "bull_call_spread"
    BULL_PUT_SPREAD = "bull_put_spread"
    STRADDLE = "straddle"
    SHORT_STRADDLE = "short_straddle"
    STRANGLE = "strangle"
    SHORT_STRANGLE = "short_strangle"
    BUTTERFLY_CALL = "butterfly_call"
    SHORT_BUTTERFLY_CALL = "short_butterfly_call"
    BUTTERFLY_PUT = "butterfly_put"
    SHORT_BUTTERFLY_PUT = "short_butterfly_put"
    CALL_CALENDAR_SPREAD = "call_calendar_spread"
    SHORT_CALL_CALENDAR_SPREAD = "short_call_calendar_spread"
    PUT_CALENDAR_SPREAD = "put_calendar_spread"
    SHORT_PUT_CALENDAR_SPREAD = "short_put_calendar_spread"
    IRON_BUTTERFLY = "iron_butterfly"
    SHORT_IRON_BUTTERFLY = "short_iron_butterfly"
    IRON_CONDOR = "iron_condor"
    SHORT_IRON_CONDOR = "short_iron_condor"
    BOX_SPREAD = "box_spread"
    SHORT_BOX_SPREAD = "short_box_spread"
    JELLY_ROLL = "jelly_roll"
    SHORT_JELLY_ROLL = "short_jelly_roll"
    BEAR_CALL_LADDER = "bear_call_ladder"
    BEAR_PUT_LADDER = "bear_put_ladder"
    BULL_CALL_LADDER = "bull_call_ladder"
    BULL_PUT_LADDER = "bull_put_ladder"
    CALL_BACKSPREAD = "call_backspread"
    PUT_BACKSPREAD = "put_backspread"
    SHORT_CALL_BACKSPREAD = "short_call_backspread"
    SHORT_PUT_BACKSPREAD = "short_put_backspread"
    CALL_DIAGONAL_SPREAD = "call_diagonal_spread"
    PUT_DIAGONAL_SPREAD = "put_diagonal_spread"
    DOUBLE_DIAGONAL = "double_diagonal"
    DOUBLE_CALENDAR = "double_calendar"
    CALL_CONDOR = "call_condor"
    PUT_CONDOR = "put_condor"
    CALL_RATIO_SPREAD = "call_ratio_spread"
    PUT_RATIO_SPREAD = "put_ratio_spread"
    BROKEN_WING_BUTTERFLY_CALL = "broken_wing_butterfly_call"
    BROKEN_WING_BUTTERFLY_PUT = "broken_wing_butterfly_put"
    CALL_CHRISTMAS_TREE = "call_christmas_tree"
    PUT_CHRISTMAS_TREE = "put_christmas_tree"
    RISK_REVERSAL = "risk_reversal"
    SYNTHETIC_LONG = "synthetic_long"
    SYNTHETIC_SHORT = "synthetic_short"
    STRAP = "strap"
    STRIP = "strip"
    SEAGULL = "seagull"
    POOR_MANS_COVERED_CALL = "poor_mans_covered_call"
    JADE_LIZARD = "jade_lizard"
    VERTICAL_SPREAD = "vertical_spread"
    CALENDAR_SPREAD = "calendar_spread"
    CUSTOM = "custom"

    @property
    def definition(self) -> ComboDefinition:
        """The built-in definition of this type."""
        return BUILTIN_TYPES[self.value]
