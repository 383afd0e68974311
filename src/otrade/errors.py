"""The otrade exception hierarchy.

Every error otrade raises on purpose is an :class:`OTradeError`, so a caller can catch
the whole family with one clause and still tell the kinds apart.  Messages name the
field and the value that was wrong; they never contain a secret.
"""

from __future__ import annotations

__all__ = [
    "ComboValidationError",
    "ConfigError",
    "DatabaseError",
    "EngineError",
    "GatewayError",
    "OTradeError",
    "OrderRejected",
    "PluginError",
    "StrategyError",
    "SymbolError",
]


class OTradeError(Exception):
    """Base class of every error otrade raises on purpose."""


class ConfigError(OTradeError):
    """A setting is missing, unknown or has a value of the wrong type or range.

    The message names the key (``section.key``), where the value came from (the TOML
    file path or the environment variable) and what was expected.
    """


class SymbolError(OTradeError, ValueError):
    """An option symbol cannot be parsed or built (names the symbol and the bad part)."""


class PluginError(OTradeError):
    """A plugin failed to load or returned something otrade cannot register."""


class DatabaseError(OTradeError):
    """The database cannot be opened, migrated, read or written.

    The message names the file path or the URL (with any password hidden).
    """


class EngineError(OTradeError):
    """An engine was used in a way its contract does not allow (unknown name, closed engine)."""


class GatewayError(OTradeError):
    """A gateway cannot do what was asked (unknown gateway, not connected, broker error)."""


class OrderRejected(OTradeError):  # noqa: N818 - the name the API documents
    """An order was refused before it reached a broker, or the broker refused it.

    Attributes:
        reason: Human-readable reason naming the bad field or the failed check.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ComboValidationError(OTradeError, ValueError):
    """Legs that do not make the combo type asked for; nothing is built.

    Attributes:
        role: The role at fault ("" when the fault is not one role's).
        rule: The rule that failed, in words.
    """

    def __init__(self, combo_type: str, role: str, rule: str) -> None:
        where = f" leg {role!r}" if role else ""
        super().__init__(f"{combo_type}{where}: {rule}")
        self.combo_type = combo_type
        self.role = role
        self.rule = rule


class StrategyError(OTradeError):
    """A strategy cannot be loaded, added or moved through its life cycle as asked.

    Examples: an unknown strategy class, a name already taken, a setting that is not one of
    the class's parameters or has the wrong type, starting a strategy that was never
    initialised.  The message names the strategy and the field.
    """
