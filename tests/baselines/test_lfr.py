"""LFR (Zemel et al., 2013): objective by hand, agreement with aif360, fairness."""

import warnings

import numpy as np
import pytest
import sklearn
import torch
from scipy.spatial.distance import cdist
from scipy.special import softmax
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from tests.conftest import require_module
from fairrep.baselines import LFR, _lfr_objective, _lfr_solvers
from fairrep.baselines._lfr import lfr_objective
from fairrep.experiments import per_class_f1
from fairrep.metrics import make_statistical_parity_scorer, statistical_parity_score


def planted_bias(n=600, seed=0, n_features=4):
    """Group 'b' has a shifted first feature, and the label follows that feature."""
    rng = np.random.RandomState(seed)
    s = np.where(rng.rand(n) < 0.5, "a", "b")
    X = rng.normal(size=(n, n_features))
    X[:, 0] += 1.5 * (s == "b")
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0.75).astype(int)
    return X, y, s


def _objective_numpy(X, y, s_codes, V, W, ax, ay, az):
    """The LFR objective written out with numpy/scipy, two groups, any classes."""
    M = softmax(-cdist(X, V), axis=1)
    Lx = np.mean((M @ V - X) ** 2)
    P = M @ W
    Ly = -np.mean(np.log(P[np.arange(len(y)), y]))
    Lz = np.mean(np.abs(M[s_codes == 0].mean(0) - M[s_codes == 1].mean(0)))
    return ax * Lx + ay * Ly + az * Lz, (Lx, Ly, Lz)


def _torch(*arrays):
    return [torch.as_tensor(a) for a in arrays]


def test_objective_matches_numpy_formula():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 3))
    y = rng.randint(0, 3, size=30)
    s = rng.randint(0, 2, size=30)
    V = rng.normal(size=(4, 3))
    logits = rng.normal(size=(4, 3))
    expected, terms = _objective_numpy(
        X, y, s, V, softmax(logits, axis=1), 0.3, 1.0, 7.0
    )
    Xt, yt, st, Vt, Lt = _torch(X, y, s, V, logits)
    total, got = lfr_objective(
        Xt,
        yt,
        st,
        Vt,
        Lt,
        n_groups=2,
        reconstruct_weight=0.3,
        target_weight=1.0,
        fairness_weight=7.0,
    )
    assert float(total) == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose([float(t) for t in got], terms, rtol=1e-10)


def test_objective_equals_aif360_sklearn_loss_for_binary_two_groups():
    # aif360.sklearn's objective: F.mse_loss(M V, X), BCE of M w, l1 between the
    # two groups' mean memberships. With w_k = softmax(theta_k)[1] they coincide.
    rng = np.random.RandomState(2)
    X = rng.normal(size=(40, 5))
    y = rng.randint(0, 2, size=40)
    s = rng.randint(0, 2, size=40)
    V = rng.normal(size=(3, 5))
    w = rng.uniform(0.1, 0.9, size=3)
    M = softmax(-cdist(X, V), axis=1)
    p = M @ w
    aif = (
        0.01 * np.mean((M @ V - X) ** 2)
        - 1.0 * np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        + 50.0 * np.mean(np.abs(M[s == 1].mean(0) - M[s == 0].mean(0)))
    )
    logits = np.log(np.stack([1 - w, w], axis=1))
    total, _ = lfr_objective(
        *_torch(X, y, s, V, logits),
        n_groups=2,
        reconstruct_weight=0.01,
        target_weight=1.0,
        fairness_weight=50.0,
    )
    assert float(total) == pytest.approx(aif, rel=1e-10)


def test_objective_gradient_matches_finite_differences():
    # The objective expands the squared distances and the reconstruction error
    # (no (n_samples, n_features) intermediate); its autograd gradient must
    # still be that of the plain formula.
    rng = np.random.RandomState(5)
    X = rng.normal(size=(25, 3))
    y = rng.randint(0, 3, size=25)
    s = rng.randint(-1, 3, size=25)  # three groups and some unknown
    V = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    logits = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    Xt, yt, st = _torch(X, y, s)
    for reference in ("pairs", "pool"):

        def total(prototypes, class_logits, reference=reference):
            return lfr_objective(
                Xt,
                yt,
                st,
                prototypes,
                class_logits,
                n_groups=3,
                reconstruct_weight=0.5,
                target_weight=1.0,
                fairness_weight=3.0,
                fairness_reference=reference,
            )[0]

        assert torch.autograd.gradcheck(total, (V, logits), eps=1e-6, atol=1e-6)


