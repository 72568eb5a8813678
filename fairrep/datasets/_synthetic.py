"""A seeded, simulated multi-rater speech-emotion corpus: the embedded default.

The corpus imitates the structure Chien & Lee study on IEMOCAP (section 2.1):
five emotions, sessions with one male and one female actor, raters in two
gender groups whose perception differs, a majority-vote ground truth, and an
S1/S2 split of about 41 % / 59 %. Everything here is simulated; no recording,
rating or feature of any real corpus is used.
"""

import numbers
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.special import comb, ndtr
from sklearn.utils import Bunch, check_random_state

from ..utils._validation import check_positive_int

__all__ = ["EMOTIONS", "IEMOCAP_CLASS_COUNTS", "make_rater_perspectives"]

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

# Default crossover thresholds of the second group's raters, evenly spaced
# between these two values on the scale of the standard normal cue.
_THRESHOLD_RANGE = (-0.6, 1.8)

# Nodes and weights of the Gauss-Hermite rule for expectations over the
# standard normal cue, used to calibrate the intended-emotion proportions.
_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(60)
_HERMITE_WEIGHTS = _HERMITE_WEIGHTS / _HERMITE_WEIGHTS.sum()


def make_rater_perspectives(
    n_samples=7380,
    *,
    n_features=88,
    n_sessions=5,
    speakers_per_session=2,
    rater_groups=("male", "female"),
    n_raters=(2, 4),
    ratings_per_group=(2, 3),
    class_weights=None,
    perception_gap=0.84,
    frustration_bias=0.9,
    crossover_thresholds=None,
    threshold_noise=0.25,
    label_noise=0.01,
    class_sep=4.0,
    cue_strength=3.0,
    speaker_effect=1.5,
    random_state=None,
    return_X_y=False,
    as_frame=False,
):
    """Generate a SIMULATED multi-rater speech-emotion corpus with rater-group bias.

    The embedded default corpus of fairrep: a seeded stand-in for IEMOCAP as
    used by Chien & Lee (section 2.1) on which the whole study (stage 1,
    stage 2, Tables 1-4) runs offline. It is **simulated data**: the
    "utterances" are feature vectors drawn from the model below, the
    "raters" are random draws, and no real recording or rating is involved.
    Its sizes follow the paper: 7,380 items, five emotions in IEMOCAP's
    proportions, 5 sessions of one male and one female speaker, six raters
    (2 male, 4 female), at least three ratings per item, and with the
    default parameters about 41 % of the determined items in S1 and 59 % in
    S2 (paper: 3,038 and 4,342).

    Generative model, for item ``i`` (``g1``, ``g2`` are the two entries of
    ``rater_groups``; ``g1`` is the group that under-reports frustration):

    1. *Speaker.* Items are spread evenly over ``n_sessions *
       speakers_per_session`` speakers; speaker ``j`` of a session is male
       when ``j`` is even, female otherwise.
    2. *Intended emotion* ``e_i ~ Categorical(pi)``. The proportions ``pi``
       are calibrated (non-negative least squares on the exact transition
       from intended emotion to majority vote, without label noise) so that
       the *majority-vote truth* follows ``class_weights``.
    3. *Readings.* With probability ``1 - perception_gap`` both groups read
       the item as ``e_i``. Otherwise the item is ambiguous: a second
       emotion ``a_i`` is drawn from a fixed confusion row (frustration is
       the most frequent alternative of every emotion; neutral, anger,
       happiness and sadness that of frustration) and the two groups read it
       differently. When frustration is one of the two readings, ``g2``
       takes it with probability ``frustration_bias`` (``g1`` otherwise);
       for the other pairs ``g1`` reads ``e_i`` and ``g2`` reads ``a_i``.
       Write ``r1_i``, ``r2_i`` for the readings of ``g1`` and ``g2``.
    4. *Cue.* ``c_i ~ N(0, 1)``: how strongly the recording supports the
       reading of ``g1``.
    5. *Ratings.* ``ratings_per_group[k]`` distinct raters of group ``k``
       are drawn uniformly from its ``n_raters[k]`` raters. A ``g1`` rater
       gives ``r1_i``. The ``j``-th rater of ``g2`` gives ``r1_i`` (crosses
       over to the other group's reading) when ``c_i + threshold_noise *
       d_ij > t_j`` with ``d_ij ~ N(0, 1)`` and a rater-specific threshold
       ``t_j`` (``crossover_thresholds``; by default evenly spaced in
       [-0.6, 1.8]), and ``r2_i`` otherwise. With probability
       ``label_noise`` any rating is then replaced by a uniformly drawn
       other emotion.
    6. *Truth.* The majority vote over all ratings of the item (``NaN`` on a
       tie); the latent ``e_i`` is kept as ``item_info["intended"]``.
    7. *Features.* ``z_i = (1 - l_i) mu[e_i] + l_i mu[a_i] + cue_strength
       c_i v + eps_i`` with ``eps_i ~ N(0, I)``, emotion prototypes ``mu``
       of norm ``class_sep`` in random directions, a unit cue direction
       ``v`` and blend ``l_i ~ U(0.2, 0.5)`` on ambiguous items (0
       otherwise). The observed features are ``x_i = o_s + s_s * z_i`` for
       the item's speaker ``s``, where the offset ``o_s`` (a sex-specific
       part plus a speaker part, each ``N(0, speaker_effect**2 / 2)`` per
       feature) and the log-scale ``log s_s ~ N(0, (speaker_effect / 5)**2)``
       per feature make per-speaker z-normalisation (section 2.2.1)
       necessary.

    What follows, by construction (default rating design, two ``g1`` and
    three ``g2`` ratings per item, without label noise): an ambiguous item
    is in S2 with ``g2``'s perspective when no ``g2`` rater crosses over, in
    S2 with ``g1``'s perspective when exactly one does (its vote tips the
    majority), and in S1, with truth ``r1_i``, when two or more do. The
    perspective of an S2 item is therefore a threshold function of the
    cue, which the features reveal; the truth of an ambiguous item depends
    on it too. Since ``g2`` usually holds the frustration reading, ``g1``'s
    consensus matches the truth less often on frustration and more often on
    the other emotions (Figs. 1 and 2 of the paper). A classifier of the
    truth uses the cue, so its class rates on S2 differ between the
    perspective groups (statistical parity, Table 2); removing the cue from
    a representation narrows that gap at the price of the S1 items whose
    truth depends on it. With two ratings, ``g1`` has no consensus when its
    raters disagree, which puts the item in S2 (undetermined in the strict
    split), and the strict split's "other" cannot occur: two groups agreeing
    on a label give it a majority of all votes.

    Parameters
    ----------
    n_samples : int, default=7380
        Number of items (utterances); at least two per speaker.
    n_features : int, default=88
        Feature dimension (88 like eGeMAPS; 512 like vq-wav2vec).
    n_sessions : int, default=5
        Number of sessions (IEMOCAP: 5).
    speakers_per_session : int, default=2
        Speakers per session, alternately male and female (IEMOCAP: one of
        each).
    rater_groups : tuple of two str, default=("male", "female")
        Names of the rater groups. The first under-reports frustration.
    n_raters : tuple of two int, default=(2, 4)
        Raters in each group (paper: 2 male, 4 female).
    ratings_per_group : tuple of two int, default=(2, 3)
        Ratings each item receives from each group; together at least 3,
        each between 1 and the group's ``n_raters``. With one rating per
        item, the first group's perspective wins an S2 item only where the
        second group's votes tie (never under the strict split).
    class_weights : dict or array-like of shape (5,), default=None
        Target proportions of the majority-vote truth classes, in
        :data:`EMOTIONS` order or keyed by emotion; normalised to sum to
        one. None uses IEMOCAP's counts (:data:`IEMOCAP_CLASS_COUNTS`).
        The closest proportions the model can produce are used; when
        ``class_weights`` is given and they are more than 0.01 away (e.g.
        too little frustration for the second group's bias), a
        ``UserWarning`` names them.
    perception_gap : float in [0, 1], default=0.84
        Probability that the two groups read an item differently. 0 leaves
        S2 only the few items that label noise puts there.
    frustration_bias : float in [0, 1], default=0.9
        Probability that the second group holds the frustration reading of
        an ambiguous item involving frustration; 0.5 means no group bias.
    crossover_thresholds : array-like of shape (n_raters[1],), default=None
        Cue threshold of each rater of the second group above which the
        rater adopts the first group's reading (step 5). None spaces them
        evenly in [-0.6, 1.8].
    threshold_noise : float >= 0, default=0.25
        Standard deviation of the per-rating jitter of the cue in step 5;
        0 makes crossovers a deterministic function of cue and rater.
    label_noise : float in [0, 0.5], default=0.01
        Probability that a rating is replaced by a random other emotion.
    class_sep : float > 0, default=4.0
        Norm of the emotion prototypes (larger: easier emotions).
    cue_strength : float >= 0, default=3.0
        Scale of the perspective cue in the features (larger: perspective
        easier to predict from the features).
    speaker_effect : float >= 0, default=1.5
        Size of the per-speaker offsets and scales; 0 makes speaker
        normalisation unnecessary.
    random_state : int, RandomState instance or None, default=None
        Seed of every random draw; an int gives identical corpora.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame indexed by item with
        ``feature_names`` as columns, and ``target`` a Series.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with attributes

        - ``data``: ndarray of float64 of shape (n_samples, n_features),
          the features (or DataFrame when ``as_frame``);
        - ``target``: ndarray of object of shape (n_samples,), the
          majority-vote truth (emotion names, NaN on a tie), aligned with
          ``data`` (or Series when ``as_frame``);
        - ``truth``: Series of the same, indexed by item;
        - ``ratings``: DataFrame, one row per rating, columns ``item``,
          ``rater``, ``rater_group``, ``label``; the input of
          :func:`fairrep.raters.perspective_split`;
        - ``item_info``: DataFrame indexed by item, columns ``session``,
          ``speaker``, ``speaker_sex`` (``"M"``/``"F"``), ``intended``,
          ``reading_<group>`` for both groups and ``cue`` (the latent draws
          of the model);
        - ``sessions``: ndarray of int, the session of each row, for
          session-independent cross-validation (``GroupKFold``);
        - ``speakers``: ndarray of str, the speaker of each row;
        - ``feature_names``, ``target_names`` (:data:`EMOTIONS`),
          ``rater_groups``;
        - ``DESCR``: a description stating that the data are simulated.

    (data, target) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` as above.

    Raises
    ------
    TypeError, ValueError
        When a parameter has the wrong type or is out of range; the message
        names the parameter and what it expects.

    See Also
    --------
    fairrep.raters.perspective_split : the S1/S2 split of the ratings.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.1 (IEMOCAP, six raters,
       S1: 3,038 and S2: 4,342 utterances) and Figs. 1-2.
    .. [2] C. Busso et al., "IEMOCAP: Interactive emotional dyadic motion
       capture database", Language Resources and Evaluation 42, 2008.

    Examples
    --------
    >>> from fairrep.datasets import make_rater_perspectives
    >>> from fairrep.raters import perspective_split
    >>> corpus = make_rater_perspectives(600, random_state=0)
    >>> corpus.data.shape
    (600, 88)
    >>> sorted(corpus.ratings.columns)
    ['item', 'label', 'rater', 'rater_group']
    >>> int(corpus.ratings.groupby("item").size().min())  # at least three ratings
    5
    >>> split = perspective_split(corpus.ratings)
    >>> split["subset"].value_counts().to_dict()
    {'S2': 352, 'S1': 235, 'undetermined': 13}
    >>> corpus.truth.value_counts().to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'frustration': 148, 'neutral': 135, 'happiness': 125, 'anger': 97,
     'sadness': 82}
    """
    params = _check_parameters(
        n_samples=n_samples,
        n_features=n_features,
        n_sessions=n_sessions,
        speakers_per_session=speakers_per_session,
        rater_groups=rater_groups,
        n_raters=n_raters,
        ratings_per_group=ratings_per_group,
        class_weights=class_weights,
        perception_gap=perception_gap,
        frustration_bias=frustration_bias,
        crossover_thresholds=crossover_thresholds,
        threshold_noise=threshold_noise,
        label_noise=label_noise,
        class_sep=class_sep,
        cue_strength=cue_strength,
        speaker_effect=speaker_effect,
        return_X_y=return_X_y,
        as_frame=as_frame,
    )
    rng = check_random_state(random_state)
    p = Bunch(**params)
    n_classes = len(EMOTIONS)

    # 1. speakers and sessions
    n_speakers = p.n_sessions * p.speakers_per_session
    speaker_index = np.sort(np.arange(p.n_samples) % n_speakers)
    session = speaker_index // p.speakers_per_session + 1
    is_male = (speaker_index % p.speakers_per_session) % 2 == 0
    speaker_names = _speaker_names(p.n_sessions, p.speakers_per_session)
    speaker = speaker_names[speaker_index]
    within = np.arange(p.n_samples) - np.searchsorted(speaker_index, speaker_index)
    item_ids = np.array(
        [f"{name}_{k:04d}" for name, k in zip(speaker, within + 1)], dtype=object
    )

    # 2.-4. intended emotion, readings of both groups, cue
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

    # 5. ratings
    ratings = _draw_ratings(rng, p, item_ids, reading_first, reading_second, cue)

    # 6. majority-vote truth
    truth = _majority_vote(ratings, item_ids)

    # 7. features
    blend = np.where(ambiguous, rng.uniform(0.2, 0.5, size=p.n_samples), 0.0)
    X = _draw_features(
        rng, p, intended, alternative, blend, cue, speaker_index, is_male, n_speakers
    )

    width = len(str(p.n_features - 1))
    feature_names = [f"feature_{j:0{width}d}" for j in range(p.n_features)]
    emotions = np.asarray(EMOTIONS, dtype=object)
    index = pd.Index(item_ids, name="item")
    item_info = pd.DataFrame(
        {
            "session": session,
            "speaker": speaker,
            "speaker_sex": np.where(is_male, "M", "F"),
            "intended": emotions[intended],
            f"reading_{p.rater_groups[0]}": emotions[reading_first],
            f"reading_{p.rater_groups[1]}": emotions[reading_second],
            "cue": cue,
        },
        index=index,
    )
    truth = pd.Series(truth, index=index, name="truth", dtype=object)
    target = truth.to_numpy(dtype=object)
    if p.as_frame:
        data = pd.DataFrame(X, index=index, columns=feature_names)
        target = truth.copy()
    else:
        data = X
    if p.return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        truth=truth,
        ratings=ratings,
        item_info=item_info,
        sessions=session,
        speakers=speaker,
        feature_names=feature_names,
        target_names=list(EMOTIONS),
        rater_groups=list(p.rater_groups),
        DESCR=_describe(p),
    )


