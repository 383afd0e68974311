"""Payoff analytics of a combo: net premium, expiry payoff, extremes, breakevens, model value.

Pure functions on numpy arrays; nothing here touches a gateway or the clock (pass the
time in).

**Premium sign.**  The net premium of one combo unit, in dollars, is::

    net premium per unit = sum over legs of ratio x price x multiplier

with each leg's ``price`` per share as quoted (an option's premium, the stock's price)
and its signed ``ratio`` from the :class:`~otrade.combos.combo.Combo`.  Positive is a
**debit** (paid), negative a **credit** (received).  The combo's ``volume`` units pay
``volume`` times that.  Traders quote the net per share: the dollars divided by the
options' multiplier (100 for US equity options), which is the limit price of
:meth:`~otrade.combos.combo.Combo.order_request`.  A premium can be given either as the
legs' prices (a mapping ``symbol -> price per share``) or directly as the net premium of
one unit in dollars (a float, signed as above).

**Payoff.**  "Payoff" here is the profit and loss of the combo's whole volume in dollars,
net of the premium: ``value of the legs - volume x net premium per unit``.  At expiry an
option is worth its intrinsic value ``max(w (S - K), 0)`` (``w`` = +1 for a call, -1 for
a put) times ``multiplier`` and a stock leg is worth ``S`` per share.  When every option
leg expires on one date the expiry payoff is exactly piecewise linear in the underlying
price ``S``, with its breakpoints at the strikes; :func:`analyze_payoff` computes the
maximum profit, maximum loss and breakevens from that representation exactly, on the
domain ``S >= 0`` (a slope that carries the payoff to plus or minus infinity as ``S``
grows makes the profit or the loss *unbounded*: ``math.inf`` / ``-math.inf``).

**Several expiries** (calendars, diagonals): the "expiry" is the *first* expiry.  The
legs expiring then are worth their intrinsic value; the later legs are valued with the
model (:func:`combo_value`) at the first expiry's moment, so the payoff needs volatility,
rate and dividend yield, and it is no longer piecewise linear.  Its extremes and
breakevens are then numerical (see :func:`analyze_payoff`).

**Time.**  Options are taken to expire at 16:00 New York on their expiry date (the PM
close; half-day closes at 13:00 and AM settlement are not modelled).  Time to expiry is
ACT/365 in years, ``seconds to that moment / (365 x 86,400)``, and 0 once it has passed:
a 0DTE leg valued at 16:00 on its expiry date is worth its intrinsic value.

**Greeks** are position Greeks in dollars for the whole volume, in the units of
:mod:`otrade.pricing`: delta in shares (dollars per 1 dollar move of the underlying),
gamma per dollar squared, theta per calendar day, vega per volatility point.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt
from scipy import optimize, special  # type: ignore[import-untyped,unused-ignore]

from otrade.combos.combo import Combo, ComboLeg
from otrade.constants import OptionRight
from otrade.portfolio import NEW_YORK, PM_SETTLEMENT_TIME, SECONDS_PER_YEAR
from otrade.pricing import american, bsm

__all__ = [
    "ComboValue",
    "Model",
    "NetPremium",
    "PayoffAnalysis",
    "Premium",
    "analyze_payoff",
    "combo_value",
    "expiry_moment",
    "first_expiry",
    "is_single_expiry",
    "net_premium",
    "payoff_at",
    "payoff_at_expiry",
    "plot_payoff",
    "probability_of_profit",
    "years_to_expiry",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]

Premium: TypeAlias = Mapping[str, float] | float
"""Leg prices per share (``symbol -> price``) or the net premium of one unit in dollars."""

Model: TypeAlias = Literal["european", "american"]
"""Which pricing model values the legs that have not expired."""

Volatility: TypeAlias = Mapping[str, float] | float
"""One annualised volatility for every option leg, or one per leg symbol."""

_ScalarPayoff: TypeAlias = Callable[[float], float]

_DAYS_PER_YEAR = 365.0
_VOLATILITY_POINT = 0.01
# Multi-expiry analysis: a grid from 0 to _GRID_SPAN x the highest strike, then a
# geometric tail out to _TAIL_SPAN x that, where the model value has reached its
# asymptote.
_GRID_POINTS = 2_001
_GRID_SPAN = 4.0
_TAIL_POINTS = 40
_TAIL_SPAN = 1_000.0
_RELATIVE_TOLERANCE = 1e-12


# --- premium -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class NetPremium:
    """The net premium of a combo, signed: positive a debit paid, negative a credit received.

    Attributes:
        per_unit: Dollars for one combo unit, ``sum(ratio x price x multiplier)``.
        per_share: ``per_unit`` divided by the options' multiplier: the net price per
            share traders quote and :meth:`Combo.order_request` takes (equal to
            ``per_unit`` for a stock-only combo).
        volume: Combo units.
    """

    per_unit: float
    per_share: float
    volume: int

    @property
    def total(self) -> float:
        """Dollars for the whole volume, signed (``per_unit x volume``)."""
        return self.per_unit * self.volume

    @property
    def is_debit(self) -> bool:
        """True when the combo costs money to open (``total > 0``)."""
        return self.total > 0.0

    @property
    def net_debit(self) -> float:
        """Dollars paid for the whole volume; 0.0 for a credit."""
        return max(self.total, 0.0)

    @property
    def net_credit(self) -> float:
        """Dollars received for the whole volume, as a positive number; 0.0 for a debit."""
        return max(-self.total, 0.0)


def _option_multiplier(combo: Combo) -> int:
    """The multiplier of the first option leg; 1 when the combo has none."""
    for leg in combo.legs:
        if not leg.is_underlying:
            return leg.multiplier
    return 1


def net_premium(combo: Combo, premium: Premium) -> NetPremium:
    """The signed net premium of ``combo`` (see the module docs for the sign).

    Args:
        combo: The combo.
        premium: Each leg's price per share by symbol (an option's quoted premium, the
            stock's price), or the net premium of one unit in dollars as a float
            (positive for a debit).

    Returns:
        The net premium per unit, per share and for the volume.

    Raises:
        ValueError: A leg's symbol has no price, or a price is NaN or infinite.
    """
    if isinstance(premium, Mapping):
        per_unit = 0.0
        for leg in combo.legs:
            if leg.symbol not in premium:
                raise ValueError(f"prices has no price for leg {leg.role!r} ({leg.symbol})")
            per_unit += (
                leg.ratio
                * _finite(f"prices[{leg.symbol!r}]", premium[leg.symbol])
                * (leg.multiplier)
            )
    else:
        per_unit = _finite("premium", float(premium))
    return NetPremium(
        per_unit=per_unit, per_share=per_unit / _option_multiplier(combo), volume=combo.volume
    )


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


# --- time --------------------------------------------------------------------------------


def expiry_moment(expiry: date) -> datetime:
    """The moment an option expiring on ``expiry`` is taken to expire: 16:00 New York."""
    return datetime.combine(expiry, PM_SETTLEMENT_TIME, NEW_YORK)


def years_to_expiry(expiry: date, at: datetime) -> float:
    """Years (ACT/365) from ``at`` to :func:`expiry_moment` of ``expiry``; 0.0 once passed.

    Raises:
        ValueError: ``at`` is naive.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"at must be timezone-aware, got {at.isoformat()}")
    seconds = (expiry_moment(expiry) - at).total_seconds()
    return seconds / SECONDS_PER_YEAR if seconds > 0.0 else 0.0


