"""Plugins: pluggy hook specifications and the registry of everything they provide.

A third-party package extends otrade by declaring an entry point in the group ``otrade``
that names a module (or object) with hook implementations::

    # pyproject.toml of the plugin package
    [project.entry-points.otrade]
    my_broker = "my_broker.plugin"

    # my_broker/plugin.py
    from otrade.plugins import hookimpl

    @hookimpl
    def otrade_gateways():
        return [MyBrokerGateway]

otrade's own built-ins are registered through the same hooks (module
``otrade._builtins``, distribution ``otrade``), so there is one path for everything.
A plugin that fails to import, raises in a hook, or returns something invalid is
reported (:attr:`PluginRegistry.failures`, and an error log line naming the plugin and
its distribution) and skipped; everything else keeps working.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Literal, cast

import attrs
import pluggy
from loguru import logger

from otrade.errors import PluginError

__all__ = [
    "KINDS",
    "PROJECT_NAME",
    "HookSpecs",
    "Kind",
    "PluginFailure",
    "PluginItem",
    "PluginRegistry",
    "hookimpl",
    "hookspec",
]

PROJECT_NAME: Final = "otrade"
"""The pluggy project name and the entry-point group."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a hook specification (used only in :class:`HookSpecs`)."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a hook implementation in a plugin module."""

Kind = Literal["gateway", "datafeed", "combo_type", "engine", "strategy"]
"""What a registered item is."""

KINDS: Final[tuple[Kind, ...]] = ("gateway", "datafeed", "combo_type", "engine", "strategy")
"""Every kind, in the order ``otrade plugins`` lists them."""


class HookSpecs:
    """The hooks a plugin may implement.

    Each hook takes no arguments and returns a sequence of items; otrade calls every
    plugin's implementation once, when the registry loads, and registers what it returns.
    """

    @hookspec
    def otrade_gateways(self) -> Sequence[object]:  # type: ignore[empty-body]
        """Gateway classes: subclasses of :class:`~otrade.gateways.BaseGateway`.

        Each registers under its ``default_name``.
        """

    @hookspec
    def otrade_datafeeds(self) -> Sequence[object]:  # type: ignore[empty-body]
        """Market-data feed classes, each with a non-empty string attribute ``name``."""

    @hookspec
    def otrade_combo_types(self) -> Sequence[object]:  # type: ignore[empty-body]
        """Combo type definitions, each with a non-empty string attribute ``name``."""

    @hookspec
    def otrade_engines(self) -> Sequence[object]:  # type: ignore[empty-body]
        """Engine classes: subclasses of :class:`~otrade.engine.BaseEngine`.

        The MainEngine builds one of each and registers it under its ``engine_name``.
        """

    @hookspec
    def otrade_strategies(self) -> Sequence[object]:  # type: ignore[empty-body]
        """Strategy classes; each registers under its class name."""


_HOOK_KINDS: Final[dict[str, Kind]] = {
    "otrade_gateways": "gateway",
    "otrade_datafeeds": "datafeed",
    "otrade_combo_types": "combo_type",
    "otrade_engines": "engine",
    "otrade_strategies": "strategy",
}


@attrs.frozen
class PluginItem:
    """One registered item.

    Attributes:
        kind: What it is.
        name: The name it is registered under (unique within its kind).
        value: The class or definition itself.
        plugin: The plugin (entry-point name) that provided it.
        distribution: The installed distribution the plugin came from.
    """

    kind: Kind
    name: str
    value: object
    plugin: str
    distribution: str


@attrs.frozen
class PluginFailure:
    """A plugin, hook or item that was skipped, and why.

    Attributes:
        plugin: The plugin (entry-point name).
        distribution: The distribution it came from ("" when unknown).
        reason: What went wrong.
    """

    plugin: str
    distribution: str
    reason: str

    def __str__(self) -> str:
        source = f" (distribution {self.distribution})" if self.distribution else ""
        return f"plugin {self.plugin!r}{source}: {self.reason}"


def _item_name(kind: Kind, value: object) -> str:
    """Validate ``value`` as an item of ``kind`` and return its name, or raise PluginError."""
    if kind == "strategy":
        if not isinstance(value, type):
            raise PluginError(f"strategy {value!r} is not a class")
        return value.__name__
    attribute = {"gateway": "default_name", "engine": "engine_name"}.get(kind, "name")
    base = _base_class(kind)
    if base is not None and not (isinstance(value, type) and issubclass(value, base)):
        raise PluginError(f"{kind} {value!r} is not a subclass of {base.__qualname__}")
    name = getattr(value, attribute, None)
    if not isinstance(name, str) or not name:
        raise PluginError(f"{kind} {value!r} has no non-empty string attribute {attribute!r}")
    return name


def _base_class(kind: Kind) -> type | None:
    # Imported here: engine.py and gateways/ import this module.
    if kind == "gateway":
        from otrade.gateways.base import BaseGateway  # noqa: PLC0415

        return BaseGateway
    if kind == "engine":
        from otrade.engine import BaseEngine  # noqa: PLC0415

        return BaseEngine
    return None


class PluginRegistry:
    """Loads plugins and holds what they provide.

    Args:
        disabled: Entry-point names or distribution names not to load.
    """

    def __init__(self, disabled: Iterable[str] = ()) -> None:
        self._disabled = frozenset(disabled)
        self._manager = pluggy.PluginManager(PROJECT_NAME)
        self._manager.add_hookspecs(HookSpecs)
        self._items: dict[Kind, dict[str, PluginItem]] = {kind: {} for kind in KINDS}
        self._failures: list[PluginFailure] = []
        self._distributions: dict[str, str] = {}
        self._loaded = False

    @property
    def failures(self) -> list[PluginFailure]:
        """Everything that was skipped, in the order it happened."""
        return list(self._failures)

    @property
    def plugins(self) -> dict[str, str]:
        """Registered plugin names mapped to their distribution."""
        return dict(self._distributions)

    def load(self, *, entry_points: bool = True) -> None:
        """Register the built-ins, then every entry point of the group ``otrade``.

        Loading twice does nothing.

        Args:
            entry_points: False to register only the built-ins (tests, embedded use).
        """
        if self._loaded:
            return
        self._loaded = True
        from otrade import _builtins  # noqa: PLC0415 - the built-ins import engines

        self.register(_builtins, name=PROJECT_NAME, distribution=PROJECT_NAME)
        if entry_points:
            for entry_point in importlib.metadata.entry_points(group=PROJECT_NAME):
                self._load_entry_point(entry_point)

    def _load_entry_point(self, entry_point: importlib.metadata.EntryPoint) -> None:
        distribution = entry_point.dist.name if entry_point.dist is not None else ""
        if entry_point.name in self._disabled or distribution in self._disabled:
            logger.bind(source="plugins").info(
                "plugin {!r} from {} is disabled in settings", entry_point.name, distribution
            )
            return
        try:
            plugin = entry_point.load()
        except Exception as error:  # noqa: BLE001 - a plugin's import failure is the plugin's
            self._fail(entry_point.name, distribution, f"failed to import: {error!r}")
            return
        self.register(plugin, name=entry_point.name, distribution=distribution)

    def register(self, plugin: object, *, name: str, distribution: str) -> bool:
        """Register one plugin object and the items its hooks return.

        Args:
            plugin: A module or object with ``@hookimpl`` functions.
            name: The plugin's name (entry-point name).
            distribution: The distribution it came from.

        Returns:
            False when the plugin as a whole was refused (its items are not registered).
        """
        if name in self._distributions:
            self._fail(name, distribution, f"a plugin named {name!r} is already registered")
            return False
        try:
            self._manager.register(plugin, name=name)
            self._manager.check_pending()
        except Exception as error:  # noqa: BLE001 - pluggy raises several kinds
            if self._manager.is_registered(plugin):
                self._manager.unregister(plugin)
            self._fail(name, distribution, f"invalid hook implementation: {error}")
            return False
        self._distributions[name] = distribution
        for caller in self._manager.get_hookcallers(plugin) or ():
            for implementation in caller.get_hookimpls():
                if implementation.plugin is plugin:
                    self._collect(caller.name, implementation.function, name, distribution)
        return True

    def _collect(
        self, hook: str, function: Callable[..., object], plugin: str, distribution: str
    ) -> None:
        kind = _HOOK_KINDS[hook]
        try:
            result = function()
        except Exception as error:  # noqa: BLE001 - a broken hook must not stop otrade
            self._fail(plugin, distribution, f"{hook}() raised {error!r}")
            return
        if isinstance(result, str | bytes) or not isinstance(result, Sequence):
            self._fail(plugin, distribution, f"{hook}() returned {result!r}, expected a list")
            return
        for value in cast(Sequence[object], result):
            try:
                item_name = _item_name(kind, value)
            except PluginError as error:
                self._fail(plugin, distribution, f"{hook}(): {error}")
                continue
            existing = self._items[kind].get(item_name)
            if existing is not None:
                self._fail(
                    plugin,
                    distribution,
                    f"{kind} name {item_name!r} is already registered by plugin "
                    f"{existing.plugin!r} ({existing.distribution}); skipped",
                )
                continue
            self._items[kind][item_name] = PluginItem(kind, item_name, value, plugin, distribution)

    def _fail(self, plugin: str, distribution: str, reason: str) -> None:
        failure = PluginFailure(plugin, distribution, reason)
        self._failures.append(failure)
        logger.bind(source="plugins").error("{}", failure)

    def items(self, kind: Kind | None = None) -> list[PluginItem]:
        """Registered items of one kind, or of every kind, in registration order."""
        kinds = KINDS if kind is None else (kind,)
        return [item for k in kinds for item in self._items[k].values()]

    def get(self, kind: Kind, name: str) -> object:
        """The item of ``kind`` registered under ``name``.

        Raises:
            PluginError: Nothing of that kind has that name (the message lists what does).
        """
        item = self._items[kind].get(name)
        if item is None:
            known = ", ".join(sorted(self._items[kind])) or "none"
            raise PluginError(f"no {kind} named {name!r}; registered: {known}")
        return item.value
