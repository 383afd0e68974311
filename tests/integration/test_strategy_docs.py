"""The strategy guide's example runs as written on the simulated market and paper gateway."""

from __future__ import annotations

import re
import types
from pathlib import Path

from otrade.constants import Status
from otrade.strategy import StrategyState
from tests.integration.test_strategy_engine import StrategyHarness

DOCS = Path(__file__).parents[2] / "docs"


def guide_module() -> types.ModuleType:
    """The guide's python block that defines a strategy, executed as a module."""
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / "strategies.md").read_text(), re.DOTALL)
    (code,) = [block for block in blocks if "(OptionStrategyTemplate)" in block]
    module = types.ModuleType("docs_strategies")
    exec(compile(code, "strategies.md", "exec"), module.__dict__)
    return module


def test_the_guide_strategy_sells_the_spread_and_takes_profit(tmp_path):
    strategy_class = guide_module().ShortPutSpread
    harness = StrategyHarness(tmp_path, feed="simulated")
    try:
        harness.tick()
        strategy = harness.engine.add_strategy(strategy_class, "spy-puts", "SPY", {"volume": 2})
        assert harness.engine.init_strategy("spy-puts")
        assert harness.engine.start_strategy("spy-puts")
        for _ in range(4):  # quotes, local Greeks, then the chain update that trades
            harness.tick()
        assert strategy.state == StrategyState.RUNNING
        combo = strategy.holding.combos[strategy.combo_id]
        quantities = sorted(combo.quantities().values())
        assert quantities == [-2, 2]  # volume 2: two of each leg, the short put sold
        short_put = next(s for s, q in combo.quantities().items() if q < 0)
        long_put = next(s for s, q in combo.quantities().items() if q > 0)
        assert short_put > long_put  # same expiry and root: the short strike is higher
        assert strategy.credit > 0
        entry = strategy.get_order(strategy.combo_id)
        assert (entry.status, entry.price) == (Status.ALL_TRADED, -strategy.credit)
        record = harness.database().get_strategy("spy-puts")
        assert record.variables["combo_id"] == strategy.combo_id

        strategy.take_profit = -1.0  # any buy-back below twice the credit: close now
        for _ in range(int(strategy.timer_interval_s) + 1):
            harness.tick()
        assert not combo.is_open
        assert set(combo.quantities().values()) == {0}
    finally:
        harness.main.close()
