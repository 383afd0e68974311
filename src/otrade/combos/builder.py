"""Build a :class:`~otrade.combos.Combo` from live options, checked against its type.

:func:`build_combo` takes a combo type's name, the options (and the underlying) that fill
its roles, a direction and a volume; it checks every leg against the definition and
returns an immutable combo, or raises :class:`~otrade.errors.ComboValidationError` naming
the role and the rule that failed, and builds nothing::

    combo = build_combo(
        ComboType.IRON_CONDOR,
        {"long_put": p430, "short_put": p440, "short_call": c460, "long_call": c470},
        Direction.LONG,
        volume=2,
    )

A :class:`ComboRegistry` knows the built-in types and those a plugin registers through
the ``otrade_combo_types`` hook; ``build_combo(..., registry=registry)`` builds a plugin's
type by its name.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping
from typing import TypeAlias

from loguru import logger

from otrade.combos.combo import Combo, ComboLeg
from otrade.combos.definitions import ComboDefinition, Role, RoleRight
from otrade.combos.types import BUILTIN_DEFINITIONS, ComboType
from otrade.constants import Direction
from otrade.errors import ComboValidationError
from otrade.plugins import PluginRegistry
from otrade.portfolio import OptionData, UnderlyingData

__all__ = ["ComboRegistry", "LegSource", "build_combo", "builtin_registry"]

LegSource: TypeAlias = OptionData | UnderlyingData
"""What fills a role: a live option, or the underlying for a stock leg."""

_CLOSE_NAMES = 3


class ComboRegistry:
    """The combo types a session knows, by name.

    Args:
        definitions: The definitions to start with; the built-ins by default.

    Attributes:
        skipped: Plugin items :meth:`add_plugins` did not take, each with the reason.

    Raises:
        ValueError: Two different definitions share a name.
    """

    def __init__(self, definitions: Iterable[ComboDefinition] = BUILTIN_DEFINITIONS) -> None:
        self._definitions: dict[str, ComboDefinition] = {}
        self.skipped: list[str] = []
        for definition in definitions:
            self.add(definition)

    def __contains__(self, name: object) -> bool:
        return name in self._definitions

    def __len__(self) -> int:
        return len(self._definitions)

    def __repr__(self) -> str:
        return f"ComboRegistry({len(self._definitions)} types)"

    @classmethod
    def from_plugins(cls, plugins: PluginRegistry) -> ComboRegistry:
        """The built-ins plus every combo type ``plugins`` registered (see :meth:`add_plugins`)."""
        registry = cls()
        registry.add_plugins(plugins)
        return registry

    @property
    def names(self) -> tuple[str, ...]:
        """Every type's name, in the order added."""
        return tuple(self._definitions)

    def add(self, definition: ComboDefinition) -> None:
        """Add one definition.

        Raises:
            ValueError: Another definition already has its name.
        """
        existing = self._definitions.get(definition.name)
        if existing is not None and existing != definition:
            raise ValueError(f"a combo type named {definition.name!r} is already registered")
        self._definitions[definition.name] = definition

    def add_plugins(self, plugins: PluginRegistry) -> list[str]:
        """Add the ``combo_type`` items of a loaded plugin registry.

        The built-ins come through the same hook (plugin ``otrade``) and are already here.
        An item that is not a :class:`ComboDefinition`, or whose name another definition
        holds, is skipped with a warning and recorded in :attr:`skipped`.

        Returns:
            The names added.
        """
        added: list[str] = []
        for item in plugins.items("combo_type"):
            definition = item.value
            reason = ""
            if not isinstance(definition, ComboDefinition):
                reason = f"{definition!r} is not a ComboDefinition"
            elif definition.name in self._definitions:
                if self._definitions[definition.name] == definition:
                    continue
                reason = f"the name {definition.name!r} is taken"
            if reason:
                message = f"combo type {item.name!r} of plugin {item.plugin!r} skipped: {reason}"
                self.skipped.append(message)
                logger.bind(source="combos").warning("{}", message)
                continue
            assert isinstance(definition, ComboDefinition)
            self._definitions[definition.name] = definition
            added.append(definition.name)
        return added

    def get(self, name: str | ComboType) -> ComboDefinition:
        """The definition called ``name``.

        Raises:
            ComboValidationError: No type has that name; the message lists close names.
        """
        key = str(name)
        definition = self._definitions.get(key)
        if definition is not None:
            return definition
        close = difflib.get_close_matches(key, self._definitions, n=_CLOSE_NAMES, cutoff=0.6)
        hint = f"close names: {', '.join(close)}" if close else "no close names"
        raise ComboValidationError(key, "", f"unknown combo type {key!r}; {hint}")

    def build(
        self,
        type_name: str | ComboType,
        legs: Mapping[str, LegSource],
        direction: Direction = Direction.LONG,
        volume: int = 1,
        *,
        ratios: Mapping[str, int] | None = None,
    ) -> Combo:
        """:func:`build_combo` with this registry's types."""
        return build_combo(type_name, legs, direction, volume, ratios=ratios, registry=self)


