"""American options: the boundary method and BAW against the CRR tree, bounds, IV."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from otrade.pricing import PricingInputError, Reason, american, bsm
from tests.unit.pricing.support import realistic_grid

TREE_STEPS = 2_000


def grid_of_cases() -> dict[str, np.ndarray]:
    """108 listed-style options: three spots, expiries, two volatilities, three carries."""
    rows = list(
        itertools.product(
            [85.0, 100.0, 115.0],  # spot, strike 100
            [0.1, 0.5, 1.0],  # years
            [0.2, 0.4],  # volatility
            [(0.05, 0.0), (0.03, 0.02), (0.02, 0.05)],  # rate, dividend yield
            [True, False],
        )
    )
    return {
        "spot": np.array([row[0] for row in rows]),
        "strike": np.full(len(rows), 100.0),
        "time_to_expiry": np.array([row[1] for row in rows]),
        "rate": np.array([row[3][0] for row in rows]),
        "dividend_yield": np.array([row[3][1] for row in rows]),
        "volatility": np.array([row[2] for row in rows]),
        "is_call": np.array([row[4] for row in rows]),
    }


def tree_reference(cases: dict[str, np.ndarray], steps: int = TREE_STEPS) -> np.ndarray:
    """CRR tree price corrected by the same tree's error on the European option.

    The plain tree oscillates by a few 1e-3 with the strike's position between nodes;
    the European control variate removes most of that (Hull, chapter on binomial trees).
    """
    american_tree = american.crr_price(**cases, steps=steps)
    european_tree = american.crr_price(**cases, steps=steps, american=False)
    return american_tree - european_tree + bsm.price(**cases)


@pytest.fixture(scope="module")
def cases() -> dict[str, np.ndarray]:
    return grid_of_cases()


@pytest.fixture(scope="module")
def reference(cases: dict[str, np.ndarray]) -> np.ndarray:
    return tree_reference(cases)


def test_boundary_price_matches_a_2000_step_tree_within_1e_3(cases, reference):
    error = np.abs(american.price(**cases) - reference)
    assert error.max() < 1e-3


def test_boundary_price_stays_close_to_the_plain_2000_step_tree(cases):
    # Without the control variate the tree itself is off by up to a few 1e-3.
    error = np.abs(american.price(**cases) - american.crr_price(**cases, steps=TREE_STEPS))
    assert error.max() < 5e-3


def test_baw_stays_within_its_known_error_of_the_tree(cases, reference):
    # BAW is an approximation: a few 1e-2 for these cases (up to ~0.25 at two years).
    error = np.abs(american.baw_price(**cases) - reference)
    assert error.max() < 0.1
    short_dated = cases["time_to_expiry"] <= 0.1
    assert error[short_dated].max() < 0.05


def test_baw_reproduces_the_published_calls():
    # Barone-Adesi and Whaley (1987): r=8%, b=-4% (q=12%), sigma=20%, T=0.25, K=100:
    # calls at S=90, 100, 110 worth 0.59, 3.52, 10.31.
    prices = american.baw_price([90.0, 100.0, 110.0], 100.0, 0.25, 0.08, 0.12, 0.2, True)
    np.testing.assert_allclose(prices, [0.59, 3.52, 10.31], atol=5e-3)


def test_prices_the_high_dividend_put_like_the_tree():
    # S=K=100, T=0.25, r=8%, q=12%, sigma=20%.  BAW gives 4.3967; a 2,000-step tree with
    # the control variate 4.3964.
    case = {
        "spot": np.array([100.0]),
        "strike": np.array([100.0]),
        "time_to_expiry": np.array([0.25]),
        "rate": np.array([0.08]),
        "dividend_yield": np.array([0.12]),
        "volatility": np.array([0.2]),
        "is_call": np.array([False]),
    }
    assert american.baw_price(**case)[0] == pytest.approx(4.3967, abs=1e-4)
    assert american.price(**case)[0] == pytest.approx(tree_reference(case)[0], abs=2e-4)


def test_low_volatility_high_carry_puts_match_the_tree():
    # Where r - q is large against sigma^2 the smooth-pasting iteration oscillates; the
    # puts here once priced at intrinsic (0.00 instead of 0.81 at sigma = 5%).
    rng = np.random.default_rng(31)
    count = 60
    case = {
        "spot": rng.uniform(95.0, 120.0, count),
        "strike": np.full(count, 100.0),
        "time_to_expiry": rng.uniform(0.5, 3.0, count),
        "rate": rng.uniform(0.05, 0.12, count),
        "dividend_yield": rng.uniform(0.0, 0.03, count),
        "volatility": rng.uniform(0.03, 0.12, count),
        "is_call": np.zeros(count, dtype=bool),
    }
    error = np.abs(american.price(**case) - tree_reference(case))
    assert error.max() < 1e-3
    one = {key: value[:1] for key, value in case.items()}
    one.update(
        spot=np.array([100.0]),
        time_to_expiry=np.array([2.875]),
        rate=np.array([0.082]),
        dividend_yield=np.array([0.027]),
        volatility=np.array([0.05]),
    )
    assert american.price(**one)[0] == pytest.approx(tree_reference(one)[0], abs=1e-3)
    assert american.price(**one)[0] == pytest.approx(0.8112, abs=2e-3)


def test_american_is_never_below_european_or_immediate_exercise():
    grid = realistic_grid(5_000, seed=21)
    value = american.price(**grid)
    european = bsm.price(**grid)
    exercise = np.where(
        grid["is_call"], grid["spot"] - grid["strike"], grid["strike"] - grid["spot"]
    )
    assert np.all(value >= european - 1e-12)
    assert np.all(value >= exercise)


@settings(max_examples=60, deadline=None)
@example(
    spot=100.0,
    time_to_expiry=2.875,
    rate=0.082,
    dividend_yield=0.027,
    volatilities=[0.05, 1.0],
    is_call=False,
)
@given(
    spot=st.floats(50.0, 200.0),
    time_to_expiry=st.floats(1.0 / 365.0, 3.0),
    rate=st.floats(0.0, 0.12),
    dividend_yield=st.floats(0.0, 0.10),
    volatilities=st.lists(st.floats(0.05, 1.5), min_size=2, max_size=2),
    is_call=st.booleans(),
)
def test_american_price_is_bounded_below_and_rises_with_volatility(
    *, spot, time_to_expiry, rate, dividend_yield, volatilities, is_call
):
    low, high = sorted(volatilities)
    option = {
        "spot": spot,
        "strike": 100.0,
        "time_to_expiry": time_to_expiry,
        "rate": rate,
        "dividend_yield": dividend_yield,
        "is_call": is_call,
    }
    cheaper = american.price(**option, volatility=low)
    dearer = american.price(**option, volatility=high)
    exercise = spot - 100.0 if is_call else 100.0 - spot
    assert cheaper >= max(exercise, float(bsm.price(**option, volatility=low))) - 1e-12
    # The boundary method's own error (~1e-5) bounds how far the order can slip.
    assert dearer >= cheaper - 1e-4


def test_call_without_dividends_is_the_european_call():
    grid = realistic_grid(2_000, seed=22)
    grid["dividend_yield"] = np.zeros(2_000)
    grid["is_call"] = np.ones(2_000, dtype=bool)
    np.testing.assert_array_equal(american.price(**grid), bsm.price(**grid))


def test_put_at_a_non_positive_rate_is_the_european_put():
    grid = realistic_grid(1_000, seed=23)
    grid["rate"] = np.full(1_000, -0.01)
    grid["is_call"] = np.zeros(1_000, dtype=bool)
    np.testing.assert_array_equal(american.price(**grid), bsm.price(**grid))


def test_negative_rates_let_a_call_without_dividends_exercise_early():
    case = {
        "spot": np.array([120.0, 95.0]),
        "strike": np.array([100.0, 100.0]),
        "time_to_expiry": np.array([1.0, 1.0]),
        "rate": np.array([-0.03, -0.01]),
        "dividend_yield": np.array([0.0, -0.04]),
        "volatility": np.array([0.2, 0.25]),
        "is_call": np.array([True, False]),
    }
    value = american.price(**case)
    assert value[0] > bsm.price(**case)[0] + 0.5
    np.testing.assert_allclose(value, tree_reference(case), atol=2e-3)


def test_tree_without_early_exercise_converges_to_black_scholes():
    grid = realistic_grid(50, seed=24)
    tree = american.crr_price(**grid, steps=TREE_STEPS, american=False)
    np.testing.assert_allclose(tree, bsm.price(**grid), atol=5e-3)


def test_tree_rejects_a_bad_step_count():
    with pytest.raises(PricingInputError, match=r"^steps must be an integer >= 1, got 0$"):
        american.crr_price(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, False, steps=0)


def test_implied_volatility_round_trips_on_listed_options():
    grid = realistic_grid(2_000, seed=25)
    value = american.price(**grid)
    inputs = {
        key: grid[key] for key in ("spot", "strike", "time_to_expiry", "rate", "dividend_yield")
    }
    result = american.implied_volatility(value, **inputs, is_call=grid["is_call"])
    # Options in the exercise region, and deep in-the-money ones at low volatility
    # (worth their zero-volatility value to the last digits), carry no volatility.
    vega = bsm.greeks(**grid).vega
    exercise = np.where(
        grid["is_call"], grid["spot"] - grid["strike"], grid["strike"] - grid["spot"]
    )
    informative = (vega > 1e-3) & (value > exercise + 1e-9)
    assert np.all(result.reason[informative] == Reason.OK)
    solved = result.is_valid
    repriced = american.price(**{**grid, "volatility": result.volatility})
    assert np.max(np.abs(repriced - value)[solved]) < 2e-5
    sensitive = solved & (vega > 0.05)
    assert np.max(np.abs(result.volatility - grid["volatility"])[sensitive]) < 1e-5


@pytest.mark.parametrize(
    ("price", "spot", "time", "reason"),
    [
        (float("nan"), 90.0, 1.0, Reason.NAN_INPUT),
        (12.0, 90.0, 0.0, Reason.NON_POSITIVE_TIME),
        (12.0, -90.0, 1.0, Reason.NON_POSITIVE_SPOT),
        (0.0, 90.0, 1.0, Reason.NON_POSITIVE_PRICE),
        (10.0, 90.0, 1.0, Reason.BELOW_INTRINSIC),
        (9.0, 90.0, 1.0, Reason.BELOW_INTRINSIC),
        (100.0, 90.0, 1.0, Reason.ABOVE_UPPER_BOUND),
        (99.9, 90.0, 1.0, Reason.ABOVE_UPPER_BOUND),
    ],
)
def test_implied_volatility_gives_nan_and_the_reason(price, spot, time, reason):
    result = american.implied_volatility(price, spot, 100.0, time, 0.05, 0.0, False)
    assert np.isnan(result.volatility)
    assert result.reason == reason


def test_scalar_helpers_round_trip_and_raise_naming_the_argument():
    value = american.price_scalar(100.0, 100.0, 1.0, 0.05, 0.02, 0.25, False)
    assert american.implied_volatility_scalar(value, 100.0, 100.0, 1.0, 0.05, 0.02, False) == (
        pytest.approx(0.25, abs=1e-7)
    )
    with pytest.raises(PricingInputError, match=r"^volatility must be > 0, got -0\.2$"):
        american.price_scalar(100.0, 100.0, 1.0, 0.05, 0.02, -0.2, False)
    with pytest.raises(
        PricingInputError, match=r"price must be above the intrinsic value 10\.0, got 9\.5"
    ):
        american.implied_volatility_scalar(9.5, 90.0, 100.0, 1.0, 0.05, 0.0, False)
