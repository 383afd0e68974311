"""Declarative combo types: named roles with signed ratios, and rules between the roles.

A :class:`ComboDefinition` says what legs a combo type has and how they relate, nothing
more; :func:`~otrade.combos.build_combo` checks real options against it.  An iron condor
is four roles (``long_put`` +1, ``short_put`` -1, ``short_call`` -1, ``long_call`` +1), one
expiry and strictly ascending strikes::

    ComboDefinition(
        name="iron_condor",
        roles=(
            Role("long_put", RoleRight.PUT, +1),
            Role("short_put", RoleRight.PUT, -1),
            Role("short_call", RoleRight.CALL, -1),
            Role("long_call", RoleRight.CALL, +1),
        ),
        rules=(
            SameExpiry(("long_put", "short_put", "short_call", "long_call")),
            AscendingStrikes(("long_put", "short_put", "short_call", "long_call")),
        ),
        description="+1 put K1, -1 put K2, -1 call K3, +1 call K4; K1 < K2 < K3 < K4.",
    )

The ratios are those of one LONG unit: options in contracts, an underlying role in shares
(a covered call is +100 shares and -1 call).  A SHORT combo negates every leg.

A rule is any object with a ``roles`` tuple and a ``check`` method (the
:class:`ComboRule` protocol), so a plugin may bring its own; the built-in rules are
:class:`SameExpiry`, :class:`LaterExpiry`, :class:`AscendingStrikes`, :class:`SameStrike`,
:class:`DifferentStrikes`, :class:`EqualWidths`, :class:`EquidistantStrikes` and
:class:`SameRight`.  A failed check returns a :class:`RuleFailure` naming the role at fault
and the rule in words; the builder turns it into a
:class:`~otrade.errors.ComboValidationError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import NamedTuple, Protocol, runtime_checkable

import attrs

from otrade.combos.combo import ComboLeg
from otrade.constants import OptionRight

__all__ = [
    "AscendingStrikes",
    "ComboDefinition",
    "ComboRule",
    "DifferentStrikes",
    "EqualWidths",
    "EquidistantStrikes",
    "LaterExpiry",
    "Role",
    "RoleRight",
    "RuleFailure",
    "SameExpiry",
    "SameRight",
    "SameStrike",
]


class RoleRight(StrEnum):
    """What a role holds: a call, a put, either (``OPTION``) or the underlying's shares."""

    CALL = "call"
    PUT = "put"
    OPTION = "option"
    UNDERLYING = "underlying"

    @property
    def is_option(self) -> bool:
        """True for CALL, PUT and OPTION."""
        return self is not RoleRight.UNDERLYING

    def accepts(self, right: OptionRight | None) -> bool:
        """True when a leg of ``right`` (None for the underlying) may fill this role."""
        if self is RoleRight.UNDERLYING:
            return right is None
        if self is RoleRight.OPTION:
            return right is not None
        return right is _OPTION_RIGHTS[self]


_OPTION_RIGHTS = {RoleRight.CALL: OptionRight.CALL, RoleRight.PUT: OptionRight.PUT}