def first_expiry(combo: Combo) -> date | None:
    """The earliest expiry of the combo's option legs; None when it has none."""
    expiries = [leg.expiry for leg in combo.legs if leg.expiry is not None]
    return min(expiries) if expiries else None


def is_single_expiry(combo: Combo) -> bool:
    """True when every option leg expires on one date (or there is no option leg)."""
    return len({leg.expiry for leg in combo.legs if leg.expiry is not None}) <= 1


# --- model value -------------------------------------------------------------------------


@attrs.frozen(eq=False)
class ComboValue:
    """A combo's model value and position Greeks, in the shape of the spot given.

    Every number is for the combo's whole volume: a leg contributes its per-share value
    or Greek x multiplier x ``ratio x volume``.

    Attributes:
        value: Dollars the legs are worth (market value, not net of the premium).
        delta: Dollars per 1 dollar move of the underlying (share-equivalents).
        gamma: Change of ``delta`` per 1 dollar move of the underlying.
        theta: Dollars per calendar day that passes.
        vega: Dollars per volatility point (0.20 -> 0.21) of every leg's volatility.
    """

    value: FloatArray
    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray


def combo_value(
    combo: Combo,
    spot: npt.ArrayLike,
    at: datetime,
    *,
    volatility: Volatility,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
    model: Model = "european",
) -> ComboValue:
    """Value ``combo`` and its position Greeks at time ``at`` with the underlying at ``spot``.

    Legs that have not expired at ``at`` are valued with :mod:`otrade.pricing.bsm`
    (``model="european"``, analytic Greeks) or :func:`otrade.pricing.american.price`
    (``model="american"``; Greeks by finite differences: delta and gamma by central
    differences of 0.1% of the spot, theta as the change over one calendar day (to the
    intrinsic value when less than a day is left), vega by a central difference of one
    volatility point).  Legs at or past their expiry moment are worth their intrinsic
    value at ``spot`` (as if settled there), with delta their slope (0 at the strike) and
    no gamma, theta or vega.  A stock leg is worth ``spot`` per share with delta 1.

    At ``spot == 0`` a live call is worth 0 and a live put its floor (``K e^(-rT)``
    European, ``K`` American); the Greeks there are NaN.

    Args:
        combo: The combo.
        spot: Underlying price(s), >= 0; any array shape.
        at: The valuation time; timezone-aware.
        volatility: Annualised volatility (0.2 for 20%) for every option leg, or a
            mapping from leg symbol to its volatility.
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        model: ``"european"`` (default) or ``"american"``.

    Returns:
        The value and Greeks, arrays in the shape of ``spot``.

    Raises:
        ValueError: ``at`` is naive, a live leg has no volatility, or ``model`` is unknown.
    """
    if model not in {"european", "american"}:
        raise ValueError(f"model must be 'european' or 'american', got {model!r}")
    spots = np.asarray(spot, dtype=np.float64)
    totals = np.zeros((5, *spots.shape))
    for leg in combo.legs:
        quantity = float(leg.quantity(combo.volume) * leg.multiplier)
        parts = _leg_value(
            leg,
            spots,
            at,
            volatility=volatility,
            rate=rate,
            dividend_yield=dividend_yield,
            model=model,
        )
        totals += quantity * np.stack(parts)
    return ComboValue(*(np.asarray(total) for total in totals))


