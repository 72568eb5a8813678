"""scikit-learn's estimator checks over every estimator and transformer of fairrep.

The checks run with ``parametrize_with_checks`` as in imbalanced-learn's
``imblearn/tests/test_common.py``: each estimator is shrunk first (a few short
epochs on a tiny network) so the checks stay fast, and every check that fails
by design is written down, with its reason, in ``EXPECTED_FAILED_CHECKS``.

The featurizers of :mod:`fairrep.features` take utterances (audio paths or
``(waveform, sample_rate)`` pairs) or texts, not the numeric arrays the checks
generate; their tags say so and scikit-learn yields no check for them. They get
the checks that need no data, and the fit/transform contract on the input they
do take.
"""

import pickle
import re
from functools import partial

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)
from sklearn.utils.validation import check_is_fitted

from tests.conftest import require_module
from fairrep import FairnessTolerance, FairPer, FairRep
from fairrep.baselines import (
    AIF360LFR,
    LFR,
    NRL,
    AIF360ClassicLFR,
    DNNClassifier,
    ExponentiatedGradientClassifier,
    FairlearnAdversarial,
    FairlearnPrototype,
)
from fairrep.features import (
    EGeMAPS,
    SpeakerStandardScaler,
    SSLFeatures,
    TextFeatures,
    VQWav2Vec,
)

# A few short epochs on tiny networks keep every check fast; enough epochs
# remain for the checks that need a classifier above chance.
_NET = {"max_epochs": 15, "batch_size": 16, "random_state": 0}

ESTIMATORS = [
    FairRep(hidden_layer_sizes=(16,), embedding_dim=8, **_NET),
    FairPer(hidden_size=16, embedding_dim=8, **_NET),
    DNNClassifier(hidden_layer_sizes=(16,), **_NET),
    NRL(hidden_layer_sizes=(16,), embedding_dim=8, adversary_steps=1, **_NET),
    LFR(n_prototypes=3, max_iter=50, random_state=0),
    SpeakerStandardScaler(),
    FairlearnAdversarial(hidden_layer_sizes=(8,), epochs=3, random_state=0),
    FairlearnPrototype(n_prototypes=3, max_iter=30, random_state=0),
    AIF360LFR(n_prototypes=3, max_iter=50, random_state=0),
    AIF360ClassicLFR(n_prototypes=3, max_iter=30, max_fun=300, random_state=0),
    ExponentiatedGradientClassifier(max_iter=10, random_state=0),
    FairnessTolerance(FairRep(hidden_layer_sizes=(16,), embedding_dim=8, **_NET),
                      values=(0.0, 0.1), tolerance=0.2),
]

# The optional library each adapter wraps: its checks skip without it (and
# fail under CI=true, where the test extras install it).
REQUIRES = {
    "FairlearnAdversarial": "fairlearn",
    "FairlearnPrototype": "fairlearn",
    "ExponentiatedGradientClassifier": "fairlearn",
    "AIF360LFR": "aif360",
    "AIF360ClassicLFR": "aif360",
}

