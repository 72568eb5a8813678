"""Behaviour of FairRep (stage 1, section 2.2.2, eq. 1) and its distances."""

import pickle

import numpy as np
import ot
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from fairrep.representation import (
    FairRep,
    exact_wasserstein,
    group_distance,
    sinkhorn_divergence,
    sliced_wasserstein,
)
from fairrep.representation._distances import critic_distance
from fairrep.representation._modules import Critic, gradient_reversal
from fairrep.utils._torch import resolve_device

SMALL = {"hidden_layer_sizes": (16,), "embedding_dim": 8, "max_epochs": 4, "random_state": 0}


def _data(n_samples=240, n_features=6, n_groups=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=n_samples) > 0, "anger", "neutral")
    groups = np.array(["f", "m", "x"][:n_groups])[rng.randint(0, n_groups, n_samples)]
    return X, y, groups


def _planted_bias(n_samples=600, seed=0):
    """Group strongly readable from 4 features, label from others (and weakly the group)."""
    rng = np.random.RandomState(seed)
    group = rng.randint(0, 2, n_samples)
    task = rng.normal(size=(n_samples, 4))
    leak = rng.normal(size=(n_samples, 4)) + 2.5 * group[:, None]
    X = np.hstack([task, leak])
    y = (task[:, 0] + task[:, 1] + 0.5 * group + 0.3 * rng.normal(size=n_samples) > 0.25)
    return X, y.astype(int), np.where(group == 1, "female", "male")


# -- distances -------------------------------------------------------------


@pytest.mark.parametrize(
    "distance_fn",
    [
        lambda x, y: sinkhorn_divergence(x, y, reg=1.0),
        lambda x, y: sliced_wasserstein(x, y, n_projections=20),
        exact_wasserstein,
    ],
    ids=["sinkhorn", "sliced", "exact"],
)
def test_distance_zero_identical_positive_and_growing(distance_fn):
    x = torch.randn(20, 5, dtype=torch.float64)
    assert float(distance_fn(x, x.clone())) == pytest.approx(0.0, abs=1e-9)
    values = [float(distance_fn(x, x + shift)) for shift in (0.5, 1.0, 2.0)]
    assert values[0] > 0.1
    assert values[0] < values[1] < values[2]
    # a pure translation by t moves every point by |t|^2 (squared costs)
    if distance_fn is exact_wasserstein:
        assert values[2] == pytest.approx(4.0 * 5, rel=1e-9)


def _entropic_ot(x, y, reg):
    """<P, C> + reg KL(P | a b^T) with POT's plan: the entropic OT objective."""
    cost = ot.dist(x, y)
    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    plan = ot.sinkhorn(a, b, cost, reg, numItermax=20000, stopThr=1e-13)
    positive = plan > 0
    kl = (plan[positive] * np.log(plan[positive] / np.outer(a, b)[positive])).sum()
    return (plan * cost).sum() + reg * kl


@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")
def test_sinkhorn_divergence_matches_pot():
    """The value is the entropic divergence whose gradient is descended.

    POT's ``empirical_sinkhorn_divergence`` reports the sharp costs
    :math:`\\langle P, C \\rangle` of the entropic plans; the objective the plans
    optimise, and whose envelope gradient the encoder follows, adds
    :math:`\\varepsilon\\,\\mathrm{KL}(P \\mid a b^\\top)`.
    """
    rng = np.random.RandomState(1)
    x, y = rng.normal(size=(13, 4)), rng.normal(size=(9, 4)) + 0.7
    for reg in (0.5, 2.0):
        ours = sinkhorn_divergence(torch.tensor(x), torch.tensor(y), reg=reg, n_iter=500)
        reference = (_entropic_ot(x, y, reg) - 0.5 * _entropic_ot(x, x, reg)
                     - 0.5 * _entropic_ot(y, y, reg))
        assert float(ours) == pytest.approx(reference, rel=1e-5)
        sharp = ot.bregman.empirical_sinkhorn_divergence(
            x, y, reg, numIterMax=5000, stopThr=1e-10
        )
        assert abs(float(ours) - float(sharp)) > 1e-3  # not the sharp value