def test_absent_group_leaves_the_parity_term_unchanged():
    # A group with no sample (as in a mini-batch) is left out of L_z.
    rng = np.random.RandomState(8)
    X = rng.normal(size=(30, 2))
    y = rng.randint(0, 2, size=30)
    s = rng.randint(0, 2, size=30)
    V = rng.normal(size=(3, 2))
    logits = rng.normal(size=(3, 2))
    kwargs = {"reconstruct_weight": 0.0, "target_weight": 0.0, "fairness_weight": 1.0}
    for reference in ("pairs", "pool"):
        two, _ = lfr_objective(
            *_torch(X, y, s, V, logits),
            n_groups=2,
            fairness_reference=reference,
            **kwargs,
        )
        # the same samples as groups 0 and 2 of three: group 1 is empty
        three, _ = lfr_objective(
            *_torch(X, y, 2 * s, V, logits),
            n_groups=3,
            fairness_reference=reference,
            **kwargs,
        )
        assert float(two) > 0
        assert float(three) == pytest.approx(float(two), rel=1e-12)
    # one group only: no parity term
    alone, terms = lfr_objective(
        *_torch(X, y, np.zeros(30, dtype=int), V, logits), n_groups=2, **kwargs
    )
    assert float(alone) == 0.0 and float(terms[2]) == 0.0


def test_parity_term_pairs_and_pool_by_hand():
    # Memberships are fixed by putting samples exactly on far-apart prototypes.
    V = np.array([[0.0, 0.0], [100.0, 0.0]])
    X = np.array([[0.0, 0], [0, 0], [100, 0], [0, 0], [100, 0], [100, 0]])
    s = np.array([0, 0, 0, 1, 1, 2])  # group means of M[:, 0]: 2/3, 1/2, 0
    y = np.zeros(6, dtype=int)
    logits = np.zeros((2, 2))
    kwargs = {
        "n_groups": 3,
        "reconstruct_weight": 0.0,
        "target_weight": 0.0,
        "fairness_weight": 1.0,
    }
    pairs, _ = lfr_objective(*_torch(X, y, s, V, logits), **kwargs)
    # pairs: mean over (a,b), (a,c), (b,c) of mean_k |gap| = (1/6 + 2/3 + 1/2) / 3
    assert float(pairs) == pytest.approx((1 / 6 + 2 / 3 + 1 / 2) / 3, abs=1e-12)
    pool, _ = lfr_objective(
        *_torch(X, y, s, V, logits), fairness_reference="pool", **kwargs
    )
    # pooled mean of M[:, 0] is 3/6 = 1/2; gaps 1/6, 0, 1/2 -> mean 2/9
    assert float(pool) == pytest.approx((1 / 6 + 0 + 1 / 2) / 3, abs=1e-12)
    # samples with an unknown group (-1) do not enter L_z
    X2 = np.vstack([X, [[0.0, 0.0]] * 5])
    s2 = np.concatenate([s, [-1] * 5])
    y2 = np.zeros(11, dtype=int)
    pairs2, _ = lfr_objective(*_torch(X2, y2, s2, V, logits), **kwargs)
    assert float(pairs2) == pytest.approx(float(pairs), abs=1e-12)


def test_fairness_weight_closes_the_parity_gap():
    X, y, s = planted_bias(n=800)
    X_tr, y_tr, s_tr, X_te, y_te, s_te = (
        X[:500],
        y[:500],
        s[:500],
        X[500:],
        y[500:],
        s[500:],
    )
    plain = LFR(n_prototypes=6, fairness_weight=0.0, random_state=0)
    plain.fit(X_tr, y_tr, sensitive_features=s_tr)
    fair = LFR(n_prototypes=6, fairness_weight=50.0, random_state=0)
    fair.fit(X_tr, y_tr, sensitive_features=s_tr)
    gap_plain = statistical_parity_score(
        y_te, plain.predict(X_te), sensitive_features=s_te
    )
    gap_fair = statistical_parity_score(
        y_te, fair.predict(X_te), sensitive_features=s_te
    )
    assert plain.score(X_te, y_te) > 0.8
    assert gap_plain > 0.4
    assert gap_fair < 0.1
    assert fair.loss_terms_["fairness"] < 1e-3 < plain.loss_terms_["fairness"]


