"""otrade's built-in plugin: registers what otrade itself ships, through the public hooks.

The built-in gateways (paper, IB), datafeeds (simulated, Tradier), combo types and engines
are added here as their issues land; until then every hook returns an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence

from otrade.plugins import hookimpl


@hookimpl
def otrade_gateways() -> Sequence[object]:
    """Otrade's own gateways."""
    return []


@hookimpl
def otrade_engines() -> Sequence[object]:
    """Otrade's own engines."""
    return []
