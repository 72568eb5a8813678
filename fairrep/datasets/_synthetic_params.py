"""The classes of the simulated corpus and the checks of its generator's parameters.

:func:`~fairrep.datasets.make_rater_perspectives` validates every argument
here, so that a wrong one raises a message naming it before anything is
drawn.
"""

import numbers

import numpy as np

from ..utils._validation import check_positive_int

__all__ = ["EMOTIONS", "IEMOCAP_CLASS_COUNTS", "check_parameters", "describe"]

#: The five emotion classes of the paper, in the order used for class indices.
EMOTIONS = ("neutral", "happiness", "anger", "sadness", "frustration")

#: IEMOCAP class counts the default truth proportions follow (happiness merged
#: with excitement), 7,380 utterances in all.
IEMOCAP_CLASS_COUNTS = {
    "neutral": 1708,
    "happiness": 1636,
    "anger": 1103,
    "sadness": 1084,
    "frustration": 1849,
}


# Default crossover thresholds of the second group's raters, evenly spaced
# between these two values on the scale of the standard normal cue.
_THRESHOLD_RANGE = (-0.6, 1.8)


def describe(p):
    """The ``DESCR`` text of a corpus drawn with the checked parameters ``p``."""
    groups = p.rater_groups
    return (
        "Simulated multi-rater speech-emotion corpus (fairrep's embedded "
        "default).\n\n"
        "SIMULATED DATA: feature vectors and ratings drawn from the generative "
        "model of fairrep.datasets.make_rater_perspectives; no real recording "
        "or rating is involved.\n\n"
        f"Items: {p.n_samples}; features: {p.n_features}; sessions: "
        f"{p.n_sessions} x {p.speakers_per_session} speakers.\n"
        f"Emotions: {', '.join(EMOTIONS)}.\n"
        f"Rater groups: {groups[0]} ({p.n_raters[0]} raters, "
        f"{p.ratings_per_group[0]} per item) and {groups[1]} ({p.n_raters[1]} "
        f"raters, {p.ratings_per_group[1]} per item); the {groups[0]} group "
        "under-reports frustration.\n"
        "Truth: majority vote over all ratings (NaN on a tie).\n"
        f"perception_gap={p.perception_gap}, frustration_bias="
        f"{p.frustration_bias}, crossover_thresholds="
        f"{np.round(p.crossover_thresholds, 3).tolist()}, "
        f"label_noise={p.label_noise}.\n"
        "Structure after Chien & Lee, 'A Two-Stage Learning Strategy for Fair "
        "Speech Emotion Recognition', section 2.1 (IEMOCAP).\n"
    )


def _check_fraction(value, name, *, high=1.0):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, {high}]; got {value!r}.")
    if not 0.0 <= value <= high:
        raise ValueError(f"{name} must be in [0, {high}]; got {value}.")
    return float(value)


def _check_nonnegative(value, name, *, strict=False):
    kind = "> 0" if strict else ">= 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number {kind}; got {value!r}.")
    if not np.isfinite(value) or value < 0 or (strict and value == 0):
        raise ValueError(f"{name} must be a finite number {kind}; got {value}.")
    return float(value)


def _check_pair(value, name, check):
    if isinstance(value, str) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(
            f"{name} must be a pair (one entry per rater group); got {value!r}."
        )
    return tuple(check(entry, f"{name}[{k}]") for k, entry in enumerate(value))


def _check_group_name(value, name):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string; got {value!r}.")
    return value


def _float_vector(value, length, type_message, shape_message):
    """``value`` as a float array of shape ``(length,)``, or a TypeError/ValueError."""
    try:
        values = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(type_message) from None
    if values.shape != (length,):
        raise ValueError(f"{shape_message}; got shape {values.shape}.")
    return values


