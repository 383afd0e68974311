"""Every built-in combo type builds from a generated chain with the legs the books give it.

The expected legs below are written by hand from LEAN's OptionStrategies and the OIC's
definitions, not derived from the definitions under test.  Each row is one leg of one LONG
unit, in the type's role order: (role, right, strike, expiry, signed ratio); an underlying
leg has right, strike and expiry None and its ratio in shares.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from otrade.combos import BUILTIN_DEFINITIONS, BUILTIN_TYPES, ComboType, build_combo
from otrade.constants import Direction, OptionRight
from tests.unit.combos.chains import CALL, FAR, MIDDLE, NEAR, PUT, Chain

STOCK = None
Row = tuple[str, OptionRight | None, float | None, date | None, int]


def _stock(ratio: int) -> Row:
    return ("underlying", STOCK, None, None, ratio)


EXPECTED: dict[str, list[Row]] = {
    "covered_call": [_stock(+100), ("short_call", CALL, 105, NEAR, -1)],
    "protective_call": [_stock(-100), ("long_call", CALL, 105, NEAR, +1)],
    "covered_put": [_stock(-100), ("short_put", PUT, 95, NEAR, -1)],
    "protective_put": [_stock(+100), ("long_put", PUT, 95, NEAR, +1)],
    "protective_collar": [
        _stock(+100),
        ("long_put", PUT, 95, NEAR, +1),
        ("short_call", CALL, 105, NEAR, -1),
    ],
    "conversion": [
        _stock(+100),
        ("short_call", CALL, 100, NEAR, -1),
        ("long_put", PUT, 100, NEAR, +1),
    ],
    "reverse_conversion": [
        _stock(-100),
        ("long_call", CALL, 100, NEAR, +1),
        ("short_put", PUT, 100, NEAR, -1),
    ],
    "naked_call": [("short_call", CALL, 105, NEAR, -1)],
    "naked_put": [("short_put", PUT, 95, NEAR, -1)],
    "bear_call_spread": [("short_call", CALL, 100, NEAR, -1), ("long_call", CALL, 105, NEAR, +1)],
    "bear_put_spread": [("short_put", PUT, 95, NEAR, -1), ("long_put", PUT, 100, NEAR, +1)],
    "bull_call_spread": [("long_call", CALL, 100, NEAR, +1), ("short_call", CALL, 105, NEAR, -1)],
    "bull_put_spread": [("long_put", PUT, 95, NEAR, +1), ("short_put", PUT, 100, NEAR, -1)],
    "straddle": [("call", CALL, 100, NEAR, +1), ("put", PUT, 100, NEAR, +1)],
    "short_straddle": [("call", CALL, 100, NEAR, -1), ("put", PUT, 100, NEAR, -1)],
    "strangle": [("put", PUT, 95, NEAR, +1), ("call", CALL, 105, NEAR, +1)],
    "short_strangle": [("put", PUT, 95, NEAR, -1), ("call", CALL, 105, NEAR, -1)],
    "butterfly_call": [
        ("lower_call", CALL, 95, NEAR, +1),
        ("middle_call", CALL, 100, NEAR, -2),
        ("upper_call", CALL, 105, NEAR, +1),
    ],
    "short_butterfly_call": [
        ("lower_call", CALL, 95, NEAR, -1),
        ("middle_call", CALL, 100, NEAR, +2),
        ("upper_call", CALL, 105, NEAR, -1),
    ],
    "butterfly_put": [
        ("lower_put", PUT, 90, NEAR, +1),
        ("middle_put", PUT, 100, NEAR, -2),
        ("upper_put", PUT, 110, NEAR, +1),
    ],
    "short_butterfly_put": [
        ("lower_put", PUT, 90, NEAR, -1),
        ("middle_put", PUT, 100, NEAR, +2),
        ("upper_put", PUT, 110, NEAR, -1),
    ],
    "call_calendar_spread": [
        ("near_call", CALL, 100, NEAR, -1),
        ("far_call", CALL, 100, MIDDLE, +1),
    ],
    "short_call_calendar_spread": [
        ("near_call", CALL, 100, NEAR, +1),
        ("far_call", CALL, 100, MIDDLE, -1),
    ],
    "put_calendar_spread": [("near_put", PUT, 95, NEAR, -1), ("far_put", PUT, 95, FAR, +1)],
    "short_put_calendar_spread": [
        ("near_put", PUT, 95, NEAR, +1),
        ("far_put", PUT, 95, FAR, -1),
    ],
    "iron_butterfly": [
        ("long_put", PUT, 90, NEAR, +1),
        ("short_put", PUT, 100, NEAR, -1),
        ("short_call", CALL, 100, NEAR, -1),
        ("long_call", CALL, 110, NEAR, +1),
    ],
    "short_iron_butterfly": [
        ("long_put", PUT, 90, NEAR, -1),
        ("short_put", PUT, 100, NEAR, +1),
        ("short_call", CALL, 100, NEAR, +1),
        ("long_call", CALL, 110, NEAR, -1),
    ],
    "iron_condor": [
        ("long_put", PUT, 85, NEAR, +1),
        ("short_put", PUT, 95, NEAR, -1),
        ("short_call", CALL, 105, NEAR, -1),
        ("long_call", CALL, 120, NEAR, +1),
    ],
    "short_iron_condor": [
        ("long_put", PUT, 85, NEAR, -1),
        ("short_put", PUT, 95, NEAR, +1),
        ("short_call", CALL, 105, NEAR, +1),
        ("long_call", CALL, 120, NEAR, -1),
    ],
    "box_spread": [
        ("long_call", CALL, 95, NEAR, +1),
        ("short_call", CALL, 105, NEAR, -1),
        ("long_put", PUT, 105, NEAR, +1),
        ("short_put", PUT, 95, NEAR, -1),
    ],
    "short_box_spread": [
        ("long_call", CALL, 95, NEAR, -1),
        ("short_call", CALL, 105, NEAR, +1),
        ("long_put", PUT, 105, NEAR, -1),
        ("short_put", PUT, 95, NEAR, +1),
    ],
    "jelly_roll": [
        ("near_call", CALL, 100, NEAR, -1),
        ("far_call", CALL, 100, FAR, +1),
        ("near_put", PUT, 100, NEAR, +1),
        ("far_put", PUT, 100, FAR, -1),
    ],
    "short_jelly_roll": [
        ("near_call", CALL, 100, NEAR, +1),
        ("far_call", CALL, 100, FAR, -1),
        ("near_put", PUT, 100, NEAR, -1),
        ("far_put", PUT, 100, FAR, +1),
    ],
    "bear_call_ladder": [
        ("lower_call", CALL, 95, NEAR, -1),
        ("middle_call", CALL, 100, NEAR, +1),
        ("upper_call", CALL, 110, NEAR, +1),
    ],
    "bear_put_ladder": [
        ("lower_put", PUT, 90, NEAR, -1),
        ("middle_put", PUT, 95, NEAR, -1),
        ("upper_put", PUT, 100, NEAR, +1),
    ],
    "bull_call_ladder": [
        ("lower_call", CALL, 100, NEAR, +1),
        ("middle_call", CALL, 105, NEAR, -1),
        ("upper_call", CALL, 110, NEAR, -1),
    ],
    "bull_put_ladder": [
        ("lower_put", PUT, 90, NEAR, +1),
        ("middle_put", PUT, 100, NEAR, +1),
        ("upper_put", PUT, 105, NEAR, -1),
    ],
    "call_backspread": [("lower_call", CALL, 100, NEAR, -1), ("upper_call", CALL, 110, NEAR, +2)],
    "put_backspread": [("lower_put", PUT, 90, NEAR, +2), ("upper_put", PUT, 100, NEAR, -1)],
    "short_call_backspread": [
        ("lower_call", CALL, 100, NEAR, +1),
        ("upper_call", CALL, 110, NEAR, -2),
    ],
    "short_put_backspread": [
        ("lower_put", PUT, 90, NEAR, -2),
        ("upper_put", PUT, 100, NEAR, +1),
    ],
    "call_diagonal_spread": [
        ("near_call", CALL, 105, NEAR, -1),
        ("far_call", CALL, 100, MIDDLE, +1),
    ],
    "put_diagonal_spread": [("near_put", PUT, 95, NEAR, -1), ("far_put", PUT, 100, MIDDLE, +1)],
    "double_diagonal": [
        ("far_put", PUT, 85, MIDDLE, +1),
        ("near_put", PUT, 90, NEAR, -1),
        ("near_call", CALL, 110, NEAR, -1),
        ("far_call", CALL, 115, MIDDLE, +1),
    ],
    "double_calendar": [
        ("near_put", PUT, 95, NEAR, -1),
        ("far_put", PUT, 95, FAR, +1),
        ("near_call", CALL, 105, NEAR, -1),
        ("far_call", CALL, 105, FAR, +1),
    ],
    "call_condor": [
        ("lower_call", CALL, 90, NEAR, +1),
        ("lower_middle_call", CALL, 95, NEAR, -1),
        ("upper_middle_call", CALL, 105, NEAR, -1),
        ("upper_call", CALL, 110, NEAR, +1),
    ],
    "put_condor": [
        ("lower_put", PUT, 85, NEAR, +1),
        ("lower_middle_put", PUT, 95, NEAR, -1),
        ("upper_middle_put", PUT, 100, NEAR, -1),
        ("upper_put", PUT, 110, NEAR, +1),
    ],
    "call_ratio_spread": [("lower_call", CALL, 100, NEAR, +1), ("upper_call", CALL, 110, NEAR, -2)],
    "put_ratio_spread": [("lower_put", PUT, 90, NEAR, -2), ("upper_put", PUT, 100, NEAR, +1)],
    "broken_wing_butterfly_call": [
        ("lower_call", CALL, 95, NEAR, +1),
        ("middle_call", CALL, 100, NEAR, -2),
        ("upper_call", CALL, 110, NEAR, +1),
    ],
    "broken_wing_butterfly_put": [
        ("lower_put", PUT, 85, NEAR, +1),
        ("middle_put", PUT, 95, NEAR, -2),
        ("upper_put", PUT, 100, NEAR, +1),
    ],
    "call_christmas_tree": [
        ("lower_call", CALL, 100, NEAR, +1),
        ("middle_call", CALL, 110, NEAR, -3),
        ("upper_call", CALL, 115, NEAR, +2),
    ],
    "put_christmas_tree": [
        ("lower_put", PUT, 85, NEAR, +2),
        ("middle_put", PUT, 90, NEAR, -3),
        ("upper_put", PUT, 100, NEAR, +1),
    ],
    "risk_reversal": [("short_put", PUT, 90, NEAR, -1), ("long_call", CALL, 110, NEAR, +1)],
    "synthetic_long": [("long_call", CALL, 100, NEAR, +1), ("short_put", PUT, 100, NEAR, -1)],
    "synthetic_short": [("short_call", CALL, 100, NEAR, -1), ("long_put", PUT, 100, NEAR, +1)],
    "strap": [("call", CALL, 100, NEAR, +2), ("put", PUT, 100, NEAR, +1)],
    "strip": [("call", CALL, 100, NEAR, +1), ("put", PUT, 100, NEAR, +2)],
    "seagull": [
        ("short_put", PUT, 90, NEAR, -1),
        ("long_call", CALL, 100, NEAR, +1),
        ("short_call", CALL, 110, NEAR, -1),
    ],
    "poor_mans_covered_call": [
        ("long_call", CALL, 80, FAR, +1),
        ("short_call", CALL, 105, NEAR, -1),
    ],
    "jade_lizard": [
        ("short_put", PUT, 95, NEAR, -1),
        ("short_call", CALL, 105, NEAR, -1),
        ("long_call", CALL, 110, NEAR, +1),
    ],
    "vertical_spread": [("long_leg", PUT, 100, NEAR, +1), ("short_leg", PUT, 95, NEAR, -1)],
    "calendar_spread": [("near", CALL, 100, NEAR, -1), ("far", CALL, 100, FAR, +1)],
    "custom": [
        ("stock", STOCK, None, None, +100),
        ("hedge", PUT, 90, MIDDLE, +2),
        ("income", CALL, 110, NEAR, -1),
    ],
}

LEAN_TYPES = {
    "covered_call", "protective_call", "covered_put", "protective_put", "protective_collar",
    "conversion", "reverse_conversion", "naked_call", "naked_put", "bear_call_spread",
    "bear_put_spread", "bull_call_spread", "bull_put_spread", "straddle", "short_straddle",
    "strangle", "short_strangle", "butterfly_call", "short_butterfly_call", "butterfly_put",
    "short_butterfly_put", "call_calendar_spread", "short_call_calendar_spread",
    "put_calendar_spread", "short_put_calendar_spread", "iron_butterfly",
    "short_iron_butterfly", "iron_condor", "short_iron_condor", "box_spread",
    "short_box_spread", "jelly_roll", "short_jelly_roll", "bear_call_ladder", "bear_put_ladder",
    "bull_call_ladder", "bull_put_ladder", "call_backspread", "put_backspread",
    "short_call_backspread", "short_put_backspread",
}  # fmt: skip

SHORT_PAIRS = [
    (name, name.removeprefix("short_"))
    for name in EXPECTED
    if name.startswith("short_") and name.removeprefix("short_") in EXPECTED
]


@pytest.fixture(scope="module")
def chain() -> Chain:
    return Chain("SPY")


def build(chain: Chain, name: str, direction: Direction, volume: int):
    rows = EXPECTED[name]
    legs = {
        role: chain.underlying if right is None else chain.option(right, strike, expiry)
        for role, right, strike, expiry, _ in rows
    }
    ratios = {row[0]: row[4] for row in rows} if name == "custom" else None
    return build_combo(name, legs, direction, volume, ratios=ratios)


def test_the_catalogue_is_every_expected_type_and_the_enum_names_it():
    assert set(BUILTIN_TYPES) == set(EXPECTED)
    assert [member.value for member in ComboType] == [d.name for d in BUILTIN_DEFINITIONS]
    assert set(BUILTIN_TYPES) >= LEAN_TYPES
    assert len(LEAN_TYPES) == 41
    assert len(BUILTIN_TYPES) == 64
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", name) for name in BUILTIN_TYPES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("direction", [Direction.LONG, Direction.SHORT])
@pytest.mark.parametrize("volume", [1, 3])
def test_every_type_builds_with_its_legs(chain, name, direction, volume):
    combo = build(chain, name, direction, volume)
    sign = 1 if direction is Direction.LONG else -1
    assert combo.type_name == name
    assert combo.direction is direction
    assert combo.volume == volume
    assert combo.underlying == "SPY"
    actual = [
        (leg.role, leg.right, leg.strike, leg.expiry, leg.quantity(volume)) for leg in combo.legs
    ]
    expected = [
        (role, right, strike, expiry, ratio * sign * volume)
        for role, right, strike, expiry, ratio in EXPECTED[name]
    ]
    assert actual == expected
    for leg in combo.legs:
        if leg.right is None:
            assert (leg.symbol, leg.root, leg.multiplier) == ("SPY", "", 1)
        else:
            option = chain.option(leg.right, leg.strike, leg.expiry)
            assert (leg.symbol, leg.root, leg.multiplier) == (option.symbol, "SPY", 100)


@pytest.mark.parametrize(("short_name", "name"), SHORT_PAIRS)
def test_a_short_type_is_the_exact_negation_of_its_base(chain, short_name, name):
    short = build(chain, short_name, Direction.LONG, 1)
    base = build(chain, name, Direction.SHORT, 1)
    assert [leg.role for leg in short.legs] == [leg.role for leg in base.legs]
    assert short.signature == base.signature


def test_the_short_pairs_cover_every_short_lean_type():
    assert {short for short, _ in SHORT_PAIRS} == {
        name for name in LEAN_TYPES if name.startswith("short_")
    }


@pytest.mark.parametrize("definition", BUILTIN_DEFINITIONS, ids=lambda d: d.name)
def test_every_description_states_each_legs_signed_ratio(definition):
    assert definition.description
    for role in definition.roles:
        assert f"{role.ratio:+d} " in definition.description, (definition.name, role)


def test_structures_share_a_signature_only_when_their_legs_are_the_same(chain):
    """Across every type and direction, equal signatures mean equal hand-written legs."""
    by_signature: dict[str, set[tuple]] = {}
    for name, rows in EXPECTED.items():
        for direction in Direction:
            combo = build(chain, name, direction, 1)
            sign = 1 if direction is Direction.LONG else -1
            legs = frozenset(
                (right, strike, expiry, ratio * sign) for _, right, strike, expiry, ratio in rows
            )
            by_signature.setdefault(combo.signature, set()).add(legs)
    assert all(len(structures) == 1 for structures in by_signature.values())
    # The names that are the same structure: short_X LONG is X SHORT, and so on.
    assert len(by_signature) < 2 * len(EXPECTED)
