"""Black-Scholes-Merton: textbook values, parity, Greeks, bounds and implied volatility."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otrade.pricing import PricingInputError, Reason, bsm
from tests.unit.pricing.support import (
    EPSILON,
    central_difference,
    european_grid,
    realistic_grid,
)

spots = st.floats(1.0, 1_000.0)
log_moneyness = st.floats(-1.5, 1.5)
times = st.floats(1.0 / 365.0 / 24.0, 5.0)
rates = st.floats(-0.02, 0.15)
yields = st.floats(0.0, 0.08)
volatilities = st.floats(0.01, 3.0)


@st.composite
def options(draw: st.DrawFn) -> dict[str, float | bool]:
    """One European option with inputs drawn over wide ranges."""
    spot = draw(spots)
    return {
        "spot": spot,
        "strike": spot * math.exp(draw(log_moneyness)),
        "time_to_expiry": draw(times),
        "rate": draw(rates),
        "dividend_yield": draw(yields),
        "volatility": draw(volatilities),
        "is_call": draw(st.booleans()),
    }


def discounted_bounds(*, spot, strike, time_to_expiry, rate, dividend_yield, is_call):
    """The European no-arbitrage bounds (lower, upper), for scalars or arrays."""
    forward = np.multiply(spot, np.exp(-np.multiply(dividend_yield, time_to_expiry)))
    discounted_strike = np.multiply(strike, np.exp(-np.multiply(rate, time_to_expiry)))
    lower = np.maximum(
        np.where(is_call, forward - discounted_strike, discounted_strike - forward), 0.0
    )
    return lower, np.where(is_call, forward, discounted_strike)


def test_prices_hulls_textbook_example():
    # Hull, Options, Futures and Other Derivatives: S=42, K=40, r=10%, sigma=20%,
    # six months: call 4.76, put 0.81.
    call, put = bsm.price(42.0, 40.0, 0.5, 0.1, 0.0, 0.2, [True, False])
    assert call == pytest.approx(4.7594, abs=1e-4)
    assert put == pytest.approx(0.8086, abs=1e-4)


def test_prices_haugs_generalised_put_with_a_dividend_yield():
    # Haug, The Complete Guide to Option Pricing Formulas: S=75, K=70, T=0.5, r=10%,
    # b=5% (q=5%), sigma=35%: put 4.0870.
    assert bsm.price(75.0, 70.0, 0.5, 0.1, 0.05, 0.35, False) == pytest.approx(4.0870, abs=1e-4)


def test_greeks_match_hulls_example_in_otrade_units():
    # Hull's Greek letters example: S=49, K=50, r=5%, sigma=20%, 20 weeks: delta 0.522,
    # gamma 0.066, theta -4.31 per year, vega 12.1 per unit, rho 8.91 per unit.
    greeks = bsm.greeks(49.0, 50.0, 20.0 / 52.0, 0.05, 0.0, 0.2, True)
    assert greeks.delta == pytest.approx(0.522, abs=5e-4)
    assert greeks.gamma == pytest.approx(0.066, abs=5e-4)
    assert greeks.theta == pytest.approx(-4.31 / 365.0, abs=5e-3 / 365.0)
    assert greeks.vega == pytest.approx(0.121, abs=5e-4)
    assert greeks.rho == pytest.approx(0.0891, abs=5e-5)


def test_put_call_parity_holds_to_rounding():
    grid = european_grid(20_000, seed=1)
    arguments = {key: value for key, value in grid.items() if key != "is_call"}
    call = bsm.price(**arguments, is_call=True)
    put = bsm.price(**arguments, is_call=False)
    forward = grid["spot"] * np.exp(-grid["dividend_yield"] * grid["time_to_expiry"])
    discounted_strike = grid["strike"] * np.exp(-grid["rate"] * grid["time_to_expiry"])
    scale = np.maximum(forward, discounted_strike)
    assert np.all(np.abs((call - put) - (forward - discounted_strike)) <= 8 * EPSILON * scale)


def test_greeks_match_central_differences_in_their_units():
    grid = realistic_grid(2_000, seed=2)
    greeks = bsm.greeks(**grid)

    def priced(**changes: np.ndarray) -> np.ndarray:
        return bsm.price(**{**grid, **changes})

    spot_step = 1e-5 * grid["spot"]
    delta = central_difference(lambda spot: priced(spot=spot), grid["spot"], spot_step)
    # Gamma against the difference of delta: a second difference of the price would
    # need a step too large for short-dated options.
    gamma = central_difference(
        lambda spot: bsm.greeks(**{**grid, "spot": spot}).delta, grid["spot"], spot_step
    )
    annual_theta = -central_difference(
        lambda time: priced(time_to_expiry=time),
        grid["time_to_expiry"],
        1e-5 * grid["time_to_expiry"],
    )
    vega = central_difference(
        lambda vol: priced(volatility=vol), grid["volatility"], np.full(2_000, 1e-5)
    )
    rho = central_difference(lambda rate: priced(rate=rate), grid["rate"], np.full(2_000, 1e-5))
    np.testing.assert_allclose(greeks.delta, delta, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(greeks.gamma, gamma, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(greeks.theta, annual_theta / 365.0, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(greeks.vega, vega / 100.0, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(greeks.rho, rho / 100.0, rtol=1e-6, atol=1e-9)


def test_broadcasts_scalars_against_arrays():
    prices = bsm.price(
        100.0, np.array([[90.0], [100.0], [110.0]]), [0.25, 0.5, 1.0, 2.0], 0.03, 0.0, 0.2, True
    )
    assert prices.shape == (3, 4)
    assert bsm.price(100.0, 100.0, 1.0, 0.03, 0.0, 0.2, True).shape == ()


@settings(max_examples=200, deadline=None)
@given(options(), volatilities)
def test_price_rises_with_volatility(option, other_volatility):
    low, high = sorted((option["volatility"], other_volatility))
    cheaper = bsm.price(**{**option, "volatility": low})
    dearer = bsm.price(**{**option, "volatility": high})
    assert dearer >= cheaper - 4 * EPSILON * max(option["spot"], option["strike"])


@settings(max_examples=200, deadline=None)
@given(options(), log_moneyness)
def test_calls_fall_and_puts_rise_with_the_strike(option, other_moneyness):
    other_strike = option["spot"] * math.exp(other_moneyness)
    strikes = sorted((option["strike"], other_strike))
    tolerance = 4 * EPSILON * max(option["spot"], strikes[1])
    calls = bsm.price(**{**option, "strike": strikes, "is_call": True})
    puts = bsm.price(**{**option, "strike": strikes, "is_call": False})
    assert calls[1] <= calls[0] + tolerance
    assert puts[1] >= puts[0] - tolerance


@settings(max_examples=300, deadline=None)
@given(options())
def test_price_stays_within_the_no_arbitrage_bounds(option):
    value = float(bsm.price(**option))
    arguments = {key: value for key, value in option.items() if key != "volatility"}
    lower, upper = discounted_bounds(**arguments)
    tolerance = 4 * EPSILON * max(option["spot"], option["strike"])
    assert lower - tolerance <= value <= upper + tolerance


def assert_round_trip(grid: dict[str, np.ndarray]) -> None:
    """Every price strictly inside its bounds gives back its volatility.

    The error allowed is the price's own rounding (a few ulps) over vega, plus 1e-10
    relative: that is all the information a float64 price carries.
    """
    value = bsm.price(**grid)
    inputs = {
        key: grid[key] for key in ("spot", "strike", "time_to_expiry", "rate", "dividend_yield")
    }
    result = bsm.implied_volatility(value, **inputs, is_call=grid["is_call"])
    lower, upper = discounted_bounds(**inputs, is_call=grid["is_call"])
    inside = (value > lower) & (value < upper) & (value > 1e-280)
    assert np.all(result.reason[inside] == Reason.OK)
    vega = bsm.greeks(**grid).vega * 100.0
    error = np.abs(result.volatility - grid["volatility"])[inside]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        allowed = (1e-10 * grid["volatility"] + 16 * EPSILON * value / vega)[inside]
    assert np.all(error <= allowed), f"worst excess {np.max(error / allowed)}"


def test_implied_volatility_round_trips_across_a_wide_grid():
    assert_round_trip(european_grid(100_000, seed=3))


def test_implied_volatility_round_trips_on_listed_options_to_1e_12_where_vega_allows():
    grid = realistic_grid(50_000, seed=4)
    value = bsm.price(**grid)
    inputs = {
        key: grid[key] for key in ("spot", "strike", "time_to_expiry", "rate", "dividend_yield")
    }
    result = bsm.implied_volatility(value, **inputs, is_call=grid["is_call"])
    # Vega of 0.001 per point: the price's own rounding moves the volatility < 1e-13.
    usable = bsm.greeks(**grid).vega >= 1e-3
    assert np.all(result.reason[usable] == Reason.OK)
    assert np.max(np.abs(result.volatility - grid["volatility"])[usable]) < 1e-12


@settings(max_examples=300, deadline=None)
@given(options())
def test_implied_volatility_round_trips_for_any_option(option):
    grid = {key: np.array([value]) for key, value in option.items()}
    assert_round_trip(grid)


@pytest.mark.parametrize(
    ("price", "spot", "strike", "time", "reason"),
    [
        (float("nan"), 100.0, 100.0, 1.0, Reason.NAN_INPUT),
        (5.0, float("inf"), 100.0, 1.0, Reason.NAN_INPUT),
        (float("nan"), 100.0, 100.0, 0.0, Reason.NAN_INPUT),
        (5.0, 100.0, 100.0, 0.0, Reason.NON_POSITIVE_TIME),
        (5.0, 100.0, 100.0, -0.1, Reason.NON_POSITIVE_TIME),
        (5.0, 0.0, 100.0, 1.0, Reason.NON_POSITIVE_SPOT),
        (5.0, 100.0, -100.0, 1.0, Reason.NON_POSITIVE_STRIKE),
        (0.0, 100.0, 100.0, 1.0, Reason.NON_POSITIVE_PRICE),
        (-1.0, 100.0, 100.0, 1.0, Reason.NON_POSITIVE_PRICE),
        (100.0, 100.0, 100.0, 1.0, Reason.ABOVE_UPPER_BOUND),
        (150.0, 100.0, 100.0, 1.0, Reason.ABOVE_UPPER_BOUND),
        (29.0, 130.0, 100.0, 1.0, Reason.BELOW_INTRINSIC),
    ],
)
def test_implied_volatility_gives_nan_and_the_reason(price, spot, strike, time, reason):
    result = bsm.implied_volatility(price, spot, strike, time, 0.0, 0.0, True)
    assert np.isnan(result.volatility)
    assert result.reason == reason
    assert result.reason.dtype == np.int8
    assert not result.is_valid


def test_price_at_exactly_the_discounted_intrinsic_value_has_no_volatility():
    intrinsic = 130.0 * math.exp(-0.02) - 100.0 * math.exp(-0.05)
    result = bsm.implied_volatility(intrinsic, 130.0, 100.0, 1.0, 0.05, 0.02, True)
    assert result.reason == Reason.BELOW_INTRINSIC


def test_a_bad_option_does_not_spoil_its_neighbours():
    prices = np.array([10.450583572185565, np.nan, -1.0, 10.450583572185565])
    result = bsm.implied_volatility(prices, 100.0, 100.0, [1.0, 1.0, 1.0, 0.0], 0.05, 0.0, True)
    assert result.volatility[0] == pytest.approx(0.2, rel=1e-13)
    assert result.reason.tolist() == [
        Reason.OK,
        Reason.NAN_INPUT,
        Reason.NON_POSITIVE_PRICE,
        Reason.NON_POSITIVE_TIME,
    ]


def test_price_and_greeks_give_nan_for_bad_inputs_without_raising():
    spot = np.array([100.0, np.nan, -5.0, 100.0, 100.0])
    time = np.array([1.0, 1.0, 1.0, 0.0, 1.0])
    volatility = np.array([0.2, 0.2, 0.2, 0.2, 0.0])
    prices = bsm.price(spot, 100.0, time, 0.05, 0.0, volatility, True)
    greeks = bsm.greeks(spot, 100.0, time, 0.05, 0.0, volatility, True)
    assert np.isfinite(prices[0])
    assert np.isnan(prices[1:]).all()
    for values in (greeks.delta, greeks.gamma, greeks.theta, greeks.vega, greeks.rho):
        assert np.isfinite(values[0])
        assert np.isnan(values[1:]).all()


def test_scalar_helpers_agree_with_the_vector_functions():
    value = bsm.price_scalar(100.0, 95.0, 0.5, 0.03, 0.01, 0.25, False)
    assert isinstance(value, float)
    assert value == float(bsm.price(100.0, 95.0, 0.5, 0.03, 0.01, 0.25, False))
    volatility = bsm.implied_volatility_scalar(value, 100.0, 95.0, 0.5, 0.03, 0.01, False)
    assert volatility == pytest.approx(0.25, rel=1e-13)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_to_expiry": 0.0}, "time_to_expiry must be > 0, got 0.0"),
        ({"spot": -1.0}, "spot must be > 0, got -1.0"),
        ({"strike": float("nan")}, "strike must be a finite number, got nan"),
        ({"volatility": 0.0}, "volatility must be > 0, got 0.0"),
        ({"rate": float("inf")}, "rate must be a finite number, got inf"),
        ({"dividend_yield": float("nan")}, "dividend_yield must be a finite number, got nan"),
        ({"is_call": "c"}, "is_call must be a bool, got 'c'"),
    ],
)
def test_price_scalar_raises_naming_the_argument(changes, message):
    arguments = {
        "spot": 100.0,
        "strike": 100.0,
        "time_to_expiry": 1.0,
        "rate": 0.05,
        "dividend_yield": 0.0,
        "volatility": 0.2,
        "is_call": True,
    }
    with pytest.raises(PricingInputError, match=f"^{re.escape(message)}$"):
        bsm.price_scalar(**{**arguments, **changes})


@pytest.mark.parametrize(
    ("price", "message"),
    [
        (0.0, r"price must be > 0, got 0\.0"),
        (1.0, r"price must be above the intrinsic value 3\d\.\d+, got 1\.0"),
        (200.0, r"price must be below the upper bound 130\.0, got 200\.0"),
    ],
)
def test_implied_volatility_scalar_raises_naming_the_bound(price, message):
    with pytest.raises(ValueError, match=message):
        bsm.implied_volatility_scalar(price, 130.0, 100.0, 1.0, 0.05, 0.0, True)
