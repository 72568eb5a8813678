"""Inter-rater agreement: percent agreement, Fleiss' kappa, Krippendorff's alpha.

All three are computed from the item-by-label count matrix ``n[u, c]`` (how
many ratings of item ``u`` gave label ``c``), so raters need not be identified
and every item may have a different number of ratings. Items with fewer than
two ratings carry no information on agreement and are left out.
"""

import numpy as np
import pandas as pd

from ._ratings import GROUP, ITEM, LABEL, check_name_outside_groups, check_ratings


def _label_counts(clean):
    """Item-by-label count matrix of the labelled rows (one groupby)."""
    counts = clean.groupby([ITEM, LABEL], sort=False, observed=True).size()
    return counts.unstack(LABEL, fill_value=0).to_numpy(dtype=np.float64)


def _pairable(counts):
    per_item = counts.sum(axis=1)
    return counts[per_item >= 2]


def _pairwise_agreement(counts):
    """Per-item share of agreeing ordered rater pairs, P_i of Fleiss (1971)."""
    m = counts.sum(axis=1)
    return ((counts**2).sum(axis=1) - m) / (m * (m - 1))


def _fleiss_kappa(counts):
    counts = _pairable(counts)
    if counts.shape[0] == 0:
        return np.nan
    observed = _pairwise_agreement(counts).mean()
    shares = counts.sum(axis=0) / counts.sum()
    expected = float((shares**2).sum())
    if np.isclose(expected, 1.0):
        return np.nan  # one label only: chance agreement is perfect, kappa undefined
    return float((observed - expected) / (1.0 - expected))


def _krippendorff_alpha(counts):
    counts = _pairable(counts)
    m = counts.sum(axis=1)
    n = m.sum()
    if counts.shape[0] == 0:
        return np.nan
    # Coincidences of different labels within items, each pair weighted 1/(m_u - 1).
    observed = float((((m**2) - (counts**2).sum(axis=1)) / (m - 1)).sum())
    totals = counts.sum(axis=0)
    expected = float(n**2 - (totals**2).sum())
    if expected == 0:
        return np.nan  # no variation at all: alpha is undefined
    return float(1.0 - (n - 1) * observed / expected)


def krippendorff_alpha(ratings, *, item="item", label="label", rater=None):
    """Krippendorff's alpha for nominal labels.

    ``alpha = 1 - D_o / D_e``, with the observed disagreement ``D_o`` taken
    from the coincidences of different labels within items and the expected
    disagreement ``D_e`` from the labels' overall frequencies (Krippendorff
    2011). Missing ratings are allowed; items with a single rating are left
    out because they form no pair.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long table, one row per (item, rater); rows with a missing label are
        dropped.
    item : str, default="item"
        Column identifying the item.
    label : str, default="label"
        Column holding the (nominal) label.
    rater : str, default=None
        Column identifying raters; when given, repeated (item, rater) pairs
        raise a ValueError.

    Returns
    -------
    alpha : float
        1 for perfect agreement, 0 for agreement at chance level, negative
        below chance; NaN when no item has two ratings or only one label
        occurs.

    See Also
    --------
    fleiss_kappa, agreement_statistics

    References
    ----------
    .. [1] Klaus Krippendorff, "Computing Krippendorff's Alpha-Reliability",
       University of Pennsylvania, 2011.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import krippendorff_alpha
    >>> ratings = pd.DataFrame({"item": [1, 1, 2, 2, 3, 3],
    ...                         "label": ["a", "a", "b", "b", "a", "b"]})
    >>> round(krippendorff_alpha(ratings), 4)
    0.4444
    """
    clean, _, _ = check_ratings(ratings, item=item, label=label, rater=rater)
    return _krippendorff_alpha(_label_counts(clean))