def five_classes(n=600, seed=0, n_features=10):
    """Five Gaussian classes; group 'b' is shifted along feature 0, independently of y."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 5, size=n)
    means = rng.normal(size=(5, n_features)) * 3 / np.sqrt(n_features)
    X = rng.normal(size=(n, n_features)) + means[y]
    s = np.where(rng.rand(n) < 0.5, "a", "b")
    X[:, 0] += 1.0 * (s == "b")
    return (X - X.mean(axis=0)) / X.std(axis=0), y, s


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_five_classes_each_class_as_well_as_logistic_regression(seed):
    # With one prototype per class (K=5, the former default) L-BFGS ends with a
    # class left without a prototype of its own: on these draws one class's F1
    # fell 0.22-0.29 below the logistic regression's. The default K (6 per
    # class) stays within 0.04 of it.
    X, y, s = five_classes(seed=seed)
    train, test = slice(0, 300), slice(300, None)
    reference = LogisticRegression(max_iter=2000).fit(X[train], y[train])
    model = LFR(random_state=0).fit(X[train], y[train], sensitive_features=s[train])
    assert model.prototypes_.shape == (30, 10)
    ours = per_class_f1(y[test], model.predict(X[test]), labels=range(5))
    theirs = per_class_f1(y[test], reference.predict(X[test]), labels=range(5))
    assert (ours >= theirs - 0.1).all(), (ours - theirs).round(3).tolist()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_auto_prototypes_five_for_two_classes_six_per_class_beyond():
    X, y, s = planted_bias(n=120, seed=9)
    binary = LFR(max_iter=5, random_state=0).fit(X, y, sensitive_features=s)
    assert binary.prototypes_.shape == (5, 4)
    three = np.digitize(X[:, 1], [-0.5, 0.5])
    multi = LFR(max_iter=5, random_state=0).fit(X, three, sensitive_features=s)
    assert multi.prototypes_.shape == (18, 4)
    assert multi.prototype_proba_.shape == (18, 3)
    assert multi.transform(X).shape == (120, 18)
    fixed = LFR(n_prototypes=7, max_iter=5).fit(X, three, sensitive_features=s)
    assert fixed.prototypes_.shape == (7, 4)


def test_lbfgs_matches_or_beats_aif360_sklearn_objective():
    require_module("aif360")
    from fairrep.baselines import AIF360LFR

    X, y, s = planted_bias(n=300, seed=3)
    params = {
        "n_prototypes": 4,
        "reconstruct_weight": 0.01,
        "target_weight": 1.0,
        "fairness_weight": 5.0,
    }
    ours = LFR(**params, random_state=0).fit(X, y, sensitive_features=s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = AIF360LFR(**params, max_iter=500, random_state=0).fit(
            X, y, sensitive_features=s
        )
    w = np.clip(theirs.model_.coef_[:, 0], 1e-12, 1 - 1e-12)
    codes = (s == "b").astype(int)
    their_loss, _ = lfr_objective(
        *_torch(
            X, y, codes, theirs.model_.prototypes_, np.log(np.stack([1 - w, w], 1))
        ),
        n_groups=2,
        reconstruct_weight=0.01,
        target_weight=1.0,
        fairness_weight=5.0,
    )
    assert ours.loss_ <= float(their_loss) * 1.02
    # and the reported loss_ is the objective at the returned solution
    own, _ = lfr_objective(
        *_torch(X, y, codes, ours.prototypes_, np.log(ours.prototype_proba_)),
        n_groups=2,
        reconstruct_weight=0.01,
        target_weight=1.0,
        fairness_weight=5.0,
    )
    assert float(own) == pytest.approx(ours.loss_, rel=1e-8)


def test_lbfgs_stall_stop_keeps_the_objective(monkeypatch):
    # The stop on a stalled objective ends L-BFGS sooner than its other
    # criteria would, at (nearly) the same objective.
    X, y, s = planted_bias(n=400, seed=9, n_features=32)
    params = {"n_prototypes": 5, "max_iter": 3000}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        stopped = [
            LFR(**params, random_state=seed).fit(X, y, sensitive_features=s)
            for seed in range(3)
        ]
    monkeypatch.setattr(_lfr_solvers, "_LBFGS_WINDOW", 10**9)
    full = [
        LFR(**params, random_state=seed).fit(X, y, sensitive_features=s)
        for seed in range(3)
    ]
    assert sum(m.n_iter_ for m in stopped) < sum(m.n_iter_ for m in full)
    for short, long in zip(stopped, full):
        assert short.loss_ <= long.loss_ * 1.01


def test_adam_reaches_the_lbfgs_objective():
    X, y, s = planted_bias(n=400, seed=4)
    lbfgs = LFR(n_prototypes=4, fairness_weight=0.5, random_state=0)
    lbfgs.fit(X, y, sensitive_features=s)
    adam = LFR(
        n_prototypes=4,
        fairness_weight=0.5,
        solver="adam",
        learning_rate=0.05,
        batch_size=100,
        max_iter=150,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        adam.fit(X, y, sensitive_features=s)
    assert adam.loss_ < lbfgs.loss_ * 1.02
    assert lbfgs.score(X, y) > 0.8
    assert np.mean(adam.predict(X) == lbfgs.predict(X)) > 0.95


@pytest.mark.parametrize("reference", ["pairs", "pool"])
def test_chunked_objective_equals_the_whole_set(reference):
    """Summed chunk by chunk (float32 rows cast per chunk), the objective is the whole set's."""
    rng = np.random.RandomState(3)
    X = rng.normal(size=(103, 5)).astype(np.float32)
    y = rng.randint(0, 3, size=103)
    s = rng.randint(-1, 3, size=103)  # three groups and some unknown (-1)
    V = rng.normal(size=(4, 5))
    logits = rng.normal(size=(4, 3))
    kwargs = {"n_groups": 3, "reconstruct_weight": 0.3, "target_weight": 1.0,
              "fairness_weight": 7.0, "fairness_reference": reference}
    Xt, yt, st, Vt, Lt = _torch(X, y, s, V, logits)
    whole, whole_terms = lfr_objective(Xt.double(), yt, st, Vt, Lt, **kwargs)
    chunked, chunked_terms = _lfr_objective.chunked_objective(
        Xt, yt, st, Vt, Lt, chunk_rows=10, **kwargs
    )
    assert chunked_terms[2] > 0
    np.testing.assert_allclose(float(chunked), float(whole), rtol=1e-12)
    np.testing.assert_allclose(
        [float(t) for t in chunked_terms], [float(t) for t in whole_terms], rtol=1e-12
    )


