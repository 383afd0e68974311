"""Selection helpers and chain analytics of PortfolioData and ChainData."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otrade.constants import ExpiryType, OptionRight
from otrade.portfolio import NEW_YORK, ChainData, PortfolioData, TermStructurePoint
from tests.fakes.chains import option, spx_and_spxw, spy_weeklies

QUOTE_TIME = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
FIRST_EXPIRY = date(2026, 12, 4)
FORWARD = 451.3
HALF_SPREAD = 0.05


def new_york(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def time_value(strike: float) -> float:
    """Extrinsic value, largest at the money: 3.00 at 450, 0.10 less per dollar away."""
    return 3.0 - 0.1 * abs(strike - 450.0)


def smile_iv(strike: float) -> float:
    """0.20 at 450, skewed down and curved up: 0.22 at 445, 0.20 at 455."""
    moneyness = strike - 450.0
    return 0.20 - 0.002 * moneyness + 0.0004 * moneyness**2


def call_delta(strike: float) -> float:
    """1.0 at 440 down to 0.0 at 460; 0.25 at 455, and the put at 445 is -0.25."""
    return (460.0 - strike) / 20.0


def quote_spy(
    forward: float = FORWARD, underlying_price: float = 449.0
) -> tuple[PortfolioData, ChainData]:
    """The SPY weeklies, the first chain quoted so that put-call parity gives ``forward``.

    Call and put mids are intrinsic to ``forward`` plus the same time value, so
    C - P = forward - K at every strike; every option also gets the constructed smile.
    """
    portfolio = PortfolioData("SPY")
    portfolio.add_contracts(spy_weeklies(first_expiry=FIRST_EXPIRY))
    portfolio.underlying.update_quote(
        underlying_price - HALF_SPREAD, underlying_price + HALF_SPREAD, None, QUOTE_TIME
    )
    chain = portfolio.find_chain("SPY", FIRST_EXPIRY)
    assert chain is not None
    for strike, call in chain.calls.items():
        put = chain.puts[strike]
        call_mid = max(forward - strike, 0.0) + time_value(strike)
        put_mid = max(strike - forward, 0.0) + time_value(strike)
        call.update_quote(call_mid - HALF_SPREAD, call_mid + HALF_SPREAD, None, QUOTE_TIME)
        put.update_quote(put_mid - HALF_SPREAD, put_mid + HALF_SPREAD, None, QUOTE_TIME)
        iv = smile_iv(strike)
        delta = call_delta(strike)
        call.update_greeks(iv, delta, 0.04, -0.2, 0.3, source="local", time=QUOTE_TIME)
        put.update_greeks(iv, delta - 1.0, 0.04, -0.2, 0.3, source="local", time=QUOTE_TIME)
    return portfolio, chain


def empty_chain() -> ChainData:
    return ChainData("SPY", FIRST_EXPIRY, "SPY")


def unquoted_chain(strikes: list[float]) -> ChainData:
    chain = empty_chain()
    for strike in strikes:
        chain.add_contract(option("SPY", "SPY", FIRST_EXPIRY, OptionRight.CALL, strike))
    return chain


# --- forward and ATM -------------------------------------------------------------------------


def test_atm_strike_comes_from_the_parity_forward_not_the_underlying_price():
    portfolio, chain = quote_spy(forward=451.3, underlying_price=449.0)

    assert chain.parity_forward() == pytest.approx(451.3)
    assert chain.forward() == pytest.approx(451.3)
    assert chain.atm_strike() == 451.0
    assert portfolio.underlying_price == pytest.approx(449.0)


def test_parity_forward_grows_the_call_minus_put_at_the_rate():
    _, chain = quote_spy(forward=451.3)
    now = datetime(2026, 11, 4, 21, 0, tzinfo=UTC)  # 30 days before the 16:00 EST expiry

    assert chain.time_to_expiry(now) == pytest.approx(30 / 365)
    expected = 451.0 + 0.3 * math.exp(0.05 * 30 / 365)
    assert chain.parity_forward(rate=0.05, now=now) == pytest.approx(expected)


def test_atm_strike_falls_back_on_the_underlying_price_without_both_mids():
    portfolio, chain = quote_spy(forward=451.3, underlying_price=449.2)
    for put in chain.puts.values():
        put.update_quote(None, None, None, QUOTE_TIME)

    assert chain.parity_forward() is None
    assert chain.atm_strike() == 449.0
    assert chain.atm_strike(underlying_price=455.4) == 455.0
    portfolio.underlying.update_quote(None, None, None, QUOTE_TIME)
    assert chain.atm_strike() is None


def test_atm_ties_go_to_the_lower_strike():
    chain = unquoted_chain([450.0, 451.0])
    assert chain.atm_strike(underlying_price=450.5) == 450.0
    assert chain.nearest_strike(450.5) == 450.0
    assert chain.nearest_strike(10.0) == 450.0
    assert chain.nearest_strike(1000.0) == 451.0


# --- strikes around ATM ----------------------------------------------------------------------


def test_strikes_around_atm_are_centred_with_the_extra_strike_above():
    _, chain = quote_spy(forward=451.3)

    assert chain.strikes_around_atm(5) == [449.0, 450.0, 451.0, 452.0, 453.0]
    assert chain.strikes_around_atm(4) == [450.0, 451.0, 452.0, 453.0]
    assert chain.strikes_around_atm(1) == [451.0]


def test_strikes_around_shift_inward_at_the_edges_of_the_chain():
    _, chain = quote_spy()

    assert chain.strikes_around(440.0, 5) == [440.0, 441.0, 442.0, 443.0, 444.0]
    assert chain.strikes_around(300.0, 3) == [440.0, 441.0, 442.0]
    assert chain.strikes_around(459.0, 5) == [456.0, 457.0, 458.0, 459.0, 460.0]
    assert chain.strikes_around(451.0, 50) == [float(strike) for strike in range(440, 461)]
    assert empty_chain().strikes_around(451.0, 3) == []


@given(
    strikes=st.lists(st.integers(1, 4000), min_size=1, max_size=40, unique=True),
    center=st.floats(0.0, 2100.0),
    count=st.integers(1, 60),
)
def test_strikes_around_always_hold_min_count_consecutive_strikes_with_the_nearest(
    strikes: list[int], center: float, count: int
):
    chain = unquoted_chain([strike / 2 for strike in strikes])
    nearest = chain.nearest_strike(center)

    around = chain.strikes_around(center, count)

    assert len(around) == min(count, len(strikes))
    assert nearest in around
    start = chain.strikes.index(around[0])
    assert tuple(around) == chain.strikes[start : start + len(around)]
    below = chain.strikes.index(nearest) - start
    at_an_edge = start == 0 or start + len(around) == len(chain.strikes)
    assert below == (len(around) - 1) // 2 or at_an_edge


@given(forward=st.floats(430.0, 470.0), count=st.integers(1, 30))
def test_strikes_around_atm_always_contain_the_atm_strike(forward: float, count: int):
    _, chain = quote_spy(forward=forward, underlying_price=450.0)
    atm = chain.atm_strike()

    around = chain.strikes_around_atm(count)

    assert around is not None
    assert atm in around
    assert len(around) == min(count, 21)


# --- nearest delta, moneyness, percent OTM, premium ------------------------------------------


def test_nearest_delta_finds_calls_for_positive_and_puts_for_negative_targets():
    _, chain = quote_spy()

    found_call = chain.nearest_delta(0.32)
    found_put = chain.nearest_delta(-0.25)
    assert found_call is not None
    assert found_put is not None
    assert (found_call.right, found_call.strike) == (OptionRight.CALL, 454.0)
    assert (found_put.right, found_put.strike) == (OptionRight.PUT, 445.0)
    restricted = chain.nearest_delta(0.1, OptionRight.PUT)
    assert restricted is not None
    assert (restricted.right, restricted.strike) == (OptionRight.PUT, 440.0)  # delta 0.0


def test_nearest_delta_skips_options_without_a_delta():
    _, chain = quote_spy()
    chain.calls[454.0].update_greeks(None, None, None, None, None, source="local", time=QUOTE_TIME)

    found = chain.nearest_delta(0.31)
    assert found is not None
    assert found.strike == 453.0
    for found_option in chain.options:
        found_option.update_greeks(None, None, None, None, None, source="local", time=QUOTE_TIME)
    assert chain.nearest_delta(0.31) is None


def test_percent_otm_moves_calls_up_and_puts_down_from_the_underlying():
    _, chain = quote_spy(underlying_price=450.0)

    assert _strike(chain.by_percent_otm(2.0, OptionRight.CALL)) == 459.0
    assert _strike(chain.by_percent_otm(2.0, OptionRight.PUT)) == 441.0
    assert _strike(chain.by_percent_otm(2.2, OptionRight.CALL)) == 460.0
    assert _strike(chain.by_percent_otm(2.2, OptionRight.PUT)) == 440.0
    assert _strike(chain.by_percent_otm(-1.2, OptionRight.CALL)) == 445.0
    assert _strike(chain.by_percent_otm(10.0, OptionRight.CALL)) == 460.0
    assert _strike(chain.by_percent_otm(1.0, OptionRight.PUT, underlying_price=452.0)) == 447.0


def test_moneyness_is_strike_over_underlying():
    _, chain = quote_spy(underlying_price=450.4)

    assert _strike(chain.by_moneyness(1.0, OptionRight.CALL)) == 450.0
    assert _strike(chain.by_moneyness(0.98, OptionRight.PUT)) == 441.0
    assert _strike(chain.by_moneyness(1.02, OptionRight.CALL, underlying_price=441.0)) == 450.0


def test_moneyness_only_looks_at_strikes_listed_for_that_right():
    chain = unquoted_chain([440.0, 460.0])
    chain.add_contract(option("SPY", "SPY", FIRST_EXPIRY, OptionRight.PUT, 450.0))

    assert _strike(chain.by_moneyness(1.0, OptionRight.CALL, underlying_price=451.0)) == 460.0
    assert _strike(chain.by_moneyness(1.0, OptionRight.PUT, underlying_price=451.0)) == 450.0


def test_by_premium_finds_the_mid_nearest_the_target():
    _, chain = quote_spy()

    assert _strike(chain.by_premium(2.44, OptionRight.CALL)) == 456.0  # mid 2.40
    assert _strike(chain.by_premium(2.46, OptionRight.CALL)) == 455.0  # mid 2.50
    assert _strike(chain.by_premium(0.0, OptionRight.PUT)) == 440.0  # the cheapest put, 2.00
    assert _strike(chain.by_premium(100.0, OptionRight.PUT)) == 460.0


# --- chains ----------------------------------------------------------------------------------


def test_chains_by_days_keep_live_chains_in_range():
    portfolio, _ = quote_spy()
    tuesday = new_york(2026, 12, 1, 10, 0)

    assert _keys(portfolio.chains_by_days(tuesday, 0, 10)) == ["SPY 2026-12-04", "SPY 2026-12-11"]
    assert _keys(portfolio.chains_by_days(tuesday, 4, 10)) == ["SPY 2026-12-11"]
    assert _keys(portfolio.chains_by_days(tuesday, 30, 60)) == []
    after_close = new_york(2026, 12, 4, 16, 1)
    assert _keys(portfolio.chains_by_days(after_close, 0, 14)) == [
        "SPY 2026-12-11",
        "SPY 2026-12-18",
    ]


def test_zero_dte_chain_is_selected_until_its_close():
    portfolio, _ = quote_spy()
    morning = new_york(2026, 12, 4, 10, 0)

    assert _keys(portfolio.chains_by_days(morning, 0, 0)) == ["SPY 2026-12-04"]
    assert _key(portfolio.nearest_chain(morning, 0)) == "SPY 2026-12-04"
    after_close = new_york(2026, 12, 4, 16, 0)
    assert _key(portfolio.nearest_chain(after_close, 0)) == "SPY 2026-12-11"


def test_nearest_chain_prefers_the_earlier_expiry_then_the_root_in_order():
    portfolio, _ = quote_spy()
    tuesday = new_york(2026, 12, 1, 10, 0)  # 3, 10 and 17 days

    assert _key(portfolio.nearest_chain(tuesday, 9)) == "SPY 2026-12-11"
    assert _key(portfolio.nearest_chain(tuesday, 100)) == "SPY 2026-12-18"
    assert _key(portfolio.nearest_chain(tuesday, 6)) == "SPY 2026-12-04"  # a tie of 3 days
    index = PortfolioData("SPX")
    index.add_contracts(spx_and_spxw())
    assert _key(index.nearest_chain(tuesday, 17)) == "SPX 2026-12-18"
    assert _key(index.nearest_chain(tuesday, 17, root="SPXW")) == "SPXW 2026-12-18"
    assert index.nearest_chain(new_york(2026, 12, 18, 16, 0), 0) is None


def test_chains_by_expiry_type_separate_spx_monthlies_from_spxw():
    portfolio = PortfolioData("SPX")
    portfolio.add_contracts(spx_and_spxw())

    assert _keys(portfolio.chains_by_expiry_type(ExpiryType.MONTHLY)) == ["SPX 2026-12-18"]
    assert _keys(portfolio.chains_by_expiry_type(ExpiryType.WEEKLY)) == ["SPXW 2026-12-18"]
    assert _keys(portfolio.chains_by_expiry_type(ExpiryType.WEEKLY, root="SPX")) == []


# --- analytics -------------------------------------------------------------------------------


def test_atm_iv_interpolates_between_the_strikes_around_the_forward():
    _, chain = quote_spy(forward=451.3)

    # iv(451) = 0.1984, iv(452) = 0.1976; the forward is 0.3 of the way.
    assert chain.atm_iv() == pytest.approx(0.1984 + 0.3 * (0.1976 - 0.1984))


def test_atm_iv_at_a_strike_is_the_mean_of_call_and_put_iv():
    _, chain = quote_spy(forward=450.0)
    chain.calls[450.0].update_greeks(0.21, 0.5, None, None, None, source="local", time=QUOTE_TIME)
    chain.puts[450.0].update_greeks(0.19, -0.5, None, None, None, source="local", time=QUOTE_TIME)

    assert chain.parity_forward() == pytest.approx(450.0)
    assert chain.atm_iv() == pytest.approx(0.20)
    chain.puts[450.0].update_greeks(None, -0.5, None, None, None, source="local", time=QUOTE_TIME)
    assert chain.atm_iv() == pytest.approx(0.21)


def test_iv_at_delta_interpolates_in_delta():
    _, chain = quote_spy()

    assert chain.iv_at_delta(0.25) == pytest.approx(0.20)
    assert chain.iv_at_delta(-0.25) == pytest.approx(0.22)
    # call deltas 0.30 (iv 0.1984 at 454) and 0.25 (iv 0.20 at 455)
    assert chain.iv_at_delta(0.27) == pytest.approx(0.20 + 0.4 * (0.1984 - 0.20))


def test_skew_risk_reversal_and_butterfly_on_the_constructed_smile():
    _, chain = quote_spy(forward=450.0)

    assert chain.atm_iv() == pytest.approx(0.20)
    assert chain.skew() == pytest.approx(0.22 - 0.20)
    assert chain.risk_reversal() == pytest.approx(0.20 - 0.22)
    assert chain.butterfly() == pytest.approx((0.22 + 0.20) / 2 - 0.20)
    # 10-delta wings: call at 458 (iv 0.2096), put at 442 (iv 0.2416)
    assert chain.skew(0.1) == pytest.approx(0.2416 - 0.2096)


def test_term_structure_lists_live_chains_by_expiry_with_their_atm_iv():
    portfolio, _ = quote_spy()
    for number, chain in enumerate(portfolio.sorted_chains()):
        for found in chain.options:
            found.update_greeks(
                0.20 + 0.01 * number, None, None, None, None, source="provider", time=QUOTE_TIME
            )
    tuesday = new_york(2026, 12, 1, 10, 0)

    points = portfolio.term_structure(tuesday)

    assert [(point.expiry, point.days_to_expiry, point.root) for point in points] == [
        (date(2026, 12, 4), 3, "SPY"),
        (date(2026, 12, 11), 10, "SPY"),
        (date(2026, 12, 18), 17, "SPY"),
    ]
    assert [point.atm_iv for point in points] == pytest.approx([0.20, 0.21, 0.22])
    assert isinstance(points[0], TermStructurePoint)
    after_close = new_york(2026, 12, 4, 16, 30)
    assert [point.expiry for point in portfolio.term_structure(after_close)] == [
        date(2026, 12, 11),
        date(2026, 12, 18),
    ]
    assert portfolio.term_structure(tuesday, root="SPXW") == []


# --- missing data and bad arguments ----------------------------------------------------------


def test_missing_data_gives_none_never_an_error():
    chain = empty_chain()
    assert chain.parity_forward() is None
    assert chain.forward() is None
    assert chain.atm_strike() is None
    assert chain.atm_strike(underlying_price=450.0) is None
    assert chain.strikes_around_atm(3) is None
    assert chain.nearest_delta(0.25) is None
    assert chain.by_moneyness(1.0, OptionRight.CALL, underlying_price=450.0) is None
    assert chain.by_percent_otm(5.0, OptionRight.PUT) is None
    assert chain.by_premium(1.0, OptionRight.CALL) is None
    assert chain.iv_at_delta(0.25) is None
    assert chain.atm_iv(underlying_price=450.0) is None
    assert chain.skew() is None
    assert chain.risk_reversal() is None
    assert chain.butterfly(underlying_price=450.0) is None
    assert PortfolioData("SPY").term_structure(QUOTE_TIME) == []
    assert PortfolioData("SPY").nearest_chain(QUOTE_TIME, 7) is None


def test_analytics_give_none_when_ivs_do_not_reach_the_wing_or_the_forward():
    _, chain = quote_spy(forward=450.0)
    for strike in range(440, 447):
        chain.puts[float(strike)].update_greeks(
            None, None, None, None, None, source="local", time=QUOTE_TIME
        )

    assert chain.iv_at_delta(-0.25) is None  # puts only go down to -0.35 now
    assert chain.skew() is None
    assert chain.butterfly() is None
    assert chain.risk_reversal() is None
    assert chain.atm_iv(underlying_price=500.0) is not None  # parity still says 450
    assert empty_chain().by_percent_otm(5.0, OptionRight.CALL, underlying_price=450.0) is None


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda chain: chain.strikes_around(450.0, 0), "count"),
        (lambda chain: chain.strikes_around_atm(-1), "count"),
        (lambda chain: chain.nearest_delta(1.5), "target_delta"),
        (lambda chain: chain.by_moneyness(0.0, OptionRight.CALL), "moneyness"),
        (lambda chain: chain.by_percent_otm(100.0, OptionRight.PUT), "otm_pct"),
        (lambda chain: chain.by_premium(-1.0, OptionRight.CALL), "premium"),
        (lambda chain: chain.iv_at_delta(0.0), "delta"),
        (lambda chain: chain.iv_at_delta(-1.0), "delta"),
        (lambda chain: chain.skew(1.0), "delta"),
        (lambda chain: chain.butterfly(-0.25), "delta"),
        (lambda chain: chain.parity_forward(rate=0.05), "now"),
        (lambda chain: chain.atm_strike(rate=math.nan), "rate"),
        (lambda chain: chain.atm_strike(underlying_price=-1.0), "underlying_price"),
        (lambda chain: chain.by_percent_otm(1.0, OptionRight.CALL, 0.0), "underlying_price"),
        (lambda chain: chain.parity_forward(0.05, datetime(2026, 12, 1)), "now"),
    ],
)
def test_bad_chain_arguments_raise_value_error_naming_them(call, name):
    _, chain = quote_spy()
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call(chain)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda portfolio: portfolio.chains_by_days(QUOTE_TIME, -1, 5), "min_days"),
        (lambda portfolio: portfolio.chains_by_days(QUOTE_TIME, 5, 4), "max_days"),
        (lambda portfolio: portfolio.nearest_chain(QUOTE_TIME, -3), "target_days"),
        (lambda portfolio: portfolio.term_structure(QUOTE_TIME, rate=math.inf), "rate"),
        (lambda portfolio: portfolio.live_chains(datetime(2026, 12, 1)), "now"),
    ],
)
def test_bad_portfolio_arguments_raise_value_error_naming_them(call, name):
    portfolio, _ = quote_spy()
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call(portfolio)


def _strike(found: object) -> float | None:
    return getattr(found, "strike", None)


def _key(chain: ChainData | None) -> str | None:
    return None if chain is None else chain.key


def _keys(chains: list[ChainData]) -> list[str]:
    return [chain.key for chain in chains]