_Parts: TypeAlias = tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]


def _leg_value(
    leg: ComboLeg,
    spots: FloatArray,
    at: datetime,
    *,
    volatility: Volatility,
    rate: float,
    dividend_yield: float,
    model: Model,
) -> _Parts:
    """Value, delta, gamma, theta and vega per share of one leg (unscaled)."""
    zeros = np.zeros(spots.shape)
    if leg.is_underlying:
        return spots.copy(), np.ones(spots.shape), zeros, zeros, zeros
    assert leg.expiry is not None
    assert leg.strike is not None
    is_call = leg.right is OptionRight.CALL
    time = years_to_expiry(leg.expiry, at)
    if time <= 0.0:
        value = _intrinsic(spots, leg.strike, is_call)
        return value, _intrinsic_slope(spots, leg.strike, is_call), zeros, zeros, zeros
    sigma = _leg_volatility(leg, volatility)
    inputs = (leg.strike, time, rate, dividend_yield, sigma, is_call)
    if model == "european":
        value = bsm.price(spots, *inputs)
        greeks = bsm.greeks(spots, *inputs)
        parts = (value, greeks.delta, greeks.gamma, greeks.theta, greeks.vega)
    else:
        parts = _american_parts(
            spots,
            leg.strike,
            time,
            rate=rate,
            dividend_yield=dividend_yield,
            sigma=sigma,
            is_call=is_call,
        )
    floor = leg.strike * (math.exp(-rate * time) if model == "european" else 1.0)
    at_zero = spots == 0.0
    value = np.where(at_zero, 0.0 if is_call else floor, parts[0])
    return (value, *parts[1:])


def _intrinsic(spots: FloatArray, strike: float, is_call: bool) -> FloatArray:
    moneyness = spots - strike if is_call else strike - spots
    return np.maximum(moneyness, 0.0)


def _intrinsic_slope(spots: FloatArray, strike: float, is_call: bool) -> FloatArray:
    if is_call:
        return np.where(spots > strike, 1.0, 0.0)
    return np.where(spots < strike, -1.0, 0.0)


