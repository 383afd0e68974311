"""HedgeConfig validation and the pure hedge decision: exact cases and properties."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otrade.constants import Direction, OrderType
from otrade.hedge import HedgeConfig, HedgeDecision, decide_hedge, effective_band

SPOT = 450.0


# -- HedgeConfig -----------------------------------------------------------------------------


def test_the_default_config_hedges_to_target_outside_fifty_shares_with_market_orders():
    config = HedgeConfig()
    assert (config.interval_s, config.delta_target, config.delta_band) == (5.0, 0.0, 50.0)
    assert (config.hedge_to, config.min_volume, config.max_volume) == ("target", 1, 10_000)
    assert (config.order_type, config.limit_offset_ticks) == (OrderType.MARKET, 2)
    assert config.gamma_band_factor == 0.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("interval_s", 0.0),
        ("interval_s", -5.0),
        ("interval_s", math.inf),
        ("interval_s", math.nan),
        ("delta_target", math.nan),
        ("delta_target", math.inf),
        ("delta_band", -1.0),
        ("delta_band", math.inf),
        ("hedge_to", "edge"),
        ("min_volume", 0),
        ("min_volume", 1.5),
        ("min_volume", True),
        ("max_volume", 0),
        ("order_type", OrderType.STOP),
        ("order_type", OrderType.STOP_LIMIT),
        ("order_type", "stop"),
        ("order_type", "bogus"),
        ("limit_offset_ticks", -1),
        ("gamma_band_factor", -0.5),
        ("gamma_band_factor", math.nan),
    ],
)
def test_a_bad_config_value_is_refused_naming_the_field_and_the_value(field, value):
    with pytest.raises(ValueError, match=field) as raised:
        HedgeConfig(**{field: value})
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize("value", ["limit", OrderType.LIMIT])
def test_the_order_type_may_be_given_as_its_string_value(value):
    assert HedgeConfig(order_type=value).order_type is OrderType.LIMIT


def test_max_volume_below_min_volume_is_refused_naming_both():
    with pytest.raises(ValueError, match=r"max_volume must be >= min_volume \(100\), got 99"):
        HedgeConfig(min_volume=100, max_volume=99)


def test_a_decision_with_an_unknown_action_is_refused():
    with pytest.raises(ValueError, match="action"):
        HedgeDecision(
            strategy="s", underlying="SPY", time=datetime(2026, 12, 2, tzinfo=UTC),
            delta=0.0, gamma=0.0, target=0.0, band=50.0, action="hedge", reason="",
        )  # fmt: skip


# -- decide_hedge: exact cases -----------------------------------------------------------------


def test_delta_152_above_a_50_band_sells_152_shares_back_to_target():
    direction, volume, band, reason = decide_hedge(152.0, 0.0, SPOT, HedgeConfig())
    assert (direction, volume, band) == (Direction.SHORT, 152, 50.0)
    assert reason == "delta 152.0 outside 0.0 +- 50.0: selling 152 shares"


def test_delta_minus_152_buys_152_shares():
    direction, volume, _, reason = decide_hedge(-152.0, 0.0, SPOT, HedgeConfig())
    assert (direction, volume) == (Direction.LONG, 152)
    assert reason == "delta -152.0 outside 0.0 +- 50.0: buying 152 shares"


def test_hedging_to_the_band_sells_only_down_to_its_edge():
    direction, volume, _, _ = decide_hedge(152.0, 0.0, SPOT, HedgeConfig(hedge_to="band"))
    assert (direction, volume) == (Direction.SHORT, 102)


def test_hedging_to_the_band_rounds_up_so_delta_ends_inside_it():
    direction, volume, _, _ = decide_hedge(-152.3, 0.0, SPOT, HedgeConfig(hedge_to="band"))
    assert (direction, volume) == (Direction.LONG, 103)  # ends at -49.3


def test_the_target_is_the_centre_of_the_band():
    config = HedgeConfig(delta_target=200.0, delta_band=25.0)
    assert decide_hedge(220.0, 0.0, SPOT, config)[:2] == (None, 0)
    assert decide_hedge(170.4, 0.0, SPOT, config)[:2] == (Direction.LONG, 30)


@pytest.mark.parametrize("delta", [0.0, 49.9, 50.0, -50.0, -12.0])
def test_delta_inside_the_band_or_on_its_edge_does_nothing(delta):
    direction, volume, band, reason = decide_hedge(delta, 0.0, SPOT, HedgeConfig())
    assert (direction, volume, band) == (None, 0, 50.0)
    assert "inside 0.0 +- 50.0" in reason


def test_gamma_widens_the_band_by_the_delta_a_one_percent_move_makes():
    # |gamma| 20 shares per $1 at spot 450: a 1% move ($4.50) changes delta by 90 shares.
    config = HedgeConfig(gamma_band_factor=0.5)
    assert effective_band(-20.0, SPOT, config) == pytest.approx(50.0 + 45.0)
    direction, volume, band, _ = decide_hedge(90.0, -20.0, SPOT, config)
    assert (direction, volume, band) == (None, 0, pytest.approx(95.0))
    direction, volume, _, _ = decide_hedge(96.0, -20.0, SPOT, config)
    assert (direction, volume) == (Direction.SHORT, 96)


def test_a_hedge_below_min_volume_is_not_made():
    config = HedgeConfig(delta_band=0.0, min_volume=100)
    direction, volume, _, reason = decide_hedge(99.0, 0.0, SPOT, config)
    assert (direction, volume) == (None, 0)
    assert "below min_volume 100" in reason
    assert decide_hedge(100.0, 0.0, SPOT, config)[:2] == (Direction.SHORT, 100)


def test_a_hedge_above_max_volume_is_capped_and_says_how_much_was_needed():
    direction, volume, _, reason = decide_hedge(-2_500.0, 0.0, SPOT, HedgeConfig(max_volume=1_000))
    assert (direction, volume) == (Direction.LONG, 1_000)
    assert "capped at max_volume; 2500 needed" in reason


def test_less_than_half_a_share_outside_a_zero_band_rounds_to_no_hedge():
    config = HedgeConfig(delta_band=0.0)
    assert decide_hedge(0.4, 0.0, SPOT, config)[:2] == (None, 0)
    assert decide_hedge(0.6, 0.0, SPOT, config)[:2] == (Direction.SHORT, 1)


@pytest.mark.parametrize(
    ("delta", "gamma", "spot", "name"),
    [
        (math.nan, 0.0, SPOT, "delta"),
        (0.0, math.inf, SPOT, "gamma"),
        (0.0, 0.0, math.nan, "spot"),
        (0.0, 0.0, 0.0, "spot"),
    ],
)
def test_a_non_finite_input_is_refused_by_name(delta, gamma, spot, name):
    with pytest.raises(ValueError, match=name):
        decide_hedge(delta, gamma, spot, HedgeConfig())


# -- decide_hedge: properties -----------------------------------------------------------------

deltas = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
gammas = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
spots = st.floats(min_value=0.01, max_value=10_000.0, allow_nan=False)


@st.composite
def configs(draw: st.DrawFn) -> HedgeConfig:
    min_volume = draw(st.integers(1, 500))
    return HedgeConfig(
        delta_target=draw(st.floats(-1e4, 1e4, allow_nan=False)),
        delta_band=draw(st.floats(0.0, 1e3, allow_nan=False)),
        hedge_to=draw(st.sampled_from(["target", "band"])),
        min_volume=min_volume,
        max_volume=draw(st.integers(min_volume, 100_000)),
        gamma_band_factor=draw(st.floats(0.0, 5.0, allow_nan=False)),
    )


def after_hedge(delta: float, direction: Direction, volume: int) -> float:
    """Delta once the hedge filled: buying shares adds delta, selling removes it."""
    return delta + direction.sign * volume


@given(deltas, gammas, spots, configs())
def test_an_uncapped_hedge_lands_inside_the_band_and_to_target_within_half_a_share(
    delta, gamma, spot, config
):
    direction, volume, band, _ = decide_hedge(delta, gamma, spot, config)
    if direction is None or volume == config.max_volume:
        return
    miss = abs(after_hedge(delta, direction, volume) - config.delta_target)
    tolerance = 1e-6 * max(1.0, abs(delta), abs(config.delta_target))
    if config.hedge_to == "target":
        assert miss <= 0.5 + tolerance
    else:
        # Whole shares cannot land inside a band narrower than half a share.
        assert miss <= max(band, 0.5) + tolerance


@given(deltas, gammas, spots, configs())
def test_every_hedge_reduces_the_distance_to_target_within_the_volume_limits(
    delta, gamma, spot, config
):
    direction, volume, band, _ = decide_hedge(delta, gamma, spot, config)
    before = abs(delta - config.delta_target)
    if direction is None:
        assert volume == 0
        return
    assert before > band
    assert config.min_volume <= volume <= config.max_volume
    assert abs(after_hedge(delta, direction, volume) - config.delta_target) < before
    assert direction is (Direction.SHORT if delta > config.delta_target else Direction.LONG)


@given(deltas, gammas, spots, configs())
def test_no_hedge_is_decided_while_delta_is_within_the_effective_band(delta, gamma, spot, config):
    band = effective_band(gamma, spot, config)
    direction, _, decided_band, _ = decide_hedge(delta, gamma, spot, config)
    assert decided_band == band >= config.delta_band
    if abs(delta - config.delta_target) <= band:
        assert direction is None
