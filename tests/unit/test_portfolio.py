"""PortfolioData, ChainData, OptionData: building, routing, time to expiry and arrays."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import attrs
import numpy as np
import pytest

from otrade.constants import Exchange, ExpiryType, OptionRight, Product
from otrade.objects import ContractData
from otrade.portfolio import (
    NEW_YORK,
    ChainData,
    OptionData,
    PortfolioData,
    Settlement,
    UnderlyingData,
    chain_key,
    load_exchange_calendar,
)
from tests.fakes.chains import (
    adjusted_aapl,
    option,
    sample_listings,
    spx_and_spxw,
    spy_weeklies,
    underlying,
)

HOUR_IN_YEARS = 1 / (365 * 24)
QUOTE_TIME = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def new_york(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A New York wall-clock time as the aware UTC datetime a clock would return."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def portfolios_from(contracts: list[ContractData]) -> dict[str, PortfolioData]:
    """What the MarketDataEngine does with contract events: one portfolio per underlying."""
    portfolios: dict[str, PortfolioData] = {}
    for contract in contracts:
        symbol = contract.underlying_symbol if contract.is_option else contract.symbol
        portfolio = portfolios.setdefault(symbol, PortfolioData(symbol))
        portfolio.add_contract(contract)
    return portfolios


def spy_chain(expiry: date, strikes: range = range(440, 461)) -> ChainData:
    """A lone SPY chain (weekly, PM-settled) on ``expiry``."""
    portfolio = PortfolioData("SPY")
    for strike in strikes:
        for right in OptionRight:
            portfolio.add_contract(option("SPY", "SPY", expiry, right, float(strike)))
    chain = portfolio.find_chain("SPY", expiry)
    assert chain is not None
    return chain


# --- building and routing ------------------------------------------------------------------


def test_sample_listings_route_to_one_portfolio_per_underlying_and_one_chain_per_root():
    portfolios = portfolios_from(sample_listings())

    assert sorted(portfolios) == ["AAPL", "SPX", "SPY"]
    assert sorted(portfolios["SPX"].chains) == ["SPX 2026-12-18", "SPXW 2026-12-18"]
    assert sorted(portfolios["AAPL"].chains) == ["AAPL 2026-12-18", "AAPL1 2026-12-18"]
    assert sorted(portfolios["SPY"].chains) == [
        "SPY 2026-12-04",
        "SPY 2026-12-11",
        "SPY 2026-12-18",
    ]
    assert portfolios["SPX"].option_count == 8
    assert portfolios["SPY"].option_count == 3 * 21 * 2


def test_spx_monthly_is_am_settled_and_spxw_is_pm_settled_on_the_same_date():
    portfolio = portfolios_from(spx_and_spxw())["SPX"]
    monthly = portfolio.get_chain("SPX 2026-12-18")
    weekly = portfolio.find_chain("SPXW", date(2026, 12, 18))

    assert monthly is not None
    assert weekly is not None
    assert monthly.settlement is Settlement.AM
    assert monthly.expiry_type is ExpiryType.MONTHLY
    assert monthly.last_trade_date == date(2026, 12, 17)
    assert weekly.settlement is Settlement.PM
    assert weekly.expiry_type is ExpiryType.WEEKLY
    assert sorted(monthly.calls) == [5000.0, 5050.0]
    assert monthly.calls[5000.0] is not weekly.calls[5000.0]
    assert monthly.calls[5000.0].symbol.startswith("SPX2")
    assert weekly.calls[5000.0].symbol.startswith("SPXW")


def test_adjusted_root_is_its_own_chain_with_its_own_option():
    aapl, aapl1 = adjusted_aapl()
    portfolio = portfolios_from([aapl, aapl1])["AAPL"]

    standard = portfolio.get_option(aapl.symbol)
    adjusted = portfolio.get_option(aapl1.symbol)
    assert standard is not None
    assert adjusted is not None
    assert standard.chain.key == "AAPL 2026-12-18"
    assert adjusted.chain.key == "AAPL1 2026-12-18"
    assert adjusted.contract is aapl1
    assert (adjusted.right, adjusted.strike, adjusted.expiry) == (
        OptionRight.CALL,
        150.0,
        date(2026, 12, 18),
    )


def test_get_option_finds_every_option_by_symbol_with_its_fields():
    contracts = spy_weeklies()
    portfolio = portfolios_from(contracts)["SPY"]

    for contract in contracts:
        found = portfolio.get_option(contract.symbol)
        assert found is not None
        assert found.contract is contract
        assert (found.right, found.strike, found.expiry, found.multiplier) == (
            contract.right,
            contract.strike,
            contract.expiry,
            100,
        )
        assert found.chain is portfolio.find_chain("SPY", contract.expiry)  # type: ignore[arg-type]
        assert found.is_call is (contract.right is OptionRight.CALL)
    assert portfolio.get_option("SPY261204C00999000") is None


def test_underlying_contract_goes_to_the_underlying():
    portfolio = PortfolioData("SPX")
    index = underlying("SPX", Product.INDEX)

    assert portfolio.underlying.contract is None
    result = portfolio.add_contract(index)

    assert result is portfolio.underlying
    assert isinstance(result, UnderlyingData)
    assert portfolio.underlying.contract is index
    assert portfolio.chains == {}


def test_an_option_on_another_underlying_is_refused_naming_the_field():
    portfolio = PortfolioData("SPY")
    with pytest.raises(ValueError, match="underlying_symbol 'SPX'"):
        portfolio.add_contract(spx_and_spxw()[0])
    with pytest.raises(ValueError, match="'QQQ'"):
        portfolio.add_contract(underlying("QQQ"))
    assert portfolio.option_count == 0


def test_adding_an_option_again_refreshes_the_listing_and_keeps_its_quote():
    contract = spy_weeklies(weeks=1, strikes=range(450, 451))[0]
    portfolio = PortfolioData("SPY")
    first = portfolio.add_contract(contract)
    assert isinstance(first, OptionData)
    first.update_quote(1.0, 1.2, 1.1, QUOTE_TIME)
    refreshed = attrs.evolve(contract, broker_id="123456")

    again = portfolio.add_contract(refreshed)

    assert again is first
    assert first.contract is refreshed
    assert first.mid == pytest.approx(1.1)
    assert portfolio.option_count == 1


def test_a_second_symbol_on_the_same_right_and_strike_is_refused():
    expiry = date(2026, 12, 4)
    chain = ChainData("SPY", expiry, "SPY")
    chain.add_contract(option("SPY", "SPY", expiry, OptionRight.PUT, 450.0))
    impostor = attrs.evolve(option("SPY", "SPY", expiry, OptionRight.PUT, 450.0), symbol="X")
    with pytest.raises(ValueError, match=r"put 450\.0 of chain 'SPY 2026-12-04'"):
        chain.add_contract(impostor)


def test_a_chain_refuses_an_option_of_another_root_or_expiry():
    chain = ChainData("SPXW", date(2026, 12, 18), "SPX")
    monthly = spx_and_spxw()[0]
    with pytest.raises(ValueError, match="not an option of chain 'SPXW 2026-12-18'"):
        chain.add_contract(monthly)
    with pytest.raises(ValueError, match="not an option"):
        ChainData.from_contract(underlying("SPX", Product.INDEX))


def test_chain_key_is_root_and_iso_date_and_views_are_read_only():
    portfolio = portfolios_from(spx_and_spxw())["SPX"]
    chain = portfolio.chains["SPXW 2026-12-18"]

    assert chain_key("SPXW", date(2026, 12, 18)) == chain.key == "SPXW 2026-12-18"
    with pytest.raises(TypeError):
        portfolio.chains["X"] = chain  # type: ignore[index]
    with pytest.raises(TypeError):
        chain.calls[1.0] = chain.calls[5000.0]  # type: ignore[index]
    assert [found.key for found in portfolio.sorted_chains()] == [
        "SPX 2026-12-18",
        "SPXW 2026-12-18",
    ]


def test_remove_chain_drops_the_chain_and_its_options():
    portfolio = portfolios_from(spy_weeklies())["SPY"]
    chain = portfolio.get_chain("SPY 2026-12-04")
    assert chain is not None
    symbol = chain.options[0].symbol

    assert portfolio.remove_chain("SPY 2026-12-04") is chain
    assert portfolio.get_chain("SPY 2026-12-04") is None
    assert portfolio.find_chain("SPY", date(2026, 12, 4)) is None
    assert portfolio.get_option(symbol) is None
    assert portfolio.option_count == 2 * 21 * 2
    assert [found.key for found in portfolio.sorted_chains()] == [
        "SPY 2026-12-11",
        "SPY 2026-12-18",
    ]
    assert portfolio.remove_chain("SPY 2026-12-04") is None


def test_strikes_are_sorted_lazily_on_first_read_not_on_every_add():
    expiry = date(2026, 12, 4)
    strikes = [float(strike) for strike in range(400, 500)]
    random.Random(7).shuffle(strikes)
    chain = ChainData("SPY", expiry, "SPY")

    for strike in strikes:
        chain.add_contract(option("SPY", "SPY", expiry, OptionRight.PUT, strike))
        assert chain._dirty  # no sort happens while adding
    assert chain._strikes == ()

    assert chain.strikes == tuple(sorted(strikes))
    assert not chain._dirty
    chain.add_contract(option("SPY", "SPY", expiry, OptionRight.CALL, 450.5))
    assert chain._dirty
    assert chain.strikes[50:53] == (450.0, 450.5, 451.0)


def test_options_run_by_strike_with_the_call_before_the_put():
    expiry = date(2026, 12, 4)
    chain = ChainData("SPY", expiry, "SPY")
    for right, strike in [
        (OptionRight.PUT, 452.0),
        (OptionRight.CALL, 451.0),
        (OptionRight.PUT, 450.0),
        (OptionRight.CALL, 452.0),
        (OptionRight.CALL, 450.0),
    ]:
        chain.add_contract(option("SPY", "SPY", expiry, right, strike))

    assert [(found.strike, found.right.value) for found in chain.options] == [
        (450.0, "C"),
        (450.0, "P"),
        (451.0, "C"),
        (452.0, "C"),
        (452.0, "P"),
    ]
    assert len(chain) == 5
    assert chain.get_option(OptionRight.PUT, 451.0) is None
    assert chain.get_option(OptionRight.CALL, 451) is chain.calls[451.0]


def test_chain_takes_expiry_type_and_last_trade_date_from_the_first_listing_that_knows():
    expiry = date(2026, 12, 18)
    chain = ChainData("SPX", expiry, "SPX")
    assert (chain.expiry_type, chain.settlement) == (ExpiryType.UNKNOWN, Settlement.PM)

    chain.add_contract(spx_and_spxw(expiry)[0])

    assert chain.expiry_type is ExpiryType.MONTHLY
    assert chain.settlement is Settlement.AM
    assert chain.expiry_time == new_york(2026, 12, 18, 9, 30)


def test_two_hundred_thousand_contracts_build_a_correct_portfolio():
    first_expiry = date(2027, 1, 4)
    expiries = [first_expiry + timedelta(days=day) for day in range(100)]
    strikes = [100.0 + 0.5 * step for step in range(1000)]
    contracts = [
        ContractData(
            symbol=f"XYZ{expiry:%y%m%d}{right.value}{round(strike * 1000):08d}",
            product=Product.OPTION,
            exchange=Exchange.SMART,
            multiplier=100,
            underlying_symbol="XYZ",
            root="XYZ",
            expiry=expiry,
            strike=strike,
            right=right,
        )
        for expiry in expiries
        for strike in reversed(strikes)
        for right in OptionRight
    ]
    portfolio = PortfolioData("XYZ")

    assert portfolio.add_contracts(contracts) == 200_000

    assert portfolio.option_count == 200_000
    assert len(portfolio.chains) == 100
    assert [chain.expiry for chain in portfolio.sorted_chains()] == expiries
    for chain in portfolio.chains.values():
        assert chain.strikes == tuple(strikes)
        assert len(chain) == 2000
    last = contracts[-1]
    found = portfolio.get_option(last.symbol)
    assert found is not None
    assert (found.strike, found.right, found.expiry) == (100.0, OptionRight.PUT, expiries[-1])


# --- quotes and Greeks -----------------------------------------------------------------------


def test_quotes_and_greeks_start_unset_and_update_with_nan_as_none():
    chain = spy_chain(date(2026, 12, 4))
    call = chain.calls[450.0]
    assert (call.bid, call.ask, call.last, call.mid, call.quote_time) == (None,) * 5
    assert (call.iv, call.delta, call.greeks_source, call.greeks_time) == (None,) * 4

    call.update_quote(2.0, 2.2, math.nan, QUOTE_TIME)
    call.update_greeks(0.2, 0.5, 0.05, -0.3, 0.25, source="provider", time=QUOTE_TIME)

    assert call.mid == pytest.approx(2.1)
    assert call.last is None
    assert call.quote_time == QUOTE_TIME
    assert (call.iv, call.delta, call.gamma, call.theta, call.vega) == (0.2, 0.5, 0.05, -0.3, 0.25)
    assert call.greeks_source == "provider"

    call.update_greeks(math.nan, None, None, None, None, source="local", time=QUOTE_TIME)
    assert call.iv is None
    assert call.greeks_source == "local"


def test_a_one_sided_or_crossed_quote_has_no_mid():
    underlying_data = UnderlyingData("SPX")
    underlying_data.update_quote(None, None, 5012.5, QUOTE_TIME)
    assert underlying_data.mid is None
    assert underlying_data.price == 5012.5

    underlying_data.update_quote(5013.0, 5012.0, 5012.5, QUOTE_TIME)
    assert underlying_data.mid is None

    underlying_data.update_quote(5012.0, 5013.0, 5012.5, QUOTE_TIME)
    assert underlying_data.price == 5012.5
    assert underlying_data.mid == 5012.5


def test_update_methods_refuse_a_naive_time_and_an_unknown_source():
    call = spy_chain(date(2026, 12, 4)).calls[450.0]
    with pytest.raises(ValueError, match="time must be timezone-aware"):
        call.update_quote(1.0, 1.1, None, datetime(2026, 12, 1, 10, 0))
    with pytest.raises(ValueError, match="source must be 'local' or 'provider'"):
        call.update_greeks(0.2, 0.5, 0.0, 0.0, 0.0, source="tradier", time=QUOTE_TIME)  # type: ignore[arg-type]
    assert call.quote_time is None
    assert call.greeks_source is None


def test_quote_arrays_follow_the_options_order_with_nan_for_missing_prices():
    chain = spy_chain(date(2026, 12, 4), strikes=range(450, 452))
    chain.calls[450.0].update_quote(2.0, 2.2, 2.1, QUOTE_TIME)
    chain.puts[451.0].update_quote(1.5, None, None, QUOTE_TIME)

    arrays = chain.quote_arrays()

    np.testing.assert_array_equal(arrays.strikes, [450.0, 450.0, 451.0, 451.0])
    np.testing.assert_array_equal(arrays.is_call, [True, False, True, False])
    np.testing.assert_allclose(arrays.mids, [2.1, np.nan, np.nan, np.nan])
    np.testing.assert_allclose(arrays.bids, [2.0, np.nan, np.nan, 1.5])
    np.testing.assert_allclose(arrays.asks, [2.2, np.nan, np.nan, np.nan])
    np.testing.assert_allclose(arrays.lasts, [2.1, np.nan, np.nan, np.nan])
    assert arrays.strikes.dtype == np.float64
    assert arrays.is_call.dtype == np.bool_


def test_apply_greeks_writes_every_option_in_one_call_and_greek_arrays_read_them_back():
    chain = spy_chain(date(2026, 12, 4), strikes=range(450, 452))
    iv = np.array([0.20, 0.21, np.nan, 0.19])
    delta = np.array([0.55, -0.45, np.nan, -0.55])
    gamma = np.full(4, 0.04)
    theta = np.full(4, -0.2)
    vega = np.full(4, 0.3)

    chain.apply_greeks(iv, delta, gamma, theta, vega, source="local", time=QUOTE_TIME)

    assert chain.puts[450.0].iv == 0.21
    assert chain.puts[450.0].delta == -0.45
    assert chain.calls[451.0].iv is None
    assert chain.calls[451.0].greeks_source == "local"
    assert chain.calls[451.0].greeks_time == QUOTE_TIME
    arrays = chain.greek_arrays()
    np.testing.assert_allclose(arrays.iv, iv)
    np.testing.assert_allclose(arrays.delta, delta)
    np.testing.assert_allclose(arrays.vega, vega)


def test_apply_greeks_refuses_arrays_of_the_wrong_length_and_writes_nothing():
    chain = spy_chain(date(2026, 12, 4), strikes=range(450, 452))
    good = np.zeros(4)
    with pytest.raises(ValueError, match="delta has 3 values, chain 'SPY 2026-12-04' has 4"):
        chain.apply_greeks(good, np.zeros(3), good, good, good, source="local", time=QUOTE_TIME)
    assert all(found.iv is None for found in chain.options)


# --- time to expiry --------------------------------------------------------------------------


def test_zero_dte_chain_at_ten_in_new_york_has_zero_days_and_six_hours():
    chain = spy_chain(date(2026, 12, 4))
    now = new_york(2026, 12, 4, 10, 0)

    assert chain.days_to_expiry(now) == 0
    assert chain.trading_days_to_expiry(now) == 0
    assert chain.time_to_expiry(now) == pytest.approx(6 * HOUR_IN_YEARS)
    assert chain.expiry_time == new_york(2026, 12, 4, 16, 0)
    assert not chain.is_expired(now)


def test_spx_am_and_spxw_pm_on_the_same_date_differ_by_six_and_a_half_hours():
    portfolio = portfolios_from(spx_and_spxw())["SPX"]
    monthly = portfolio.chains["SPX 2026-12-18"]
    weekly = portfolio.chains["SPXW 2026-12-18"]
    now = new_york(2026, 12, 14, 10, 0)

    assert monthly.expiry_time == datetime(2026, 12, 18, 14, 30, tzinfo=UTC)
    assert weekly.expiry_time == datetime(2026, 12, 18, 21, 0, tzinfo=UTC)
    difference = weekly.time_to_expiry(now) - monthly.time_to_expiry(now)
    assert difference == pytest.approx(6.5 * HOUR_IN_YEARS)
    assert monthly.days_to_expiry(now) == weekly.days_to_expiry(now) == 4
    assert monthly.trading_days_to_expiry(now) == weekly.trading_days_to_expiry(now) == 4


def test_am_settled_chain_is_expired_after_the_opening_on_its_expiry_day():
    monthly = portfolios_from(spx_and_spxw())["SPX"].chains["SPX 2026-12-18"]
    before_open = new_york(2026, 12, 18, 9, 0)
    after_open = new_york(2026, 12, 18, 10, 0)

    assert monthly.time_to_expiry(before_open) == pytest.approx(0.5 * HOUR_IN_YEARS)
    assert monthly.days_to_expiry(after_open) == 0
    assert monthly.time_to_expiry(after_open) == 0.0
    assert monthly.is_expired(after_open)


def test_time_to_expiry_is_never_negative_and_days_go_negative_after_expiry():
    chain = spy_chain(date(2026, 12, 4))
    after_close = new_york(2026, 12, 4, 16, 30)
    next_monday = new_york(2026, 12, 7, 10, 0)

    assert chain.time_to_expiry(after_close) == 0.0
    assert chain.is_expired(after_close)
    assert chain.days_to_expiry(after_close) == 0
    assert chain.days_to_expiry(next_monday) == -3
    assert chain.trading_days_to_expiry(next_monday) == -1


def test_weekends_and_christmas_are_not_trading_days():
    chain = spy_chain(date(2026, 12, 28))  # a Monday

    wednesday = new_york(2026, 12, 23, 12, 0)
    assert chain.days_to_expiry(wednesday) == 5
    assert chain.trading_days_to_expiry(wednesday) == 2  # Thursday 24th and Monday 28th
    christmas = new_york(2026, 12, 25, 12, 0)
    assert chain.trading_days_to_expiry(christmas) == 1
    saturday = new_york(2026, 12, 26, 12, 0)
    assert chain.days_to_expiry(saturday) == 2
    assert chain.trading_days_to_expiry(saturday) == 1

    friday_chain = spy_chain(date(2026, 12, 11))
    assert friday_chain.trading_days_to_expiry(new_york(2026, 12, 4, 15, 0)) == 5
    assert friday_chain.days_to_expiry(new_york(2026, 12, 4, 15, 0)) == 7


def test_pm_expiry_on_a_half_day_is_the_one_o_clock_close():
    chain = spy_chain(date(2026, 11, 27))  # the Friday after Thanksgiving

    assert chain.expiry_time == new_york(2026, 11, 27, 13, 0)
    assert chain.time_to_expiry(new_york(2026, 11, 27, 10, 0)) == pytest.approx(3 * HOUR_IN_YEARS)
    thanksgiving = new_york(2026, 11, 26, 12, 0)
    assert chain.trading_days_to_expiry(thanksgiving) == 1
    assert chain.days_to_expiry(thanksgiving) == 1


def test_pm_expiry_on_a_day_without_a_session_falls_back_to_four_in_new_york():
    chain = spy_chain(date(2026, 12, 25))
    assert chain.expiry_time == new_york(2026, 12, 25, 16, 0)


def test_march_clock_change_makes_the_weekend_an_hour_shorter():
    chain = spy_chain(date(2026, 3, 9))  # Monday after the switch to daylight time (8 March)
    friday_close = new_york(2026, 3, 6, 16, 0)

    assert friday_close == datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
    assert chain.expiry_time == datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    assert chain.time_to_expiry(friday_close) == pytest.approx(71 * HOUR_IN_YEARS)
    assert chain.days_to_expiry(friday_close) == 3
    assert chain.trading_days_to_expiry(friday_close) == 1


def test_november_clock_change_makes_the_weekend_an_hour_longer():
    chain = spy_chain(date(2026, 11, 2))  # Monday after the switch to standard time (1 Nov)
    friday_close = new_york(2026, 10, 30, 16, 0)

    assert friday_close == datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    assert chain.expiry_time == datetime(2026, 11, 2, 21, 0, tzinfo=UTC)
    assert chain.time_to_expiry(friday_close) == pytest.approx(73 * HOUR_IN_YEARS)


def test_days_are_counted_in_new_york_not_in_utc():
    chain = spy_chain(date(2026, 12, 4))
    late_thursday = new_york(2026, 12, 3, 21, 0)  # already Friday 02:00 in UTC

    assert late_thursday.date() == date(2026, 12, 4)
    assert chain.days_to_expiry(late_thursday) == 1
    assert chain.trading_days_to_expiry(late_thursday) == 1


def test_time_methods_refuse_a_naive_now():
    chain = spy_chain(date(2026, 12, 4))
    naive = datetime(2026, 12, 4, 10, 0)
    for method in (
        chain.days_to_expiry,
        chain.trading_days_to_expiry,
        chain.time_to_expiry,
        chain.is_expired,
    ):
        with pytest.raises(ValueError, match="now must be timezone-aware"):
            method(naive)


def test_dates_outside_the_calendar_are_refused_naming_the_date():
    chain = spy_chain(date(2026, 12, 4))
    load_exchange_calendar()
    with pytest.raises(ValueError, match="date 1999-12-31 is outside the XNYS calendar"):
        chain.trading_days_to_expiry(new_york(1999, 12, 31, 12, 0))
