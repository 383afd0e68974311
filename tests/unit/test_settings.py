"""Tests for otrade.settings: TOML file, OTRADE_* overrides, strict types and error messages."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from otrade.errors import ConfigError
from otrade.settings import (
    REDACTED,
    EventSettings,
    LogSettings,
    PluginSettings,
    Secret,
    Settings,
    WebSocketLogSettings,
    dump_settings_toml,
    load_settings,
    secret_values,
    settings_to_dict,
)

TOKEN = "tok-5f3c9a7e-never-show-me"

PRODUCTION_TOML = f"""
data_directory = "/srv/otrade"

[log]
level = "warning"
console = false
directory = "/var/log/otrade"
retention_days = 30

[log.websocket]
enabled = true
host = "0.0.0.0"
port = 9000
token = "{TOKEN}"

[event]
timer_interval_s = 0.5
stop_timeout_s = 3

[plugins]
disabled = ["otrade-tradier", "spx-hedger"]
"""


LEVELS = "expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
PORT_RANGE = "expected an integer from 0 to 65535"
BOOLEAN_WORDS = "expected a boolean (true/false, 1/0, yes/no, on/off)"


def write_settings(directory: Path, text: str, name: str = "otrade.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None = None, environ: dict[str, str] | None = None) -> str:
    """The message of the ConfigError that loading must raise."""
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={} if environ is None else environ)
    return str(caught.value)


# --- Loading ---------------------------------------------------------------------------


def test_no_file_and_no_environment_gives_the_defaults() -> None:
    assert load_settings(environ={}) == Settings()


def test_defaults_match_the_schema() -> None:
    settings = load_settings(environ={})
    assert settings.data_directory == Path.home() / ".otrade"
    assert settings.log.level == "INFO"
    assert settings.log.websocket == WebSocketLogSettings()
    assert settings.event == EventSettings(timer_interval_s=1.0, stop_timeout_s=10.0)
    assert settings.plugins.disabled == ()
    assert settings.log_directory == Path.home() / ".otrade" / "logs"


def test_file_values_load_into_nested_sections(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, PRODUCTION_TOML), environ={})

    assert settings.data_directory == Path("/srv/otrade")
    assert settings.log.level == "WARNING"
    assert settings.log.console is False
    assert settings.log.file is True  # not in the file: default
    assert settings.log.directory == Path("/var/log/otrade")
    assert settings.log.retention_days == 30
    assert settings.log.websocket.enabled is True
    assert settings.log.websocket.host == "0.0.0.0"
    assert settings.log.websocket.port == 9000
    assert settings.log.websocket.token == Secret(TOKEN)
    assert settings.event.timer_interval_s == 0.5
    assert settings.plugins.disabled == ("otrade-tradier", "spx-hedger")
    assert settings.log_directory == Path("/var/log/otrade")


def test_file_path_may_be_a_str(tmp_path: Path) -> None:
    path = write_settings(tmp_path, '[log]\nlevel = "ERROR"\n')
    assert load_settings(str(path), environ={}).log.level == "ERROR"


def test_otrade_config_names_the_file_when_no_path_is_given(tmp_path: Path) -> None:
    path = write_settings(tmp_path, '[log]\nlevel = "ERROR"\n')
    settings = load_settings(environ={"OTRADE_CONFIG": str(path)})
    assert settings.log.level == "ERROR"


def test_empty_otrade_config_means_no_file() -> None:
    assert load_settings(environ={"OTRADE_CONFIG": ""}) == Settings()


def test_explicit_path_wins_over_otrade_config(tmp_path: Path) -> None:
    named = write_settings(tmp_path, '[log]\nlevel = "ERROR"\n', name="named.toml")
    configured = write_settings(tmp_path, '[log]\nlevel = "DEBUG"\n', name="configured.toml")
    settings = load_settings(named, environ={"OTRADE_CONFIG": str(configured)})
    assert settings.log.level == "ERROR"


def test_environ_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in list(os.environ):
        if variable.startswith("OTRADE_"):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("OTRADE_LOG__LEVEL", "CRITICAL")
    assert load_settings().log.level == "CRITICAL"


def test_log_level_is_accepted_in_any_case_and_stored_upper_cased(tmp_path: Path) -> None:
    path = write_settings(tmp_path, '[log]\nlevel = "dEbUg"\n')
    assert load_settings(path, environ={}).log.level == "DEBUG"
    assert LogSettings(level="warning").level == "WARNING"


def test_integer_is_accepted_where_a_number_is_expected(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "[event]\ntimer_interval_s = 2\nstop_timeout_s = 30\n")
    event = load_settings(path, environ={}).event
    assert event.timer_interval_s == 2.0
    assert isinstance(event.timer_interval_s, float)
    assert event.stop_timeout_s == 30.0


def test_tilde_in_a_path_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = write_settings(tmp_path, 'data_directory = "~/otrade-data"\n')
    assert load_settings(path, environ={}).data_directory == tmp_path / "otrade-data"


# --- Environment overrides -------------------------------------------------------------


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write_settings(tmp_path, PRODUCTION_TOML)
    environ = {
        "OTRADE_DATA_DIRECTORY": "/srv/otrade-staging",
        "OTRADE_LOG__LEVEL": "DEBUG",
        "OTRADE_LOG__WEBSOCKET__PORT": "9100",
        "OTRADE_LOG__WEBSOCKET__TOKEN": "abc",
    }
    from_file = load_settings(path, environ={})
    overridden = load_settings(path, environ=environ)

    assert from_file.data_directory == Path("/srv/otrade")
    assert overridden.data_directory == Path("/srv/otrade-staging")
    assert (from_file.log.level, overridden.log.level) == ("WARNING", "DEBUG")
    assert (from_file.log.websocket.port, overridden.log.websocket.port) == (9000, 9100)
    assert overridden.log.websocket.token == Secret("abc")
    # Keys the environment does not name keep the file's values.
    assert overridden.log.retention_days == 30
    assert overridden.plugins.disabled == ("otrade-tradier", "spx-hedger")


def test_environment_alone_sets_values_without_a_file() -> None:
    settings = load_settings(
        environ={"OTRADE_LOG__RETENTION_DAYS": "7", "OTRADE_EVENT__TIMER_INTERVAL_S": "0.25"}
    )
    assert settings.log.retention_days == 7
    assert settings.event.timer_interval_s == 0.25


@pytest.mark.parametrize(
    "variable",
    ["OTRADE_LOG__WEBSOCKET__PORT", "OTRADE_log__websocket__port", "OTRADE_Log__WebSocket__Port"],
)
def test_environment_names_are_case_insensitive_after_the_prefix(variable: str) -> None:
    assert load_settings(environ={variable: "9000"}).log.websocket.port == 9000


def test_lower_case_prefix_is_not_an_otrade_variable() -> None:
    assert load_settings(environ={"otrade_log__level": "NOPE", "OTRADEX": "1"}) == Settings()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("On", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("OFF", False),
    ],
)
def test_boolean_words_from_the_environment(text: str, expected: bool) -> None:
    assert load_settings(environ={"OTRADE_LOG__CONSOLE": text}).log.console is expected


def test_empty_environment_value_unsets_an_optional_key(tmp_path: Path) -> None:
    path = write_settings(tmp_path, '[log]\ndirectory = "/var/log/otrade"\n')
    settings = load_settings(path, environ={"OTRADE_LOG__DIRECTORY": ""})
    assert settings.log.directory is None


def test_tuple_from_comma_separated_environment_value() -> None:
    environ = {"OTRADE_PLUGINS__DISABLED": " otrade-tradier, ,spx-hedger ,"}
    settings = load_settings(environ=environ)
    assert settings.plugins.disabled == ("otrade-tradier", "spx-hedger")


def test_empty_environment_value_gives_an_empty_tuple(tmp_path: Path) -> None:
    path = write_settings(tmp_path, PRODUCTION_TOML)
    settings = load_settings(path, environ={"OTRADE_PLUGINS__DISABLED": ""})
    assert settings.plugins.disabled == ()


def test_otrade_config_is_not_reported_as_an_unknown_setting(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "")
    assert load_settings(environ={"OTRADE_CONFIG": str(path)}) == Settings()


# --- Bad values in the file ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "expected", "shown_value"),
    [
        ('[log]\nlevel = "LOUD"', "log.level", LEVELS, "'LOUD'"),
        ("[log]\nretention_days = 0", "log.retention_days", "expected an integer >= 1", "0"),
        ("[log.websocket]\nport = 70000", "log.websocket.port", PORT_RANGE, "70000"),
        ("[log.websocket]\nport = -1", "log.websocket.port", PORT_RANGE, "-1"),
        ("[event]\ntimer_interval_s = 0", "event.timer_interval_s", "expected a number > 0", "0"),
        ("[event]\nstop_timeout_s = -1.5", "event.stop_timeout_s", "expected a number > 0", "-1.5"),
        ("[event]\nstop_timeout_s = nan", "event.stop_timeout_s", "expected a number > 0", "nan"),
        ('[log.websocket]\nport = "8080"', "log.websocket.port", "expected an integer", "'8080'"),
        ("[log.websocket]\nport = true", "log.websocket.port", "expected an integer", "True"),
        ("[log.websocket]\nport = 8080.0", "log.websocket.port", "expected an integer", "8080.0"),
        ("[log]\nretention_days = 7.5", "log.retention_days", "expected an integer", "7.5"),
        ("[log]\nconsole = 1", "log.console", "expected a boolean", "1"),
        ('[log]\nconsole = "yes"', "log.console", "expected a boolean", "'yes'"),
        ("[event]\ntimer_interval_s = true", "event.timer_interval_s", "expected a number", "True"),
        ('[event]\ntimer_interval_s = "1"', "event.timer_interval_s", "expected a number", "'1'"),
        ("[log.websocket]\nhost = 127", "log.websocket.host", "expected a string", "127"),
        ("data_directory = 5", "data_directory", "expected a path", "5"),
        ('data_directory = ""', "data_directory", "expected a non-empty path", "''"),
        ('[plugins]\ndisabled = "spx"', "plugins.disabled", "expected an array", "'spx'"),
        ('[plugins]\ndisabled = ["spx", 3]', "plugins.disabled[1]", "expected a string", "3"),
        ("log = 3", "log", "expected a table", "3"),
    ],
)  # fmt: skip
def test_bad_file_value_names_key_file_expectation_and_value(
    tmp_path: Path, text: str, key: str, expected: str, shown_value: str
) -> None:
    path = write_settings(tmp_path, text)
    message = config_error(path)
    assert f"{key} (from {path}): {expected}" in message
    assert f"got {shown_value}" in message
    assert "(1 problem)" in message


def test_unknown_key_in_the_file_names_the_key_and_the_file(tmp_path: Path) -> None:
    path = write_settings(tmp_path, '[log]\nlevl = "DEBUG"\n')
    message = config_error(path)
    assert f"log.levl (from {path}): unknown key" in message
    assert "did you mean 'level'?" in message
    assert "valid keys: level, console, file, directory, retention_days, websocket" in message


def test_unknown_top_level_section_in_the_file(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "[logging]\nlevel = 'DEBUG'\n")
    message = config_error(path)
    assert f"logging (from {path}): unknown key" in message
    assert "valid keys: data_directory, log, event, plugins" in message


def test_toml_syntax_error_names_the_file_and_the_position(tmp_path: Path) -> None:
    path = write_settings(tmp_path, '[log]\nlevel = "DEBUG\n')
    message = config_error(path)
    assert str(path) in message
    assert "not valid TOML" in message
    assert "line 2" in message


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    message = config_error(missing)
    assert f"settings file {missing} does not exist" in message


def test_missing_file_named_by_otrade_config_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    message = config_error(environ={"OTRADE_CONFIG": str(missing)})
    assert str(missing) in message
    assert "does not exist" in message


def test_directory_as_settings_file_is_an_error(tmp_path: Path) -> None:
    message = config_error(tmp_path)
    assert f"cannot read settings file {tmp_path}" in message


def test_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "otrade.toml"
    path.write_bytes(b'[log]\nlevel = "\xff"\n')
    message = config_error(path)
    assert str(path) in message
    assert "UTF-8" in message


# --- Bad values in the environment -----------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "text", "key", "expected"),
    [
        ("OTRADE_LOG__WEBSOCKET__PORT", "abc", "log.websocket.port", "expected an integer"),
        ("OTRADE_LOG__WEBSOCKET__PORT", "70000", "log.websocket.port", PORT_RANGE),
        ("OTRADE_LOG__WEBSOCKET__PORT", "80.5", "log.websocket.port", "expected an integer"),
        ("OTRADE_LOG__RETENTION_DAYS", "", "log.retention_days", "expected an integer"),
        ("OTRADE_EVENT__STOP_TIMEOUT_S", "soon", "event.stop_timeout_s", "expected a number"),
        ("OTRADE_EVENT__STOP_TIMEOUT_S", "0", "event.stop_timeout_s", "expected a number > 0"),
        ("OTRADE_LOG__CONSOLE", "maybe", "log.console", BOOLEAN_WORDS),
        ("OTRADE_LOG__LEVEL", "chatty", "log.level", LEVELS),
        ("OTRADE_DATA_DIRECTORY", "", "data_directory", "expected a non-empty path"),
    ],
)  # fmt: skip
def test_bad_environment_value_names_the_variable(
    tmp_path: Path, variable: str, text: str, key: str, expected: str
) -> None:
    # The file sets the same keys to good values; the message must blame the variable.
    path = write_settings(tmp_path, PRODUCTION_TOML)
    message = config_error(path, {variable: text})
    assert f"{key} (from environment variable {variable}): {expected}" in message
    assert str(path) not in message
    assert "(1 problem)" in message


def test_environment_error_shows_the_value_as_written() -> None:
    message = config_error(environ={"OTRADE_LOG__WEBSOCKET__PORT": "abc"})
    assert "got 'abc'" in message


def test_unknown_otrade_variable_is_named_with_close_keys() -> None:
    message = config_error(environ={"OTRADE_LOG__LEVL": "DEBUG"})
    assert "environment variable OTRADE_LOG__LEVL" in message
    assert "not a setting" in message
    assert "did you mean OTRADE_LOG__LEVEL" in message


def test_unknown_otrade_variable_far_from_any_key_lists_the_valid_ones() -> None:
    message = config_error(environ={"OTRADE_BROKER": "ib"})
    assert "environment variable OTRADE_BROKER" in message
    assert "valid variables: OTRADE_DATA_DIRECTORY, OTRADE_LOG__LEVEL" in message
    assert "OTRADE_LOG__WEBSOCKET__TOKEN" in message


def test_test_suite_variables_are_not_settings() -> None:
    settings = load_settings(
        environ={"OTRADE_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/test"}
    )
    assert settings == Settings()


def test_environment_variable_naming_a_whole_section_is_an_error() -> None:
    message = config_error(environ={"OTRADE_LOG__WEBSOCKET": "on"})
    assert "log.websocket (from environment variable OTRADE_LOG__WEBSOCKET)" in message
    assert "names a whole section" in message
    assert "OTRADE_LOG__WEBSOCKET__ENABLED" in message


def test_one_key_set_by_two_variables_is_an_error() -> None:
    message = config_error(environ={"OTRADE_LOG__LEVEL": "DEBUG", "OTRADE_log__level": "ERROR"})
    assert "OTRADE_LOG__LEVEL" in message
    assert "OTRADE_log__level" in message
    assert "set it once" in message


# --- Several problems ------------------------------------------------------------------


def test_every_problem_is_reported_in_one_error_one_per_line(tmp_path: Path) -> None:
    path = write_settings(
        tmp_path,
        '[log]\nlevel = "LOUD"\nretention_days = 0\nconsole = "yes"\n'
        "[log.websocket]\nport = 70000\n[event]\ntimer_interval_s = -1\n[extra]\nkey = 1\n",
    )
    environ = {"OTRADE_EVENT__STOP_TIMEOUT_S": "later", "OTRADE_PLUGINZ__DISABLED": "x"}
    message = config_error(path, environ)

    lines = message.splitlines()
    assert lines[0] == "invalid settings (8 problems):"
    expected_starts = [
        f"log.level (from {path}): expected one of",
        f"log.console (from {path}): expected a boolean",
        f"log.retention_days (from {path}): expected an integer >= 1",
        f"log.websocket.port (from {path}): expected an integer from 0 to 65535",
        f"event.timer_interval_s (from {path}): expected a number > 0",
        f"extra (from {path}): unknown key",
        "event.stop_timeout_s (from environment variable OTRADE_EVENT__STOP_TIMEOUT_S)",
        "pluginz.disabled (from environment variable OTRADE_PLUGINZ__DISABLED): not a setting",
    ]
    for start in expected_starts:
        assert sum(line.strip().startswith(start) for line in lines[1:]) == 1, start
    assert len(lines) == 9


def test_two_bad_values_in_one_section_are_both_reported(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "[event]\ntimer_interval_s = 0\nstop_timeout_s = 0\n")
    message = config_error(path)
    assert "event.timer_interval_s" in message
    assert "event.stop_timeout_s" in message


# --- WebSocket token rule --------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "trading-box.lan", ""])
def test_websocket_on_a_non_loopback_host_requires_a_token(tmp_path: Path, host: str) -> None:
    path = write_settings(tmp_path, f'[log.websocket]\nenabled = true\nhost = "{host}"\n')
    message = config_error(path)
    assert f"log.websocket.token (from {path}): a non-empty token is required" in message
    assert "not a loopback address" in message


def test_websocket_host_from_environment_names_the_variable() -> None:
    environ = {"OTRADE_LOG__WEBSOCKET__ENABLED": "yes", "OTRADE_LOG__WEBSOCKET__HOST": "0.0.0.0"}
    message = config_error(environ=environ)
    assert "log.websocket.token (from environment variable OTRADE_LOG__WEBSOCKET__" in message


def test_websocket_with_an_empty_token_is_rejected(tmp_path: Path) -> None:
    path = write_settings(
        tmp_path, '[log.websocket]\nenabled = true\nhost = "0.0.0.0"\ntoken = ""\n'
    )
    assert "log.websocket.token" in config_error(path)


def test_websocket_on_a_non_loopback_host_with_a_token_loads(tmp_path: Path) -> None:
    path = write_settings(tmp_path, PRODUCTION_TOML)
    websocket = load_settings(path, environ={}).log.websocket
    assert websocket.host == "0.0.0.0"
    assert websocket.token is not None
    assert websocket.token.get_secret_value() == TOKEN


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost", "LOCALHOST"])
def test_websocket_on_loopback_needs_no_token(host: str) -> None:
    environ = {"OTRADE_LOG__WEBSOCKET__ENABLED": "true", "OTRADE_LOG__WEBSOCKET__HOST": host}
    websocket = load_settings(environ=environ).log.websocket
    assert websocket.enabled
    assert websocket.token is None


def test_disabled_websocket_on_any_host_needs_no_token() -> None:
    settings = load_settings(environ={"OTRADE_LOG__WEBSOCKET__HOST": "0.0.0.0"})
    assert settings.log.websocket.host == "0.0.0.0"


def test_constructing_an_open_websocket_without_a_token_raises() -> None:
    with pytest.raises(ValueError, match="token"):
        WebSocketLogSettings(enabled=True, host="0.0.0.0")


@pytest.mark.parametrize(
    "build",
    [
        lambda: WebSocketLogSettings(port=65536),
        lambda: LogSettings(level="LOUD"),
        lambda: LogSettings(retention_days=0),
        lambda: EventSettings(stop_timeout_s=0),
    ],
)
def test_constructing_settings_out_of_range_raises(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="expected"):
        build()


# --- Secrets ---------------------------------------------------------------------------


def test_secret_is_redacted_in_str_and_repr() -> None:
    secret = Secret(TOKEN)
    assert str(secret) == REDACTED
    assert TOKEN not in repr(secret)
    assert secret.get_secret_value() == TOKEN
    assert not Secret("")


def test_secret_never_appears_in_settings_repr_str_or_dict(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, PRODUCTION_TOML), environ={})
    data = settings_to_dict(settings)
    for text in (repr(settings), str(settings), repr(data), json.dumps(data)):
        assert TOKEN not in text
    assert data["log"] == {
        "level": "WARNING",
        "console": False,
        "file": True,
        "directory": "/var/log/otrade",
        "retention_days": 30,
        "websocket": {"enabled": True, "host": "0.0.0.0", "port": 9000, "token": REDACTED},
    }
    assert TOKEN not in dump_settings_toml(settings)


@pytest.mark.parametrize(
    ("text", "environ"),
    [
        # A bad value elsewhere while the token is loaded from the file.
        (PRODUCTION_TOML + "\n[extra]\nkey = 1\n", {}),
        # The token has the wrong type.
        ("[log.websocket]\ntoken = 98765432123456789\n", {}),
        # The token's key is misspelled in the file.
        (f'[log.websocket]\ntokn = "{TOKEN}"\n', {}),
        # The token's variable is misspelled.
        ("", {"OTRADE_LOG__WEBSOCKET__TOKN": TOKEN}),
        # The token names a whole-section variable.
        ("", {"OTRADE_LOG__WEBSOCKET": TOKEN}),
        # The token is set but the websocket port is bad.
        ("", {"OTRADE_LOG__WEBSOCKET__TOKEN": TOKEN, "OTRADE_LOG__WEBSOCKET__PORT": "x"}),
    ],
)
def test_secret_never_appears_in_an_error_message(
    tmp_path: Path, text: str, environ: dict[str, str]
) -> None:
    path = write_settings(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ=environ)
    error = caught.value
    for shown in (str(error), repr(error)):
        assert TOKEN not in shown
        assert "98765432123456789" not in shown
    # Nothing chained to the error can quote the token either.
    assert error.__cause__ is None
    assert error.__context__ is None


def test_wrong_type_secret_is_shown_as_redacted(tmp_path: Path) -> None:
    path = write_settings(tmp_path, "[log.websocket]\ntoken = 98765432123456789\n")
    message = config_error(path)
    assert f"log.websocket.token (from {path}): expected a string, got <redacted>" in message


def test_secret_values_finds_nested_secrets() -> None:
    @attrs.frozen
    class BrokerSettings:
        token: Secret | None = None
        accounts: tuple[Secret, ...] = ()

    @attrs.frozen
    class Tree:
        settings: Settings
        brokers: dict[str, BrokerSettings]

    settings = Settings(
        log=LogSettings(websocket=WebSocketLogSettings(token=Secret("websocket-token")))
    )
    tree = Tree(
        settings=settings,
        brokers={
            "tradier": BrokerSettings(token=Secret("tradier-token")),
            "ib": BrokerSettings(
                accounts=(Secret("U1234567"), Secret(""), Secret("tradier-token"))
            ),
        },
    )
    assert secret_values(settings) == ["websocket-token"]
    assert secret_values(tree) == ["websocket-token", "tradier-token", "U1234567"]
    assert secret_values(Settings()) == []


# --- Output ----------------------------------------------------------------------------


def test_settings_to_dict_is_plain_data(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, PRODUCTION_TOML), environ={})
    data = settings_to_dict(settings)
    assert data["data_directory"] == "/srv/otrade"
    assert data["event"] == {"timer_interval_s": 0.5, "stop_timeout_s": 3.0}
    assert data["plugins"] == {"disabled": ["otrade-tradier", "spx-hedger"]}
    assert json.loads(json.dumps(data)) == data


def test_dumped_toml_loads_back_to_the_same_settings(tmp_path: Path) -> None:
    settings = load_settings(write_settings(tmp_path, PRODUCTION_TOML), environ={})
    dumped = write_settings(tmp_path, dump_settings_toml(settings), name="dumped.toml")
    reloaded = load_settings(dumped, environ={})
    # The token is written redacted, so it is the one value that does not come back.
    assert reloaded.log.websocket.token == Secret(REDACTED)
    assert (
        attrs.evolve(reloaded, log=attrs.evolve(reloaded.log, websocket=settings.log.websocket))
        == settings
    )


# --- Properties ------------------------------------------------------------------------


@given(port=st.integers(min_value=0, max_value=65535))
def test_any_port_in_range_from_the_environment_round_trips(port: int) -> None:
    settings = load_settings(environ={"OTRADE_LOG__WEBSOCKET__PORT": str(port)})
    assert settings.log.websocket.port == port


@given(port=st.integers(max_value=-1) | st.integers(min_value=65536))
def test_any_port_out_of_range_from_the_environment_is_rejected(port: int) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"OTRADE_LOG__WEBSOCKET__PORT": str(port)})
    message = str(caught.value)
    assert "log.websocket.port (from environment variable OTRADE_LOG__WEBSOCKET__PORT)" in message
    assert "expected an integer from 0 to 65535" in message
    assert f"got {port}" in message


@st.composite
def dumpable_settings(draw: st.DrawFn) -> Settings:
    """Settings with arbitrary strings, lists and numbers (no secret: it is written redacted)."""
    return Settings(
        data_directory=Path("/srv") / draw(st.from_regex(r"[a-z0-9_-]{1,12}", fullmatch=True)),
        log=LogSettings(
            level=draw(st.sampled_from(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])),
            console=draw(st.booleans()),
            retention_days=draw(st.integers(min_value=1, max_value=10_000)),
            websocket=WebSocketLogSettings(
                host=draw(st.text()), port=draw(st.integers(min_value=0, max_value=65535))
            ),
        ),
        event=EventSettings(timer_interval_s=draw(st.floats(min_value=1e-6, max_value=1e6))),
        plugins=PluginSettings(disabled=tuple(draw(st.lists(st.text(), max_size=4)))),
    )


@given(settings=dumpable_settings())
def test_any_dumped_settings_load_back(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> None:
    path = write_settings(tmp_path_factory.mktemp("dump"), dump_settings_toml(settings))
    assert load_settings(path, environ={}) == settings


STRATEGY_TOML = """
[run]
gateway = "ib"
connect = { host = "127.0.0.1", port = 7497, password = "hunter2", account = "DU1" }

