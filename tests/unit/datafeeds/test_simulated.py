"""The simulated market: listings, determinism, sane quotes and a skewed surface."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from otrade.constants import ExpiryType, OptionRight
from otrade.datafeeds.simulated import SimulatedMarket, expiries_from

START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 10:00 in New York


def test_expiries_include_0dte_weeklies_and_monthlies_moved_off_holidays():
    expiries = dict(expiries_from(date(2026, 12, 2)))
    assert expiries[date(2026, 12, 2)] is ExpiryType.WEEKLY  # 0DTE
    assert expiries[date(2026, 12, 4)] is ExpiryType.WEEKLY
    assert expiries[date(2026, 12, 18)] is ExpiryType.MONTHLY  # third Friday
    assert date(2026, 12, 25) not in expiries  # Christmas: the weekly moves to Thursday
    assert expiries[date(2026, 12, 24)] is ExpiryType.WEEKLY
    assert sum(kind is ExpiryType.MONTHLY for kind in expiries.values()) == 3
    assert date(2026, 12, 5) not in dict(expiries_from(date(2026, 12, 5)))  # Saturday: no 0DTE


def test_listings_cover_every_underlying_expiry_strike_and_right():
    market = SimulatedMarket(["SPY", "QQQ"], START, start_price=450.0)
    options = [c for c in market.listings if c.is_option]
    strikes = sorted({c.strike for c in options})
    assert strikes[0] == 360.0
    assert strikes[-1] == 540.0
    assert strikes[1] - strikes[0] == 5.0
    assert {c.underlying_symbol for c in options} == {"SPY", "QQQ"}
    per_underlying = len(options) // 2
    assert per_underlying == len(expiries_from(date(2026, 12, 2))) * len(strikes) * 2
    assert {c.symbol for c in market.listings if not c.is_option} == {"SPY", "QQQ"}


def test_the_same_seed_and_times_give_the_same_market():
    first = SimulatedMarket(["SPY"], START, seed=11)
    second = SimulatedMarket(["SPY"], START, seed=11)
    other = SimulatedMarket(["SPY"], START, seed=12)
    for minutes in range(1, 30):
        now = START + timedelta(minutes=minutes)
        for market in (first, second, other):
            market.advance(now)
    assert first.prices == second.prices
    assert first.prices != other.prices


def test_quotes_are_two_sided_on_ticks_and_bracket_the_model_price():
    market = SimulatedMarket(["SPY"], START)
    expiry = date(2026, 12, 18)
    options = [c for c in market.listings if c.is_option and c.expiry == expiry]
    expiry_time = datetime(2026, 12, 18, 21, 0, tzinfo=UTC)
    quotes, greeks = market.option_quotes(options, [expiry_time] * len(options))
    assert len(quotes) == len(greeks) == len(options)
    for quote in quotes:
        assert quote.ask is not None
        assert quote.bid is None or 0 < quote.bid < quote.ask
        tick = 0.01 if quote.ask < 3 else 0.05
        assert round(quote.ask / tick, 6) == pytest.approx(round(quote.ask / tick))
    by_symbol = {g.symbol: g for g in greeks}
    atm_call = next(c for c in options if c.strike == 450.0 and c.right is OptionRight.CALL)
    assert 0.45 < by_symbol[atm_call.symbol].delta < 0.6


def test_the_surface_has_put_skew_and_an_upward_term_structure():
    market = SimulatedMarket(["SPY"], START, volatility=0.18)
    strikes = np.array([400.0, 450.0, 500.0])
    short = market.implied_volatility(450.0, strikes, np.array([30 / 365] * 3))
    long = market.implied_volatility(450.0, strikes, np.array([1.0] * 3))
    assert short[0] > short[1]  # downside puts richer than at the money
    assert long[1] > short[1]
    assert np.all(short >= 0.05)
