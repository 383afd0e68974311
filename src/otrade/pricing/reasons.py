"""Why a pricing input was refused.

The vector functions never raise for a bad value: they return NaN in its place and, for
implied volatilities, a :class:`Reason` code saying why.  The scalar helpers raise
:class:`PricingInputError` instead, with a message naming the argument and its value.
"""

from __future__ import annotations

import enum

from otrade.errors import OTradeError

__all__ = ["PricingInputError", "Reason"]


class Reason(enum.IntEnum):
    """Why an implied volatility is NaN (stored as ``int8`` in ``IVResult.reason``).

    When several apply, the first in this list wins.

    Attributes:
        OK: Solved; the volatility is valid.
        NAN_INPUT: An input is NaN or infinite.
        NON_POSITIVE_TIME: ``time_to_expiry <= 0``.
        NON_POSITIVE_SPOT: ``spot <= 0``.
        NON_POSITIVE_FORWARD: ``forward <= 0`` (Black-76).
        NON_POSITIVE_STRIKE: ``strike <= 0``.
        NON_POSITIVE_PRICE: ``price <= 0``.
        BELOW_INTRINSIC: The price is at or below the lower no-arbitrage bound, so it
            holds no time value: the discounted intrinsic value
            ``max(±(S e^(-qT) - K e^(-rT)), 0)`` for European options; for American
            ones the value at zero volatility, which is at least the immediate exercise
            value ``max(±(S - K), 0)``.
        ABOVE_UPPER_BOUND: The price is at or above the upper no-arbitrage bound
            (``S e^(-qT)`` for a European call, ``K e^(-rT)`` for a European put,
            ``S max(1, e^(-qT))`` and ``K max(1, e^(-rT))`` for American ones), or an
            American price needs a volatility above 1,000%.
        NO_CONVERGENCE: The solver did not reach the volatility within its iteration
            limit (not expected for inputs inside the bounds; report it if you see it).
    """

    OK = 0
    NAN_INPUT = 1
    NON_POSITIVE_TIME = 2
    NON_POSITIVE_SPOT = 3
    NON_POSITIVE_FORWARD = 4
    NON_POSITIVE_STRIKE = 5
    NON_POSITIVE_PRICE = 6
    BELOW_INTRINSIC = 7
    ABOVE_UPPER_BOUND = 8
    NO_CONVERGENCE = 9


class PricingInputError(OTradeError, ValueError):
    """A scalar pricing helper was given a value outside its domain.

    The message names the argument and the value, e.g.
    ``time_to_expiry must be > 0, got 0.0``.  It is a ``ValueError`` as well as an
    ``OTradeError``, so either clause catches it.
    """