[strategy]
paths = ["~/strategies"]

[[strategy.instances]]
name = "condor"
class_name = "ShortCondor"
underlying = "SPY"
parameters = { short_delta = 0.16, volume = 2, tag = "a", hedge = true }
"""


def test_strategy_instances_and_run_settings_load_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "otrade.toml"
    path.write_text(STRATEGY_TOML)
    settings = load_settings(path, environ={})
    [instance] = settings.strategy.instances
    assert (instance.name, instance.class_name, instance.underlying) == (
        "condor",
        "ShortCondor",
        "SPY",
    )
    assert instance.parameters == {"short_delta": 0.16, "volume": 2, "tag": "a", "hedge": True}
    assert settings.strategy.paths == (Path.home() / "strategies",)
    connect = settings.run.connect
    assert (connect["host"], connect["port"], connect["account"]) == ("127.0.0.1", 7497, "DU1")
    password = connect["password"]
    assert isinstance(password, Secret)
    assert password.get_secret_value() == "hunter2"


def test_a_secret_in_run_connect_never_shows_and_the_dump_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "otrade.toml"
    path.write_text(STRATEGY_TOML)
    settings = load_settings(path, environ={})
    dumped = dump_settings_toml(settings)
    assert "hunter2" not in dumped
    assert "hunter2" not in json.dumps(settings_to_dict(settings))
    assert "hunter2" not in repr(settings)
    reloaded = tmp_path / "dumped.toml"
    reloaded.write_text(dumped)
    again = load_settings(reloaded, environ={})
    assert again.strategy.instances == settings.strategy.instances


def test_a_bad_strategy_parameter_is_named_by_its_key(tmp_path: Path) -> None:
    path = tmp_path / "otrade.toml"
    path.write_text(
        '[[strategy.instances]]\nname = "x"\nparameters = { delta = [1], volume = {a = 1} }\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={})
    message = str(raised.value)
    assert "strategy.instances[0].class_name" in message
    assert "strategy.instances[0].parameters.delta" in message
    assert "expected a string, a number or a boolean" in message