def _positive_or_negative(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise ValueError(f"{attribute.name} must be a non-zero whole number, got {value!r}")


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string, got {value!r}")


@attrs.frozen
class Role:
    """One leg of a combo type.

    Attributes:
        name: The role's name, unique in its definition (``short_put``).
        right: What fills it: a call, a put, either, or the underlying.
        ratio: Signed quantity per LONG unit: contracts for an option, shares for the
            underlying (+100 for a covered call's stock).  Never 0.
    """

    name: str = attrs.field(validator=_non_empty)
    right: RoleRight
    ratio: int = attrs.field(validator=_positive_or_negative)

    def negated(self) -> Role:
        """The same role with its ratio negated."""
        return attrs.evolve(self, ratio=-self.ratio)


class RuleFailure(NamedTuple):
    """A rule that did not hold: the role at fault and the rule in words."""

    #: The role at fault.
    role: str
    #: What is wrong, naming the values (``strike 95 must be above 'short_put' strike 100``).
    rule: str


@runtime_checkable
class ComboRule(Protocol):
    """A rule between roles of a combo type."""

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role the rule reads."""

    @property
    def needs_options(self) -> bool:
        """True when every role it reads must be an option (it reads strikes or expiries)."""

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """The first failure among ``legs`` (every role of the rule is there), or None."""


# --- helpers -----------------------------------------------------------------------------


def _strike(leg: ComboLeg) -> float:
    if leg.strike is None:  # the definition forbids it; guard for hand-made legs
        raise ValueError(f"leg {leg.role!r} has no strike")
    return leg.strike


def _expiry_text(leg: ComboLeg) -> str:
    return leg.expiry.isoformat() if leg.expiry is not None else "none"


def _right_word(right: OptionRight | None) -> str:
    if right is None:
        return "underlying"
    return "call" if right is OptionRight.CALL else "put"


def _same(first: float, second: float) -> bool:
    # Strikes such as 102.5 are exact in binary, but a difference of two of them need not be.
    return math.isclose(first, second, rel_tol=0.0, abs_tol=1e-9)


def _first_mismatch(
    roles: tuple[str, ...],
    legs: Mapping[str, ComboLeg],
    what: str,
    matches: Callable[[ComboLeg, ComboLeg], bool],
    text: Callable[[ComboLeg], str],
) -> RuleFailure | None:
    """The first role whose ``what`` does not match the first role's, as a failure."""
    first = legs[roles[0]]
    for role in roles[1:]:
        leg = legs[role]
        if not matches(leg, first):
            return RuleFailure(
                role,
                f"{what} {text(leg)} differs from {first.role!r} {what} {text(first)} "
                f"(same {what} required)",
            )
    return None


def _names(roles: Iterable[str]) -> tuple[str, ...]:
    return tuple(roles)


def _roles(roles: Iterable[Role]) -> tuple[Role, ...]:
    return tuple(roles)


def _rules(rules: Iterable[ComboRule]) -> tuple[ComboRule, ...]:
    return tuple(rules)


def _check_count(roles: tuple[str, ...], least: int, rule: str) -> None:
    if len(roles) < least:
        raise ValueError(f"{rule} needs at least {least} roles, got {roles!r}")


# --- rules -------------------------------------------------------------------------------


@attrs.frozen
class SameExpiry:
    """Every listed role expires on the same date.

    Attributes:
        roles: The roles, at least two.
    """

    roles: tuple[str, ...] = attrs.field(converter=_names)

    def __attrs_post_init__(self) -> None:
        """Check the number of roles."""
        _check_count(self.roles, 2, "SameExpiry")

    @property
    def needs_options(self) -> bool:
        """Always True: it reads expiries."""
        return True

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """The first role whose expiry differs from the first role's."""
        return _first_mismatch(
            self.roles, legs, "expiry", lambda leg, first: leg.expiry == first.expiry, _expiry_text
        )


@attrs.frozen
class LaterExpiry:
    """Role ``later`` expires strictly after role ``earlier``.

    Attributes:
        later: The role that expires last (a calendar's far leg).
        earlier: The role that expires first (a calendar's near leg).
    """

    later: str
    earlier: str

    @property
    def roles(self) -> tuple[str, ...]:
        """The later and the earlier role."""
        return (self.later, self.earlier)

    @property
    def needs_options(self) -> bool:
        """Always True: it reads expiries."""
        return True

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """A failure naming ``later`` unless it expires after ``earlier``."""
        later, earlier = legs[self.later], legs[self.earlier]
        if later.expiry and earlier.expiry and later.expiry > earlier.expiry:
            return None
        return RuleFailure(
            self.later,
            f"expiry {_expiry_text(later)} must be after {self.earlier!r} expiry "
            f"{_expiry_text(earlier)} (later expiry required)",
        )


@attrs.frozen
class AscendingStrikes:
    """The listed roles' strikes rise strictly, in the order listed.

    Attributes:
        roles: The roles from the lowest strike to the highest, at least two.
    """

    roles: tuple[str, ...] = attrs.field(converter=_names)

    def __attrs_post_init__(self) -> None:
        """Check the number of roles."""
        _check_count(self.roles, 2, "AscendingStrikes")

    @property
    def needs_options(self) -> bool:
        """Always True: it reads strikes."""
        return True

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """The first role whose strike is not above the previous role's."""
        order = " < ".join(self.roles)
        for previous, role in zip(self.roles, self.roles[1:], strict=False):
            low, high = _strike(legs[previous]), _strike(legs[role])
            if not high > low:
                return RuleFailure(
                    role,
                    f"strike {high:g} must be above {previous!r} strike {low:g} "
                    f"(strikes ascend: {order})",
                )
        return None


@attrs.frozen
class SameStrike:
    """Every listed role has the same strike.

    Attributes:
        roles: The roles, at least two.
    """

    roles: tuple[str, ...] = attrs.field(converter=_names)

    def __attrs_post_init__(self) -> None:
        """Check the number of roles."""
        _check_count(self.roles, 2, "SameStrike")

    @property
    def needs_options(self) -> bool:
        """Always True: it reads strikes."""
        return True

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """The first role whose strike differs from the first role's."""
        return _first_mismatch(
            self.roles,
            legs,
            "strike",
            lambda leg, first: _same(_strike(leg), _strike(first)),
            lambda leg: f"{_strike(leg):g}",
        )


@attrs.frozen
class DifferentStrikes:
    """Two roles have different strikes (a vertical spread's legs).

    Attributes:
        first: One role.
        second: The other role, named when the rule fails.
    """

    first: str
    second: str

    @property
    def roles(self) -> tuple[str, ...]:
        """Both roles."""
        return (self.first, self.second)

    @property
    def needs_options(self) -> bool:
        """Always True: it reads strikes."""
        return True

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """A failure naming ``second`` when both strikes are equal."""
        strike = _strike(legs[self.second])
        if _same(strike, _strike(legs[self.first])):
            return RuleFailure(
                self.second,
                f"strike {strike:g} equals {self.first!r} strike (different strikes required)",
            )
        return None


@attrs.frozen
class EqualWidths:
    """Two strike distances are equal: ``K(first[1]) - K(first[0]) == K(second[1]) - K(second[0])``.

    An iron butterfly's wings: ``EqualWidths(("long_put", "short_put"),
    ("short_call", "long_call"))``.

    Attributes:
        first: The (lower, upper) roles of the first width.
        second: The (lower, upper) roles of the second width; its upper role is named
            when the rule fails.
    """

    first: tuple[str, str]
    second: tuple[str, str]

    @property
    def roles(self) -> tuple[str, ...]:
        """The four roles (or fewer when they overlap)."""
        return tuple(dict.fromkeys((*self.first, *self.second)))

    @property
    def needs_options(self) -> bool:
        """Always True: it reads strikes."""
        return True

    def _width(self, legs: Mapping[str, ComboLeg], pair: tuple[str, str]) -> float:
        return _strike(legs[pair[1]]) - _strike(legs[pair[0]])

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """A failure naming the second width's upper role when the widths differ."""
        first, second = self._width(legs, self.first), self._width(legs, self.second)
        if _same(first, second):
            return None
        return RuleFailure(
            self.second[1],
            f"width {self.second[0]}..{self.second[1]} of {second:g} differs from width "
            f"{self.first[0]}..{self.first[1]} of {first:g} (equal widths required)",
        )


@attrs.frozen
class EquidistantStrikes:
    """The middle strike is halfway between the lower and the upper (a butterfly's body).

    Attributes:
        lower: The lowest strike's role.
        middle: The middle strike's role.
        upper: The highest strike's role, named when the rule fails.
    """

    lower: str
    middle: str
    upper: str

    @property
    def roles(self) -> tuple[str, ...]:
        """The three roles."""
        return (self.lower, self.middle, self.upper)

    @property
    def needs_options(self) -> bool:
        """Always True: it reads strikes."""
        return True

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """A failure naming ``upper`` unless ``K(upper) - K(middle) == K(middle) - K(lower)``."""
        low, middle, high = (_strike(legs[role]) for role in self.roles)
        if _same(high - middle, middle - low):
            return None
        return RuleFailure(
            self.upper,
            f"strike {high:g} is {high - middle:g} above {self.middle!r} strike {middle:g}, "
            f"which is {middle - low:g} above {self.lower!r} strike {low:g} "
            "(equidistant strikes required)",
        )


@attrs.frozen
class SameRight:
    """Every listed role holds the same right (for roles of right ``OPTION``).

    Attributes:
        roles: The roles, at least two.
    """

    roles: tuple[str, ...] = attrs.field(converter=_names)

    def __attrs_post_init__(self) -> None:
        """Check the number of roles."""
        _check_count(self.roles, 2, "SameRight")

    @property
    def needs_options(self) -> bool:
        """Always True: it reads rights."""
        return True

    def check(self, legs: Mapping[str, ComboLeg]) -> RuleFailure | None:
        """The first role whose right differs from the first role's."""
        return _first_mismatch(
            self.roles,
            legs,
            "right",
            lambda leg, first: leg.right is first.right,
            lambda leg: _right_word(leg.right),
        )


# --- definitions -------------------------------------------------------------------------


@attrs.frozen
class ComboDefinition:
    """A combo type: its roles in leg order, the rules between them, and what it is.

    A definition with ``custom=True`` has no roles: the caller names the legs and gives
    each one its signed ratio (see :func:`~otrade.combos.build_combo`).

    Attributes:
        name: The type's name, snake_case and unique in a registry (``iron_condor``); the
            plugin registry registers it under this name.
        roles: The roles, in the order the built combo lists its legs.
        rules: The rules the legs must satisfy.
        description: What the type is, stating its legs (``+1 put K1, -1 put K2, ...``).
        custom: True for the free-form type that takes any legs with the caller's ratios.

    Raises:
        ValueError: An empty name, no roles (unless ``custom``), roles given to a custom
            type, two roles of one name, or a rule naming an unknown role or reading the
            strike or expiry of an underlying role.
    """

    name: str = attrs.field(validator=_non_empty)
    roles: tuple[Role, ...] = attrs.field(converter=_roles)
    rules: tuple[ComboRule, ...] = attrs.field(converter=_rules, default=())
    description: str = ""
    custom: bool = False

    def __attrs_post_init__(self) -> None:
        """Check the roles and that every rule reads roles of this type."""
        if self.custom:
            if self.roles or self.rules:
                raise ValueError(f"custom combo type {self.name!r} takes no roles or rules")
            return
        if not self.roles:
            raise ValueError(f"combo type {self.name!r} needs at least one role")
        rights = {role.name: role.right for role in self.roles}
        if len(rights) != len(self.roles):
            raise ValueError(f"combo type {self.name!r} names a role twice")
        for rule in self.rules:
            for role in rule.roles:
                if role not in rights:
                    raise ValueError(f"combo type {self.name!r}: {rule!r} names unknown {role!r}")
                if rule.needs_options and not rights[role].is_option:
                    raise ValueError(
                        f"combo type {self.name!r}: {rule!r} reads underlying role {role!r}"
                    )

    @property
    def role_names(self) -> tuple[str, ...]:
        """The role names, in leg order."""
        return tuple(role.name for role in self.roles)

    def role(self, name: str) -> Role:
        """The role called ``name``.

        Raises:
            KeyError: The type has no such role.
        """
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(f"{self.name} has no role {name!r}")

    def negated(self, name: str, description: str) -> ComboDefinition:
        """The same roles and rules with every ratio negated, under another name.

        This is how a ``short_X`` type is defined from ``X``: the exact negation, so a LONG
        ``short_iron_condor`` and a SHORT ``iron_condor`` have the same legs.
        """
        return ComboDefinition(
            name=name,
            roles=tuple(role.negated() for role in self.roles),
            rules=self.rules,
            description=description,
        )
