"""Multi-leg option combos: definitions, building and validation, signatures, payoffs.

The payoff analytics live in :mod:`otrade.combos.payoff` and the shape-based leg selection
in :mod:`otrade.combos.selection`; the names most scripts need are re-exported here.
"""

from __future__ import annotations

from otrade.combos.builder import ComboRegistry, LegSource, build_combo, builtin_registry
from otrade.combos.combo import Combo, ComboLeg, combo_signature, opposite_signature
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
    RuleFailure,
    SameExpiry,
    SameRight,
    SameStrike,
)
from otrade.combos.payoff import analyze_payoff, combo_value, net_premium, probability_of_profit
from otrade.combos.selection import SelectionError
from otrade.combos.types import BUILTIN_DEFINITIONS, BUILTIN_TYPES, ComboType

__all__ = [
    "BUILTIN_DEFINITIONS",
    "BUILTIN_TYPES",
    "AscendingStrikes",
    "Combo",
    "ComboDefinition",
    "ComboLeg",
    "ComboRegistry",
    "ComboRule",
    "ComboType",
    "DifferentStrikes",
    "EqualWidths",
    "EquidistantStrikes",
    "LaterExpiry",
    "LegSource",
    "Role",
    "RoleRight",
    "RuleFailure",
    "SameExpiry",
    "SameRight",
    "SameStrike",
    "SelectionError",
    "analyze_payoff",
    "build_combo",
    "builtin_registry",
    "combo_signature",
    "combo_value",
    "net_premium",
    "opposite_signature",
    "probability_of_profit",
]
