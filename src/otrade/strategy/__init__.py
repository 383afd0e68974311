"""Strategies: the template users subclass and the engine that runs them."""

from __future__ import annotations

from otrade.strategy.engine import HEDGE_REFERENCE, OptionStrategyEngine, class_path
from otrade.strategy.template import OptionStrategyTemplate, StrategyState

__all__ = [
    "HEDGE_REFERENCE",
    "OptionStrategyEngine",
    "OptionStrategyTemplate",
    "StrategyState",
    "class_path",
]
