"""otrade: automated options trading.

Everything a user script needs is importable from here::

    from otrade import MainEngine, OrderRequest, Direction, OrderType
"""

from otrade.__about__ import __version__
from otrade.clock import Clock, LiveClock, SimulatedClock
from otrade.combos import Combo, ComboType, build_combo
from otrade.constants import (
    Direction,
    Exchange,
    ExpiryType,
    Offset,
    OptionRight,
    OrderType,
    Product,
    Status,
)
from otrade.engine import BaseEngine, MainEngine
from otrade.errors import (
    ComboValidationError,
    ConfigError,
    EngineError,
    GatewayError,
    OrderRejected,
    OTradeError,
    PluginError,
    SymbolError,
)
from otrade.event import (
    EVENT_ACCOUNT,
    EVENT_CHAIN_UPDATE,
    EVENT_COMMISSION,
    EVENT_CONTRACT,
    EVENT_GREEKS,
    EVENT_LOG,
    EVENT_ORDER,
    EVENT_POSITION,
    EVENT_QUOTE,
    EVENT_TIMER,
    EVENT_TRADE,
    Event,
    EventEngine,
)
from otrade.gateways.base import BaseGateway
from otrade.objects import (
    AccountData,
    CancelRequest,
    ChainUpdateData,
    CommissionData,
    ContractData,
    GreeksData,
    Leg,
    LogData,
    OrderData,
    OrderRequest,
    PositionData,
    QuoteData,
    SubscribeRequest,
    TradeData,
)
from otrade.plugins import hookimpl
from otrade.settings import Secret, Settings, load_settings
from otrade.symbols import (
    OptionSymbol,
    build_option_symbol,
    from_ib_local_symbol,
    parse_option_symbol,
    to_ib_local_symbol,
)

__all__ = [
    "EVENT_ACCOUNT",
    "EVENT_CHAIN_UPDATE",
    "EVENT_COMMISSION",
    "EVENT_CONTRACT",
    "EVENT_GREEKS",
    "EVENT_LOG",
    "EVENT_ORDER",
    "EVENT_POSITION",
    "EVENT_QUOTE",
    "EVENT_TIMER",
    "EVENT_TRADE",
    "AccountData",
    "BaseEngine",
    "BaseGateway",
    "CancelRequest",
    "ChainUpdateData",
    "Clock",
    "Combo",
    "ComboType",
    "ComboValidationError",
    "CommissionData",
    "ConfigError",
    "ContractData",
    "Direction",
    "EngineError",
    "Event",
    "EventEngine",
    "Exchange",
    "ExpiryType",
    "GatewayError",
    "GreeksData",
    "Leg",
    "LiveClock",
    "LogData",
    "MainEngine",
    "OTradeError",
    "Offset",
    "OptionRight",
    "OptionSymbol",
    "OrderData",
    "OrderRejected",
    "OrderRequest",
    "OrderType",
    "PluginError",
    "PositionData",
    "Product",
    "QuoteData",
    "Secret",
    "Settings",
    "SimulatedClock",
    "Status",
    "SubscribeRequest",
    "SymbolError",
    "TradeData",
    "__version__",
    "build_combo",
    "build_option_symbol",
    "from_ib_local_symbol",
    "hookimpl",
    "load_settings",
    "parse_option_symbol",
    "to_ib_local_symbol",
]
