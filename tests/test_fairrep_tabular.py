"""FairRep against fairlearn's ExponentiatedGradient on real tabular data in a wheel.

The acceptance criterion: a non-constant FairRep operating point with statistical
parity <= 0.02 whose accuracy is at least ExponentiatedGradient's
(LogisticRegression, DemographicParity) on the same split. The operating point
is the best one found by ``benchmarks/bench_fairrep_tradeoff.py`` on German
credit (sensitive = sex): alpha = 1, adversary_weight = 1.
"""

import numpy as np
import pytest
import torch

from fairrep.baselines import ExponentiatedGradientClassifier, is_degenerate
from fairrep.metrics import statistical_parity_score
from fairrep.representation import FairRep
from test_baselines_real import german  # noqa: F401  (the shared German split)


def _score(model, data, uses_groups=True):
    X_tr, X_te, y_tr, y_te, s_tr, s_te = data
    model.fit(X_tr, y_tr, sensitive_features=s_tr)
    y_pred = model.predict(X_te)
    return {
        "accuracy": float(np.mean(y_pred == y_te)),
        "parity": statistical_parity_score(y_te, y_pred, sensitive_features=s_te),
        "degenerate": bool(is_degenerate(y_pred)),
    }


@pytest.fixture(scope="module")
def german_results(german):  # noqa: F811
    pytest.importorskip("fairlearn")
    torch.set_num_threads(1)
    fairrep = _score(
        FairRep(hidden_layer_sizes=(64,), embedding_dim=32, alpha=1.0,
                adversary_weight=1.0, max_epochs=30, random_state=0),
        german,
    )
    expgrad = _score(ExponentiatedGradientClassifier(random_state=0), german)
    return fairrep, expgrad


def test_german_operating_point_is_not_constant(german_results):
    fairrep, _ = german_results
    assert not fairrep["degenerate"]


@pytest.mark.xfail(
    strict=True,
    reason="not yet: on German credit the FairRep point alpha=1, adversary_weight=1 "
    "has accuracy 0.717 (ExponentiatedGradient 0.710) but parity 0.023, above "
    "0.02; before the simultaneous adversary updates it was parity 0.015 at "
    "accuracy 0.707 (docs/fairrep.rst)",
)
def test_german_fair_point_matches_exponentiated_gradient(german_results):
    fairrep, expgrad = german_results
    assert fairrep["parity"] <= 0.02, fairrep
    assert fairrep["accuracy"] >= expgrad["accuracy"], (fairrep, expgrad)
