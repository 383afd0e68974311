"""``otrade demo`` end to end: simulated market, paper fills, SQLite, restore on a second run."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rich.console import Console

from otrade.cli import main
from otrade.clock import SimulatedClock
from otrade.constants import OptionRight
from otrade.demo import STATE_FILE, DemoSummary, resume_time, run_demo
from otrade.engine import MainEngine
from otrade.event import EVENT_ORDER, EventEngine
from otrade.objects import OrderData
from otrade.plugins import PluginRegistry
from otrade.position import ComboState
from otrade.settings import LogSettings, MarketDataSettings, Settings
from otrade.strategy import OptionStrategyEngine
from otrade.symbols import parse_option_symbol

NAME = "ShortCondor"


def demo(data_dir: Path, duration_s: float, strategy: str = NAME) -> tuple[DemoSummary, str]:
    output = io.StringIO()
    summary = run_demo(duration_s=duration_s, speed=600.0, seed=7, strategy=strategy,
                       data_dir=data_dir, console=Console(file=output, width=120))  # fmt: skip
    return summary, output.getvalue()


def open_combo(summary: DemoSummary, name: str = NAME) -> ComboState:
    combo_id = summary.strategy(name).variables["combo_id"]
    combos = [c for c in summary.holdings_at_end[name].combos if c.combo_id == combo_id]
    assert len(combos) == 1
    assert combos[0].is_open
    return combos[0]


def condor_shape(combo: ComboState) -> list[tuple[str, int]]:
    """(right, signed quantity) of each leg, by strike: a short condor is +P -P -C +C."""
    legs = [(parse_option_symbol(leg.symbol), leg.quantity) for leg in combo.legs]
    ordered = sorted(legs, key=lambda item: item[0].strike)
    return [(parsed.right.value, quantity) for parsed, quantity in ordered]


def rows(database: Path, query: str, *parameters: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query, parameters).fetchall()


def test_a_second_run_restores_the_strategy_its_condor_and_the_clock(tmp_path):
    first, output = demo(tmp_path, duration_s=4.0)

    assert not first.restored
    assert not first.interrupted
    record = first.strategy(NAME)
    assert record.state == "running"
    assert record.variables["trades_done"] == 1
    assert record.variables["credit"] > 0  # a credit, per share
    combo = open_combo(first)
    put, call = OptionRight.PUT.value, OptionRight.CALL.value
    assert condor_shape(combo) == [(put, 1), (put, -1), (call, -1), (call, 1)]
    assert "otrade demo summary" in output
    assert "ShortCondor" in output

    database = first.database_file
    assert database == tmp_path / "otrade.db"
    stored_order = rows(database, "select status, traded, volume, average_price from orders "
                                  "where order_id = ?", combo.combo_id)  # fmt: skip
    assert stored_order == [("all_traded", 1, 1, pytest.approx(-record.variables["credit"]))]
    stored_legs = rows(database, "select symbol, direction, volume from trades "
                                 "where combo_id = ? order by symbol", combo.combo_id)  # fmt: skip
    expected = sorted((leg.symbol, "long" if leg.quantity > 0 else "short", 1)
                      for leg in combo.legs)  # fmt: skip
    assert stored_legs == expected
    assert rows(database, "select state from strategies where name = ?", NAME) == [("running",)]

    second, _ = demo(tmp_path, duration_s=2.5)

    assert second.restored
    again = second.strategy(NAME)
    assert (again.name, again.state) == (NAME, "running")
    assert again.variables["combo_id"] == record.variables["combo_id"]
    assert again.variables["credit"] == record.variables["credit"]
    assert second.holdings_at_start[NAME] == first.holdings_at_end[NAME]
    assert second.clock_start > first.clock_end
    state = json.loads((tmp_path / STATE_FILE).read_text(encoding="utf-8"))
    assert datetime.fromisoformat(state["clock"]) == second.clock_end
    assert state["runs"] == 2


def test_the_cli_runs_the_demo_and_exits_0(tmp_path, capsys):
    status = main(["demo", "--duration", "2", "--speed", "600", "--seed", "3",
                   "--data-dir", str(tmp_path)])  # fmt: skip

    assert status == 0
    assert "otrade demo summary" in capsys.readouterr().out
    assert (tmp_path / "otrade.db").is_file()
    assert (tmp_path / STATE_FILE).is_file()


def test_a_strategy_from_a_file_runs_by_path_and_class(tmp_path):
    source = tmp_path / "my_strategy.py"
    source.write_text(
        "from otrade.strategies import ShortCondor\n\n\n"
        "class WideCondor(ShortCondor):\n"
        "    wing_width = 20.0\n",
        encoding="utf-8",
    )

    summary, _ = demo(tmp_path / "data", duration_s=3.0, strategy=f"{source}:WideCondor")

    assert summary.strategy("WideCondor").state == "running"
    strikes = sorted(parse_option_symbol(leg.symbol).strike
                     for leg in open_combo(summary, "WideCondor").legs)  # fmt: skip
    assert strikes[1] - strikes[0] >= 20
    assert strikes[3] - strikes[2] >= 20


def test_an_unknown_strategy_exits_2_naming_the_option(tmp_path, capsys):
    status = main(["demo", "--duration", "1", "--strategy", "NoSuchStrategy",
                   "--data-dir", str(tmp_path)])  # fmt: skip

    assert status == 2
    error = capsys.readouterr().err
    assert "--strategy" in error
    assert "NoSuchStrategy" in error
    assert not (tmp_path / STATE_FILE).exists()


def test_the_clock_resumes_in_the_session_or_at_the_next_one():
    friday = date(2026, 12, 4)
    assert resume_time(None, friday) == datetime(2026, 12, 4, 14, 45, tzinfo=UTC)
    assert resume_time(None, date(2026, 12, 5)) == datetime(2026, 12, 7, 14, 45, tzinfo=UTC)
    inside = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    assert resume_time(inside, friday) == datetime(2026, 12, 4, 16, 0, 1, tzinfo=UTC)
    after_close = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    assert resume_time(after_close, friday) == datetime(2026, 12, 7, 14, 45, tzinfo=UTC)


def test_the_bundled_condor_stops_out_with_every_leg_flat_and_reopens_after_the_cooldown(
    tmp_path,
):
    # At the mids the condor is worth less than the far-side credit it was sold for, so a
    # 1 % stop fires as soon as its legs are marked.
    clock = SimulatedClock(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    settings = Settings(data_directory=tmp_path, log=LogSettings(console=False),
                        marketdata=MarketDataSettings(feed="simulated"))  # fmt: skip
    registry = PluginRegistry()
    registry.load(entry_points=False)
    events = EventEngine(clock=clock, threaded=False)
    engine = MainEngine(settings, clock=clock, event_engine=events, plugins=registry)
    seen: list[OrderData] = []
    events.register(EVENT_ORDER, lambda event: seen.append(event.data))
    try:
        engine.connect("paper", {})
        strategies = engine.get_engine("strategy")
        assert isinstance(strategies, OptionStrategyEngine)
        clock.advance(1)
        events.process_pending()
        setting = {"volume": 2, "stop_loss_pct": 1.0, "cooldown_s": 120.0}
        condor = strategies.add_strategy(NAME, "condor", "SPY", setting)
        strategies.init_strategy("condor")
        strategies.start_strategy("condor")
        first_ids: list[str] = []
        for _ in range(120):
            clock.advance(5)
            events.process_pending()
            if condor.combo_id and not first_ids:
                first_ids.append(condor.combo_id)
            if condor.get_variables()["trades_done"] == 2:
                break
        assert condor.state == "running"
        assert condor.get_variables()["trades_done"] == 2
        assert condor.get_variables()["last_exit"] == "stop loss"
        first = condor.holding.combos[first_ids[0]]
        assert not first.is_open
        assert set(first.quantities().values()) == {0}
        second = condor.holding.combos[condor.combo_id]
        assert sorted(second.quantities().values()) == [-2, -2, 2, 2]
        # Realized on the first condor: (credit - debit to close) x 100 x 2, per leg prices.
        orders = {order.order_id: order for order in seen if order.legs}
        opened = orders[first_ids[0]]
        [close] = [o for o in orders.values() if o.reference == f"close:{first_ids[0]}"]
        # Opened for a credit (a negative net), closed for a debit (a positive one).
        assert (opened.average_price or 0.0) < 0
        assert (close.average_price or 0.0) > 0
        expected = -((opened.average_price or 0.0) + (close.average_price or 0.0)) * 100 * 2
        assert first.realized == pytest.approx(expected)
        assert first.realized < 0
    finally:
        engine.close()