def test_float32_input_is_not_copied_and_fits_as_float64(monkeypatch):
    """float32 rows are cast per batch / chunk: the same fit as their float64 copy."""
    X, y, s = planted_bias(n=300, seed=4)
    X32 = X.astype(np.float32)
    monkeypatch.setattr(_lfr_objective, "_CHUNK_ROWS", 64)  # several chunks everywhere
    for solver in ("adam", "lbfgs"):
        params = {"n_prototypes": 3, "solver": solver, "max_iter": 30, "random_state": 0}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            a = LFR(**params).fit(X32, y, sensitive_features=s)
            b = LFR(**params).fit(X32.astype(np.float64), y, sensitive_features=s)
        np.testing.assert_array_equal(a.prototypes_, b.prototypes_)
        assert a.loss_ == pytest.approx(b.loss_, rel=1e-12)
        np.testing.assert_allclose(a.transform(X32), b.transform(X32), rtol=1e-12)
    np.testing.assert_allclose(
        _lfr_objective.column_spread(torch.as_tensor(X32)), X32.astype(np.float64).std(axis=0),
        rtol=1e-10,
    )
    # the memberships of every chunk are the memberships of the whole set
    whole = _lfr_objective._memberships(torch.as_tensor(X), torch.as_tensor(a.prototypes_))
    np.testing.assert_allclose(a.transform(X), whole.numpy(), rtol=1e-12)


