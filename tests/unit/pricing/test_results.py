"""Result records and position scaling."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from otrade.pricing import Greeks, IVResult, Reason, bsm, position_greeks


def test_position_greeks_scale_by_multiplier_and_signed_quantity():
    per_share = bsm.greeks(100.0, 100.0, 0.5, 0.03, 0.0, 0.2, True)
    long_three = position_greeks(per_share, 100, 3)
    short_two = position_greeks(per_share, 100, -2)
    for name in ("delta", "gamma", "theta", "vega", "rho"):
        assert getattr(long_three, name) == pytest.approx(300 * getattr(per_share, name))
        assert getattr(short_two, name) == pytest.approx(-200 * getattr(per_share, name))


def test_position_greeks_broadcast_per_leg():
    legs = bsm.greeks(100.0, [95.0, 105.0], 0.5, 0.03, 0.0, 0.2, [False, True])
    position = position_greeks(legs, 100, np.array([1, -1]))
    np.testing.assert_allclose(position.delta, legs.delta * [100.0, -100.0])
    # A long put and a short call: both legs carry negative delta.
    assert (position.delta < 0).all()


def test_greeks_are_frozen():
    greeks = bsm.greeks(100.0, 100.0, 0.5, 0.03, 0.0, 0.2, True)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        greeks.delta = np.array(0.0)  # type: ignore[misc]
    assert isinstance(greeks, Greeks)


def test_iv_result_marks_the_valid_entries():
    result = IVResult(
        volatility=np.array([0.2, np.nan]),
        reason=np.array([Reason.OK, Reason.NAN_INPUT], dtype=np.int8),
    )
    assert result.is_valid.tolist() == [True, False]
