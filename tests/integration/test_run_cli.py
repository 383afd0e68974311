"""``otrade run CONFIG.toml``: paper gateway on the simulated market, stopped by SIGINT."""

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


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.timeout(30)
def test_run_works_until_sigint_then_cancels_its_open_order_and_stores_the_strategy(tmp_path):
    # A limit at the net mid rests on the paper gateway (it fills only at the far side).
    config = write_config(tmp_path)
    database = tmp_path / "otrade.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "otrade", "run", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_environment(),
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
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
        process.send_signal(signal.SIGINT)
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
