"""Payoff analytics: hand-computed combos, the model value and properties of the payoff."""

from __future__ import annotations

import math
import sys
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otrade.combos.combo import Combo, ComboLeg
from otrade.combos.payoff import (
    PayoffAnalysis,
    analyze_payoff,
    combo_value,
    expiry_moment,
    first_expiry,
    is_single_expiry,
    net_premium,
    payoff_at,
    payoff_at_expiry,
    plot_payoff,
    probability_of_profit,
    years_to_expiry,
)
from otrade.constants import Direction, OptionRight
from otrade.portfolio import NEW_YORK

CALL, PUT = OptionRight.CALL, OptionRight.PUT
EXPIRY = date(2026, 12, 18)
NEAR_EXPIRY = date(2026, 11, 20)  # 28 days before EXPIRY, both in EST
NOW = datetime(2026, 11, 1, 10, 0, tzinfo=NEW_YORK)
STOCK_SYMBOL = "XYZ"
CENT = 1e-6  # the figures below are exact; this only absorbs float rounding


def option(right: OptionRight, strike: float, ratio: int, expiry: date = EXPIRY) -> ComboLeg:
    """An XYZ option leg with its OCC symbol."""
    symbol = f"XYZ   {expiry:%y%m%d}{right.value}{round(strike * 1000):08d}"
    side = "long" if ratio > 0 else "short"
    role = f"{side}_{right.name.lower()}_{strike:g}_{expiry:%m%d}"
    return ComboLeg(
        role=role,
        symbol=symbol,
        right=right,
        strike=strike,
        expiry=expiry,
        root="XYZ",
        ratio=ratio,
        multiplier=100,
    )


def stock(ratio: int) -> ComboLeg:
    """An XYZ stock leg of ``ratio`` shares."""
    return ComboLeg(
        role="stock",
        symbol=STOCK_SYMBOL,
        right=None,
        strike=None,
        expiry=None,
        root="",
        ratio=ratio,
    )


def combo(type_name: str, legs: list[ComboLeg], volume: int = 1) -> Combo:
    return Combo(
        type_name=type_name,
        direction=Direction.LONG,
        volume=volume,
        underlying="XYZ",
        legs=tuple(legs),
    )


def priced(
    legs_and_prices: list[tuple[ComboLeg, float]],
) -> tuple[list[ComboLeg], dict[str, float]]:
    return [leg for leg, _ in legs_and_prices], {leg.symbol: p for leg, p in legs_and_prices}


def normal_cdf(value: float) -> float:
    return 0.5 * (1.0 + math.erf(value / math.sqrt(2.0)))


def reference_call(spot: float, strike: float, years: float, volatility: float) -> float:
    """Black-Scholes call at zero rate and yield, from math.erf (independent of bsm)."""
    total = volatility * math.sqrt(years)
    d1 = math.log(spot / strike) / total + 0.5 * total
    return spot * normal_cdf(d1) - strike * normal_cdf(d1 - total)


# --- hand-computed combos ----------------------------------------------------------------
#
# Each case: legs with prices per share, then per combo unit: net premium in dollars,
# max profit, max loss (None = unbounded), breakevens, and (S, payoff) checkpoints.