def _leg_volatility(leg: ComboLeg, volatility: Volatility) -> float:
    if not isinstance(volatility, Mapping):
        return float(volatility)
    if leg.symbol not in volatility:
        raise ValueError(f"volatility has no value for leg {leg.role!r} ({leg.symbol})")
    return float(volatility[leg.symbol])


def _american_parts(
    spots: FloatArray,
    strike: float,
    time: float,
    *,
    rate: float,
    dividend_yield: float,
    sigma: float,
    is_call: bool,
) -> _Parts:
    """American value and finite-difference Greeks of one option per share."""

    def price(spot: FloatArray, years: float = time, vol: float = sigma) -> FloatArray:
        return american.price(spot, strike, years, rate, dividend_yield, vol, is_call)

    value = price(spots)
    step = 1e-3 * spots
    up, down = price(spots + step), price(spots - step)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = (up - down) / (2.0 * step)
        gamma = (up - 2.0 * value + down) / (step * step)
    one_day = 1.0 / _DAYS_PER_YEAR
    if time > one_day:
        tomorrow = price(spots, years=time - one_day)
    else:
        tomorrow = _intrinsic(spots, strike, is_call)
    theta = tomorrow - value
    half_point = 0.5 * _VOLATILITY_POINT
    vega = price(spots, vol=sigma + half_point) - price(spots, vol=max(sigma - half_point, 1e-8))
    return value, delta, gamma, theta, vega


def payoff_at(
    combo: Combo,
    spot: npt.ArrayLike,
    at: datetime,
    premium: Premium,
    *,
    volatility: Volatility,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
    model: Model = "european",
) -> FloatArray:
    """Profit and loss in dollars of the whole volume at time ``at`` (the T+n curve).

    ``combo_value(...).value - net_premium(combo, premium).total``; the arguments are
    those of :func:`combo_value` and :func:`net_premium`.
    """
    paid = net_premium(combo, premium).total
    value = combo_value(
        combo,
        spot,
        at,
        volatility=volatility,
        rate=rate,
        dividend_yield=dividend_yield,
        model=model,
    ).value
    return value - paid


# --- expiry payoff -----------------------------------------------------------------------


def payoff_at_expiry(
    combo: Combo,
    spot: npt.ArrayLike,
    premium: Premium,
    *,
    volatility: Volatility | None = None,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
    model: Model = "european",
) -> FloatArray:
    """Profit and loss in dollars of the whole volume at the (first) expiry, net of premium.

    Single expiry::

        payoff(S) = volume x (sum over options of ratio x multiplier x max(w (S - K), 0)
                               + sum over stock legs of ratio x S) - volume x net premium

    With several expiries, the value at :func:`expiry_moment` of the first expiry from
    :func:`payoff_at` (the later legs by the model; ``volatility`` is then required).

    Args:
        combo: The combo.
        spot: Underlying price(s) at expiry, any array shape.
        premium: Leg prices per share by symbol, or the net premium of one unit in dollars.
        volatility: Annualised volatility for the legs still alive at the first expiry.
        rate: Continuously compounded risk-free rate per year (later legs only).
        dividend_yield: Continuous dividend yield per year (later legs only).
        model: Model of the later legs, ``"european"`` or ``"american"``.

    Returns:
        Dollars in the shape of ``spot``.

    Raises:
        ValueError: A price is missing, or a multi-expiry combo has no ``volatility``.
    """
    spots = np.asarray(spot, dtype=np.float64)
    if not is_single_expiry(combo):
        expiry = first_expiry(combo)
        assert expiry is not None
        if volatility is None:
            raise ValueError(
                f"volatility is required to value the later legs of a multi-expiry "
                f"{combo.type_name}, got None"
            )
        moment = expiry_moment(expiry)
        return payoff_at(
            combo,
            spots,
            moment,
            premium,
            volatility=volatility,
            rate=rate,
            dividend_yield=dividend_yield,
            model=model,
        )
    value = np.zeros(spots.shape)
    for leg in combo.legs:
        quantity = float(leg.quantity(combo.volume) * leg.multiplier)
        if leg.is_underlying:
            value += quantity * spots
        else:
            assert leg.strike is not None
            value += quantity * _intrinsic(spots, leg.strike, leg.right is OptionRight.CALL)
    paid: float = net_premium(combo, premium).total
    return value - paid


