"""The records the pricing functions return, and scaling Greeks to a position."""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

from otrade.pricing._arrays import BoolArray, FloatArray, ReasonArray
from otrade.pricing.reasons import Reason

__all__ = ["Greeks", "IVResult", "position_greeks"]


@attrs.frozen(eq=False)
class Greeks:
    """Sensitivities of one option each, as arrays of the broadcast input shape.

    Units are fixed across otrade (see the pricing guide):

    Attributes:
        delta: Change in the option price per 1 unit change of the underlying
            (spot, or the forward for Black-76).
        gamma: Change in delta per 1 unit change of the underlying.
        theta: Change in the option price per calendar day that passes
            (the annual rate divided by 365); usually negative.
        vega: Change in the option price per 1 percentage point of volatility
            (0.20 -> 0.21).
        rho: Change in the option price per 1 percentage point of the interest rate.
    """

    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray
    rho: FloatArray


@attrs.frozen(eq=False)
class IVResult:
    """Implied volatilities with the reason each one is or is not valid.

    Attributes:
        volatility: Annualised implied volatility (0.2 means 20%); NaN where the
            price has none.
        reason: A :class:`~otrade.pricing.reasons.Reason` code per option, as ``int8``;
            ``Reason.OK`` (0) exactly where ``volatility`` is a number.
    """

    volatility: FloatArray
    reason: ReasonArray

    @property
    def is_valid(self) -> BoolArray:
        """Whether each volatility was solved (its reason is ``Reason.OK``)."""
        valid: BoolArray = self.reason == Reason.OK
        return valid


def position_greeks(greeks: Greeks, multiplier: npt.ArrayLike, quantity: npt.ArrayLike) -> Greeks:
    """Scale per-unit Greeks to positions.

    Every Greek is multiplied by ``multiplier * quantity``.  A long position of 3 SPY
    calls with delta 0.5 has ``position_greeks(g, 100, 3).delta == 150``: the position
    moves like 150 shares.  Theta stays per calendar day and vega and rho per
    percentage point, now in money per position.

    Args:
        greeks: Per-unit Greeks from ``greeks()`` of any model.
        multiplier: Units of the underlying per contract (100 for US equity options).
        quantity: Signed number of contracts: positive long, negative short.

    Returns:
        The position Greeks, broadcast over the inputs.
    """
    scale = np.asarray(multiplier, dtype=np.float64) * np.asarray(quantity, dtype=np.float64)
    return Greeks(
        delta=greeks.delta * scale,
        gamma=greeks.gamma * scale,
        theta=greeks.theta * scale,
        vega=greeks.vega * scale,
        rho=greeks.rho * scale,
    )
