"""RiskEngine: every rule refuses with its reason code, passes at its limit, and reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otrade.clock import SimulatedClock
from otrade.constants import Direction, Exchange, OrderType, Product, Status
from otrade.engine import MainEngine
from otrade.errors import ConfigError, OrderRejected
from otrade.event import EVENT_CONTRACT, EVENT_LOG, EVENT_ORDER, EVENT_QUOTE, Event, EventEngine
from otrade.marketdata import MarketDataEngine
from otrade.objects import ContractData, Leg, LogData, OrderData, OrderRequest, QuoteData
from otrade.plugins import PluginRegistry
from otrade.position import PositionEngine
from otrade.risk import RiskEngine, _Rates
from otrade.settings import LogSettings, MarketDataSettings, RiskSettings, Settings, load_settings
from otrade.symbols import build_option_symbol, parse_option_symbol

START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 10:00 New York
EXPIRY = date(2026, 12, 18)
CALL_460 = build_option_symbol("SPY", EXPIRY, "C", 460)
CALL_470 = build_option_symbol("SPY", EXPIRY, "C", 470)
UNQUOTED_PUT = build_option_symbol("SPY", EXPIRY, "P", 400)

# Every limit off: each test turns on the one rule it is about.
NO_LIMITS = {
    "max_option_volume": 0,
    "max_underlying_volume": 0,
    "max_combo_volume": 0,
    "max_premium": 0.0,
    "max_notional": 0.0,
    "max_open_orders": 0,
    "max_orders_per_second": 0,
    "max_orders_per_minute": 0,
    "max_global_orders_per_second": 0,
    "max_global_orders_per_minute": 0,
    "price_collar_pct": 0.0,
    "price_collar_ticks": 0,
    "refuse_stale_market_orders": False,
    "max_market_spread_pct": 0.0,
    "max_strategy_contracts": 0,
    "max_strategy_delta": 0.0,
}


def option_contract(symbol: str) -> ContractData:
    parsed = parse_option_symbol(symbol)
    return ContractData(
        symbol=symbol, product=Product.OPTION, exchange=Exchange.SMART, multiplier=100,
        underlying_symbol="SPY", root="SPY", expiry=parsed.expiry,
        strike=float(parsed.strike), right=parsed.right,
    )  # fmt: skip


class Harness:
    """A real MainEngine (no datafeed, synchronous events) with a RiskEngine added.

    SPY is quoted 449.90 / 450.10, the 460 call 1.95 / 2.05 and the 470 call 0.95 / 1.05,
    through quote events, so the rules read the MarketDataEngine's live objects.
    """

    def __init__(self, tmp_path: Path, risk: dict[str, object]) -> None:
        self.clock = SimulatedClock(START)
        settings = Settings(
            data_directory=tmp_path,
            log=LogSettings(console=False, file=False),
            marketdata=MarketDataSettings(feed=""),
            risk=RiskSettings(**risk),  # type: ignore[arg-type]
        )
        registry = PluginRegistry()
        registry.load(entry_points=False)
        self.events = EventEngine(clock=self.clock, threaded=False)
        self.main = MainEngine(settings, clock=self.clock, plugins=registry,
                               event_engine=self.events)  # fmt: skip
        risk = self.main.get_engine("risk")  # a built-in engine
        assert isinstance(risk, RiskEngine)
        self.risk = risk
        self.orders: list[OrderData] = []
        self.logs: list[LogData] = []
        self.events.register(EVENT_ORDER, lambda event: self.orders.append(event.data))
        self.events.register(EVENT_LOG, lambda event: self.logs.append(event.data))
        self.put(EVENT_CONTRACT, ContractData(symbol="SPY", product=Product.ETF,
                                              exchange=Exchange.SMART))  # fmt: skip
        for symbol in (CALL_460, CALL_470, UNQUOTED_PUT):
            self.put(EVENT_CONTRACT, option_contract(symbol))
        marketdata = self.main.get_engine("marketdata")
        assert isinstance(marketdata, MarketDataEngine)
        self.marketdata = marketdata
        portfolio = marketdata.get_portfolio("SPY")
        assert portfolio is not None
        chain = portfolio.find_chain("SPY", EXPIRY)
        assert chain is not None
        marketdata.register_chains("test", [chain])
        self.quote("SPY", 449.9, 450.1)
        self.quote(CALL_460, 1.95, 2.05)
        self.quote(CALL_470, 0.95, 1.05)
        self.tick()  # the timer marks what was quoted as fresh

    def put(self, kind: str, data: object) -> None:
        self.events.put(Event(kind, data))
        self.events.process_pending()

    def quote(self, symbol: str, bid: float | None, ask: float | None) -> None:
        self.put(EVENT_QUOTE, QuoteData(symbol=symbol, time=self.clock.now(), bid=bid, ask=ask))

    def tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        self.events.process_pending()

    def refusal(self, request: OrderRequest) -> str:
        with pytest.raises(OrderRejected) as caught:
            self.risk.check(request)
        return caught.value.reason


Make = Callable[..., Harness]
"""Builds a Harness with every limit off except the keyword arguments given."""


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Make]:
    built: list[Harness] = []

    def build(**risk: object) -> Harness:
        harness = Harness(tmp_path / str(len(built)), {**NO_LIMITS, **risk})
        built.append(harness)
        return harness

    yield build
    for harness in built:
        harness.main.close()


def option_order(
    volume: int = 1,
    price: float | None = 2.0,
    *,
    symbol: str = CALL_460,
    direction: Direction = Direction.LONG,
    strategy: str = "wheel",
) -> OrderRequest:
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(symbol=symbol, direction=direction, order_type=order_type,
                        volume=volume, price=price, strategy=strategy)  # fmt: skip


def stock_order(
    volume: int = 100,
    price: float | None = 450.0,
    *,
    direction: Direction = Direction.LONG,
    strategy: str = "wheel",
) -> OrderRequest:
    return option_order(volume, price, symbol="SPY", direction=direction, strategy=strategy)


def vertical(volume: int = 1, price: float | None = 1.0, strategy: str = "wheel") -> OrderRequest:
    """A 460/470 call vertical: net mid (2.00 - 1.00) = 1.00 per unit."""
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    return OrderRequest(
        symbol="SPY 460/470 call vertical", direction=Direction.LONG, order_type=order_type,
        volume=volume, price=price, legs=(Leg(CALL_460, 1), Leg(CALL_470, -1)),
        strategy=strategy,
    )  # fmt: skip


class FakeExposure:
    """An exposure provider with fixed figures, standing in for the PositionEngine."""

    def __init__(self, contracts: int = 0, delta: float = 0.0, **positions: int) -> None:
        self.contracts = contracts
        self.delta = delta
        self.positions = {
            ("wheel", CALL_460 if key == "call" else key): value for key, value in positions.items()
        }

    def strategy_exposure(self, strategy: str) -> tuple[int, float]:
        return self.contracts, self.delta

    def position_quantity(self, strategy: str, symbol: str) -> int:
        return self.positions.get((strategy, symbol), 0)


# --- Settings ----------------------------------------------------------------------------


def test_defaults_are_sane_and_documented() -> None:
    risk = RiskSettings()
    assert Settings().risk == risk
    assert risk.kill_switch == "off"
    assert (risk.max_option_volume, risk.max_underlying_volume, risk.max_combo_volume) == (
        100, 10_000, 50,
    )  # fmt: skip
    assert (risk.max_premium, risk.max_notional) == (50_000.0, 1_000_000.0)
    assert risk.max_open_orders == 20
    assert (risk.max_orders_per_second, risk.max_orders_per_minute) == (5, 60)
    assert (risk.max_global_orders_per_second, risk.max_global_orders_per_minute) == (20, 300)
    assert (risk.price_collar_pct, risk.price_collar_ticks, risk.collar_requires_mid) == (
        10.0, 5, True,
    )  # fmt: skip
    assert risk.refuse_stale_market_orders is True
    assert risk.max_market_spread_pct == 25.0
    assert (risk.max_strategy_contracts, risk.max_strategy_delta) == (500, 0.0)
    documented = RiskSettings.__doc__ or ""
    for field in RiskSettings.__attrs_attrs__:
        assert f"{field.name}:" in documented


def test_risk_settings_load_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "otrade.toml"
    path.write_text('[risk]\nkill_switch = "reduce_only"\nmax_premium = 0\n', encoding="utf-8")
    settings = load_settings(path, environ={"OTRADE_RISK__MAX_OPTION_VOLUME": "7"})
    assert settings.risk.kill_switch == "reduce_only"
    assert settings.risk.max_premium == 0.0
    assert settings.risk.max_option_volume == 7


@pytest.mark.parametrize(
    ("variable", "value", "key", "expected"),
    [
        ("OTRADE_RISK__MAX_OPTION_VOLUME", "-1", "risk.max_option_volume", "an integer >= 0"),
        ("OTRADE_RISK__MAX_PREMIUM", "-5", "risk.max_premium", "a number >= 0"),
        ("OTRADE_RISK__PRICE_COLLAR_PCT", "nan", "risk.price_collar_pct", "a number >= 0"),
        ("OTRADE_RISK__KILL_SWITCH", "panic", "risk.kill_switch",
         "one of off, reduce_only, halt"),
    ],
)  # fmt: skip
def test_bad_risk_settings_name_the_key(variable: str, value: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={variable: value})
    message = str(caught.value)
    assert f"{key} (from environment variable {variable})" in message
    assert f"expected {expected}" in message


# --- Volume, premium, notional -----------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "at_limit", "above", "reason"),
    [
        ({"max_option_volume": 10}, option_order(10), option_order(11),
         "max_volume: 11 option contracts is above risk.max_option_volume = 10"),
        ({"max_underlying_volume": 500}, stock_order(500), stock_order(501),
         "max_volume: 501 shares is above risk.max_underlying_volume = 500"),
        ({"max_combo_volume": 3}, vertical(3), vertical(4),
         "max_volume: 4 combo units is above risk.max_combo_volume = 3"),
    ],
)  # fmt: skip
def test_max_volume_per_product(
    make: Make, limits: dict[str, int], at_limit: OrderRequest, above: OrderRequest, reason: str
) -> None:
    harness = make(**limits)
    harness.risk.check(at_limit)
    assert harness.refusal(above) == reason


def test_max_premium_of_a_single_option(make: Make) -> None:
    harness = make(max_premium=400.0)
    harness.risk.check(option_order(2, 2.0))  # 2 x 2.00 x 100 = 400
    assert harness.refusal(option_order(2, 2.01)) == (
        f"max_premium: premium 402.00 of 2 x {CALL_460} at 2.01 is above risk.max_premium = 400.00"
    )


def test_max_premium_of_a_combo_uses_its_net_price(make: Make) -> None:
    harness = make(max_premium=300.0)
    harness.risk.check(vertical(3, 1.0))
    credit = vertical(3, -1.5)
    assert harness.refusal(credit) == (
        "max_premium: premium 450.00 of 3 x SPY 460/470 call vertical at -1.5 is above "
        "risk.max_premium = 300.00"
    )


def test_max_premium_values_a_market_order_at_the_mid(make: Make) -> None:
    harness = make(max_premium=200.0)
    harness.risk.check(option_order(1, None))  # mid 2.00
    assert harness.refusal(option_order(2, None)).startswith("max_premium: premium 400.00")


def test_max_notional_of_an_underlying_order(make: Make) -> None:
    harness = make(max_notional=45_000.0)
    harness.risk.check(stock_order(100, 450.0))
    assert harness.refusal(stock_order(101, None)) == (
        "max_notional: notional 45,450.00 of 101 x SPY at 450 is above "
        "risk.max_notional = 45,000.00"
    )


# --- Open orders and rates ---------------------------------------------------------------


def open_order(order_id: str, strategy: str, status: Status = Status.NOT_TRADED) -> OrderData:
    request = option_order(strategy=strategy)
    return OrderData(
        order_id=order_id, gateway_name="paper", symbol=request.symbol,
        direction=request.direction, order_type=request.order_type, volume=1, price=2.0,
        strategy=strategy, status=status, time=START,
    )  # fmt: skip


def test_max_open_orders_counts_active_orders_per_strategy(make: Make) -> None:
    harness = make(max_open_orders=2)
    harness.put(EVENT_ORDER, open_order("a", "wheel"))
    harness.risk.check(option_order())  # one open, limit 2
    harness.put(EVENT_ORDER, open_order("b", "wheel"))
    harness.put(EVENT_ORDER, open_order("c", "other"))
    assert harness.risk.open_order_count("wheel") == 2
    assert harness.refusal(option_order()) == (
        "max_open_orders: strategy 'wheel' has 2 open orders, risk.max_open_orders = 2"
    )
    harness.risk.check(option_order(strategy="other"))
    harness.put(EVENT_ORDER, open_order("a", "wheel", Status.CANCELLED))
    harness.risk.check(option_order())


def test_strategy_order_rate_frees_up_as_the_clock_moves(make: Make) -> None:
    harness = make(max_orders_per_second=2, max_orders_per_minute=3)
    harness.risk.check(option_order())
    harness.risk.check(option_order())
    assert harness.refusal(option_order()) == (
        "order_rate: strategy 'wheel' sent 2 orders in the last 1 s, risk.max_orders_per_second = 2"
    )
    harness.risk.check(option_order(strategy="other"))  # another strategy's own window
    harness.clock.advance(1.0)
    harness.risk.check(option_order())
    harness.clock.advance(1.0)
    assert harness.refusal(option_order()) == (
        "order_rate: strategy 'wheel' sent 3 orders in the last 60 s, "
        "risk.max_orders_per_minute = 3"
    )
    harness.clock.advance(58.0)  # the first two leave the minute
    harness.risk.check(option_order())


def test_global_order_rate_spans_strategies(make: Make) -> None:
    harness = make(max_global_orders_per_second=2, max_global_orders_per_minute=3)
    harness.risk.check(option_order(strategy="a"))
    harness.risk.check(option_order(strategy="b"))
    assert harness.refusal(option_order(strategy="c")) == (
        "global_order_rate: 2 orders were sent in the last 1 s, "
        "risk.max_global_orders_per_second = 2"
    )
    harness.clock.advance(1.0)
    harness.risk.check(option_order(strategy="c"))
    harness.clock.advance(1.0)
    assert harness.refusal(option_order(strategy="d")).startswith(
        "global_order_rate: 3 orders were sent in the last 60 s"
    )
    harness.clock.advance(59.0)
    harness.risk.check(option_order(strategy="d"))


def test_refused_orders_do_not_count_toward_the_rate(make: Make) -> None:
    harness = make(max_orders_per_second=1, max_option_volume=1)
    harness.refusal(option_order(2))
    harness.risk.check(option_order(1))


@settings(max_examples=300, deadline=None)
@given(
    gaps=st.lists(st.sampled_from((0.0, 0.25, 0.5, 1.0, 30.0, 59.0, 60.0)) | st.floats(0, 90)),
    limits=st.tuples(st.integers(0, 4), st.integers(0, 12)),
    strategy=st.sampled_from(("wheel", None)),
)
def test_rolling_windows_refuse_exactly_when_a_recount_reaches_a_limit(
    gaps: list[float], limits: tuple[int, int], strategy: str | None
) -> None:
    windows, accepted, now = _Rates(), list[float](), 1000.0
    sent_by = f"order_rate: strategy {strategy!r} sent" if strategy else "global_order_rate:"
    were = "" if strategy else " were sent"
    scope = "" if strategy else "global_"
    for gap in gaps:
        now += gap
        # The windows are open at their start: a send exactly 1 s (60 s) ago has left.
        per_second = sum(1 for sent in accepted if sent > now - 1.0)
        per_minute = sum(1 for sent in accepted if sent > now - 60.0)
        expected = None
        for count, limit, span, unit in ((per_second, limits[0], 1, "second"),
                                         (per_minute, limits[1], 60, "minute")):  # fmt: skip
            if limit and count >= limit:
                expected = (
                    f"{sent_by} {count} orders{were} in the last {span} s, "
                    f"risk.max_{scope}orders_per_{unit} = {limit}"
                )
                break
        reason = None
        try:
            windows.check(now, limits, strategy)
        except OrderRejected as refusal:
            reason = refusal.reason
        assert reason == expected
        if reason is None:
            windows.add(now)
            accepted.append(now)


# --- Market orders: stale quotes, wide spreads -------------------------------------------


def test_market_order_on_a_stale_quote_is_refused(make: Make) -> None:
    harness = make(refuse_stale_market_orders=True)
    harness.risk.check(option_order(1, None))
    assert harness.refusal(option_order(1, None, symbol=UNQUOTED_PUT)) == (
        f"stale_quote: the quote of {UNQUOTED_PUT} is stale; a market order needs a live "
        "quote (risk.refuse_stale_market_orders = true)"
    )
    harness.risk.check(option_order(1, 2.0, symbol=UNQUOTED_PUT))  # a limit order may rest
    harness.tick(31.0)  # marketdata.stale_after_s is 30
    assert harness.refusal(stock_order(100, None)).startswith("stale_quote: the quote of SPY")


def test_market_combo_is_refused_when_any_leg_is_stale(make: Make) -> None:
    harness = make(refuse_stale_market_orders=True)
    harness.risk.check(vertical(1, None))
    harness.tick(31.0)
    harness.quote(CALL_460, 1.95, 2.05)
    harness.tick()
    assert harness.refusal(vertical(1, None)).startswith(f"stale_quote: the quote of {CALL_470}")


def test_market_order_on_a_wide_spread_is_refused(make: Make) -> None:
    harness = make(max_market_spread_pct=25.0)
    harness.quote(CALL_460, 1.75, 2.25)  # 0.50 on a 2.00 mid: exactly 25 %
    harness.risk.check(option_order(1, None))
    harness.quote(CALL_460, 1.5, 2.5)
    assert harness.refusal(option_order(1, None)) == (
        f"wide_spread: {CALL_460} spread 1 is 50% of mid 2, risk.max_market_spread_pct = 25"
    )
    harness.risk.check(option_order(1, 2.0))  # limit orders are not spread-checked
    harness.quote(CALL_460, None, 2.5)
    assert harness.refusal(option_order(1, None)) == (
        f"wide_spread: {CALL_460} has no two-sided quote to measure its spread "
        "(risk.max_market_spread_pct = 25)"
    )


# --- Price collar ------------------------------------------------------------------------


def test_price_collar_in_percent_of_the_mid(make: Make) -> None:
    harness = make(price_collar_pct=10.0)
    harness.risk.check(option_order(1, 2.2))
    harness.risk.check(option_order(1, 1.8, direction=Direction.SHORT))
    assert harness.refusal(option_order(1, 2.21)) == (
        "price_collar: limit price 2.21 is 0.21 from mid 2, beyond the collar of 0.2 "
        "(risk.price_collar_pct = 10, risk.price_collar_ticks = 0)"
    )


def test_price_collar_in_ticks(make: Make) -> None:
    harness = make(price_collar_ticks=5)  # min tick 0.01
    harness.risk.check(option_order(1, 2.05))
    assert harness.refusal(option_order(1, 1.94)).startswith(
        "price_collar: limit price 1.94 is 0.06 from mid 2, beyond the collar of 0.05"
    )


def test_price_collar_is_the_wider_of_percent_and_ticks(make: Make) -> None:
    harness = make(price_collar_pct=1.0, price_collar_ticks=5)  # 0.02 vs 0.05
    harness.risk.check(option_order(1, 2.05))
    assert harness.refusal(option_order(1, 2.06)).startswith("price_collar:")


def test_price_collar_of_a_combo_uses_its_net_mid(make: Make) -> None:
    harness = make(price_collar_pct=10.0)
    harness.risk.check(vertical(1, 1.1))
    assert harness.refusal(vertical(1, 1.2)) == (
        "price_collar: limit price 1.2 is 0.2 from mid 1, beyond the collar of 0.1 "
        "(risk.price_collar_pct = 10, risk.price_collar_ticks = 0)"
    )


def test_price_collar_without_a_mid_refuses_unless_configured(make: Make) -> None:
    harness = make(price_collar_pct=10.0)
    assert harness.refusal(option_order(1, 1.0, symbol=UNQUOTED_PUT)) == (
        f"price_collar: no mid for {UNQUOTED_PUT} to check limit price 1 against "
        "(risk.collar_requires_mid = true)"
    )
    lenient = make(price_collar_pct=10.0, collar_requires_mid=False)
    lenient.risk.check(option_order(1, 1.0, symbol=UNQUOTED_PUT))


# --- Strategy exposure -------------------------------------------------------------------


def test_exposure_rules_are_skipped_without_a_provider(make: Make) -> None:
    harness = make(max_strategy_contracts=1, max_strategy_delta=1.0)
    # The built-in PositionEngine is wired at start; take it away.
    assert isinstance(harness.risk.exposure_provider, PositionEngine)
    harness.risk.set_exposure_provider(None)
    harness.risk.check(option_order(5))


def test_max_strategy_contracts_after_the_order(make: Make) -> None:
    harness = make(max_strategy_contracts=10)
    harness.risk.set_exposure_provider(FakeExposure(contracts=8, call=-2))
    harness.risk.check(option_order(4))  # -2 -> +2: still 8 contracts
    harness.risk.check(option_order(2, direction=Direction.SHORT))  # -2 -> -4: 10
    assert harness.refusal(option_order(3, direction=Direction.SHORT)) == (
        "max_contracts: strategy 'wheel' would hold 11 option contracts (now 8), "
        "risk.max_strategy_contracts = 10"
    )


def test_an_order_that_shrinks_contracts_passes_over_the_limit(make: Make) -> None:
    harness = make(max_strategy_contracts=10)
    harness.risk.set_exposure_provider(FakeExposure(contracts=12, call=5))
    harness.risk.check(option_order(1, direction=Direction.SHORT))


def test_max_strategy_delta_after_the_order(make: Make) -> None:
    harness = make(max_strategy_delta=500.0)
    harness.risk.set_exposure_provider(FakeExposure(delta=450.0))
    harness.risk.check(stock_order(50))  # 500 share equivalents
    assert harness.refusal(stock_order(51)) == (
        "max_delta: strategy 'wheel' would hold a delta of 501.0 (now 450.0), "
        "risk.max_strategy_delta = 500"
    )
    harness.risk.check(stock_order(900, direction=Direction.SHORT))  # -450: shrinks


def test_max_strategy_delta_of_an_option_uses_its_delta(make: Make) -> None:
    harness = make(max_strategy_delta=100.0)
    harness.risk.set_exposure_provider(FakeExposure())
    assert harness.refusal(option_order(1, symbol=UNQUOTED_PUT)) == (
        f"max_delta: {UNQUOTED_PUT} has no delta yet to estimate the order's delta "
        "(risk.max_strategy_delta is set)"
    )
    option = harness.marketdata.get_option(CALL_460)
    assert option is not None
    assert option.delta is not None  # computed locally from the live quotes
    option.update_greeks(None, 0.5, None, None, None, source="provider", time=START)
    harness.risk.check(option_order(2))  # 2 x 0.5 x 100 = 100
    assert harness.refusal(option_order(3)).startswith(
        "max_delta: strategy 'wheel' would hold a delta of 150.0"
    )


# --- Kill switch -------------------------------------------------------------------------


def test_halt_refuses_every_order_until_resume(make: Make) -> None:
    harness = make()
    harness.risk.halt()
    assert harness.risk.kill_switch == "halt"
    assert harness.refusal(option_order()) == (
        "halted: the kill switch is set to halt; every order is refused"
    )
    harness.risk.resume()
    harness.risk.check(option_order())
    harness.events.process_pending()
    assert [log.message for log in harness.logs[-2:]] == [
        "kill switch set to halt",
        "kill switch set to off",
    ]


def test_kill_switch_starts_from_settings(make: Make) -> None:
    assert make(kill_switch="halt").refusal(option_order()).startswith("halted:")


def test_reduce_only_passes_only_orders_that_shrink_a_position(make: Make) -> None:
    harness = make(kill_switch="reduce_only")
    # With the built-in PositionEngine (nothing held), an opening order grows a position.
    assert harness.refusal(option_order()) == (
        f"reduce_only: {CALL_460} position +0 would become +1; only orders that shrink a "
        "position pass"
    )
    harness.risk.set_exposure_provider(None)
    assert harness.refusal(option_order()) == (
        "reduce_only: no exposure provider is wired, so no order can be shown to reduce a position"
    )
    harness.risk.set_exposure_provider(FakeExposure(call=5, SPY=-100))
    harness.risk.check(option_order(3, direction=Direction.SHORT))
    harness.risk.check(option_order(5, direction=Direction.SHORT))  # to flat
    harness.risk.check(stock_order(100))
    assert harness.refusal(option_order(1)) == (
        f"reduce_only: {CALL_460} position +5 would become +6; only orders that shrink a "
        "position pass"
    )
    assert harness.refusal(option_order(6, direction=Direction.SHORT)).startswith(
        f"reduce_only: {CALL_460} position +5 would become -1"
    )
    assert harness.refusal(option_order(1, symbol=CALL_470)).startswith(
        f"reduce_only: {CALL_470} position +0 would become +1"
    )
    harness.risk.resume()
    harness.risk.check(option_order(1))


# --- Reporting ---------------------------------------------------------------------------


def test_check_and_report_emits_a_rejected_order_and_a_warning(make: Make) -> None:
    harness = make(max_option_volume=1)
    assert harness.risk.check_and_report(option_order(1)) is None
    harness.events.process_pending()
    assert harness.orders == []
    reason = harness.risk.check_and_report(option_order(2))
    harness.events.process_pending()
    assert reason == "max_volume: 2 option contracts is above risk.max_option_volume = 1"
    [order] = harness.orders
    assert order.status is Status.REJECTED
    assert order.reject_reason == reason
    assert order.gateway_name == "risk"
    assert (order.symbol, order.volume, order.strategy) == (CALL_460, 2, "wheel")
    assert len(order.order_id) == 26
    warning = harness.logs[-1]
    assert warning.level == "WARNING"
    assert warning.source == "risk"
    assert f"order {order.order_id}" in warning.message
    assert warning.message.endswith(f"refused: {reason}")
    assert harness.risk.open_order_count("wheel") == 0


# --- Integration -------------------------------------------------------------------------


def test_default_rules_with_live_quotes_on_a_real_main_engine(tmp_path: Path) -> None:
    """Every default limit on; quotes arrive as events and the rules read live objects."""
    harness = Harness(tmp_path, {})
    try:
        risk = harness.main.get_engine("risk")
        assert risk is harness.risk
        assert harness.risk.check_and_report(option_order(1, 2.05)) is None
        assert harness.risk.check_and_report(vertical(1, 1.02)) is None
        assert harness.risk.check_and_report(option_order(1, None)) is None
        assert harness.risk.check_and_report(stock_order(100, None)) is None
        reasons = [harness.risk.check_and_report(option_order(1, 3.0))]
        harness.quote(CALL_460, 1.0, 3.0)
        reasons.append(harness.risk.check_and_report(option_order(1, None)))
        harness.tick(31.0)
        reasons.append(harness.risk.check_and_report(option_order(1, None)))
        reasons.append(harness.risk.check_and_report(option_order(101, 2.0)))
        codes = [reason.split(":")[0] if reason else None for reason in reasons]
        assert codes == ["price_collar", "wide_spread", "stale_quote", "max_volume"]
        harness.events.process_pending()
        assert [order.status for order in harness.orders] == [Status.REJECTED] * 4
        assert all(order.gateway_name == "risk" for order in harness.orders)
    finally:
        harness.main.close()


def test_the_built_in_position_engine_supplies_the_strategy_exposure(make: Make) -> None:
    from otrade.event import EVENT_TRADE
    from otrade.objects import TradeData

    harness = make(max_strategy_contracts=10)
    bought = TradeData(
        trade_id="exec-1", order_id="01ORDER", gateway_name="paper", symbol=CALL_460,
        direction=Direction.LONG, price=2.0, volume=8, time=harness.clock.now(),
        strategy="wheel",
    )  # fmt: skip
    harness.put(EVENT_TRADE, bought)  # stored by the DatabaseEngine, booked by positions
    harness.risk.check(option_order(2))  # 10 contracts: at the limit
    assert harness.refusal(option_order(3)) == (
        "max_contracts: strategy 'wheel' would hold 11 option contracts (now 8), "
        "risk.max_strategy_contracts = 10"
    )
    harness.risk.check(option_order(5, direction=Direction.SHORT))  # reducing always passes
