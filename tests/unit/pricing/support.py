"""Shared helpers for the pricing tests: option grids and finite differences."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPSILON = float(np.finfo(np.float64).eps)


def european_grid(count: int, seed: int) -> dict[str, np.ndarray]:
    """Options over a wide range: an hour to five years, 1% to 300% volatility.

    Strikes span a factor e either side of the spot; rates go slightly negative.
    """
    rng = np.random.default_rng(seed)
    spot = rng.uniform(5.0, 500.0, count)
    return {
        "spot": spot,
        "strike": spot * np.exp(rng.uniform(-1.0, 1.0, count)),
        "time_to_expiry": np.exp(rng.uniform(np.log(1.0 / 365.0 / 24.0), np.log(5.0), count)),
        "rate": rng.uniform(-0.01, 0.10, count),
        "dividend_yield": rng.uniform(0.0, 0.06, count),
        "volatility": np.exp(rng.uniform(np.log(0.01), np.log(3.0), count)),
        "is_call": rng.random(count) < 0.5,
    }


def realistic_grid(count: int, seed: int) -> dict[str, np.ndarray]:
    """Listed-option inputs: a week to two years, 5% to 100% volatility, strikes +-40%."""
    rng = np.random.default_rng(seed)
    return {
        "spot": np.full(count, 100.0),
        "strike": rng.uniform(60.0, 140.0, count),
        "time_to_expiry": rng.uniform(7.0 / 365.0, 2.0, count),
        "rate": rng.uniform(0.0, 0.08, count),
        "dividend_yield": rng.uniform(0.0, 0.05, count),
        "volatility": rng.uniform(0.05, 1.0, count),
        "is_call": rng.random(count) < 0.5,
    }


def central_difference(
    function: Callable[[np.ndarray], np.ndarray], value: np.ndarray, step: np.ndarray
) -> np.ndarray:
    """Central difference quotient of ``function`` at ``value``."""
    return (function(value + step) - function(value - step)) / (2.0 * step)