@attrs.frozen(kw_only=True)
class PayoffAnalysis:
    """The expiry payoff of a combo summarised, in dollars for the whole volume.

    Attributes:
        premium: The net premium.
        expiry: The (first) expiry; None for a combo without options.
        exact: True when every option expires on one date: the payoff is piecewise
            linear and every figure is exact.  False for several expiries: the figures
            are numerical (see :func:`analyze_payoff`).
        breakpoints: Underlying prices where the expiry payoff's slope may change,
            starting at 0 (the strikes for a single expiry; the evaluation grid
            otherwise).
        values: The payoff at each breakpoint.
        final_slope: Dollars per 1 dollar of the underlying beyond the last breakpoint.
        max_profit: The highest payoff over ``S >= 0``; ``math.inf`` when unbounded.
        max_loss: The lowest payoff over ``S >= 0`` (negative for a loss);
            ``-math.inf`` when unbounded.
        breakevens: Sorted underlying prices where the payoff is 0.  Where it is 0
            along a whole segment, both ends of the segment.
        profitable_ranges: Sorted, disjoint ``(low, high)`` ranges of ``S`` where the
            payoff is > 0; ``high`` may be ``math.inf``.
    """

    premium: NetPremium
    expiry: date | None
    exact: bool
    breakpoints: tuple[float, ...]
    values: tuple[float, ...]
    final_slope: float
    max_profit: float
    max_loss: float
    breakevens: tuple[float, ...]
    profitable_ranges: tuple[tuple[float, float], ...]

    @property
    def unbounded_profit(self) -> bool:
        """True when the profit grows without bound as the underlying rises."""
        return self.max_profit == math.inf

    @property
    def unbounded_loss(self) -> bool:
        """True when the loss grows without bound as the underlying rises."""
        return self.max_loss == -math.inf

    def describe(self) -> str:
        """One line for a log: premium, max profit, max loss, breakevens."""

        def money(value: float) -> str:
            if math.isinf(value):
                return "unbounded"
            return f"{value:,.2f}"

        side = "debit" if self.premium.is_debit else "credit"
        amount = self.premium.net_debit if self.premium.is_debit else self.premium.net_credit
        breakevens = ", ".join(f"{value:g}" for value in self.breakevens) or "none"
        return (
            f"net {side} {amount:,.2f} ({abs(self.premium.per_share):.2f}/share), "
            f"max profit {money(self.max_profit)}, max loss {money(self.max_loss)}, "
            f"breakevens {breakevens}"
        )


def analyze_payoff(
    combo: Combo,
    premium: Premium,
    *,
    volatility: Volatility | None = None,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
    model: Model = "european",
) -> PayoffAnalysis:
    """Maximum profit, maximum loss, breakevens and profitable ranges at expiry.

    Single expiry (exact): the payoff is linear between the breakpoints ``0 < K1 < ... <
    Kn`` (the distinct strikes) and beyond ``Kn`` has the slope ``volume x (sum of call
    ratio x multiplier + stock ratio)``.  The maximum and minimum are at a breakpoint
    or, when that slope is positive (negative), ``+inf`` (``-inf``).  The breakevens are
    the exact roots of each linear piece.

    Several expiries (numerical): the payoff at the first expiry
    (:func:`payoff_at_expiry`) is evaluated on 2,001 evenly spaced prices from 0 to 4x the
    highest strike plus a geometric tail to 4,000x it, the extremes refined by bounded
    scalar minimisation between the neighbours of the best grid point, and the roots of
    sign changes solved by Brent's method.  The profit (loss) is unbounded when the
    asymptotic slope beyond the grid (expired calls and stock, plus each later call's
    ``e^(-q tau)``, or 1 American) is positive (negative).

    Args:
        combo: The combo.
        premium: Leg prices per share by symbol, or the net premium of one unit in dollars.
        volatility: Volatility of the later legs (multi-expiry combos only).
        rate: Continuously compounded risk-free rate (multi-expiry only).
        dividend_yield: Continuous dividend yield (multi-expiry only).
        model: Model of the later legs (multi-expiry only).

    Returns:
        The analysis.

    Raises:
        ValueError: A price is missing, or a multi-expiry combo has no ``volatility``.
    """
    paid = net_premium(combo, premium)
    expiry = first_expiry(combo)
    if is_single_expiry(combo):
        return _exact_analysis(combo, paid, expiry)
    assert expiry is not None
    if volatility is None:
        raise ValueError(
            f"volatility is required to analyze a multi-expiry {combo.type_name}, got None"
        )

    def payoff(spots: FloatArray) -> FloatArray:
        return payoff_at_expiry(
            combo,
            spots,
            paid.per_unit,
            volatility=volatility,
            rate=rate,
            dividend_yield=dividend_yield,
            model=model,
        )

    slope = _asymptotic_slope(combo, expiry, dividend_yield, model)
    return _numerical_analysis(combo, paid, expiry, payoff, slope)


