"""Black's formula on discounted inputs, and its inversion for the total volatility.

Both European models reduce to Black's formula on a discounted forward ``F D`` and a
discounted strike ``K D`` (``D = exp(-r T)``; for Black-Scholes-Merton
``F D = S exp(-q T)``).  The notation follows P. Jäckel, "Let's Be Rational" (Wilmott,
2015), whose method the solver implements (this is an independent numpy implementation):

* ``x = ln(F / K)``, the log-moneyness of the forward;
* ``s = sigma sqrt(T)``, the total volatility;
* ``b(x, s) = exp(x/2) N(x/s + s/2) - exp(-x/2) N(x/s - s/2)``, the normalised call price
  (the price divided by ``D sqrt(F K)``), with ``N`` the standard normal distribution
  function and ``n`` its density;
* ``b'(x, s) = exp(-(x^2/s^2 + s^2/4) / 2) / sqrt(2 pi)``, its derivative in ``s``.

Only out-of-the-money values are ever computed or inverted: an in-the-money option is
worth its intrinsic value plus the out-of-the-money option on the other side (put-call
parity), and a put at ``x`` is a call at ``-x``.  So ``x <= 0`` below, ``b`` rises from 0
to ``b_max = exp(x/2)`` as ``s`` goes from 0 to infinity, and the time value is never the
small difference of two large numbers.

The solver splits the range of ``b`` at three points: the inflection point
``s_c = sqrt(2 |x|)`` and the points ``s_l`` and ``s_u`` where the tangent at ``s_c``
meets ``b = 0`` and ``b = b_max``.  On each of the four segments a shape-preserving
rational cubic (Delbourgo and Gregory) of a suitably transformed ``b`` gives an initial
guess accurate to a few digits, and third-order Householder steps on an objective chosen
per segment (``1/ln b`` in the lowest, ``ln(b_max - b)`` in the highest, ``b`` in between)
finish the job, normally in two steps for the whole array.  Every evaluation also
tightens a bracket around the root; a step that would leave it is replaced by bisection,
so the iteration cannot diverge.  In the lowest segment ``b`` is evaluated through the
scaled complementary error function, which keeps tiny prices accurate.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
import numpy as np
import numpy.typing as npt

from otrade.pricing._arrays import BoolArray, FloatArray, ReasonArray, assign_reason
from otrade.pricing._special import erfcx, ndtr, ndtri
from otrade.pricing.reasons import Reason

IndexArray = npt.NDArray[np.intp]

_ONE_OVER_SQRT_TWO = math.sqrt(0.5)
_ONE_OVER_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_THREE = math.sqrt(3.0)
_SQRT_PI_OVER_TWO = math.sqrt(0.5 * math.pi)
_LOWER_MAP_SCALE = 2.0 * math.pi / math.sqrt(27.0)
_EPSILON = float(np.finfo(np.float64).eps)
_CONTROL_MINIMUM = -(1.0 - math.sqrt(_EPSILON))
_CONTROL_MAXIMUM = 2.0 / (_EPSILON * _EPSILON)
_SECOND_DERIVATIVE_LIMIT = math.sqrt(float(np.finfo(np.float64).max))

# A Householder step shorter than this fraction of s ends the iteration: the method
# converges with order four, so the error left after such a step is far below 1e-16 s.
_STEP_TOLERANCE = 1e-7
_MAXIMUM_ITERATIONS = 100


def black_price(
    discounted_forward: FloatArray,
    discounted_strike: FloatArray,
    total_volatility: FloatArray,
    is_call: BoolArray,
) -> FloatArray:
    """Black's price as intrinsic value plus the out-of-the-money time value.

    Inputs must be positive; nothing is checked here.
    """
    smaller = np.minimum(discounted_forward, discounted_strike)
    larger = np.maximum(discounted_forward, discounted_strike)
    # |ln(F/K)| as ln(larger/smaller): symmetric, so a call and the put it mirrors
    # (spot and strike exchanged) get bit-identical prices.
    distance = np.log(larger / smaller) / total_volatility
    half = 0.5 * total_volatility
    time_value = smaller * ndtr(half - distance) - larger * ndtr(-half - distance)
    price: FloatArray = intrinsic_value(discounted_forward, discounted_strike, is_call)
    price += np.maximum(time_value, 0.0)
    return price


def intrinsic_value(
    discounted_forward: FloatArray, discounted_strike: FloatArray, is_call: BoolArray
) -> FloatArray:
    """Return ``max(F D - K D, 0)`` for calls and ``max(K D - F D, 0)`` for puts."""
    difference = np.where(
        is_call, discounted_forward - discounted_strike, discounted_strike - discounted_forward
    )
    intrinsic: FloatArray = np.maximum(difference, 0.0)
    return intrinsic


def implied_total_volatility(
    price: FloatArray,
    discounted_forward: FloatArray,
    discounted_strike: FloatArray,
    is_call: BoolArray,
    reason: ReasonArray,
) -> FloatArray:
    """Solve Black's formula for ``s = sigma sqrt(T)``.

    ``reason`` holds the caller's input checks and is updated in place with the price
    checks and the solver's convergence; the result is NaN wherever it is not
    ``Reason.OK``.  All arrays share one shape.
    """
    assign_reason(reason, price <= 0.0, Reason.NON_POSITIVE_PRICE)
    time_value = price - intrinsic_value(discounted_forward, discounted_strike, is_call)
    assign_reason(reason, time_value <= 0.0, Reason.BELOW_INTRINSIC)
    upper_bound = np.where(is_call, discounted_forward, discounted_strike)
    assign_reason(reason, price >= upper_bound, Reason.ABOVE_UPPER_BOUND)

    total_volatility = np.full(price.shape, np.nan)
    solvable = reason == Reason.OK
    if not solvable.any():
        return total_volatility
    forward = discounted_forward[solvable]
    strike = discounted_strike[solvable]
    with np.errstate(all="ignore"):
        x = -np.log(np.maximum(forward, strike) / np.minimum(forward, strike))
        beta = time_value[solvable] / (np.sqrt(forward) * np.sqrt(strike))
        # Round-off in the normalisation can put a price just below its bound at it.
        below_maximum = beta < np.exp(0.5 * x)
        solved, converged = _solve_normalised(np.where(below_maximum, beta, 0.5), x)
    solved_reason = np.where(
        below_maximum,
        np.where(converged, Reason.OK, Reason.NO_CONVERGENCE),
        Reason.ABOVE_UPPER_BOUND,
    ).astype(np.int8)
    reason[solvable] = solved_reason
    total_volatility[solvable] = np.where(solved_reason == Reason.OK, solved, np.nan)
    return total_volatility


@attrs.frozen
class _Normalised:
    """The solver's view of a set of options: ``beta``, ``x`` and ``exp(+-x/2)``."""

    beta: FloatArray
    x: FloatArray
    b_max: FloatArray
    inverse_b_max: FloatArray

    def take(self, indices: IndexArray) -> _Normalised:
        """Return the options at ``indices``."""
        return _Normalised(
            self.beta[indices], self.x[indices], self.b_max[indices], self.inverse_b_max[indices]
        )


