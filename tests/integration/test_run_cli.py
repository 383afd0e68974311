"""``otrade run CONFIG.toml``: paper or IB (the TWS fake), stopped by SIGINT or SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from otrade.cli import main

CONFIG = """\
data_directory = "{data}"

[log]
console = false

[marketdata]
feed = "simulated"

[run]
gateway = "paper"
cancel_open_orders_on_exit = true

[[strategy.instances]]
name = "condor"
class_name = "ShortCondor"
underlying = "SPY"
parameters = {{ volume = 2, order_type = "limit", limit_timeout_s = 3600.0 }}
"""


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "otrade.toml"
    path.write_text(CONFIG.format(data=tmp_path.as_posix()) + extra, encoding="utf-8")
    return path


def clean_environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("OTRADE_")}


def stored(database: Path, query: str, *parameters: object) -> list[tuple[object, ...]]:
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return connection.execute(query, parameters).fetchall()


def read_lines(stream, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


def start_run(config: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    """``otrade run CONFIG`` in a subprocess, and a queue of the lines it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "otrade", "run", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_environment(),
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
    return process, lines


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.timeout(30)
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_run_works_until_a_signal_then_cancels_its_open_order_and_stores_the_strategy(
    tmp_path, stop_signal
):
    # A limit at the net mid rests on the paper gateway (it fills only at the far side).
    config = write_config(tmp_path)
    database = tmp_path / "otrade.db"
    process, lines = start_run(config)
    seen: list[str] = []

    def printed(text: str) -> bool:
        while not lines.empty():
            seen.append(lines.get())
        return any(text in line for line in seen)

    resting = ("select volume, price, status from orders "
               "where strategy = 'condor' and reference = 'open condor'")  # fmt: skip
    try:
        assert wait_for(lambda: printed("running; Ctrl-C"), 10), seen
        assert "strategy condor: ShortCondor on SPY, running" in seen
        # The entry goes out once the chain has quotes and Greeks (a few live seconds).
        assert wait_for(lambda: bool(stored(database, resting)), 10)
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    printed("stopped")
    assert seen[-2:] == ["stopping: 1 open orders cancelled", "stopped"], seen
    assert "Traceback" not in (process.stderr.read() if process.stderr else "")
    [(volume, price, status)] = stored(database, resting)
    assert (volume, status) == (2, "cancelled")
    assert price < 0  # the net of a credit, per share
    [(state, variables)] = stored(database, "select state, variables from strategies "
                                            "where name = 'condor'")  # fmt: skip
    assert state == "running"  # so the next start restores and starts it
    values = json.loads(variables)
    assert (values["combo_id"], values["trades_done"]) == ("", 0)
    assert stored(database, "select count(*) from trades") == [(0,)]


def test_an_unknown_key_exits_2_naming_it(tmp_path, capsys):
    config = write_config(tmp_path, "\n[risk]\nmax_combo_volum = 3\n")

    assert main(["run", str(config)]) == 2
    error = capsys.readouterr().err
    assert "risk.max_combo_volum" in error
    assert "max_combo_volume" in error


def test_a_connect_setting_the_gateway_does_not_take_exits_2_naming_it(tmp_path, capsys):
    config = write_config(tmp_path, "\n[run.connect]\nstarting_cahs = 5000\n")

    assert main(["run", str(config)]) == 2
    error = capsys.readouterr().err
    assert "run.connect" in error
    assert "starting_cahs" in error


def test_a_strategy_class_that_does_not_load_exits_2_naming_the_key(tmp_path, capsys):
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace('"ShortCondor"', '"NoSuchCondor"'))

    assert main(["run", str(config)]) == 2
    error = capsys.readouterr().err
    assert "strategy.instances[0].class_name" in error
    assert "NoSuchCondor" in error


# -- live: IB (the TWS fake) with Tradier market data (the Tradier fake) --------------------

PROBE = '''\
from otrade import Direction, OptionRight, OptionStrategyTemplate, OrderType


class Probe(OptionStrategyTemplate):
    """Bids for 2 of the 450 call of the chain nearest 7 days at its mid, once quoted."""

    variables = ("order_id",)
    order_id = ""
    timer_interval_s = 0.5

    def on_timer(self) -> None:
        if self.order_id:
            return
        chain = self.portfolio.nearest_chain(self.clock_now(), 7)
        if chain is None:
            return
        if chain.key not in self.subscribed_chains:
            self.subscribe_chains([chain])  # the feed quotes the chains strategies trade
        option = chain.get_option(OptionRight.CALL, 450.0)
        if option is None or option.mid is None:
            return
        self.order_id = self.option_order(
            option, Direction.LONG, 2, round(option.mid, 2), OrderType.LIMIT
        ) or ""
'''

LIVE_CONFIG = """\
data_directory = "{data}"

[log]
console = false

[marketdata]
feed = "tradier"

[tradier]
token = "{token}"
base_url = "{tradier_url}"
underlyings = ["SPY"]

[run]
gateway = "ib"
connect = {{ host = "127.0.0.1", port = {ib_port}, client_id = 7 }}
cancel_open_orders_on_exit = true

[strategy]
paths = ["{probe}"]

[[strategy.instances]]
name = "probe"
class_name = "Probe"
underlying = "SPY"
"""


@pytest.mark.timeout(60)
def test_run_live_on_ib_with_tradier_quotes_trades_and_cancels_at_the_broker_on_exit(tmp_path):
    from tests.fakes.tradier_server import TOKEN, running_fake
    from tests.fakes.tws import running_tws

    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    database = tmp_path / "otrade.db"
    with running_fake() as tradier, running_tws() as tws:
        config = tmp_path / "live.toml"
        config.write_text(LIVE_CONFIG.format(
            data=tmp_path.as_posix(), token=TOKEN, tradier_url=tradier.url, ib_port=tws.port,
            probe=probe.as_posix(),
        ), encoding="utf-8")  # fmt: skip
        process, lines = start_run(config)
        seen: list[str] = []
        try:
            # Listings and quotes come from Tradier; the order goes to IB.
            assert wait_for(lambda: bool(tws.placed_orders), 30), (
                seen, list(lines.queue), stored(database, "select * from orders"),
            )  # fmt: skip
            [placed] = tws.placed_orders
            assert (placed.action, placed.total_quantity, placed.order_type) == ("BUY", 2.0, "LMT")
            assert placed.contract.sec_type == "OPT"
            assert (placed.contract.symbol, placed.contract.strike, placed.contract.right) == (
                "SPY", 450.0, "C",
            )  # fmt: skip
            assert placed.contract.last_trade_date.startswith("20261204")
            tws.fill(placed.order_id, 1)  # one of two
            filled = "select volume, price, strategy from trades"
            assert wait_for(lambda: bool(stored(database, filled)), 10)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        while not lines.empty():
            seen.append(lines.get())
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")
        assert seen[-2:] == ["stopping: 1 open orders cancelled", "stopped"], seen
        cancels = tws.received(msg_id=4)
        assert [message.fields[2] for message in cancels] == [str(placed.order_id)]
    [(volume, price, strategy)] = stored(database, filled)
    assert (volume, strategy) == (1, "probe")
    assert price == placed.lmt_price
    [(status, traded, volume)] = stored(
        database, "select status, traded, volume from orders where strategy = 'probe'"
    )
    assert (status, traded, volume) == ("cancelled", 1, 2)
    [(variables,)] = stored(database, "select variables from strategies where name = 'probe'")
    assert json.loads(variables)["order_id"]
