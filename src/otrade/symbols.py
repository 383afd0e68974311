"""Canonical option symbols: build, parse and convert to and from IB's padded form.

The canonical symbol is the OCC/OSI symbol without padding::

    root + YYMMDD + C/P + strike * 1000 as 8 digits
    SPY261218C00450000     SPXW261218P05000000     AAPL1261218C00150000

Interactive Brokers' ``localSymbol`` for a US option is the same string with the root
right-padded with spaces to 6 characters (``SPY   261218C00450000``).

Symbols are read from the right: the last 8 characters are the strike, the one before
them the right, the 6 before that the expiry, and the root is whatever remains.  Roots
vary in length and may contain digits (adjusted roots such as ``AAPL1``), so reading
from the left cannot tell where the root ends.
"""

from __future__ import annotations

import functools
import math
import re
import string
from datetime import date
from decimal import Decimal, InvalidOperation

import attrs

from otrade.constants import OptionRight
from otrade.errors import SymbolError

__all__ = [
    "OptionSymbol",
    "build_option_symbol",
    "from_ib_local_symbol",
    "is_option_symbol",
    "parse_option_symbol",
    "to_ib_local_symbol",
]

# Split from the right: fixed-width expiry, right and strike at the end, the root before them.
_SYMBOL_PATTERN = re.compile(r"(?P<root>.*)(?P<expiry>.{6})(?P<right>.)(?P<strike>.{8})\Z")
_ROOT_WIDTH = 6
_ROOT_FIRST_CHARACTERS = frozenset(string.ascii_uppercase)
_ROOT_CHARACTERS = _ROOT_FIRST_CHARACTERS | frozenset(string.digits)
_STRIKE_LIMIT = Decimal(100_000)
# A float strike within this many thousandths of a whole thousandth counts as exact.
_FLOAT_STRIKE_TOLERANCE = 1e-6
_RIGHT_NAMES = {
    "C": OptionRight.CALL,
    "CALL": OptionRight.CALL,
    "P": OptionRight.PUT,
    "PUT": OptionRight.PUT,
}
_BUILD_CONTEXT = "cannot build option symbol"


@attrs.frozen
class OptionSymbol:
    """The parts of an option symbol; constructing one validates every part.

    Attributes:
        root: Upper-case OCC root, 1-6 letters/digits starting with a letter (``SPXW``).
        expiry: Expiration date, year 2000-2099.
        right: Call or put.
        strike: Strike price in the underlying's currency, a whole number of thousandths,
            greater than 0 and less than 100000.

    Raises:
        SymbolError: When a part cannot appear in a canonical symbol.
    """

    root: str
    expiry: date
    right: OptionRight
    strike: Decimal

    def __attrs_post_init__(self) -> None:
        # The builder normalizes its root; a record must already hold the normal form
        # so that equal symbols are equal records.
        if self.root != self.root.strip().upper():
            raise SymbolError(
                f"option symbol root {self.root!r} must be upper-case without surrounding spaces"
            )
        build_option_symbol(self.root, self.expiry, self.right, self.strike)

    @property
    def symbol(self) -> str:
        """The canonical unpadded symbol, e.g. ``SPY261218C00450000``."""
        return build_option_symbol(self.root, self.expiry, self.right, self.strike)

    @property
    def ib_local_symbol(self) -> str:
        """IB's ``localSymbol``: the root padded to 6 characters, e.g. ``SPY   261218C00450000``."""
        return self.root.ljust(_ROOT_WIDTH) + self.symbol[len(self.root) :]

    def __str__(self) -> str:
        return self.symbol


def build_option_symbol(
    root: str,
    expiry: date,
    right: OptionRight | str,
    strike: float | Decimal | str | int,
) -> str:
    """Build the canonical symbol from its parts.

    Args:
        root: OCC root; surrounding spaces are stripped and it is upper-cased. Must then be
            1-6 letters/digits starting with a letter.
        expiry: Expiration date, year 2000-2099.
        right: An :class:`OptionRight` or ``"C"``, ``"P"``, ``"call"``, ``"put"`` in any case.
        strike: Strike price, greater than 0 and less than 100000, a whole number of
            thousandths. A float counts as whole thousandths when ``strike * 1000`` is within
            1e-6 of an integer (so ``12.5`` and ``1234.567`` work, ``12.3456`` does not).

    Returns:
        The canonical symbol, e.g. ``build_option_symbol("spy", date(2026, 12, 18), "call",
        450)`` is ``"SPY261218C00450000"``.

    Raises:
        SymbolError: Naming the part that is invalid.
    """
    root_text = _check_root(root.strip().upper(), _BUILD_CONTEXT)
    if not 2000 <= expiry.year <= 2099:
        raise SymbolError(f"{_BUILD_CONTEXT}: expiry {expiry.isoformat()} must be in 2000-2099")
    right_value = _to_right(right)
    thousandths = _strike_thousandths(strike)
    return f"{root_text}{expiry:%y%m%d}{right_value.value}{thousandths:08d}"


def parse_option_symbol(symbol: str) -> OptionSymbol:
    """Parse a canonical unpadded symbol such as ``SPXW261218P05000000``.

    Args:
        symbol: The symbol; surrounding whitespace is stripped and lower case accepted.
            Spaces inside it are refused (that is IB's padded form; see
            :func:`from_ib_local_symbol`).

    Returns:
        The parsed parts.

    Raises:
        SymbolError: Naming the symbol and its bad part (length, strike, right, date, root).
    """
    context = f"option symbol {symbol!r}"
    text = symbol.strip().upper()
    if _has_space(text):
        raise SymbolError(
            f"{context}: contains spaces (the padded IB form goes through from_ib_local_symbol)"
        )
    return _parse(text, context)


