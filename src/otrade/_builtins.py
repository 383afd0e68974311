"""otrade's built-in plugin: registers what otrade itself ships, through the public hooks.

Engines: the DatabaseEngine.  The built-in gateways (paper, IB), datafeeds (simulated,
Tradier), combo types and the other engines are added here as they land.
"""

from __future__ import annotations

from collections.abc import Sequence

from otrade.plugins import hookimpl


@hookimpl
def otrade_gateways() -> Sequence[object]:
    """The gateways otrade ships."""
    return []


@hookimpl
def otrade_engines() -> Sequence[object]:
    """The engines otrade ships, in start order."""
    from otrade.database.engine import DatabaseEngine  # noqa: PLC0415 - it imports engine.py

    return [DatabaseEngine]