def _speaker_names(n_sessions, speakers_per_session):
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
            stacklevel=3,
        )
    return weights


def _draw_ratings(rng, p, item_ids, reading_first, reading_second, cue):
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


def _majority_vote(ratings, item_ids):
    """Plurality label per item, NaN on a tie, aligned with ``item_ids``."""
    counts = ratings.groupby(["item", "label"], sort=False).size().unstack(fill_value=0)
    counts = counts.reindex(item_ids)
    values = counts.to_numpy()
    top = values.max(axis=1, keepdims=True)
    unique_top = (values == top).sum(axis=1) == 1
    labels = counts.columns.to_numpy(dtype=object)[values.argmax(axis=1)]
    return np.where(unique_top, labels, np.nan).astype(object)


def _draw_features(
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


def _describe(p):
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
        try:
            weights = np.asarray(class_weights, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                "class_weights must be None, a dict keyed by emotion or an "
                f"array-like of {len(EMOTIONS)} numbers; got {class_weights!r}."
            ) from None
        if weights.shape != (len(EMOTIONS),):
            raise ValueError(
                f"class_weights must have {len(EMOTIONS)} entries, one per emotion "
                f"{list(EMOTIONS)}; got shape {weights.shape}."
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
    try:
        values = np.asarray(thresholds, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            "crossover_thresholds must be None or an array-like of numbers, one "
            f"per rater of the second group; got {thresholds!r}."
        ) from None
    if values.shape != (n_second,):
        raise ValueError(
            f"crossover_thresholds must have one entry per rater of the second "
            f"group (n_raters[1] = {n_second}); got shape {values.shape}."
        )
    if np.isnan(values).any():
        raise ValueError("crossover_thresholds must not contain NaN.")
    return values


def _check_parameters(**params):
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