def test_multiclass_three_groups_and_outputs():
    rng = np.random.RandomState(5)
    X = rng.normal(size=(300, 3))
    y = np.array(["low", "mid", "high"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    s = rng.choice(["x", "y", "z"], size=300)
    model = LFR(n_prototypes=6, fairness_weight=1.0, random_state=0)
    model.fit(X, y, sensitive_features=s)
    assert model.classes_.tolist() == ["high", "low", "mid"]
    assert model.groups_.tolist() == ["x", "y", "z"]
    proba = model.predict_proba(X)
    assert proba.shape == (300, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.prototype_proba_.sum(axis=1), 1.0)
    assert model.score(X, y) > 0.7  # chance is about 0.38
    M = model.transform(X)
    assert M.shape == (300, 6)
    np.testing.assert_allclose(M.sum(axis=1), 1.0)
    recon = clone(model).set_params(representation="reconstruction")
    recon.fit(X, y, sensitive_features=s)
    np.testing.assert_allclose(recon.transform(X), M @ model.prototypes_, atol=1e-12)


def test_missing_groups_and_no_groups():
    X, y, s = planted_bias(n=200, seed=6)
    s = s.astype(object)
    s[:20] = None
    model = LFR(random_state=0).fit(X, y, sensitive_features=s)
    assert model.groups_.tolist() == ["a", "b"]
    with pytest.warns(UserWarning, match="sensitive_features is None"):
        bare = LFR(random_state=0).fit(X, y)
    assert bare.loss_terms_["fairness"] == 0.0
    assert bare.groups_.size == 0


def test_same_seed_same_solution():
    X, y, s = planted_bias(n=200, seed=7)
    a = LFR(random_state=3).fit(X, y, sensitive_features=s)
    b = LFR(random_state=3).fit(X, y, sensitive_features=s)
    np.testing.assert_array_equal(a.prototypes_, b.prototypes_)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_prototypes": 0}, InvalidParameterError, "n_prototypes"),
        ({"fairness_weight": -1.0}, InvalidParameterError, "fairness_weight"),
        ({"solver": "sgd"}, InvalidParameterError, "solver"),
        ({"representation": "z"}, InvalidParameterError, "representation"),
        ({"fairness_reference": "max"}, InvalidParameterError, "fairness_reference"),
    ],
)
def test_bad_parameters(params, error, match):
    X, y, s = planted_bias(n=50)
    with pytest.raises(error, match=match):
        LFR(**params).fit(X, y, sensitive_features=s)


def test_bad_data():
    X, y, s = planted_bias(n=50)
    with pytest.raises(ValueError, match="sensitive_features has 49 entries"):
        LFR().fit(X, y, sensitive_features=s[:-1])
    with pytest.raises(ValueError, match="at least 2 distinct groups"):
        LFR().fit(X, y, sensitive_features=np.repeat("a", 50))
    with pytest.raises(ValueError, match="y must contain at least 2 classes"):
        LFR().fit(X, np.zeros(50), sensitive_features=s)
    fitted = LFR(random_state=0).fit(X, y, sensitive_features=s)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :2])


def test_max_iter_reached_warns():
    X, y, s = planted_bias(n=100)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LFR(max_iter=2, random_state=0).fit(X, y, sensitive_features=s)


def test_grid_search_with_routed_sensitive_features():
    X, y, s = planted_bias(n=300, seed=8)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler(),
            LFR(n_prototypes=4, random_state=0).set_fit_request(
                sensitive_features=True
            ),
        )
        search = GridSearchCV(
            pipe,
            {"lfr__fairness_weight": [0.0, 50.0]},
            scoring=make_statistical_parity_scorer(),
            cv=3,
        )
        search.fit(X, y, sensitive_features=s)
    # the parity scorer is "greater is better" on the negated gap: the fair model wins
    assert search.best_params_ == {"lfr__fairness_weight": 50.0}
    assert (
        search.cv_results_["mean_test_score"][0]
        < search.cv_results_["mean_test_score"][1]
    )


@parametrize_with_checks([LFR(max_iter=50, random_state=0)])
def test_sklearn_compatible(estimator, check):
    # without sensitive_features LFR warns and drops L_z; the checks fit it that way
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)
