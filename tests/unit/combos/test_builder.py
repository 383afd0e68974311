"""build_combo: every refusal names the role and the rule, and nothing is built."""

from __future__ import annotations

import pytest

from otrade.combos import Combo, ComboRegistry, ComboType, build_combo, builtin_registry
from otrade.combos.types import IRON_CONDOR
from otrade.constants import Direction, OrderType
from otrade.errors import ComboValidationError
from tests.unit.combos.chains import FAR, MIDDLE, NEAR, Chain


@pytest.fixture(scope="module")
def spy() -> Chain:
    return Chain("SPY")


@pytest.fixture(scope="module")
def qqq() -> Chain:
    return Chain("QQQ")


def condor_legs(spy: Chain, k1=90, k2=95, k3=105, k4=110, *, expiry=NEAR):
    return {
        "long_put": spy.put(k1, expiry),
        "short_put": spy.put(k2, expiry),
        "short_call": spy.call(k3, expiry),
        "long_call": spy.call(k4, expiry),
    }


def refused(type_name, legs, *args, **kwargs) -> str:
    with pytest.raises(ComboValidationError) as caught:
        build_combo(type_name, legs, *args, **kwargs)
    return str(caught.value)


def test_an_iron_condor_builds_with_its_canonical_signature(spy):
    combo = build_combo(ComboType.IRON_CONDOR, condor_legs(spy), Direction.LONG, volume=2)
    assert isinstance(combo, Combo)
    assert combo.signature == (
        "SPY 2026-12-18 P 90 +1|SPY 2026-12-18 P 95 -1|"
        "SPY 2026-12-18 C 105 -1|SPY 2026-12-18 C 110 +1"
    )
    assert combo.quantities() == {
        "SPY261218P00090000": 2,
        "SPY261218P00095000": -2,
        "SPY261218C00105000": -2,
        "SPY261218C00110000": 2,
    }
    request = combo.order_request(OrderType.LIMIT, -1.25)
    assert request.combo_signature == combo.signature
    assert [leg.ratio for leg in request.legs] == [1, -1, -1, 1]


def test_the_legs_follow_the_role_order_whatever_the_mapping_order(spy):
    legs = condor_legs(spy)
    reordered = {role: legs[role] for role in reversed(list(legs))}
    combo = build_combo("iron_condor", reordered)
    assert [leg.role for leg in combo.legs] == list(IRON_CONDOR.role_names)


def test_a_short_combo_negates_every_leg_and_accepts_the_direction_as_text(spy):
    combo = build_combo("iron_condor", condor_legs(spy), "short")  # type: ignore[arg-type]
    assert combo.direction is Direction.SHORT
    assert [leg.ratio for leg in combo.legs] == [-1, 1, 1, -1]


def test_a_covered_call_has_a_stock_leg_of_100_shares(spy):
    combo = build_combo("covered_call", {"underlying": spy.underlying, "short_call": spy.call(105)})
    stock, call = combo.legs
    assert (stock.symbol, stock.right, stock.strike, stock.expiry, stock.root) == (
        "SPY",
        None,
        None,
        None,
        "",
    )
    assert (stock.ratio, stock.multiplier, stock.is_underlying) == (100, 1, True)
    assert (call.ratio, call.multiplier) == (-1, 100)
    assert combo.signature == "SPY STK +100|SPY 2026-12-18 C 105 -1"


# --- refusals ------------------------------------------------------------------------------


def test_an_unknown_type_lists_close_names(spy):
    assert refused("iron_condr", condor_legs(spy)) == (
        "iron_condr: unknown combo type 'iron_condr'; close names: "
        "iron_condor, short_iron_condor, put_condor"
    )
    assert refused("zzz", {}) == "zzz: unknown combo type 'zzz'; no close names"


@pytest.mark.parametrize("volume", [0, -1, 1.5, True, "2"])
def test_the_volume_must_be_a_positive_whole_number(spy, volume):
    assert refused("iron_condor", condor_legs(spy), Direction.LONG, volume) == (
        f"iron_condor: volume must be a positive whole number, got {volume!r}"
    )


def test_the_direction_must_be_long_or_short(spy):
    assert refused("iron_condor", condor_legs(spy), "sideways") == (
        "iron_condor: direction must be long or short, got 'sideways'"
    )


def test_a_missing_role_is_named(spy):
    legs = condor_legs(spy)
    del legs["short_call"]
    assert refused("iron_condor", legs) == (
        "iron_condor leg 'short_call': missing; iron_condor needs long_put, short_put, "
        "short_call, long_call"
    )


