"""American options on a spot with a continuous dividend yield.

Three prices, for three jobs:

* :func:`price` is the one to use.  It solves the early-exercise boundary from Kim's
  integral equation and adds the early-exercise premium to the European price (the
  method of Andersen, Lake and Offengelden, "High-performance American option pricing",
  2016; an independent numpy implementation).  It agrees with a converged binomial
  tree to about 1e-4 per 100 of strike on realistic inputs.
* :func:`baw_price` is the Barone-Adesi-Whaley (1987) quadratic approximation: fast and
  classic, but off by up to a few 1e-2 per 100 of strike within a year to expiry and
  about 0.25 at two years.
* :func:`crr_price` is a Cox-Ross-Rubinstein binomial tree, the reference the tests
  check the others against.

Conventions are those of :mod:`otrade.pricing.bsm` (years ACT/365, continuously
compounded rates, prices per unit of the underlying).  Puts are priced directly; a call
is priced as the put with spot and strike, and rate and dividend yield, exchanged (the
put-call symmetry of McDonald and Schroder, exact for American options).  Where early
exercise can never pay, the American price is the European one: for a call when
``dividend_yield <= 0`` and ``rate >= dividend_yield`` (so a call on a non-dividend payer
at a non-negative rate is European), for a put when ``rate <= 0`` and
``dividend_yield >= rate``; a carry ``rate * time_to_expiry`` (for calls
``dividend_yield * time_to_expiry``) below the float64 epsilon counts as zero, as its
premium could not show in the price.  The rare regime where a put may have two exercise
boundaries (``dividend_yield < rate <= 0``; for calls ``rate < dividend_yield <= 0``) is
priced on a 1,000-step tree with the European control variate.

The boundary method (module ``_boundary``) represents the boundary at 8 Chebyshev nodes
in the square root of the time to expiry and solves Kim's integral equation for it by
six fixed-point iterations; the premium integral then uses 24 Gauss-Legendre points.

As in the European modules, vector functions return NaN for bad values (and a
:class:`~otrade.pricing.reasons.Reason` for implied volatilities), and the ``*_scalar``
helpers raise :class:`~otrade.pricing.reasons.PricingInputError`.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from otrade.pricing import _black, _tree, bsm
from otrade.pricing._arrays import (
    BoolArray,
    FloatArray,
    all_finite,
    assign_reason,
    broadcast_inputs,
    finite_result,
    masked,
    raise_for_reason,
    require_bool,
    require_market,
    require_positive,
    valid_inputs,
)
from otrade.pricing._boundary import PutInputs, boundary_put, european_put
from otrade.pricing._special import ndtr
from otrade.pricing.reasons import PricingInputError, Reason
from otrade.pricing.results import IVResult

__all__ = [
    "baw_price",
    "crr_price",
    "implied_volatility",
    "implied_volatility_scalar",
    "price",
    "price_scalar",
]

_ONE_OVER_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)
_FALLBACK_TREE_STEPS = 1_000
_EPSILON = float(np.finfo(np.float64).eps)


def price(  # noqa: PLR0917 - the conventional order of pricing arguments
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend_yield: npt.ArrayLike,
    volatility: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Price American options by the exercise-boundary method.

    Args:
        spot: Price of the underlying.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        volatility: Annualised volatility (0.2 for 20%).
        is_call: True for calls, False for puts.

    Returns:
        Prices per unit of the underlying, never below the immediate exercise value, in
        the broadcast shape of the inputs; NaN where an input is NaN or infinite or
        ``spot``, ``strike``, ``time_to_expiry`` or ``volatility`` is not positive.
    """
    (spot, strike, time, rate, dividend_yield, volatility), is_call = broadcast_inputs(
        (spot, strike, time_to_expiry, rate, dividend_yield, volatility), is_call
    )
    valid = valid_inputs((rate, dividend_yield), (spot, strike, time, volatility))
    value = np.full(spot.shape, np.nan)
    with np.errstate(all="ignore"):
        puts = _as_puts(
            valid,
            spot=spot,
            strike=strike,
            time_to_expiry=time,
            rate=rate,
            dividend_yield=dividend_yield,
            volatility=volatility,
            is_call=is_call,
        )
        value[valid] = _american_put(puts)
    return masked(np.isfinite(value), value)


