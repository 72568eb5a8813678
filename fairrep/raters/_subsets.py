"""Each item's subset of section 2.1 (either split) and its perspective's groups."""

import numpy as np
import pandas as pd

from ..utils._names import join_group_names
from ._ratings import GROUP, ITEM, LABEL

#: Names of the subsets, in the order tables list them. The paper's split
#: (``method="paper"``) gives the first two and ``"undetermined"``; the strict
#: split (``method="strict"``) can give all four.
SUBSETS = ("S1", "S2", "other", "undetermined")


def rating_matches(clean, truth):
    """Whether each rating equals its item's truth (never where the truth is NaN)."""
    item_truth = truth.reindex(clean[ITEM].to_numpy()).to_numpy(dtype=object)
    labels = clean[LABEL].to_numpy(dtype=object)
    return (labels == item_truth) & ~pd.isna(item_truth)


def count_per_group(clean, index, groups, flags):
    """Number of true ``flags`` per item (rows) and rater group (columns).

    ``flags`` is aligned with the rows of ``clean``; rows without a group are
    left out; 0 where an item has no such row.
    """
    table = pd.DataFrame(
        {ITEM: clean[ITEM].to_numpy(), GROUP: clean[GROUP].to_numpy(), "_n": flags}
    )
    table = table[table[GROUP].notna().to_numpy()]
    return (
        table.groupby([ITEM, GROUP], sort=False)["_n"]
        .sum()
        .unstack(GROUP)
        .reindex(index=index, columns=groups)
        .fillna(0)
        .astype(np.int64)
    )


def classify_paper(truth, consensus, groups, hits, group_counts):
    """Section 2.1's split: S1 and S2 cover every item with a truth.

    ``hits`` and ``group_counts`` count, per item and group, the ratings equal
    to the truth and all ratings.
    """
    rated = group_counts.to_numpy().sum(axis=1) > 0
    determined = truth.notna().to_numpy() & rated
    matches = consensus.eq(truth, axis=0).to_numpy() & consensus.notna().to_numpy()
    subset = np.select(
        [~determined, matches.all(axis=1)], ["undetermined", "S1"], default="S2"
    )
    subset = pd.Categorical(subset, categories=[s for s in SUBSETS if s != "other"])

    # Share of each group's own ratings equal to the truth; NaN for a group
    # without ratings, which never leads. Division is correctly rounded, so
    # equal fractions (1/2 and 2/4) give equal shares and tie.
    n = group_counts.to_numpy().astype(float)
    share = np.divide(hits.to_numpy(), n, out=np.full(n.shape, np.nan), where=n > 0)
    best = np.max(np.where(np.isnan(share), -1.0, share), axis=1)
    leads = share == best[:, None]
    single = (leads.sum(axis=1) == 1) & (best > 0)
    leader = pd.Series(perspective_names(leads, groups), index=truth.index, dtype=object)
    perspective = leader.where(np.asarray(subset == "S2") & single)
    return pd.Series(subset, index=truth.index), perspective


def classify_strict(truth, consensus, groups):
    """The strict split: S2 only where the groups' consensus labels differ."""
    values = consensus.to_numpy(dtype=object)
    known = ~pd.isna(values)
    determined = truth.notna().to_numpy() & known.all(axis=1)
    matches = consensus.eq(truth, axis=0).to_numpy() & known
    agree = consensus.eq(consensus.iloc[:, 0], axis=0).to_numpy().all(axis=1)

    conditions = [~determined, matches.all(axis=1), ~agree]
    subset = np.select(conditions, ["undetermined", "S1", "S2"], default="other")
    subset = pd.Categorical(subset, categories=list(SUBSETS))

    # The perspective is the set of groups whose consensus equals the truth,
    # held as the rows of ``matches``; only its display name is a string.
    names = perspective_names(matches, groups)
    perspective = pd.Series(names, index=truth.index, dtype=object)
    in_s2 = np.asarray(subset == "S2")
    perspective = perspective.where(in_s2 & matches.any(axis=1))
    return pd.Series(subset, index=truth.index), perspective


def perspective_names(members, groups):
    """Display name of each item's set of perspective groups.

    ``members`` is a boolean (n_items, n_groups) table, ``True`` where the
    group belongs to the item's perspective; the name is
    :func:`~fairrep.utils._names.join_group_names` of the member groups in
    column order ("" for none). One name per distinct row, not per item.
    """
    members = np.asarray(members, dtype=bool).reshape(-1, len(groups))
    if not len(members):
        return np.empty(0, dtype=object)
    labels = np.asarray(list(groups), dtype=object)
    patterns, row_pattern = np.unique(members, axis=0, return_inverse=True)
    names = np.asarray([join_group_names(labels[row]) for row in patterns], dtype=object)
    return names[row_pattern.ravel()]


def split_groups(split):
    """Groups of a split: from attrs when intact, else from the column names."""
    groups = split.attrs.get("rater_groups")
    if groups and all(f"consensus_{g}" in split.columns for g in groups):
        return list(groups)
    return [
        column[len("consensus_") :]
        for column in split.columns
        if isinstance(column, str) and column.startswith("consensus_")
    ]


def names_one_group(split):
    """Whether each item's ``perspective`` in ``split`` names exactly one rater group.

    The strict split's perspective can name several groups; its display
    string joins their names (:func:`~fairrep.utils._names.join_group_names`).
    A value names one group when it is the name of one of the split's groups,
    so the string is never parsed back and a group whose name holds the
    separator (an intersectional group such as ``"F,young"``) is read right.

    Parameters
    ----------
    split : pandas.DataFrame
        Output of :func:`~fairrep.raters.perspective_split`, possibly
        filtered to some rows.

    Returns
    -------
    mask : ndarray of bool of shape (n_items,)
        False where the perspective is missing or names several groups.
    """
    groups = split_groups(split)
    if not groups or "perspective" not in split.columns:
        raise ValueError(
            "split lacks its rater groups (consensus_<group> columns) or its "
            "perspective column; pass the DataFrame returned by perspective_split."
        )
    return split["perspective"].isin([str(group) for group in groups]).to_numpy()
