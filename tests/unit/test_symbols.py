"""Tests for otrade.symbols: canonical OCC option symbols and IB's padded local symbols."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from otrade.constants import OptionRight
from otrade.errors import OTradeError, SymbolError
from otrade.symbols import (
    OptionSymbol,
    build_option_symbol,
    from_ib_local_symbol,
    is_option_symbol,
    parse_option_symbol,
    to_ib_local_symbol,
)

DECEMBER_18 = date(2026, 12, 18)

roots = st.from_regex(r"[A-Z][A-Z0-9]{0,5}", fullmatch=True)
expiries = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
rights = st.sampled_from(OptionRight)
strike_thousandths = st.integers(min_value=1, max_value=99_999_999)
strikes = strike_thousandths.map(lambda thousandths: Decimal(thousandths) / 1000)


@st.composite
def canonical_symbols(draw: st.DrawFn) -> str:
    """Valid canonical symbols written out character by character, not via the builder."""
    expiry = draw(expiries)
    right = draw(st.sampled_from("CP"))
    strike = draw(st.from_regex(r"[0-9]{8}", fullmatch=True).filter(lambda text: text != "0" * 8))
    return f"{draw(roots)}{expiry.year % 100:02d}{expiry.month:02d}{expiry.day:02d}{right}{strike}"


# --- the worked examples ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "root", "right", "strike"),
    [
        ("SPY261218C00450000", "SPY", OptionRight.CALL, Decimal("450")),
        ("SPX261218P05000000", "SPX", OptionRight.PUT, Decimal("5000")),
        ("SPXW261218P05000000", "SPXW", OptionRight.PUT, Decimal("5000")),
        ("AAPL1261218C00150000", "AAPL1", OptionRight.CALL, Decimal("150")),
        ("F261218C00012500", "F", OptionRight.CALL, Decimal("12.5")),
        ("GOOGL1261218P00000001", "GOOGL1", OptionRight.PUT, Decimal("0.001")),
    ],
)
def test_parse_reads_every_field_from_the_right(
    symbol: str, root: str, right: OptionRight, strike: Decimal
) -> None:
    parsed = parse_option_symbol(symbol)

    assert parsed == OptionSymbol(root=root, expiry=DECEMBER_18, right=right, strike=strike)
    assert parsed.root == root
    assert parsed.expiry == DECEMBER_18
    assert parsed.right is right
    assert parsed.strike == strike
    assert parsed.symbol == symbol
    assert str(parsed) == symbol


def test_spx_and_spxw_are_different_roots() -> None:
    monthly = parse_option_symbol("SPX261218P05000000")
    weekly = parse_option_symbol("SPXW261218P05000000")

    assert (monthly.root, weekly.root) == ("SPX", "SPXW")
    assert monthly != weekly


def test_parse_strips_whitespace_and_accepts_lower_case() -> None:
    assert parse_option_symbol("  spxw261218p05000000\n").symbol == "SPXW261218P05000000"


@pytest.mark.parametrize(
    ("root", "right", "strike", "expected"),
    [
        ("SPY", OptionRight.CALL, 450, "SPY261218C00450000"),
        (" spy ", "call", 450.0, "SPY261218C00450000"),
        ("SPXW", "P", Decimal("5000"), "SPXW261218P05000000"),
        ("SPXW", "put", "5000.000", "SPXW261218P05000000"),
        ("aapl1", "c", "150", "AAPL1261218C00150000"),
        ("F", "CALL", 12.5, "F261218C00012500"),
        ("F", OptionRight.PUT, 0.001, "F261218P00000001"),
        ("F", OptionRight.PUT, 1234.567, "F261218P01234567"),
        ("F", OptionRight.PUT, 99999.999, "F261218P99999999"),
    ],
)
def test_build_gives_the_exact_canonical_string(
    root: str, right: OptionRight | str, strike: float | Decimal | str | int, expected: str
) -> None:
    assert build_option_symbol(root, DECEMBER_18, right, strike) == expected


@pytest.mark.parametrize(
    ("symbol", "local_symbol"),
    [
        ("SPY261218C00450000", "SPY   261218C00450000"),
        ("SPXW261218P05000000", "SPXW  261218P05000000"),
        ("AAPL1261218C00150000", "AAPL1 261218C00150000"),
        ("F261218C00012500", "F     261218C00012500"),
        ("GOOGL1261218C00100000", "GOOGL1261218C00100000"),
    ],
)
def test_ib_local_symbol_pads_the_root_to_six_characters(symbol: str, local_symbol: str) -> None:
    assert to_ib_local_symbol(symbol) == local_symbol
    assert parse_option_symbol(symbol).ib_local_symbol == local_symbol
    assert from_ib_local_symbol(local_symbol) == symbol


@pytest.mark.parametrize(
    "local_symbol",
    [
        "SPY261218C00450000",
        "SPY 261218C00450000",
        "SPY         261218C00450000",
        " spy  261218c00450000 ",
    ],
)
def test_from_ib_local_symbol_accepts_any_padding_between_root_and_date(local_symbol: str) -> None:
    assert from_ib_local_symbol(local_symbol) == "SPY261218C00450000"


# --- properties -------------------------------------------------------------------------------


@given(root=roots, expiry=expiries, right=rights, strike=strikes)
def test_build_then_parse_gives_the_same_fields(
    root: str, expiry: date, right: OptionRight, strike: Decimal
) -> None:
    parsed = parse_option_symbol(build_option_symbol(root, expiry, right, strike))

    assert parsed == OptionSymbol(root=root, expiry=expiry, right=right, strike=strike)


@given(thousandths=strike_thousandths)
def test_float_strikes_of_whole_thousandths_build_exactly(thousandths: int) -> None:
    symbol = build_option_symbol("SPY", DECEMBER_18, OptionRight.CALL, thousandths / 1000)

    assert symbol.endswith(f"C{thousandths:08d}")
    assert parse_option_symbol(symbol).strike == Decimal(thousandths) / 1000


@given(symbol=canonical_symbols())
def test_parse_then_format_is_the_identity(symbol: str) -> None:
    assert parse_option_symbol(symbol).symbol == symbol
    assert is_option_symbol(symbol)


@given(symbol=canonical_symbols())
def test_canonical_to_ib_and_back_is_the_identity(symbol: str) -> None:
    local_symbol = to_ib_local_symbol(symbol)
    root = parse_option_symbol(symbol).root

    assert from_ib_local_symbol(local_symbol) == symbol
    assert len(local_symbol) == len(symbol) - len(root) + 6
    assert local_symbol[:6] == root.ljust(6)
    assert local_symbol[6:] == symbol[len(root) :]


@given(text=st.text())
def test_is_option_symbol_never_raises(text: str) -> None:
    assert is_option_symbol(text) in (True, False)


# --- invalid input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        ("", "too short"),
        ("SPY2612", "too short"),
        ("61218C00450000", "too short"),
        ("SPY261218C0045000X", "strike '0045000X' must be 8 digits"),
        ("SPY261218C0045000\u0663", "strike .* must be 8 digits"),
        ("SPY261218C00000000", "strike '00000000' must be greater than 0"),
        ("SPY261218X00450000", "right 'X' must be C or P"),
        ("SPY261318C00450000", r"date '261318' is not a valid date \(expected YYMMDD\): month"),
        ("SPY260230C00450000", r"date '260230' is not a valid date \(expected YYMMDD\): day"),
        ("SPY26121XC00450000", r"date '26121X' must be 6 digits \(YYMMDD\)"),
        ("261218C00450000", "root '' must be 1-6 letters/digits starting with a letter"),
        ("1SPY261218C00450000", "root '1SPY' must be 1-6"),
        ("TOOLONG261218C00450000", "root 'TOOLONG' must be 1-6"),
        ("SP$261218C00450000", re.escape("root 'SP$' must be 1-6")),
        ("SPY   261218C00450000", "contains spaces"),
        ("SPY261218C 00450000", "contains spaces"),
    ],
)
def test_parse_rejects_a_bad_part_and_names_it(symbol: str, message: str) -> None:
    with pytest.raises(SymbolError, match=re.escape(f"option symbol {symbol!r}: ") + message):
        parse_option_symbol(symbol)
    assert not is_option_symbol(symbol)


@pytest.mark.parametrize(
    ("root", "expiry", "right", "strike", "message"),
    [
        ("", DECEMBER_18, "C", 450, "root '' must be 1-6"),
        ("TOOLONG", DECEMBER_18, "C", 450, "root 'TOOLONG' must be 1-6"),
        ("1ABC", DECEMBER_18, "C", 450, "root '1ABC' must be 1-6"),
        ("S P", DECEMBER_18, "C", 450, "root 'S P' must be 1-6"),
        ("SPY", date(1999, 12, 31), "C", 450, "expiry 1999-12-31 must be in 2000-2099"),
        ("SPY", date(2100, 1, 1), "C", 450, "expiry 2100-01-01 must be in 2000-2099"),
        ("SPY", DECEMBER_18, "X", 450, "right 'X' must be C, P, call or put"),
        ("SPY", DECEMBER_18, "calls", 450, "right 'calls' must be"),
        (
            "SPY",
            DECEMBER_18,
            "C",
            12.3456,
            "strike '12.3456' must be a whole number of thousandths",
        ),
        ("SPY", DECEMBER_18, "C", Decimal("12.3456"), "strike '12.3456' must be a whole number"),
        ("SPY", DECEMBER_18, "C", "0.0001", "strike '0.0001' must be a whole number"),
        ("SPY", DECEMBER_18, "C", 0, "strike '0' must be greater than 0 and less than 100000"),
        ("SPY", DECEMBER_18, "C", -5.0, "strike '-5.0' must be greater than 0"),
        ("SPY", DECEMBER_18, "C", 100_000, "strike '100000' must be greater than 0 and less"),
        ("SPY", DECEMBER_18, "C", "abc", "strike 'abc' must be a finite number"),
        ("SPY", DECEMBER_18, "C", float("nan"), "strike 'nan' must be a finite number"),
        ("SPY", DECEMBER_18, "C", float("inf"), "strike 'inf' must be a finite number"),
        ("SPY", DECEMBER_18, "C", Decimal("Infinity"), "strike 'Infinity' must be a finite"),
        ("SPY", DECEMBER_18, "C", True, "strike 'True' must be a finite number"),
    ],
)
def test_build_rejects_a_bad_part_and_names_it(
    root: str,
    expiry: date,
    right: OptionRight | str,
    strike: float | Decimal | str | int,
    message: str,
) -> None:
    with pytest.raises(SymbolError, match="cannot build option symbol: " + message):
        build_option_symbol(root, expiry, right, strike)


def test_float_strike_that_is_not_whole_thousandths_names_the_strike() -> None:
    with pytest.raises(SymbolError, match=r"strike '12\.3456'"):
        build_option_symbol("F", DECEMBER_18, OptionRight.CALL, 12.3456)


@pytest.mark.parametrize(
    ("local_symbol", "message"),
    [
        ("SPY   261318C00450000", "date '261318' is not a valid date"),
        ("S PY  261218C00450000", "spaces are allowed only between the root and the date"),
        ("SPY   261218 C00450000", "spaces are allowed only between the root and the date"),
        ("      261218C00450000", "root '' must be 1-6"),
        ("SPY2612", "too short"),
        ("TOOLONG 261218C00450000", "root 'TOOLONG' must be 1-6"),
    ],
)
def test_from_ib_local_symbol_validates_fully(local_symbol: str, message: str) -> None:
    with pytest.raises(
        SymbolError, match=re.escape(f"IB local symbol {local_symbol!r}: ") + message
    ):
        from_ib_local_symbol(local_symbol)


def test_to_ib_local_symbol_validates() -> None:
    with pytest.raises(SymbolError, match="right 'X' must be C or P"):
        to_ib_local_symbol("SPY261218X00450000")


def test_symbol_error_is_a_value_error_and_an_otrade_error() -> None:
    assert issubclass(SymbolError, ValueError)
    assert issubclass(SymbolError, OTradeError)
    with pytest.raises(ValueError, match="too short"):
        parse_option_symbol("SPY")


@pytest.mark.parametrize(
    "text",
    ["SPY261218C00450000", "spxw261218p05000000", " AAPL1261218C00150000 ", "F261218C00012500"],
)
def test_is_option_symbol_accepts_valid_symbols(text: str) -> None:
    assert is_option_symbol(text)


@pytest.mark.parametrize(
    "text",
    ["", "SPY", "SPY   261218C00450000", "SPY261218X00450000", "SPY261318C00450000", "AAPL"],
)
def test_is_option_symbol_rejects_everything_else(text: str) -> None:
    assert not is_option_symbol(text)


# --- the record -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root", "strike", "message"),
    [
        ("spy", Decimal("450"), "root 'spy' must be upper-case"),
        (" SPY", Decimal("450"), "root ' SPY' must be upper-case"),
        ("SPY", Decimal("0"), "strike '0' must be greater than 0"),
        ("SPY", Decimal("12.3456"), "strike '12.3456' must be a whole number"),
    ],
)
def test_option_symbol_refuses_parts_with_no_canonical_symbol(
    root: str, strike: Decimal, message: str
) -> None:
    with pytest.raises(SymbolError, match=message):
        OptionSymbol(root=root, expiry=DECEMBER_18, right=OptionRight.CALL, strike=strike)


def test_option_symbol_is_frozen() -> None:
    option = parse_option_symbol("SPY261218C00450000")

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        option.strike = Decimal("500")  # type: ignore[misc]
