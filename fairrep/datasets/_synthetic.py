"""A seeded, simulated multi-rater speech-emotion corpus: the embedded default.

The corpus imitates the structure Chien & Lee study on IEMOCAP (section 2.1):
five emotions, sessions with one male and one female actor, raters in two
gender groups whose perception differs, a majority-vote ground truth, and an
S1/S2 split of about 41 % / 59 %. Everything here is simulated; no recording,
rating or feature of any real corpus is used. The generative model is in
:mod:`._synthetic_model`, the parameter checks in :mod:`._synthetic_params`.
"""

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ._synthetic_model import (
    draw_features,
    draw_ratings,
    draw_readings,
    majority_vote,
    speaker_names,
)
from ._synthetic_params import (
    EMOTIONS,
    IEMOCAP_CLASS_COUNTS,
    check_parameters,
    describe,
)

__all__ = ["EMOTIONS", "IEMOCAP_CLASS_COUNTS", "make_rater_perspectives"]


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
    params = check_parameters(
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

    # 1. speakers and sessions
    n_speakers = p.n_sessions * p.speakers_per_session
    speaker_index = np.sort(np.arange(p.n_samples) % n_speakers)
    session = speaker_index // p.speakers_per_session + 1
    is_male = (speaker_index % p.speakers_per_session) % 2 == 0
    speaker = speaker_names(p.n_sessions, p.speakers_per_session)[speaker_index]
    within = np.arange(p.n_samples) - np.searchsorted(speaker_index, speaker_index)
    item_ids = np.array(
        [f"{name}_{k:04d}" for name, k in zip(speaker, within + 1)], dtype=object
    )

    # 2.-4. intended emotion, readings of both groups, cue
    intended, alternative, ambiguous, reading_first, reading_second, cue = (
        draw_readings(rng, p)
    )

    # 5. ratings
    ratings = draw_ratings(rng, p, item_ids, reading_first, reading_second, cue)

    # 6. majority-vote truth
    truth = majority_vote(ratings, item_ids)

    # 7. features
    blend = np.where(ambiguous, rng.uniform(0.2, 0.5, size=p.n_samples), 0.0)
    X = draw_features(
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
        DESCR=describe(p),
    )