def _exact_analysis(combo: Combo, paid: NetPremium, expiry: date | None) -> PayoffAnalysis:
    strikes = {leg.strike for leg in combo.legs if leg.strike is not None and leg.strike > 0.0}
    knots = np.array([0.0, *sorted(strikes)])
    values = payoff_at_expiry(combo, knots, paid.per_unit)
    slope = float(
        sum(
            leg.quantity(combo.volume) * leg.multiplier
            for leg in combo.legs
            if leg.is_underlying or leg.right is OptionRight.CALL
        )
    )
    highest, lowest = float(values.max()), float(values.min())
    roots = _piecewise_roots(knots, values, slope)
    return PayoffAnalysis(
        premium=paid,
        expiry=expiry,
        exact=True,
        breakpoints=tuple(float(knot) for knot in knots),
        values=tuple(float(value) for value in values),
        final_slope=slope,
        max_profit=math.inf if slope > 0.0 else highest,
        max_loss=-math.inf if slope < 0.0 else lowest,
        breakevens=roots,
        profitable_ranges=_profitable_ranges(knots, values, slope, roots),
    )


def _piecewise_roots(knots: FloatArray, values: FloatArray, slope: float) -> tuple[float, ...]:
    """Roots of the piecewise-linear function through (knots, values), then ``slope``."""
    roots: set[float] = set()
    for index, (knot, value) in enumerate(zip(knots.tolist(), values.tolist(), strict=True)):
        if value == 0.0:
            roots.add(knot)
        if index + 1 < len(knots):
            next_knot, next_value = float(knots[index + 1]), float(values[index + 1])
            if value * next_value < 0.0:
                roots.add(knot + value * (next_knot - knot) / (value - next_value))
    last_value = float(values[-1])
    if last_value * slope < 0.0:
        roots.add(float(knots[-1]) - last_value / slope)
    return tuple(sorted(roots))


def _profitable_ranges(
    knots: FloatArray, values: FloatArray, slope: float, roots: Sequence[float]
) -> tuple[tuple[float, float], ...]:
    """Ranges where the piecewise-linear payoff is > 0, from the sign inside each piece."""
    edges = sorted({*knots.tolist(), *roots})

    def payoff(point: float) -> float:
        if point <= float(knots[-1]):
            return float(np.interp(point, knots, values))
        return float(values[-1]) + slope * (point - float(knots[-1]))

    return _merge_positive(edges, payoff)


def _merge_positive(
    edges: Sequence[float], payoff: _ScalarPayoff
) -> tuple[tuple[float, float], ...]:
    """Merge the pieces between consecutive ``edges`` (and beyond) whose inside is > 0."""
    ranges: list[tuple[float, float]] = []
    bounds = [*edges, math.inf]
    for low, high in itertools.pairwise(bounds):
        inside = low + 1.0 if math.isinf(high) else 0.5 * (low + high)
        if payoff(inside) <= 0.0:
            continue
        if ranges and ranges[-1][1] == low:
            ranges[-1] = (ranges[-1][0], high)
        else:
            ranges.append((low, high))
    return tuple(ranges)


def _asymptotic_slope(combo: Combo, expiry: date, dividend_yield: float, model: Model) -> float:
    """The payoff's slope dP/dS as S -> inf at the first expiry (dollars per dollar)."""
    moment = expiry_moment(expiry)
    slope = 0.0
    for leg in combo.legs:
        quantity = float(leg.quantity(combo.volume) * leg.multiplier)
        if leg.is_underlying:
            slope += quantity
        elif leg.right is OptionRight.CALL:
            assert leg.expiry is not None
            tau = years_to_expiry(leg.expiry, moment)
            carry = 1.0 if model == "american" else math.exp(-dividend_yield * tau)
            slope += quantity * carry
    return slope