def test_sliced_and_exact_match_pot():
    rng = np.random.RandomState(2)
    x, y = torch.tensor(rng.normal(size=(11, 3))), torch.tensor(rng.normal(size=(7, 3)) + 1)
    directions = torch.tensor(rng.normal(size=(3, 30)))
    directions /= directions.norm(dim=0)
    reference = ot.sliced_wasserstein_distance(x, y, projections=directions, p=2) ** 2
    assert float(sliced_wasserstein(x, y, projections=directions)) == pytest.approx(
        float(reference), rel=1e-9
    )
    cost = ot.dist(x.numpy(), y.numpy())
    reference = ot.emd2(np.full(11, 1 / 11), np.full(7, 1 / 7), cost)
    assert float(exact_wasserstein(x, y)) == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize("distance", ["sinkhorn", "sliced", "exact"])
def test_group_distance_is_differentiable_and_pulls_groups_together(distance):
    torch.manual_seed(0)
    z = torch.randn(32, 4)
    codes = torch.tensor([0, 1] * 16)
    z[codes == 1] += 2.0
    z.requires_grad_(True)
    value = group_distance(z, codes, distance=distance)
    value.backward()
    assert torch.isfinite(z.grad).all()
    assert z.grad.abs().sum() > 0
    # a small step against the gradient reduces the distance
    with torch.no_grad():
        moved = z - 0.05 * z.grad / z.grad.norm()
        torch.manual_seed(1)
        after = group_distance(moved, codes, distance=distance)
        torch.manual_seed(1)
        before = group_distance(z, codes, distance=distance)
    assert float(after) < float(before)


def test_group_distance_skips_batches_with_one_group_and_ignores_missing():
    z = torch.randn(6, 3)
    assert group_distance(z, torch.tensor([0, 0, 0, -1, -1, -1])) is None
    assert group_distance(z, torch.tensor([-1] * 6)) is None
    # missing rows do not change the value
    codes = torch.tensor([0, 0, 1, 1, -1, -1])
    full = group_distance(z, codes, distance="exact")
    assert float(full) == pytest.approx(float(exact_wasserstein(z[:2], z[2:4])))


def test_group_distance_averages_over_group_pairs():
    z = torch.tensor([[0.0], [1.0], [3.0]])
    codes = torch.tensor([0, 1, 2])
    # pairs (0,1), (0,2), (1,2): squared distances 1, 9, 4
    assert float(group_distance(z, codes, distance="exact")) == pytest.approx(14 / 3)


def test_group_distance_rejects_unknown_distance():
    with pytest.raises(ValueError, match="distance must be one of"):
        group_distance(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), distance="energy")


def test_critic_estimate_zero_for_identical_and_grows_with_shift():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    codes = torch.tensor([0] * 64 + [1] * 64)
    critic = Critic(3, 16, 1, clip=0.1)
    with torch.no_grad():
        same = critic_distance(critic(torch.cat([x, x])), codes, [(0, 1)])[0]
    assert abs(float(same)) < 1e-6  # zero up to float rounding
    estimates = []
    for shift in (0.5, 2.0):
        critic = Critic(3, 16, 1, clip=0.1)
        optimizer = torch.optim.Adam(critic.parameters(), lr=1e-2)
        batch = torch.cat([x + shift, x])
        for _ in range(200):
            critic.clip_weights()
            loss = -critic_distance(critic(batch), codes, [(0, 1)])[0]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        critic.clip_weights()
        with torch.no_grad():
            estimates.append(float(critic_distance(critic(batch), codes, [(0, 1)])[0]))
    assert estimates[0] > 0
    assert estimates[1] > 2 * estimates[0]


def test_gradient_reversal_negates_gradient():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (3 * gradient_reversal(x)).sum().backward()
    assert x.grad.tolist() == [-3.0, -3.0]


# -- estimator basics ------------------------------------------------------


def test_fit_shapes_and_attributes():
    X, y, groups = _data()
    model = FairRep(**SMALL).fit(X, y, sensitive_features=groups)
    assert model.transform(X).shape == (len(X), 8)
    assert model.transform(X).dtype == np.float32
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(model.predict(X)) <= {"anger", "neutral"}
    assert model.classes_.tolist() == ["anger", "neutral"]
    assert model.groups_.tolist() == ["f", "m"]
    assert model.n_features_in_ == 6
    assert model.n_iter_ == 4 == len(model.history_)
    assert {"emotion_loss", "adversary_loss", "distance_loss", "train_loss"} <= set(
        model.history_.columns
    )
    assert hasattr(model.net_, "adversary_")
    # with the confusion loss the encoder's term is KL(uniform || adversary) >= 0
    last = model.history_.iloc[-1]
    assert last.train_loss >= last.emotion_loss + 0.01 * last.distance_loss - 1e-6