def _check_class_weights(class_weights):
    if class_weights is None:
        weights = np.array([IEMOCAP_CLASS_COUNTS[e] for e in EMOTIONS], dtype=float)
    elif isinstance(class_weights, dict):
        unknown = set(class_weights) - set(EMOTIONS)
        absent = set(EMOTIONS) - set(class_weights)
        if unknown or absent:
            raise ValueError(
                f"class_weights must have exactly the keys {list(EMOTIONS)}; "
                f"unknown: {sorted(map(str, unknown))}, absent: {sorted(absent)}."
            )
        weights = np.array([class_weights[e] for e in EMOTIONS], dtype=float)
    else:
        weights = _float_vector(
            class_weights,
            len(EMOTIONS),
            "class_weights must be None, a dict keyed by emotion or an "
            f"array-like of {len(EMOTIONS)} numbers; got {class_weights!r}.",
            f"class_weights must have {len(EMOTIONS)} entries, one per emotion "
            f"{list(EMOTIONS)}",
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(
            "class_weights must be finite, non-negative and not all zero; got "
            f"{weights.tolist()}."
        )
    return weights / weights.sum()


def _check_thresholds(thresholds, n_second):
    if thresholds is None:
        return np.linspace(*_THRESHOLD_RANGE, num=n_second)
    values = _float_vector(
        thresholds,
        n_second,
        "crossover_thresholds must be None or an array-like of numbers, one "
        f"per rater of the second group; got {thresholds!r}.",
        "crossover_thresholds must have one entry per rater of the second "
        f"group (n_raters[1] = {n_second})",
    )
    if np.isnan(values).any():
        raise ValueError("crossover_thresholds must not contain NaN.")
    return values


def check_parameters(**params):
    """Every parameter of the generator checked and normalised, as a dict."""
    p = dict(params)
    p["n_features"] = check_positive_int(params["n_features"], "n_features")
    p["n_sessions"] = check_positive_int(params["n_sessions"], "n_sessions")
    p["speakers_per_session"] = check_positive_int(
        params["speakers_per_session"], "speakers_per_session"
    )
    n_speakers = p["n_sessions"] * p["speakers_per_session"]
    n_samples = params["n_samples"]
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be an integer; got {n_samples!r}.")
    if n_samples < 2 * n_speakers:
        raise ValueError(
            f"n_samples must be at least 2 per speaker, i.e. >= {2 * n_speakers} "
            f"for {p['n_sessions']} sessions x {p['speakers_per_session']} "
            f"speakers; got {n_samples}."
        )
    p["n_samples"] = int(n_samples)

    p["rater_groups"] = _check_pair(
        params["rater_groups"], "rater_groups", _check_group_name
    )
    if p["rater_groups"][0] == p["rater_groups"][1]:
        raise ValueError(
            "rater_groups must name two different groups; got "
            f"{params['rater_groups']!r}."
        )
    p["n_raters"] = _check_pair(params["n_raters"], "n_raters", check_positive_int)
    p["ratings_per_group"] = _check_pair(
        params["ratings_per_group"], "ratings_per_group", check_positive_int
    )
    for k in range(2):
        if p["ratings_per_group"][k] > p["n_raters"][k]:
            raise ValueError(
                f"ratings_per_group[{k}] must be <= n_raters[{k}] (each rater rates "
                f"an item once); got {p['ratings_per_group'][k]} > {p['n_raters'][k]}."
            )
    if sum(p["ratings_per_group"]) < 3:
        raise ValueError(
            "ratings_per_group must sum to at least 3 (every item gets >= 3 "
            f"ratings, as in IEMOCAP); got {params['ratings_per_group']!r}."
        )
    p["class_weights"] = _check_class_weights(params["class_weights"])
    p["class_weights_given"] = params["class_weights"] is not None
    for name in ("perception_gap", "frustration_bias"):
        p[name] = _check_fraction(params[name], name)
    p["crossover_thresholds"] = _check_thresholds(
        params["crossover_thresholds"], p["n_raters"][1]
    )
    p["threshold_noise"] = _check_nonnegative(
        params["threshold_noise"], "threshold_noise"
    )
    p["label_noise"] = _check_fraction(params["label_noise"], "label_noise", high=0.5)
    p["class_sep"] = _check_nonnegative(params["class_sep"], "class_sep", strict=True)
    for name in ("cue_strength", "speaker_effect"):
        p[name] = _check_nonnegative(params[name], name)
    for name in ("return_X_y", "as_frame"):
        if not isinstance(params[name], (bool, np.bool_)):
            raise TypeError(f"{name} must be a bool; got {params[name]!r}.")
    return p
