"""Every built-in combo type's payoff checked against figures worked out by hand.

Each case builds the type from the generated chain (:mod:`tests.unit.combos.chains`) with
the legs written out below, each with its signed ratio for one LONG unit and a price per
share chosen by hand.  The expected net premium, maximum profit, maximum loss and
breakevens are literals computed by hand, the arithmetic in a comment beside them; none of
them comes from the code under test.  Conventions (see :mod:`otrade.combos.payoff`):

* premium per unit in dollars = sum(ratio x price x multiplier), options x100, shares x1;
  positive is a debit, negative a credit;
* payoff = value at expiry - premium, for the whole volume, over S >= 0;
* ``max_loss`` is the lowest payoff, negative for a loss (it is positive when every
  outcome is a gain, as for an underpriced box); ``math.inf`` / ``-math.inf`` mark an
  unbounded side.

The hand computations use "V(S)" for the payoff of one LONG unit at underlying price S.

Every case runs LONG and SHORT at volume 1 and 3: a SHORT combo has the negated payoff
(max profit = -max loss of the LONG, the same breakevens) and every dollar figure scales
with the volume.

Multi-expiry types (calendars, diagonals, the poor man's covered call, the double
calendar, the double diagonal, the jelly rolls) are valued at the first expiry with the
model for the later legs, so their figures are not piecewise linear; see
:data:`MULTI_EXPIRY` for what is checked instead.
"""

from __future__ import annotations

import math
from datetime import date
from typing import NamedTuple

import pytest

from otrade.combos import BUILTIN_TYPES, Combo, LegSource, analyze_payoff, build_combo
from otrade.combos.payoff import is_single_expiry, payoff_at_expiry
from otrade.constants import Direction, OptionRight
from tests.unit.combos.chains import CALL, FAR, MIDDLE, NEAR, PUT, Chain

CENT = 0.005
DIRECTIONS = (Direction.LONG, Direction.SHORT)
VOLUMES = (1, 3)
OPTION_MULTIPLIER = 100


class LegQuote(NamedTuple):
    """One leg of a case: what fills the role, its signed LONG ratio and its price per share."""

    right: OptionRight | None  # None for the underlying's shares
    strike: float | None
    expiry: date | None
    ratio: int
    price: float


def call(strike: float, ratio: int, price: float, expiry: date = NEAR) -> LegQuote:
    return LegQuote(CALL, strike, expiry, ratio, price)


def put(strike: float, ratio: int, price: float, expiry: date = NEAR) -> LegQuote:
    return LegQuote(PUT, strike, expiry, ratio, price)


def shares(ratio: int, price: float) -> LegQuote:
    return LegQuote(None, None, None, ratio, price)


def build(
    type_name: str, legs: dict[str, LegQuote], direction: Direction, volume: int
) -> tuple[Combo, dict[str, float]]:
    """The combo built from the chain, and the leg prices by symbol.

    Also checks that the built legs carry the ratios the hand computation assumed.
    """
    chain = Chain()
    sources = {role: source(chain, quote) for role, quote in legs.items()}
    built = build_combo(type_name, sources, direction, volume)
    assert {leg.role: leg.ratio for leg in built.legs} == {
        role: direction.sign * quote.ratio for role, quote in legs.items()
    }
    prices = {sources[role].symbol: quote.price for role, quote in legs.items()}
    return built, prices


def source(chain: Chain, quote: LegQuote) -> LegSource:
    if quote.right is None:
        return chain.underlying
    assert quote.strike is not None
    assert quote.expiry is not None
    return chain.option(quote.right, quote.strike, quote.expiry)


def assert_dollars(actual: float, expected: float, tolerance: float = CENT) -> None:
    if math.isinf(expected):
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, abs=tolerance)


# --- single expiry: every figure by hand -------------------------------------------------
#
# Prices per share (one expiry, NEAR; the underlying at 100.20), roughly consistent:
#   calls  90: 11.40   95: 7.50   100: 4.40   105: 2.30   110: 1.05
#   puts   90:  1.10   95: 2.20   100: 4.10   105: 7.00   110: 10.80


class ExactCase(NamedTuple):
    """A single-expiry case; dollar figures for one LONG unit."""

    type_name: str
    legs: dict[str, LegQuote]
    premium: float
    max_profit: float
    max_loss: float
    breakevens: tuple[float, ...]


INF = math.inf