def _numerical_analysis(
    combo: Combo,
    paid: NetPremium,
    expiry: date,
    payoff: Callable[[FloatArray], FloatArray],
    slope: float,
) -> PayoffAnalysis:
    highest_strike = max(leg.strike for leg in combo.legs if leg.strike is not None)
    span = _GRID_SPAN * highest_strike
    grid = np.unique(
        np.concatenate(
            (
                np.linspace(0.0, span, _GRID_POINTS),
                span * np.geomspace(1.0, _TAIL_SPAN, _TAIL_POINTS),
                [leg.strike for leg in combo.legs if leg.strike is not None],
            )
        )
    )
    values = payoff(grid)
    scale = max(float(np.max(np.abs(values))), 1.0)
    flat_slope = abs(slope) <= _RELATIVE_TOLERANCE * scale

    def scalar(point: float) -> float:
        return float(payoff(np.array([point]))[0])

    highest = _refined_extreme(grid, values, scalar, sign=1.0)
    lowest = _refined_extreme(grid, values, scalar, sign=-1.0)
    roots = _numerical_roots(grid, values, scalar)
    if not flat_slope and float(values[-1]) * slope < 0.0:
        roots = (*roots, _tail_root(float(grid[-1]), scalar))
    return PayoffAnalysis(
        premium=paid,
        expiry=expiry,
        exact=False,
        breakpoints=tuple(grid.tolist()),
        values=tuple(values.tolist()),
        final_slope=0.0 if flat_slope else slope,
        max_profit=math.inf if slope > 0.0 and not flat_slope else highest,
        max_loss=-math.inf if slope < 0.0 and not flat_slope else lowest,
        breakevens=roots,
        profitable_ranges=_merge_positive(sorted({*grid.tolist(), *roots}), scalar),
    )


def _refined_extreme(
    grid: FloatArray, values: FloatArray, payoff: _ScalarPayoff, *, sign: float
) -> float:
    """The maximum (sign +1) or minimum (sign -1) of ``payoff`` near the best grid point."""
    best = int(np.argmax(sign * values))
    low, high = float(grid[max(best - 1, 0)]), float(grid[min(best + 1, len(grid) - 1)])
    extreme = float(values[best])
    if high > low:
        result = optimize.minimize_scalar(
            lambda point: -sign * payoff(point),
            bounds=(low, high),
            method="bounded",
            options={"xatol": 1e-10 * max(high, 1.0)},
        )
        extreme = sign * max(sign * extreme, -float(result.fun))
    return extreme


def _numerical_roots(
    grid: FloatArray, values: FloatArray, payoff: _ScalarPayoff
) -> tuple[float, ...]:
    roots: set[float] = set()
    points, levels = grid.tolist(), values.tolist()
    for index, (point, level) in enumerate(zip(points, levels, strict=True)):
        if level == 0.0:
            roots.add(point)
        if index + 1 < len(points) and level * levels[index + 1] < 0.0:
            roots.add(float(optimize.brentq(payoff, point, points[index + 1], xtol=1e-12)))
    return tuple(sorted(roots))


def _tail_root(start: float, payoff: _ScalarPayoff) -> float:
    low, high = start, 2.0 * start
    while payoff(low) * payoff(high) > 0.0:
        low, high = high, 2.0 * high
    return float(optimize.brentq(payoff, low, high, xtol=1e-12))


# --- probability -------------------------------------------------------------------------


