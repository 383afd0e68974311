"""HedgeEngine with the real engines and the paper gateway: a short-call book kept delta-flat."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import attrs
import pytest

from otrade.clock import SimulatedClock
from otrade.constants import Direction, OptionRight, OrderType, Status
from otrade.database.engine import DatabaseEngine
from otrade.engine import MainEngine
from otrade.errors import EngineError
from otrade.event import (
    EVENT_CONTRACT,
    EVENT_GREEKS,
    EVENT_HEDGE,
    EVENT_ORDER,
    EVENT_QUOTE,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.hedge import HedgeConfig, HedgeDecision, HedgeEngine
from otrade.marketdata import MarketDataEngine
from otrade.objects import CancelRequest, GreeksData, OrderData, OrderRequest, QuoteData, TradeData
from otrade.plugins import PluginRegistry
from otrade.position import PositionEngine
from otrade.risk import RiskEngine
from otrade.settings import DatabaseSettings, LogSettings, MarketDataSettings, Secret, Settings
from otrade.symbols import build_option_symbol
from tests.fakes.chains import option, underlying

START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday, 10:00 in New York
EXPIRY = date(2026, 12, 18)
CALL_450 = build_option_symbol("SPY", EXPIRY, OptionRight.CALL, 450)
STRATEGY = "short-calls"

EngineT = TypeVar("EngineT")


class PaperHedgeSender:
    """A strategy's hedge path: the risk check, then the paper gateway (what a strategy does)."""

    def __init__(self, main: MainEngine, strategy: str) -> None:
        self.main = main
        self.strategy = strategy
        self.sent: list[OrderRequest] = []
        self.cancelled: list[str] = []

    def send_hedge(
        self, direction: Direction, volume: int, price: float | None, order_type: OrderType
    ) -> str | None:
        request = OrderRequest(
            symbol="SPY", direction=direction, order_type=order_type, volume=volume,
            price=price, strategy=self.strategy, reference="hedge",
        )  # fmt: skip
        risk = self.main.get_engine("risk")
        assert isinstance(risk, RiskEngine)
        if risk.check_and_report(request) is not None:
            return None
        self.sent.append(request)
        return self.main.send_order(request, "paper")

    def cancel_hedge(self, order_id: str) -> None:
        self.cancelled.append(order_id)
        self.main.cancel_order(CancelRequest(order_id=order_id))


class BrokenSender(PaperHedgeSender):
    """A sender whose order path is down."""

    def send_hedge(
        self, direction: Direction, volume: int, price: float | None, order_type: OrderType
    ) -> str | None:
        raise RuntimeError("order path is down")


class BrokerSender(PaperHedgeSender):
    """A sender standing in for a broker whose events the test puts itself."""

    def send_hedge(
        self, direction: Direction, volume: int, price: float | None, order_type: OrderType
    ) -> str | None:
        request = OrderRequest(
            symbol="SPY", direction=direction, order_type=order_type, volume=volume,
            price=price, strategy=self.strategy, reference="hedge",
        )  # fmt: skip
        self.sent.append(request)
        return f"H{len(self.sent)}"