def _as_puts(
    valid: BoolArray,
    *,
    spot: FloatArray,
    strike: FloatArray,
    time_to_expiry: FloatArray,
    rate: FloatArray,
    dividend_yield: FloatArray,
    volatility: FloatArray,
    is_call: BoolArray,
) -> PutInputs:
    """The valid options as puts: a call is the put with S<->K and r<->q exchanged."""
    call = is_call[valid]
    return PutInputs(
        spot=np.where(call, strike[valid], spot[valid]),
        strike=np.where(call, spot[valid], strike[valid]),
        time_to_expiry=time_to_expiry[valid],
        rate=np.where(call, dividend_yield[valid], rate[valid]),
        dividend_yield=np.where(call, rate[valid], dividend_yield[valid]),
        volatility=volatility[valid],
    )


def _regimes(puts: PutInputs) -> tuple[BoolArray, BoolArray, BoolArray]:
    """Split puts into European, boundary-method and two-boundary (tree) regimes.

    A put's early-exercise premium is at most the interest on the strike, ``K (1 -
    e^(-rT))``; where ``r T`` is below the float64 epsilon it cannot show in the price,
    and the rate counts as zero.  At a zero or negative rate early exercise never pays
    unless the dividend yield is below the rate.
    """
    boundary = puts.rate * puts.time_to_expiry > _EPSILON
    european = ~boundary & (puts.dividend_yield >= np.minimum(puts.rate, 0.0))
    return european, boundary, ~(boundary | european)


def _american_put(puts: PutInputs) -> FloatArray:
    """Price puts in each regime: European, boundary method, or the tree fallback."""
    value = np.empty_like(puts.spot)
    european, boundary, tree = _regimes(puts)
    chosen = np.flatnonzero(european)
    value[chosen] = european_put(puts.take(chosen))
    chosen = np.flatnonzero(boundary)
    value[chosen] = boundary_put(puts.take(chosen))[0]
    chosen = np.flatnonzero(tree)
    value[chosen] = _tree_put_with_control(puts.take(chosen))
    # Volatilities near zero (say 1e-9) underflow the boundary method and leave the
    # tree without valid probabilities; such an option is worth its zero-volatility
    # value, or the European price if that is more.
    settled = np.maximum(european_put(puts), _zero_volatility_put(puts))
    finite: FloatArray = np.where(np.isfinite(value), value, settled)
    return finite


def _tree_put_with_control(puts: PutInputs) -> FloatArray:
    """American put on a tree, corrected by the tree's error on the European put."""
    is_call = np.zeros(puts.spot.shape, dtype=np.bool_)
    american_tree, european_tree = (
        _tree.tree(
            spot=puts.spot,
            strike=puts.strike,
            time_to_expiry=puts.time_to_expiry,
            rate=puts.rate,
            dividend_yield=puts.dividend_yield,
            volatility=puts.volatility,
            is_call=is_call,
            steps=_FALLBACK_TREE_STEPS,
            american=american,
        )
        for american in (True, False)
    )
    corrected: FloatArray = american_tree - european_tree + european_put(puts)
    return np.maximum(corrected, puts.strike - puts.spot)


