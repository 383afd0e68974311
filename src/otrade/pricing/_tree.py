"""Cox-Ross-Rubinstein binomial trees, vectorised over options (internal)."""

from __future__ import annotations

import numpy as np

from otrade.pricing._arrays import BoolArray, FloatArray

_TREE_CHUNK_NODES = 2_000_000


def tree(
    *,
    spot: FloatArray,
    strike: FloatArray,
    time_to_expiry: FloatArray,
    rate: FloatArray,
    dividend_yield: FloatArray,
    volatility: FloatArray,
    is_call: BoolArray,
    steps: int,
    american: bool,
) -> FloatArray:
    """Backward induction on one-dimensional inputs, in chunks of options."""
    value = np.empty_like(spot)
    chunk = max(1, _TREE_CHUNK_NODES // (2 * steps + 1))
    for start in range(0, spot.size, chunk):
        part = slice(start, start + chunk)
        value[part] = _tree_chunk(
            spot=spot[part],
            strike=strike[part],
            time_to_expiry=time_to_expiry[part],
            rate=rate[part],
            dividend_yield=dividend_yield[part],
            volatility=volatility[part],
            is_call=is_call[part],
            steps=steps,
            american=american,
        )
    return value


def _tree_chunk(
    *,
    spot: FloatArray,
    strike: FloatArray,
    time_to_expiry: FloatArray,
    rate: FloatArray,
    dividend_yield: FloatArray,
    volatility: FloatArray,
    is_call: BoolArray,
    steps: int,
    american: bool,
) -> FloatArray:
    """Backward induction for a few options at once (arrays of shape (options, nodes))."""
    step_time = (time_to_expiry / steps)[:, None]
    move = volatility[:, None] * np.sqrt(step_time)
    up = np.exp(move)
    probability = (np.exp((rate - dividend_yield)[:, None] * step_time) - 1.0 / up) / (
        up - 1.0 / up
    )
    discount = np.exp(-rate[:, None] * step_time)
    up_weight = discount * probability
    down_weight = discount * (1.0 - probability)
    sign = np.where(is_call, 1.0, -1.0)[:, None]
    # Node j of step i holds spot * u^(2j - i); every such price is on this ladder.
    ladder = np.arange(-steps, steps + 1)
    exercise = sign * (spot[:, None] * np.exp(ladder * move) - strike[:, None])
    values = np.maximum(exercise[:, 0::2], 0.0)
    for step in range(steps - 1, -1, -1):
        values = up_weight * values[:, 1:] + down_weight * values[:, :-1]
        if american:
            np.maximum(values, exercise[:, steps - step : steps + step + 1 : 2], out=values)
    usable = (probability[:, 0] >= 0.0) & (probability[:, 0] <= 1.0)
    result: FloatArray = np.where(usable, values[:, 0], np.nan)
    return result
