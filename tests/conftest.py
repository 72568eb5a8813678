"""Shared test configuration: capped torch threads, fixed seeds, real data paths."""

import importlib
import os
from pathlib import Path

import numpy as np
import pytest

try:  # torch is a core dependency, but keep collection working without it
    import torch
except ImportError:  # pragma: no cover
    torch = None

# Capped at import, before any fixture of any scope builds a model: two test
# workers' worth of threads on a 2-core machine makes small torch fits ~10x slower.
if torch is not None:
    torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parents[1]
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _shared_data_dir():
    """Where the real data lives: $FAIRREP_SHARED_DATA, else ../shared/data."""
    configured = os.environ.get("FAIRREP_SHARED_DATA")
    if configured:
        return Path(configured)
    return REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed_and_threads():
    np.random.seed(0)
    if torch is not None:
        torch.manual_seed(0)
    yield


# Set by the CI leg that runs the suite in the README's main environment
# (``.[report]``, no test extras): there a missing optional dependency skips.
EXTRAS_OPTIONAL = os.environ.get("FAIRREP_TEST_EXTRAS", "") == "optional"


def require_module(name, *, required_on_ci=True):
    """Import an optional dependency: skip without it, but fail under CI=true.

    Usable in a test, a fixture or at module level. ``required_on_ci=False``
    marks a dependency no extra of the test leg installs (it always skips);
    ``FAIRREP_TEST_EXTRAS=optional`` lets every one skip under CI=true (the
    CI leg without the test extras).
    """
    __tracebackhide__ = True  # reports name the calling test, not this helper
    try:
        return importlib.import_module(name)
    except ImportError as error:
        message = f"could not import {name!r}: {error}"
        if ON_CI and required_on_ci and not EXTRAS_OPTIONAL:
            pytest.fail(message + " (CI=true: the test extras install it)",
                        pytrace=False)
        pytest.skip(message, allow_module_level=True)


@pytest.fixture(scope="session")
def shared_data():
    """Path to the real data folder.

    Skips when it is absent on a developer machine; fails under CI=true,
    where real-data tests must run.
    """
    path = _shared_data_dir()
    if not path.is_dir():
        message = f"real data folder not found at {path}"
        if ON_CI:
            pytest.fail(message + " (CI=true: real-data tests must run)")
        pytest.skip(message)
    return path