class Harness:
    """A synchronous MainEngine: built-in engines, the HedgeEngine, the paper gateway.

    There is no datafeed: the test puts the SPY and call quotes and the provider's Greeks.
    """

    def __init__(self, tmp_path, **paper: object) -> None:
        self.clock = SimulatedClock(START)
        settings = Settings(
            data_directory=tmp_path,
            log=LogSettings(console=False),
            database=DatabaseSettings(url=Secret(f"sqlite:///{tmp_path / 'otrade.db'}")),
            marketdata=MarketDataSettings(feed="", greeks_policy="provider"),
        )
        registry = PluginRegistry()
        registry.load(entry_points=False)
        self.events = EventEngine(clock=self.clock, threaded=False)
        self.main = MainEngine(settings, clock=self.clock, event_engine=self.events,
                               plugins=registry)  # fmt: skip
        # Built in after the PositionEngine; added here when the registry does not ship it.
        if HedgeEngine.engine_name in self.main.engine_names:
            self.hedge = self._engine(HedgeEngine.engine_name, HedgeEngine)
        else:
            self.hedge = self.main.add_engine(HedgeEngine)
        self.position = self._engine("position", PositionEngine)
        self.marketdata = self._engine("marketdata", MarketDataEngine)
        self.database = self._engine("database", DatabaseEngine)
        self.decisions: list[HedgeDecision] = []
        self.orders: dict[str, OrderData] = {}
        self.events.register(EVENT_HEDGE, lambda event: self.decisions.append(event.data))
        self.events.register(EVENT_ORDER, self._order)
        self.put(EVENT_CONTRACT, underlying("SPY", gateway_name=""))
        self.put(EVENT_CONTRACT, option("SPY", "SPY", EXPIRY, OptionRight.CALL, 450.0,
                                        gateway_name=""))  # fmt: skip
        self.main.connect("paper", paper)
        self.pump()
        portfolio = self.marketdata.get_portfolio("SPY")
        assert portfolio is not None
        chain = portfolio.find_chain("SPY", EXPIRY)
        assert chain is not None
        # An active chain: the MarketDataEngine keeps its quotes' stale flags, which the
        # RiskEngine reads for market orders.
        self.marketdata.register_chains(STRATEGY, [chain])
        self.spy = (449.99, 450.01)
        self.pump()

    def _engine(self, name: str, kind: type[EngineT]) -> EngineT:
        engine = self.main.get_engine(name)
        assert isinstance(engine, kind)
        return engine

    def _order(self, event: Event) -> None:
        self.orders[event.data.order_id] = event.data

    def put(self, kind: str, data: object) -> None:
        self.events.put(Event(kind, data))

    def pump(self) -> None:
        self.events.process_pending()
        self.database.flush()

    def quote(self, spy: tuple[float, float] | None = None) -> None:
        """Fresh quotes of SPY (the last bid/ask unless given) and of the call."""
        self.spy = spy or self.spy
        now = self.clock.now()
        self.put(EVENT_QUOTE, QuoteData(symbol="SPY", time=now, bid=self.spy[0], ask=self.spy[1]))
        self.put(EVENT_QUOTE, QuoteData(symbol=CALL_450, time=now, bid=5.40, ask=5.60))

    def greeks(self, delta: float | None) -> None:
        """The provider's Greeks of the call."""
        self.put(EVENT_GREEKS, GreeksData(
            symbol=CALL_450, time=self.clock.now(), iv=0.18, delta=delta, gamma=0.02,
            theta=-0.08, vega=0.25, source="test",
        ))  # fmt: skip

    def step(self, seconds: float = 5.0, *, quote: bool = True) -> list[HedgeDecision]:
        """Let ``seconds`` of clock time pass (timers run); the decisions they made."""
        seen = len(self.decisions)
        self.clock.advance(seconds)
        if quote:
            self.quote()
        self.pump()
        return self.decisions[seen:]

    def sell_calls(self, contracts: int, strategy: str = STRATEGY) -> None:
        """Open a short call position for ``strategy`` through the risk check and paper."""
        self.quote()
        self.step(1.0)  # a timer marks the fresh quotes live for the risk check
        request = OrderRequest(
            symbol=CALL_450, direction=Direction.SHORT, order_type=OrderType.MARKET,
            volume=contracts, strategy=strategy,
        )  # fmt: skip
        risk = self._engine("risk", RiskEngine)
        assert risk.check_and_report(request) is None
        order_id = self.main.send_order(request, "paper")
        self.pump()
        assert self.orders[order_id].status is Status.ALL_TRADED

    def shares(self, strategy: str = STRATEGY) -> int:
        return self.position.get_holding(strategy).underlying_quantity("SPY")

    def close(self) -> None:
        self.main.close()


@pytest.fixture
def harness(tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.close()


def test_a_short_call_book_is_hedged_by_buying_its_delta_then_left_alone(harness):
    harness.sell_calls(10)
    harness.greeks(0.55)
    sender = PaperHedgeSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(interval_s=5.0), sender)
    assert harness.step(4.0) == []  # not due before interval_s

    (decision,) = harness.step(1.0)
    assert (decision.action, decision.direction, decision.volume) == ("order", Direction.LONG, 550)
    assert decision.delta == pytest.approx(-550.0)  # the delta before the hedge
    assert (decision.strategy, decision.underlying, decision.band) == (STRATEGY, "SPY", 50.0)
    assert decision.time == harness.clock.now()
    assert decision.reason.startswith("delta -550.0 outside 0.0 +- 50.0: buying 550 shares of SPY")
    assert harness.orders[decision.order_id].status is Status.ALL_TRADED
    assert (sender.sent[0].reference, sender.sent[0].strategy) == ("hedge", STRATEGY)
    assert harness.shares() == 550

    (after,) = harness.step()
    assert after.action == "none"
    assert after.delta == pytest.approx(0.0, abs=1e-9)
    assert "inside 0.0 +- 50.0" in after.reason
    assert len(sender.sent) == 1


