"""Option pricing: pure functions on numpy arrays.

Models live in their own modules, each with ``price``, ``greeks`` (European models),
``implied_volatility`` and scalar helpers:

* :mod:`otrade.pricing.bsm`: Black-Scholes-Merton, European options on a spot with a
  continuous dividend yield;
* :mod:`otrade.pricing.black76`: Black-76, European options on a forward or futures price;
* :mod:`otrade.pricing.american`: American options with a continuous dividend yield
  (the exercise-boundary method, Barone-Adesi-Whaley, and a Cox-Ross-Rubinstein tree
  as the reference).

Every module uses the same units: time in years (ACT/365), rates continuously
compounded, Greeks per unit of the underlying with theta per calendar day and vega and
rho per percentage point.  Use them as ``from otrade.pricing import bsm`` and
``bsm.implied_volatility(...)``.
"""

from otrade.pricing import american, black76, bsm
from otrade.pricing.reasons import PricingInputError, Reason
from otrade.pricing.results import Greeks, IVResult, position_greeks

__all__ = [
    "Greeks",
    "IVResult",
    "PricingInputError",
    "Reason",
    "american",
    "black76",
    "bsm",
    "position_greeks",
]