@functools.cache
def builtin_registry() -> ComboRegistry:
    """The registry of the built-in types alone (shared; do not add to it)."""
    return ComboRegistry()


def build_combo(
    type_name: str | ComboType,
    legs: Mapping[str, LegSource],
    direction: Direction = Direction.LONG,
    volume: int = 1,
    *,
    ratios: Mapping[str, int] | None = None,
    registry: ComboRegistry | None = None,
) -> Combo:
    """Check ``legs`` against a combo type and build the combo.

    Args:
        type_name: A built-in :class:`ComboType`, or the name of a type in ``registry``.
        legs: The option (or, for an underlying role, the portfolio's
            :class:`~otrade.portfolio.UnderlyingData`) that fills each role, by role name.
            For ``custom``, any names the caller chooses.
        direction: LONG takes every leg as the type defines it; SHORT negates every leg.
        volume: Combo units, a positive whole number; each leg trades ``volume x ratio``.
        ratios: Only for ``custom``: each leg's signed ratio per unit (contracts, or shares
            for the underlying), non-zero.
        registry: Where to find ``type_name``; the built-ins when None.

    Returns:
        The combo, its legs in the type's role order (the caller's order for ``custom``)
        with ratios after ``direction``.

    Raises:
        ComboValidationError: Unknown type (the message lists close names), a volume that
            is not a positive whole number, a missing or extra role, a leg of the wrong
            right or of another underlying, a contract used twice, a broken rule of the
            type (expiry, strike order, widths...), ``ratios`` for a type that is not
            custom, or a custom combo with no legs or a zero or missing ratio.  The
            message names the role and the rule; nothing is built.
    """
    definition = (registry if registry is not None else builtin_registry()).get(type_name)
    name = definition.name
    sign = _direction(name, direction).sign
    _check_volume(name, volume)
    if definition.custom:
        roles = _custom_roles(name, legs, ratios)
    else:
        if ratios is not None:
            raise ComboValidationError(
                name, "", f"ratios are only for custom combos; {name} fixes its own"
            )
        _check_role_names(definition, legs)
        roles = definition.roles
    built = {role.name: _leg(name, role, legs[role.name]) for role in roles}
    underlying = _check_underlying(name, roles, legs)
    _check_distinct(name, built)
    for rule in definition.rules:
        failure = rule.check(built)
        if failure is not None:
            raise ComboValidationError(name, failure.role, failure.rule)
    signed = tuple(
        leg if sign > 0 else leg.reversed() for leg in (built[role.name] for role in roles)
    )
    return Combo(
        type_name=name,
        direction=Direction.LONG if sign > 0 else Direction.SHORT,
        volume=volume,
        underlying=underlying,
        legs=signed,
    )


# --- checks ------------------------------------------------------------------------------


def _direction(name: str, direction: Direction) -> Direction:
    try:
        return Direction(direction)
    except ValueError:
        raise ComboValidationError(
            name, "", f"direction must be long or short, got {direction!r}"
        ) from None


def _check_volume(name: str, volume: int) -> None:
    if isinstance(volume, bool) or not isinstance(volume, int) or volume <= 0:
        raise ComboValidationError(
            name, "", f"volume must be a positive whole number, got {volume!r}"
        )