CASES = {
    "long_call": (
        [(option(CALL, 100, +1), 3.00)],
        300.00,
        None,
        -300.00,
        (103.00,),
        [(0.0, -300.00), (100.0, -300.00), (110.0, 700.00)],
    ),
    "naked_put": (
        [(option(PUT, 95, -1), 2.50)],
        -250.00,
        250.00,
        -9_250.00,
        (92.50,),
        [(0.0, -9_250.00), (90.0, -250.00), (95.0, 250.00), (120.0, 250.00)],
    ),
    "bull_call_spread": (
        [(option(CALL, 100, +1), 5.00), (option(CALL, 110, -1), 1.80)],
        320.00,
        680.00,
        -320.00,
        (103.20,),
        [(95.0, -320.00), (105.0, 180.00), (130.0, 680.00)],
    ),
    "bear_put_spread": (
        [(option(PUT, 100, +1), 4.60), (option(PUT, 90, -1), 1.10)],
        350.00,
        650.00,
        -350.00,
        (96.50,),
        [(0.0, 650.00), (95.0, 150.00), (100.0, -350.00)],
    ),
    "iron_condor": (
        [
            (option(PUT, 85, +1), 0.60),
            (option(PUT, 90, -1), 1.40),
            (option(CALL, 110, -1), 1.30),
            (option(CALL, 115, +1), 0.55),
        ],
        -155.00,
        155.00,
        -345.00,
        (88.45, 111.55),
        [(0.0, -345.00), (87.0, -145.00), (100.0, 155.00), (113.0, -145.00), (200.0, -345.00)],
    ),
    "iron_butterfly": (
        [
            (option(PUT, 90, +1), 1.10),
            (option(PUT, 100, -1), 4.60),
            (option(CALL, 100, -1), 5.00),
            (option(CALL, 110, +1), 1.80),
        ],
        -670.00,
        670.00,
        -330.00,
        (93.30, 106.70),
        [(80.0, -330.00), (100.0, 670.00), (105.0, 170.00), (150.0, -330.00)],
    ),
    "butterfly_call": (
        [
            (option(CALL, 90, +1), 11.50),
            (option(CALL, 100, -2), 5.00),
            (option(CALL, 110, +1), 1.80),
        ],
        330.00,
        670.00,
        -330.00,
        (93.30, 106.70),
        [(0.0, -330.00), (95.0, 170.00), (100.0, 670.00), (120.0, -330.00)],
    ),
    "straddle": (
        [(option(CALL, 100, +1), 5.00), (option(PUT, 100, +1), 4.60)],
        960.00,
        None,
        -960.00,
        (90.40, 109.60),
        [(0.0, 9_040.00), (100.0, -960.00), (120.0, 1_040.00)],
    ),
    "strangle": (
        [(option(PUT, 95, +1), 2.50), (option(CALL, 105, +1), 2.90)],
        540.00,
        None,
        -540.00,
        (89.60, 110.40),
        [(0.0, 8_960.00), (100.0, -540.00), (115.0, 460.00)],
    ),
    "covered_call": (
        [(stock(+100), 98.00), (option(CALL, 105, -1), 2.90)],
        9_510.00,
        990.00,
        -9_510.00,
        (95.10,),
        [(0.0, -9_510.00), (100.0, 490.00), (150.0, 990.00)],
    ),
    "call_ratio_spread": (
        [(option(CALL, 100, +1), 5.00), (option(CALL, 110, -2), 1.80)],
        140.00,
        860.00,
        None,
        (101.40, 118.60),
        [(90.0, -140.00), (110.0, 860.00), (130.0, -1_140.00)],
    ),
    "box_spread": (
        [
            (option(CALL, 90, +1), 11.50),
            (option(CALL, 110, -1), 1.80),
            (option(PUT, 110, +1), 10.20),
            (option(PUT, 90, -1), 0.60),
        ],
        1_930.00,
        70.00,
        70.00,
        (),
        [(0.0, 70.00), (100.0, 70.00), (500.0, 70.00)],
    ),
}