def to_ib_local_symbol(symbol: str) -> str:
    """Convert a canonical symbol to IB's ``localSymbol`` (root padded to 6 characters).

    Raises:
        SymbolError: When ``symbol`` is not a valid canonical symbol.
    """
    return parse_option_symbol(symbol).ib_local_symbol


def from_ib_local_symbol(local_symbol: str) -> str:
    """Convert IB's ``localSymbol`` to the canonical symbol.

    Args:
        local_symbol: The padded form; any number of spaces (including none) may separate
            the root from the date, and nowhere else.

    Returns:
        The canonical unpadded symbol.

    Raises:
        SymbolError: Naming the local symbol and its bad part.
    """
    context = f"IB local symbol {local_symbol!r}"
    root, _, rest = local_symbol.strip().upper().partition(" ")
    text = root + rest.lstrip()
    if _has_space(text):
        raise SymbolError(f"{context}: spaces are allowed only between the root and the date")
    return _parse(text, context).symbol


def is_option_symbol(text: str) -> bool:
    """Whether :func:`parse_option_symbol` accepts ``text``; never raises.

    Answers are cached (engines ask about the same few symbols on every order).
    """
    if not isinstance(text, str):
        return False
    return _is_option_symbol(text)


@functools.lru_cache(maxsize=1 << 16)
def _is_option_symbol(text: str) -> bool:
    try:
        parse_option_symbol(text)
    except SymbolError:
        return False
    return True


def _parse(text: str, context: str) -> OptionSymbol:
    match = _SYMBOL_PATTERN.match(text)
    if match is None:
        raise SymbolError(
            f"{context}: too short ({len(text)} characters; expected root + YYMMDD + C/P + "
            "8 strike digits)"
        )
    strike = _parse_strike(match["strike"], context)
    right = _parse_right(match["right"], context)
    expiry = _parse_expiry(match["expiry"], context)
    root = _check_root(match["root"], context)
    return OptionSymbol(root=root, expiry=expiry, right=right, strike=strike)


def _parse_strike(digits: str, context: str) -> Decimal:
    if not _is_ascii_digits(digits):
        raise SymbolError(f"{context}: strike {digits!r} must be 8 digits")
    if int(digits) == 0:
        raise SymbolError(f"{context}: strike {digits!r} must be greater than 0")
    return Decimal(int(digits)) / 1000


def _parse_right(letter: str, context: str) -> OptionRight:
    if letter not in ("C", "P"):
        raise SymbolError(f"{context}: right {letter!r} must be C or P")
    return OptionRight(letter)


def _parse_expiry(digits: str, context: str) -> date:
    if not _is_ascii_digits(digits):
        raise SymbolError(f"{context}: date {digits!r} must be 6 digits (YYMMDD)")
    try:
        return date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError as error:
        raise SymbolError(
            f"{context}: date {digits!r} is not a valid date (expected YYMMDD): {error}"
        ) from None


def _check_root(root: str, context: str) -> str:
    if not (
        1 <= len(root) <= _ROOT_WIDTH
        and root[0] in _ROOT_FIRST_CHARACTERS
        and all(character in _ROOT_CHARACTERS for character in root)
    ):
        raise SymbolError(
            f"{context}: root {root!r} must be 1-6 letters/digits starting with a letter"
        )
    return root


def _to_right(right: OptionRight | str) -> OptionRight:
    if isinstance(right, OptionRight):
        return right
    found = _RIGHT_NAMES.get(right.upper()) if isinstance(right, str) else None
    if found is None:
        raise SymbolError(f"{_BUILD_CONTEXT}: right {right!r} must be C, P, call or put")
    return found


def _strike_thousandths(strike: float | Decimal | str | int) -> int:
    value = _strike_decimal(strike)
    if not 0 < value < _STRIKE_LIMIT:
        raise SymbolError(
            f"{_BUILD_CONTEXT}: strike {str(strike)!r} must be greater than 0 and less than 100000"
        )
    scaled = value.scaleb(3)
    if scaled != scaled.to_integral_value():
        raise SymbolError(
            f"{_BUILD_CONTEXT}: strike {str(strike)!r} must be a whole number of thousandths"
        )
    return int(scaled)


def _strike_decimal(strike: float | Decimal | str | int) -> Decimal:
    """The strike as a finite Decimal; a float is snapped to the nearest thousandth."""
    not_a_number = SymbolError(f"{_BUILD_CONTEXT}: strike {str(strike)!r} must be a finite number")
    if isinstance(strike, bool):
        raise not_a_number
    if isinstance(strike, float):
        if not math.isfinite(strike):
            raise not_a_number
        scaled = strike * 1000
        if abs(round(scaled) - scaled) > _FLOAT_STRIKE_TOLERANCE:
            raise SymbolError(
                f"{_BUILD_CONTEXT}: strike {str(strike)!r} must be a whole number of thousandths"
            )
        return Decimal(round(scaled)).scaleb(-3)
    try:
        value = Decimal(strike)
    except (InvalidOperation, TypeError, ValueError):
        raise not_a_number from None
    if not value.is_finite():
        raise not_a_number
    return value


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _has_space(text: str) -> bool:
    return any(character.isspace() for character in text)