EXACT: dict[str, ExactCase] = {
    # --- stock and option
    "covered_call": ExactCase(
        "covered_call",
        {"underlying": shares(+100, 100.20), "short_call": call(105, -1, 2.30)},
        premium=9_790.00,  # 100 x 100.20 - 100 x 2.30 = 10,020 - 230
        max_profit=710.00,  # S >= 105: 100 x 105 - 9,790
        max_loss=-9_790.00,  # S = 0: the shares are worthless, -9,790
        breakevens=(97.90,),  # 100 S = 9,790
    ),
    "protective_call": ExactCase(
        "protective_call",
        {"underlying": shares(-100, 100.20), "long_call": call(105, +1, 2.30)},
        premium=-9_790.00,  # -10,020 + 230: a credit
        max_profit=9_790.00,  # S = 0: buy back the shares for nothing
        max_loss=-710.00,  # S >= 105: -100 x 105 + 9,790 (the call caps the loss)
        breakevens=(97.90,),  # 100 S = 9,790
    ),
    "covered_put": ExactCase(
        "covered_put",
        {"underlying": shares(-100, 100.20), "short_put": put(95, -1, 2.20)},
        premium=-10_240.00,  # -10,020 - 220
        max_profit=740.00,  # S <= 95: -100 S - 100 (95 - S) + 10,240 = -9,500 + 10,240
        max_loss=-INF,  # short shares above 95
        breakevens=(102.40,),  # 100 S = 10,240
    ),
    "protective_put": ExactCase(
        "protective_put",
        {"underlying": shares(+100, 100.20), "long_put": put(95, +1, 2.20)},
        premium=10_240.00,  # 10,020 + 220
        max_profit=INF,
        max_loss=-740.00,  # S <= 95: 9,500 - 10,240
        breakevens=(102.40,),  # 100 S = 10,240
    ),
    "protective_collar": ExactCase(
        "protective_collar",
        {
            "underlying": shares(+100, 100.20),
            "long_put": put(95, +1, 2.20),
            "short_call": call(105, -1, 2.30),
        },
        premium=10_010.00,  # 10,020 + 220 - 230
        max_profit=490.00,  # S >= 105: 10,500 - 10,010
        max_loss=-510.00,  # S <= 95: 9,500 - 10,010
        breakevens=(100.10,),  # 100 S = 10,010
    ),
    "conversion": ExactCase(
        "conversion",
        {
            "underlying": shares(+100, 100.20),
            "short_call": call(100, -1, 4.40),
            "long_put": put(100, +1, 4.10),
        },
        premium=9_990.00,  # 10,020 - 440 + 410
        # the legs are worth 100 x 100 = 10,000 at every S: V = 10,000 - 9,990 = +10
        max_profit=10.00,
        max_loss=10.00,  # the lowest payoff is a gain
        breakevens=(),
    ),
    "reverse_conversion": ExactCase(
        "reverse_conversion",
        {
            "underlying": shares(-100, 100.20),
            "long_call": call(100, +1, 4.40),
            "short_put": put(100, -1, 4.10),
        },
        premium=-9_990.00,  # -10,020 + 440 - 410
        max_profit=-10.00,  # worth -10,000 at every S: V = -10,000 + 9,990 = -10
        max_loss=-10.00,
        breakevens=(),
    ),
    # --- single options
    "naked_call": ExactCase(
        "naked_call",
        {"short_call": call(105, -1, 2.30)},
        premium=-230.00,
        max_profit=230.00,  # S <= 105
        max_loss=-INF,
        breakevens=(107.30,),  # 105 + 2.30
    ),
    "naked_put": ExactCase(
        "naked_put",
        {"short_put": put(95, -1, 2.20)},
        premium=-220.00,
        max_profit=220.00,  # S >= 95
        max_loss=-9_280.00,  # S = 0: -9,500 + 220
        breakevens=(92.80,),  # 95 - 2.20
    ),
    # --- verticals
    "bear_call_spread": ExactCase(
        "bear_call_spread",
        {"short_call": call(100, -1, 4.40), "long_call": call(105, +1, 2.30)},
        premium=-210.00,  # -440 + 230
        max_profit=210.00,  # S <= 100
        max_loss=-290.00,  # S >= 105: -500 + 210
        breakevens=(102.10,),  # 100 + 2.10
    ),
    "bear_put_spread": ExactCase(
        "bear_put_spread",
        {"short_put": put(95, -1, 2.20), "long_put": put(100, +1, 4.10)},
        premium=190.00,  # -220 + 410
        max_profit=310.00,  # S <= 95: 500 - 190
        max_loss=-190.00,  # S >= 100
        breakevens=(98.10,),  # 100 - 1.90
    ),
    "bull_call_spread": ExactCase(
        "bull_call_spread",
        {"long_call": call(100, +1, 4.40), "short_call": call(105, -1, 2.30)},
        premium=210.00,  # 440 - 230
        max_profit=290.00,  # S >= 105: 500 - 210
        max_loss=-210.00,  # S <= 100
        breakevens=(102.10,),  # 100 + 2.10
    ),
    "bull_put_spread": ExactCase(
        "bull_put_spread",
        {"long_put": put(95, +1, 2.20), "short_put": put(100, -1, 4.10)},
        premium=-190.00,  # 220 - 410
        max_profit=190.00,  # S >= 100
        max_loss=-310.00,  # S <= 95: -500 + 190
        breakevens=(98.10,),  # 100 - 1.90
    ),
    "vertical_spread": ExactCase(
        "vertical_spread",  # generic, here long the higher call: a bear call spread
        {"long_leg": call(105, +1, 2.30), "short_leg": call(95, -1, 7.50)},
        premium=-520.00,  # 230 - 750
        max_profit=520.00,  # S <= 95
        max_loss=-480.00,  # S >= 105: -1,000 + 520
        breakevens=(100.20,),  # 95 + 5.20
    ),
    "vertical_spread[puts]": ExactCase(
        "vertical_spread",  # generic with puts, long the higher put: a bear put spread
        {"long_leg": put(100, +1, 4.10), "short_leg": put(90, -1, 1.10)},
        premium=300.00,  # 410 - 110
        max_profit=700.00,  # S <= 90: 1,000 - 300
        max_loss=-300.00,  # S >= 100
        breakevens=(97.00,),  # 100 - 3.00
    ),
    # --- straddles and strangles
    "straddle": ExactCase(
        "straddle",
        {"call": call(100, +1, 4.40), "put": put(100, +1, 4.10)},
        premium=850.00,  # 440 + 410
        max_profit=INF,
        max_loss=-850.00,  # S = 100 (at S = 0: 10,000 - 850 = 9,150)
        breakevens=(91.50, 108.50),  # 100 -/+ 8.50
    ),
    "short_straddle": ExactCase(
        "short_straddle",
        {"call": call(100, -1, 4.40), "put": put(100, -1, 4.10)},
        premium=-850.00,
        max_profit=850.00,  # S = 100
        max_loss=-INF,
        breakevens=(91.50, 108.50),
    ),
    "strangle": ExactCase(
        "strangle",
        {"put": put(95, +1, 2.20), "call": call(105, +1, 2.30)},
        premium=450.00,  # 220 + 230
        max_profit=INF,
        max_loss=-450.00,  # 95 <= S <= 105
        breakevens=(90.50, 109.50),  # 95 - 4.50, 105 + 4.50
    ),
    "short_strangle": ExactCase(
        "short_strangle",
        {"put": put(95, -1, 2.20), "call": call(105, -1, 2.30)},
        premium=-450.00,
        max_profit=450.00,
        max_loss=-INF,
        breakevens=(90.50, 109.50),
    ),
    "strap": ExactCase(
        "strap",
        {"call": call(100, +2, 4.40), "put": put(100, +1, 4.10)},
        premium=1_290.00,  # 2 x 440 + 410
        max_profit=INF,
        max_loss=-1_290.00,  # S = 100
        # below: 100 (100 - S) = 1,290 -> 87.10; above: 200 (S - 100) = 1,290 -> 106.45
        breakevens=(87.10, 106.45),
    ),
    "strip": ExactCase(
        "strip",
        {"call": call(100, +1, 4.40), "put": put(100, +2, 4.10)},
        premium=1_260.00,  # 440 + 2 x 410
        max_profit=INF,
        max_loss=-1_260.00,  # S = 100 (at S = 0: 20,000 - 1,260 = 18,740)
        # below: 200 (100 - S) = 1,260 -> 93.70; above: 100 (S - 100) = 1,260 -> 112.60
        breakevens=(93.70, 112.60),
    ),
    # --- butterflies and condors
    "butterfly_call": ExactCase(
        "butterfly_call",
        {
            "lower_call": call(95, +1, 7.50),
            "middle_call": call(100, -2, 4.40),
            "upper_call": call(105, +1, 2.30),
        },
        premium=100.00,  # 750 - 880 + 230
        max_profit=400.00,  # S = 100: 500 - 100
        max_loss=-100.00,  # S <= 95 or S >= 105
        breakevens=(96.00, 104.00),  # 95 + 1.00, 105 - 1.00
    ),
    "short_butterfly_call": ExactCase(
        "short_butterfly_call",
        {
            "lower_call": call(95, -1, 7.50),
            "middle_call": call(100, +2, 4.40),
            "upper_call": call(105, -1, 2.30),
        },
        premium=-100.00,
        max_profit=100.00,
        max_loss=-400.00,
        breakevens=(96.00, 104.00),
    ),
    "butterfly_put": ExactCase(
        "butterfly_put",
        {
            "lower_put": put(90, +1, 1.10),
            "middle_put": put(100, -2, 4.10),
            "upper_put": put(110, +1, 10.80),
        },
        premium=370.00,  # 110 - 820 + 1,080
        max_profit=630.00,  # S = 100: 1,000 - 370
        max_loss=-370.00,  # S <= 90 (2,000 - 2,000 + 0) or S >= 110
        breakevens=(93.70, 106.30),  # 90 + 3.70, 110 - 3.70
    ),
    "short_butterfly_put": ExactCase(
        "short_butterfly_put",
        {
            "lower_put": put(90, -1, 1.10),
            "middle_put": put(100, +2, 4.10),
            "upper_put": put(110, -1, 10.80),
        },
        premium=-370.00,
        max_profit=370.00,
        max_loss=-630.00,
        breakevens=(93.70, 106.30),
    ),
    "broken_wing_butterfly_call": ExactCase(
        "broken_wing_butterfly_call",
        {
            "lower_call": call(95, +1, 7.50),
            "middle_call": call(100, -2, 4.40),
            "upper_call": call(110, +1, 1.05),
        },
        premium=-25.00,  # 750 - 880 + 105: a small credit
        max_profit=525.00,  # S = 100: 500 + 25
        max_loss=-475.00,  # S >= 110: 1,500 - 2,000 + 25
        breakevens=(105.25,),  # 525 - 100 (S - 100) = 0; below 95 it keeps the +25
    ),
    "broken_wing_butterfly_put": ExactCase(
        "broken_wing_butterfly_put",
        {
            "lower_put": put(90, +1, 1.10),
            "middle_put": put(100, -2, 4.10),
            "upper_put": put(105, +1, 7.00),
        },
        premium=-10.00,  # 110 - 820 + 700
        max_profit=510.00,  # S = 100: 500 + 10
        max_loss=-490.00,  # S <= 90: 1,500 - 2,000 + 10
        breakevens=(94.90,),  # -490 + 100 (S - 90) = 0; above 105 it keeps the +10
    ),
    "call_condor": ExactCase(
        "call_condor",
        {
            "lower_call": call(90, +1, 11.40),
            "lower_middle_call": call(95, -1, 7.50),
            "upper_middle_call": call(105, -1, 2.30),
            "upper_call": call(110, +1, 1.05),
        },
        premium=265.00,  # 1,140 - 750 - 230 + 105
        max_profit=235.00,  # 95 <= S <= 105: 500 - 265
        max_loss=-265.00,  # S <= 90 or S >= 110
        breakevens=(92.65, 107.35),  # 90 + 2.65, 110 - 2.65
    ),
    "put_condor": ExactCase(
        "put_condor",
        {
            "lower_put": put(90, +1, 1.10),
            "lower_middle_put": put(95, -1, 2.20),
            "upper_middle_put": put(105, -1, 7.00),
            "upper_put": put(110, +1, 10.80),
        },
        premium=270.00,  # 110 - 220 - 700 + 1,080
        max_profit=230.00,  # 95 <= S <= 105: 500 - 270
        max_loss=-270.00,  # S <= 90 or S >= 110
        breakevens=(92.70, 107.30),  # 90 + 2.70, 110 - 2.70
    ),
    "iron_condor": ExactCase(
        "iron_condor",
        {
            "long_put": put(90, +1, 1.10),
            "short_put": put(95, -1, 2.20),
            "short_call": call(105, -1, 2.30),
            "long_call": call(110, +1, 1.05),
        },
        premium=-235.00,  # 110 - 220 - 230 + 105
        max_profit=235.00,  # 95 <= S <= 105
        max_loss=-265.00,  # S <= 90 or S >= 110: -500 + 235
        breakevens=(92.65, 107.35),  # 95 - 2.35, 105 + 2.35
    ),
    "short_iron_condor": ExactCase(
        "short_iron_condor",
        {
            "long_put": put(90, -1, 1.10),
            "short_put": put(95, +1, 2.20),
            "short_call": call(105, +1, 2.30),
            "long_call": call(110, -1, 1.05),
        },
        premium=235.00,
        max_profit=265.00,
        max_loss=-235.00,
        breakevens=(92.65, 107.35),
    ),
    "iron_butterfly": ExactCase(
        "iron_butterfly",
        {
            "long_put": put(90, +1, 1.10),
            "short_put": put(100, -1, 4.10),
            "short_call": call(100, -1, 4.40),
            "long_call": call(110, +1, 1.05),
        },
        premium=-635.00,  # 110 - 410 - 440 + 105
        max_profit=635.00,  # S = 100
        max_loss=-365.00,  # S <= 90 or S >= 110: -1,000 + 635
        breakevens=(93.65, 106.35),  # 100 -/+ 6.35
    ),
    "short_iron_butterfly": ExactCase(
        "short_iron_butterfly",
        {
            "long_put": put(90, -1, 1.10),
            "short_put": put(100, +1, 4.10),
            "short_call": call(100, +1, 4.40),
            "long_call": call(110, -1, 1.05),
        },
        premium=635.00,
        max_profit=365.00,
        max_loss=-635.00,
        breakevens=(93.65, 106.35),
    ),
    "box_spread": ExactCase(
        "box_spread",
        {
            "long_call": call(90, +1, 11.40),
            "short_call": call(110, -1, 1.05),
            "long_put": put(110, +1, 10.80),
            "short_put": put(90, -1, 1.10),
        },
        premium=2_005.00,  # 1,140 - 105 + 1,080 - 110
        # worth the width 20 x 100 = 2,000 at every S: V = 2,000 - 2,005 = -5 (overpaid)
        max_profit=-5.00,
        max_loss=-5.00,
        breakevens=(),
    ),
    "short_box_spread": ExactCase(
        "short_box_spread",
        {
            "long_call": call(90, -1, 11.40),
            "short_call": call(110, +1, 1.05),
            "long_put": put(110, -1, 10.80),
            "short_put": put(90, +1, 1.10),
        },
        premium=-2_005.00,
        max_profit=5.00,  # owes 2,000 at every S: V = -2,000 + 2,005 = +5
        max_loss=5.00,
        breakevens=(),
    ),
    # --- ladders, backspreads, ratio spreads, trees
    "bear_call_ladder": ExactCase(
        "bear_call_ladder",
        {
            "lower_call": call(95, -1, 7.50),
            "middle_call": call(100, +1, 4.40),
            "upper_call": call(105, +1, 2.30),
        },
        premium=-80.00,  # -750 + 440 + 230
        max_profit=INF,  # net +1 call above 105
        max_loss=-420.00,  # 100 <= S <= 105: -500 + 80
        breakevens=(95.80, 109.20),  # 95 + 0.80; -420 + 100 (S - 105) = 0
    ),
    "bear_put_ladder": ExactCase(
        "bear_put_ladder",
        {
            "lower_put": put(90, -1, 1.10),
            "middle_put": put(95, -1, 2.20),
            "upper_put": put(100, +1, 4.10),
        },
        premium=80.00,  # -110 - 220 + 410
        max_profit=420.00,  # 90 <= S <= 95: 500 - 80
        max_loss=-8_580.00,  # S = 0: 10,000 - 9,500 - 9,000 - 80
        breakevens=(85.80, 99.20),  # 90 - 4.20; 420 - 100 (S - 95) = 0
    ),
    "bull_call_ladder": ExactCase(
        "bull_call_ladder",
        {
            "lower_call": call(95, +1, 7.50),
            "middle_call": call(100, -1, 4.40),
            "upper_call": call(105, -1, 2.30),
        },
        premium=80.00,  # 750 - 440 - 230
        max_profit=420.00,  # 100 <= S <= 105: 500 - 80
        max_loss=-INF,  # net -1 call above 105
        breakevens=(95.80, 109.20),  # 95 + 0.80; 420 - 100 (S - 105) = 0
    ),
    "bull_put_ladder": ExactCase(
        "bull_put_ladder",
        {
            "lower_put": put(90, +1, 1.10),
            "middle_put": put(95, +1, 2.20),
            "upper_put": put(100, -1, 4.10),
        },
        premium=-80.00,  # 110 + 220 - 410
        max_profit=8_580.00,  # S = 0: -10,000 + 9,500 + 9,000 + 80
        max_loss=-420.00,  # 90 <= S <= 95: -500 + 80
        breakevens=(85.80, 99.20),  # 90 - 4.20; -420 + 100 (S - 95) = 0
    ),
    "call_backspread": ExactCase(
        "call_backspread",
        {"lower_call": call(95, -1, 7.50), "upper_call": call(105, +2, 2.30)},
        premium=-290.00,  # -750 + 460
        max_profit=INF,
        max_loss=-710.00,  # S = 105: -1,000 + 290
        breakevens=(97.90, 112.10),  # 95 + 2.90; -710 + 100 (S - 105) = 0
    ),
    "short_call_backspread": ExactCase(
        "short_call_backspread",
        {"lower_call": call(95, +1, 7.50), "upper_call": call(105, -2, 2.30)},
        premium=290.00,
        max_profit=710.00,
        max_loss=-INF,
        breakevens=(97.90, 112.10),
    ),
    "put_backspread": ExactCase(
        "put_backspread",
        {"lower_put": put(95, +2, 2.20), "upper_put": put(105, -1, 7.00)},
        premium=-260.00,  # 440 - 700
        max_profit=8_760.00,  # S = 0: 2 x 9,500 - 10,500 + 260
        max_loss=-740.00,  # S = 95: -1,000 + 260
        breakevens=(87.60, 102.40),  # 95 - 7.40; 105 - 2.60
    ),
    "short_put_backspread": ExactCase(
        "short_put_backspread",
        {"lower_put": put(95, -2, 2.20), "upper_put": put(105, +1, 7.00)},
        premium=260.00,
        max_profit=740.00,
        max_loss=-8_760.00,
        breakevens=(87.60, 102.40),
    ),
    "call_ratio_spread": ExactCase(
        "call_ratio_spread",
        {"lower_call": call(100, +1, 4.40), "upper_call": call(110, -2, 1.05)},
        premium=230.00,  # 440 - 210
        max_profit=770.00,  # S = 110: 1,000 - 230
        max_loss=-INF,  # net -1 call above 110
        breakevens=(102.30, 117.70),  # 100 + 2.30; 770 - 100 (S - 110) = 0
    ),
    "put_ratio_spread": ExactCase(
        "put_ratio_spread",
        {"lower_put": put(90, -2, 1.10), "upper_put": put(100, +1, 4.10)},
        premium=190.00,  # -220 + 410
        max_profit=810.00,  # S = 90: 1,000 - 190
        max_loss=-8_190.00,  # S = 0: 10,000 - 18,000 - 190
        breakevens=(81.90, 98.10),  # 90 - 8.10; 100 - 1.90
    ),
    "call_christmas_tree": ExactCase(
        "call_christmas_tree",
        {
            "lower_call": call(95, +1, 7.50),
            "middle_call": call(100, -3, 4.40),
            "upper_call": call(105, +2, 2.30),
        },
        premium=-110.00,  # 750 - 1,320 + 460
        max_profit=610.00,  # S = 100: 500 + 110
        max_loss=-390.00,  # S >= 105: 1,000 - 1,500 + 110 (net 0 calls beyond)
        breakevens=(103.05,),  # 610 - 200 (S - 100) = 0; below 95 it keeps the +110
    ),
    "put_christmas_tree": ExactCase(
        "put_christmas_tree",
        {
            "lower_put": put(90, +2, 1.10),
            "middle_put": put(95, -3, 2.20),
            "upper_put": put(105, +1, 7.00),
        },
        premium=260.00,  # 220 - 660 + 700
        max_profit=740.00,  # S = 95: 1,000 - 260
        max_loss=-260.00,  # S <= 90 (1,500 - 1,500) or S >= 105
        breakevens=(91.30, 102.40),  # -260 + 200 (S - 90) = 0; 740 - 100 (S - 95) = 0
    ),
    # --- synthetics and other three-leg structures
    "synthetic_long": ExactCase(
        "synthetic_long",
        {"long_call": call(100, +1, 4.40), "short_put": put(100, -1, 4.10)},
        premium=30.00,  # 440 - 410
        max_profit=INF,
        max_loss=-10_030.00,  # S = 0: -10,000 - 30
        breakevens=(100.30,),  # 100 (S - 100) = 30
    ),
    "synthetic_short": ExactCase(
        "synthetic_short",
        {"short_call": call(100, -1, 4.40), "long_put": put(100, +1, 4.10)},
        premium=-30.00,
        max_profit=10_030.00,  # S = 0: 10,000 + 30
        max_loss=-INF,
        breakevens=(100.30,),
    ),
    "risk_reversal": ExactCase(
        "risk_reversal",
        {"short_put": put(95, -1, 2.20), "long_call": call(105, +1, 2.30)},
        premium=10.00,  # -220 + 230
        max_profit=INF,
        max_loss=-9_510.00,  # S = 0: -9,500 - 10
        breakevens=(105.10,),  # 105 + 0.10 (between the strikes it is -10)
    ),
    "seagull": ExactCase(
        "seagull",
        {
            "short_put": put(90, -1, 1.10),
            "long_call": call(100, +1, 4.40),
            "short_call": call(110, -1, 1.05),
        },
        premium=225.00,  # -110 + 440 - 105
        max_profit=775.00,  # S >= 110: 1,000 - 225
        max_loss=-9_225.00,  # S = 0: -9,000 - 225
        breakevens=(102.25,),  # 100 + 2.25 (90..100 is -225)
    ),
    "jade_lizard": ExactCase(
        "jade_lizard",
        {
            "short_put": put(95, -1, 2.20),
            "short_call": call(105, -1, 2.30),
            "long_call": call(110, +1, 1.05),
        },
        premium=-345.00,  # -220 - 230 + 105
        max_profit=345.00,  # 95 <= S <= 105
        max_loss=-9_155.00,  # S = 0: -9,500 + 345 (above 110: -500 + 345 = -155)
        breakevens=(91.55, 108.45),  # 95 - 3.45, 105 + 3.45
    ),
}

