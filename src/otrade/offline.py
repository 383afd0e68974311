"""OfflineSession: run strategies on the simulated market, step by step, in one thread.

A session is a complete otrade (every built-in engine, SQLite in a data directory, the
simulated datafeed and the paper gateway) on a manual :class:`~otrade.clock.SimulatedClock`
and a synchronous :class:`~otrade.event.EventEngine`: nothing happens between calls, and
the same seed and steps give the same fills.  It is how the examples run as scripts and how
a strategy is tried before it trades::

    from otrade.offline import OfflineSession

    with OfflineSession() as session:
        strategy = session.start(MyStrategy, "mine", "SPY", {"volume": 2})
        session.run(30 * 60)  # half an hour, one clock second per step
        print(strategy.summary)

For a live view on an accelerated clock use ``otrade demo`` instead (:mod:`otrade.demo`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import attrs

from otrade.clock import SimulatedClock
from otrade.engine import MainEngine
from otrade.errors import StrategyError
from otrade.event import EventEngine
from otrade.plugins import PluginRegistry
from otrade.settings import LogSettings, Settings
from otrade.strategy import OptionStrategyEngine, OptionStrategyTemplate

__all__ = ["DEFAULT_START", "OfflineSession"]

DEFAULT_START = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
"""Wednesday 2 December 2026, 10:00 in New York: a regular session, listings from then."""


class OfflineSession:
    """Every engine on the simulated market and the paper gateway, on a manual clock.

    Args:
        data_directory: Where SQLite and the logs go; a temporary directory, removed at
            :meth:`close`, when None.
        start: The simulated start time (timezone-aware).
        seed: The simulated market's seed.
        settings: Settings to start from (``data_directory``, ``marketdata.feed`` and the
            simulated seed are set by the session); console and file logging are off by
            default.
        paper: The paper gateway's connect settings (commissions, slippage...).
        entry_points: Load installed plugins (False: otrade's built-ins only).
    """

    def __init__(
        self,
        data_directory: Path | None = None,
        *,
        start: datetime = DEFAULT_START,
        seed: int = 7,
        settings: Settings | None = None,
        paper: Mapping[str, object] | None = None,
        entry_points: bool = True,
    ) -> None:
        self._temporary = tempfile.TemporaryDirectory() if data_directory is None else None
        directory = Path(self._temporary.name) if self._temporary else data_directory
        assert directory is not None
        base = settings or Settings(log=LogSettings(console=False, file=False))
        self.settings = attrs.evolve(
            base,
            data_directory=directory,
            marketdata=attrs.evolve(base.marketdata, feed="simulated"),
            simulated=attrs.evolve(base.simulated, seed=seed),
        )
        self.clock = SimulatedClock(start)
        self.events = EventEngine(clock=self.clock, threaded=False)
        registry = PluginRegistry(self.settings.plugins.disabled)
        registry.load(entry_points=entry_points)
        self.main = MainEngine(
            self.settings, clock=self.clock, event_engine=self.events, plugins=registry
        )
        engine = self.main.get_engine(OptionStrategyEngine.engine_name)
        if not isinstance(engine, OptionStrategyEngine):
            self.close()
            raise StrategyError("the 'strategy' engine is not an OptionStrategyEngine")
        self.strategy_engine = engine
        self.main.connect("paper", dict(paper or {}))
        self.events.process_pending()  # the listings, before any strategy looks for chains

    def start(
        self,
        strategy_class: type[OptionStrategyTemplate] | str,
        name: str,
        underlying: str,
        setting: Mapping[str, object] | None = None,
    ) -> OptionStrategyTemplate:
        """Add, initialise and start a strategy.

        Raises:
            StrategyError: It could not be added, or ``on_init`` or ``on_start`` raised
                (the message carries its error).
        """
        engine = self.strategy_engine
        strategy = engine.add_strategy(strategy_class, name, underlying, setting)
        if not (engine.init_strategy(name) and engine.start_strategy(name)):
            raise StrategyError(f"strategy {name!r} failed to start: {strategy.error}")
        self.events.process_pending()
        return strategy

    def run(self, seconds: int, step_s: float = 1.0) -> None:
        """Advance the clock ``seconds``, ``step_s`` at a time, handling every event."""
        steps = round(seconds / step_s)
        for _ in range(steps):
            self.clock.advance(step_s)
            self.events.process_pending()

    def close(self) -> None:
        """Close the MainEngine (strategies are stored) and remove a temporary directory."""
        try:
            if getattr(self, "main", None) is not None:
                self.main.close()
        finally:
            if self._temporary is not None:
                self._temporary.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
