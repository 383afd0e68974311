"""Array types, input broadcasting and scalar argument checks shared by the models."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from otrade.pricing.reasons import PricingInputError, Reason

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ReasonArray = npt.NDArray[np.int8]


def broadcast_inputs(
    values: tuple[npt.ArrayLike, ...], is_call: npt.ArrayLike
) -> tuple[list[FloatArray], BoolArray]:
    """Convert the float inputs and the call flags to arrays of one broadcast shape."""
    floats = [np.asarray(value, dtype=np.float64) for value in values]
    flags = np.asarray(is_call, dtype=np.bool_)
    *broadcast_floats, broadcast_flags = np.broadcast_arrays(*floats, flags)
    return broadcast_floats, broadcast_flags


def all_finite(*arrays: FloatArray) -> BoolArray:
    """Whether every array is finite at each position."""
    finite: BoolArray = np.isfinite(arrays[0])
    for array in arrays[1:]:
        finite &= np.isfinite(array)
    return finite


def assign_reason(reason: ReasonArray, condition: BoolArray, code: Reason) -> None:
    """Set ``code`` where ``condition`` holds and no earlier reason was set."""
    reason[condition & (reason == Reason.OK)] = code


def require_finite(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise naming ``name`` if it is NaN or infinite.

    Raises:
        PricingInputError: The value is not a finite number.
    """
    number = float(value)
    if not math.isfinite(number):
        raise PricingInputError(f"{name} must be a finite number, got {value!r}")
    return number


def require_positive(name: str, value: float) -> float:
    """Return ``value`` as a float, or raise naming ``name`` unless it is finite and > 0.

    Raises:
        PricingInputError: The value is not finite or not strictly positive.
    """
    number = require_finite(name, value)
    if number <= 0.0:
        raise PricingInputError(f"{name} must be > 0, got {value!r}")
    return number


def require_market(
    spot: float, strike: float, time_to_expiry: float, rate: float, dividend_yield: float
) -> tuple[float, float, float, float, float]:
    """The scalar helpers' market arguments as floats, checked in this order.

    Raises:
        PricingInputError: ``spot``, ``strike`` or ``time_to_expiry`` is not finite and
            > 0, or ``rate`` or ``dividend_yield`` is not finite (named).
    """
    return (
        require_positive("spot", spot),
        require_positive("strike", strike),
        require_positive("time_to_expiry", time_to_expiry),
        require_finite("rate", rate),
        require_finite("dividend_yield", dividend_yield),
    )


def require_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is a bool (or numpy bool), else raise naming ``name``.

    Raises:
        PricingInputError: The value is not a bool.
    """
    if not isinstance(value, bool | np.bool_):
        raise PricingInputError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def raise_for_reason(reason: int, price: float, lower_bound: float, upper_bound: float) -> None:
    """Raise the scalar helpers' error for an implied volatility that failed.

    Args:
        reason: The ``Reason`` code the vector solver returned.
        price: The option price that was given.
        lower_bound: The no-arbitrage lower bound the price must exceed.
        upper_bound: The no-arbitrage upper bound the price must stay below.

    Raises:
        PricingInputError: Always, unless ``reason`` is ``Reason.OK``.
    """
    if reason == Reason.OK:
        return
    if reason == Reason.BELOW_INTRINSIC:
        raise PricingInputError(
            f"price must be above the intrinsic value {lower_bound!r}, got {price!r}"
        )
    if reason == Reason.ABOVE_UPPER_BOUND:
        raise PricingInputError(
            f"price must be below the upper bound {upper_bound!r}, got {price!r}"
        )
    raise PricingInputError(
        f"no implied volatility found for price {price!r} ({Reason(reason).name})"
    )


def valid_inputs(finite: tuple[FloatArray, ...], positive: tuple[FloatArray, ...]) -> BoolArray:
    """Where every input is finite and each of ``positive`` is also > 0."""
    valid = all_finite(*finite, *positive)
    with np.errstate(invalid="ignore"):
        for array in positive:
            valid &= array > 0.0
    return valid


def masked(valid: BoolArray, values: FloatArray) -> FloatArray:
    """Return ``values`` with NaN where not ``valid``."""
    result: FloatArray = np.where(valid, values, np.nan)
    return result


def finite_result(value: FloatArray) -> float:
    """Return a scalar helper's result, raising if the inputs overflowed it.

    Raises:
        PricingInputError: The value is NaN or infinite.
    """
    number = float(value)
    if not math.isfinite(number):
        raise PricingInputError(f"the inputs overflow the calculation (got {number!r})")
    return number
