"""The otrade command: version, plugins, config, and bad settings."""

from __future__ import annotations

import json

import pytest

from otrade import __version__
from otrade.cli import main


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("OTRADE_CONFIG", "OTRADE_LOG__LEVEL", "OTRADE_LOG__WEBSOCKET__TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"otrade {__version__}"


def test_plugins_lists_the_builtin_plugin(capsys):
    assert main(["plugins", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["plugins"]["otrade"] == "otrade"


def test_config_shows_file_and_environment_values_with_secrets_redacted(
    capsys, monkeypatch, tmp_path
):
    config = tmp_path / "otrade.toml"
    config.write_text('[log]\nlevel = "debug"\nretention_days = 3\n', encoding="utf-8")
    monkeypatch.setenv("OTRADE_LOG__WEBSOCKET__TOKEN", "super-secret-token")
    assert main(["--config", str(config), "config"]) == 0
    output = capsys.readouterr().out
    document = json.loads(output)
    assert document["log"]["level"] == "DEBUG"
    assert document["log"]["retention_days"] == 3
    assert document["log"]["websocket"]["token"] == "**********"
    assert "super-secret-token" not in output

    assert main(["--config", str(config), "config", "--toml"]) == 0
    toml_output = capsys.readouterr().out
    assert "retention_days = 3" in toml_output
    assert "super-secret-token" not in toml_output


def test_bad_settings_exit_2_naming_the_key_and_file(capsys, tmp_path):
    config = tmp_path / "otrade.toml"
    config.write_text("[event]\ntimer_interval_s = 0\n", encoding="utf-8")
    assert main(["--config", str(config), "plugins"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("otrade: error: invalid settings")
    assert "event.timer_interval_s" in error
    assert str(config) in error
