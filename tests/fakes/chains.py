"""Small realistic option listings: SPY weeklies, SPX monthlies beside SPXW, an adjusted root."""

from __future__ import annotations

from datetime import date, timedelta

from otrade.constants import Exchange, ExpiryType, OptionRight, Product
from otrade.objects import ContractData
from otrade.symbols import build_option_symbol


def underlying(
    symbol: str, product: Product = Product.ETF, gateway_name: str = "ib"
) -> ContractData:
    exchange = Exchange.CBOE if product is Product.INDEX else Exchange.SMART
    return ContractData(
        symbol=symbol, product=product, exchange=exchange, gateway_name=gateway_name
    )


def option(
    underlying_symbol: str,
    root: str,
    expiry: date,
    right: OptionRight,
    strike: float,
    *,
    last_trade_date: date | None = None,
    expiry_type: ExpiryType = ExpiryType.WEEKLY,
    gateway_name: str = "ib",
    broker_id: str = "",
) -> ContractData:
    return ContractData(
        symbol=build_option_symbol(root, expiry, right, strike),
        product=Product.OPTION,
        exchange=Exchange.SMART,
        gateway_name=gateway_name,
        multiplier=100,
        underlying_symbol=underlying_symbol,
        root=root,
        expiry=expiry,
        last_trade_date=last_trade_date,
        strike=strike,
        right=right,
        expiry_type=expiry_type,
        broker_id=broker_id,
    )


def spy_weeklies(
    first_expiry: date = date(2026, 12, 4), weeks: int = 3, strikes: range = range(440, 461)
) -> list[ContractData]:
    """SPY: ``weeks`` weekly expiries, calls and puts at whole-dollar strikes."""
    return [
        option("SPY", "SPY", first_expiry + timedelta(weeks=week), right, float(strike))
        for week in range(weeks)
        for strike in strikes
        for right in OptionRight
    ]


def spx_and_spxw(expiry: date = date(2026, 12, 18)) -> list[ContractData]:
    """SPX (AM-settled monthly, last trade the day before) and SPXW (PM) on the same date."""
    monthly = [
        option(
            "SPX",
            "SPX",
            expiry,
            right,
            float(strike),
            last_trade_date=expiry - timedelta(days=1),
            expiry_type=ExpiryType.MONTHLY,
        )
        for strike in (5000, 5050)
        for right in OptionRight
    ]
    weekly = [
        option("SPX", "SPXW", expiry, right, float(strike), last_trade_date=expiry)
        for strike in (5000, 5050)
        for right in OptionRight
    ]
    return monthly + weekly


def adjusted_aapl(expiry: date = date(2026, 12, 18)) -> list[ContractData]:
    """An adjusted root (AAPL1) beside the standard AAPL root, same strike and date."""
    return [
        option("AAPL", "AAPL", expiry, OptionRight.CALL, 150.0, expiry_type=ExpiryType.MONTHLY),
        option("AAPL", "AAPL1", expiry, OptionRight.CALL, 150.0, expiry_type=ExpiryType.MONTHLY),
    ]


def sample_listings() -> list[ContractData]:
    """Underlyings first, then all three families of options."""
    return [
        underlying("SPY"),
        underlying("SPX", Product.INDEX),
        underlying("AAPL", Product.EQUITY),
        *spy_weeklies(),
        *spx_and_spxw(),
        *adjusted_aapl(),
    ]
