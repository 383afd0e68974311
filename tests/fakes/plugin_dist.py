"""Write real throwaway distributions (a package plus a ``.dist-info``) into a directory.

Putting that directory on ``sys.path`` (or ``PYTHONPATH`` for a subprocess) makes
``importlib.metadata`` find the distribution and its ``otrade`` entry points exactly as
it finds a pip-installed package.
"""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_distribution(
    site: Path, name: str, version: str, entry_points: dict[str, str], modules: dict[str, str]
) -> None:
    """Create ``<site>/<name>-<version>.dist-info`` and the given top-level modules."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = ["[otrade]"] + [f"{key} = {value}" for key, value in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


GOOD_PLUGIN = '''
    """A well-behaved third-party plugin."""
    from otrade.engine import BaseEngine
    from otrade.gateways.base import BaseGateway
    from otrade.plugins import hookimpl


    class AcmeGateway(BaseGateway):
        default_name = "acme"

        def connect(self, settings):
            self.write_log("acme connecting")

        def close(self):
            pass

        def send_order(self, request):
            return "acme-1"

        def cancel_order(self, request):
            pass

        def subscribe(self, request):
            pass


    class AcmeEngine(BaseEngine):
        engine_name = "acme_engine"


    class AcmeCondor:
        name = "acme_condor"


    class AcmeStrategy:
        pass


    @hookimpl
    def otrade_gateways():
        return [AcmeGateway]


    @hookimpl
    def otrade_engines():
        return [AcmeEngine]


    @hookimpl
    def otrade_combo_types():
        return [AcmeCondor]


    @hookimpl
    def otrade_strategies():
        return [AcmeStrategy]
'''

BROKEN_IMPORT_PLUGIN = """
    raise ImportError("acme_broken needs libfoo")
"""

INVALID_PLUGIN = '''
    """Returns things otrade cannot register, next to one valid datafeed."""
    from otrade.plugins import hookimpl


    class NotAGateway:
        default_name = "fake"


    class GoodFeed:
        name = "good_feed"


    class NamelessFeed:
        pass


    @hookimpl
    def otrade_gateways():
        return [NotAGateway]


    @hookimpl
    def otrade_datafeeds():
        return [GoodFeed, NamelessFeed]


    @hookimpl
    def otrade_engines():
        raise RuntimeError("engine hook exploded")


    @hookimpl
    def otrade_strategies():
        return 42
'''

BAD_SIGNATURE_PLUGIN = """
    from otrade.plugins import hookimpl


    @hookimpl
    def otrade_gateways(unknown_argument):
        return []
"""


def write_test_plugins(site: Path) -> None:
    """The four distributions the plugin tests use."""
    write_distribution(
        site, "acme-otrade", "1.2.0", {"acme": "acme_plugin"}, {"acme_plugin": GOOD_PLUGIN}
    )
    write_distribution(
        site,
        "acme-broken",
        "0.1",
        {"acme_broken": "acme_broken_plugin"},
        {"acme_broken_plugin": BROKEN_IMPORT_PLUGIN},
    )
    write_distribution(
        site,
        "acme-invalid",
        "0.1",
        {"acme_invalid": "acme_invalid_plugin"},
        {"acme_invalid_plugin": INVALID_PLUGIN},
    )
    write_distribution(
        site,
        "acme-badsig",
        "0.1",
        {"acme_badsig": "acme_badsig_plugin"},
        {"acme_badsig_plugin": BAD_SIGNATURE_PLUGIN},
    )
