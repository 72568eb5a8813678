"""NRL: FairRep without the adversary, with the Wasserstein critic."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from fairrep.baselines import NRL
from fairrep.metrics import statistical_parity_score
from fairrep.representation import FairRep

SMALL = {
    "hidden_layer_sizes": (16,),
    "embedding_dim": 8,
    "max_epochs": 5,
    "random_state": 0,
}


def planted_bias(n=600, seed=0):
    rng = np.random.RandomState(seed)
    s = rng.randint(0, 2, n)
    X = rng.normal(size=(n, 6))
    X[:, 0] += 1.5 * s
    X[:, 1] += s
    y = (X[:, 0] + X[:, 2] + 0.5 * rng.normal(size=n) > 0.75).astype(int)
    return X, y, np.where(s == 1, "f", "m")


def test_nrl_is_fairrep_without_adversary_with_critic():
    params = NRL().get_params()
    assert params["adversary_weight"] == 0.0
    assert params["distance"] == "critic"
    assert isinstance(NRL(), FairRep)
    # same parameters, same seed: the same network as the FairRep configuration
    X, y, s = planted_bias(n=200)
    nrl = NRL(**SMALL).fit(X, y, sensitive_features=s)
    fairrep = FairRep(**SMALL, alpha=1.0, adversary_weight=0.0, distance="critic")
    fairrep.fit(X, y, sensitive_features=s)
    np.testing.assert_allclose(
        nrl.transform(X), fairrep.transform(X), rtol=1e-6, atol=1e-6
    )
    assert "distance_loss" in nrl.history_.columns
    assert "adversary_loss" not in nrl.history_.columns
    assert nrl.transform(X).shape == (200, 8)


def test_clone_keeps_nrl_defaults_and_changes():
    model = clone(NRL(alpha=3.0, distance_params={"clip": 0.05}))
    assert type(model) is NRL
    assert model.alpha == 3.0 and model.distance_params == {"clip": 0.05}


def test_nrl_bad_input_names_the_argument():
    X, y, s = planted_bias(n=60)
    with pytest.raises(InvalidParameterError, match="alpha"):
        NRL(alpha=-1.0, **SMALL).fit(X, y, sensitive_features=s)
    with pytest.raises(ValueError, match="distance_params"):
        NRL(distance_params={"reg": 0.1}, **SMALL).fit(X, y, sensitive_features=s)
    with pytest.raises(ValueError, match="at least 2 distinct groups"):
        NRL(**SMALL).fit(X, y, sensitive_features=np.repeat("m", 60))


@pytest.mark.xfail(
    strict=True,
    reason="not yet: the weight-clipped critic (clip=0.01) is too weak; its "
    "estimate stays near 0.003 and alpha=30 moves the gap only from 0.323 to 0.291",
)
def test_critic_closes_parity_gap():
    X, y, s = planted_bias(n=1200)
    tr, te = slice(0, 800), slice(800, None)
    gaps = {}
    for alpha in (0.0, 30.0):
        model = NRL(
            hidden_layer_sizes=(32,),
            embedding_dim=16,
            max_epochs=30,
            alpha=alpha,
            random_state=0,
        ).fit(X[tr], y[tr], sensitive_features=s[tr])
        gaps[alpha] = statistical_parity_score(
            y[te], model.predict(X[te]), sensitive_features=s[te]
        )
    assert gaps[0.0] > 0.25  # the planted bias is there to remove
    assert gaps[30.0] < gaps[0.0] - 0.1
