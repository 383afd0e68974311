"""Signatures of built combos: one per structure, the same at any volume, flipped by reversal."""

from __future__ import annotations

import math
from functools import reduce

from hypothesis import given
from hypothesis import strategies as st

from otrade.combos import build_combo, opposite_signature
from otrade.constants import Direction
from tests.unit.combos.chains import CALL, EXPIRIES, PUT, Chain
from tests.unit.combos.test_types import EXPECTED

CHAIN = Chain("SPY")
CONTRACTS = [CHAIN.underlying] + [
    CHAIN.option(right, strike, expiry)
    for expiry in EXPIRIES
    for strike in (90.0, 95.0, 100.0, 105.0, 110.0)
    for right in (CALL, PUT)
]

ratios = st.integers(-6, 6).filter(bool)
structures = st.dictionaries(st.integers(0, len(CONTRACTS) - 1), ratios, min_size=1, max_size=5)
directions = st.sampled_from(Direction)
volumes = st.integers(1, 50)


def build(structure: dict[int, int], direction=Direction.LONG, volume=1, prefix="leg"):
    legs = {f"{prefix}{index}": CONTRACTS[index] for index in structure}
    signed = {f"{prefix}{index}": ratio for index, ratio in structure.items()}
    return build_combo("custom", legs, direction, volume, ratios=signed)


def reduced(structure: dict[int, int], sign: int = 1) -> frozenset[tuple[int, int]]:
    divisor = reduce(math.gcd, (abs(ratio) for ratio in structure.values()))
    return frozenset((index, sign * ratio // divisor) for index, ratio in structure.items())


@given(structures, structures)
def test_two_different_structures_never_share_a_signature(first, second):
    same_structure = reduced(first) == reduced(second)
    assert (build(first).signature == build(second).signature) is same_structure


@given(structures, directions, directions)
def test_the_direction_is_part_of_the_signature(structure, first, second):
    one, other = build(structure, first), build(structure, second)
    assert (one.signature == other.signature) is (first is second)


@given(structures, volumes, volumes, st.integers(1, 4))
def test_the_same_structure_has_one_signature_at_any_volume_and_scale(
    structure, volume, other_volume, scale
):
    combo = build(structure, volume=volume)
    scaled = {index: ratio * scale for index, ratio in reversed(structure.items())}
    again = build(scaled, volume=other_volume, prefix="other")
    assert again.signature == combo.signature


@given(structures, directions, volumes)
def test_reversal_flips_the_signature_and_twice_gives_back_the_combo(structure, direction, volume):
    combo = build(structure, direction, volume)
    closing = combo.reversed()
    assert closing.signature == opposite_signature(combo.signature)
    assert closing.direction is direction.opposite()
    assert [leg.ratio for leg in closing.legs] == [-leg.ratio for leg in combo.legs]
    assert closing.reversed() == combo
    assert closing.signature == build(structure, direction.opposite(), volume).signature


@given(st.sampled_from(sorted(EXPECTED)), directions, volumes)
def test_every_builtin_type_reverses_to_the_opposite_signature(name, direction, volume):
    rows = EXPECTED[name]
    legs = {
        role: CHAIN.underlying if right is None else CHAIN.option(right, strike, expiry)
        for role, right, strike, expiry, _ in rows
    }
    signed = {row[0]: row[4] for row in rows} if name == "custom" else None
    combo = build_combo(name, legs, direction, volume, ratios=signed)
    again = build_combo(name, legs, direction, 1, ratios=signed)
    assert again.signature == combo.signature
    assert combo.reversed().signature == opposite_signature(combo.signature)
    assert combo.reversed().reversed() == combo
    assert combo.reversed().signature == (
        build_combo(name, legs, direction.opposite(), volume, ratios=signed).signature
    )
