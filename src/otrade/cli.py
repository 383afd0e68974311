"""The ``otrade`` command.

``otrade --version`` prints the version; ``otrade plugins`` lists every registered gateway,
datafeed, combo type, engine and strategy with the plugin and distribution it came from,
then any plugin that was skipped and why; ``otrade config`` prints the effective settings
with secrets redacted; ``otrade db upgrade|downgrade|current|history`` manages the database
schema; ``otrade contracts sync|list|purge`` downloads option listings from Interactive
Brokers into the database, counts them, and deletes expired ones; ``otrade demo`` runs
everything offline on an accelerated clock with a live view (:mod:`otrade.demo`);
``otrade run CONFIG.toml`` runs the gateway and strategies a settings file names until
interrupted (:mod:`otrade.run_cli`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from otrade.__about__ import __version__
from otrade.database.connection import display_url, open_database, resolve_url
from otrade.database.migrate import current_revision, downgrade, head_revision, history, upgrade
from otrade.errors import OTradeError
from otrade.plugins import PluginRegistry
from otrade.settings import Settings, dump_settings_toml, load_settings, settings_to_dict

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otrade", description="Automated options trading: strategies, combos, hedging."
    )
    parser.add_argument("--version", action="version", version=f"otrade {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="settings file (TOML); default: $OTRADE_CONFIG, else built-in defaults",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    plugins = commands.add_parser("plugins", help="list registered plugin items")
    plugins.add_argument("--json", action="store_true", help="print JSON instead of a table")
    config = commands.add_parser("config", help="print the effective settings (secrets redacted)")
    config.add_argument("--toml", action="store_true", help="print TOML instead of JSON")
    _add_database_parser(commands)
    _add_contracts_parser(commands)
    _add_demo_parser(commands)
    run = commands.add_parser("run", help="run the gateway and strategies CONFIG names")
    run.add_argument("run_config", metavar="CONFIG", help="settings file (TOML)")
    return parser


def _add_demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="run a strategy offline: simulated market, paper fills, live view"
    )
    demo.add_argument("--duration", type=float, default=30.0, metavar="SECONDS",
                      help="wall-clock seconds to run (default 30)")  # fmt: skip
    demo.add_argument("--speed", type=float, default=60.0,
                      help="simulated seconds per wall second (default 60)")  # fmt: skip
    demo.add_argument("--seed", type=int, default=7, help="simulated market seed (default 7)")
    demo.add_argument("--strategy", default="ShortCondor",
                      help="class name, package.module:Class or file.py:Class "
                           "(default ShortCondor)")  # fmt: skip
    demo.add_argument("--data-dir", type=Path, default=None, metavar="PATH",
                      help="where the database, logs and clock are kept "
                           "(default: a per-user data directory)")  # fmt: skip


def _run_demo_command(arguments: argparse.Namespace) -> int:
    from otrade.demo import default_data_directory, run_demo  # noqa: PLC0415 - loads rich

    try:
        run_demo(duration_s=arguments.duration, speed=arguments.speed, seed=arguments.seed,
                 strategy=arguments.strategy,
                 data_dir=arguments.data_dir or default_data_directory())  # fmt: skip
    except OTradeError as error:
        print(f"otrade: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _add_contracts_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contracts = commands.add_parser("contracts", help="option listings: sync from IB, list, purge")
    contract_commands = contracts.add_subparsers(
        dest="contracts_command", metavar="CONTRACTS_COMMAND", required=True
    )
    sync = contract_commands.add_parser(
        "sync", help="download the option listings of UNDERLYING... from TWS or IB Gateway"
    )
    sync.add_argument("underlyings", nargs="+", metavar="UNDERLYING", type=str.upper)
    sync.add_argument("--days", type=int, default=60, help="expiry window in days (default 60)")
    sync.add_argument("--host", default="127.0.0.1", help="TWS / IB Gateway host")
    sync.add_argument("--port", type=int, default=7497, help="API port (default 7497)")
    sync.add_argument("--client-id", type=int, default=99, help="API client id (default 99)")
    sync.add_argument("--timeout", type=float, default=10.0, help="connect timeout in seconds")
    sync.add_argument(
        "--restart", action="store_true", help="ignore today's progress and sync everything"
    )
    listing = contract_commands.add_parser("list", help="count stored listings per expiry")
    listing.add_argument("underlyings", nargs="*", metavar="UNDERLYING", type=str.upper)
    contract_commands.add_parser("purge", help="delete listings whose last trading day has passed")


def _add_database_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    database = commands.add_parser("db", help="create, upgrade or inspect the database schema")
    database_commands = database.add_subparsers(
        dest="database_command", metavar="DB_COMMAND", required=True
    )
    upgrade_parser = database_commands.add_parser(
        "upgrade", help="upgrade the schema (a new database gets the newest one)"
    )
    upgrade_parser.add_argument(
        "--revision", default="head", help="target revision (default: head, the newest)"
    )
    downgrade_parser = database_commands.add_parser(
        "downgrade", help="downgrade the schema to REVISION ('base' drops every otrade table)"
    )
    downgrade_parser.add_argument("revision", metavar="REVISION")
    database_commands.add_parser("current", help="print the database's schema revision")
    database_commands.add_parser("history", help="list the schema revisions this otrade knows")


def _print_plugins(settings: Settings, as_json: bool) -> int:
    registry = PluginRegistry(settings.plugins.disabled)
    registry.load()
    items = registry.items()
    failures = registry.failures
    if as_json:
        document = {
            "items": [
                {
                    "kind": item.kind,
                    "name": item.name,
                    "plugin": item.plugin,
                    "distribution": item.distribution,
                }
                for item in items
            ],
            "plugins": registry.plugins,
            "failures": [str(failure) for failure in failures],
        }
        print(json.dumps(document, indent=2))
        return 0
    print(f"plugins: {', '.join(f'{n} ({d})' for n, d in registry.plugins.items())}")
    if items:
        rows = [("KIND", "NAME", "PLUGIN", "DISTRIBUTION")]
        rows += [(i.kind, i.name, i.plugin, i.distribution) for i in items]
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        for row in rows:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    else:
        print("no gateways, datafeeds, combo types, engines or strategies are registered")
    for failure in failures:
        print(f"skipped: {failure}")
    return 0


def _revision_text(revision: str | None, head: str) -> str:
    if revision is None:
        return "none (no otrade schema)"
    return f"{revision} (head)" if revision == head else revision


def _run_database_command(settings: Settings, command: str, revision: str | None) -> int:
    head = head_revision()
    if command == "history":
        for migration in history():
            marker = "  (head)" if migration.revision == head else ""
            print(f"{migration.revision}  {migration.description}{marker}")
        return 0
    shown = display_url(resolve_url(settings))
    engine = open_database(settings)
    try:
        before = current_revision(engine)
        if command == "upgrade" and revision is not None:
            upgrade(engine, revision)
        elif command == "downgrade" and revision is not None:
            downgrade(engine, revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    print(f"database: {shown}")
    if command == "current" or before == after:
        print(f"revision: {_revision_text(after, head)}")
    else:
        print(f"revision: {_revision_text(before, head)} -> {_revision_text(after, head)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 2 bad settings or usage)."""
    parser = _build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help()
        return 0
    if arguments.command == "demo":
        return _run_demo_command(arguments)
    try:
        settings = load_settings(getattr(arguments, "run_config", None) or arguments.config)
    except OTradeError as error:
        print(f"otrade: error: {error}", file=sys.stderr)
        return 2
    if arguments.command == "plugins":
        return _print_plugins(settings, arguments.json)
    if arguments.command == "contracts":
        from otrade.contracts_cli import run_contracts_command  # noqa: PLC0415 - loads ib_async

        try:
            return run_contracts_command(settings, arguments)
        except OTradeError as error:
            print(f"otrade: error: {error}", file=sys.stderr)
            return 2
    if arguments.command == "run":
        from otrade.run_cli import run_engines  # noqa: PLC0415 - starts every engine

        try:
            return run_engines(settings)
        except OTradeError as error:
            print(f"otrade: error: {error}", file=sys.stderr)
            return 2
    if arguments.command == "db":
        try:
            return _run_database_command(
                settings, arguments.database_command, getattr(arguments, "revision", None)
            )
        except OTradeError as error:
            print(f"otrade: error: {error}", file=sys.stderr)
            return 2
    if arguments.toml:
        print(dump_settings_toml(settings), end="")
    else:
        print(json.dumps(settings_to_dict(settings), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