def test_an_extra_role_is_named(spy):
    legs = {**condor_legs(spy), "wing": spy.call(120)}
    assert refused("iron_condor", legs) == (
        "iron_condor leg 'wing': is not a role of iron_condor (roles: long_put, short_put, "
        "short_call, long_call)"
    )


def test_a_leg_of_the_wrong_right_is_named(spy):
    legs = {**condor_legs(spy), "short_call": spy.put(105)}
    assert refused("iron_condor", legs) == (
        "iron_condor leg 'short_call': right put, expected call ('SPY261218P00105000' is a put)"
    )


def test_an_option_in_the_underlying_role_and_the_underlying_in_an_option_role(spy):
    assert refused("covered_call", {"underlying": spy.call(100), "short_call": spy.call(105)}) == (
        "covered_call leg 'underlying': expected the underlying, got option 'SPY261218C00100000'"
    )
    assert (
        refused("covered_call", {"underlying": spy.underlying, "short_call": spy.underlying})
        == "covered_call leg 'short_call': expected a call, got the underlying 'SPY'"
    )
    assert refused("covered_call", {"underlying": "SPY", "short_call": spy.call(105)}) == (
        "covered_call leg 'underlying': expected an option or the underlying, got str"
    )


def test_a_leg_on_another_underlying_is_named(spy, qqq):
    legs = {**condor_legs(spy), "long_call": qqq.call(110)}
    assert refused("iron_condor", legs) == (
        "iron_condor leg 'long_call': underlying 'QQQ' differs from 'long_put' underlying "
        "'SPY' (one underlying required)"
    )


def test_a_different_expiry_is_named(spy):
    legs = {**condor_legs(spy), "short_call": spy.call(105, MIDDLE)}
    assert refused("iron_condor", legs) == (
        "iron_condor leg 'short_call': expiry 2027-01-15 differs from 'long_put' expiry "
        "2026-12-18 (same expiry required)"
    )


def test_an_expiry_order_is_named(spy):
    legs = {"near_call": spy.call(100, FAR), "far_call": spy.call(100, MIDDLE)}
    assert refused("call_calendar_spread", legs) == (
        "call_calendar_spread leg 'far_call': expiry 2027-01-15 must be after 'near_call' "
        "expiry 2027-02-19 (later expiry required)"
    )


def test_a_strike_order_is_named(spy):
    assert refused("iron_condor", condor_legs(spy, 90, 95, 95, 110)) == (
        "iron_condor leg 'short_call': strike 95 must be above 'short_put' strike 95 "
        "(strikes ascend: long_put < short_put < short_call < long_call)"
    )
    legs = {"long_call": spy.call(105), "short_call": spy.call(100)}
    assert refused("bull_call_spread", legs) == (
        "bull_call_spread leg 'short_call': strike 100 must be above 'long_call' strike 105 "
        "(strikes ascend: long_call < short_call)"
    )


def test_unequal_widths_are_named(spy):
    legs = {
        "long_put": spy.put(90),
        "short_put": spy.put(100),
        "short_call": spy.call(100),
        "long_call": spy.call(105),
    }
    assert refused("iron_butterfly", legs) == (
        "iron_butterfly leg 'long_call': width short_call..long_call of 5 differs from width "
        "long_put..short_put of 10 (equal widths required)"
    )


def test_an_iron_condor_does_not_need_equal_widths(spy):
    combo = build_combo("iron_condor", condor_legs(spy, 80, 95, 105, 110))
    assert [leg.strike for leg in combo.legs] == [80, 95, 105, 110]


def test_a_different_strike_is_named(spy):
    legs = {
        "long_put": spy.put(90),
        "short_put": spy.put(100),
        "short_call": spy.call(105),
        "long_call": spy.call(115),
    }
    assert refused("iron_butterfly", legs) == (
        "iron_butterfly leg 'short_call': strike 105 differs from 'short_put' strike 100 "
        "(same strike required)"
    )


def test_strikes_that_are_not_equidistant_are_named(spy):
    legs = {"lower_call": spy.call(95), "middle_call": spy.call(100), "upper_call": spy.call(110)}
    assert refused("butterfly_call", legs) == (
        "butterfly_call leg 'upper_call': strike 110 is 10 above 'middle_call' strike 100, "
        "which is 5 above 'lower_call' strike 95 (equidistant strikes required)"
    )
    assert build_combo("broken_wing_butterfly_call", legs).type_name == (
        "broken_wing_butterfly_call"
    )


