"""The simulated datafeed: a deterministic option market with no account and no network.

:class:`SimulatedMarket` is the model, pure and deterministic for a seed and a sequence of
clock times:

* each underlying follows a geometric Brownian motion with the configured volatility;
* listings: a 0DTE expiry on trading days, the next four Friday weeklies and the next
  three monthly expiries (third Fridays), strikes within +-20 % of the starting price at
  a round step (1 below 200, else 5);
* an implied-volatility surface with skew and term structure:
  ``iv = atm(T) * (1 - 0.9 m + 1.5 m^2)``, floored at 5 %, where ``m = ln(K/S)`` over
  the square root of the years to expiry (capped at +-1) and ``atm(T)`` slopes from the
  configured volatility (short end) up 3 points over a year;
* option bids and asks: the Black-Scholes-Merton price (q = 0, r = ``marketdata.rate``)
  with a spread of 2 % of the price (at least one tick each side), on 0.01 ticks below 3
  and 0.05 above.

:class:`SimulatedDataFeed` runs the model on the MainEngine's clock (a SimulatedClock at any
speed, or live time): it puts every listing as a contract event once, then on the timer
events, every ``simulated.interval_s``, it moves the market and puts quotes of the
underlyings and of every option in the active chains, and the model's own Greeks as
provider Greeks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import numpy as np

from otrade.clock import Clock
from otrade.constants import Exchange, ExpiryType, OptionRight, Product
from otrade.datafeeds.base import ActiveChain, BaseDataFeed
from otrade.event import EVENT_TIMER, Event, EventEngine
from otrade.ioloop import IoLoop
from otrade.objects import ContractData, GreeksData, QuoteData
from otrade.portfolio import is_trading_day
from otrade.pricing import bsm
from otrade.settings import Settings
from otrade.symbols import build_option_symbol

__all__ = ["SimulatedDataFeed", "SimulatedMarket"]

NEW_YORK: Final = ZoneInfo("America/New_York")
SOURCE: Final = "simulated"
_YEAR_S: Final = 365.0 * 24 * 3600


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _session_on_or_before(day: date) -> date:
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def expiries_from(today: date) -> list[tuple[date, ExpiryType]]:
    """0DTE (trading days), the next four Friday weeklies and the next three monthlies.

    An expiry Friday that is an exchange holiday moves to the session before it (as
    listed options do: Good Friday, Christmas).
    """
    found: dict[date, ExpiryType] = {}
    if is_trading_day(today):
        found[today] = ExpiryType.WEEKLY
    year, month = today.year, today.month
    monthlies = 0
    while monthlies < 3:
        monthly = _session_on_or_before(_third_friday(year, month))
        if monthly >= today:
            found[monthly] = ExpiryType.MONTHLY
            monthlies += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    friday = today + timedelta(days=(4 - today.weekday()) % 7)
    for week in range(4):
        weekly = _session_on_or_before(friday + timedelta(weeks=week))
        if weekly >= today:
            found.setdefault(weekly, ExpiryType.WEEKLY)
    return sorted(found.items())


def _round_to(value: float, tick: float, up: bool) -> float:
    steps = value / tick
    rounded = math.ceil(steps - 1e-9) if up else math.floor(steps + 1e-9)
    return round(rounded * tick, 2)


class SimulatedMarket:
    """A deterministic market of underlyings and their options.

    Args:
        underlyings: The underlying symbols.
        start: The first clock time.
        seed: Random seed.
        start_price: Every underlying's starting price.
        volatility: Path volatility and short-dated ATM implied volatility.
        rate: Risk-free rate for option prices.
    """

    def __init__(
        self,
        underlyings: Sequence[str],
        start: datetime,
        *,
        seed: int = 7,
        start_price: float = 450.0,
        volatility: float = 0.18,
        rate: float = 0.04,
    ) -> None:
        self.underlyings = tuple(underlyings)
        self.time = start
        self.volatility = volatility
        self.rate = rate
        self.prices = dict.fromkeys(self.underlyings, start_price)
        self._random = np.random.default_rng(seed)
        self._listings = self._make_listings(start_price, start.astimezone(NEW_YORK).date())

    @property
    def listings(self) -> list[ContractData]:
        """Every underlying and option contract."""
        return list(self._listings)

    def _make_listings(self, price: float, today: date) -> list[ContractData]:
        step = 1.0 if price < 200 else 5.0
        low, high = math.ceil(price * 0.8 / step), math.floor(price * 1.2 / step)
        strikes = [number * step for number in range(low, high + 1)]
        contracts: list[ContractData] = []
        for symbol in self.underlyings:
            contracts.append(ContractData(symbol=symbol, product=Product.ETF,
                                          exchange=Exchange.LOCAL, name=f"{symbol} (simulated)",
                                          gateway_name=SOURCE))  # fmt: skip
            for expiry, kind in expiries_from(today):
                for strike in strikes:
                    for right in OptionRight:
                        contracts.append(ContractData(
                            symbol=build_option_symbol(symbol, expiry, right, strike),
                            product=Product.OPTION, exchange=Exchange.LOCAL,
                            gateway_name=SOURCE, multiplier=100, underlying_symbol=symbol,
                            root=symbol, expiry=expiry, last_trade_date=expiry, strike=strike,
                            right=right, expiry_type=kind,
                        ))  # fmt: skip
        return contracts

    def advance(self, now: datetime) -> None:
        """Move every underlying along its path to ``now`` (earlier times change nothing)."""
        elapsed = (now - self.time).total_seconds()
        if elapsed <= 0:
            return
        years = elapsed / _YEAR_S
        shocks = self._random.standard_normal(len(self.underlyings))
        drift = -0.5 * self.volatility**2 * years
        for symbol, shock in zip(self.underlyings, shocks, strict=True):
            self.prices[symbol] *= math.exp(drift + self.volatility * math.sqrt(years) * shock)
        self.time = now

    def underlying_quote(self, symbol: str) -> QuoteData:
        """The underlying's quote: one cent either side of its price."""
        price = self.prices[symbol]
        return QuoteData(symbol=symbol, time=self.time, bid=round(price - 0.01, 2),
                         ask=round(price + 0.01, 2), last=round(price, 2), bid_size=10,
                         ask_size=10, source=SOURCE)  # fmt: skip

    def implied_volatility(self, spot: float, strike: np.ndarray, years: np.ndarray) -> np.ndarray:
        """The surface's IV at each strike and time to expiry."""
        safe_years = np.maximum(years, 1.0 / 365 / 24)
        moneyness = np.clip(np.log(strike / spot) / np.sqrt(safe_years), -1.0, 1.0)
        atm = self.volatility + 0.03 * np.minimum(safe_years, 1.0)
        smile: np.ndarray = atm * (1 - 0.9 * moneyness + 1.5 * moneyness**2)
        floored: np.ndarray = np.maximum(smile, 0.05)
        return floored

    def option_quotes(
        self, options: Sequence[ContractData], expiry_times: Sequence[datetime]
    ) -> tuple[list[QuoteData], list[GreeksData]]:
        """Quotes and model Greeks of ``options`` (all of one underlying) at the market time."""
        if not options:
            return [], []
        spot = self.prices[options[0].underlying_symbol]
        strikes = np.array([option.strike for option in options], dtype=np.float64)
        is_call = np.array([option.right is OptionRight.CALL for option in options])
        years = np.array(
            [max((t - self.time).total_seconds(), 0.0) / _YEAR_S for t in expiry_times]
        )
        volatility = self.implied_volatility(spot, strikes, years)
        live = years > 0
        prices = np.where(live, bsm.price(spot, strikes, np.where(live, years, 1.0), self.rate, 0.0,
                                          volatility, is_call), np.nan)  # fmt: skip
        intrinsic = np.where(is_call, np.maximum(spot - strikes, 0), np.maximum(strikes - spot, 0))
        prices = np.where(live, prices, intrinsic)
        greeks = bsm.greeks(spot, strikes, np.where(live, years, 1.0), self.rate, 0.0, volatility,
                            is_call)  # fmt: skip
        quotes, provided = [], []
        for index, option in enumerate(options):
            price = float(prices[index])
            tick = 0.01 if price < 3 else 0.05
            half = max(price * 0.01, tick)
            bid = max(_round_to(price - half, tick, up=False), 0.0)
            ask = _round_to(price + half, tick, up=True)
            quotes.append(QuoteData(symbol=option.symbol, time=self.time, bid=bid or None,
                                    ask=ask, bid_size=20, ask_size=20, source=SOURCE))  # fmt: skip
            if live[index]:
                provided.append(GreeksData(
                    symbol=option.symbol, time=self.time, iv=float(volatility[index]),
                    delta=float(greeks.delta[index]), gamma=float(greeks.gamma[index]),
                    theta=float(greeks.theta[index]), vega=float(greeks.vega[index]),
                    rho=float(greeks.rho[index]), source=SOURCE,
                ))  # fmt: skip
        return quotes, provided