def probability_of_profit(
    analysis: PayoffAnalysis,
    spot: float,
    at: datetime,
    *,
    volatility: float,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
) -> float:
    """The probability that the payoff at expiry is > 0 under a lognormal underlying.

    ``ln S_T`` is normal with mean ``ln S + (r - q - sigma^2 / 2) T`` and standard
    deviation ``sigma sqrt T`` (the risk-neutral Black-Scholes-Merton distribution), ``T``
    the years from ``at`` to the analysis' expiry (:func:`years_to_expiry`).  The result
    is the sum over :attr:`PayoffAnalysis.profitable_ranges` ``(a, b)`` of
    ``N(d(b)) - N(d(a))`` with ``d(x) = (ln x - mean) / (sigma sqrt T)``.  At or after
    the expiry it is 1.0 when ``spot`` is in a profitable range and 0.0 otherwise.

    Args:
        analysis: From :func:`analyze_payoff`.
        spot: Underlying price now, > 0.
        at: Now; timezone-aware.
        volatility: One annualised volatility for the underlying (the ATM implied
            volatility, or the mean of the legs' implied volatilities).
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.

    Returns:
        A probability in [0, 1].

    Raises:
        ValueError: The analysis has no expiry, ``spot`` or ``volatility`` is not
            positive, or ``at`` is naive.
    """
    if analysis.expiry is None:
        raise ValueError("probability_of_profit needs a combo with an option leg; expiry is None")
    if not spot > 0.0:
        raise ValueError(f"spot must be > 0, got {spot!r}")
    if not volatility > 0.0:
        raise ValueError(f"volatility must be > 0, got {volatility!r}")
    time = years_to_expiry(analysis.expiry, at)
    if time <= 0.0:
        inside = any(low < spot < high for low, high in analysis.profitable_ranges)
        return 1.0 if inside else 0.0
    mean = math.log(spot) + (rate - dividend_yield - 0.5 * volatility**2) * time
    deviation = volatility * math.sqrt(time)

    def cumulative(price: float) -> float:
        if price <= 0.0:
            return 0.0
        if math.isinf(price):
            return 1.0
        return float(special.ndtr((math.log(price) - mean) / deviation))

    total = sum(cumulative(high) - cumulative(low) for low, high in analysis.profitable_ranges)
    return min(max(total, 0.0), 1.0)


# --- plot --------------------------------------------------------------------------------


def plot_payoff(
    combo: Combo,
    premium: Premium,
    path: str | Path,
    *,
    spot: float,
    at: datetime,
    volatility: Volatility,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
    model: Model = "european",
    price_range: tuple[float, float] | None = None,
    points: int = 401,
) -> Path:
    """Write a PNG of the expiry payoff and the T+n curve (the payoff at ``at``).

    Needs matplotlib, the ``plot`` extra: ``pip install 'otrade[plot]'``.

    Args:
        combo: The combo.
        premium: Leg prices per share by symbol, or the net premium of one unit in dollars.
        path: Where to write the PNG.
        spot: Underlying price now, marked on the chart.
        at: The time of the T+n curve; timezone-aware.
        volatility: Volatility of the model curve (and of the later legs at expiry).
        rate: Continuously compounded risk-free rate per year.
        dividend_yield: Continuous dividend yield per year.
        model: ``"european"`` or ``"american"``.
        price_range: Underlying prices of the x axis; default from 0.8x the lowest
            strike (or spot) to 1.2x the highest.
        points: Number of prices plotted.

    Returns:
        The path written.

    Raises:
        ImportError: matplotlib is not installed (install the ``otrade[plot]`` extra).
    """
    try:
        # An optional dependency, imported on use.  A bare Figure renders with Agg and
        # leaves pyplot's global state (and the caller's backend) alone.
        from matplotlib.figure import Figure  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
    except ImportError as error:
        raise ImportError(
            "plot_payoff needs matplotlib; install the extra: pip install 'otrade[plot]'"
        ) from error
    strikes = [leg.strike for leg in combo.legs if leg.strike is not None] or [spot]
    low, high = price_range or (0.8 * min(*strikes, spot), 1.2 * max(*strikes, spot))
    # the strikes are the expiry curve's kinks: plot them exactly
    kinks = [strike for strike in strikes if low <= strike <= high]
    prices = np.unique(np.concatenate((np.linspace(low, high, points), kinks)))
    at_expiry = payoff_at_expiry(
        combo,
        prices,
        premium,
        volatility=volatility,
        rate=rate,
        dividend_yield=dividend_yield,
        model=model,
    )
    now = payoff_at(
        combo,
        prices,
        at,
        premium,
        volatility=volatility,
        rate=rate,
        dividend_yield=dividend_yield,
        model=model,
    )
    figure = Figure(figsize=(8, 5))
    axes = figure.subplots()
    axes.plot(prices, at_expiry, label="at expiry")
    axes.plot(prices, now, label=f"at {at:%Y-%m-%d %H:%M}", linestyle="--")
    axes.axhline(0.0, color="grey", linewidth=0.8)
    axes.axvline(spot, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xlabel(f"{combo.underlying} price")
    axes.set_ylabel("profit and loss ($)")
    axes.set_title(f"{combo.underlying} {combo.type_name} x{combo.volume}")
    axes.legend()
    output = Path(path)
    figure.savefig(output, format="png")
    return output
