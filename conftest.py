"""Root test configuration, shared by tests/ and the doctests in fairrep/.

Caps torch's and the native thread pools (OpenMP, BLAS) at one thread for the
whole run: on a 2-core machine shared with other jobs, small fits and t-SNE
runs are several times slower with more threads than cores.

Also marks the tests of DataFrame code ``pandas``, by module, for the CI leg
that runs in the README's main environment (pandas 3).
"""

from threadpoolctl import threadpool_limits

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

if torch is not None:
    torch.set_num_threads(1)
threadpool_limits(limits=1)


# The tests of DataFrame code (ratings, corpora, tables, the report, the command
# line), which a pandas major version can break: the CI leg that installs the
# README's main command (``.[report]``, pandas 3) runs these, ``-m pandas``.
PANDAS_TEST_MODULES = frozenset({
    "test_raters", "test_raters_real", "test_datasets_synthetic", "test_loaders",
    "test_popquorn", "test_tabular", "test_bad_inputs_data", "test_report",
    "test_cli", "test_cli_popquorn", "test_metrics", "test_speaker_scaler",
    "test_study", "test_text_features", "test_readme",
})
# ... and the doctests of the subpackages built on pandas.
PANDAS_PACKAGES = frozenset({"raters", "datasets", "experiments", "metrics", "utils"})


def pytest_collection_modifyitems(config, items):
    """Mark the tests of DataFrame code ``pandas`` (see ``PANDAS_TEST_MODULES``)."""
    for item in items:
        path = item.path
        doctest_of_pandas_code = (
            path.parent.parent.name == "fairrep" and path.parent.name in PANDAS_PACKAGES
        )
        if path.stem in PANDAS_TEST_MODULES or doctest_of_pandas_code:
            item.add_marker("pandas")
