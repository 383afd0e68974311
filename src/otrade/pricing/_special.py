"""Typed wrappers of the scipy.special functions the models use.

scipy ships no type stubs; wrapping its ufuncs here keeps ``mypy --strict`` honest
everywhere else.
"""

from __future__ import annotations

from scipy import special  # type: ignore[import-untyped,unused-ignore]

from otrade.pricing._arrays import FloatArray


def ndtr(value: FloatArray) -> FloatArray:
    """Standard normal distribution function N(x)."""
    result: FloatArray = special.ndtr(value)
    return result


def ndtri(probability: FloatArray) -> FloatArray:
    """Inverse of the standard normal distribution function."""
    result: FloatArray = special.ndtri(probability)
    return result


def erfcx(value: FloatArray) -> FloatArray:
    """Scaled complementary error function ``exp(x^2) erfc(x)``."""
    result: FloatArray = special.erfcx(value)
    return result
