"""Combo definitions: roles, rules and their checks, and what a definition refuses."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from otrade.combos import (
    AscendingStrikes,
    ComboDefinition,
    ComboLeg,
    ComboRule,
    DifferentStrikes,
    EqualWidths,
    EquidistantStrikes,
    LaterExpiry,
    Role,
    RoleRight,
    RuleFailure,
    SameExpiry,
    SameRight,
    SameStrike,
)
from otrade.combos.types import IRON_CONDOR
from otrade.constants import OptionRight

NEAR = date(2026, 12, 18)
FAR = date(2027, 1, 15)


def leg(role: str, strike: float, expiry: date = NEAR, right=OptionRight.CALL) -> ComboLeg:
    return ComboLeg(
        role=role,
        symbol=f"{role}-{strike}-{expiry}-{right}",
        right=right,
        strike=strike,
        expiry=expiry,
        root="SPY",
        ratio=1,
        multiplier=100,
    )


def legs(*items: ComboLeg) -> dict[str, ComboLeg]:
    return {item.role: item for item in items}


def test_an_iron_condor_is_four_roles_in_order_with_one_expiry_and_ascending_strikes():
    assert IRON_CONDOR.role_names == ("long_put", "short_put", "short_call", "long_call")
    assert [(role.right, role.ratio) for role in IRON_CONDOR.roles] == [
        (RoleRight.PUT, 1),
        (RoleRight.PUT, -1),
        (RoleRight.CALL, -1),
        (RoleRight.CALL, 1),
    ]
    roles = ("long_put", "short_put", "short_call", "long_call")
    assert IRON_CONDOR.rules == (SameExpiry(roles), AscendingStrikes(roles))
    assert IRON_CONDOR.role("short_call") == Role("short_call", RoleRight.CALL, -1)
    with pytest.raises(KeyError, match="iron_condor has no role 'wing'"):
        IRON_CONDOR.role("wing")


def test_definitions_are_frozen_records_with_a_name():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        IRON_CONDOR.name = "other"  # type: ignore[misc]
    assert hash(IRON_CONDOR) == hash(attrs.evolve(IRON_CONDOR))


def test_negated_flips_every_ratio_and_keeps_roles_and_rules():
    short = IRON_CONDOR.negated("short_iron_condor", "the negation")
    assert short.name == "short_iron_condor"
    assert short.description == "the negation"
    assert short.role_names == IRON_CONDOR.role_names
    assert [role.ratio for role in short.roles] == [-1, 1, 1, -1]
    assert short.rules == IRON_CONDOR.rules


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "", "roles": (Role("a", RoleRight.CALL, 1),)}, "name must be a non-empty"),
        ({"name": "empty", "roles": ()}, "combo type 'empty' needs at least one role"),
        (
            {"name": "twice", "roles": (Role("a", RoleRight.CALL, 1), Role("a", RoleRight.PUT, 1))},
            "combo type 'twice' names a role twice",
        ),
        (
            {
                "name": "stray",
                "roles": (Role("a", RoleRight.CALL, 1), Role("b", RoleRight.CALL, -1)),
                "rules": (SameExpiry(("a", "c")),),
            },
            "names unknown 'c'",
        ),
        (
            {
                "name": "stock_strike",
                "roles": (Role("stock", RoleRight.UNDERLYING, 100), Role("b", RoleRight.CALL, -1)),
                "rules": (SameStrike(("stock", "b")),),
            },
            "reads underlying role 'stock'",
        ),
        (
            {"name": "custom", "roles": (Role("a", RoleRight.CALL, 1),), "custom": True},
            "custom combo type 'custom' takes no roles or rules",
        ),
    ],
)
def test_a_definition_refuses_what_cannot_be_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ComboDefinition(**kwargs)


@pytest.mark.parametrize("ratio", [0, True, 1.5])
def test_a_role_ratio_is_a_non_zero_whole_number(ratio):
    with pytest.raises(ValueError, match="ratio must be a non-zero whole number"):
        Role("a", RoleRight.CALL, ratio)


@pytest.mark.parametrize("rule", [SameExpiry, AscendingStrikes, SameStrike, SameRight])
def test_a_rule_over_listed_roles_needs_two_of_them(rule):
    with pytest.raises(ValueError, match="needs at least 2 roles"):
        rule(("only",))


def test_role_rights_accept_their_options():
    assert RoleRight.CALL.accepts(OptionRight.CALL)
    assert not RoleRight.CALL.accepts(OptionRight.PUT)
    assert not RoleRight.CALL.accepts(None)
    assert RoleRight.PUT.accepts(OptionRight.PUT)
    assert RoleRight.OPTION.accepts(OptionRight.CALL)
    assert RoleRight.OPTION.accepts(OptionRight.PUT)
    assert not RoleRight.OPTION.accepts(None)
    assert RoleRight.UNDERLYING.accepts(None)
    assert not RoleRight.UNDERLYING.accepts(OptionRight.CALL)
    assert not RoleRight.UNDERLYING.is_option


RULE_CASES = [
    (
        SameExpiry(("a", "b", "c")),
        legs(leg("a", 100), leg("b", 105), leg("c", 110)),
        legs(leg("a", 100), leg("b", 105), leg("c", 110, FAR)),
        RuleFailure(
            "c", "expiry 2027-01-15 differs from 'a' expiry 2026-12-18 (same expiry required)"
        ),
    ),
    (
        LaterExpiry("far", "near"),
        legs(leg("far", 100, FAR), leg("near", 100)),
        legs(leg("far", 100, NEAR), leg("near", 100)),
        RuleFailure(
            "far",
            "expiry 2026-12-18 must be after 'near' expiry 2026-12-18 (later expiry required)",
        ),
    ),
    (
        AscendingStrikes(("a", "b", "c")),
        legs(leg("a", 95), leg("b", 100), leg("c", 102.5)),
        legs(leg("a", 95), leg("b", 100), leg("c", 100)),
        RuleFailure("c", "strike 100 must be above 'b' strike 100 (strikes ascend: a < b < c)"),
    ),
    (
        SameStrike(("a", "b")),
        legs(leg("a", 100), leg("b", 100, FAR)),
        legs(leg("a", 100), leg("b", 102.5)),
        RuleFailure("b", "strike 102.5 differs from 'a' strike 100 (same strike required)"),
    ),
    (
        DifferentStrikes("a", "b"),
        legs(leg("a", 100), leg("b", 105)),
        legs(leg("a", 100), leg("b", 100)),
        RuleFailure("b", "strike 100 equals 'a' strike (different strikes required)"),
    ),
    (
        EqualWidths(("a", "b"), ("c", "d")),
        legs(leg("a", 90), leg("b", 95), leg("c", 105), leg("d", 110)),
        legs(leg("a", 90), leg("b", 95), leg("c", 105), leg("d", 115)),
        RuleFailure("d", "width c..d of 10 differs from width a..b of 5 (equal widths required)"),
    ),
    (
        EquidistantStrikes("a", "b", "c"),
        legs(leg("a", 97.5), leg("b", 100), leg("c", 102.5)),
        legs(leg("a", 95), leg("b", 100), leg("c", 110)),
        RuleFailure(
            "c",
            "strike 110 is 10 above 'b' strike 100, which is 5 above 'a' strike 95 "
            "(equidistant strikes required)",
        ),
    ),
    (
        SameRight(("a", "b")),
        legs(leg("a", 100, right=OptionRight.PUT), leg("b", 95, right=OptionRight.PUT)),
        legs(leg("a", 100, right=OptionRight.PUT), leg("b", 95)),
        RuleFailure("b", "right call differs from 'a' right put (same right required)"),
    ),
]


@pytest.mark.parametrize(
    ("rule", "good", "bad", "failure"), RULE_CASES, ids=lambda value: type(value).__name__
)
def test_each_rule_passes_good_legs_and_names_the_role_and_rule_of_bad_ones(
    rule, good, bad, failure
):
    assert isinstance(rule, ComboRule)
    assert rule.needs_options
    assert set(rule.roles) == set(good)
    assert rule.check(good) is None
    assert rule.check(bad) == failure


def test_a_plugin_may_bring_its_own_rule():
    @attrs.frozen
    class MaxWidth:
        lower: str
        upper: str
        width: float

        @property
        def roles(self) -> tuple[str, ...]:
            return (self.lower, self.upper)

        @property
        def needs_options(self) -> bool:
            return True

        def check(self, legs):
            if legs[self.upper].strike - legs[self.lower].strike <= self.width:
                return None
            return RuleFailure(self.upper, f"wider than {self.width:g}")

    definition = ComboDefinition(
        name="narrow_call_spread",
        roles=(Role("long_call", RoleRight.CALL, 1), Role("short_call", RoleRight.CALL, -1)),
        rules=(MaxWidth("long_call", "short_call", 10),),
    )
    assert isinstance(definition.rules[0], ComboRule)
    assert definition.rules[0].check(legs(leg("long_call", 100), leg("short_call", 120))) == (
        RuleFailure("short_call", "wider than 10")
    )