def _expiry_moment(option: ContractData) -> datetime:
    expiry = option.expiry or date.min  # options always carry one; this narrows the type
    return datetime.combine(expiry, datetime.min.time(), NEW_YORK).replace(hour=16)


class SimulatedDataFeed(BaseDataFeed):
    """Runs a :class:`SimulatedMarket` on the clock (see the module docstring).

    It has no network, so it needs no IO loop: it moves the market on timer events, on the
    event thread, which makes a run with a SimulatedClock and a synchronous EventEngine
    exactly repeatable.
    """

    name = "simulated"

    def __init__(
        self, event_engine: EventEngine, clock: Clock, io_loop: IoLoop, settings: Settings
    ) -> None:
        super().__init__(event_engine, clock, io_loop, settings)
        feed = settings.simulated
        self.market = SimulatedMarket(
            feed.underlyings,
            clock.now(),
            seed=feed.seed,
            start_price=feed.start_price,
            volatility=feed.volatility,
            rate=settings.marketdata.rate,
        )
        self._interval_s = feed.interval_s
        self._by_chain: dict[ActiveChain, list[ContractData]] = {}
        for contract in self.market.listings:
            if contract.is_option and contract.expiry is not None:
                key = ActiveChain(contract.underlying_symbol, contract.root, contract.expiry)
                self._by_chain.setdefault(key, []).append(contract)
        self._chains: frozenset[ActiveChain] = frozenset()
        self._last_publish: datetime | None = None
        self._started = False

    def start(self) -> None:
        """Put every listing, then publish on timer events."""
        if self._started:
            return
        self._started = True
        for contract in self.market.listings:
            self.on_contract(contract)
        self.event_engine.register(EVENT_TIMER, self.process_timer_event)

    def close(self) -> None:
        """Stop publishing."""
        self.event_engine.unregister(EVENT_TIMER, self.process_timer_event)

    def set_active(self, underlyings: frozenset[str], chains: frozenset[ActiveChain]) -> None:
        """Quote every underlying always; quote the options of ``chains``."""
        self._chains = chains

    def process_timer_event(self, event: Event) -> None:
        """Publish when ``simulated.interval_s`` has passed since the last update."""
        now: datetime = event.data
        last = self._last_publish
        if last is not None and (now - last).total_seconds() < self._interval_s:
            return
        self.publish(now)

    def publish(self, now: datetime) -> None:
        """Move the market to ``now`` and put its quotes and Greeks (one update)."""
        self._last_publish = now
        self.market.advance(now)
        for symbol in self.market.underlyings:
            self.on_quote(self.market.underlying_quote(symbol))
        for chain in sorted(self._chains):
            options = self._by_chain.get(chain, [])
            quotes, greeks = self.market.option_quotes(
                options, [_expiry_moment(o) for o in options]
            )
            for quote in quotes:
                self.on_quote(quote)
            for record in greeks:
                self.on_greeks(record)
