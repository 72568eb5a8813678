"""Sphinx configuration for the fairrep documentation."""

import fairrep

project = "fairrep"
author = "the fairrep developers"
release = fairrep.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]
try:  # the gallery is optional: CI may build the docs without running examples
    import sphinx_gallery  # noqa: F401
except ImportError:
    pass
else:
    extensions.append("sphinx_gallery.gen_gallery")
    sphinx_gallery_conf = {
        "examples_dirs": "../examples",
        "gallery_dirs": "auto_examples",
        "filename_pattern": r"/plot_",
        "plot_gallery": "True",
    }

autosummary_generate = True
numpydoc_show_class_members = False
templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
