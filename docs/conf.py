"""Sphinx configuration of the hyperspy-eelsid user guide.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from hyperspy_eelsid import __version__

project = "hyperspy-eelsid"
author = "the hyperspy-eelsid developers"
copyright = "2026, the hyperspy-eelsid developers"
version = release = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "scripts", "figures"]  # figures/*.md are {include}d
myst_heading_anchors = 3
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_mock_imports = []
autosummary_generate = False
nitpicky = False
html_theme = "furo"
html_title = f"hyperspy-eelsid {version}"
intersphinx_mapping = {}
suppress_warnings = ["myst.xref_missing"]
