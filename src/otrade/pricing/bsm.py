"""Black-Scholes-Merton: European options on a spot with a continuous dividend yield.

Conventions (the same in every otrade pricing module):

* ``time_to_expiry`` in years; the caller computes it as ACT/365 (calendar days / 365,
  fractions of a day allowed).
* ``rate`` and ``dividend_yield`` are continuously compounded annual rates
  (0.04 means 4%); ``volatility`` is annualised (0.2 means 20%).
* Prices are per unit of the underlying (per share, not per contract).
* Greeks are per unit of the underlying: ``delta`` per 1 unit move of the spot,
  ``gamma`` per 1 unit move squared, ``theta`` per calendar day (annual theta / 365),
  ``vega`` per 1 percentage point of volatility and ``rho`` per 1 percentage point of
  ``rate`` (each / 100).  Scale them with
  :func:`~otrade.pricing.results.position_greeks`.

Formulas, with ``F = S e^((r-q)T)``, ``d1 = (ln(S/K) + (r - q + sigma^2/2) T) /
(sigma sqrt T)``, ``d2 = d1 - sigma sqrt T``, ``w = +1`` for a call and ``-1`` for a put,
``N`` the standard normal distribution function and ``n`` its density::

    price = w (S e^(-qT) N(w d1) - K e^(-rT) N(w d2))
    delta = w e^(-qT) N(w d1)
    gamma = e^(-qT) n(d1) / (S sigma sqrt T)
    theta = (-S e^(-qT) n(d1) sigma / (2 sqrt T) - w r K e^(-rT) N(w d2)
             + w q S e^(-qT) N(w d1)) / 365
    vega  = S e^(-qT) n(d1) sqrt T / 100
    rho   = w K T e^(-rT) N(w d2) / 100

The price is computed as the discounted intrinsic value plus the out-of-the-money time
value (put-call parity), so deep in-the-money prices keep their time value to the last
bit.  The vector functions take numpy arrays or scalars, broadcast them together, and
never raise for a bad value: ``price`` and ``greeks`` return NaN where an input is NaN
or infinite or ``spot``, ``strike``, ``time_to_expiry`` or ``volatility`` is not
positive; ``implied_volatility`` returns NaN with a
:class:`~otrade.pricing.reasons.Reason`.  The ``*_scalar`` helpers raise
:class:`~otrade.pricing.reasons.PricingInputError` instead.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from otrade.pricing import _black
from otrade.pricing._arrays import (
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
from otrade.pricing._special import ndtr
from otrade.pricing.reasons import Reason
from otrade.pricing.results import Greeks, IVResult

__all__ = [
    "greeks",
    "implied_volatility",
    "implied_volatility_scalar",
    "price",
    "price_scalar",
]

_ONE_OVER_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)
_DAYS_PER_YEAR = 365.0
_PER_PERCENTAGE_POINT = 0.01


def price(  # noqa: PLR0917 - the conventional order of pricing arguments
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend_yield: npt.ArrayLike,
    volatility: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Price European options.

    Args:
        spot: Price of the underlying.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        volatility: Annualised volatility (0.2 for 20%).
        is_call: True for calls, False for puts.

    Returns:
        Prices per unit of the underlying, in the broadcast shape of the inputs; NaN
        where an input is outside its domain.
    """
    (spot, strike, time, rate, dividend_yield, volatility), is_call = broadcast_inputs(
        (spot, strike, time_to_expiry, rate, dividend_yield, volatility), is_call
    )
    with np.errstate(all="ignore"):
        discounted_forward = spot * np.exp(-dividend_yield * time)
        discounted_strike = strike * np.exp(-rate * time)
        value = _black.black_price(
            discounted_forward, discounted_strike, volatility * np.sqrt(time), is_call
        )
    valid = valid_inputs((rate, dividend_yield), (spot, strike, time, volatility))
    return masked(valid & np.isfinite(value), value)