# Cases where analyze_payoff disagrees with the hand computation: id -> reason.
EXACT_XFAIL: dict[str, str] = {}


def exact_params() -> list[object]:
    return [
        pytest.param(
            case,
            id=case_id,
            marks=[pytest.mark.xfail(strict=True, reason=EXACT_XFAIL[case_id])]
            if case_id in EXACT_XFAIL
            else [],
        )
        for case_id, case in EXACT.items()
    ]


@pytest.mark.parametrize("volume", VOLUMES)
@pytest.mark.parametrize("direction", DIRECTIONS, ids=str)
@pytest.mark.parametrize("case", exact_params())
def test_single_expiry_figures_match_the_hand_computation(
    case: ExactCase, direction: Direction, volume: int
) -> None:
    built, prices = build(case.type_name, case.legs, direction, volume)
    assert is_single_expiry(built)

    analysis = analyze_payoff(built, prices)

    sign = direction.sign
    # a SHORT unit has the negated payoff: its best is the LONG's worst, and vice versa
    max_profit, max_loss = (
        (case.max_profit, case.max_loss) if sign > 0 else (-case.max_loss, -case.max_profit)
    )
    assert analysis.exact
    assert_dollars(analysis.premium.per_unit, sign * case.premium)
    assert_dollars(analysis.premium.total, sign * case.premium * volume)
    assert_dollars(analysis.max_profit, max_profit * volume)
    assert_dollars(analysis.max_loss, max_loss * volume)
    assert analysis.unbounded_profit is math.isinf(max_profit)
    assert analysis.unbounded_loss is math.isinf(max_loss)
    assert analysis.breakevens == pytest.approx(case.breakevens, abs=CENT)