def test_reversal_train_loss_is_eq1():
    X, y, groups = _data()
    model = FairRep(**SMALL, adversary_loss="reversal", adversary_weight=1.0)
    model.fit(X, y, sensitive_features=groups)
    # train_loss is eq. (1): L1 - L_A + alpha * L_D
    last = model.history_.iloc[-1]
    expected = last.emotion_loss - last.adversary_loss + 0.01 * last.distance_loss
    assert last.train_loss == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("adversary_steps", [1, 3])
def test_adversary_and_critic_are_trained(adversary_steps):
    # they live outside skorch's module registry: their parameters must still move
    X, y, groups = _planted_bias(n_samples=200)
    # on the raw embedding (scale_free=False) the critic's estimate is a W1 >= 0
    model = FairRep(**SMALL, distance="critic", adversary_steps=adversary_steps,
                    scale_free=False, warm_start=True).fit(X, y, sensitive_features=groups)
    net = model.net_
    assert set(net._optimizers) == {"optimizer", "adversary_optimizer"}

    def snapshot(name):
        return torch.cat([p.detach().flatten().clone()
                          for p in getattr(net, name).parameters()])

    before = {name: snapshot(name) for name in ("adversary_", "critic_")}
    model.fit(X, y, sensitive_features=groups)
    for name, values in before.items():
        assert not torch.allclose(snapshot(name), values), name
    # the critic's estimate stays a lower bound of W1 >= 0 on average: it is trained
    assert model.history_["distance_loss"].iloc[-2:].mean() > 0


def test_learns_the_task():
    X, y, groups = _data(n_samples=400)
    model = FairRep(**{**SMALL, "max_epochs": 30}).fit(X, y, sensitive_features=groups)
    assert model.score(X, y) > 0.85


def test_feature_names_in():
    X, y, groups = _data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    model = FairRep(**SMALL).fit(frame, y, sensitive_features=pd.Series(groups))
    assert model.feature_names_in_.tolist() == list(frame.columns)


def test_same_seed_same_transform_and_global_rng_untouched():
    X, y, groups = _data()
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = FairRep(**SMALL).fit(X, y, sensitive_features=groups).transform(X)
    assert torch.equal(torch.get_rng_state(), state)
    second = FairRep(**SMALL).fit(X, y, sensitive_features=groups).transform(X)
    np.testing.assert_array_equal(first, second)
    other = FairRep(**{**SMALL, "random_state": 1}).fit(X, y, sensitive_features=groups)
    assert not np.allclose(first, other.transform(X))


@pytest.mark.parametrize("distance", ["sinkhorn", "sliced", "exact", "critic"])
def test_each_distance_trains(distance):
    # raw distances (scale_free=False) are >= 0; the scale-free ones, less
    # their mini-batch floor, are tested in test_scale_free.py
    X, y, groups = _data()
    model = FairRep(**SMALL, distance=distance, scale_free=False).fit(
        X, y, sensitive_features=groups)
    distance_loss = model.history_["distance_loss"].to_numpy()
    assert np.isfinite(distance_loss).all()
    if distance == "critic":
        assert hasattr(model.net_, "critic_")
        # the default critic is penalised (WGAN-GP), not clipped
        assert model.net_.critic_.clip is None
        assert model.net_.gradient_penalty == 10.0
    else:
        assert (distance_loss > 0).all()
    assert np.isfinite(model.transform(X)).all()


def test_missing_sensitive_values_count_only_in_l1():
    X, y, groups = _data()
    groups = groups.astype(object)
    groups[::3] = None
    groups[1::7] = np.nan
    model = FairRep(**SMALL).fit(X, y, sensitive_features=groups)
    assert model.groups_.tolist() == ["f", "m"]
    assert np.isfinite(model.history_[["adversary_loss", "distance_loss"]].to_numpy()).all()


