"""Combo types from plugins: registered through the otrade_combo_types hook, built by name."""

from __future__ import annotations

import pytest

from otrade.combos import (
    AscendingStrikes,
    ComboDefinition,
    ComboRegistry,
    EqualWidths,
    Role,
    RoleRight,
    SameExpiry,
    build_combo,
)
from otrade.constants import Direction
from otrade.errors import ComboValidationError
from otrade.plugins import PluginRegistry, hookimpl
from tests.unit.combos.chains import NEAR, Chain

_ROLES = ("long_put", "short_put", "short_call", "long_call")

BALANCED_CONDOR = ComboDefinition(
    name="acme_balanced_condor",
    roles=(
        Role("long_put", RoleRight.PUT, +1),
        Role("short_put", RoleRight.PUT, -1),
        Role("short_call", RoleRight.CALL, -1),
        Role("long_call", RoleRight.CALL, +1),
    ),
    rules=(
        SameExpiry(_ROLES),
        AscendingStrikes(_ROLES),
        EqualWidths(("long_put", "short_put"), ("short_call", "long_call")),
    ),
    description="An iron condor with equal wings: +1 put K1, -1 put K2, -1 call K3, +1 call K4.",
)


class AcmePlugin:
    @hookimpl
    def otrade_combo_types(self):
        return [BALANCED_CONDOR]


class NotADefinition:
    name = "acme_not_a_definition"


class SloppyPlugin:
    @hookimpl
    def otrade_combo_types(self):
        return [NotADefinition]


@pytest.fixture
def plugins() -> PluginRegistry:
    registry = PluginRegistry()
    registry.load(entry_points=False)
    assert registry.register(AcmePlugin(), name="acme", distribution="acme-otrade")
    return registry


def condor(chain: Chain, k4: float) -> dict:
    return {
        "long_put": chain.put(90),
        "short_put": chain.put(95),
        "short_call": chain.call(105),
        "long_call": chain.call(k4),
    }


def test_the_builtins_are_registered_through_the_hook_under_otrade():
    registry = PluginRegistry()
    registry.load(entry_points=False)
    items = {item.name: item for item in registry.items("combo_type")}
    assert {"iron_condor", "covered_call", "custom"} <= set(items)
    assert len(items) == 64
    assert {item.plugin for item in items.values()} == {"otrade"}
    assert registry.failures == []


def test_a_plugin_type_is_built_by_its_name(plugins):
    chain = Chain("SPY")
    registry = ComboRegistry.from_plugins(plugins)
    assert "acme_balanced_condor" in registry
    assert "iron_condor" in registry
    combo = build_combo(
        "acme_balanced_condor", condor(chain, 110), Direction.SHORT, 2, registry=registry
    )
    assert combo.type_name == "acme_balanced_condor"
    assert [(leg.role, leg.strike, leg.expiry, leg.quantity(2)) for leg in combo.legs] == [
        ("long_put", 90, NEAR, -2),
        ("short_put", 95, NEAR, 2),
        ("short_call", 105, NEAR, 2),
        ("long_call", 110, NEAR, -2),
    ]
    assert registry.build("iron_condor", condor(chain, 115)).type_name == "iron_condor"


def test_a_plugin_types_rules_are_enforced(plugins):
    registry = ComboRegistry.from_plugins(plugins)
    with pytest.raises(ComboValidationError) as caught:
        build_combo("acme_balanced_condor", condor(Chain("SPY"), 115), registry=registry)
    assert str(caught.value) == (
        "acme_balanced_condor leg 'long_call': width short_call..long_call of 10 differs from "
        "width long_put..short_put of 5 (equal widths required)"
    )


def test_without_the_registry_a_plugin_type_is_unknown(plugins):
    with pytest.raises(ComboValidationError, match="unknown combo type 'acme_balanced_condor'"):
        build_combo("acme_balanced_condor", condor(Chain("SPY"), 110))


def test_an_item_that_is_not_a_definition_is_skipped_with_the_reason(plugins):
    assert plugins.register(SloppyPlugin(), name="sloppy", distribution="sloppy-dist")
    registry = ComboRegistry()
    assert registry.add_plugins(plugins) == ["acme_balanced_condor"]
    assert registry.skipped == [
        "combo type 'acme_not_a_definition' of plugin 'sloppy' skipped: "
        f"{NotADefinition!r} is not a ComboDefinition"
    ]
    assert "acme_not_a_definition" not in registry
    assert registry.add_plugins(plugins) == []  # adding again adds nothing new