# --- several expiries: the closed-form parts by hand ---------------------------------------
#
# At the first expiry the later legs are valued with the model, so the payoff is a smooth
# curve, not a broken line.  With no rate and no dividend yield (the jelly rolls take a
# rate, see below), three things are still known without the code under test:
#
# * the net premium, by hand;
# * the payoff at S = 0 exactly: a later call is worth 0 there and a later put K (its
#   floor K e^(-r tau)); and far above every strike (S = 10,000), to the cent: a later
#   call is worth S - K and a later put 0 (their time value is gone), so the near and far
#   calls of one structure cancel to a constant;
# * where the extremes sit.  Each later option is worth at least its intrinsic value, so
#   the payoff lies above the expiry payoff of the same legs all expiring at once, whose
#   worst is at S = 0 or S -> inf: that limit is the maximum loss (the maximum profit of
#   the short versions).  The other extreme is at a near strike: between the near
#   strikes the payoff is a sum of later option values (convex), and outside them the
#   near leg's slope of +-100 dominates the later legs' delta, so the payoff rises towards
#   the near strikes.  There its value is the later legs' Black-Scholes value, computed
#   below from math.erf (independent of otrade.pricing).
#
# The breakevens are checked by their count (from the signs of the limits and the peak)
# and by the reference payoff being 0 at each one.