StepFunction = Callable[[_Normalised, FloatArray], tuple[FloatArray, BoolArray]]


def _solve_normalised(beta: FloatArray, x: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Solve ``b(x, s) = beta`` for ``s``, given ``x <= 0`` and ``0 < beta < exp(x/2)``."""
    problem = _Normalised(beta, x, np.exp(0.5 * x), np.exp(-0.5 * x))
    s_c = np.sqrt(-2.0 * x)
    # At the inflection point s_c, x/s_c + s_c/2 = 0 exactly, so
    # b(x, s_c) = b_max/2 - exp(-x/2) N(-s_c) and b'(x, s_c) = b_max / sqrt(2 pi).
    tail = problem.inverse_b_max * ndtr(-s_c)
    below = beta < 0.5 * problem.b_max - tail
    s = np.empty_like(beta)
    converged = np.empty(beta.shape, dtype=np.bool_)
    for side, solve_side in (
        (np.flatnonzero(below), _solve_lower_side),
        (np.flatnonzero(~below), _solve_upper_side),
    ):
        s[side], converged[side] = solve_side(problem.take(side), s_c[side], tail[side])
    return s, converged


def _solve_lower_side(
    problem: _Normalised, s_c: FloatArray, tail: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """Solve the options priced below ``b(x, s_c)``: the lowest and lower middle segments."""
    b_c = 0.5 * problem.b_max - tail
    vega_c = _ONE_OVER_SQRT_TWO_PI * problem.b_max
    s_l = s_c - b_c / vega_c
    b_l, vega_l = _value_and_vega(problem.x, s_l, problem.b_max, problem.inverse_b_max)
    s = np.empty_like(problem.beta)
    converged = np.empty(s.shape, dtype=np.bool_)

    lowest = np.flatnonzero(problem.beta < b_l)
    part = problem.take(lowest)
    guess = _guess_lowest(part, s_l[lowest], b_l[lowest])
    s[lowest], converged[lowest] = _refine(part, guess, s_l[lowest], _step_log_inverse)

    middle = np.flatnonzero(problem.beta >= b_l)
    part = problem.take(middle)
    guess = _interpolate(
        part.beta,
        left=b_l[middle],
        width=b_c[middle] - b_l[middle],
        value_left=s_l[middle],
        value_right=s_c[middle],
        slope_left=1.0 / vega_l[middle],
        slope_right=1.0 / vega_c[middle],
        second=0.0,
        fits_left=False,
        prefer_shape=False,
    )
    s[middle], converged[middle] = _refine(part, guess, s_c[middle], _step_plain)
    return s, converged


def _solve_upper_side(
    problem: _Normalised, s_c: FloatArray, tail: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """Solve the options priced at or above ``b(x, s_c)``: upper middle and highest."""
    complement_c = 0.5 * problem.b_max + tail
    vega_c = _ONE_OVER_SQRT_TWO_PI * problem.b_max
    s_u = s_c + complement_c / vega_c
    complement_u, vega_u = _complement_and_vega(
        problem.x, s_u, problem.b_max, problem.inverse_b_max
    )
    complement_beta = problem.b_max - problem.beta
    s = np.empty_like(problem.beta)
    converged = np.empty(s.shape, dtype=np.bool_)

    middle = np.flatnonzero(complement_beta >= complement_u)
    part = problem.take(middle)
    guess = _interpolate(
        part.beta,
        left=0.5 * part.b_max - tail[middle],
        width=complement_c[middle] - complement_u[middle],
        value_left=s_c[middle],
        value_right=s_u[middle],
        slope_left=1.0 / vega_c[middle],
        slope_right=1.0 / vega_u[middle],
        second=0.0,
        fits_left=True,
        prefer_shape=False,
    )
    s[middle], converged[middle] = _refine(part, guess, s_u[middle], _step_plain)

    highest = np.flatnonzero(complement_beta < complement_u)
    guess = _guess_highest(problem.take(highest), s_u[highest], complement_u[highest])
    # ln(b_max - b) is the better objective only where b is close to b_max.
    near_maximum = problem.beta[highest] > 0.5 * problem.b_max[highest]
    for subset, step in ((near_maximum, _step_log_complement), (~near_maximum, _step_plain)):
        chosen = highest[subset]
        s[chosen], converged[chosen] = _refine(
            problem.take(chosen), guess[subset], s_u[chosen], step
        )
    return s, converged


def _value_and_vega(
    x: FloatArray, s: FloatArray, b_max: FloatArray, inverse_b_max: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return ``b(x, s)`` and ``b'(x, s)`` from the two terms of Black's formula."""
    h = x / s
    t = 0.5 * s
    value = b_max * ndtr(h + t) - inverse_b_max * ndtr(h - t)
    vega = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + t * t))
    return value, vega


