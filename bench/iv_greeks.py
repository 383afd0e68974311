"""Implied volatility and Greeks throughput and accuracy, against py_vollib_vectorized.

Workloads:
  (a) European: ``numpy.random.default_rng(42)``; 100,000 options with S=100, K uniform
      in [50, 150], T uniform in [7/365, 2], r=0.04, q=0, sigma uniform in [0.05, 1.5]
      (drawn in that order), the first half calls and the second half puts; prices from
      otrade's BSM; options priced below 1e-6 or with vega (per unit of volatility)
      below 1e-8 dropped.  Timed: implied volatility from the prices plus delta, gamma,
      theta and vega (best of several warm runs).  Accuracy: max and p99 absolute IV
      error against the true sigma.  py_vollib_vectorized's
      ``vectorized_implied_volatility`` and ``get_all_greeks`` run on the same arrays
      when it imports.
  (b) American: 10,000 options (``default_rng(7)``: S=100, K uniform in [70, 130], T
      uniform in [7/365, 1], r uniform in [0, 0.06], q uniform in [0, 0.04], sigma
      uniform in [0.1, 0.6], half calls and half puts) priced by otrade's boundary
      method; timed: their implied volatilities.  Price error of the boundary method and
      of Barone-Adesi-Whaley against a 2,000-step CRR tree, on a sample of them.
  (c) Chain snapshot refresh: IV and Greeks from prices for 10,000 options of one
      underlying (25 expiries x 200 strikes x call/put, prices on a volatility smile).

Prints one JSON line.

Usage: python bench/iv_greeks.py [--repeats N] [--tree-sample N]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from otrade.pricing import american, bsm

EUROPEAN_COUNT = 100_000
AMERICAN_COUNT = 10_000
CHAIN_EXPIRIES = 25
CHAIN_STRIKES = 200
TREE_STEPS = 2_000


def best_time(function: Callable[[], object], repeats: int) -> float:
    """Best wall time in seconds of ``repeats`` runs after one warm-up run."""
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def european_workload() -> dict[str, Any]:
    rng = np.random.default_rng(42)
    strike = rng.uniform(50.0, 150.0, EUROPEAN_COUNT)
    time_to_expiry = rng.uniform(7.0 / 365.0, 2.0, EUROPEAN_COUNT)
    volatility = rng.uniform(0.05, 1.5, EUROPEAN_COUNT)
    is_call = np.arange(EUROPEAN_COUNT) < EUROPEAN_COUNT // 2
    spot = np.full(EUROPEAN_COUNT, 100.0)
    rate = np.full(EUROPEAN_COUNT, 0.04)
    dividend_yield = np.zeros(EUROPEAN_COUNT)
    price = bsm.price(spot, strike, time_to_expiry, rate, dividend_yield, volatility, is_call)
    vega_per_unit = (
        bsm.greeks(spot, strike, time_to_expiry, rate, dividend_yield, volatility, is_call).vega
        * 100.0
    )
    keep = (price >= 1e-6) & (vega_per_unit >= 1e-8)
    return {
        "price": price[keep],
        "spot": spot[keep],
        "strike": strike[keep],
        "time_to_expiry": time_to_expiry[keep],
        "rate": rate[keep],
        "dividend_yield": dividend_yield[keep],
        "volatility": volatility[keep],
        "is_call": is_call[keep],
    }


def ours_iv_and_greeks(work: dict[str, Any]) -> tuple[np.ndarray, Any]:
    inputs = (
        work["spot"],
        work["strike"],
        work["time_to_expiry"],
        work["rate"],
        work["dividend_yield"],
    )
    result = bsm.implied_volatility(work["price"], *inputs, work["is_call"])
    return result.volatility, bsm.greeks(*inputs, result.volatility, work["is_call"])


def errors(solved: np.ndarray, truth: np.ndarray) -> dict[str, float | int]:
    error = np.abs(solved - truth)
    finite = np.isfinite(error)
    return {
        "max_abs_iv_error": float(np.max(error[finite])) if finite.any() else float("nan"),
        "p99_abs_iv_error": float(np.percentile(error[finite], 99))
        if finite.any()
        else float("nan"),
        "unsolved": int(np.count_nonzero(~finite)),
    }


def run_european(repeats: int) -> dict[str, Any]:
    work = european_workload()
    ours_s = best_time(lambda: ours_iv_and_greeks(work), repeats)
    volatility, _ = ours_iv_and_greeks(work)
    ours_errors = errors(volatility, work["volatility"])
    section: dict[str, Any] = {
        "options": int(work["price"].size),
        "filter": "price >= 1e-6 and vega per unit volatility >= 1e-8",
        "otrade_iv_plus_greeks_ms": round(ours_s * 1e3, 2),
        **{f"otrade_{key}": value for key, value in ours_errors.items()},
        "target_max_abs_iv_error_le_1e-6_met": ours_errors["max_abs_iv_error"] <= 1e-6,
        "target_p99_abs_iv_error_le_1e-10_met": ours_errors["p99_abs_iv_error"] <= 1e-10,
    }
    theirs = run_py_vollib(work, repeats)
    section.update(theirs)
    if "py_vollib_vectorized_iv_plus_greeks_ms" in theirs:
        ratio = ours_s * 1e3 / theirs["py_vollib_vectorized_iv_plus_greeks_ms"]
        section["ratio_vs_py_vollib_vectorized"] = round(ratio, 3)
        section["target_ratio_le_0.5_met"] = ratio <= 0.5
    return section


def run_py_vollib(work: dict[str, Any], repeats: int) -> dict[str, Any]:
    try:
        import py_vollib_vectorized as vollib
    except ImportError:
        return {"py_vollib_vectorized": None}
    flag = np.where(work["is_call"], "c", "p")
    arguments = (work["spot"], work["strike"], work["time_to_expiry"], work["rate"])

    def theirs() -> np.ndarray:
        volatility = vollib.vectorized_implied_volatility(
            work["price"],
            *arguments,
            flag,
            q=work["dividend_yield"],
            model="black_scholes_merton",
            return_as="numpy",
            on_error="ignore",
        )
        vollib.get_all_greeks(
            flag,
            *arguments,
            volatility,
            q=work["dividend_yield"],
            model="black_scholes_merton",
            return_as="dict",
        )
        return np.asarray(volatility, dtype=np.float64)

    theirs_s = best_time(theirs, repeats)
    their_errors = errors(theirs(), work["volatility"])
    return {
        "py_vollib_vectorized_iv_plus_greeks_ms": round(theirs_s * 1e3, 2),
        **{f"py_vollib_vectorized_{key}": value for key, value in their_errors.items()},
    }


def american_workload() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    count = AMERICAN_COUNT
    return {
        "spot": np.full(count, 100.0),
        "strike": rng.uniform(70.0, 130.0, count),
        "time_to_expiry": rng.uniform(7.0 / 365.0, 1.0, count),
        "rate": rng.uniform(0.0, 0.06, count),
        "dividend_yield": rng.uniform(0.0, 0.04, count),
        "volatility": rng.uniform(0.1, 0.6, count),
        "is_call": np.arange(count) < count // 2,
    }


def run_american(repeats: int, tree_sample: int) -> dict[str, Any]:
    work = american_workload()
    price = american.price(**work)
    inputs = {
        key: work[key] for key in ("spot", "strike", "time_to_expiry", "rate", "dividend_yield")
    }

    def solve() -> Any:
        return american.implied_volatility(price, **inputs, is_call=work["is_call"])

    solve_s = best_time(solve, repeats)
    result = solve()
    vega = bsm.greeks(**work).vega
    informative = result.is_valid & (vega >= 0.01)
    error = np.abs(result.volatility - work["volatility"])[informative]
    repriced = american.price(**{**work, "volatility": result.volatility})

    sample = {key: value[:tree_sample] for key, value in work.items()}
    plain_tree = american.crr_price(**sample, steps=TREE_STEPS)
    # The plain tree's own error: it oscillates with the strike's place between nodes.
    next_tree = american.crr_price(**sample, steps=TREE_STEPS + 1)
    european_tree = american.crr_price(**sample, steps=TREE_STEPS, american=False)
    controlled_tree = plain_tree - european_tree + bsm.price(**sample)
    boundary = price[:tree_sample]
    baw = american.baw_price(**sample)
    boundary_error = float(np.max(np.abs(boundary - controlled_tree)))
    baw_error = float(np.max(np.abs(baw - controlled_tree)))
    return {
        "options": AMERICAN_COUNT,
        "iv_ms": round(solve_s * 1e3, 1),
        "target_iv_lt_1s_met": solve_s < 1.0,
        "solved": int(np.count_nonzero(result.is_valid)),
        "unsolved_reasons": {
            str(code): int(count)
            for code, count in enumerate(np.bincount(result.reason))
            if code and count
        },
        "max_abs_iv_error_where_vega_ge_0.01": float(error.max()),
        "p99_abs_iv_error_where_vega_ge_0.01": float(np.percentile(error, 99)),
        "max_abs_reprice_error": float(np.nanmax(np.abs(repriced - price)[result.is_valid])),
        "tree_sample": tree_sample,
        "tree_steps": TREE_STEPS,
        "boundary_vs_tree_with_control_variate_max_abs": boundary_error,
        "boundary_vs_plain_tree_max_abs": float(np.max(np.abs(boundary - plain_tree))),
        "plain_tree_2000_vs_2001_steps_max_abs": float(np.max(np.abs(next_tree - plain_tree))),
        "baw_vs_tree_with_control_variate_max_abs": baw_error,
        "baw_vs_plain_tree_max_abs": float(np.max(np.abs(baw - plain_tree))),
        "target_price_error_le_1e-3_met_by_boundary_method": boundary_error <= 1e-3,
        "target_price_error_le_1e-3_met_by_baw": baw_error <= 1e-3,
    }


def chain_snapshot() -> dict[str, np.ndarray]:
    expiries_days = np.linspace(1.0, 730.0, CHAIN_EXPIRIES)
    strikes = np.linspace(50.0, 150.0, CHAIN_STRIKES)
    time_to_expiry, strike, is_call = np.meshgrid(
        expiries_days / 365.0, strikes, [True, False], indexing="ij"
    )
    time_to_expiry, strike, is_call = time_to_expiry.ravel(), strike.ravel(), is_call.ravel()
    moneyness = np.log(strike / 100.0) / np.sqrt(time_to_expiry)
    volatility = 0.2 - 0.05 * moneyness + 0.03 * moneyness**2
    spot, rate, dividend_yield = 100.0, 0.04, 0.013
    price = bsm.price(spot, strike, time_to_expiry, rate, dividend_yield, volatility, is_call)
    return {
        "price": price,
        "strike": strike,
        "time_to_expiry": time_to_expiry,
        "is_call": is_call,
        "volatility": volatility,
    }


def run_chain(repeats: int) -> dict[str, Any]:
    chain = chain_snapshot()

    def refresh() -> Any:
        result = bsm.implied_volatility(
            chain["price"],
            100.0,
            chain["strike"],
            chain["time_to_expiry"],
            0.04,
            0.013,
            chain["is_call"],
        )
        return bsm.greeks(
            100.0,
            chain["strike"],
            chain["time_to_expiry"],
            0.04,
            0.013,
            result.volatility,
            chain["is_call"],
        )

    refresh_s = best_time(refresh, repeats * 4)
    return {
        "options": int(chain["price"].size),
        "iv_plus_greeks_ms": round(refresh_s * 1e3, 2),
        "target_lt_20ms_met": refresh_s < 0.020,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tree-sample", type=int, default=200)
    arguments = parser.parse_args()
    result: dict[str, Any] = {
        "benchmark": "iv_greeks",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "a_european": run_european(arguments.repeats),
        "b_american": run_american(max(1, arguments.repeats // 2), arguments.tree_sample),
        "c_chain_snapshot": run_chain(arguments.repeats),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
