"""GridSearchCV over FairRep on Dask and Ray workers, with routed sensitive features.

The paper tunes alpha over [0.01, 0.001] (Chien & Lee, section 3.1); here that
grid, crossed with the adversary weight, runs through joblib's ``"dask"``
backend on a two-process :class:`dask.distributed.LocalCluster` and through
Ray's joblib backend on a local Ray instance. Each distributed search must give
the same ``cv_results_`` as the same search run in this process, its fold fits
must have run in the worker processes with one torch thread each, and the
routed ``sensitive_features`` must have reached both the fits (two groups seen
by the network) and the fairness scorer. See ``docs/distributed.rst``.

Dask is a test dependency: off CI a missing ``distributed`` skips its test,
under CI=true it fails it. Ray is optional (``pip install "fairrep[ray]"``, a
large install): its test runs where Ray is installed and skips elsewhere.
"""

import json
import logging
import os
import sys
import uuid
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
import torch
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from skorch.callbacks import Callback

from fairrep import FairRep
from fairrep.metrics import statistical_parity_scorer

# starts Dask (and Ray) clusters
pytestmark = pytest.mark.slow

PARAM_GRID = {"alpha": [0.01, 0.001], "adversary_weight": [0, 1]}
N_SPLITS = 2
N_CANDIDATES = 4
# Everything in cv_results_ but the timings, which differ from run to run.
COMPARED = [
    "param_alpha",
    "param_adversary_weight",
    "split0_test_parity",
    "split1_test_parity",
    "mean_test_parity",
    "std_test_parity",
    "rank_test_parity",
    "split0_test_accuracy",
    "split1_test_accuracy",
    "mean_test_accuracy",
    "std_test_accuracy",
    "rank_test_accuracy",
]


def _require(module_name, **kwargs):
    """``conftest.require_module``, imported on use: Dask and Ray workers import
    this module to unpickle :class:`FitRecorder`, and on their path ``conftest``
    is the repository root's, which has no such helper."""
    from tests.conftest import require_module

    return require_module(module_name, **kwargs)


class FitRecorder(Callback):
    """Write, at the start of each training run, which process ran it.

    One JSON file per fit in ``directory``: the process id, torch's intra-op
    thread count in the thread that trains, the number of sensitive groups the
    network was built with (2 only when ``sensitive_features`` reached ``fit``)
    and the number of training rows.
    """

    def __init__(self, directory):
        self.directory = directory

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        record = {
            "pid": os.getpid(),
            "torch_threads": torch.get_num_threads(),
            "n_groups": int(getattr(net, "n_groups", 0)),
            "n_rows": len(X),
            "alpha": float(net.alpha),
            "adversary_weight": float(net.adversary_weight),
        }
        path = Path(self.directory) / f"{os.getpid()}-{uuid.uuid4().hex}.json"
        path.write_text(json.dumps(record))


def _records(directory):
    return [json.loads(path.read_text()) for path in Path(directory).glob("*.json")]


@pytest.fixture(scope="module")
def grouped_data():
    """600 samples, 20 features, 3 classes, 2 groups shifting one feature."""
    rng = np.random.RandomState(0)
    n_samples, n_features = 600, 20
    y = rng.randint(0, 3, size=n_samples)
    groups = np.where(rng.rand(n_samples) < 0.5, "female", "male")
    X = rng.normal(size=(n_samples, n_features))
    X[np.arange(n_samples), y] += 1.5
    X[:, 5] += 0.8 * (groups == "female")
    return X.astype(np.float32), y, groups


def _run_search(X, y, groups, record_dir):
    """The paper's alpha grid x adversary weight, scored for parity and accuracy."""
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = FairRep(
            hidden_layer_sizes=(32,),
            embedding_dim=16,
            max_epochs=3,
            random_state=0,
            callbacks=[FitRecorder(str(record_dir))],
        ).set_fit_request(sensitive_features=True)
        search = GridSearchCV(
            estimator,
            PARAM_GRID,
            scoring={"parity": statistical_parity_scorer, "accuracy": "accuracy"},
            refit="accuracy",
            cv=StratifiedKFold(N_SPLITS),
            # a routing failure on a worker must fail the test, not become NaN
            error_score="raise",
        )
        return search.fit(X, y, sensitive_features=groups)


@pytest.fixture(scope="module")
def sequential_search(grouped_data, tmp_path_factory):
    """The reference: the same search with joblib's default backend, n_jobs=1."""
    record_dir = tmp_path_factory.mktemp("sequential_fits")
    search = _run_search(*grouped_data, record_dir)
    return search, _records(record_dir)