def test_all_missing_in_some_batches_and_one_group_per_batch():
    # sorted by group with batch_size 10: every batch but the one at the
    # boundary holds one group (or none), so L_D is mostly skipped
    X, y, _ = _data(n_samples=100)
    groups = np.array(["a"] * 45 + [None] * 10 + ["b"] * 45, dtype=object)
    model = FairRep(**{**SMALL, "batch_size": 10}).fit(X, y, sensitive_features=groups)
    assert np.isfinite(model.history_["train_loss"]).all()
    # the shuffled training batches mix groups, so the term is recorded
    assert np.isfinite(model.history_["distance_loss"]).all()


def test_batch_with_single_group_skips_distance():
    X, y, _ = _data(n_samples=60)
    # batch_size=1: every batch has at most one group, L_D never applies
    groups = np.array(["a", "b"] * 30)
    model = FairRep(**{**SMALL, "batch_size": 1, "max_epochs": 1}).fit(
        X, y, sensitive_features=groups
    )
    # a term never computed is left out of the history
    assert "distance_loss" not in model.history_.columns
    assert np.isfinite(model.history_["adversary_loss"]).all()


def test_more_than_two_groups():
    X, y, groups = _data(n_groups=3)
    model = FairRep(**SMALL).fit(X, y, sensitive_features=groups)
    assert model.groups_.tolist() == ["f", "m", "x"]
    assert model.net_.adversary_.layers[-1].out_features == 3
    critic = FairRep(**SMALL, distance="critic").fit(X, y, sensitive_features=groups)
    assert critic.net_.critic_.layers[-1].out_features == 3  # one output per pair


def test_intersectional_sensitive_features():
    X, y, groups = _data()
    second = np.where(X[:, 3] > 0, "old", "young")
    model = FairRep(**SMALL).fit(
        X, y, sensitive_features=pd.DataFrame({"g": groups, "age": second})
    )
    assert len(model.groups_) == 4


def test_without_sensitive_features_is_plain_classifier():
    X, y, _ = _data()
    model = FairRep(**SMALL).fit(X, y)
    assert model.groups_ is None
    assert not hasattr(model.net_, "adversary_")
    assert list(model.history_.columns) == ["epoch", "train_loss", "emotion_loss", "dur"]
    np.testing.assert_allclose(
        model.history_.train_loss, model.history_.emotion_loss, rtol=1e-6
    )


def test_presets():
    g = FairRep.fairrep_g(embedding_dim=8)
    f = FairRep.fairrep_f(alpha=0.5)
    assert (g.alpha, g.adversary_weight, g.embedding_dim) == (0.0, 3.0, 8)
    assert (f.alpha, f.adversary_weight) == (0.5, 0.0)
    assert clone(f).get_params() == f.get_params()
    X, y, groups = _data()
    fitted_g = FairRep.fairrep_g(**SMALL).fit(X, y, sensitive_features=groups)
    assert "distance_loss" not in fitted_g.history_
    fitted_f = FairRep.fairrep_f(**SMALL).fit(X, y, sensitive_features=groups)
    assert "adversary_loss" not in fitted_f.history_
    assert not hasattr(fitted_f.net_, "adversary_")


def test_adversary_and_distance_remove_group_information():
    X, y, groups = _planted_bias()
    train, test = train_test_split(np.arange(len(X)), test_size=0.5, random_state=0)
    params = {"hidden_layer_sizes": (32,), "embedding_dim": 16, "max_epochs": 40,
              "random_state": 0}

    def group_auc(model):
        model.fit(X[train], y[train], sensitive_features=groups[train])
        probe = LogisticRegression(max_iter=2000).fit(
            model.transform(X[train]), groups[train]
        )
        scores = probe.predict_proba(model.transform(X[test]))[:, 1]
        return roc_auc_score(groups[test] == probe.classes_[1], scores), model

    plain_auc, _ = group_auc(FairRep(alpha=0.0, adversary_weight=0.0, **params))
    fair_auc, fair = group_auc(FairRep(alpha=0.1, adversary_weight=1.0, **params))
    # the distance term alone (FairRepF) also removes group information
    only_distance_auc, _ = group_auc(
        FairRep.fairrep_f(alpha=1.0, distance="sliced", **params)
    )
    assert plain_auc > 0.95
    assert fair_auc < plain_auc - 0.1
    assert only_distance_auc < plain_auc - 0.2
    # the task is still learned
    assert fair.score(X[test], y[test]) > 0.85


