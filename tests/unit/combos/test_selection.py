"""Shape-based leg selection: which strikes each helper picks, its tie rules and its errors.

The chain (see ``selection_chains``): SPY at 100, strikes 70 to 130 every 5, 45 days,
flat 25 % vol.  Its BSM deltas, rounded:

    strike    70    75    80     85     90     95    100    105    110    115    120
    call    1.00  1.00  0.995  0.971  0.893  0.735  0.518  0.304  0.149  0.061  0.021
    put     0.00  0.00 -0.005 -0.029 -0.107 -0.265 -0.483 -0.696 -0.851 -0.939 -0.979
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otrade.combos import build_combo
from otrade.combos.selection import (
    DEFAULT_WING_WIDTH,
    SelectionError,
    SpreadKind,
    butterfly_at_atm,
    calendar_at_strike,
    calendar_type,
    generic_legs,
    iron_butterfly_at_atm,
    iron_condor_by_delta,
    straddle_at_atm,
    strangle_by_delta,
    vertical_by_delta,
    vertical_by_width,
    vertical_type,
)
from otrade.constants import Direction, OptionRight
from otrade.errors import OTradeError
from otrade.portfolio import ChainData, OptionData, PortfolioData
from tests.fakes.chains import option
from tests.unit.combos.selection_chains import (
    CALL,
    FAR,
    NEAR,
    PUT,
    QUOTE_TIME,
    STRIKES,
    bsm_chain,
    bsm_portfolio,
    far_chain,
    near_chain,
    set_call_deltas,
)

NEAR_KEY = "'SPY 2026-12-18'"


@pytest.fixture(scope="module")
def portfolio() -> PortfolioData:
    """Read-only: tests that change quotes or deltas build their own chain."""
    return bsm_portfolio()


@pytest.fixture(scope="module")
def chain(portfolio: PortfolioData) -> ChainData:
    return near_chain(portfolio)


def strikes(legs: dict[str, OptionData]) -> dict[str, float]:
    return {role: leg.strike for role, leg in legs.items()}


def attempt(select: Callable[[], dict[str, OptionData]]) -> dict[str, OptionData] | SelectionError:
    """The legs ``select`` picks, or the SelectionError it raises."""
    try:
        return select()
    except SelectionError as error:
        return error


def clear_quotes(chain: ChainData) -> None:
    for listed in chain.options:
        listed.update_quote(None, None, None, QUOTE_TIME)


# --- the chain itself ------------------------------------------------------------------------


def test_the_test_chain_is_at_the_money_at_100(chain: ChainData):
    assert chain.atm_strike() == 100.0
    assert chain.strikes == STRIKES
    assert chain.calls[110.0].delta == pytest.approx(0.1487, abs=1e-4)
    assert chain.puts[90.0].delta == pytest.approx(-0.1067, abs=1e-4)


# --- iron condor -----------------------------------------------------------------------------


def test_iron_condor_sells_the_16_deltas_with_5_wide_wings_by_default(chain: ChainData):
    legs = iron_condor_by_delta(chain)

    assert strikes(legs) == {
        "long_put": 85.0,
        "short_put": 90.0,
        "short_call": 110.0,
        "long_call": 115.0,
    }
    assert list(legs) == ["long_put", "short_put", "short_call", "long_call"]
    assert all(leg.chain is chain for leg in legs.values())
    assert [leg.right for leg in legs.values()] == [PUT, PUT, CALL, CALL]
    assert DEFAULT_WING_WIDTH == 5.0


def test_iron_condor_shorts_follow_the_delta_and_wings_the_width(chain: ChainData):
    legs = iron_condor_by_delta(chain, short_delta=0.30, wing_width=10.0)

    assert strikes(legs) == {
        "long_put": 85.0,
        "short_put": 95.0,
        "short_call": 105.0,
        "long_call": 115.0,
    }


def test_iron_condor_wing_goes_to_the_nearest_listed_strike_beyond_the_width():
    # 85 and 115 are not listed: the wings go one strike further out, never inward.
    chain = bsm_chain(strikes=(75.0, 80.0, 90.0, 95.0, 100.0, 105.0, 110.0, 120.0, 125.0))

    legs = iron_condor_by_delta(chain, wing_width=5.0)

    assert strikes(legs) == {
        "long_put": 80.0,
        "short_put": 90.0,
        "short_call": 110.0,
        "long_call": 120.0,
    }


def test_iron_condor_by_wing_delta_picks_wings_nearest_that_delta_beyond_the_shorts(
    chain: ChainData,
):
    legs = iron_condor_by_delta(chain, short_delta=0.16, wing_delta=0.05)

    # put -0.029 at 85 beats -0.005 at 80; call 0.061 at 115 beats 0.021 at 120.
    assert strikes(legs) == {
        "long_put": 85.0,
        "short_put": 90.0,
        "short_call": 110.0,
        "long_call": 115.0,
    }


def test_iron_condor_wing_delta_never_lands_on_the_short_strike():
    chain = bsm_chain()
    # Both shorts are also the options nearest the wing delta; the wing moves one strike out.
    set_call_deltas(chain, {80.0: 0.999, 85.0: 0.97, 90.0: 0.92, 110.0: 0.08, 115.0: 0.03})
    assert chain.nearest_delta(-0.07, PUT) is chain.puts[90.0]
    assert chain.nearest_delta(0.07, CALL) is chain.calls[110.0]

    legs = iron_condor_by_delta(chain, short_delta=0.10, wing_delta=0.07)

    assert strikes(legs) == {
        "long_put": 85.0,
        "short_put": 90.0,
        "short_call": 110.0,
        "long_call": 115.0,
    }


def test_iron_condor_ties_go_to_the_lower_strike():
    chain = bsm_chain()
    # Puts -0.125 at 90 and -0.375 at 95, calls 0.375 at 105 and 0.125 at 110: a 0.25
    # target is exactly between each pair.
    set_call_deltas(chain, {90.0: 0.875, 95.0: 0.625, 105.0: 0.375, 110.0: 0.125})

    legs = iron_condor_by_delta(chain, short_delta=0.25)

    assert legs["short_put"].strike == 90.0
    assert legs["short_call"].strike == 105.0


def test_iron_condor_skips_options_without_a_delta():
    chain = bsm_chain()
    set_call_deltas(chain, {90.0: None, 110.0: None})

    legs = iron_condor_by_delta(chain)

    # Without 90 and 110 the nearest 16-delta put is 95 (-0.265 vs -0.029 at 85) and the
    # nearest call is 115 (0.061 vs 0.304 at 105).
    assert strikes(legs) == {
        "long_put": 90.0,
        "short_put": 95.0,
        "short_call": 115.0,
        "long_call": 120.0,
    }


def test_iron_condor_put_wing_outside_the_chain_is_an_error(chain: ChainData):
    with pytest.raises(SelectionError) as caught:
        iron_condor_by_delta(chain, wing_width=25.0)

    assert str(caught.value) == (
        "iron_condor: no put strike at or below 65.0 for long_put (lowest listed 70.0)"
    )
    assert caught.value.shape == "iron_condor"
    assert caught.value.role == "long_put"


def test_iron_condor_call_wing_outside_the_chain_is_an_error():
    chain = bsm_chain(strikes=tuple(float(strike) for strike in range(70, 125, 5)))

    with pytest.raises(SelectionError) as caught:
        iron_condor_by_delta(chain, wing_width=15.0)

    assert str(caught.value) == (
        "iron_condor: no call strike at or above 125.0 for long_call (highest listed 120.0)"
    )
    assert caught.value.role == "long_call"


def test_iron_condor_without_deltas_names_the_role():
    chain = bsm_chain()
    set_call_deltas(chain, dict.fromkeys(STRIKES))

    with pytest.raises(SelectionError, match=r"^iron_condor: no put with a delta for short_put "):
        iron_condor_by_delta(chain)


def test_iron_condor_with_put_deltas_only_names_the_short_call():
    chain = bsm_chain()
    for call in chain.calls.values():
        call.update_greeks(0.25, None, None, None, None, source="local", time=QUOTE_TIME)

    with pytest.raises(SelectionError) as caught:
        iron_condor_by_delta(chain)

    assert str(caught.value) == (
        f"iron_condor: no call with a delta for short_call in chain {NEAR_KEY}"
    )
    assert caught.value.role == "short_call"


def test_iron_condor_whose_short_deltas_meet_at_one_strike_is_an_error(chain: ChainData):
    with pytest.raises(SelectionError) as caught:
        iron_condor_by_delta(chain, short_delta=0.45)

    assert str(caught.value) == (
        "iron_condor: short_call strike 100.0 (nearest +0.45 delta) is not above "
        "short_put strike 100.0 (nearest -0.45 delta)"
    )


def test_iron_condor_wing_delta_without_a_delta_beyond_the_short_is_an_error():
    chain = bsm_chain()
    set_call_deltas(chain, {70.0: None, 75.0: None, 80.0: None, 85.0: None})

    with pytest.raises(SelectionError) as caught:
        iron_condor_by_delta(chain, wing_delta=0.05)

    assert str(caught.value) == ("iron_condor: no put with a delta below strike 90.0 for long_put")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"short_delta": 0.0}, "short_delta must be between 0 and 1"),
        ({"short_delta": -0.16}, "short_delta must be between 0 and 1"),
        ({"short_delta": 1.0}, "short_delta must be between 0 and 1"),
        ({"wing_width": 0.0}, "wing_width must be a finite strike distance > 0, got 0.0"),
        ({"wing_width": -5.0}, "wing_width must be a finite strike distance > 0, got -5.0"),
        ({"wing_width": math.nan}, "wing_width must be a finite strike distance > 0, got nan"),
        ({"wing_width": 5.0, "wing_delta": 0.05}, "give wing_width or wing_delta, not both"),
        ({"wing_delta": 0.16}, r"wing_delta must be between 0 and short_delta \(0.16\)"),
        ({"wing_delta": 0.0}, r"wing_delta must be between 0 and short_delta \(0.16\)"),
    ],
)
def test_iron_condor_rejects_bad_arguments(
    chain: ChainData, arguments: dict[str, float], message: str
):
    with pytest.raises(ValueError, match=message) as caught:
        iron_condor_by_delta(chain, **arguments)

    assert not isinstance(caught.value, SelectionError)


@settings(max_examples=60, deadline=None)
@given(
    delta=st.floats(min_value=0.05, max_value=0.40),
    width=st.sampled_from([5.0, 10.0, 15.0]),
)
def test_iron_condor_strikes_are_ordered_and_wings_exactly_width_away(delta: float, width: float):
    chain = _SHARED_CHAIN
    legs = iron_condor_by_delta(chain, short_delta=delta, wing_width=width)
    k1, k2, k3, k4 = (leg.strike for leg in legs.values())

    assert k1 < k2 < k3 < k4
    assert (k2 - k1, k4 - k3) == (width, width)
    assert legs["short_put"] is chain.nearest_delta(-delta, PUT)
    assert legs["short_call"] is chain.nearest_delta(delta, CALL)


@settings(max_examples=40, deadline=None)
@given(
    spot=st.floats(min_value=90.0, max_value=110.0),
    delta=st.floats(min_value=0.01, max_value=0.99),
    width=st.sampled_from([2.5, 5.0, 7.5, 10.0, 30.0]),
)
def test_iron_condor_is_either_a_valid_condor_or_a_selection_error(
    spot: float, delta: float, width: float
):
    chain = bsm_chain(spot)
    legs = attempt(lambda: iron_condor_by_delta(chain, short_delta=delta, wing_width=width))
    if isinstance(legs, SelectionError):
        assert legs.shape == "iron_condor"
        assert legs.role in {"long_put", "short_call", "long_call"}
        return
    k1, k2, k3, k4 = (leg.strike for leg in legs.values())
    assert k1 < k2 < k3 < k4
    assert k2 - k1 >= width
    assert k4 - k3 >= width
    # The wing is the first listed strike at or beyond the width.
    assert not any(k1 < strike <= k2 - width for strike in chain.puts)
    assert not any(k3 + width <= strike < k4 for strike in chain.calls)
    build_combo("iron_condor", legs)


# --- verticals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("right", "kind", "expected"),
    [
        (CALL, SpreadKind.BULL, {"long_call": 105.0, "short_call": 110.0}),
        (CALL, SpreadKind.BEAR, {"short_call": 105.0, "long_call": 110.0}),
        (PUT, SpreadKind.BULL, {"long_put": 90.0, "short_put": 95.0}),
        (PUT, SpreadKind.BEAR, {"short_put": 90.0, "long_put": 95.0}),
    ],
)
def test_vertical_by_delta_anchors_the_leg_nearer_the_money(
    chain: ChainData, right: OptionRight, kind: SpreadKind, expected: dict[str, float]
):
    # 0.30 delta: the 105 call (0.304) and the 95 put (-0.265); the other leg 5 further out.
    legs = vertical_by_delta(chain, right, kind, delta=0.30, width=5.0)

    assert strikes(legs) == expected
    assert list(legs) == list(expected)  # lower strike first, the type's role order
    build_combo(vertical_type(right, kind), legs)


@pytest.mark.parametrize(
    ("right", "kind", "expected"),
    [
        (CALL, "bull", {"long_call": 100.0, "short_call": 110.0}),
        (CALL, "bear", {"short_call": 100.0, "long_call": 110.0}),
        (PUT, "bull", {"long_put": 90.0, "short_put": 100.0}),
        (PUT, "bear", {"short_put": 90.0, "long_put": 100.0}),
    ],
)
def test_vertical_by_width_anchors_at_the_atm_strike_by_default(
    chain: ChainData, right: OptionRight, kind: Literal["bull", "bear"], expected: dict[str, float]
):
    legs = vertical_by_width(chain, right, kind, width=10.0)

    assert strikes(legs) == expected
    assert list(legs) == list(expected)


def test_vertical_by_width_anchors_at_a_given_strike(chain: ChainData):
    legs = vertical_by_width(chain, PUT, SpreadKind.BULL, strike=95.0, width=15.0)

    assert strikes(legs) == {"long_put": 80.0, "short_put": 95.0}


def test_vertical_by_width_skips_to_the_next_listed_strike():
    chain = bsm_chain(strikes=(90.0, 95.0, 100.0, 110.0, 120.0))

    legs = vertical_by_width(chain, CALL, SpreadKind.BULL, strike=100.0, width=5.0)

    assert strikes(legs) == {"long_call": 100.0, "short_call": 110.0}


def test_vertical_by_width_needs_the_anchor_strike_listed(chain: ChainData):
    with pytest.raises(SelectionError) as caught:
        vertical_by_width(chain, CALL, SpreadKind.BULL, strike=101.0)

    assert str(caught.value) == (
        f"bull_call_spread: no call at strike 101.0 for long_call in chain {NEAR_KEY} "
        "(nearest listed 100.0 and 105.0)"
    )
    assert caught.value.role == "long_call"


def test_vertical_by_width_beyond_the_chain_is_an_error(chain: ChainData):
    with pytest.raises(SelectionError) as caught:
        vertical_by_width(chain, PUT, "bear", strike=75.0, width=10.0)

    assert str(caught.value) == (
        "bear_put_spread: no put strike at or below 65.0 for short_put (lowest listed 70.0)"
    )


def test_vertical_by_delta_beyond_the_chain_is_an_error(chain: ChainData):
    with pytest.raises(SelectionError) as caught:
        vertical_by_delta(chain, CALL, "bear", delta=0.02, width=15.0)

    assert str(caught.value) == (
        "bear_call_spread: no call strike at or above 135.0 for long_call (highest listed 130.0)"
    )


def test_vertical_by_delta_without_deltas_is_an_error():
    chain = bsm_chain()
    set_call_deltas(chain, dict.fromkeys(STRIKES))

    with pytest.raises(SelectionError) as caught:
        vertical_by_delta(chain, PUT, "bull")

    assert str(caught.value) == (
        f"bull_put_spread: no put with a delta for short_put in chain {NEAR_KEY}"
    )


@pytest.mark.parametrize(
    ("call", "arguments", "message"),
    [
        (vertical_by_delta, {"kind": "sideways"}, "'sideways' is not a valid SpreadKind"),
        (vertical_by_delta, {"kind": "bull", "delta": 1.5}, "delta must be between 0 and 1"),
        (vertical_by_delta, {"kind": "bull", "width": 0.0}, "width must be a finite strike"),
        (vertical_by_width, {"kind": "bear", "width": -1.0}, "width must be a finite strike"),
        (vertical_by_width, {"kind": "bear", "width": math.inf}, "width must be a finite strike"),
    ],
)
def test_verticals_reject_bad_arguments(
    chain: ChainData, call: Callable[..., object], arguments: dict[str, object], message: str
):
    with pytest.raises(ValueError, match=message):
        call(chain, CALL, **arguments)


@settings(max_examples=60, deadline=None)
@given(
    right=st.sampled_from([CALL, PUT]),
    kind=st.sampled_from(list(SpreadKind)),
    delta=st.floats(min_value=0.01, max_value=0.99),
    width=st.sampled_from([2.5, 5.0, 10.0, 20.0]),
)
def test_vertical_by_delta_legs_are_ordered_and_at_least_width_apart(
    right: OptionRight, kind: SpreadKind, delta: float, width: float
):
    chain = _SHARED_CHAIN
    legs = attempt(lambda: vertical_by_delta(chain, right, kind, delta=delta, width=width))
    if isinstance(legs, SelectionError):
        assert "at or" in legs.reason
        return
    lower, upper = legs.values()
    assert upper.strike - lower.strike >= width
    inner = lower if right is CALL else upper
    assert inner is chain.nearest_delta(delta if right is CALL else -delta, right)
    build_combo(vertical_type(right, kind), legs)


def test_vertical_and_calendar_type_names():
    assert vertical_type(CALL, "bull") == "bull_call_spread"
    assert vertical_type(CALL, SpreadKind.BEAR) == "bear_call_spread"
    assert vertical_type(PUT, "bull") == "bull_put_spread"
    assert vertical_type(PUT, "bear") == "bear_put_spread"
    assert calendar_type(CALL) == "call_calendar_spread"
    assert calendar_type(PUT) == "put_calendar_spread"


def test_generic_legs_rename_a_vertical_for_vertical_spread(chain: ChainData):
    legs = vertical_by_width(chain, PUT, "bear", strike=100.0, width=5.0)

    generic = generic_legs(legs)

    assert list(generic) == ["long_leg", "short_leg"]
    assert strikes(generic) == {"long_leg": 100.0, "short_leg": 95.0}
    build_combo("vertical_spread", generic)


def test_generic_legs_rename_a_calendar_for_calendar_spread(portfolio: PortfolioData):
    legs = calendar_at_strike(near_chain(portfolio), far_chain(portfolio), CALL, 105.0)

    generic = generic_legs(legs)

    assert list(generic) == ["near", "far"]
    assert (generic["near"].expiry, generic["far"].expiry) == (NEAR, FAR)
    build_combo("calendar_spread", generic)


def test_generic_legs_refuse_other_shapes(chain: ChainData):
    with pytest.raises(ValueError, match="legs must be a vertical or a calendar"):
        generic_legs(iron_condor_by_delta(chain))
    with pytest.raises(ValueError, match=r"got roles \['call', 'put'\]"):
        generic_legs(straddle_at_atm(chain))


# --- straddles and strangles -----------------------------------------------------------------


def test_straddle_buys_the_call_and_put_at_the_atm_strike(chain: ChainData):
    legs = straddle_at_atm(chain)

    assert strikes(legs) == {"call": 100.0, "put": 100.0}
    assert [leg.right for leg in legs.values()] == [CALL, PUT]
    build_combo("short_straddle", legs, Direction.LONG)


@pytest.mark.parametrize(("spot", "atm"), [(101.0, 100.0), (102.4, 100.0), (103.0, 105.0)])
def test_straddle_follows_the_parity_forward(spot: float, atm: float):
    legs = straddle_at_atm(bsm_chain(spot))

    assert strikes(legs) == {"call": atm, "put": atm}


def test_straddle_atm_tie_goes_to_the_lower_strike():
    chain = bsm_chain()
    clear_quotes(chain)

    assert strikes(straddle_at_atm(chain, underlying_price=102.5)) == {"call": 100.0, "put": 100.0}


def test_straddle_without_a_forward_is_an_error():
    portfolio = bsm_portfolio()
    chain = near_chain(portfolio)
    clear_quotes(chain)
    portfolio.underlying.update_quote(None, None, None, QUOTE_TIME)

    with pytest.raises(SelectionError) as caught:
        straddle_at_atm(chain)

    assert str(caught.value) == (
        f"straddle: no ATM strike for call in chain {NEAR_KEY} "
        "(no strike has both mids and there is no underlying price)"
    )


def test_straddle_needs_a_put_at_the_atm_strike():
    portfolio = bsm_portfolio(rights=(CALL,))

    with pytest.raises(SelectionError) as caught:
        straddle_at_atm(near_chain(portfolio))

    assert str(caught.value) == (
        f"straddle: no put at strike 100.0 for put in chain {NEAR_KEY} (no puts listed)"
    )
    assert caught.value.role == "put"


def test_strangle_sells_the_25_deltas_by_default(chain: ChainData):
    legs = strangle_by_delta(chain)

    # -0.265 at 95 is the nearest put, 0.304 at 105 the nearest call.
    assert strikes(legs) == {"put": 95.0, "call": 105.0}
    assert list(legs) == ["put", "call"]
    build_combo("short_strangle", legs)


def test_strangle_by_delta_follows_the_delta(chain: ChainData):
    # 10 delta: put -0.107 at 90; call 0.061 at 115 is nearer than 0.149 at 110.
    assert strikes(strangle_by_delta(chain, 0.10)) == {"put": 90.0, "call": 115.0}


def test_strangle_ties_go_to_the_lower_strike():
    chain = bsm_chain()
    set_call_deltas(chain, {90.0: 0.875, 95.0: 0.625, 105.0: 0.375, 110.0: 0.125})

    assert strikes(strangle_by_delta(chain, 0.25)) == {"put": 90.0, "call": 105.0}


def test_strangle_whose_deltas_meet_at_one_strike_is_an_error(chain: ChainData):
    with pytest.raises(SelectionError) as caught:
        strangle_by_delta(chain, 0.48)

    assert str(caught.value) == (
        "strangle: call strike 100.0 (nearest +0.48 delta) is not above put strike 100.0 "
        "(nearest -0.48 delta)"
    )
    assert caught.value.role == "call"


def test_strangle_rejects_a_negative_delta(chain: ChainData):
    with pytest.raises(ValueError, match="delta must be between 0 and 1"):
        strangle_by_delta(chain, -0.25)


# --- butterflies -----------------------------------------------------------------------------


@pytest.mark.parametrize("right", [CALL, PUT])
def test_butterfly_is_centred_on_the_atm_strike(chain: ChainData, right: OptionRight):
    legs = butterfly_at_atm(chain, right, wing_width=10.0)

    word = "call" if right is CALL else "put"
    assert strikes(legs) == {f"lower_{word}": 90.0, f"middle_{word}": 100.0, f"upper_{word}": 110.0}
    assert {leg.right for leg in legs.values()} == {right}
    build_combo(f"butterfly_{word}", legs)


def test_butterfly_wings_must_be_listed_exactly(chain: ChainData):
    with pytest.raises(SelectionError) as caught:
        butterfly_at_atm(chain, CALL, wing_width=7.5)

    assert str(caught.value) == (
        f"butterfly_call: no call at strike 92.5 for lower_call in chain {NEAR_KEY} "
        "(nearest listed 90.0 and 95.0)"
    )


def test_butterfly_upper_wing_above_the_chain_is_an_error():
    chain = bsm_chain(strikes=tuple(float(strike) for strike in range(80, 115, 5)))

    with pytest.raises(SelectionError) as caught:
        butterfly_at_atm(chain, PUT, wing_width=15.0)

    assert str(caught.value) == (
        f"butterfly_put: no put at strike 115.0 for upper_put in chain {NEAR_KEY} "
        "(highest listed 110.0)"
    )


def test_butterfly_lower_wing_below_the_chain_is_an_error(chain: ChainData):
    with pytest.raises(SelectionError, match=r"lower_put .* \(lowest listed 70.0\)$"):
        butterfly_at_atm(chain, PUT, wing_width=35.0)


def test_butterfly_matches_strikes_despite_float_noise():
    # Strikes built by adding 0.1 drift off the decimal grid: 99.69999999999996, ...
    noisy: list[float] = [99.0]
    for _ in range(20):
        noisy.append(noisy[-1] + 0.1)
    chain = bsm_chain(strikes=tuple(noisy))
    middle = chain.atm_strike()
    assert middle == noisy[10] != 100.0
    assert middle - 0.3 != noisy[7]

    legs = butterfly_at_atm(chain, CALL, wing_width=0.3)

    assert strikes(legs) == {
        "lower_call": noisy[7],
        "middle_call": noisy[10],
        "upper_call": noisy[13],
    }


def test_butterfly_rejects_a_zero_width(chain: ChainData):
    with pytest.raises(ValueError, match="wing_width must be a finite strike distance > 0"):
        butterfly_at_atm(chain, CALL, wing_width=0.0)


@settings(max_examples=30, deadline=None)
@given(
    spot=st.floats(min_value=85.0, max_value=115.0),
    steps=st.integers(min_value=1, max_value=6),
    right=st.sampled_from([CALL, PUT]),
)
def test_butterfly_strikes_are_equidistant_around_the_atm(
    spot: float, steps: int, right: OptionRight
):
    chain = bsm_chain(spot)
    width = 5.0 * steps
    legs = attempt(lambda: butterfly_at_atm(chain, right, wing_width=width))
    if isinstance(legs, SelectionError):
        assert legs.reason.endswith(("(lowest listed 70.0)", "(highest listed 130.0)"))
        return
    lower, middle, upper = (leg.strike for leg in legs.values())
    assert middle == chain.atm_strike()
    assert (middle - lower, upper - middle) == (width, width)


# --- iron butterfly --------------------------------------------------------------------------


def test_iron_butterfly_sells_the_atm_straddle_and_buys_the_wings(chain: ChainData):
    legs = iron_butterfly_at_atm(chain, wing_width=15.0)

    assert strikes(legs) == {
        "long_put": 85.0,
        "short_put": 100.0,
        "short_call": 100.0,
        "long_call": 115.0,
    }
    assert list(legs) == ["long_put", "short_put", "short_call", "long_call"]
    build_combo("iron_butterfly", legs)


def test_iron_butterfly_default_width_and_an_atm_override(chain: ChainData):
    legs = iron_butterfly_at_atm(chain, underlying_price=110.0)

    # Parity (forward 100) wins over the underlying price while the chain is quoted.
    assert strikes(legs)["short_call"] == 100.0
    assert strikes(legs)["long_call"] == 100.0 + DEFAULT_WING_WIDTH


def test_iron_butterfly_wing_not_listed_is_an_error():
    chain = bsm_chain(strikes=(90.0, 95.0, 100.0, 105.0, 115.0))

    with pytest.raises(SelectionError) as caught:
        iron_butterfly_at_atm(chain, wing_width=10.0)

    assert str(caught.value) == (
        f"iron_butterfly: no call at strike 110.0 for long_call in chain {NEAR_KEY} "
        "(nearest listed 105.0 and 115.0)"
    )
    assert caught.value.role == "long_call"


def test_iron_butterfly_needs_the_put_at_the_atm_strike():
    chain = bsm_chain()
    chain.add_contract(option("SPY", "SPY", NEAR, CALL, 101.0))  # a call with no put
    clear_quotes(chain)  # no parity forward: the ATM is the strike nearest the price

    with pytest.raises(SelectionError) as caught:
        iron_butterfly_at_atm(chain, underlying_price=101.0, wing_width=1.0)

    assert str(caught.value) == (
        f"iron_butterfly: no put at strike 101.0 for short_put in chain {NEAR_KEY} "
        "(nearest listed 100.0 and 105.0)"
    )
    assert caught.value.role == "short_put"


# --- calendars -------------------------------------------------------------------------------


@pytest.mark.parametrize("right", [CALL, PUT])
def test_calendar_defaults_to_the_near_chains_atm_strike(
    portfolio: PortfolioData, right: OptionRight
):
    near, far = near_chain(portfolio), far_chain(portfolio)

    legs = calendar_at_strike(near, far, right)

    word = "call" if right is CALL else "put"
    assert strikes(legs) == {f"near_{word}": 100.0, f"far_{word}": 100.0}
    assert legs[f"near_{word}"].chain is near
    assert legs[f"far_{word}"].chain is far
    build_combo(calendar_type(right), legs)


def test_calendar_at_a_given_strike(portfolio: PortfolioData):
    legs = calendar_at_strike(near_chain(portfolio), far_chain(portfolio), PUT, strike=90.0)

    assert strikes(legs) == {"near_put": 90.0, "far_put": 90.0}


def test_calendar_atm_comes_from_the_near_chain():
    portfolio = bsm_portfolio()
    near, far = near_chain(portfolio), far_chain(portfolio)
    clear_quotes(near)  # the near chain falls back on the underlying's price

    legs = calendar_at_strike(near, far, CALL, underlying_price=108.0)

    assert strikes(legs) == {"near_call": 110.0, "far_call": 110.0}


def test_calendar_across_roots_of_one_underlying():
    portfolio = PortfolioData("SPX")
    portfolio.add_contract(option("SPX", "SPX", NEAR, CALL, 5000.0))
    portfolio.add_contract(option("SPX", "SPXW", date(2026, 12, 24), CALL, 5000.0))
    near = portfolio.find_chain("SPX", NEAR)
    far = portfolio.find_chain("SPXW", date(2026, 12, 24))
    assert near is not None
    assert far is not None

    legs = calendar_at_strike(near, far, CALL, 5000.0)

    assert (legs["near_call"].contract.root, legs["far_call"].contract.root) == ("SPX", "SPXW")


def test_calendar_far_chain_must_expire_later(portfolio: PortfolioData):
    near, far = near_chain(portfolio), far_chain(portfolio)

    with pytest.raises(SelectionError) as caught:
        calendar_at_strike(far, near, CALL)
    assert str(caught.value) == (
        "call_calendar_spread: far chain 'SPY 2026-12-18' for far_call does not expire "
        "after near chain 'SPY 2027-01-15'"
    )
    assert caught.value.role == "far_call"

    with pytest.raises(SelectionError, match="does not expire after"):
        calendar_at_strike(near, near, PUT)


def test_calendar_chains_must_share_the_underlying(portfolio: PortfolioData):
    far_other = far_chain(bsm_portfolio(symbol="QQQ"))

    with pytest.raises(SelectionError) as caught:
        calendar_at_strike(near_chain(portfolio), far_other, PUT)

    assert str(caught.value) == (
        "put_calendar_spread: near chain 'SPY 2026-12-18' is on 'SPY', "
        "far chain 'QQQ 2027-01-15' on 'QQQ'"
    )
    assert caught.value.role == ""


def test_calendar_strike_missing_from_the_far_chain_is_an_error():
    portfolio = bsm_portfolio()
    portfolio.add_contract(option("SPY", "SPY", NEAR, CALL, 102.5))

    with pytest.raises(SelectionError) as caught:
        calendar_at_strike(near_chain(portfolio), far_chain(portfolio), CALL, strike=102.5)

    assert str(caught.value) == (
        "call_calendar_spread: no call at strike 102.5 for far_call in chain "
        "'SPY 2027-01-15' (nearest listed 100.0 and 105.0)"
    )


def test_calendar_strike_missing_from_the_near_chain_is_an_error(portfolio: PortfolioData):
    with pytest.raises(SelectionError) as caught:
        calendar_at_strike(near_chain(portfolio), far_chain(portfolio), PUT, strike=140.0)

    assert str(caught.value) == (
        f"put_calendar_spread: no put at strike 140.0 for near_put in chain {NEAR_KEY} "
        "(highest listed 130.0)"
    )


def test_calendar_without_an_atm_strike_is_an_error():
    portfolio = bsm_portfolio()
    near = near_chain(portfolio)
    clear_quotes(near)
    portfolio.underlying.update_quote(None, None, None, QUOTE_TIME)

    with pytest.raises(SelectionError, match=r"^put_calendar_spread: no ATM strike for near_put"):
        calendar_at_strike(near, far_chain(portfolio), PUT)


def test_empty_chain_has_no_atm():
    empty = ChainData("SPY", NEAR, "SPY")

    with pytest.raises(SelectionError) as caught:
        straddle_at_atm(empty)

    assert str(caught.value).endswith("(the chain is empty)")


# --- the error type --------------------------------------------------------------------------


def test_selection_error_is_an_otrade_value_error(chain: ChainData):
    with pytest.raises(OTradeError) as caught:
        iron_condor_by_delta(chain, wing_width=40.0)

    assert isinstance(caught.value, ValueError)
    assert caught.value.reason == (  # type: ignore[attr-defined]
        "no put strike at or below 50.0 for long_put (lowest listed 70.0)"
    )


_SHARED_CHAIN = bsm_chain()
"""The module's chain for the property tests (fixtures do not mix with @given)."""


def test_iron_condor_wing_delta_ties_go_to_the_lower_strike():
    chain = bsm_chain()
    # Put wings -0.0625 at 80 and -0.1875 at 85 around a -0.125 target; call wings 0.1875
    # at 115 and 0.0625 at 120 around 0.125: each pair is exactly as near.
    set_call_deltas(
        chain, {80.0: 0.9375, 85.0: 0.8125, 90.0: 0.75, 110.0: 0.25, 115.0: 0.1875, 120.0: 0.0625}
    )

    legs = iron_condor_by_delta(chain, short_delta=0.25, wing_delta=0.125)

    assert strikes(legs) == {
        "long_put": 80.0,
        "short_put": 90.0,
        "short_call": 110.0,
        "long_call": 115.0,
    }
