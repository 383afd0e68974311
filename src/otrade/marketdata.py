"""The MarketDataEngine: live portfolios built from listings and fed by the active datafeed.

* **Portfolios** are built from contract events as the DatabaseEngine loads the stored
  listings (and as gateways report new ones), so they exist before any strategy asks.
* **Active chains** are what strategies registered with :meth:`MarketDataEngine.register_chains`,
  reference-counted across strategies; the set drives what the datafeed fetches or streams.
  The underlyings of every active chain are always quoted.
* **Injection** happens here, on the event thread only: quote events update the options
  and underlyings; every timer event the engine recomputes local IVs and Greeks of the
  chains whose prices changed (one vectorized call per chain), marks quotes older than
  ``marketdata.stale_after_s`` as stale, and puts one ``EVENT_CHAIN_UPDATE`` per changed
  chain (and per changed underlying, with an empty chain key).
* **Greeks policy** (``marketdata.greeks_policy``): ``local`` (the default) computes IV and
  Greeks from live mids with the Black-Scholes-Merton model, at the dividend yield the
  chain's own put-call parity implies (:func:`implied_dividend_yield`); ``provider``
  stores the feed's own; ``both`` computes locally, keeps the provider's IV beside it and flags the
  option when the two differ by more than ``marketdata.divergence_iv``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from loguru import logger

from otrade.constants import Product
from otrade.datafeeds.base import ActiveChain, BaseDataFeed
from otrade.engine import BaseEngine
from otrade.errors import ConfigError, PluginError
from otrade.event import (
    EVENT_CHAIN_UPDATE,
    EVENT_CONTRACT,
    EVENT_GREEKS,
    EVENT_QUOTE,
    EVENT_TIMER,
    Event,
    EventEngine,
)
from otrade.objects import ChainUpdateData, ContractData, GreeksData, QuoteData
from otrade.portfolio import ChainData, OptionData, PortfolioData, load_exchange_calendar
from otrade.pricing import bsm

if TYPE_CHECKING:
    from otrade.engine import MainEngine

__all__ = ["MAX_IMPLIED_YIELD", "MIN_CARRY_YEARS", "MarketDataEngine", "implied_dividend_yield"]


class MarketDataEngine(BaseEngine):
    """Builds portfolios, tracks active chains, and injects live data into them."""

    engine_name = "marketdata"

    def __init__(self, main_engine: MainEngine, event_engine: EventEngine) -> None:
        super().__init__(main_engine, event_engine)
        self._settings = main_engine.settings.marketdata
        self._clock = main_engine.clock
        self._log = logger.bind(source="marketdata")
        self._portfolios: dict[str, PortfolioData] = {}
        self._options: dict[str, OptionData] = {}
        self._registrations: dict[str, set[ActiveChain]] = {}
        self._active: Counter[ActiveChain] = Counter()
        self._dirty_chains: set[ChainData] = set()
        self._quoted_chains: set[ChainData] = set()  # every chain that ever had a quote
        self._dirty_underlyings: set[str] = set()
        self._feed: BaseDataFeed | None = None

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Register the handlers and start the configured datafeed.

        Raises:
            ConfigError: ``marketdata.feed`` names no registered datafeed.
        """
        load_exchange_calendar()
        self.event_engine.register(EVENT_CONTRACT, self.process_contract_event)
        self.event_engine.register(EVENT_QUOTE, self.process_quote_event)
        self.event_engine.register(EVENT_GREEKS, self.process_greeks_event)
        self.event_engine.register(EVENT_TIMER, self.process_timer_event)
        if not self._settings.feed:
            self._log.info("no datafeed configured (marketdata.feed is empty)")
            return
        self._feed = self._build_feed(self._settings.feed)
        self._feed.start()
        self._log.info("datafeed {} started", self._settings.feed)

    def _build_feed(self, name: str) -> BaseDataFeed:
        try:
            feed_class = self.main_engine.plugins.get("datafeed", name)
        except PluginError as error:
            raise ConfigError(f"marketdata.feed: {error}") from None
        if not (isinstance(feed_class, type) and issubclass(feed_class, BaseDataFeed)):
            raise ConfigError(f"marketdata.feed: {name!r} is not a BaseDataFeed subclass")
        main = self.main_engine
        return feed_class(self.event_engine, main.clock, main.io_loop, main.settings)

    def close(self) -> None:
        """Stop the datafeed."""
        if self._feed is not None:
            self._feed.close()
            self._feed = None

    # -- reads ----------------------------------------------------------------------------

    @property
    def portfolios(self) -> dict[str, PortfolioData]:
        """Every portfolio by underlying symbol (live objects; read on the event thread)."""
        return self._portfolios

    def get_portfolio(self, underlying: str) -> PortfolioData | None:
        """The portfolio of one underlying, or None."""
        return self._portfolios.get(underlying)

    def get_option(self, symbol: str) -> OptionData | None:
        """One option by its canonical symbol, or None."""
        return self._options.get(symbol)

    @property
    def active_chains(self) -> frozenset[ActiveChain]:
        """The chains at least one strategy registered."""
        return frozenset(self._active)

    # -- registration ---------------------------------------------------------------------

    def register_chains(self, strategy: str, chains: Iterable[ChainData]) -> None:
        """Make ``chains`` active for ``strategy`` (registering one twice changes nothing)."""
        wanted = {_active(chain) for chain in chains}
        current = self._registrations.setdefault(strategy, set())
        new = wanted - current
        if not new:
            return
        current |= new
        self._active.update(new)
        self._publish_active()

    def unregister_chains(self, strategy: str, chains: Iterable[ChainData] | None = None) -> None:
        """Release ``chains`` (all of the strategy's when None).

        A chain stays active while another strategy still holds it.
        """
        current = self._registrations.get(strategy, set())
        released = set(current) if chains is None else current & {_active(c) for c in chains}
        if not released:
            return
        current -= released
        self._active.subtract(released)
        self._active = +self._active  # drop counts that reached zero
        if not current:
            self._registrations.pop(strategy, None)
        self._publish_active()

    def _publish_active(self) -> None:
        chains = frozenset(self._active)
        underlyings = frozenset(chain.underlying for chain in chains)
        if self._feed is not None:
            self._feed.set_active(underlyings, chains)

    # -- handlers (event thread) ----------------------------------------------------------

    def process_contract_event(self, event: Event) -> None:
        """Add a listing (or an underlying) to its portfolio."""
        contract: ContractData = event.data
        underlying = contract.underlying_symbol if contract.is_option else contract.symbol
        if contract.product is Product.COMBO or not underlying:
            return
        portfolio = self._portfolios.get(underlying)
        if portfolio is None:
            portfolio = self._portfolios[underlying] = PortfolioData(underlying)
        try:
            item = portfolio.add_contract(contract)
        except ValueError as error:
            self._log.error("contract {} not added: {}", contract.symbol, error)
            return
        if isinstance(item, OptionData):
            self._options[item.symbol] = item

    def process_quote_event(self, event: Event) -> None:
        """Store a quote on its option or underlying and mark what changed."""
        quote: QuoteData = event.data
        option = self._options.get(quote.symbol)
        if option is not None:
            option.update_quote(quote.bid, quote.ask, quote.last, quote.time)
            self._dirty_chains.add(option.chain)
            self._quoted_chains.add(option.chain)
            return
        portfolio = self._portfolios.get(quote.symbol)
        if portfolio is None:
            return
        portfolio.underlying.update_quote(quote.bid, quote.ask, quote.last, quote.time)
        self._dirty_underlyings.add(quote.symbol)
        # Every Greek of the portfolio's active chains depends on the underlying price.
        for chain in self._active:
            if chain.underlying == quote.symbol:
                found = portfolio.find_chain(chain.root, chain.expiry)
                if found is not None:
                    self._dirty_chains.add(found)

    def process_greeks_event(self, event: Event) -> None:
        """Store a provider's Greeks as the policy says."""
        greeks: GreeksData = event.data
        option = self._options.get(greeks.symbol)
        policy = self._settings.greeks_policy
        if option is None or policy == "local":
            return
        if policy == "provider":
            option.update_greeks(greeks.iv, greeks.delta, greeks.gamma, greeks.theta,
                                 greeks.vega, source="provider", time=greeks.time)  # fmt: skip
            self._dirty_chains.add(option.chain)
            return
        option.provider_iv = greeks.iv
        self._flag_divergence(option)

    def _flag_divergence(self, option: OptionData) -> None:
        if option.iv is None or option.provider_iv is None:
            option.greeks_diverged = False
            return
        option.greeks_diverged = abs(option.iv - option.provider_iv) > self._settings.divergence_iv

    def process_timer_event(self, event: Event) -> None:
        """Recompute local Greeks of changed chains, mark staleness, announce updates."""
        now: datetime = event.data
        chains, self._dirty_chains = self._dirty_chains, set()
        underlyings, self._dirty_underlyings = self._dirty_underlyings, set()
        if self._settings.greeks_policy != "provider":
            for chain in chains:
                self._compute_local_greeks(chain, now)
        self._mark_stale(now)
        put = self.event_engine.put
        for symbol in sorted(underlyings):
            put(Event(EVENT_CHAIN_UPDATE, ChainUpdateData(underlying=symbol, time=now)))
        for chain in sorted(chains, key=lambda c: c.key):
            update = ChainUpdateData(
                underlying=chain.underlying_symbol, chain_key=chain.key, time=now
            )
            put(Event(EVENT_CHAIN_UPDATE, update))

    def _compute_local_greeks(self, chain: ChainData, now: datetime) -> None:
        portfolio = self._portfolios.get(chain.underlying_symbol)
        spot = portfolio.underlying_price if portfolio is not None else None
        years = chain.time_to_expiry(now)
        if spot is None or not math.isfinite(spot) or spot <= 0 or not chain.options:
            return
        quotes = chain.quote_arrays()
        rate = self._settings.rate
        carry = implied_dividend_yield(chain, spot, rate, years, now)
        # An expired chain (years == 0) gets NaN with a reason from the vector path.
        solved = bsm.implied_volatility(quotes.mids, spot, quotes.strikes, years, rate, carry,
                                        quotes.is_call)  # fmt: skip
        greeks = bsm.greeks(spot, quotes.strikes, years, rate, carry, solved.volatility,
                            quotes.is_call)  # fmt: skip
        chain.apply_greeks(solved.volatility, greeks.delta, greeks.gamma, greeks.theta,
                           greeks.vega, source="local", time=now)  # fmt: skip
        if self._settings.greeks_policy == "both":
            for option in chain.options:
                self._flag_divergence(option)

    def _mark_stale(self, now: datetime) -> None:
        """Re-mark every quoted underlying and every chain that ever had a quote.

        A quote clears ``stale`` when it arrives, so everything quoted must be re-marked
        here, active or not: a chain released by its strategies keeps its last quotes, and
        they must turn stale as they age.
        """
        max_age = self._settings.stale_after_s
        for portfolio in self._portfolios.values():
            if portfolio.underlying.quote_time is not None:
                portfolio.underlying.mark_stale(now, max_age)
        for chain in self._quoted_chains:
            for option in chain.options:
                option.mark_stale(now, max_age)