def test_pickle_round_trip():
    X, y, groups = _data()
    model = FairRep(**SMALL).fit(X, y, sensitive_features=groups)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    np.testing.assert_array_equal(restored.transform(X), model.transform(X))


def test_warm_start_continues_training():
    X, y, groups = _data()
    model = FairRep(**{**SMALL, "warm_start": True}).fit(X, y, sensitive_features=groups)
    net = model.net_
    first_loss = model.history_.emotion_loss.iloc[-1]
    model.fit(X, y, sensitive_features=groups)
    assert model.net_ is net
    assert model.n_iter_ == 8
    assert model.history_.emotion_loss.iloc[-1] < first_loss
    with pytest.raises(ValueError, match="not seen in the first fit"):
        model.fit(X, np.where(y == "anger", "sadness", y), sensitive_features=groups)


def test_warm_start_rereads_the_fairness_weights():
    """A path over alpha with warm starts trains each step with its own alpha."""
    X, y, groups = _data()
    model = FairRep(**{**SMALL, "warm_start": True, "alpha": 0.01, "adversary_weight": 1.0})
    model.fit(X, y, sensitive_features=groups)
    model.set_params(alpha=3.0, adversary_weight=0.5, adversary_loss="reversal",
                     max_epochs=2, lr=1e-4)
    model.fit(X, y, sensitive_features=groups)
    net = model.net_
    assert (net.alpha, net.adversary_weight, net.adversary_loss) == (3.0, 0.5, "reversal")
    assert model.n_iter_ == SMALL["max_epochs"] + 2
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert net.adversary_optimizer_.param_groups[0]["lr"] == pytest.approx(1e-4)


@pytest.mark.parametrize("change, match", [
    ({"distance": "sliced"}, "whose distance is 'sinkhorn'"),
    ({"scale_free": False}, "whose scale_free is True"),
])
def test_warm_start_refuses_a_new_architecture(change, match):
    X, y, groups = _data()
    model = FairRep(**{**SMALL, "warm_start": True}).fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match=match):
        model.set_params(**change).fit(X, y, sensitive_features=groups)


def test_warm_start_refuses_a_term_whose_module_was_never_built():
    X, y, groups = _data()
    model = FairRep(**{**SMALL, "warm_start": True, "adversary_weight": 0.0})
    model.fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="built without the adversary"):
        model.set_params(adversary_weight=1.0).fit(X, y, sensitive_features=groups)


def test_early_stopping_records_validation_loss():
    X, y, groups = _data(n_samples=300)
    model = FairRep(**{**SMALL, "max_epochs": 200, "early_stopping": True,
                       "n_iter_no_change": 3}).fit(X, y, sensitive_features=groups)
    assert model.n_iter_ < 200
    assert np.isfinite(model.history_["valid_loss"]).all()


def test_verbose_prints_epoch_table(capsys):
    X, y, groups = _data()
    FairRep(**{**SMALL, "verbose": 1}).fit(X, y, sensitive_features=groups)
    assert "emotion_loss" in capsys.readouterr().out
    FairRep(**SMALL).fit(X, y, sensitive_features=groups)
    assert capsys.readouterr().out == ""


def test_user_callbacks_run_and_are_not_mutated():
    class CountEpochs(Callback):
        def initialize(self):
            self.count_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.count_ += 1

    callback = CountEpochs()
    X, y, groups = _data()
    model = FairRep(**SMALL, callbacks=[("count", callback)]).fit(
        X, y, sensitive_features=groups
    )
    assert not hasattr(callback, "count_")
    assert dict(model.net_.callbacks_)["count"].count_ == 4


def test_device_resolution():
    assert resolve_device("auto").type in {"cpu", "cuda"}
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            FairRep(**SMALL, device="cuda").fit(*_data()[:2])


