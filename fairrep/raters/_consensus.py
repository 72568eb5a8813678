"""Majority-vote consensus labels, overall and per rater group (section 2.1)."""

import pandas as pd

from ._ratings import GROUP, ITEM, check_ratings, majority_labels


def majority_vote(ratings, *, item="item", label="label", by=None, rater=None):
    """Majority (plurality) label of each item, optionally per value of ``by``.

    The label given by the most ratings wins; a tie for the most ratings gives
    no label (NaN), since no single label is the raters' consensus. This is the
    ground truth of section 2.1 of Chien & Lee ("the majority vote is the
    ground truth").

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long table, one row per (item, rater). Rows whose label is missing
        (None/NaN) are not ratings and are dropped; an item whose labels are
        all missing gets NaN.
    item : str, default="item"
        Column identifying the item (utterance, clip, text).
    label : str, default="label"
        Column holding the label; strings or numbers.
    by : str, default=None
        Column to vote within, e.g. the rater group. When None, one vote per
        item over all its ratings. Rows whose ``by`` value is missing take
        part in no group's vote.
    rater : str, default=None
        Column identifying raters. When given, a repeated (item, rater) pair
        raises a ValueError; when None every row counts as one rating.

    Returns
    -------
    votes : pandas.Series or pandas.DataFrame
        When ``by`` is None, a Series named ``label`` indexed by item. Else a
        DataFrame indexed by item with one column per sorted ``by`` value,
        NaN where that value's raters tie or gave no rating. Integer labels
        come back as floats when a NaN is present.

    See Also
    --------
    group_consensus : the per-rater-group vote.
    perspective_split : S1/S2 split built on these votes.

    References
    ----------
    .. [1] Woan-Shiuan Chien and Chi-Chun Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.1.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import majority_vote
    >>> ratings = pd.DataFrame({"item": ["u1", "u1", "u1", "u2", "u2"],
    ...                         "label": ["ang", "ang", "neu", "hap", "sad"]})
    >>> majority_vote(ratings)  # doctest: +ELLIPSIS
    item
    u1    ang
    u2    NaN
    Name: label, dtype: ...
    """
    clean, items, groups = check_ratings(
        ratings, item=item, label=label, rater_group=by, rater=rater
    )
    if by is None:
        votes = majority_labels(clean, [ITEM]).reindex(items)
        votes.index.name = item
        return votes.rename(label)
    return _wide_votes(clean, items, groups, name=by)


def group_consensus(
    ratings, *, item="item", rater_group="rater_group", label="label", rater=None
):
    """Consensus label of each rater group on each item.

    The consensus of a group is the majority label of that group's ratings of
    the item (section 2.1 of Chien & Lee: the male raters' and the female
    raters' consensus). A tie, or no rating from the group, gives NaN.

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long table, one row per (item, rater). Rows with a missing label are
        dropped; rows with a missing rater group take part in no group's vote.
    item : str, default="item"
        Column identifying the item.
    rater_group : str, default="rater_group"
        Column holding the rater's group, e.g. rater gender.
    label : str, default="label"
        Column holding the label.
    rater : str, default=None
        Column identifying raters; when given, repeated (item, rater) pairs
        raise a ValueError.

    Returns
    -------
    consensus : pandas.DataFrame
        Indexed by item (every item of ``ratings``), one column per rater group
        in sorted order (``columns.name`` is ``rater_group``).

    See Also
    --------
    majority_vote : the same vote within any column.
    perspective_split : compares these consensus labels with the truth.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import group_consensus
    >>> ratings = pd.DataFrame({
    ...     "item": ["u1"] * 4 + ["u2"] * 3,
    ...     "rater_group": ["M", "M", "F", "F", "M", "F", "F"],
    ...     "label": ["ang", "ang", "ang", "fru", "hap", "hap", "hap"]})
    >>> group_consensus(ratings)  # doctest: +NORMALIZE_WHITESPACE
    rater_group    F    M
    item
    u1           NaN  ang
    u2           hap  hap
    """
    clean, items, groups = check_ratings(
        ratings, item=item, label=label, rater_group=rater_group, rater=rater,
        min_groups=1,
    )
    return _wide_votes(clean, items, groups, name=rater_group)


def _wide_votes(clean, items, groups, *, name):
    """One column of majority labels per group, all items as rows."""
    grouped = clean[clean[GROUP].notna().to_numpy()]
    if len(grouped):
        votes = majority_labels(grouped, [ITEM, GROUP]).unstack(GROUP)
    else:
        votes = pd.DataFrame(index=pd.Index([], name=ITEM))
    votes = votes.reindex(index=items, columns=pd.Index(groups, name=name))
    votes.index.name = items.name
    return votes
