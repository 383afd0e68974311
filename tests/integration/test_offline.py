"""OfflineSession: the whole system on the simulated market, stepped by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from otrade.constants import Direction
from otrade.errors import StrategyError
from otrade.offline import OfflineSession
from otrade.strategy import OptionStrategyTemplate, StrategyState


class BuysShares(OptionStrategyTemplate):
    """Subscribes a chain (so the feed quotes the underlying), then buys once it is quoted."""

    parameters = ("shares",)
    shares = 10

    def on_start(self) -> None:
        self.bought = False
        chain = self.portfolio.nearest_chain(self.clock_now(), target_days=30)
        assert chain is not None
        self.subscribe_chains([chain])

    def on_timer(self) -> None:
        if not self.bought and self.underlying.mid is not None:
            self.bought = self.underlying_order(Direction.LONG, self.shares) is not None


class FailsToStart(OptionStrategyTemplate):
    def on_start(self) -> None:
        raise RuntimeError("no chain today")


def test_a_session_trades_and_removes_its_temporary_directory() -> None:
    with OfflineSession(entry_points=False) as session:
        directory = session.settings.data_directory
        strategy = session.start(BuysShares, "b", "SPY", {"shares": 30})
        session.run(5)
        assert strategy.state == StrategyState.RUNNING
        assert strategy.holding.underlying_quantity("SPY") == 30
        assert (directory / "otrade.db").exists()
    assert not Path(directory).exists()


def test_a_strategy_that_cannot_start_is_reported_with_its_error(tmp_path: Path) -> None:
    with OfflineSession(tmp_path, entry_points=False) as session:
        with pytest.raises(StrategyError, match="no chain today"):
            session.start(FailsToStart, "f", "SPY")
        assert session.strategy_engine.get_strategy("f").state == StrategyState.ERROR
    assert (tmp_path / "otrade.db").exists()  # a given directory is kept
