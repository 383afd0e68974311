"""Black-76: reference value, parity, agreement with BSM, Greeks and the IV solver's range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from otrade.pricing import PricingInputError, Reason, black76, bsm
from tests.unit.pricing.support import EPSILON, central_difference, realistic_grid


def as_futures_options(grid: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The realistic grid on a forward: the BSM forward of each option."""
    carry = grid["rate"] - grid["dividend_yield"]
    return {
        "forward": grid["spot"] * np.exp(carry * grid["time_to_expiry"]),
        "strike": grid["strike"],
        "time_to_expiry": grid["time_to_expiry"],
        "rate": grid["rate"],
        "volatility": grid["volatility"],
        "is_call": grid["is_call"],
    }


def test_prices_haugs_futures_option_example():
    # Haug: F=19, K=19, T=0.75, r=10%, sigma=28%: call = put = 1.7011.
    call, put = black76.price(19.0, 19.0, 0.75, 0.1, 0.28, [True, False])
    assert call == pytest.approx(1.7011, abs=1e-4)
    assert put == pytest.approx(1.7011, abs=1e-4)


def test_put_call_parity_is_the_discounted_forward_minus_strike():
    options = as_futures_options(realistic_grid(10_000, seed=11))
    arguments = {key: value for key, value in options.items() if key != "is_call"}
    call = black76.price(**arguments, is_call=True)
    put = black76.price(**arguments, is_call=False)
    discount = np.exp(-options["rate"] * options["time_to_expiry"])
    expected = discount * (options["forward"] - options["strike"])
    scale = np.maximum(options["forward"], options["strike"])
    assert np.all(np.abs((call - put) - expected) <= 8 * EPSILON * scale)


def test_agrees_with_bsm_on_the_forward():
    grid = realistic_grid(10_000, seed=12)
    np.testing.assert_allclose(
        black76.price(**as_futures_options(grid)), bsm.price(**grid), rtol=1e-12, atol=1e-12
    )


def test_greeks_match_central_differences_with_the_forward_held_for_rho():
    options = as_futures_options(realistic_grid(2_000, seed=13))
    greeks = black76.greeks(**options)

    def priced(**changes: np.ndarray) -> np.ndarray:
        return black76.price(**{**options, **changes})

    step = 1e-5 * options["forward"]
    delta = central_difference(lambda forward: priced(forward=forward), options["forward"], step)
    gamma = central_difference(
        lambda forward: black76.greeks(**{**options, "forward": forward}).delta,
        options["forward"],
        step,
    )
    annual_theta = -central_difference(
        lambda time: priced(time_to_expiry=time),
        options["time_to_expiry"],
        1e-5 * options["time_to_expiry"],
    )
    vega = central_difference(
        lambda vol: priced(volatility=vol), options["volatility"], np.full(2_000, 1e-5)
    )
    rho = central_difference(lambda rate: priced(rate=rate), options["rate"], np.full(2_000, 1e-5))
    np.testing.assert_allclose(greeks.delta, delta, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(greeks.gamma, gamma, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(greeks.theta, annual_theta / 365.0, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(greeks.vega, vega / 100.0, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(greeks.rho, rho / 100.0, rtol=1e-6, atol=1e-9)


def test_solver_inverts_the_normalised_formula_over_its_whole_range():
    # Forward 1, no discounting: the price is Black's normalised price with
    # x = ln(F/K) from -8 to 8 and total volatility from 0.001 to 20.
    rng = np.random.default_rng(14)
    count = 200_000
    log_moneyness = rng.uniform(-8.0, 8.0, count) * rng.choice([1.0, 1e-3, 1e-9], count)
    total_volatility = np.exp(rng.uniform(np.log(1e-3), np.log(20.0), count))
    strike = np.exp(-log_moneyness)
    is_call = rng.random(count) < 0.5
    value = black76.price(1.0, strike, 1.0, 0.0, total_volatility, is_call)
    result = black76.implied_volatility(value, 1.0, strike, 1.0, 0.0, is_call)
    intrinsic = np.maximum(np.where(is_call, 1.0 - strike, strike - 1.0), 0.0)
    upper = np.where(is_call, 1.0, strike)
    # Prices within a few ulps of the upper bound may round onto it (ABOVE_UPPER_BOUND).
    inside = (value > intrinsic) & (value < upper * (1.0 - 4 * EPSILON)) & (value > 1e-280)
    assert np.all(result.reason[inside] == Reason.OK)
    vega = black76.greeks(1.0, strike, 1.0, 0.0, total_volatility, is_call).vega * 100.0
    error = np.abs(result.volatility - total_volatility)[inside]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        allowed = (1e-10 * total_volatility + 16 * EPSILON * np.maximum(value, 1.0) / vega)[inside]
    assert np.all(error <= allowed)
    # Where vega is at least 0.001 per point, 99% are within 1e-14 of the truth.
    well_conditioned = inside & (vega > 0.1)
    assert np.percentile(error[well_conditioned[inside]], 99) < 1e-14


def test_implied_volatility_reports_a_non_positive_forward():
    result = black76.implied_volatility([5.0, 5.0], [0.0, 100.0], 100.0, 1.0, 0.05, True)
    assert result.reason.tolist() == [Reason.NON_POSITIVE_FORWARD, Reason.OK]


def test_implied_volatility_reports_prices_outside_the_bounds():
    discount = math.exp(-0.05)
    prices = [10.0 * discount, 110.0 * discount, 10.0 * discount + 1e-9]
    result = black76.implied_volatility(prices, 110.0, 100.0, 1.0, 0.05, True)
    assert result.reason.tolist() == [Reason.BELOW_INTRINSIC, Reason.ABOVE_UPPER_BOUND, Reason.OK]


def test_scalar_helpers_round_trip_and_raise_naming_the_argument():
    value = black76.price_scalar(100.0, 105.0, 0.5, 0.03, 0.3, True)
    assert black76.implied_volatility_scalar(value, 100.0, 105.0, 0.5, 0.03, True) == pytest.approx(
        0.3, rel=1e-13
    )
    with pytest.raises(PricingInputError, match=r"^forward must be > 0, got 0\.0$"):
        black76.price_scalar(0.0, 105.0, 0.5, 0.03, 0.3, True)
    with pytest.raises(PricingInputError, match=r"^time_to_expiry must be > 0, got -1\.0$"):
        black76.implied_volatility_scalar(5.0, 100.0, 105.0, -1.0, 0.03, True)