def greeks(  # noqa: PLR0917 - the conventional order of pricing arguments
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend_yield: npt.ArrayLike,
    volatility: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> Greeks:
    """Compute the Greeks of European options.

    Args:
        spot: Price of the underlying.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        volatility: Annualised volatility (0.2 for 20%).
        is_call: True for calls, False for puts.

    Returns:
        Delta, gamma, theta per calendar day, vega and rho per percentage point, per
        unit of the underlying; NaN where an input is outside its domain.
    """
    (spot, strike, time, rate, dividend_yield, volatility), is_call = broadcast_inputs(
        (spot, strike, time_to_expiry, rate, dividend_yield, volatility), is_call
    )
    valid = valid_inputs((rate, dividend_yield), (spot, strike, time, volatility))
    with np.errstate(all="ignore"):
        sqrt_time = np.sqrt(time)
        total_volatility = volatility * sqrt_time
        dividend_discount = np.exp(-dividend_yield * time)
        discounted_forward = spot * dividend_discount
        discounted_strike = strike * np.exp(-rate * time)
        d1 = np.log(discounted_forward / discounted_strike) / total_volatility
        d1 += 0.5 * total_volatility
        sign = np.where(is_call, 1.0, -1.0)
        cdf_d1 = ndtr(sign * d1)
        cdf_d2 = ndtr(sign * (d1 - total_volatility))
        forward_density = discounted_forward * (_ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * d1 * d1))
        annual_theta = (
            -0.5 * forward_density * volatility / sqrt_time
            - sign * rate * discounted_strike * cdf_d2
            + sign * dividend_yield * discounted_forward * cdf_d1
        )
        return Greeks(
            delta=masked(valid, sign * dividend_discount * cdf_d1),
            gamma=masked(valid, forward_density / (spot * spot * total_volatility)),
            theta=masked(valid, annual_theta / _DAYS_PER_YEAR),
            vega=masked(valid, forward_density * sqrt_time * _PER_PERCENTAGE_POINT),
            rho=masked(valid, sign * time * discounted_strike * cdf_d2 * _PER_PERCENTAGE_POINT),
        )


def implied_volatility(  # noqa: PLR0917 - the conventional order of pricing arguments
    price: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    dividend_yield: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> IVResult:
    """Solve for the volatility that reproduces European option prices.

    Solves to the precision the price carries: the volatility error is within a few
    times the price's own rounding error divided by vega (below 1e-12 on listed
    options).  Never raises for a bad value: such options get NaN and a reason code.

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
        ``NON_POSITIVE_PRICE``, ``BELOW_INTRINSIC`` (at or below
        ``max(w (S e^(-qT) - K e^(-rT)), 0)``), ``ABOVE_UPPER_BOUND`` (at or above
        ``S e^(-qT)`` for a call, ``K e^(-rT)`` for a put) or ``NO_CONVERGENCE``.
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
    with np.errstate(all="ignore"):
        discounted_forward = spot * np.exp(-dividend_yield * time)
        discounted_strike = strike * np.exp(-rate * time)
        total_volatility = _black.implied_total_volatility(
            price, discounted_forward, discounted_strike, is_call, reason
        )
        volatility: FloatArray = np.asarray(total_volatility / np.sqrt(time))
    return IVResult(volatility=volatility, reason=reason)


def price_scalar(  # noqa: PLR0917 - the conventional order of pricing arguments
    spot: float,
    strike: float,
    time_to_expiry: float,
    rate: float,
    dividend_yield: float,
    volatility: float,
    is_call: bool,
) -> float:
    """Price one European option, raising for an input outside its domain.

    Args:
        spot: Price of the underlying, > 0.
        strike: Strike price, > 0.
        time_to_expiry: Years to expiry (ACT/365), > 0.
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        volatility: Annualised volatility, > 0.
        is_call: True for a call, False for a put.

    Returns:
        The price per unit of the underlying.

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
    """Solve one European option's implied volatility, raising if it has none.

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
    discounted_forward = checked_spot * math.exp(-checked_yield * checked_time)
    discounted_strike = checked_strike * math.exp(-checked_rate * checked_time)
    sign = 1.0 if call else -1.0
    raise_for_reason(
        int(result.reason),
        checked_price,
        lower_bound=max(sign * (discounted_forward - discounted_strike), 0.0),
        upper_bound=discounted_forward if call else discounted_strike,
    )
    return float(result.volatility)