def fleiss_kappa(ratings, *, item="item", label="label", rater=None):
    """Fleiss' kappa, generalised to items with different numbers of ratings.

    ``kappa = (P - P_e) / (1 - P_e)`` where ``P`` is the mean over items of the
    share of agreeing rater pairs and ``P_e = sum_c p_c**2`` the agreement
    expected from the overall label shares ``p_c`` (Fleiss 1971). With a
    constant number of ratings per item this is Fleiss' original statistic.
    Items with a single rating are left out.

    Parameters
    ----------
    ratings, item, label, rater
        As in :func:`krippendorff_alpha`.

    Returns
    -------
    kappa : float
        NaN when no item has two ratings or only one label occurs.

    See Also
    --------
    krippendorff_alpha, agreement_statistics

    References
    ----------
    .. [1] Joseph L. Fleiss, "Measuring nominal scale agreement among many
       raters", Psychological Bulletin 76(5), 1971.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import fleiss_kappa
    >>> ratings = pd.DataFrame({"item": [1, 1, 2, 2, 3, 3], "label": list("aabbab")})
    >>> round(fleiss_kappa(ratings), 4)
    0.3333
    """
    clean, _, _ = check_ratings(ratings, item=item, label=label, rater=rater)
    return _fleiss_kappa(_label_counts(clean))


def agreement_statistics(
    ratings,
    *,
    item="item",
    rater_group="rater_group",
    label="label",
    rater=None,
    overall_name="all",
):
    """Inter-rater agreement within each rater group and over all raters.

    Section 2.1 of Chien & Lee rests on rater groups perceiving the same
    utterances differently; these statistics say how consistent the raters are
    inside each group, and overall, before any split.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long table, one row per (item, rater). Rows with a missing label are
        dropped; rows with a missing group count only in the overall row.
    item : str, default="item"
        Column identifying the item.
    rater_group : str or None, default="rater_group"
        Column holding the rater's group; None gives the overall row only.
    label : str, default="label"
        Column holding the (nominal) label.
    rater : str, default=None
        Column identifying raters; when given, repeated (item, rater) pairs
        raise a ValueError.
    overall_name : str, default="all"
        Index label of the row over all ratings; must differ from the groups.

    Returns
    -------
    statistics : pandas.DataFrame
        One row per group (sorted) then the overall row, indexed by
        ``rater_group``, with columns

        - ``n_items``: items with at least one rating;
        - ``n_ratings``: ratings;
        - ``mean_ratings_per_item``: ``n_ratings / n_items``;
        - ``n_pairable_items``: items with at least two ratings, the ones the
          following statistics use;
        - ``percent_agreement``: mean over items of the percentage of rater
          pairs giving the same label;
        - ``fleiss_kappa``: see :func:`fleiss_kappa`;
        - ``krippendorff_alpha``: nominal, see :func:`krippendorff_alpha`.

    See Also
    --------
    fleiss_kappa, krippendorff_alpha

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import agreement_statistics
    >>> ratings = pd.DataFrame({
    ...     "item": [1, 1, 1, 1, 2, 2, 2, 2],
    ...     "rater_group": ["M", "M", "F", "F"] * 2,
    ...     "label": ["a", "a", "a", "b", "b", "b", "b", "b"]})
    >>> agreement_statistics(ratings)[["n_ratings", "percent_agreement"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                 n_ratings  percent_agreement
    rater_group
    F                    4               50.0
    M                    4              100.0
    all                  8               75.0
    """
    clean, _, groups = check_ratings(
        ratings, item=item, label=label, rater_group=rater_group, rater=rater,
        min_groups=1 if rater_group is not None else 0,
    )
    check_name_outside_groups(overall_name, groups, "overall_name")
    rows = {}
    if groups:
        for group, frame in clean[clean[GROUP].notna().to_numpy()].groupby(GROUP):
            rows[group] = _statistics(_label_counts(frame))
    rows = {group: rows[group] for group in groups}
    rows[overall_name] = _statistics(_label_counts(clean))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = rater_group if rater_group is not None else "rater_group"
    return table


def _statistics(counts):
    per_item = counts.sum(axis=1)
    pairable = _pairable(counts)
    n_items = int((per_item > 0).sum())
    return {
        "n_items": n_items,
        "n_ratings": int(per_item.sum()),
        "mean_ratings_per_item": float(per_item.sum() / n_items),
        "n_pairable_items": int(pairable.shape[0]),
        "percent_agreement": (
            100.0 * float(_pairwise_agreement(pairable).mean())
            if pairable.shape[0]
            else np.nan
        ),
        "fleiss_kappa": _fleiss_kappa(counts),
        "krippendorff_alpha": _krippendorff_alpha(counts),
    }
