"""otrade's built-in plugin: registers what otrade itself ships, through the public hooks.

Gateways: the paper gateway and the IB gateway.  Engines: the DatabaseEngine, the
MarketDataEngine, the PositionEngine, the RiskEngine, the HedgeEngine and the
OptionStrategyEngine.  Datafeeds: the simulated market
(the default) and Tradier.  Combo types: the built-in catalogue of
:mod:`otrade.combos.types`.
"""

from __future__ import annotations

from collections.abc import Sequence

from otrade.plugins import hookimpl


@hookimpl
def otrade_gateways() -> Sequence[object]:
    """The gateways otrade ships: ``paper`` (the default) and ``ib``."""
    from otrade.gateways.ib import IbGateway  # noqa: PLC0415 - see otrade_engines
    from otrade.gateways.paper import PaperGateway  # noqa: PLC0415 - see otrade_engines

    return [PaperGateway, IbGateway]


@hookimpl
def otrade_engines() -> Sequence[object]:
    """The engines otrade ships, in start order."""
    # Imported here: these modules import engine.py, which imports this registry's module.
    from otrade.database.engine import DatabaseEngine  # noqa: PLC0415 - see above
    from otrade.hedge import HedgeEngine  # noqa: PLC0415 - see above
    from otrade.marketdata import MarketDataEngine  # noqa: PLC0415 - see above
    from otrade.position import PositionEngine  # noqa: PLC0415 - see above
    from otrade.risk import RiskEngine  # noqa: PLC0415 - see above
    from otrade.strategy.engine import OptionStrategyEngine  # noqa: PLC0415 - see above

    # The PositionEngine rebuilds from the database and marks from market data; the
    # RiskEngine reads its exposures; the HedgeEngine reads deltas after the PositionEngine
    # refreshed them; the strategies see every event after all of these.
    return [DatabaseEngine, MarketDataEngine, PositionEngine, RiskEngine, HedgeEngine,
            OptionStrategyEngine]  # fmt: skip


@hookimpl
def otrade_datafeeds() -> Sequence[object]:
    """The datafeeds otrade ships: ``simulated`` (the default) and ``tradier``."""
    from otrade.datafeeds.simulated import SimulatedDataFeed  # noqa: PLC0415 - see engines
    from otrade.datafeeds.tradier import TradierDataFeed  # noqa: PLC0415 - see engines

    return [SimulatedDataFeed, TradierDataFeed]


@hookimpl
def otrade_combo_types() -> Sequence[object]:
    """The combo types otrade ships (:data:`otrade.combos.types.BUILTIN_DEFINITIONS`)."""
    from otrade.combos.types import BUILTIN_DEFINITIONS  # noqa: PLC0415 - see otrade_engines

    return list(BUILTIN_DEFINITIONS)


@hookimpl
def otrade_strategies() -> Sequence[object]:
    """The strategies otrade ships: :class:`~otrade.strategies.ShortCondor` (the demo's)."""
    from otrade.strategies.short_condor import ShortCondor  # noqa: PLC0415 - see otrade_engines

    return [ShortCondor]