def test_adversary_and_critic_state_is_cuda_dependent():
    """skorch maps these to the CPU when a GPU-trained model is unpickled without CUDA.

    "adversary" and "critic" are declared as prefixes (for their ``__``
    parameters), which keeps skorch from registering them by itself; a
    module or optimizer missing from ``cuda_dependent_attributes_`` is
    unpickled on the device it was saved from, and fails without CUDA.
    """
    X, y, groups = _data()
    model = FairRep(**SMALL, distance="critic", adversary_steps=2).fit(
        X, y, sensitive_features=groups)
    net = model.net_
    for name in ("module_", "adversary_", "critic_", "optimizer_", "adversary_optimizer_"):
        assert name in net.cuda_dependent_attributes_, (name, net.cuda_dependent_attributes_)
    assert {"module", "adversary", "critic"} <= set(net._modules)
    state = net.__getstate__()
    assert not any(key in state for key in ("adversary_", "critic_", "adversary_optimizer_"))
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_shapes_and_pickles_to_cpu_readable():
    X, y, groups = _data()
    model = FairRep(**SMALL, device="cuda").fit(X, y, sensitive_features=groups)
    assert model.transform(X).shape == (len(X), 8)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    # loaded where CUDA is hidden, as on a CPU-only machine
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.pkl")
        with open(path, "wb") as handle:
            pickle.dump({"model": model, "X": X}, handle)
        script = ("import pickle, sys; d = pickle.load(open(sys.argv[1], 'rb')); "
                  "print(d['model'].predict(d['X']).tolist())")
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        out = subprocess.run([sys.executable, "-c", script, path], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert eval(out) == model.predict(X).tolist()


# -- bad input -------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": -0.1}, "'alpha' parameter"),
        ({"adversary_weight": -1}, "'adversary_weight' parameter"),
        ({"adversary_loss": "entropy"}, "'adversary_loss' parameter"),
        ({"adversary_steps": 0}, "'adversary_steps' parameter"),
        ({"distance": "energy"}, "'distance' parameter"),
        ({"embedding_dim": 0}, "'embedding_dim' parameter"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes must be positive"),
        ({"distance_params": {"blur": 1}}, "distance_params has \\['blur'\\]"),
        ({"device": "tpu"}, "device must be one of"),
        ({"callbacks": ["not a callback"]}, "callbacks must be a list of skorch"),
    ],
)
def test_bad_parameters(params, match):
    X, y, groups = _data(n_samples=40)
    with pytest.raises((ValueError, TypeError), match=match):
        FairRep(**{**SMALL, **params}).fit(X, y, sensitive_features=groups)


def test_bad_data():
    X, y, groups = _data(n_samples=40)
    with pytest.raises(ValueError, match="sensitive_features has 39 entries but 40"):
        FairRep(**SMALL).fit(X, y, sensitive_features=groups[:-1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        FairRep(**SMALL).fit(X, y[:-1], sensitive_features=groups)
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        FairRep(**SMALL).fit(X_nan, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="at least 2 distinct groups"):
        FairRep(**SMALL).fit(X, y, sensitive_features=["a"] * 40)
    with pytest.raises(ValueError, match="at least 2 distinct groups"):
        FairRep(**SMALL).fit(X, y, sensitive_features=["a"] + [None] * 39)
    with pytest.raises(ValueError, match="at least two classes"):
        FairRep(**SMALL).fit(X, ["x"] * 40, sensitive_features=groups)
    # one group is fine for the plain variant (no fairness terms)
    FairRep(**{**SMALL, "alpha": 0.0, "adversary_weight": 0.0}).fit(
        X, y, sensitive_features=["a"] * 40
    )
    fitted = FairRep(**SMALL).fit(X, y, sensitive_features=groups)
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :3])


# -- composition ------------------------------------------------------------


def test_pipeline_and_grid_search_with_routed_sensitive_features():
    X, y, groups = _data(n_samples=200)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler(),
            FairRep(**{**SMALL, "max_epochs": 20}).set_fit_request(
                sensitive_features=True
            ),
        )
        search = GridSearchCV(
            pipe, {"fairrep__alpha": [0.0, 0.01]}, cv=2, scoring="accuracy"
        )
        search.fit(X, y, sensitive_features=groups)
        fitted = search.best_estimator_[-1]
        assert fitted.groups_.tolist() == ["f", "m"]
        assert "adversary_loss" in fitted.history_
        assert search.best_score_ > 0.6
        # routing is enforced: an unrequested sensitive_features is an error
        unrequested = make_pipeline(StandardScaler(), FairRep(**SMALL))
        with pytest.raises(ValueError, match="sensitive_features"):
            unrequested.fit(X, y, sensitive_features=groups)
    assert not sklearn.get_config()["enable_metadata_routing"]
