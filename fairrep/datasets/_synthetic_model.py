"""The generative model of the simulated corpus: readings, ratings, truth, features.

The steps of :func:`~fairrep.datasets.make_rater_perspectives` (its
docstring describes the model): each function draws one step from the
shared random generator, in the order the generator calls them.
"""

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.special import comb, ndtr

from ._synthetic_params import EMOTIONS

__all__ = [
    "draw_features",
    "draw_ratings",
    "draw_readings",
    "majority_vote",
    "speaker_names",
]

_FRUSTRATION = EMOTIONS.index("frustration")

# Which second emotion an ambiguous utterance can be read as, given its
# intended emotion (rows and columns in EMOTIONS order, rows sum to one).
# Frustration dominates every row but its own: only pairs involving
# frustration let the first group's reading win S2 items of *every* other
# emotion more often than the second group's does (the direction of Fig. 2);
# a pair without frustration gives one of its two emotions to the second
# group's perspective.
_ALTERNATIVE_READING = np.array(
    [
        # neu   hap   ang   sad   fru
        [0.00, 0.10, 0.05, 0.10, 0.75],  # neutral
        [0.30, 0.00, 0.10, 0.00, 0.60],  # happiness
        [0.05, 0.05, 0.00, 0.00, 0.90],  # anger
        [0.20, 0.00, 0.00, 0.00, 0.80],  # sadness
        [0.50, 0.10, 0.30, 0.10, 0.00],  # frustration
    ]
)


# Nodes and weights of the Gauss-Hermite rule for expectations over the
# standard normal cue, used to calibrate the intended-emotion proportions.
_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(60)
_HERMITE_WEIGHTS = _HERMITE_WEIGHTS / _HERMITE_WEIGHTS.sum()


