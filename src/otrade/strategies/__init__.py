"""Strategies bundled with otrade (registered through the built-in plugin).

:class:`ShortCondor` is the example strategy ``otrade demo`` runs: a short iron condor
picked by delta, delta-hedged, with take-profit and stop-loss exits.
"""

from __future__ import annotations

from otrade.strategies.short_condor import ShortCondor

__all__ = ["ShortCondor"]