def _check_same_results(distributed, reference):
    for key in COMPARED:
        np.testing.assert_array_equal(
            np.asarray(distributed.cv_results_[key], dtype=float),
            np.asarray(reference.cv_results_[key], dtype=float),
            err_msg=key,
        )
    assert distributed.cv_results_["params"] == reference.cv_results_["params"]
    assert distributed.best_params_ == reference.best_params_


def _check_fit_records(records, n_rows, worker_pids=None):
    """Fold fits ran in other processes (``worker_pids`` when known) with 1 torch
    thread and the 2 routed groups; the refit on all rows ran in this process."""
    folds = [r for r in records if r["n_rows"] < n_rows]
    refits = [r for r in records if r["n_rows"] == n_rows]
    assert len(folds) == N_CANDIDATES * N_SPLITS
    assert os.getpid() not in {r["pid"] for r in folds}
    if worker_pids is not None:
        assert {r["pid"] for r in folds} <= set(worker_pids)
    assert all(r["torch_threads"] == 1 for r in folds)
    assert all(r["n_groups"] == 2 for r in records)
    assert sorted({(r["alpha"], r["adversary_weight"]) for r in folds}) == sorted(
        (a, w) for a in PARAM_GRID["alpha"] for w in PARAM_GRID["adversary_weight"]
    )
    assert len(refits) == 1 and refits[0]["pid"] == os.getpid()


def test_sequential_reference_runs_in_this_process(sequential_search, grouped_data):
    search, records = sequential_search
    n_rows = len(grouped_data[1])
    assert len(records) == N_CANDIDATES * N_SPLITS + 1
    assert {r["pid"] for r in records} == {os.getpid()}
    assert all(r["n_groups"] == 2 for r in records)
    # the grid matters: the parity scores are finite and not all equal
    parity = search.cv_results_["mean_test_parity"]
    assert np.all(np.isfinite(parity)) and np.ptp(parity) > 0
    assert {r["n_rows"] for r in records} == {n_rows // N_SPLITS, n_rows}


@pytest.fixture(scope="module")
def dask_client():
    """A client connected by address to a 2-process, 1-thread-each LocalCluster."""
    distributed = _require("distributed")
    cluster = distributed.LocalCluster(
        host="127.0.0.1",
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    # connect by the scheduler's address, as to an existing cluster
    client = distributed.Client(cluster.scheduler_address)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_grid_search_on_dask_matches_sequential(
    dask_client, sequential_search, grouped_data, tmp_path
):
    worker_pids = list(dask_client.run(os.getpid).values())
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    # the thread that runs tasks on a worker (not the event loop) has 1 torch thread
    assert dask_client.submit(torch.get_num_threads, pure=False).result() == 1

    with joblib.parallel_backend("dask"):
        search = _run_search(*grouped_data, tmp_path)

    reference, _ = sequential_search
    _check_same_results(search, reference)
    _check_fit_records(_records(tmp_path), len(grouped_data[1]), worker_pids)


@pytest.fixture(scope="module")
def ray_backend():
    """A local Ray instance with 2 CPUs, on loopback, and Ray's joblib backend."""
    # Ray on Linux binds its services to the machine's network address; this
    # switch, read by every Ray process when it imports ray, keeps a
    # one-machine instance on 127.0.0.1.
    previous = os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    module = sys.modules[__name__]
    ray = None
    registered = False
    try:
        ray = _require("ray", required_on_ci=False)
        from ray.util.joblib import register_ray

        register_ray()
        # Ray workers do not share this process's sys.path: send this module's
        # classes (the fit recorder) by value.
        ray.cloudpickle.register_pickle_by_value(module)
        registered = True
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        address = ray.get_runtime_context().gcs_address
        if not address.startswith("127.0.0.1:"):
            pytest.fail(
                f"Ray started on {address}, not on loopback: import ray only after "
                "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 is set."
            )
        yield ray
    finally:
        if ray is not None:
            ray.shutdown()
        if registered:
            ray.cloudpickle.unregister_pickle_by_value(module)
        if previous is None:
            os.environ.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
        else:
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = previous


def test_grid_search_on_ray_matches_sequential(
    ray_backend, sequential_search, grouped_data, tmp_path
):
    with joblib.parallel_backend("ray"):
        search = _run_search(*grouped_data, tmp_path)

    reference, _ = sequential_search
    _check_same_results(search, reference)
    # Ray's joblib pool runs in actor processes started for this search, so
    # their ids are not known beforehand: only "not this process" is checked
    _check_fit_records(_records(tmp_path), len(grouped_data[1]))
