"""make_planted_bias: the group is planted where stated and nowhere else."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from fairrep.datasets import make_planted_bias


def test_group_sits_in_the_group_features_only():
    X, y, group = make_planted_bias(4000, n_group_features=3, n_noise_features=2,
                                    random_state=0)
    assert X.shape == (4000, 6) and set(group) == {"a", "b"} and set(y) == {0, 1}
    is_a = group == "a"
    shift = X[is_a].mean(0) - X[~is_a].mean(0)
    np.testing.assert_allclose(shift[1:4], 1.5, atol=0.1)
    np.testing.assert_allclose(shift[[0, 4, 5]], 0.0, atol=0.1)
    # the label does not depend on the group ...
    assert abs(y[is_a].mean() - y[~is_a].mean()) < 0.04
    # ... and feature 0 alone reaches the Bayes rate 1 - arctan(0.9) / pi
    bayes = 1 - np.arctan(0.9) / np.pi
    assert abs(np.mean(y == (X[:, 0] > 0)) - bayes) < 0.02
    blind = cross_val_score(LogisticRegression(), X[:, :1], y, cv=3).mean()
    assert blind > bayes - 0.03


def test_same_seed_same_data_and_parameters_checked():
    first, second = make_planted_bias(50, random_state=3), make_planted_bias(50, random_state=3)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert make_planted_bias(50, n_noise_features=0, random_state=0)[0].shape == (50, 5)
    with pytest.raises(ValueError, match="n_samples"):
        make_planted_bias(1)
    with pytest.raises(ValueError, match="group_shift"):
        make_planted_bias(10, group_shift=-1.0)