def _complement_and_vega(
    x: FloatArray, s: FloatArray, b_max: FloatArray, inverse_b_max: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return ``b_max - b(x, s)`` as a sum of two positive terms, and ``b'(x, s)``."""
    h = x / s
    t = 0.5 * s
    complement = b_max * ndtr(-h - t) + inverse_b_max * ndtr(h - t)
    vega = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + t * t))
    return complement, vega


def _small_value_and_vega(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return ``b(x, s)`` and ``b'(x, s)`` accurately for small ``b``.

    With ``N(z) = erfcx(-z / sqrt 2) exp(-z^2 / 2) / 2`` the two terms of Black's
    formula share the factor ``b'``:
    ``b = b' sqrt(pi / 2) [erfcx(-(h + t) / sqrt 2) - erfcx(-(h - t) / sqrt 2)]`` with
    ``h = x/s`` and ``t = s/2``.  Neither term carries the round-off of a large
    exponent, which keeps far out-of-the-money values accurate.  Meant for
    ``h + t <= 0`` (``s`` below ``s_c``); it stays finite a little beyond.
    """
    h = x / s
    t = 0.5 * s
    vega = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * (h * h + t * t))
    difference = erfcx(-_ONE_OVER_SQRT_TWO * (h + t)) - erfcx(-_ONE_OVER_SQRT_TWO * (h - t))
    value = vega * _SQRT_PI_OVER_TWO * difference
    return value, vega


def _guess_lowest(problem: _Normalised, s_l: FloatArray, b_l: FloatArray) -> FloatArray:
    """Return the initial guess in the lowest segment, ``0 < beta < b(x, s_l)``.

    Interpolates ``f = (2 pi |x| / sqrt 27) N(-|x| / (sqrt(3) s))^3``, which behaves like
    ``b`` for small ``b``, as a function of ``b`` between ``(0, 0)`` (slope 1) and
    ``s_l``, then inverts ``f`` explicitly.
    """
    x = problem.x
    z = -x / (_SQRT_THREE * s_l)
    y = z * z
    s_squared = s_l * s_l
    cdf = ndtr(-z)
    density = _ONE_OVER_SQRT_TWO_PI * np.exp(-0.5 * y)
    value_l = _LOWER_MAP_SCALE * -x * (cdf * cdf * cdf)
    slope_l = 2.0 * math.pi * y * cdf * cdf * np.exp(y + 0.125 * s_squared)
    curvature_l = (
        (math.pi / 6.0)
        * y
        / (s_squared * s_l)
        * cdf
        * (
            8.0 * _SQRT_THREE * s_l * -x
            + (3.0 * s_squared * (s_squared - 8.0) - 8.0 * x * x) * cdf / density
        )
        * np.exp(2.0 * y + 0.25 * s_squared)
    )
    position = problem.beta / b_l
    mapped = _interpolate(
        problem.beta,
        left=np.zeros_like(x),
        width=b_l,
        value_left=np.zeros_like(x),
        value_right=value_l,
        slope_left=np.ones_like(x),
        slope_right=slope_l,
        second=curvature_l,
        fits_left=False,
        prefer_shape=True,
    )
    # Round-off can make the interpolant non-positive for extreme |x|; the quadratic
    # through (0, 0) with slope 1 and (b_l, f_l) cannot.
    quadratic = (value_l * position + b_l * (1.0 - position)) * position
    mapped = np.where(mapped > 0.0, mapped, quadratic)
    quantile = ndtri(np.cbrt(mapped / (_LOWER_MAP_SCALE * -x)))
    guess: FloatArray = -x / (_SQRT_THREE * np.abs(quantile))
    return guess


def _guess_highest(problem: _Normalised, s_u: FloatArray, complement_u: FloatArray) -> FloatArray:
    """Return the initial guess in the highest segment, ``b(x, s_u) < beta < b_max``.

    Interpolates ``f = N(-s/2)``, which vanishes at ``b_max`` with slope -1/2, as a
    function of ``b`` between ``s_u`` and ``b_max``, then inverts ``f`` explicitly.
    """
    x = problem.x
    value_u = ndtr(-0.5 * s_u)
    w = (x / s_u) ** 2
    slope_u = -0.5 * np.exp(0.5 * w)
    curvature_u = _SQRT_PI_OVER_TWO * np.exp(w + 0.125 * s_u * s_u) * w / s_u
    usable = np.abs(curvature_u) < _SECOND_DERIVATIVE_LIMIT
    b_u = problem.b_max - complement_u
    position = (problem.beta - b_u) / complement_u
    mapped = _interpolate(
        problem.beta,
        left=b_u,
        width=complement_u,
        value_left=value_u,
        value_right=np.zeros_like(x),
        slope_left=slope_u,
        slope_right=np.full_like(x, -0.5),
        second=np.where(usable, curvature_u, 0.0),
        fits_left=True,
        prefer_shape=True,
    )
    # The quadratic through (b_u, f_u) and (b_max, 0) with slope -1/2 at b_max.
    quadratic = (value_u * (1.0 - position) + 0.5 * complement_u * position) * (1.0 - position)
    mapped = np.where((mapped > 0.0) & usable, mapped, quadratic)
    guess: FloatArray = -2.0 * ndtri(mapped)
    return guess


def _interpolate(
    at: FloatArray,
    *,
    left: FloatArray,
    width: FloatArray,
    value_left: FloatArray,
    value_right: FloatArray,
    slope_left: FloatArray,
    slope_right: FloatArray,
    second: FloatArray | float,
    fits_left: bool,
    prefer_shape: bool,
) -> FloatArray:
    """Evaluate a Delbourgo-Gregory rational cubic through two points at ``at``.

    The interpolant matches the values and slopes at both ends and the second
    derivative ``second`` at the left end (``fits_left``) or the right end, unless that
    would break its monotonicity or convexity: then its control parameter is raised
    (up to linear interpolation where ``prefer_shape``).
    """
    secant = (value_right - value_left) / width
    numerator = 0.5 * width * second + (slope_right - slope_left)
    denominator = secant - slope_left if fits_left else slope_right - secant
    control = np.where(
        denominator == 0.0,
        np.where(numerator > 0.0, _CONTROL_MAXIMUM, _CONTROL_MINIMUM),
        numerator / denominator,
    )
    control = np.where(numerator == 0.0, 0.0, control)
    control = np.maximum(control, _minimum_control(slope_left, slope_right, secant, prefer_shape))
    t = (at - left) / width
    u = 1.0 - t
    cubic = (
        value_right * t * t * t
        + (control * value_right - width * slope_right) * t * t * u
        + (control * value_left + width * slope_left) * t * u * u
        + value_left * u * u * u
    ) / (1.0 + (control - 3.0) * t * u)
    linear = value_right * t + value_left * u
    interpolated: FloatArray = np.where(control >= _CONTROL_MAXIMUM, linear, cubic)
    return interpolated


def _minimum_control(
    slope_left: FloatArray, slope_right: FloatArray, secant: FloatArray, prefer_shape: bool
) -> FloatArray:
    """Return the smallest control parameter that keeps the data's shape.

    Monotone data stay monotone and convex (concave) data convex (concave); see
    Delbourgo and Gregory (1985), conditions (3.8) and (3.18).
    """
    monotonic = (slope_left * secant >= 0.0) & (slope_right * secant >= 0.0)
    convex = (slope_left <= secant) & (secant <= slope_right)
    concave = (slope_left >= secant) & (secant >= slope_right)
    degenerate = _CONTROL_MAXIMUM if prefer_shape else -np.inf
    for_monotonic = np.where(
        monotonic,
        np.where(secant != 0.0, (slope_right + slope_left) / secant, degenerate),
        -np.inf,
    )
    gap_left = secant - slope_left
    gap_right = slope_right - secant
    spread = slope_right - slope_left
    for_curvature = np.where(
        convex | concave,
        np.where(
            (gap_left != 0.0) & (gap_right != 0.0),
            np.maximum(np.abs(spread / gap_right), np.abs(spread / gap_left)),
            degenerate,
        ),
        np.where(monotonic, degenerate, -np.inf),
    )
    minimum = np.maximum(_CONTROL_MINIMUM, np.maximum(for_monotonic, for_curvature))
    control: FloatArray = np.where(monotonic | convex | concave, minimum, _CONTROL_MINIMUM)
    return control


def _refine(
    problem: _Normalised, guess: FloatArray, fallback: FloatArray, step_function: StepFunction
) -> tuple[FloatArray, BoolArray]:
    """Run bracketed Householder steps from ``guess`` until each ``s`` has converged.

    Every option takes the first step; later steps run only on the options that have
    not converged yet (normally few after the second).  A guess that is not a positive
    number is replaced by ``fallback``.
    """
    s = np.where(np.isfinite(guess) & (guess > 0.0), guess, fallback)
    left = np.zeros_like(s)
    right = np.full_like(s, np.inf)
    converged = np.zeros(s.shape, dtype=np.bool_)
    active: IndexArray | slice = slice(None)
    part = problem
    for _ in range(_MAXIMUM_ITERATIONS):
        s_now = s[active]
        step, above = step_function(part, s_now)
        # The evaluation at s_now tightens the bracket [left, right] around the root.
        right_now = np.where(above, np.minimum(right[active], s_now), right[active])
        left_now = np.where(above, left[active], np.maximum(left[active], s_now))
        proposal = s_now + np.maximum(step, -0.5 * s_now)
        # A step this short is at the root up to round-off, even if round-off put the
        # evaluation on the wrong side of it.
        small = np.abs(step) <= _STEP_TOLERANCE * s_now
        inside = small | ((proposal > left_now) & (proposal < right_now))
        bisection = np.where(
            np.isfinite(right_now), 0.5 * (left_now + right_now), 2.0 * np.maximum(s_now, left_now)
        )
        s[active] = np.where(inside, proposal, bisection)
        left[active] = left_now
        right[active] = right_now
        # Done after a short step, or when bisection has pinned the root between
        # neighbouring floats.
        converged[active] = small | (right_now - left_now <= 4.0 * _EPSILON * left_now)
        active = np.flatnonzero(~converged)
        if active.size == 0:
            break
        part = problem.take(active)
    return s, converged


def _householder(newton: FloatArray, halley: FloatArray, householder: FloatArray) -> FloatArray:
    """Combine ``-g/g'``, ``g''/g'`` and ``g'''/g'`` into a third-order Householder step."""
    step: FloatArray = (
        newton
        * (1.0 + 0.5 * halley * newton)
        / (1.0 + newton * (halley + householder * newton / 6.0))
    )
    return step


def _curvatures(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return ``b''/b'`` and ``b'''/b'`` in closed form."""
    second = x * x / (s * s * s) - 0.25 * s
    third = second * second - 3.0 * (x / (s * s)) ** 2 - 0.25
    return second, third


def _step_plain(problem: _Normalised, s: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Householder step on ``g(s) = b(s) - beta``; also whether ``b(s) > beta``."""
    value, vega = _value_and_vega(problem.x, s, problem.b_max, problem.inverse_b_max)
    second, third = _curvatures(problem.x, s)
    step = _householder((problem.beta - value) / vega, second, third)
    return step, value > problem.beta


def _step_log_inverse(problem: _Normalised, s: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Householder step on ``g(s) = 1/ln b(s) - 1/ln beta`` (lowest segment).

    Nearly linear in ``s`` where ``b`` is tiny, unlike ``b`` itself.  The step is NaN
    where ``b`` underflows; the caller then bisects.
    """
    value, vega = _small_value_and_vega(problem.x, s)
    second, third = _curvatures(problem.x, s)
    log_value = np.log(value)
    log_beta = np.log(problem.beta)
    ratio = vega / value
    factor = 1.0 + 2.0 / log_value
    newton = (log_beta - log_value) * log_value / log_beta / ratio
    halley = second - ratio * factor
    householder = (
        third
        + 2.0 * ratio * ratio * (1.0 + 3.0 / log_value * (1.0 + 1.0 / log_value))
        - 3.0 * second * ratio * factor
    )
    return _householder(newton, halley, householder), value > problem.beta


def _step_log_complement(problem: _Normalised, s: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Householder step on ``g(s) = ln(b_max - beta) - ln(b_max - b(s))`` (highest segment).

    Keeps its accuracy where ``b`` is within round-off of ``b_max``.
    """
    complement, vega = _complement_and_vega(problem.x, s, problem.b_max, problem.inverse_b_max)
    second, third = _curvatures(problem.x, s)
    complement_beta = problem.b_max - problem.beta
    ratio = vega / complement
    newton = np.log(complement / complement_beta) / ratio
    halley = second + ratio
    householder = third + ratio * (2.0 * ratio + 3.0 * second)
    return _householder(newton, halley, householder), complement < complement_beta
