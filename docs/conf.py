"""Sphinx configuration for the fairrep documentation.

The example gallery (``examples/plot_*.py``, rendered into ``auto_examples/``)
needs sphinx-gallery; without it the rest of the site still builds. Running
the examples takes a few minutes on a small machine: set
``FAIRREP_DOCS_RUN_GALLERY=0`` to build the gallery pages from the scripts'
text and code without executing them (no figures, no printed output).
"""

import os

from docutils import nodes

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


def _env_flag(name, default):
    """``"True"`` or ``"False"`` from an environment variable set to 0/1/no/yes."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"0", "false", "no", "off"}:
        return "False"
    if value in {"1", "true", "yes", "on"}:
        return "True"
    raise ValueError(
        f"{name}={os.environ[name]!r}: expected 1/true/yes/on or 0/false/no/off."
    )


try:  # the gallery is optional: CI may build the docs without running examples
    from sphinx_gallery.sorting import ExplicitOrder
except ImportError:
    # index.rst lists auto_examples/index and tables.rst links the examples'
    # labels: only the gallery creates them, so a build without it would
    # warn about each one.
    suppress_warnings = ["toc.not_readable", "ref.ref"]
else:
    extensions.append("sphinx_gallery.gen_gallery")
    sphinx_gallery_conf = {
        "examples_dirs": "../examples",
        "gallery_dirs": "auto_examples",
        "filename_pattern": r"/plot_",
        "plot_gallery": _env_flag("FAIRREP_DOCS_RUN_GALLERY", "True"),
        # from the first contact to the speech front end; new scripts go last
        "within_subsection_order": ExplicitOrder([
            "plot_quick_start.py",
            "plot_perspectives.py",
            "plot_grid_search_fairness.py",
            "plot_tabular_dropin.py",
            "plot_speech_pipeline.py",
            "*",
        ]),
        "download_all_examples": False,
        "remove_config_comments": True,
    }

autosummary_generate = True
numpydoc_show_class_members = False
templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"


# Methods inherited from scikit-learn (``ClassifierMixin.score``) cite labels of
# scikit-learn's user guide, which this site does not have. They are resolved to
# scikit-learn's pages here, offline, instead of through intersphinx, so that a
# build without network access stays free of warnings.
SKLEARN_USER_GUIDE = "https://scikit-learn.org/stable/modules/"
SKLEARN_LABELS = {
    "accuracy_score": "model_evaluation.html#accuracy-score",
    "r2_score": "model_evaluation.html#r2-score",
}


def _link_sklearn_user_guide(app, env, node, contnode):
    """Resolve a ``:ref:`` to a scikit-learn user-guide label to its web page."""
    target = node.get("reftarget")
    if node.get("reftype") != "ref" or target not in SKLEARN_LABELS:
        return None
    reference = nodes.reference(
        "", "", internal=False, refuri=SKLEARN_USER_GUIDE + SKLEARN_LABELS[target]
    )
    reference += contnode
    return reference


def setup(app):
    app.connect("missing-reference", _link_sklearn_user_guide)