def test_a_generic_vertical_needs_one_right_and_two_strikes(spy):
    mixed = {"long_leg": spy.put(100), "short_leg": spy.call(105)}
    assert refused("vertical_spread", mixed) == (
        "vertical_spread leg 'short_leg': right call differs from 'long_leg' right put "
        "(same right required)"
    )
    flat = {"long_leg": spy.call(100), "short_leg": spy.call(100, MIDDLE)}
    assert refused("vertical_spread", flat) == (
        "vertical_spread leg 'short_leg': expiry 2027-01-15 differs from 'long_leg' expiry "
        "2026-12-18 (same expiry required)"
    )
    same = {"long_leg": spy.call(100), "short_leg": spy.put(100)}
    assert "same right required" in refused("vertical_spread", same)
    bear = build_combo("vertical_spread", {"long_leg": spy.call(110), "short_leg": spy.call(100)})
    assert [(leg.strike, leg.ratio) for leg in bear.legs] == [(110, 1), (100, -1)]


def test_a_generic_vertical_refuses_one_strike_twice(spy):
    legs = {"long_leg": spy.call(100), "short_leg": spy.call(100)}
    assert refused("vertical_spread", legs) == (
        "vertical_spread leg 'short_leg': contract 'SPY261218C00100000' is already the "
        "'long_leg' leg (each contract once)"
    )


def test_ratios_are_only_for_custom(spy):
    assert refused("iron_condor", condor_legs(spy), ratios={"long_put": 2}) == (
        "iron_condor: ratios are only for custom combos; iron_condor fixes its own"
    )


# --- custom --------------------------------------------------------------------------------


def test_a_custom_combo_takes_the_callers_legs_and_ratios(spy):
    combo = build_combo(
        ComboType.CUSTOM,
        {"stock": spy.underlying, "put": spy.put(90, FAR), "call": spy.call(110)},
        Direction.SHORT,
        2,
        ratios={"stock": 100, "put": 1, "call": -1},
    )
    assert [(leg.role, leg.ratio, leg.quantity(2)) for leg in combo.legs] == [
        ("stock", -100, -200),
        ("put", -1, -2),
        ("call", 1, 2),
    ]


def test_a_custom_combo_needs_legs_and_a_non_zero_ratio_for_each(spy):
    assert refused("custom", {}, ratios={}) == "custom: a custom combo needs at least one leg"
    assert refused("custom", {"a": spy.call(100)}, ratios={"a": 0}) == (
        "custom leg 'a': ratio must be a non-zero whole number, got 0"
    )
    assert refused("custom", {"a": spy.call(100)}, ratios={"a": 1.5}) == (
        "custom leg 'a': ratio must be a non-zero whole number, got 1.5"
    )
    assert refused("custom", {"a": spy.call(100)}) == (
        "custom leg 'a': has no ratio; a custom combo takes a signed ratio per leg"
    )
    assert refused("custom", {"a": spy.call(100)}, ratios={"a": 1, "b": 1}) == (
        "custom leg 'b': has a ratio but no leg"
    )


def test_a_custom_combo_refuses_two_underlyings_and_one_contract_twice(spy, qqq):
    assert refused(
        "custom", {"a": spy.call(100), "b": qqq.call(100)}, ratios={"a": 1, "b": -1}
    ) == (
        "custom leg 'b': underlying 'QQQ' differs from 'a' underlying 'SPY' "
        "(one underlying required)"
    )
    assert "each contract once" in refused(
        "custom", {"a": spy.call(100), "b": spy.call(100)}, ratios={"a": 1, "b": 2}
    )


# --- registry ------------------------------------------------------------------------------


def test_the_builtin_registry_holds_every_builtin_type():
    registry = builtin_registry()
    assert registry is builtin_registry()
    assert set(registry.names) == {member.value for member in ComboType}
    assert ComboType.JADE_LIZARD in registry
    assert registry.get(ComboType.JADE_LIZARD) is ComboType.JADE_LIZARD.definition


def test_a_registry_refuses_a_second_definition_of_a_name():
    registry = ComboRegistry()
    registry.add(IRON_CONDOR)  # the same definition again is fine
    with pytest.raises(ValueError, match="a combo type named 'iron_condor' is already"):
        registry.add(IRON_CONDOR.negated("iron_condor", "other"))


def test_a_registry_builds_its_own_types(spy):
    registry = ComboRegistry([IRON_CONDOR])
    assert len(registry) == 1
    assert registry.build("iron_condor", condor_legs(spy)).type_name == "iron_condor"
    with pytest.raises(ComboValidationError, match="unknown combo type 'straddle'"):
        registry.build("straddle", {"call": spy.call(100), "put": spy.put(100)})


def test_an_empty_registry_knows_no_types(spy):
    with pytest.raises(ComboValidationError, match="unknown combo type 'iron_condor'"):
        build_combo("iron_condor", condor_legs(spy), registry=ComboRegistry([]))