@pytest.mark.parametrize("volume", [1, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_computed_combo_figures_scale_with_volume(name: str, volume: int) -> None:
    legs_and_prices, premium, max_profit, max_loss, breakevens, checkpoints = CASES[name]
    legs, prices = priced(legs_and_prices)
    built = combo(name, legs, volume)

    analysis = analyze_payoff(built, prices)

    assert analysis.exact
    assert analysis.premium.per_unit == pytest.approx(premium, abs=CENT)
    assert analysis.premium.total == pytest.approx(premium * volume, abs=CENT)
    if max_profit is None:
        assert analysis.max_profit == math.inf
        assert analysis.unbounded_profit
    else:
        assert analysis.max_profit == pytest.approx(max_profit * volume, abs=CENT)
    if max_loss is None:
        assert analysis.max_loss == -math.inf
        assert analysis.unbounded_loss
    else:
        assert analysis.max_loss == pytest.approx(max_loss * volume, abs=CENT)
    assert analysis.breakevens == pytest.approx(breakevens, abs=CENT)
    spots = [spot for spot, _ in checkpoints]
    expected = [value * volume for _, value in checkpoints]
    assert payoff_at_expiry(built, spots, prices) == pytest.approx(expected, abs=CENT)


def test_net_premium_reports_debit_credit_and_per_share() -> None:
    legs, prices = priced(CASES["iron_condor"][0])
    credit = net_premium(combo("iron_condor", legs, volume=3), prices)
    assert credit.per_share == pytest.approx(-1.55)
    assert credit.total == pytest.approx(-465.00)
    assert credit.net_credit == pytest.approx(465.00)
    assert credit.net_debit == 0.0
    assert not credit.is_debit

    legs, prices = priced(CASES["covered_call"][0])
    debit = net_premium(combo("covered_call", legs, volume=3), prices)
    assert debit.per_share == pytest.approx(95.10)  # the buy-write's quoted net
    assert debit.net_debit == pytest.approx(28_530.00)
    assert debit.net_credit == 0.0


def test_a_float_premium_is_dollars_per_unit() -> None:
    legs, prices = priced(CASES["bull_call_spread"][0])
    built = combo("bull_call_spread", legs, volume=3)
    from_prices = analyze_payoff(built, prices)
    from_float = analyze_payoff(built, 320.0)
    assert from_float.premium.total == pytest.approx(960.0)
    assert from_float.max_profit == pytest.approx(from_prices.max_profit)
    assert from_float.breakevens == pytest.approx(from_prices.breakevens)


def test_missing_leg_price_names_the_leg() -> None:
    legs, _ = priced(CASES["bull_call_spread"][0])
    with pytest.raises(ValueError, match="short_call_110"):
        net_premium(combo("bull_call_spread", legs), {legs[0].symbol: 5.0})


def test_box_spread_is_riskless() -> None:
    legs, prices = priced(CASES["box_spread"][0])
    analysis = analyze_payoff(combo("box_spread", legs), prices)
    assert analysis.max_profit == analysis.max_loss
    assert analysis.profitable_ranges == ((0.0, math.inf),)
    assert probability_of_profit(analysis, 100.0, NOW, volatility=0.3) == 1.0


def test_describe_says_unbounded() -> None:
    legs, prices = priced(CASES["call_ratio_spread"][0])
    text = analyze_payoff(combo("call_ratio_spread", legs), prices).describe()
    assert text == (
        "net debit 140.00 (1.40/share), max profit 860.00, max loss unbounded, "
        "breakevens 101.4, 118.6"
    )


# --- probability of profit ---------------------------------------------------------------


def lognormal_above(
    level: float, spot: float, years: float, volatility: float, rate: float
) -> float:
    """P(S_T > level) under the risk-neutral lognormal with no dividend yield."""
    total = volatility * math.sqrt(years)
    return normal_cdf((math.log(spot / level) + (rate - 0.5 * volatility**2) * years) / total)


def test_probability_of_profit_of_a_long_call_is_the_mass_above_its_breakeven() -> None:
    legs, prices = priced(CASES["long_call"][0])
    analysis = analyze_payoff(combo("long_call", legs), prices)
    years = years_to_expiry(EXPIRY, NOW)
    probability = probability_of_profit(analysis, 100.0, NOW, volatility=0.25, rate=0.04)
    assert probability == pytest.approx(lognormal_above(103.0, 100.0, years, 0.25, 0.04), abs=1e-12)


def test_probability_of_profit_of_an_iron_condor_is_the_mass_between_its_breakevens() -> None:
    legs, prices = priced(CASES["iron_condor"][0])
    analysis = analyze_payoff(combo("iron_condor", legs), prices)
    years = years_to_expiry(EXPIRY, NOW)
    expected = lognormal_above(88.45, 100.0, years, 0.2, 0.0) - lognormal_above(
        111.55, 100.0, years, 0.2, 0.0
    )
    assert probability_of_profit(analysis, 100.0, NOW, volatility=0.2) == pytest.approx(
        expected, abs=1e-12
    )


def test_probability_of_profit_after_expiry_is_whether_spot_is_profitable() -> None:
    legs, prices = priced(CASES["iron_condor"][0])
    analysis = analyze_payoff(combo("iron_condor", legs), prices)
    after = expiry_moment(EXPIRY) + timedelta(minutes=1)
    assert probability_of_profit(analysis, 100.0, after, volatility=0.2) == 1.0
    assert probability_of_profit(analysis, 120.0, after, volatility=0.2) == 0.0


# --- time and model value ----------------------------------------------------------------


def test_options_expire_at_four_pm_new_york() -> None:
    assert expiry_moment(EXPIRY) == datetime(2026, 12, 18, 16, 0, tzinfo=NEW_YORK)
    assert years_to_expiry(EXPIRY, datetime(2026, 12, 17, 16, 0, tzinfo=NEW_YORK)) == 1 / 365
    assert years_to_expiry(EXPIRY, expiry_moment(EXPIRY)) == 0.0
    with pytest.raises(ValueError, match="timezone-aware"):
        years_to_expiry(EXPIRY, datetime(2026, 12, 17, 16, 0))


def test_zero_dte_leg_at_the_close_is_worth_intrinsic() -> None:
    built = combo("long_call", [option(CALL, 100, +1)], volume=3)
    value = combo_value(built, [95.0, 104.25], expiry_moment(EXPIRY), volatility=0.3)
    assert value.value.tolist() == [0.0, 3 * 100 * 4.25]
    assert value.delta.tolist() == [0.0, 300.0]
    assert value.gamma.tolist() == value.theta.tolist() == value.vega.tolist() == [0.0, 0.0]


def test_combo_value_scales_per_share_greeks_to_the_position() -> None:
    built = combo("short_call", [option(CALL, 100, -2)], volume=3)
    years = years_to_expiry(EXPIRY, NOW)
    value = combo_value(built, 100.0, NOW, volatility=0.2)
    assert float(value.value) == pytest.approx(-600 * reference_call(100.0, 100.0, years, 0.2))
    # delta of an ATM call at zero rate: N(sigma sqrt T / 2)
    assert float(value.delta) == pytest.approx(-600 * normal_cdf(0.1 * math.sqrt(years)))
    assert float(value.theta) > 0  # a short call earns the time decay
    assert float(value.theta) == pytest.approx(
        -600 * -(100.0 * 0.2 / (2 * math.sqrt(years))) * _density(0.1 * math.sqrt(years)) / 365
    )


def _density(value: float) -> float:
    return math.exp(-0.5 * value * value) / math.sqrt(2.0 * math.pi)


def test_american_model_matches_european_for_calls_without_dividends() -> None:
    built = combo("bull_call_spread", priced(CASES["bull_call_spread"][0])[0], volume=3)
    european = combo_value(built, [95.0, 105.0], NOW, volatility=0.25, rate=0.03)
    american = combo_value(built, [95.0, 105.0], NOW, volatility=0.25, rate=0.03, model="american")
    assert american.value == pytest.approx(european.value, rel=1e-9)
    assert american.delta == pytest.approx(european.delta, rel=1e-4)
    assert american.vega == pytest.approx(european.vega, rel=1e-3)


def test_american_put_is_worth_at_least_the_european() -> None:
    built = combo("long_put", [option(PUT, 100, +1)])
    european = combo_value(built, 90.0, NOW, volatility=0.25, rate=0.05)
    american = combo_value(built, 90.0, NOW, volatility=0.25, rate=0.05, model="american")
    assert float(american.value) >= float(european.value)
    assert float(american.value) >= 1_000.0  # at least its intrinsic value


def test_unknown_model_is_refused() -> None:
    built = combo("long_call", [option(CALL, 100, +1)])
    with pytest.raises(ValueError, match="model"):
        combo_value(built, 100.0, NOW, volatility=0.2, model="binomial")  # type: ignore[arg-type]


# --- calendar ----------------------------------------------------------------------------


def calendar(volume: int) -> tuple[Combo, dict[str, float]]:
    legs, prices = priced(
        [(option(CALL, 100, -1, NEAR_EXPIRY), 2.00), (option(CALL, 100, +1), 3.00)]
    )
    return combo("calendar", legs, volume), prices


@pytest.mark.parametrize("volume", [1, 3])
def test_calendar_is_model_valued_at_the_first_expiry(volume: int) -> None:
    built, prices = calendar(volume)
    assert not is_single_expiry(built)
    assert first_expiry(built) == NEAR_EXPIRY
    years_left = 28 / 365
    far_call = reference_call(100.0, 100.0, years_left, 0.2)  # 2.20961...

    payoff = payoff_at_expiry(built, [100.0, 0.0], prices, volatility=0.2)
    analysis = analyze_payoff(built, prices, volatility=0.2)

    assert round(100 * far_call - 100.0, 2) == 120.96
    assert payoff[0] == pytest.approx(volume * (100 * far_call - 100.0), abs=1e-9)
    assert payoff[1] == pytest.approx(-100.0 * volume, abs=1e-9)
    assert not analysis.exact
    assert analysis.premium.net_debit == pytest.approx(100.0 * volume)
    # the peak is at the strike, the worst is losing the debit (far from the strike)
    assert analysis.max_profit == pytest.approx(volume * (100 * far_call - 100.0), abs=1e-6)
    assert analysis.max_loss == pytest.approx(-100.0 * volume, abs=1e-6)
    low, high = analysis.breakevens
    assert low < 100.0 < high
    roots = payoff_at_expiry(built, [low, high], prices, volatility=0.2)
    assert roots == pytest.approx([0.0, 0.0], abs=1e-6)
    assert analysis.profitable_ranges == ((low, high),)


def test_calendar_needs_a_volatility() -> None:
    built, prices = calendar(1)
    with pytest.raises(ValueError, match="volatility"):
        analyze_payoff(built, prices)


def test_calendar_t_plus_n_curve_values_both_legs_with_the_model() -> None:
    built, prices = calendar(3)
    near, far = years_to_expiry(NEAR_EXPIRY, NOW), years_to_expiry(EXPIRY, NOW)
    volatilities = {built.legs[0].symbol: 0.22, built.legs[1].symbol: 0.2}
    curve = payoff_at(built, [100.0], NOW, prices, volatility=volatilities)
    expected = 300 * (reference_call(100, 100, far, 0.2) - reference_call(100, 100, near, 0.22))
    assert curve[0] == pytest.approx(expected - 300.0, abs=1e-9)


def test_calendar_with_a_dividend_yield_has_unbounded_loss() -> None:
    # the far call is worth S e^(-q tau) - ..., less than the S the short call owes
    built, prices = calendar(1)
    analysis = analyze_payoff(built, prices, volatility=0.2, dividend_yield=0.03)
    assert analysis.unbounded_loss
    assert analysis.max_profit > 0


# --- properties --------------------------------------------------------------------------

strikes = st.sampled_from([80.0, 85.0, 90.0, 95.0, 100.0, 105.0, 110.0, 115.0, 120.0])
ratios = st.integers(-3, 3).filter(lambda ratio: ratio != 0)
leg_prices = st.floats(0.01, 25.0)


@st.composite
def single_expiry_combos(draw: st.DrawFn) -> tuple[Combo, dict[str, float]]:
    """A combo of 1-4 options of one expiry and maybe a stock leg, with leg prices."""
    keys = draw(st.sets(st.tuples(st.sampled_from([CALL, PUT]), strikes), min_size=1, max_size=4))
    legs = [option(right, strike, draw(ratios)) for right, strike in sorted(keys)]
    if draw(st.booleans()):
        legs.append(stock(draw(st.sampled_from([-100, 100, 200]))))
    prices = {leg.symbol: draw(leg_prices) for leg in legs}
    if STOCK_SYMBOL in prices:
        prices[STOCK_SYMBOL] = draw(st.floats(80.0, 120.0))
    return combo("custom", legs, draw(st.integers(1, 5))), prices


spot_samples = st.lists(st.floats(0.0, 400.0), min_size=1, max_size=20)


@given(single_expiry_combos(), spot_samples)
def test_reversed_combo_has_the_negated_payoff(
    drawn: tuple[Combo, dict[str, float]], spots: list[float]
) -> None:
    built, prices = drawn
    forward = payoff_at_expiry(built, spots, prices)
    backward = payoff_at_expiry(built.reversed(), spots, prices)
    np.testing.assert_allclose(backward, -forward, rtol=0, atol=1e-9)


@given(single_expiry_combos(), spot_samples)
def test_payoff_lies_between_max_loss_and_max_profit(
    drawn: tuple[Combo, dict[str, float]], spots: list[float]
) -> None:
    built, prices = drawn
    analysis = analyze_payoff(built, prices)
    values = payoff_at_expiry(built, [*spots, *analysis.breakpoints], prices)
    assert analysis.max_profit >= analysis.max_loss
    assert np.all(values <= analysis.max_profit + 1e-9)
    assert np.all(values >= analysis.max_loss - 1e-9)
    if not analysis.unbounded_profit:
        assert values.max() == pytest.approx(analysis.max_profit, abs=1e-9)


@given(single_expiry_combos())
def test_breakevens_have_zero_payoff(drawn: tuple[Combo, dict[str, float]]) -> None:
    built, prices = drawn
    analysis = analyze_payoff(built, prices)
    assert list(analysis.breakevens) == sorted(analysis.breakevens)
    scale = 1e-9 * max(1.0, abs(analysis.premium.total), *np.abs(analysis.values))
    assert np.all(np.abs(payoff_at_expiry(built, analysis.breakevens, prices)) <= scale)


@given(single_expiry_combos(), st.floats(50.0, 150.0), st.floats(0.05, 1.5))
def test_probability_of_profit_is_a_probability(
    drawn: tuple[Combo, dict[str, float]], spot: float, volatility: float
) -> None:
    built, prices = drawn
    analysis = analyze_payoff(built, prices)
    probability = probability_of_profit(analysis, spot, NOW, volatility=volatility, rate=0.04)
    assert 0.0 <= probability <= 1.0
    for low, high in analysis.profitable_ranges:
        inside = low + 1.0 if math.isinf(high) else 0.5 * (low + high)
        assert payoff_at_expiry(built, inside, prices) > 0


@settings(max_examples=50)
@given(single_expiry_combos(), spot_samples, st.floats(0.05, 1.0))
def test_model_value_at_expiry_equals_the_expiry_payoff(
    drawn: tuple[Combo, dict[str, float]], spots: list[float], volatility: float
) -> None:
    built, prices = drawn
    at_expiry = payoff_at(built, spots, expiry_moment(EXPIRY), prices, volatility=volatility)
    np.testing.assert_allclose(at_expiry, payoff_at_expiry(built, spots, prices), atol=1e-9)


@given(strikes, st.lists(st.floats(0.0, 400.0), min_size=1, max_size=20), st.integers(1, 5))
def test_synthetic_long_pays_like_stock_bought_at_the_strike(
    strike: float, spots: list[float], volume: int
) -> None:
    synthetic = combo("synthetic", [option(CALL, strike, +1), option(PUT, strike, -1)], volume)
    shares = combo("stock", [stock(+100)], volume)
    np.testing.assert_allclose(
        payoff_at_expiry(synthetic, spots, 0.0),
        payoff_at_expiry(shares, spots, {STOCK_SYMBOL: strike}),
        atol=1e-9,
    )


@given(st.floats(60.0, 140.0), st.floats(0.1, 0.6))
def test_put_call_parity_holds_for_the_model_value(spot: float, volatility: float) -> None:
    # +call -put at one strike is worth S e^(-qT) - K e^(-rT) at any time
    synthetic = combo("synthetic", [option(CALL, 100, +1), option(PUT, 100, -1)])
    years = years_to_expiry(EXPIRY, NOW)
    value = combo_value(
        synthetic, spot, NOW, volatility=volatility, rate=0.04, dividend_yield=0.01
    ).value
    expected = 100 * (spot * math.exp(-0.01 * years) - 100 * math.exp(-0.04 * years))
    assert float(value) == pytest.approx(expected, abs=1e-8)


# --- plot --------------------------------------------------------------------------------


def test_plot_payoff_writes_a_png(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    built, prices = calendar(2)
    path = plot_payoff(built, prices, tmp_path / "calendar.png", spot=100.0, at=NOW, volatility=0.2)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_payoff_without_matplotlib_names_the_extra(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    legs, prices = priced(CASES["long_call"][0])
    with pytest.raises(ImportError, match=r"otrade\[plot\]"):
        plot_payoff(
            combo("long_call", legs), prices, tmp_path / "x.png", spot=100.0, at=NOW, volatility=0.2
        )


def test_analysis_is_a_frozen_record() -> None:
    legs, prices = priced(CASES["long_call"][0])
    analysis = analyze_payoff(combo("long_call", legs), prices)
    assert isinstance(analysis, PayoffAnalysis)
    with pytest.raises(AttributeError):
        analysis.max_loss = 0.0  # type: ignore[misc]
