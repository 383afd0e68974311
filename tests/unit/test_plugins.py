"""Plugins: real throwaway distributions with entry points, loaded through pluggy."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from otrade.errors import PluginError
from otrade.plugins import PluginRegistry, hookimpl
from tests.fakes.plugin_dist import write_test_plugins

PLUGIN_MODULES = ("acme_plugin", "acme_broken_plugin", "acme_invalid_plugin", "acme_badsig_plugin")


@pytest.fixture
def site(tmp_path, monkeypatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    write_test_plugins(site)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    for module in PLUGIN_MODULES:
        sys.modules.pop(module, None)


def loaded(disabled: tuple[str, ...] = ()) -> PluginRegistry:
    registry = PluginRegistry(disabled)
    registry.load()
    return registry


def test_items_of_an_installed_distribution_are_registered_with_their_distribution(site):
    registry = loaded()
    acme = {(i.kind, i.name): i for i in registry.items() if i.plugin == "acme"}
    assert set(acme) == {
        ("gateway", "acme"),
        ("engine", "acme_engine"),
        ("combo_type", "acme_condor"),
        ("strategy", "AcmeStrategy"),
    }
    assert {item.distribution for item in acme.values()} == {"acme-otrade"}
    assert registry.get("gateway", "acme").__name__ == "AcmeGateway"
    assert registry.plugins["acme"] == "acme-otrade"
    assert registry.plugins["otrade"] == "otrade"


def test_broken_and_invalid_plugins_are_reported_by_name_and_skipped(site):
    registry = loaded()
    failures = [str(failure) for failure in registry.failures]
    expected = [
        "plugin 'acme_broken' (distribution acme-broken): failed to import: "
        "ImportError('acme_broken needs libfoo')",
        "plugin 'acme_invalid' (distribution acme-invalid): otrade_gateways(): gateway "
        "<class 'acme_invalid_plugin.NotAGateway'> is not a subclass of BaseGateway",
        "plugin 'acme_invalid' (distribution acme-invalid): otrade_datafeeds(): datafeed "
        "<class 'acme_invalid_plugin.NamelessFeed'> has no non-empty string attribute 'name'",
        "plugin 'acme_invalid' (distribution acme-invalid): otrade_engines() raised "
        "RuntimeError('engine hook exploded')",
        "plugin 'acme_invalid' (distribution acme-invalid): otrade_strategies() returned 42, "
        "expected a list",
    ]
    for message in expected:
        assert message in failures
    assert any(
        f.startswith("plugin 'acme_badsig' (distribution acme-badsig): invalid hook implementation")
        and "unknown_argument" in f
        for f in failures
    )
    # The valid item of the invalid plugin and the good plugin still work.
    assert registry.get("datafeed", "good_feed").__name__ == "GoodFeed"
    assert registry.get("gateway", "acme").__name__ == "AcmeGateway"
    with pytest.raises(PluginError, match="no gateway named 'fake'; registered: acme"):
        registry.get("gateway", "fake")


def test_disabled_plugins_are_not_loaded_by_entry_point_or_distribution_name(site):
    registry = loaded(disabled=("acme", "acme-invalid"))
    assert "acme" not in registry.plugins
    assert "acme_invalid" not in registry.plugins
    assert not any("acme_invalid" in str(f) for f in registry.failures)
    assert "acme_plugin" not in sys.modules


def test_without_entry_points_only_the_builtins_are_registered(site):
    registry = PluginRegistry()
    registry.load(entry_points=False)
    assert registry.plugins == {"otrade": "otrade"}
    assert registry.failures == []
    registry.load()  # a second load does nothing
    assert registry.plugins == {"otrade": "otrade"}


def test_a_duplicate_item_name_keeps_the_first_and_reports_the_second(site):
    registry = loaded()
    first = registry.get("gateway", "acme")

    class Copy:
        @hookimpl
        def otrade_gateways(self):
            return [first]

    assert registry.register(Copy(), name="copycat", distribution="copycat-dist")
    assert registry.get("gateway", "acme") is first
    assert str(registry.failures[-1]) == (
        "plugin 'copycat' (distribution copycat-dist): gateway name 'acme' is already "
        "registered by plugin 'acme' (acme-otrade); skipped"
    )


def test_a_plugin_name_cannot_be_registered_twice():
    registry = PluginRegistry()
    registry.load(entry_points=False)

    class Empty:
        pass

    assert not registry.register(Empty(), name="otrade", distribution="impostor")
    assert "already registered" in str(registry.failures[-1])


def test_otrade_plugins_command_lists_items_with_their_distribution(site, tmp_path):
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.getcwd()]))
    environment.pop("OTRADE_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-m", "otrade", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=60,
    )
    document = json.loads(result.stdout)
    assert {
        "kind": "gateway",
        "name": "acme",
        "plugin": "acme",
        "distribution": "acme-otrade",
    } in document["items"]
    assert any("acme_broken" in failure for failure in document["failures"])

    table = subprocess.run(
        [sys.executable, "-m", "otrade", "plugins"],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=60,
    ).stdout
    assert any(
        line.split() == ["gateway", "acme", "acme", "acme-otrade"] for line in table.splitlines()
    )
    assert "skipped: plugin 'acme_broken' (distribution acme-broken)" in table