def test_a_rising_option_delta_is_hedged_by_the_difference_only(harness):
    harness.sell_calls(10)
    harness.greeks(0.55)
    sender = PaperHedgeSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(), sender)
    assert [d.volume for d in harness.step()] == [550]

    harness.greeks(0.70)
    (decision,) = harness.step()
    assert (decision.action, decision.direction, decision.volume) == ("order", Direction.LONG, 150)
    assert decision.delta == pytest.approx(-150.0)
    assert harness.shares() == 700
    assert [d.action for d in harness.step()] == ["none"]
    assert harness.shares() == 700


def test_an_unfilled_limit_hedge_is_cancelled_once_before_a_new_one_is_sent(tmp_path):
    # Paper fills only against quotes younger than 1 s; the hedge engine accepts 30 s.
    harness = Harness(tmp_path, max_quote_age_s=1.0)
    try:
        harness.sell_calls(10)
        harness.greeks(0.55)
        sender = PaperHedgeSender(harness.main, STRATEGY)
        config = HedgeConfig(order_type=OrderType.LIMIT, limit_offset_ticks=2)
        harness.hedge.register(STRATEGY, "SPY", config, sender)

        (first,) = harness.step(quote=False)  # paper's quote is too old: the limit rests
        assert (first.action, first.volume, first.price) == ("order", 550, 450.03)
        assert harness.orders[first.order_id].status is Status.NOT_TRADED
        harness.quote(spy=(450.20, 450.22))  # the market moved away: still no fill
        harness.pump()
        assert harness.hedge.pending_orders(STRATEGY) == [first.order_id]

        waits = [harness.hedge.check(STRATEGY), harness.hedge.check(STRATEGY)]
        assert [d.action for d in waits] == ["wait", "wait"]
        assert first.order_id in waits[0].reason
        assert waits[0].order_id == first.order_id
        assert sender.cancelled == [first.order_id]  # once, not once per check
        assert len(sender.sent) == 1
        harness.pump()
        assert harness.orders[first.order_id].status is Status.CANCELLED
        assert harness.hedge.pending_orders(STRATEGY) == []

        (second,) = harness.step()  # fresh quotes: the new limit fills
        assert (second.action, second.volume, second.price) == ("order", 550, 450.24)
        assert harness.orders[second.order_id].status is Status.ALL_TRADED
        assert harness.shares() == 550
        assert len(sender.sent) == 2
    finally:
        harness.close()


def test_no_hedge_while_the_options_greeks_are_missing(harness):
    harness.sell_calls(10)  # the provider never sent Greeks for the call
    sender = PaperHedgeSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(), sender)
    (decision,) = harness.step()
    assert decision.action == "none"
    assert "Greeks are missing for 1 open position" in decision.reason
    assert sender.sent == []


def test_no_hedge_on_a_stale_underlying_quote(harness):
    harness.sell_calls(10)
    harness.greeks(0.55)
    sender = PaperHedgeSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(interval_s=40.0), sender)
    (decision,) = harness.step(40.0, quote=False)
    assert decision.action == "none"
    assert "the quote for SPY is stale: 40 s old" in decision.reason
    assert sender.sent == []


def test_unregister_stops_the_checks(harness):
    harness.sell_calls(10)
    harness.greeks(0.55)
    sender = PaperHedgeSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(), sender)
    assert harness.hedge.registrations == {STRATEGY: HedgeConfig()}
    harness.hedge.unregister(STRATEGY)
    harness.hedge.unregister(STRATEGY)  # harmless twice
    assert not harness.hedge.is_registered(STRATEGY)
    assert harness.step(30.0) == []
    assert sender.sent == []
    assert harness.shares() == 0


def test_a_failing_sender_is_reported_and_the_other_strategies_are_still_hedged(harness):
    harness.sell_calls(10)
    harness.sell_calls(4, strategy="broken")
    harness.greeks(0.55)
    harness.hedge.register("broken", "SPY", HedgeConfig(), BrokenSender(harness.main, "broken"))
    sender = PaperHedgeSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(), sender)
    decisions = {d.strategy: d for d in harness.step()}
    assert decisions["broken"].action == "none"
    assert "buying 220 shares of SPY, but sending it failed: RuntimeError" in (
        decisions["broken"].reason
    )
    assert (decisions[STRATEGY].action, decisions[STRATEGY].volume) == ("order", 550)
    assert harness.shares() == 550
    assert harness.hedge.is_registered("broken")