# Below this many years the parity forward says little about carry (a 0.01 error in the
# forward moves the implied yield by ~1/T percent), and carry barely moves prices.
MIN_CARRY_YEARS = 7.0 / 365.0
# An implied yield outside +-MAX_IMPLIED_YIELD means crossed or stale quotes, not carry.
MAX_IMPLIED_YIELD = 0.25


def implied_dividend_yield(
    chain: ChainData, spot: float, rate: float, years: float, now: datetime
) -> float:
    """The continuous dividend (and borrow) yield the chain's own quotes imply.

    From the put-call parity forward ``F`` (:meth:`ChainData.parity_forward`):
    ``q = r - ln(F / S) / T``.  It is 0 when the chain has no strike quoted on both sides,
    expires within :data:`MIN_CARRY_YEARS`, or implies a yield beyond
    :data:`MAX_IMPLIED_YIELD` either way.  For American options this reads the forward off
    the strike where calls and puts are closest in price, where early exercise is worth
    least.
    """
    if years < MIN_CARRY_YEARS:
        return 0.0
    forward = chain.parity_forward(rate, now)
    if forward is None or not forward > 0:
        return 0.0
    carry = rate - math.log(forward / spot) / years
    return carry if abs(carry) <= MAX_IMPLIED_YIELD else 0.0


def _active(chain: ChainData) -> ActiveChain:
    return ActiveChain(chain.underlying_symbol, chain.root, chain.expiry)
