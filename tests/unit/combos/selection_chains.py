"""Option chains priced with Black-Scholes for the leg-selection tests.

SPY at 100, strikes every 5 from 70 to 130, calls and puts, two monthly expiries 45 and
73 days out (at :data:`QUOTE_TIME`), flat 25 % volatility, no rate or dividend.  Every
option is quoted 0.05 either side of its model price (bid floored at 0) and carries its
model Greeks, so put-call parity puts the forward at the spot and the ATM strike at the
strike nearest the spot.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from otrade.constants import ExpiryType, OptionRight, Product
from otrade.portfolio import ChainData, PortfolioData
from otrade.pricing import bsm
from tests.fakes.chains import option, underlying

QUOTE_TIME = datetime(2026, 11, 3, 21, 0, tzinfo=UTC)  # 16:00 New York, 45 days out
NEAR = date(2026, 12, 18)
FAR = date(2027, 1, 15)
STRIKES = tuple(float(strike) for strike in range(70, 135, 5))
VOLATILITY = 0.25
HALF_SPREAD = 0.05

CALL = OptionRight.CALL
PUT = OptionRight.PUT


def bsm_portfolio(
    spot: float = 100.0,
    strikes: tuple[float, ...] = STRIKES,
    expiries: tuple[date, ...] = (NEAR, FAR),
    symbol: str = "SPY",
    rights: tuple[OptionRight, ...] = (CALL, PUT),
) -> PortfolioData:
    """A portfolio on ``symbol`` at ``spot`` with a quoted, Greeked chain per expiry."""
    portfolio = PortfolioData(symbol)
    portfolio.add_contract(underlying(symbol, Product.ETF))
    portfolio.underlying.update_quote(spot - 0.01, spot + 0.01, spot, QUOTE_TIME)
    for expiry in expiries:
        for strike in strikes:
            for right in rights:
                portfolio.add_contract(
                    option(symbol, symbol, expiry, right, strike, expiry_type=ExpiryType.MONTHLY)
                )
    for chain in portfolio.sorted_chains():
        price_chain(chain, spot)
    return portfolio


def price_chain(chain: ChainData, spot: float, volatility: float = VOLATILITY) -> None:
    """Quote every option at its BSM price +/- 0.05 and store its BSM Greeks."""
    time_to_expiry = chain.time_to_expiry(QUOTE_TIME)
    for listed in chain.options:
        args = (spot, listed.strike, time_to_expiry, 0.0, 0.0, volatility, listed.is_call)
        value = float(bsm.price(*args))
        greeks = bsm.greeks(*args)
        listed.update_quote(max(value - HALF_SPREAD, 0.0), value + HALF_SPREAD, None, QUOTE_TIME)
        listed.update_greeks(
            volatility,
            float(greeks.delta),
            float(greeks.gamma),
            float(greeks.theta),
            float(greeks.vega),
            source="local",
            time=QUOTE_TIME,
        )


def bsm_chain(spot: float = 100.0, strikes: tuple[float, ...] = STRIKES) -> ChainData:
    """The near chain of :func:`bsm_portfolio`."""
    return near_chain(bsm_portfolio(spot, strikes))


def near_chain(portfolio: PortfolioData) -> ChainData:
    found = portfolio.find_chain(portfolio.symbol, NEAR)
    assert found is not None
    return found


def far_chain(portfolio: PortfolioData) -> ChainData:
    found = portfolio.find_chain(portfolio.symbol, FAR)
    assert found is not None
    return found


def set_call_deltas(chain: ChainData, call_deltas: dict[float, float | None]) -> None:
    """Overwrite deltas by hand: the call's as given, the put's call delta - 1 (None clears)."""
    for strike, delta in call_deltas.items():
        for listed in (chain.calls.get(strike), chain.puts.get(strike)):
            if listed is None:
                continue
            value = None if delta is None else (delta if listed.is_call else delta - 1.0)
            listed.update_greeks(
                listed.iv,
                value,
                listed.gamma,
                listed.theta,
                listed.vega,
                source="local",
                time=QUOTE_TIME,
            )
