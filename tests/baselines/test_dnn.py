"""The DNN baseline: three fully connected layers sharing FairRep's machinery."""

import pickle

import numpy as np
import pytest
import torch
from torch import nn

from fairrep.baselines._dnn import DNNClassifier
from fairrep.representation import FairRep

SMALL = {"hidden_layer_sizes": (16, 8), "max_epochs": 20, "random_state": 0}


def _data(n_samples=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 5))
    y = np.array(["neutral", "anger", "sadness"])[
        (X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)
    ]
    return X, y


def test_three_fully_connected_layers_and_last_hidden_transform():
    X, y = _data()
    model = DNNClassifier(**SMALL).fit(X, y)
    linears = [m for m in model.net_.module_.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(5, 16), (16, 8), (8, 3)]
    hidden = model.transform(X)
    assert hidden.shape == (300, 8)
    assert (hidden >= 0).all()  # ReLU activations of the last hidden layer
    # the head applied to the transform gives the predictions
    head = model.net_.module_.head.eval()
    with torch.no_grad():
        logits = head(torch.from_numpy(hidden))
    np.testing.assert_array_equal(model.classes_[logits.argmax(1).numpy()], model.predict(X))


def test_learns_and_has_no_fairness_parts():
    X, y = _data()
    model = DNNClassifier(**{**SMALL, "max_epochs": 60}).fit(X, y)
    assert model.score(X, y) > 0.85  # the majority class alone scores 0.51
    assert model.classes_.tolist() == ["anger", "neutral", "sadness"]
    assert not hasattr(model.net_, "adversary_")
    assert not hasattr(model, "groups_")
    assert list(model.history_.columns) == ["epoch", "train_loss", "emotion_loss", "dur"]
    with pytest.raises(TypeError, match="sensitive_features"):
        model.fit(X, y, sensitive_features=np.zeros(len(X)))


def test_same_training_as_fairrep_without_fairness():
    # with no groups, FairRep with embedding_dim=8 and its ReLU embedding
    # (scale_free=False) is the same network and the same seeded training as
    # a DNN whose last hidden layer is 8 wide
    X, y = _data()
    dnn = DNNClassifier(**SMALL).fit(X, y)
    fairrep = FairRep(hidden_layer_sizes=(16,), embedding_dim=8, max_epochs=20,
                      scale_free=False, random_state=0).fit(X, y)
    np.testing.assert_allclose(dnn.transform(X), fairrep.transform(X), rtol=1e-5, atol=1e-6)


def test_deterministic_and_pickles():
    X, y = _data()
    first = DNNClassifier(**SMALL).fit(X, y)
    second = DNNClassifier(**SMALL).fit(X, y)
    np.testing.assert_array_equal(first.transform(X), second.transform(X))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.predict_proba(X), first.predict_proba(X))


def test_bad_input():
    X, y = _data(n_samples=40)
    with pytest.raises(ValueError, match="hidden_layer_sizes must contain at least one"):
        DNNClassifier(hidden_layer_sizes=()).fit(X, y)
    with pytest.raises(ValueError, match="'lr' parameter"):
        DNNClassifier(lr=0).fit(X, y)
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        DNNClassifier(**SMALL).fit(X_inf, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        DNNClassifier(**SMALL).fit(X, y[:10])
