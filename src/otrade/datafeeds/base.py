"""The datafeed contract: what a market-data source must do for the MarketDataEngine.

A datafeed delivers quotes (and, if it has them, provider Greeks and option listings) by
*putting events*; it never touches engine state.  The MarketDataEngine tells it what to
fetch or stream with :meth:`BaseDataFeed.set_active` whenever the set of active chains
changes; a feed always quotes the underlyings it is given.  Network work runs on the
MainEngine's IO loop; ``set_active`` is called on the event thread and must return at once.

Feeds are plugins: a package returns its feed classes from the ``otrade_datafeeds`` hook,
and ``marketdata.feed`` in the settings picks one by its ``name``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from typing import ClassVar

import attrs

from otrade.clock import Clock
from otrade.event import EVENT_CONTRACT, EVENT_GREEKS, EVENT_LOG, EVENT_QUOTE, Event, EventEngine
from otrade.ioloop import IoLoop
from otrade.objects import ContractData, GreeksData, LogData, QuoteData
from otrade.settings import Settings

__all__ = ["ActiveChain", "BaseDataFeed"]


@attrs.frozen(order=True)
class ActiveChain:
    """One chain a strategy wants live data for.

    Attributes:
        underlying: The underlying's symbol (``SPX`` for SPXW options).
        root: The option root (``SPXW``).
        expiry: The expiration date.
    """

    underlying: str
    root: str
    expiry: date


class BaseDataFeed(ABC):
    """Base class of every datafeed.

    Args:
        event_engine: Where the feed puts its events.
        clock: The clock to stamp and pace with.
        io_loop: The shared IO loop for network clients.
        settings: The whole settings; a feed reads its own section.
    """

    name: ClassVar[str] = ""
    """The name ``marketdata.feed`` selects the feed by."""

    def __init__(
        self, event_engine: EventEngine, clock: Clock, io_loop: IoLoop, settings: Settings
    ) -> None:
        self.event_engine = event_engine
        self.clock = clock
        self.io_loop = io_loop
        self.settings = settings

    @abstractmethod
    def start(self) -> None:
        """Begin delivering data (returns at once; the work runs on the IO loop)."""

    @abstractmethod
    def close(self) -> None:
        """Stop and release every resource; calling it twice is harmless."""

    @abstractmethod
    def set_active(self, underlyings: frozenset[str], chains: frozenset[ActiveChain]) -> None:
        """Replace what the feed fetches: quote ``underlyings`` and every option of ``chains``.

        Called on the event thread whenever the active set changes; returns at once.
        """

    def on_quote(self, quote: QuoteData) -> None:
        """Put a quote event."""
        self.event_engine.put(Event(EVENT_QUOTE, quote))

    def on_greeks(self, greeks: GreeksData) -> None:
        """Put a provider-Greeks event."""
        self.event_engine.put(Event(EVENT_GREEKS, greeks))

    def on_contract(self, contract: ContractData) -> None:
        """Put a contract event (feeds that list their own options)."""
        self.event_engine.put(Event(EVENT_CONTRACT, contract))

    def write_log(self, message: str, level: str = "INFO") -> None:
        """Put a log event with the feed as its source."""
        record = LogData(message=message, level=level, source=self.name, time=self.clock.now())
        self.event_engine.put(Event(EVENT_LOG, record))
