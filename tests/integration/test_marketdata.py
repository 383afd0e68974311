"""MarketDataEngine end to end with the simulated feed: portfolios, registration, Greeks."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import numpy as np
import pytest

from otrade.clock import SimulatedClock
from otrade.constants import Exchange, OptionRight, Product
from otrade.datafeeds.tradier import TradierDataFeed
from otrade.engine import MainEngine
from otrade.event import (
    EVENT_CHAIN_UPDATE,
    EVENT_CONTRACT,
    EVENT_GREEKS,
    EVENT_QUOTE,
    Event,
    EventEngine,
)
from otrade.marketdata import MarketDataEngine, implied_dividend_yield
from otrade.objects import ContractData, GreeksData, QuoteData
from otrade.plugins import PluginRegistry
from otrade.pricing import bsm
from otrade.settings import LogSettings, MarketDataSettings, Secret, Settings, TradierSettings
from otrade.symbols import build_option_symbol
from tests.fakes.tradier_server import TOKEN, running_fake

START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday 10:00 New York


class Harness:
    def __init__(
        self,
        tmp_path,
        clock: SimulatedClock | None = None,
        tradier: TradierSettings | None = None,
        **marketdata: object,
    ) -> None:
        self.clock = clock or SimulatedClock(START)
        settings = Settings(
            data_directory=tmp_path,
            log=LogSettings(console=False),
            marketdata=MarketDataSettings(**marketdata),  # type: ignore[arg-type]
            tradier=tradier or TradierSettings(),
        )
        registry = PluginRegistry()
        registry.load(entry_points=False)
        events = EventEngine(clock=self.clock, threaded=False)
        self.main = MainEngine(settings, clock=self.clock, plugins=registry, event_engine=events)
        engine = self.main.get_engine("marketdata")
        assert isinstance(engine, MarketDataEngine)
        self.engine = engine
        self.updates: list[tuple[str, str]] = []
        self.main.event_engine.register(EVENT_CHAIN_UPDATE, self._record_update)
        self.main.event_engine.process_pending()

    def _record_update(self, event: Event) -> None:
        self.updates.append((event.data.underlying, event.data.chain_key))

    def tick(self, seconds: float = 1.0) -> None:
        """Let clock time pass and handle the timer events (the feed publishes on them)."""
        self.clock.advance(seconds)
        self.main.event_engine.process_pending()


@pytest.fixture
def harness(tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.main.close()


def test_portfolios_exist_before_any_strategy_asks(harness):
    portfolio = harness.engine.get_portfolio("SPY")
    assert portfolio is not None
    assert portfolio.find_chain("SPY", date(2026, 12, 18)) is not None
    assert harness.engine.active_chains == frozenset()


def test_registered_chains_get_quotes_local_greeks_and_update_events(harness):
    portfolio = harness.engine.get_portfolio("SPY")
    chain = portfolio.find_chain("SPY", date(2026, 12, 18))
    harness.engine.register_chains("wheel", [chain])
    harness.tick()
    harness.tick()  # quotes of the first update are priced at the next timer event
    atm = next(o for o in chain.options if o.strike == 450.0 and o.is_call)
    assert atm.mid is not None
    assert atm.greeks_source == "local"
    assert 0.4 < atm.delta < 0.65
    assert atm.iv == pytest.approx(0.18, abs=0.03)
    assert ("SPY", "SPY 2026-12-18") in harness.updates
    assert ("SPY", "") in harness.updates
    assert not atm.stale
    other = portfolio.find_chain("SPY", date(2026, 12, 4))
    assert all(o.mid is None for o in other.options)  # not active: not quoted


def test_registration_is_reference_counted_across_strategies(harness):
    chain = harness.engine.get_portfolio("SPY").find_chain("SPY", date(2026, 12, 18))
    harness.engine.register_chains("a", [chain])
    harness.engine.register_chains("b", [chain])
    harness.engine.unregister_chains("a")
    assert len(harness.engine.active_chains) == 1
    harness.engine.unregister_chains("b", [chain])
    assert harness.engine.active_chains == frozenset()


def test_quotes_go_stale_when_the_feed_stops(harness):
    chain = harness.engine.get_portfolio("SPY").find_chain("SPY", date(2026, 12, 18))
    harness.engine.register_chains("wheel", [chain])
    harness.tick()
    harness.tick()
    atm = next(o for o in chain.options if o.strike == 450.0 and o.is_call)
    assert not atm.stale
    harness.engine.close()  # the feed stops; the engine's timer handling goes on
    for _ in range(31):
        harness.tick()
    assert atm.stale


def test_provider_policy_uses_the_feeds_greeks(tmp_path):
    harness = Harness(tmp_path, greeks_policy="provider")
    try:
        chain = harness.engine.get_portfolio("SPY").find_chain("SPY", date(2026, 12, 18))
        harness.engine.register_chains("wheel", [chain])
        harness.tick()
        harness.tick()
        atm = next(o for o in chain.options if o.strike == 450.0 and o.is_call)
        assert atm.greeks_source == "provider"
    finally:
        harness.main.close()


def test_an_unknown_feed_is_refused_by_name(tmp_path):
    from otrade.errors import ConfigError

    with pytest.raises(ConfigError, match=r"marketdata\.feed: no datafeed named 'bloomberg'"):
        Harness(tmp_path, feed="bloomberg")


def test_local_ivs_recover_the_simulated_markets_own_and_do_not_diverge(tmp_path):
    harness = Harness(tmp_path, greeks_policy="both")
    try:
        chain = harness.engine.get_portfolio("SPY").find_chain("SPY", date(2026, 12, 18))
        harness.engine.register_chains("wheel", [chain])
        harness.tick()
        harness.tick()
        liquid = [o for o in chain.options if o.delta is not None and 0.15 < abs(o.delta) < 0.85]
        assert len(liquid) >= 10
        for option in liquid:
            assert option.greeks_source == "local"
            # The quotes sit on ticks around the model price; the IV error that leaves is small.
            assert option.iv == pytest.approx(option.provider_iv, abs=0.01), option.symbol
            assert option.greeks_diverged is False
        atm = next(o for o in chain.options if o.strike == 450.0 and o.is_call)
        off = GreeksData(symbol=atm.symbol, time=harness.clock.now(), iv=atm.iv + 0.05, source="x")
        harness.main.event_engine.put(Event(EVENT_GREEKS, off))
        harness.main.event_engine.process_pending(timers=False)
        assert atm.provider_iv == pytest.approx(atm.iv + 0.05)
        assert atm.greeks_diverged is True
        assert atm.greeks_source == "local"
    finally:
        harness.main.close()


def test_without_a_feed_portfolios_are_built_and_priced_at_the_implied_dividend_yield(tmp_path):
    """Quotes priced with q = 3 % give back the volatility they were priced with."""
    harness = Harness(tmp_path, feed="")
    try:
        expiry, spot, rate, vol, carry = date(2027, 6, 18), 100.0, 0.04, 0.25, 0.03
        events = harness.main.event_engine
        underlying = ContractData(symbol="XYZ", product=Product.EQUITY, exchange=Exchange.SMART)
        events.put(Event(EVENT_CONTRACT, underlying))
        strikes = [80.0, 90.0, 100.0, 110.0, 120.0]
        for strike in strikes:
            for right in OptionRight:
                contract = ContractData(
                    symbol=build_option_symbol("XYZ", expiry, right, strike),
                    product=Product.OPTION, exchange=Exchange.SMART, multiplier=100,
                    underlying_symbol="XYZ", root="XYZ", expiry=expiry, strike=strike,
                    right=right,
                )  # fmt: skip
                events.put(Event(EVENT_CONTRACT, contract))
        events.process_pending(timers=False)
        chain = harness.engine.get_portfolio("XYZ").find_chain("XYZ", expiry)
        harness.engine.register_chains("test", [chain])
        now = harness.clock.now()
        years = chain.time_to_expiry(now)
        for option in chain.options:
            price = float(bsm.price(spot, option.strike, years, rate, carry, vol, option.is_call))
            quote = QuoteData(symbol=option.symbol, time=now, bid=price, ask=price, source="t")
            events.put(Event(EVENT_QUOTE, quote))
        events.put(
            Event(EVENT_QUOTE, QuoteData(symbol="XYZ", time=now, bid=spot, ask=spot, source="t"))
        )
        harness.tick()
        assert implied_dividend_yield(chain, spot, rate, years, now) == pytest.approx(carry)
        ivs = np.array([option.iv for option in chain.options])
        np.testing.assert_allclose(ivs, vol, atol=1e-7)
        call = next(o for o in chain.options if o.strike == 100.0 and o.is_call)
        expected = bsm.greeks(spot, 100.0, years, rate, carry, vol, True)
        assert call.delta == pytest.approx(float(expected.delta), abs=1e-6)
    finally:
        harness.main.close()


def test_implied_yield_is_zero_near_expiry_without_both_sides_or_when_implausible(harness):
    portfolio = harness.engine.get_portfolio("SPY")
    chain = portfolio.find_chain("SPY", date(2026, 12, 18))
    now = harness.clock.now()
    years = chain.time_to_expiry(now)
    assert implied_dividend_yield(chain, 450.0, 0.04, years, now) == 0.0  # nothing quoted
    harness.engine.register_chains("a", [chain])
    harness.tick()
    assert implied_dividend_yield(chain, 450.0, 0.04, years, now) == pytest.approx(0.0, abs=0.02)
    assert implied_dividend_yield(chain, 450.0, 0.04, 6.0 / 365.0, now) == 0.0
    assert implied_dividend_yield(chain, 300.0, 0.04, years, now) == 0.0  # a stale spot


def test_the_tradier_feed_through_the_plugin_hook_lists_quotes_and_prices_chains(tmp_path):
    clock = SimulatedClock(START, speed=20.0)
    with running_fake(clock=clock, limit_per_minute=600) as fake:
        tradier = TradierSettings(token=Secret(TOKEN), base_url=fake.url, underlyings=("SPY",),
                                  requests_per_minute=600, timeout_s=0.5)  # fmt: skip
        harness = Harness(tmp_path, clock=clock, tradier=tradier, feed="tradier")
        try:
            assert isinstance(harness.engine._feed, TradierDataFeed)
            events = harness.main.event_engine

            def wait_for(predicate) -> None:
                deadline = time.monotonic() + 10.0
                while not predicate():
                    assert time.monotonic() < deadline, "condition not met in time"
                    events.process_pending()
                    time.sleep(0.01)

            wait_for(lambda: harness.engine.get_portfolio("SPY") is not None
                     and len(harness.engine.get_portfolio("SPY").chains) == 3)  # fmt: skip
            chain = harness.engine.get_portfolio("SPY").find_chain("SPY", date(2026, 12, 11))
            assert [o.strike for o in chain.options if o.is_call] == [440.0, 450.0, 460.0]
            harness.engine.register_chains("wheel", [chain])
            atm = next(o for o in chain.options if o.strike == 450.0 and o.is_call)
            wait_for(lambda: atm.greeks_source == "local" and atm.iv is not None)
            assert (atm.bid, atm.ask) == (2.95, 3.05)
            assert harness.engine.get_portfolio("SPY").underlying_price == pytest.approx(450.0)
            assert 0.0 < atm.iv < 0.2
        finally:
            harness.main.close()