# The checks that fit an estimator on generated data, by the kind of estimator.
_FIT_CHECKS = [
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_fit2d_1feature", "check_fit2d_predict1d", "check_fit_check_is_fitted",
    "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_n_features_in", "check_n_features_in_after_fitting",
    "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]
_CLASSIFIER_CHECKS = [
    "check_classifier_data_not_an_array", "check_classifiers_classes",
    "check_classifiers_train", "check_supervised_y_2d",
]
_TRANSFORMER_CHECKS = [
    "check_transformer_data_not_an_array", "check_transformer_general",
    "check_transformer_preserve_dtypes",
]
_N_ITER_CHECKS = ["check_non_transformer_estimators_n_iter", "check_transformer_n_iter"]


def _needs(metadata, checks):
    """Every check in ``checks`` fails because fit requires ``metadata``."""
    reason = (
        f"fit requires {metadata} (the method is defined by them) and "
        "scikit-learn's checks call fit(X, y) without it."
    )
    return dict.fromkeys(checks, reason)


_NEEDS_GROUPS = _FIT_CHECKS + _CLASSIFIER_CHECKS
# Every check that fits: FairnessTolerance judges its path by the fairness
# of the validation predictions, which needs the groups.
_TOLERANCE_FIT_CHECKS = [
    "check_classifier_data_not_an_array", "check_classifiers_classes",
    "check_classifiers_one_label", "check_classifiers_regression_target",
    "check_classifiers_train", "check_complex_data", "check_dict_unchanged",
    "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimator_sparse_array", "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag", "check_estimators_dtypes",
    "check_estimators_empty_data_messages", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params",
    "check_estimators_pickle", "check_f_contiguous_array_estimator",
    "check_fit2d_1feature", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_n_features_in", "check_n_features_in_after_fitting",
    "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_requires_y_none", "check_supervised_y_2d",
    "check_transformer_data_not_an_array", "check_transformer_general",
    "check_transformer_preserve_dtypes",
]

# Failures by estimator class name: check name -> reason.
EXPECTED_FAILED_CHECKS: dict = {
    "FairPer": {
        "check_classifier_multioutput": (
            "a 2-D Y is one column per perspective and FairPer learns them all, "
            "but predict returns the labels of the selected perspective only "
            "(1-D), by design: the perspective is switched with "
            "set_params(perspective=...); predict_all returns every column."
        ),
    },
    "SpeakerStandardScaler": _needs(
        "speakers", _FIT_CHECKS + _TRANSFORMER_CHECKS + ["check_fit2d_1sample"]
    ),
    "FairlearnAdversarial": _needs("sensitive_features", _NEEDS_GROUPS),
    "FairlearnPrototype": _needs(
        "sensitive_features", _NEEDS_GROUPS + _TRANSFORMER_CHECKS + _N_ITER_CHECKS
    ),
    "AIF360LFR": _needs(
        "sensitive_features", _NEEDS_GROUPS + _TRANSFORMER_CHECKS + _N_ITER_CHECKS
    ),
    "AIF360ClassicLFR": _needs(
        "sensitive_features", _NEEDS_GROUPS + _TRANSFORMER_CHECKS + _N_ITER_CHECKS
    ),
    "ExponentiatedGradientClassifier": _needs(
        "sensitive_features", _NEEDS_GROUPS + ["check_non_transformer_estimators_n_iter"]
    ),
    "FairnessTolerance": _needs("sensitive_features", _TOLERANCE_FIT_CHECKS),
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def _check_name(check):
    while isinstance(check, partial):
        check = check.func
    return check.__name__


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    module = REQUIRES.get(type(estimator).__name__)
    if module is not None:
        require_module(module)
    reason = _expected_failed_checks(estimator).get(_check_name(check))
    if reason is None:
        check(estimator)
        return
    # The expected failure still runs (a pass shows as XPASS), but ends in
    # pytest.xfail: formatting the traceback of a failed check (pytest parses
    # sklearn's estimator_checks.py for it) costs about 0.8 s a check.
    try:
        check(estimator)
    except Exception:  # noqa: BLE001 - any error is the check failing
        failed = True
    else:
        failed = False
    if failed:  # outside the except block: no chained traceback to format
        pytest.xfail(reason)


# ------------------------------------------------------------- featurizers

# The checks of scikit-learn that need no data: they hold for any input type.
DATA_FREE_CHECKS = [
    check_estimator_cloneable,
    check_estimator_repr,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_get_params_invariance,
    check_set_params,
    check_valid_tag_types,
    check_estimator_tags_renamed,
    check_mixin_order,
]

# SSLFeatures and VQWav2Vec take a model folder / checkpoint path as their
# first argument; the data-free checks never load it.
FEATURIZERS = [
    EGeMAPS(progress_bar=False),
    TextFeatures(n_components=3, random_state=0),
    SSLFeatures("model-folder", progress_bar=False),
    VQWav2Vec("checkpoint.pt", progress_bar=False),
]


def _check_id(value):
    if callable(value) and value.__name__.startswith("check_"):
        return value.__name__
    return type(value).__name__


@pytest.mark.parametrize("check", DATA_FREE_CHECKS, ids=_check_id)
@pytest.mark.parametrize("featurizer", FEATURIZERS, ids=_check_id)
def test_featurizer_data_free_checks(featurizer, check):
    check(type(featurizer).__name__, clone(featurizer))


def _waveforms(n=4, seconds=0.5, sample_rate=16000):
    rng = np.random.RandomState(0)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return [
        ((0.3 * np.sin(2 * np.pi * (120 + 40 * i) * t)
          + 0.01 * rng.randn(t.size)).astype(np.float32), sample_rate)
        for i in range(n)
    ]


TEXTS = [
    "the raters heard anger in her voice",
    "a calm and neutral sentence",
    "he sounded sad and tired today",
    "what a happy surprise that was",
    "the voice was angry and loud",
    "neutral words read slowly",
]


def _egemaps(tmp_path):
    require_module("opensmile")
    return EGeMAPS(progress_bar=False), _waveforms()


def _text(tmp_path):
    return TextFeatures(n_components=3, random_state=0), TEXTS


def _ssl(tmp_path):
    from tests.features.test_featurizers import _save_tiny_model  # the tiny random wav2vec 2.0

    _save_tiny_model(tmp_path / "wav2vec2", "wav2vec2")
    return SSLFeatures(tmp_path / "wav2vec2", progress_bar=False), _waveforms(n=3)


def _vqwav2vec(tmp_path):
    from tests.features.test_featurizers import _save_random_vq_wav2vec  # random fairseq weights

    _save_random_vq_wav2vec(tmp_path / "vq.pt")
    return VQWav2Vec(tmp_path / "vq.pt", progress_bar=False), _waveforms(n=3)


@pytest.mark.parametrize("make", [_egemaps, _text, _ssl, _vqwav2vec],
                         ids=["EGeMAPS", "TextFeatures", "SSLFeatures", "VQWav2Vec"])
def test_featurizer_fit_transform_contract(make, tmp_path):
    """The transformer contract of the checks, on the input the featurizer takes."""
    featurizer, X = make(tmp_path)
    with pytest.raises(NotFittedError):
        clone(featurizer).transform(X)
    params = featurizer.get_params()
    assert featurizer.fit(X) is featurizer
    assert featurizer.get_params() == params  # fit leaves the parameters alone
    check_is_fitted(featurizer)
    fitted = [name for name in vars(featurizer) if name.endswith("_")]
    assert fitted and not any(re.fullmatch(r"_+", name) for name in fitted)
    Xt = featurizer.transform(X)
    assert Xt.ndim == 2 and Xt.shape[0] == len(X) and np.all(np.isfinite(Xt))
    assert len(featurizer.get_feature_names_out()) == Xt.shape[1]
    np.testing.assert_allclose(clone(featurizer).fit_transform(X), Xt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(featurizer.transform(X[:2]), Xt[:2], rtol=1e-5, atol=1e-6)
    restored = pickle.loads(pickle.dumps(featurizer))
    np.testing.assert_allclose(restored.transform(X), Xt, rtol=1e-5, atol=1e-6)