VOLATILITY = 0.30
FAR_ABOVE = 10_000.0
NEAR_STRIKE_EXTREME = None  # the extreme is the reference payoff at a near strike

# Prices per share at the open, the near legs as above; the later legs:
#   MIDDLE (28 days after NEAR): calls 100: 5.80, 105: 3.60, 110: 2.10
#                                puts   90: 1.90,  95: 3.20, 100: 5.50 (5.45 in the rolls)
#   FAR (63 days after NEAR): call 90: 13.80, put 100: 6.70


class MultiExpiryCase(NamedTuple):
    """A multi-expiry case; dollar figures for one LONG unit at the first expiry."""

    type_name: str
    legs: dict[str, LegQuote]
    premium: float
    at_zero: float
    far_above: float
    max_profit: float | None  # None: the reference payoff at a near strike
    max_loss: float | None  # None: the reference payoff at a near strike
    breakevens: int
    rate: float = 0.0


MULTI_EXPIRY: dict[str, MultiExpiryCase] = {
    "call_calendar_spread": MultiExpiryCase(
        "call_calendar_spread",
        {"near_call": call(100, -1, 4.40), "far_call": call(100, +1, 5.80, MIDDLE)},
        premium=140.00,  # -440 + 580
        at_zero=-140.00,  # both calls worthless
        far_above=-140.00,  # -(S - 100) + (S - 100) - 140
        max_profit=NEAR_STRIKE_EXTREME,  # at 100: 100 x C(100, 100, 28 d) - 140
        max_loss=-140.00,  # the far call >= the near call's intrinsic: at worst the debit
        breakevens=2,  # -140 on both sides, about +191 at 100
    ),
    "short_call_calendar_spread": MultiExpiryCase(
        "short_call_calendar_spread",
        {"near_call": call(105, +1, 2.30), "far_call": call(105, -1, 3.60, MIDDLE)},
        premium=-130.00,  # 230 - 360
        at_zero=130.00,
        far_above=130.00,  # (S - 105) - (S - 105) + 130
        max_profit=130.00,  # the credit, at best
        max_loss=NEAR_STRIKE_EXTREME,  # at 105: 130 - 100 x C(105, 105, 28 d)
        breakevens=2,
    ),
    "put_calendar_spread": MultiExpiryCase(
        "put_calendar_spread",
        {"near_put": put(95, -1, 2.20), "far_put": put(95, +1, 3.20, MIDDLE)},
        premium=100.00,  # -220 + 320
        at_zero=-100.00,  # -9,500 + 9,500 (the far put's floor is 95 at no rate) - 100
        far_above=-100.00,  # both puts worthless
        max_profit=NEAR_STRIKE_EXTREME,  # at 95: 100 x P(95, 95, 28 d) - 100
        max_loss=-100.00,
        breakevens=2,
    ),
    "short_put_calendar_spread": MultiExpiryCase(
        "short_put_calendar_spread",
        {"near_put": put(100, +1, 4.10), "far_put": put(100, -1, 5.50, MIDDLE)},
        premium=-140.00,  # 410 - 550
        at_zero=140.00,  # 10,000 - 10,000 + 140
        far_above=140.00,
        max_profit=140.00,
        max_loss=NEAR_STRIKE_EXTREME,  # at 100: 140 - 100 x P(100, 100, 28 d)
        breakevens=2,
    ),
    "calendar_spread": MultiExpiryCase(
        "calendar_spread",  # generic, here with puts and the FAR expiry
        {"near": put(100, -1, 4.10), "far": put(100, +1, 6.70, FAR)},
        premium=260.00,  # -410 + 670
        at_zero=-260.00,  # -10,000 + 10,000 - 260
        far_above=-260.00,
        max_profit=NEAR_STRIKE_EXTREME,  # at 100: 100 x P(100, 100, 63 d) - 260
        max_loss=-260.00,
        breakevens=2,
    ),
    "call_diagonal_spread": MultiExpiryCase(
        "call_diagonal_spread",
        {"near_call": call(100, -1, 4.40), "far_call": call(105, +1, 3.60, MIDDLE)},
        premium=-80.00,  # -440 + 360
        at_zero=80.00,  # both calls worthless
        far_above=-420.00,  # -(S - 100) + (S - 105) + 80 = -500 + 80
        max_profit=NEAR_STRIKE_EXTREME,  # at 100: 100 x C(100, 105, 28 d) + 80
        max_loss=-420.00,  # approached as S grows
        breakevens=1,  # positive up to the peak, -420 far above
    ),
    "put_diagonal_spread": MultiExpiryCase(
        "put_diagonal_spread",
        {"near_put": put(100, -1, 4.10), "far_put": put(95, +1, 3.20, MIDDLE)},
        premium=-90.00,  # -410 + 320
        at_zero=-410.00,  # -10,000 + 9,500 + 90
        far_above=90.00,  # both puts worthless
        max_profit=NEAR_STRIKE_EXTREME,  # at 100: 100 x P(100, 95, 28 d) + 90
        max_loss=-410.00,
        breakevens=1,
    ),
    "poor_mans_covered_call": MultiExpiryCase(
        "poor_mans_covered_call",
        {"long_call": call(90, +1, 13.80, FAR), "short_call": call(105, -1, 2.30)},
        premium=1_150.00,  # 1,380 - 230
        at_zero=-1_150.00,  # both calls worthless
        far_above=350.00,  # (S - 90) - (S - 105) = 15 -> 1,500 - 1,150
        max_profit=NEAR_STRIKE_EXTREME,  # at 105: 100 x C(105, 90, 63 d) - 1,150
        max_loss=-1_150.00,
        breakevens=1,
    ),
    "double_calendar": MultiExpiryCase(
        "double_calendar",
        {
            "near_put": put(95, -1, 2.20),
            "far_put": put(95, +1, 3.20, MIDDLE),
            "near_call": call(105, -1, 2.30),
            "far_call": call(105, +1, 3.60, MIDDLE),
        },
        premium=230.00,  # -220 + 320 - 230 + 360
        at_zero=-230.00,  # -9,500 + 9,500 + 0 + 0 - 230
        far_above=-230.00,  # 0 + 0 - (S - 105) + (S - 105) - 230
        max_profit=NEAR_STRIKE_EXTREME,  # the better of S = 95 and S = 105
        max_loss=-230.00,
        breakevens=2,
    ),
    "double_diagonal": MultiExpiryCase(
        "double_diagonal",
        {
            "far_put": put(90, +1, 1.90, MIDDLE),
            "near_put": put(95, -1, 2.20),
            "near_call": call(105, -1, 2.30),
            "far_call": call(110, +1, 2.10, MIDDLE),
        },
        premium=-50.00,  # 190 - 220 - 230 + 210
        at_zero=-450.00,  # 9,000 - 9,500 + 50
        far_above=-450.00,  # -(S - 105) + (S - 110) + 50 = -500 + 50
        max_profit=NEAR_STRIKE_EXTREME,  # the better of S = 95 and S = 105
        max_loss=-450.00,
        breakevens=2,
    ),
    # The rolls: by put-call parity the far call minus the far put is worth S - K e^(-r tau)
    # at every S and the near legs -max(S - K, 0) + max(K - S, 0) = K - S, so the payoff
    # is flat: 100 K (1 - e^(-r tau)) - premium.  A rate makes that constant non-trivial:
    # 100 x 100 x (1 - e^(-0.05 x 28 / 365)) = 10,000 x 0.00382827 = 38.2827.
    "jelly_roll": MultiExpiryCase(
        "jelly_roll",
        {
            "near_call": call(100, -1, 4.40),
            "far_call": call(100, +1, 5.80, MIDDLE),
            "near_put": put(100, +1, 4.10),
            "far_put": put(100, -1, 5.45, MIDDLE),
        },
        premium=5.00,  # -440 + 580 + 410 - 545
        at_zero=33.2827,  # 38.2827 - 5
        far_above=33.2827,
        max_profit=33.2827,
        max_loss=33.2827,
        breakevens=0,
        rate=0.05,
    ),
    "short_jelly_roll": MultiExpiryCase(
        "short_jelly_roll",
        {
            "near_call": call(100, +1, 4.40),
            "far_call": call(100, -1, 5.80, MIDDLE),
            "near_put": put(100, -1, 4.10),
            "far_put": put(100, +1, 5.45, MIDDLE),
        },
        premium=-5.00,  # 440 - 580 - 410 + 545
        at_zero=-33.2827,  # -38.2827 + 5
        far_above=-33.2827,
        max_profit=-33.2827,
        max_loss=-33.2827,
        breakevens=0,
        rate=0.05,
    ),
}