def baw_price(  # noqa: PLR0917 - the conventional order of pricing arguments
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend_yield: npt.ArrayLike,
    volatility: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Price American options by the Barone-Adesi-Whaley quadratic approximation.

    With ``b = r - q``, ``M = 2r / sigma^2``, ``N = 2b / sigma^2``, ``h = 1 - e^(-rT)``
    and ``lambda = (-(N - 1) + w sqrt((N - 1)^2 + 4 M / h)) / 2``, the critical spot
    ``S*`` solves ``w (S* - K) = e(S*) + w (1 - e^(-qT) N(w d1(S*))) S* / lambda`` (by
    Newton's method) and, on the continuation side of ``S*``::

        price = e(S) + w (S* / lambda) (1 - e^(-qT) N(w d1(S*))) (S / S*)^lambda

    where ``e`` is the European price and ``w = +1`` for calls, ``-1`` for puts; beyond
    ``S*`` the price is ``w (S - K)``.  A call with ``dividend_yield <= 0`` and a put with
    ``rate <= 0`` (or a carry too small to show) are priced as European, and so is any
    option whose critical spot Newton's method cannot find (volatilities near zero).
    Fast, but an approximation: off by up to a
    few 1e-2 per 100 of strike within a year to expiry and about 0.25 at two years.

    Args:
        spot: Price of the underlying.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        volatility: Annualised volatility (0.2 for 20%).
        is_call: True for calls, False for puts.

    Returns:
        Prices per unit of the underlying; NaN where an input is outside its domain.
    """
    (spot, strike, time, rate, dividend_yield, volatility), is_call = broadcast_inputs(
        (spot, strike, time_to_expiry, rate, dividend_yield, volatility), is_call
    )
    valid = valid_inputs((rate, dividend_yield), (spot, strike, time, volatility))
    with np.errstate(all="ignore"):
        european = bsm.price(spot, strike, time, rate, dividend_yield, volatility, is_call)
        sign = np.where(is_call, 1.0, -1.0)
        variance = volatility * volatility
        shifted = 2.0 * (rate - dividend_yield) / variance - 1.0
        # 4M/h = 8r / (sigma^2 (1 - e^(-rT))), continuous at r = 0.
        rate_time = rate * time
        rate_factor = np.where(rate_time == 0.0, 1.0, rate_time / -np.expm1(-rate_time))
        exponent = 0.5 * (
            -shifted + sign * np.sqrt(shifted**2 + 8.0 * rate_factor / (variance * time))
        )
        critical = _baw_critical_spot(
            strike=strike,
            time_to_expiry=time,
            rate=rate,
            dividend_yield=dividend_yield,
            volatility=volatility,
            sign=sign,
            exponent=exponent,
            european_price_of=is_call,
        )
        dividend_discount = np.exp(-dividend_yield * time)
        deviation = volatility * np.sqrt(time)
        d1 = (
            np.log(critical / strike) + (rate - dividend_yield) * time
        ) / deviation + 0.5 * deviation
        coefficient = sign * (critical / exponent) * (1.0 - dividend_discount * ndtr(sign * d1))
        continuation = european + coefficient * (spot / critical) ** exponent
        exercise = sign * (spot - strike)
        # Early exercise needs a positive carry that can show in the price (as in
        # price()), and Newton's method must have found the critical spot.
        carry_time = np.where(is_call, dividend_yield, rate) * time
        early = (carry_time > _EPSILON) & np.isfinite(continuation) & (critical > 0.0)
        beyond = sign * (spot - critical) >= 0.0
        value = np.where(early, np.where(beyond, exercise, continuation), european)
        value = np.maximum(value, exercise)
    return masked(valid & np.isfinite(value), value)


def _baw_critical_spot(
    *,
    strike: FloatArray,
    time_to_expiry: FloatArray,
    rate: FloatArray,
    dividend_yield: FloatArray,
    volatility: FloatArray,
    sign: FloatArray,
    exponent: FloatArray,
    european_price_of: BoolArray,
) -> FloatArray:
    """Solve Barone-Adesi-Whaley's critical spot by Newton's method from Haug's seed."""
    carry = rate - dividend_yield
    variance = volatility * volatility
    deviation = volatility * np.sqrt(time_to_expiry)
    shifted = 2.0 * carry / variance - 1.0
    perpetual_exponent = 0.5 * (-shifted + sign * np.sqrt(shifted**2 + 8.0 * rate / variance))
    perpetual = strike / (1.0 - 1.0 / perpetual_exponent)
    call_slope = -(carry * time_to_expiry + 2.0 * deviation) * strike / (perpetual - strike)
    put_slope = (carry * time_to_expiry - 2.0 * deviation) * strike / (strike - perpetual)
    critical = np.where(
        sign > 0.0,
        strike + (perpetual - strike) * (1.0 - np.exp(call_slope)),
        perpetual + (strike - perpetual) * np.exp(put_slope),
    )
    dividend_discount = np.exp(-dividend_yield * time_to_expiry)
    for _ in range(100):
        european = bsm.price(
            critical, strike, time_to_expiry, rate, dividend_yield, volatility, european_price_of
        )
        d1 = (np.log(critical / strike) + carry * time_to_expiry) / deviation + 0.5 * deviation
        kept = 1.0 - dividend_discount * ndtr(sign * d1)
        mismatch = sign * (critical - strike) - european - sign * kept * critical / exponent
        slope = sign * kept * (1.0 - 1.0 / exponent) + dividend_discount * np.exp(
            -0.5 * d1 * d1
        ) * (_ONE_OVER_SQRT_TWO_PI / (deviation * exponent))
        step = mismatch / slope
        critical = critical - step
        if not np.any(np.abs(step) > 1e-12 * strike):
            break
    return critical


def crr_price(  # noqa: PLR0917 - the conventional order of pricing arguments
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend_yield: npt.ArrayLike,
    volatility: npt.ArrayLike,
    is_call: npt.ArrayLike,
    steps: int,
    *,
    american: bool = True,
) -> FloatArray:
    """Price options on a Cox-Ross-Rubinstein binomial tree.

    The tree moves by ``u = e^(sigma sqrt(dt))`` or ``1/u`` each step of
    ``dt = T / steps``, with up probability ``(e^((r-q) dt) - 1/u) / (u - 1/u)``.  The
    error shrinks like ``1/steps`` but oscillates with the position of the strike between
    nodes: at 2,000 steps it is up to a few 1e-3 per 100 of strike.  Subtracting the
    tree's error on the European option (``american=False``) cancels most of it.

    Args:
        spot: Price of the underlying.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        volatility: Annualised volatility (0.2 for 20%).
        is_call: True for calls, False for puts.
        steps: Number of time steps, >= 1.  Work grows like ``steps**2`` per option.
        american: False prices the European option on the same tree.

    Returns:
        Prices per unit of the underlying; NaN where an input is outside its domain or
        the up probability falls outside [0, 1] (too few steps for the carry).

    Raises:
        PricingInputError: ``steps`` is not a positive integer.
    """
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise PricingInputError(f"steps must be an integer >= 1, got {steps!r}")
    (spot, strike, time, rate, dividend_yield, volatility), is_call = broadcast_inputs(
        (spot, strike, time_to_expiry, rate, dividend_yield, volatility), is_call
    )
    valid = valid_inputs((rate, dividend_yield), (spot, strike, time, volatility))
    value = np.full(spot.shape, np.nan)
    with np.errstate(all="ignore"):
        value[valid] = _tree.tree(
            spot=spot[valid],
            strike=strike[valid],
            time_to_expiry=time[valid],
            rate=rate[valid],
            dividend_yield=dividend_yield[valid],
            volatility=volatility[valid],
            is_call=is_call[valid],
            steps=int(steps),
            american=american,
        )
    return masked(np.isfinite(value), value)


def implied_volatility(  # noqa: PLR0917 - the conventional order of pricing arguments
    price: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend_yield: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> IVResult:
    """Solve for the volatility that reproduces American option prices under :func:`price`.

    The first guess de-Americanises the price: the European implied volatility of the
    price less the early-exercise premium at the European implied volatility.  Secant
    steps, kept inside a bracket and re-solving the exercise boundary from the previous
    one, finish the job in two to four more prices.  The result reproduces the price to
    within the boundary iteration's error (about 1e-5 per 100 of strike).

    Args:
        price: Option price per unit of the underlying.
        spot: Price of the underlying.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        is_call: True for calls, False for puts.

    Returns:
        The annualised volatilities and a reason code per option: ``NAN_INPUT``,
        ``NON_POSITIVE_TIME``, ``NON_POSITIVE_SPOT``, ``NON_POSITIVE_STRIKE``,
        ``NON_POSITIVE_PRICE``, ``BELOW_INTRINSIC`` (at or below the zero-volatility
        value, at least ``max(w (S - K), 0)``), ``ABOVE_UPPER_BOUND`` (at or above
        ``S max(1, e^(-qT))`` for a call or ``K max(1, e^(-rT))`` for a put, or needing a
        volatility above 1,000%) or ``NO_CONVERGENCE``.
    """
    (price, spot, strike, time, rate, dividend_yield), is_call = broadcast_inputs(
        (price, spot, strike, time_to_expiry, rate, dividend_yield), is_call
    )
    reason = np.zeros(price.shape, dtype=np.int8)
    assign_reason(
        reason, ~all_finite(price, spot, strike, time, rate, dividend_yield), Reason.NAN_INPUT
    )
    assign_reason(reason, time <= 0.0, Reason.NON_POSITIVE_TIME)
    assign_reason(reason, spot <= 0.0, Reason.NON_POSITIVE_SPOT)
    assign_reason(reason, strike <= 0.0, Reason.NON_POSITIVE_STRIKE)
    assign_reason(reason, price <= 0.0, Reason.NON_POSITIVE_PRICE)
    volatility = np.full(price.shape, np.nan)
    with np.errstate(all="ignore"):
        checked = reason == Reason.OK
        puts = _as_puts(
            checked,
            spot=spot,
            strike=strike,
            time_to_expiry=time,
            rate=rate,
            dividend_yield=dividend_yield,
            volatility=np.ones_like(spot),
            is_call=is_call,
        )
        target = price[checked]
        put_reason = np.zeros(target.shape, dtype=np.int8)
        assign_reason(put_reason, target <= _zero_volatility_put(puts), Reason.BELOW_INTRINSIC)
        assign_reason(put_reason, target >= _upper_bound_put(puts), Reason.ABOVE_UPPER_BOUND)
        put_volatility = _implied_put_volatility(target, puts, put_reason)
    reason[checked] = put_reason
    volatility[checked] = put_volatility
    return IVResult(volatility=volatility, reason=reason)


def _upper_bound_put(puts: PutInputs) -> FloatArray:
    """The put's supremum over volatilities: ``K max(1, e^(-rT))``."""
    bound: FloatArray = puts.strike * np.maximum(1.0, np.exp(-puts.rate * puts.time_to_expiry))
    return bound


def _zero_volatility_put(puts: PutInputs) -> FloatArray:
    """The put's value as volatility goes to 0: ``max over t in [0, T] of K e^(-rt) - S e^(-qt)``.

    The spot then grows deterministically, so the best exercise time is 0, ``T`` or the
    one stationary point ``t* = ln(r K / (q S)) / (r - q)``.
    """
    strike, spot, rate, dividend_yield = puts.strike, puts.spot, puts.rate, puts.dividend_yield
    stationary = np.log(rate * strike / (dividend_yield * spot)) / (rate - dividend_yield)
    stationary = np.where(
        np.isfinite(stationary), np.clip(stationary, 0.0, puts.time_to_expiry), 0.0
    )
    candidates = [
        strike - spot,
        strike * np.exp(-rate * puts.time_to_expiry)
        - spot * np.exp(-dividend_yield * puts.time_to_expiry),
        strike * np.exp(-rate * stationary) - spot * np.exp(-dividend_yield * stationary),
    ]
    value: FloatArray = np.maximum(np.maximum.reduce(candidates), 0.0)
    return value


def _implied_put_volatility(
    target: FloatArray, puts: PutInputs, reason: npt.NDArray[np.int8]
) -> FloatArray:
    """Solve the puts whose ``reason`` is still OK, per regime; update ``reason``."""
    volatility = np.full(target.shape, np.nan)
    solvable = reason == Reason.OK
    european, boundary, tree = (solvable & regime for regime in _regimes(puts))

    chosen = np.flatnonzero(european)
    part = puts.take(chosen)
    part_reason = reason[chosen]
    volatility[chosen] = _european_put_volatility(target[chosen], part, part_reason)
    reason[chosen] = part_reason

    for chosen, evaluate in (
        (np.flatnonzero(boundary), _BoundaryEvaluator),
        (np.flatnonzero(tree), _TreeEvaluator),
    ):
        part = puts.take(chosen)
        solved, solved_reason = _solve_volatility(target[chosen], part, evaluate(part))
        volatility[chosen] = solved
        reason[chosen] = solved_reason
    return volatility


def _european_put_volatility(
    target: FloatArray, puts: PutInputs, reason: npt.NDArray[np.int8]
) -> FloatArray:
    """European implied volatility of puts (NaN where it has none); updates ``reason``."""
    total = _black.implied_total_volatility(
        target,
        puts.spot * np.exp(-puts.dividend_yield * puts.time_to_expiry),
        puts.strike * np.exp(-puts.rate * puts.time_to_expiry),
        np.zeros(target.shape, dtype=np.bool_),
        reason,
    )
    volatility: FloatArray = total / np.sqrt(puts.time_to_expiry)
    return volatility


class _BoundaryEvaluator:
    """Prices puts by the boundary method, starting each boundary from the last one."""

    def __init__(self, puts: PutInputs) -> None:
        self._puts = puts
        self._squared_log_boundary: FloatArray | None = None

    def __call__(self, volatility: FloatArray, indices: npt.NDArray[np.intp]) -> FloatArray:
        """Price the puts at ``indices`` with ``volatility``."""
        part = self._puts.take(indices).with_volatility(volatility)
        if self._squared_log_boundary is None:
            value, self._squared_log_boundary = boundary_put(part)
            return value
        value, self._squared_log_boundary[indices] = boundary_put(
            part, self._squared_log_boundary[indices]
        )
        return value


class _TreeEvaluator:
    """Prices puts on the control-variate tree (the two-boundary regime)."""

    def __init__(self, puts: PutInputs) -> None:
        self._puts = puts

    def __call__(self, volatility: FloatArray, indices: npt.NDArray[np.intp]) -> FloatArray:
        """Price the puts at ``indices`` with ``volatility``."""
        return _tree_put_with_control(self._puts.take(indices).with_volatility(volatility))


_MINIMUM_VOLATILITY = 1e-4
_MAXIMUM_VOLATILITY = 10.0
_VOLATILITY_TOLERANCE = 1e-9
_PRICE_TOLERANCE = 1e-12
_MAXIMUM_EVALUATIONS = 60


def _solve_volatility(
    target: FloatArray,
    puts: PutInputs,
    evaluate: _BoundaryEvaluator | _TreeEvaluator,
) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    """Bracketed secant iteration on ``evaluate(sigma) = target``.

    Starts at the European implied volatility (an upper bound of the American one, as
    the American price is never below the European) and de-Americanises once; then
    secant steps, with bisection whenever a step would leave the bracket.
    """
    count = target.size
    european_reason = np.zeros(count, dtype=np.int8)
    european = _european_put_volatility(target, puts, european_reason)
    sigma = np.clip(
        np.where(np.isfinite(european), european, 0.5), _MINIMUM_VOLATILITY, _MAXIMUM_VOLATILITY
    )
    lower = np.full(count, _MINIMUM_VOLATILITY)
    upper = np.full(count, _MAXIMUM_VOLATILITY)
    previous_sigma = np.full(count, np.nan)
    previous_mismatch = np.full(count, np.nan)
    converged = np.zeros(count, dtype=np.bool_)
    active = np.arange(count)
    for evaluation in range(_MAXIMUM_EVALUATIONS):
        if active.size == 0:
            break
        now = sigma[active]
        mismatch = evaluate(now, active) - target[active]
        above = mismatch > 0.0
        upper[active] = np.where(above, np.minimum(upper[active], now), upper[active])
        lower[active] = np.where(above, lower[active], np.maximum(lower[active], now))
        if evaluation == 0:
            proposal = _deamericanised(target[active], puts.take(active), now, mismatch)
        else:
            slope = (mismatch - previous_mismatch[active]) / (now - previous_sigma[active])
            proposal = now - mismatch / slope
        low, high = lower[active], upper[active]
        small = np.abs(proposal - now) <= _VOLATILITY_TOLERANCE * now
        inside = (proposal > low) & (proposal < high)
        proposal = np.where(inside | small, proposal, 0.5 * (low + high))
        # A price matched to round-off needs no further step.
        matched = np.abs(mismatch) <= _PRICE_TOLERANCE * puts.strike[active]
        previous_sigma[active] = now
        previous_mismatch[active] = mismatch
        sigma[active] = np.where(matched, now, proposal)
        done = small | matched | (high - low <= _VOLATILITY_TOLERANCE * low)
        converged[active] = done
        active = active[~done]
    reason = np.where(converged, Reason.OK, Reason.NO_CONVERGENCE).astype(np.int8)
    reason[lower >= _MAXIMUM_VOLATILITY * (1.0 - _VOLATILITY_TOLERANCE)] = Reason.ABOVE_UPPER_BOUND
    reason[upper <= _MINIMUM_VOLATILITY * (1.0 + _VOLATILITY_TOLERANCE)] = Reason.BELOW_INTRINSIC
    return np.where(reason == Reason.OK, sigma, np.nan), reason


def _deamericanised(
    target: FloatArray, puts: PutInputs, sigma: FloatArray, mismatch: FloatArray
) -> FloatArray:
    """European implied volatility of the target less the premium at ``sigma``.

    The early-exercise premium moves little with volatility, so this lands close to
    the American implied volatility.  Falls back to halving or doubling ``sigma``.
    """
    at_sigma = puts.with_volatility(sigma)
    premium = mismatch + target - european_put(at_sigma)
    european = _european_put_volatility(
        target - premium, at_sigma, np.zeros(target.shape, dtype=np.int8)
    )
    fallback = np.where(mismatch > 0.0, 0.5 * sigma, 2.0 * sigma)
    guess: FloatArray = np.where(np.isfinite(european), european, fallback)
    return guess


def price_scalar(  # noqa: PLR0917 - the conventional order of pricing arguments
    spot: float,
    strike: float,
    time_to_expiry: float,
    rate: float,
    dividend_yield: float,
    volatility: float,
    is_call: bool,
) -> float:
    """Price one American option, raising for an input outside its domain.

    Args:
        spot: Price of the underlying, > 0.
        strike: Strike price, > 0.
        time_to_expiry: Years to expiry (ACT/365), > 0.
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        volatility: Annualised volatility, > 0.
        is_call: True for a call, False for a put.

    Returns:
        The price per unit of the underlying (:func:`price`).

    Raises:
        PricingInputError: An argument is NaN, infinite, not positive where it must be,
            or ``is_call`` is not a bool; the message names it and its value.
    """
    market = require_market(spot, strike, time_to_expiry, rate, dividend_yield)
    checked_volatility = require_positive("volatility", volatility)
    value = price(*market, checked_volatility, require_bool("is_call", is_call))
    return finite_result(value)


def implied_volatility_scalar(  # noqa: PLR0917 - the conventional order of pricing arguments
    price: float,
    spot: float,
    strike: float,
    time_to_expiry: float,
    rate: float,
    dividend_yield: float,
    is_call: bool,
) -> float:
    """Solve one American option's implied volatility, raising if it has none.

    Args:
        price: Option price per unit of the underlying, > 0.
        spot: Price of the underlying, > 0.
        strike: Strike price, > 0.
        time_to_expiry: Years to expiry (ACT/365), > 0.
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        is_call: True for a call, False for a put.

    Returns:
        The annualised implied volatility.

    Raises:
        PricingInputError: An argument is outside its domain, or the price is at or
            outside the no-arbitrage bounds; the message names the argument or bound
            and the value.
    """
    checked_price = require_positive("price", price)
    market = require_market(spot, strike, time_to_expiry, rate, dividend_yield)
    checked_spot, checked_strike, checked_time, checked_rate, checked_yield = market
    call = require_bool("is_call", is_call)
    result = implied_volatility(
        checked_price, checked_spot, checked_strike, checked_time, checked_rate, checked_yield, call
    )
    puts = PutInputs(
        spot=np.array([checked_strike if call else checked_spot]),
        strike=np.array([checked_spot if call else checked_strike]),
        time_to_expiry=np.array([checked_time]),
        rate=np.array([checked_yield if call else checked_rate]),
        dividend_yield=np.array([checked_rate if call else checked_yield]),
        volatility=np.ones(1),
    )
    with np.errstate(all="ignore"):
        lower_bound = float(_zero_volatility_put(puts)[0])
        upper_bound = float(_upper_bound_put(puts)[0])
    raise_for_reason(
        int(result.reason), checked_price, lower_bound=lower_bound, upper_bound=upper_bound
    )
    return float(result.volatility)