def _check_role_names(definition: ComboDefinition, legs: Mapping[str, LegSource]) -> None:
    expected = definition.role_names
    for role in expected:
        if role not in legs:
            raise ComboValidationError(
                definition.name,
                role,
                f"missing; {definition.name} needs {', '.join(expected)}",
            )
    for role in legs:
        if role not in expected:
            raise ComboValidationError(
                definition.name,
                role,
                f"is not a role of {definition.name} (roles: {', '.join(expected)})",
            )


def _custom_roles(
    name: str, legs: Mapping[str, LegSource], ratios: Mapping[str, int] | None
) -> tuple[Role, ...]:
    """One role per leg, of the leg's own right, with the caller's ratio."""
    if not legs:
        raise ComboValidationError(name, "", "a custom combo needs at least one leg")
    ratios = ratios or {}
    for role in ratios:
        if role not in legs:
            raise ComboValidationError(name, role, "has a ratio but no leg")
    roles: list[Role] = []
    for role, source in legs.items():
        if role not in ratios:
            raise ComboValidationError(
                name, role, "has no ratio; a custom combo takes a signed ratio per leg"
            )
        ratio = ratios[role]
        if isinstance(ratio, bool) or not isinstance(ratio, int) or ratio == 0:
            raise ComboValidationError(
                name, role, f"ratio must be a non-zero whole number, got {ratio!r}"
            )
        right = _source_right(name, role, source)
        roles.append(Role(role, right, ratio))
    return tuple(roles)


def _source_right(name: str, role: str, source: object) -> RoleRight:
    if isinstance(source, UnderlyingData):
        return RoleRight.UNDERLYING
    if isinstance(source, OptionData):
        return RoleRight.OPTION
    raise ComboValidationError(
        name, role, f"expected an option or the underlying, got {type(source).__name__}"
    )


def _leg(name: str, role: Role, source: object) -> ComboLeg:
    """The leg filling ``role`` with its definition ratio (LONG), after checking its right."""
    kind = _source_right(name, role.name, source)
    if role.right is RoleRight.UNDERLYING and kind is not RoleRight.UNDERLYING:
        assert isinstance(source, OptionData)
        raise ComboValidationError(
            name, role.name, f"expected the underlying, got option {source.symbol!r}"
        )
    if isinstance(source, UnderlyingData):
        if role.right is not RoleRight.UNDERLYING:
            raise ComboValidationError(
                name,
                role.name,
                f"expected a {role.right.value}, got the underlying {source.symbol!r}",
            )
        return ComboLeg(
            role=role.name,
            symbol=source.symbol,
            right=None,
            strike=None,
            expiry=None,
            root="",
            ratio=role.ratio,
            multiplier=1,
        )
    assert isinstance(source, OptionData)
    if not role.right.accepts(source.right):
        word = "call" if source.is_call else "put"
        raise ComboValidationError(
            name,
            role.name,
            f"right {word}, expected {role.right.value} ({source.symbol!r} is a {word})",
        )
    return ComboLeg(
        role=role.name,
        symbol=source.symbol,
        right=source.right,
        strike=source.strike,
        expiry=source.expiry,
        root=source.contract.root,
        ratio=role.ratio,
        multiplier=source.multiplier,
    )


def _underlying_symbol(source: LegSource) -> str:
    if isinstance(source, UnderlyingData):
        return source.symbol
    return source.contract.underlying_symbol


def _check_underlying(name: str, roles: tuple[Role, ...], legs: Mapping[str, LegSource]) -> str:
    """The one underlying of every leg, or a failure naming the first leg on another."""
    first = roles[0].name
    symbol = _underlying_symbol(legs[first])
    for role in roles[1:]:
        other = _underlying_symbol(legs[role.name])
        if other != symbol:
            raise ComboValidationError(
                name,
                role.name,
                f"underlying {other!r} differs from {first!r} underlying {symbol!r} "
                "(one underlying required)",
            )
    return symbol


def _check_distinct(name: str, legs: Mapping[str, ComboLeg]) -> None:
    seen: dict[str, str] = {}
    for role, leg in legs.items():
        if leg.symbol in seen:
            raise ComboValidationError(
                name,
                role,
                f"contract {leg.symbol!r} is already the {seen[leg.symbol]!r} leg "
                "(each contract once)",
            )
        seen[leg.symbol] = role