def normal_cdf(value: float) -> float:
    return 0.5 * (1.0 + math.erf(value / math.sqrt(2.0)))


def reference_price(
    spot: float, strike: float, years: float, rate: float, *, is_call: bool
) -> float:
    """Black-Scholes price per share, no dividend yield, from math.erf."""
    discounted = strike * math.exp(-rate * years)
    if spot == 0.0:
        return 0.0 if is_call else discounted
    total = VOLATILITY * math.sqrt(years)
    d1 = math.log(spot / discounted) / total + 0.5 * total
    call_price = spot * normal_cdf(d1) - discounted * normal_cdf(d1 - total)
    return call_price if is_call else call_price - spot + discounted


def reference_payoff(case: MultiExpiryCase, spot: float) -> float:
    """The payoff of one LONG unit at the first expiry: near legs at intrinsic value."""
    first = min(quote.expiry for quote in case.legs.values() if quote.expiry is not None)
    value = 0.0
    for quote in case.legs.values():
        assert quote.right is not None
        assert quote.strike is not None
        assert quote.expiry is not None
        is_call = quote.right is CALL
        years = (quote.expiry - first).days / 365
        if years == 0:
            price = max(spot - quote.strike if is_call else quote.strike - spot, 0.0)
        else:
            price = reference_price(spot, quote.strike, years, case.rate, is_call=is_call)
        value += quote.ratio * OPTION_MULTIPLIER * price
    return value - case.premium