def test_a_fill_reported_after_the_final_status_is_waited_for_before_hedging_again(harness):
    harness.sell_calls(10)
    harness.greeks(0.55)
    sender = BrokerSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(), sender)
    (sent,) = harness.step()
    assert (sent.action, sent.order_id) == ("order", "H1")
    now = harness.clock.now()
    harness.put(EVENT_ORDER, OrderData(
        order_id="H1", gateway_name="broker", symbol="SPY", direction=Direction.LONG,
        order_type=OrderType.MARKET, volume=550, traded=550, average_price=450.01,
        status=Status.ALL_TRADED, strategy=STRATEGY, reference="hedge", time=now,
    ))  # fmt: skip
    (waiting,) = harness.step()  # done at the broker, but the execution is not here yet
    assert waiting.action == "wait"
    assert "H1 (0 of 550)" in waiting.reason
    harness.put(EVENT_TRADE, TradeData(
        trade_id="X1", order_id="H1", gateway_name="broker", symbol="SPY",
        direction=Direction.LONG, price=450.01, volume=550, time=now, strategy=STRATEGY,
    ))  # fmt: skip
    (settled,) = harness.step()
    assert settled.action == "none"
    assert settled.delta == pytest.approx(0.0, abs=1e-9)
    assert len(sender.sent) == 1


def test_checking_an_unregistered_strategy_is_an_error(harness):
    with pytest.raises(EngineError, match="'nobody' is not registered"):
        harness.hedge.check("nobody")


def test_checks_run_every_interval_s_of_clock_time_not_every_timer(harness):
    sender = PaperHedgeSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(interval_s=2.0), sender)
    counts = [len(harness.step(1.0)) for _ in range(6)]
    assert counts == [0, 1, 0, 1, 0, 1]
    flat = harness.decisions[-1]
    assert (flat.action, flat.delta, flat.gamma) == ("none", 0.0, 0.0)
    assert harness.clock.now() - START == timedelta(seconds=6)


def left_hedge(harness: Harness, status: Status, traded: int = 0) -> OrderData:
    """A buy of 550 SPY tagged ``hedge`` an earlier session left working, as reported now."""
    return OrderData(
        order_id="H-before", gateway_name="paper", symbol="SPY", direction=Direction.LONG,
        order_type=OrderType.LIMIT, volume=550, price=449.00, strategy=STRATEGY,
        reference="hedge", status=status, traded=traded, time=harness.clock.now(),
    )  # fmt: skip


def left_hedge_fill(harness: Harness, volume: int) -> TradeData:
    """An execution of :func:`left_hedge`."""
    return TradeData(
        trade_id="H-before-1", order_id="H-before", gateway_name="paper", symbol="SPY",
        direction=Direction.LONG, price=449.00, volume=volume, time=harness.clock.now(),
        strategy=STRATEGY,
    )  # fmt: skip


def test_a_hedge_left_working_by_an_earlier_session_is_cancelled_before_a_new_one(harness):
    # After a restart the broker reports the strategy's working hedge at connect, before
    # the strategy registers its hedging again: hedging on top of it would double it.
    harness.sell_calls(10)
    harness.greeks(0.55)
    left = left_hedge(harness, Status.NOT_TRADED)
    harness.put(EVENT_ORDER, left)
    harness.pump()
    sender = BrokerSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(), sender)
    assert harness.hedge.pending_orders(STRATEGY) == ["H-before"]

    (first,) = harness.step()
    assert (first.action, first.order_id) == ("wait", "H-before")
    assert sender.cancelled == ["H-before"]
    assert sender.sent == []
    # The broker fills 200 before the cancel lands.
    harness.put(EVENT_TRADE, left_hedge_fill(harness, 200))
    harness.put(EVENT_ORDER, attrs.evolve(left, status=Status.CANCELLED, traded=200))
    harness.pump()
    assert harness.hedge.pending_orders(STRATEGY) == []
    (second,) = harness.step()
    assert (second.action, second.direction, second.volume) == ("order", Direction.LONG, 350)


def test_a_hedge_partly_filled_before_a_restart_settles_once_it_ends(harness):
    harness.sell_calls(10)
    harness.greeks(0.55)
    # As IB reconciles: the replayed execution first, then the order with its fill.
    harness.put(EVENT_TRADE, left_hedge_fill(harness, 200))
    left = left_hedge(harness, Status.PART_TRADED, traded=200)
    harness.put(EVENT_ORDER, left)
    harness.pump()
    assert harness.shares() == 200
    sender = BrokerSender(harness.main, STRATEGY)
    harness.hedge.register(STRATEGY, "SPY", HedgeConfig(), sender)
    (first,) = harness.step()
    assert (first.action, sender.cancelled) == ("wait", ["H-before"])
    harness.put(EVENT_ORDER, attrs.evolve(left, status=Status.CANCELLED))
    harness.pump()
    assert harness.hedge.pending_orders(STRATEGY) == []
    (second,) = harness.step()
    assert (second.action, second.direction, second.volume) == ("order", Direction.LONG, 350)
