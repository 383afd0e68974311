"""Sphinx extension: the combo catalogue page, generated from the built-in definitions.

At ``builder-inited`` it writes ``_generated/combo-catalogue.md``: one row per built-in
combo type with its legs (role, right and signed ratio of one LONG unit), its rules, its
description, and a payoff picture.  The picture is the profit at the first expiry of one
LONG unit built from a sample chain (underlying at 100, strikes every 5 from 90 to 110,
two expiries 28 and 63 days out, options priced by Black-Scholes-Merton at 25 %
volatility), drawn as one block character per underlying price from 70 to 130.  The legs
are found by trying sample strikes and expiries until the real
:func:`~otrade.combos.build_combo` accepts them, so every picture is of a combo that
otrade builds.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from otrade.combos import BUILTIN_DEFINITIONS, ComboDefinition, RoleRight, build_combo
from otrade.combos.payoff import payoff_at_expiry
from otrade.constants import Exchange, OptionRight, Product
from otrade.errors import ComboValidationError
from otrade.objects import ContractData
from otrade.portfolio import OptionData, PortfolioData
from otrade.pricing import bsm
from otrade.symbols import build_option_symbol

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SPOT = 100.0
VOLATILITY = 0.25
RATE = 0.04
STRIKES = (90.0, 95.0, 100.0, 105.0, 110.0)
EXPIRIES = (date(2026, 12, 18), date(2027, 1, 22))
PRICES = np.linspace(70.0, 130.0, 31)
BLOCKS = "▁▂▃▄▅▆▇█"


def _sample_portfolio() -> PortfolioData:
    portfolio = PortfolioData("XYZ")
    portfolio.add_contract(
        ContractData(symbol="XYZ", product=Product.EQUITY, exchange=Exchange.SMART)
    )
    for expiry in EXPIRIES:
        for strike in sorted(STRIKES):
            for right in OptionRight:
                portfolio.add_contract(
                    ContractData(
                        symbol=build_option_symbol("XYZ", expiry, right, strike),
                        product=Product.OPTION,
                        exchange=Exchange.SMART,
                        multiplier=100,
                        underlying_symbol="XYZ",
                        root="XYZ",
                        expiry=expiry,
                        strike=strike,
                        right=right,
                    )
                )
    return portfolio


def _candidates(portfolio: PortfolioData, right: RoleRight) -> list[Any]:
    if right is RoleRight.UNDERLYING:
        return [portfolio.underlying]
    found: list[OptionData] = []
    for expiry in EXPIRIES:
        chain = portfolio.find_chain("XYZ", expiry)
        assert chain is not None
        for strike in STRIKES:
            for option_right in OptionRight:
                matches = right is RoleRight.OPTION or right.value == (
                    "call" if option_right is OptionRight.CALL else "put"
                )
                option = chain.get_option(option_right, strike)
                if matches and option is not None:
                    found.append(option)
    return found


def _build(definition: ComboDefinition, portfolio: PortfolioData) -> Any:
    roles = definition.roles
    pools = [_candidates(portfolio, role.right) for role in roles]
    for choice in itertools.product(*pools):
        legs = dict(zip((role.name for role in roles), choice, strict=True))
        try:
            return build_combo(definition.name, legs)
        except ComboValidationError:
            continue
    return None


def _premiums(combo: Any) -> dict[str, float]:
    prices: dict[str, float] = {}
    for leg in combo.legs:
        if leg.is_underlying:
            prices[leg.symbol] = SPOT
            continue
        expiry_moment = datetime.combine(leg.expiry, datetime.min.time(), UTC) + timedelta(hours=21)
        years = (expiry_moment - NOW).total_seconds() / (365.0 * 86400.0)
        is_call = leg.right is OptionRight.CALL
        prices[leg.symbol] = float(
            bsm.price(SPOT, leg.strike, years, RATE, 0.0, VOLATILITY, is_call)
        )
    return prices


def _picture(combo: Any) -> str:
    try:
        values = payoff_at_expiry(combo, PRICES, _premiums(combo), volatility=VOLATILITY, rate=RATE)
    except (ValueError, TypeError):
        return ""
    low, high = float(np.min(values)), float(np.max(values))
    if high - low < 1e-9:
        return BLOCKS[3] * len(PRICES)
    scaled = (np.asarray(values) - low) / (high - low) * (len(BLOCKS) - 1)
    return "".join(BLOCKS[round(value)] for value in scaled)


def _legs(definition: ComboDefinition) -> str:
    parts = []
    for role in definition.roles:
        right = "shares" if role.right is RoleRight.UNDERLYING else role.right.value
        parts.append(f"`{role.name}` {role.ratio:+d} {right}")
    return "<br>".join(parts)


def catalogue() -> str:
    """The Markdown table of every built-in combo type."""
    portfolio = _sample_portfolio()
    lines = [
        "| type | legs of one LONG unit | payoff at the first expiry (S from 70 to 130) "
        "| description |",
        "|---|---|---|---|",
    ]
    for definition in BUILTIN_DEFINITIONS:
        if definition.custom:
            picture = ""
        else:
            combo = _build(definition, portfolio)
            picture = f"`{_picture(combo)}`" if combo is not None else ""
        description = definition.description.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{definition.name}` | {_legs(definition)} | {picture} | {description} |")
    return "\n".join(lines) + "\n"


def _write(app: Any) -> None:
    target = Path(app.srcdir) / "_generated" / "combo-catalogue.md"
    target.parent.mkdir(exist_ok=True)
    text = catalogue()
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def setup(app: Any) -> dict[str, object]:
    """Register the generator with Sphinx."""
    app.connect("builder-inited", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
