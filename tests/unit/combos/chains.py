"""A generated option chain for combo tests: three expiries, strikes every 5 around 100."""

from __future__ import annotations

from datetime import date

from otrade.constants import OptionRight, Product
from otrade.portfolio import OptionData, PortfolioData, UnderlyingData, chain_key
from tests.fakes.chains import option, underlying

NEAR = date(2026, 12, 18)
MIDDLE = date(2027, 1, 15)
FAR = date(2027, 2, 19)
EXPIRIES = (NEAR, MIDDLE, FAR)
STRIKES = tuple(float(strike) for strike in range(80, 125, 5))

CALL = OptionRight.CALL
PUT = OptionRight.PUT


class Chain:
    """A portfolio of one underlying with calls and puts at every strike and expiry."""

    def __init__(self, symbol: str = "SPY", root: str | None = None) -> None:
        self.symbol = symbol
        self.root = root or symbol
        self.portfolio = PortfolioData(symbol)
        self.portfolio.add_contract(underlying(symbol, Product.ETF))
        for expiry in EXPIRIES:
            for strike in STRIKES:
                for right in OptionRight:
                    self.portfolio.add_contract(option(symbol, self.root, expiry, right, strike))

    @property
    def underlying(self) -> UnderlyingData:
        return self.portfolio.underlying

    def option(self, right: OptionRight, strike: float, expiry: date = NEAR) -> OptionData:
        chain = self.portfolio.get_chain(chain_key(self.root, expiry))
        assert chain is not None
        found = chain.get_option(right, strike)
        assert found is not None, (right, strike, expiry)
        return found

    def call(self, strike: float, expiry: date = NEAR) -> OptionData:
        return self.option(CALL, strike, expiry)

    def put(self, strike: float, expiry: date = NEAR) -> OptionData:
        return self.option(PUT, strike, expiry)