def speaker_names(n_sessions, speakers_per_session):
    """IEMOCAP-like names: ``Ses01M``, ``Ses01F``; ``Ses01M2``... beyond two."""
    names = []
    for session in range(1, n_sessions + 1):
        for j in range(speakers_per_session):
            sex = "M" if j % 2 == 0 else "F"
            number = "" if speakers_per_session <= 2 else str(j // 2 + 1)
            names.append(f"Ses{session:02d}{sex}{number}")
    return np.asarray(names, dtype=object)


def _draw_rows(rng, probabilities):
    """One categorical draw per row of ``probabilities`` (rows sum to one)."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random_sample((probabilities.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((u >= cumulative).sum(axis=1), probabilities.shape[1] - 1)


def _crossover_probability(cue, thresholds, noise):
    """P(rater j adopts the first group's reading | cue), shape (n_cue, n_raters)."""
    margin = np.asarray(cue, dtype=float)[:, None] - thresholds[None, :]
    if noise == 0:
        return (margin > 0).astype(float)
    return ndtr(margin / noise)


def _crossover_count_pmf(cue, thresholds, noise, per_item):
    """P(K = k | cue) for k crossovers among ``per_item`` raters drawn at random.

    The raters rating an item are a uniform subset of size ``per_item``; a
    dynamic programme over raters sums, for every subset size, the
    probability of each crossover count, and the subsets of the right size
    are then averaged.
    """
    probability = _crossover_probability(cue, thresholds, noise)
    n_cue = probability.shape[0]
    # table[:, s, k]: sum over chosen subsets of size s of P(k crossovers)
    table = np.zeros((n_cue, per_item + 1, per_item + 1))
    table[:, 0, 0] = 1.0
    for j in range(thresholds.shape[0]):
        p_j = probability[:, j][:, None, None]
        chosen = np.zeros_like(table)
        chosen[:, 1:, :] += table[:, :-1, :] * (1.0 - p_j)
        chosen[:, 1:, 1:] += table[:, :-1, :-1] * p_j
        table = table + chosen
    return table[:, per_item, :] / comb(thresholds.shape[0], per_item)


def _intended_weights(p):
    """Intended-emotion proportions whose majority vote follows ``class_weights``.

    Without label noise the vote of an ambiguous item goes to the first
    group's reading with probability ``win_first`` and to the second's with
    ``win_second`` (number of crossovers averaged over the cue),
    so the expected truth distribution is linear in the intended
    proportions; non-negative least squares inverts it.
    """
    k1, k2 = p.ratings_per_group
    crossovers = np.arange(k2 + 1)
    pmf = _crossover_count_pmf(
        _HERMITE_NODES, p.crossover_thresholds, p.threshold_noise, k2
    )
    pmf = (pmf * _HERMITE_WEIGHTS[:, None]).sum(axis=0)
    margin = (k1 + crossovers) - (k2 - crossovers)
    win_first = pmf[margin > 0].sum()
    win_second = pmf[margin < 0].sum()

    n_classes = len(EMOTIONS)
    transition = np.zeros((n_classes, n_classes))
    for e in range(n_classes):
        transition[e, e] += 1.0 - p.perception_gap
        for a in range(n_classes):
            weight = p.perception_gap * _ALTERNATIVE_READING[e, a]
            if weight == 0.0:
                continue
            if _FRUSTRATION in (e, a):
                second_takes_e = p.frustration_bias if e == _FRUSTRATION else (
                    1.0 - p.frustration_bias
                )
            else:
                second_takes_e = 0.0
            to_e = second_takes_e * win_second + (1 - second_takes_e) * win_first
            to_a = (1 - second_takes_e) * win_second + second_takes_e * win_first
            transition[e, e] += weight * to_e
            transition[e, a] += weight * to_a
    weights, _ = nnls(transition.T, p.class_weights)
    weights = weights / weights.sum()
    reached = weights @ transition
    reached = reached / reached.sum()
    if p.class_weights_given and np.abs(reached - p.class_weights).max() > 0.01:
        warnings.warn(
            "class_weights cannot be reached with these perception parameters "
            "(the second group's readings add frustration); the expected truth "
            "proportions are "
            + ", ".join(f"{e}={r:.3f}" for e, r in zip(EMOTIONS, reached))
            + ". Lower perception_gap or frustration_bias to get closer.",
            UserWarning,
            stacklevel=4,  # make_rater_perspectives > draw_readings > here
        )
    return weights


def draw_ratings(rng, p, item_ids, reading_first, reading_second, cue):
    """The long ratings table of step 5."""
    n_samples = item_ids.shape[0]
    n_classes = len(EMOTIONS)
    emotions = np.asarray(EMOTIONS, dtype=object)
    frames = []
    for k, group in enumerate(p.rater_groups):
        n_group, per_item = p.n_raters[k], p.ratings_per_group[k]
        # a random permutation of the group's raters per item, first per_item kept
        chosen = np.argsort(rng.random_sample((n_samples, n_group)), axis=1)[
            :, :per_item
        ]
        chosen = np.sort(chosen, axis=1)
        own = reading_first if k == 0 else reading_second
        labels = np.repeat(own[:, None], per_item, axis=1)
        if k == 1:
            jitter = p.threshold_noise * rng.standard_normal((n_samples, per_item))
            crosses = cue[:, None] + jitter > p.crossover_thresholds[chosen]
            labels = np.where(crosses, reading_first[:, None], labels)
        noisy = rng.random_sample((n_samples, per_item)) < p.label_noise
        # a uniformly drawn *other* emotion: shift by 1..n_classes-1
        shift = rng.randint(1, n_classes, size=(n_samples, per_item))
        labels = np.where(noisy, (labels + shift) % n_classes, labels)
        rater_names = np.asarray(
            [f"{group}_{r + 1}" for r in range(n_group)], dtype=object
        )
        frames.append(
            pd.DataFrame(
                {
                    "item": np.repeat(item_ids, per_item),
                    "rater": rater_names[chosen.ravel()],
                    "rater_group": group,
                    "label": emotions[labels.ravel()],
                    "_order": np.repeat(np.arange(n_samples), per_item),
                }
            )
        )
    ratings = pd.concat(frames, ignore_index=True)
    ratings = ratings.sort_values(["_order", "rater_group", "rater"], kind="stable")
    ratings = ratings.drop(columns="_order").reset_index(drop=True)
    ratings["rater_group"] = ratings["rater_group"].astype(object)
    return ratings


def majority_vote(ratings, item_ids):
    """Plurality label per item, NaN on a tie, aligned with ``item_ids``."""
    counts = ratings.groupby(["item", "label"], sort=False).size().unstack(fill_value=0)
    counts = counts.reindex(item_ids)
    values = counts.to_numpy()
    top = values.max(axis=1, keepdims=True)
    unique_top = (values == top).sum(axis=1) == 1
    labels = counts.columns.to_numpy(dtype=object)[values.argmax(axis=1)]
    return np.where(unique_top, labels, np.nan).astype(object)


def draw_features(
    rng, p, intended, alternative, blend, cue, speaker_index, is_male, n_speakers
):
    """Step 7: prototypes, blend, cue and noise, then speaker offsets and scales."""
    n_classes = len(EMOTIONS)
    prototypes = rng.standard_normal((n_classes, p.n_features))
    prototypes *= p.class_sep / np.linalg.norm(prototypes, axis=1, keepdims=True)
    cue_direction = rng.standard_normal(p.n_features)
    cue_direction /= np.linalg.norm(cue_direction)
    latent = (
        (1.0 - blend)[:, None] * prototypes[intended]
        + blend[:, None] * prototypes[alternative]
        + p.cue_strength * cue[:, None] * cue_direction[None, :]
        + rng.standard_normal((intended.shape[0], p.n_features))
    )
    part = p.speaker_effect / np.sqrt(2.0)
    sex_offsets = part * rng.standard_normal((2, p.n_features))
    speaker_offsets = part * rng.standard_normal((n_speakers, p.n_features))
    speaker_is_male = np.zeros(n_speakers, dtype=bool)
    speaker_is_male[speaker_index] = is_male
    offsets = speaker_offsets + sex_offsets[speaker_is_male.astype(int)]
    log_scales = (p.speaker_effect / 5.0) * rng.standard_normal(
        (n_speakers, p.n_features)
    )
    X = offsets[speaker_index] + np.exp(log_scales)[speaker_index] * latent
    return X



def draw_readings(rng, p):
    """Steps 2-4: intended emotion, each group's reading, the ambiguity cue.

    Returns ``(intended, alternative, ambiguous, reading_first,
    reading_second, cue)``, arrays of shape (n_samples,).
    """
    n_classes = len(EMOTIONS)
    intended_weights = _intended_weights(p)
    intended = rng.choice(n_classes, size=p.n_samples, p=intended_weights)
    ambiguous = rng.random_sample(p.n_samples) < p.perception_gap
    alternative = _draw_rows(rng, _ALTERNATIVE_READING[intended])
    alternative = np.where(ambiguous, alternative, intended)
    with_frustration = (intended == _FRUSTRATION) | (alternative == _FRUSTRATION)
    other_reading = np.where(intended == _FRUSTRATION, alternative, intended)
    frustration_to_second = rng.random_sample(p.n_samples) < p.frustration_bias
    reading_second = np.where(
        with_frustration,
        np.where(frustration_to_second, _FRUSTRATION, other_reading),
        alternative,
    )
    reading_first = np.where(
        reading_second == intended, alternative, intended
    )
    reading_first = np.where(ambiguous, reading_first, intended)
    reading_second = np.where(ambiguous, reading_second, intended)
    cue = rng.standard_normal(p.n_samples)
    return intended, alternative, ambiguous, reading_first, reading_second, cue
