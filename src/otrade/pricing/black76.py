"""Black-76: European options on a forward or futures price.

The conventions are those of :mod:`otrade.pricing.bsm`: ``time_to_expiry`` in years
(ACT/365), continuously compounded ``rate``, annualised ``volatility``, prices and
Greeks per unit of the underlying, ``theta`` per calendar day, ``vega`` and ``rho`` per
percentage point.  ``delta`` and ``gamma`` are with respect to the forward.  ``rho``
moves ``rate`` with the forward held fixed (the sensitivity of the discounting only),
which is the right one for options on futures.

Formulas, with ``D = e^(-rT)``, ``d1 = (ln(F/K) + sigma^2 T / 2) / (sigma sqrt T)``,
``d2 = d1 - sigma sqrt T``, ``w = +1`` for a call and ``-1`` for a put::

    price = w D (F N(w d1) - K N(w d2))
    delta = w D N(w d1)
    gamma = D n(d1) / (F sigma sqrt T)
    theta = (-D F n(d1) sigma / (2 sqrt T) + r price) / 365
    vega  = D F n(d1) sqrt T / 100
    rho   = -T price / 100

As in :mod:`otrade.pricing.bsm`, vector functions return NaN (and for implied
volatilities a :class:`~otrade.pricing.reasons.Reason`) for bad values, and the
``*_scalar`` helpers raise :class:`~otrade.pricing.reasons.PricingInputError`.
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
    require_finite,
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
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    volatility: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> FloatArray:
    """Price European options on a forward.

    Args:
        forward: Forward (or futures) price for the option's expiry.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded discount rate per year.
        volatility: Annualised volatility of the forward (0.2 for 20%).
        is_call: True for calls, False for puts.

    Returns:
        Prices in the broadcast shape of the inputs; NaN where an input is NaN or
        infinite or ``forward``, ``strike``, ``time_to_expiry`` or ``volatility`` is not
        positive.
    """
    (forward, strike, time, rate, volatility), is_call = broadcast_inputs(
        (forward, strike, time_to_expiry, rate, volatility), is_call
    )
    with np.errstate(all="ignore"):
        discount = np.exp(-rate * time)
        value = _black.black_price(
            forward * discount, strike * discount, volatility * np.sqrt(time), is_call
        )
    valid = valid_inputs((rate,), (forward, strike, time, volatility))
    return masked(valid & np.isfinite(value), value)


def greeks(  # noqa: PLR0917 - the conventional order of pricing arguments
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    volatility: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> Greeks:
    """Compute the Greeks of European options on a forward.

    Args:
        forward: Forward (or futures) price for the option's expiry.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded discount rate per year.
        volatility: Annualised volatility of the forward (0.2 for 20%).
        is_call: True for calls, False for puts.

    Returns:
        Delta and gamma with respect to the forward, theta per calendar day, vega and
        rho per percentage point; NaN where an input is outside its domain.
    """
    (forward, strike, time, rate, volatility), is_call = broadcast_inputs(
        (forward, strike, time_to_expiry, rate, volatility), is_call
    )
    valid = valid_inputs((rate,), (forward, strike, time, volatility))
    with np.errstate(all="ignore"):
        sqrt_time = np.sqrt(time)
        total_volatility = volatility * sqrt_time
        discount = np.exp(-rate * time)
        d1 = np.log(forward / strike) / total_volatility + 0.5 * total_volatility
        sign = np.where(is_call, 1.0, -1.0)
        cdf_d1 = ndtr(sign * d1)
        cdf_d2 = ndtr(sign * (d1 - total_volatility))
        value = sign * discount * (forward * cdf_d1 - strike * cdf_d2)
        forward_density = discount * forward * (_ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * d1 * d1))
        annual_theta = -0.5 * forward_density * volatility / sqrt_time + rate * value
        return Greeks(
            delta=masked(valid, sign * discount * cdf_d1),
            gamma=masked(valid, forward_density / (forward * forward * total_volatility)),
            theta=masked(valid, annual_theta / _DAYS_PER_YEAR),
            vega=masked(valid, forward_density * sqrt_time * _PER_PERCENTAGE_POINT),
            rho=masked(valid, -time * value * _PER_PERCENTAGE_POINT),
        )


def implied_volatility(  # noqa: PLR0917 - the conventional order of pricing arguments
    price: npt.ArrayLike,
    forward: npt.ArrayLike,
    strike: npt.ArrayLike,
    time_to_expiry: npt.ArrayLike,
    rate: npt.ArrayLike,
    is_call: npt.ArrayLike,
) -> IVResult:
    """Solve for the volatility that reproduces European option prices on a forward.

    The solver is :func:`otrade.pricing.bsm.implied_volatility`'s, with the same
    precision; it never raises for a bad value.

    Args:
        price: Option price.
        forward: Forward (or futures) price for the option's expiry.
        strike: Strike price.
        time_to_expiry: Years to expiry (ACT/365).
        rate: Continuously compounded discount rate per year.
        is_call: True for calls, False for puts.

    Returns:
        The annualised volatilities and a reason code per option: ``NAN_INPUT``,
        ``NON_POSITIVE_TIME``, ``NON_POSITIVE_FORWARD``, ``NON_POSITIVE_STRIKE``,
        ``NON_POSITIVE_PRICE``, ``BELOW_INTRINSIC`` (at or below
        ``max(w (F - K), 0) e^(-rT)``), ``ABOVE_UPPER_BOUND`` (at or above ``F e^(-rT)``
        for a call, ``K e^(-rT)`` for a put) or ``NO_CONVERGENCE``.
    """
    (price, forward, strike, time, rate), is_call = broadcast_inputs(
        (price, forward, strike, time_to_expiry, rate), is_call
    )
    reason = np.zeros(price.shape, dtype=np.int8)
    assign_reason(reason, ~all_finite(price, forward, strike, time, rate), Reason.NAN_INPUT)
    assign_reason(reason, time <= 0.0, Reason.NON_POSITIVE_TIME)
    assign_reason(reason, forward <= 0.0, Reason.NON_POSITIVE_FORWARD)
    assign_reason(reason, strike <= 0.0, Reason.NON_POSITIVE_STRIKE)
    with np.errstate(all="ignore"):
        discount = np.exp(-rate * time)
        total_volatility = _black.implied_total_volatility(
            price, forward * discount, strike * discount, is_call, reason
        )
        volatility: FloatArray = np.asarray(total_volatility / np.sqrt(time))
    return IVResult(volatility=volatility, reason=reason)


def price_scalar(  # noqa: PLR0917 - the conventional order of pricing arguments
    forward: float,
    strike: float,
    time_to_expiry: float,
    rate: float,
    volatility: float,
    is_call: bool,
) -> float:
    """Price one European option on a forward, raising for an input outside its domain.

    Args:
        forward: Forward (or futures) price, > 0.
        strike: Strike price, > 0.
        time_to_expiry: Years to expiry (ACT/365), > 0.
        rate: Continuously compounded discount rate per year.
        volatility: Annualised volatility, > 0.
        is_call: True for a call, False for a put.

    Returns:
        The option price.

    Raises:
        PricingInputError: An argument is NaN, infinite, not positive where it must be,
            or ``is_call`` is not a bool; the message names it and its value.
    """
    value = price(
        require_positive("forward", forward),
        require_positive("strike", strike),
        require_positive("time_to_expiry", time_to_expiry),
        require_finite("rate", rate),
        require_positive("volatility", volatility),
        require_bool("is_call", is_call),
    )
    return finite_result(value)


def implied_volatility_scalar(  # noqa: PLR0917 - the conventional order of pricing arguments
    price: float,
    forward: float,
    strike: float,
    time_to_expiry: float,
    rate: float,
    is_call: bool,
) -> float:
    """Solve one option's implied volatility on a forward, raising if it has none.

    Args:
        price: Option price, > 0.
        forward: Forward (or futures) price, > 0.
        strike: Strike price, > 0.
        time_to_expiry: Years to expiry (ACT/365), > 0.
        rate: Continuously compounded discount rate per year.
        is_call: True for a call, False for a put.

    Returns:
        The annualised implied volatility.

    Raises:
        PricingInputError: An argument is outside its domain, or the price is at or
            outside the no-arbitrage bounds; the message names the argument or bound
            and the value.
    """
    checked_price = require_positive("price", price)
    checked_forward = require_positive("forward", forward)
    checked_strike = require_positive("strike", strike)
    checked_time = require_positive("time_to_expiry", time_to_expiry)
    checked_rate = require_finite("rate", rate)
    call = require_bool("is_call", is_call)
    result = implied_volatility(
        checked_price, checked_forward, checked_strike, checked_time, checked_rate, call
    )
    discount = math.exp(-checked_rate * checked_time)
    sign = 1.0 if call else -1.0
    raise_for_reason(
        int(result.reason),
        checked_price,
        lower_bound=max(sign * (checked_forward - checked_strike), 0.0) * discount,
        upper_bound=(checked_forward if call else checked_strike) * discount,
    )
    return float(result.volatility)
