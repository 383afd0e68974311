"""Sphinx configuration for the otrade documentation."""

from __future__ import annotations

import sys
from pathlib import Path

from otrade.__about__ import __version__

# Local extensions (the combo catalogue, generated from the built-in definitions).
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "otrade"
author = "otrade developers"
copyright = "2026, otrade developers"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx_autodoc_typehints",
    "combo_catalogue",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# _generated holds pages included into others (the combo catalogue), not pages of their own.
exclude_patterns = ["_build", "_generated"]
html_theme = "furo"
html_title = f"otrade {version}"

autodoc_member_order = "bysource"
# Our docstrings are our own; inherited ones (SQLAlchemy's) reference labels we do not have.
autodoc_inherit_docstrings = False
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
typehints_fully_qualified = False
always_document_param_types = False
myst_heading_anchors = 3
# loguru's record and message types exist only in its type stubs (``if TYPE_CHECKING``).
suppress_warnings = ["sphinx_autodoc_typehints.guarded_import"]
