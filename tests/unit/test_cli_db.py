"""The ``otrade db`` commands: upgrade, downgrade, current, history, and their errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import sqlalchemy

from otrade.cli import main
from otrade.database.connection import display_url
from otrade.database.migrate import head_revision

PASSWORD = "hunter2secret"


@pytest.fixture(autouse=True)
def clean_environment(request, monkeypatch):
    """Hide every OTRADE_* variable: load_settings reads them and refuses unknown ones.

    OTRADE_TEST_DATABASE_URL is one of them, so database_url reads it first.
    """
    if "database_url" in request.fixturenames:
        request.getfixturevalue("database_url")
    for name in [name for name in os.environ if name.startswith("OTRADE_")]:
        monkeypatch.delenv(name)


def write_config(tmp_path: Path, url: str | None) -> str:
    """A settings file with the data directory in tmp_path and, when given, the URL."""
    lines = [f"data_directory = {json.dumps(str(tmp_path / 'data'))}"]
    if url is not None:
        # A JSON string is a valid TOML basic string.
        lines += ["[database]", f"url = {json.dumps(url)}"]
    config = tmp_path / "otrade.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(config)


def test_upgrade_then_current_prints_the_head_revision(capsys, tmp_path, database_url):
    config = write_config(tmp_path, database_url)
    shown = display_url(sqlalchemy.make_url(database_url))
    head = head_revision()

    assert main(["--config", config, "db", "upgrade"]) == 0
    assert capsys.readouterr().out == (
        f"database: {shown}\nrevision: none (no otrade schema) -> {head} (head)\n"
    )
    assert main(["--config", config, "db", "current"]) == 0
    assert capsys.readouterr().out == f"database: {shown}\nrevision: {head} (head)\n"


def test_downgrade_to_base_empties_the_schema(capsys, tmp_path, database_url):
    config = write_config(tmp_path, database_url)
    assert main(["--config", config, "db", "upgrade", "--revision", "0001"]) == 0
    assert main(["--config", config, "db", "downgrade", "base"]) == 0
    assert "-> none (no otrade schema)" in capsys.readouterr().out
    assert main(["--config", config, "db", "current"]) == 0
    assert capsys.readouterr().out.endswith("revision: none (no otrade schema)\n")


def test_default_database_is_the_file_under_the_data_directory(capsys, tmp_path):
    config = write_config(tmp_path, None)
    assert main(["--config", config, "db", "upgrade"]) == 0
    database_file = tmp_path / "data" / "otrade.db"
    assert capsys.readouterr().out.startswith(f"database: {database_file}\n")
    assert database_file.is_file()


def test_history_lists_0001_with_its_description(capsys, tmp_path):
    assert main(["--config", write_config(tmp_path, None), "db", "history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("0001  Initial schema: underlyings, option listings, orders")
    assert lines[-1].endswith("(head)")
    assert not (tmp_path / "data").exists()  # history needs no database


def test_bad_url_exits_2_with_the_message_on_stderr(capsys, tmp_path):
    config = write_config(tmp_path, "not a database url")
    assert main(["--config", config, "db", "current"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "otrade: error: database URL 'not a database url' is not a valid SQLAlchemy URL"
    )
    assert "Traceback" not in captured.err


def test_unreachable_database_exits_2_without_showing_the_password(capsys, tmp_path):
    config = write_config(tmp_path, f"postgresql+psycopg://trader:{PASSWORD}@127.0.0.1:1/test")
    assert main(["--config", config, "db", "upgrade"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "otrade: error: cannot open database postgresql+psycopg://trader:***@127.0.0.1:1/test: "
    )
    assert "Connection refused" in captured.err
    assert PASSWORD not in captured.out + captured.err


def test_unknown_revision_exits_2(capsys, tmp_path, database_url):
    config = write_config(tmp_path, database_url)
    assert main(["--config", config, "db", "downgrade", "nosuch"]) == 2
    assert "Can't locate revision identified by 'nosuch'" in capsys.readouterr().err


def test_db_without_a_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["db"])
    assert exit_info.value.code == 2
    assert "DB_COMMAND" in capsys.readouterr().err