def near_strikes(case: MultiExpiryCase) -> list[float]:
    first = min(quote.expiry for quote in case.legs.values() if quote.expiry is not None)
    return [
        quote.strike
        for quote in case.legs.values()
        if quote.expiry == first and quote.strike is not None
    ]


def long_extremes(case: MultiExpiryCase) -> tuple[float, float]:
    """The maximum profit and loss of one LONG unit."""
    at_near_strikes = [reference_payoff(case, strike) for strike in near_strikes(case)]
    max_profit = case.max_profit if case.max_profit is not None else max(at_near_strikes)
    max_loss = case.max_loss if case.max_loss is not None else min(at_near_strikes)
    return max_profit, max_loss


# Cases where analyze_payoff disagrees with the closed-form checks: id -> reason.
MULTI_EXPIRY_XFAIL: dict[str, str] = {}


def multi_expiry_params() -> list[object]:
    return [
        pytest.param(
            case,
            id=case_id,
            marks=[pytest.mark.xfail(strict=True, reason=MULTI_EXPIRY_XFAIL[case_id])]
            if case_id in MULTI_EXPIRY_XFAIL
            else [],
        )
        for case_id, case in MULTI_EXPIRY.items()
    ]


@pytest.mark.parametrize("volume", VOLUMES)
@pytest.mark.parametrize("direction", DIRECTIONS, ids=str)
@pytest.mark.parametrize("case", multi_expiry_params())
def test_multi_expiry_figures_match_the_closed_form_limits(
    case: MultiExpiryCase, direction: Direction, volume: int
) -> None:
    built, prices = build(case.type_name, case.legs, direction, volume)
    assert not is_single_expiry(built)

    analysis = analyze_payoff(built, prices, volatility=VOLATILITY, rate=case.rate)
    limits = payoff_at_expiry(
        built, [0.0, FAR_ABOVE], prices, volatility=VOLATILITY, rate=case.rate
    )

    sign = direction.sign
    long_profit, long_loss = long_extremes(case)
    max_profit, max_loss = (long_profit, long_loss) if sign > 0 else (-long_loss, -long_profit)
    assert not analysis.exact
    assert_dollars(analysis.premium.per_unit, sign * case.premium)
    assert_dollars(analysis.premium.total, sign * case.premium * volume)
    assert_dollars(float(limits[0]), sign * case.at_zero * volume)
    assert_dollars(float(limits[1]), sign * case.far_above * volume)
    # no rate of carry on the underlying: the later calls cancel the near ones far above
    assert not analysis.unbounded_profit
    assert not analysis.unbounded_loss
    assert_dollars(analysis.max_profit, max_profit * volume)
    assert_dollars(analysis.max_loss, max_loss * volume)
    assert len(analysis.breakevens) == case.breakevens
    for breakeven in analysis.breakevens:
        assert reference_payoff(case, breakeven) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("case", MULTI_EXPIRY.values(), ids=MULTI_EXPIRY.keys())
def test_the_reference_payoff_stays_between_the_hand_extremes(case: MultiExpiryCase) -> None:
    # Checks the argument above (extremes at S = 0, far above, or a near strike) on the
    # independent reference payoff alone, every 25 cents from 0 to 300.
    long_profit, long_loss = long_extremes(case)
    for step in range(1_201):
        payoff = reference_payoff(case, 0.25 * step)
        assert long_loss - CENT <= payoff <= long_profit + CENT


# --- coverage ------------------------------------------------------------------------------


def test_every_builtin_type_but_custom_has_a_case() -> None:
    exact = {case.type_name for case in EXACT.values()}
    multi_expiry = {case.type_name for case in MULTI_EXPIRY.values()}
    assert not exact & multi_expiry
    assert exact | multi_expiry == set(BUILTIN_TYPES) - {"custom"}
    assert len(exact) == 51
    assert len(multi_expiry) == 12
