"""Validation of the long ratings table shared by every function of the subpackage.

A ratings table has one row per (item, rater): the item rated, the rater's
group (e.g. rater gender) and the label the rater gave. The functions of
:mod:`fairrep.raters` accept it in this one shape and check it here, once.
"""

import numpy as np
import pandas as pd

from ..utils._validation import _sorted_unique, check_sensitive_features

# Internal column names of the cleaned table; user column names are mapped onto them.
ITEM, LABEL, GROUP, RATER = "item", "label", "group", "rater"


def check_ratings(
    ratings,
    *,
    item,
    label,
    rater_group=None,
    rater=None,
    min_groups=0,
):
    """Validate a long ratings table and return its labelled rows.

    Parameters
    ----------
    ratings : pandas.DataFrame
        One row per (item, rater).
    item, label : hashable
        Column names of the item identifier and the label.
    rater_group : hashable, default=None
        Column name of the rater's group, or None when groups are not used.
    rater : hashable, default=None
        Column name of the rater identifier. When given, the table may hold
        at most one row per (item, rater) pair.
    min_groups : int, default=0
        Minimum number of distinct rater groups among the labelled rows.

    Returns
    -------
    clean : pandas.DataFrame
        The rows with a label, with columns ``"item"``, ``"label"`` and, when
        ``rater_group`` is given, ``"group"`` (``None`` where unknown).
    items : pandas.Index
        Every item of ``ratings``, also those whose labels are all missing,
        sorted when the identifiers are comparable (else in first-seen order).
    groups : list
        The sorted distinct rater groups among labelled rows (empty when
        ``rater_group`` is None).
    """
    if not isinstance(ratings, pd.DataFrame):
        raise TypeError(
            "ratings must be a pandas DataFrame with one row per (item, rater); "
            f"got {type(ratings).__name__}."
        )
    arguments = {"item": item, "label": label}
    if rater_group is not None:
        arguments["rater_group"] = rater_group
    if rater is not None:
        arguments["rater"] = rater
    absent = [
        f"{argument}={column!r}"
        for argument, column in arguments.items()
        if not _is_column(ratings, column)
    ]
    if absent:
        raise ValueError(
            f"ratings has no column named by {', '.join(absent)}; available "
            f"columns: {list(ratings.columns)}."
        )
    reused = pd.Series(list(arguments.values())).duplicated()
    if reused.any():
        raise ValueError(
            "item, label, rater_group and rater must name different columns; got "
            + ", ".join(f"{k}={v!r}" for k, v in arguments.items())
            + "."
        )
    if len(ratings) == 0:
        raise ValueError("ratings is empty; expected at least one rating.")

    item_values = ratings[item]
    missing_item = item_values.isna().to_numpy()
    if missing_item.any():
        raise ValueError(
            f"ratings[{item!r}] has {int(missing_item.sum())} missing value(s); "
            "every row must name the item it rates."
        )
    if rater is not None:
        _check_unique_raters(ratings, item, rater)

    frame = pd.DataFrame(
        {ITEM: item_values.to_numpy(), LABEL: ratings[label].to_numpy()},
        index=pd.RangeIndex(len(ratings)),
    )
    if rater_group is not None:
        group_values, _ = check_sensitive_features(
            ratings[rater_group], name=f"ratings[{rater_group!r}]"
        )
        frame[GROUP] = group_values
    items = pd.Index(_sorted_unique(item_values.to_numpy()), name=item)

    clean = frame[frame[LABEL].notna().to_numpy()]
    if len(clean) == 0:
        raise ValueError(
            f"ratings[{label!r}] has no non-missing label; rows with a missing "
            "label are not ratings and are dropped."
        )
    groups = []
    if rater_group is not None:
        known = clean[GROUP].notna().to_numpy()
        groups = _sorted_unique(clean[GROUP].to_numpy()[known]).tolist()
        if len(groups) < min_groups:
            raise ValueError(
                f"ratings[{rater_group!r}] must contain at least {min_groups} "
                f"distinct rater groups among rows with a label; found "
                f"{len(groups)}: {groups}."
            )
    return clean, items, groups


def _is_column(frame, column):
    try:
        return column in frame.columns
    except TypeError:  # an unhashable column name
        return False


def _check_unique_raters(ratings, item, rater):
    if ratings[rater].isna().any():
        raise ValueError(
            f"ratings[{rater!r}] has missing rater identifiers; pass rater=None "
            "when raters are not identified."
        )
    duplicated = ratings.duplicated([item, rater], keep=False).to_numpy()
    if duplicated.any():
        first = ratings.loc[duplicated, [item, rater]].iloc[0].tolist()
        raise ValueError(
            f"ratings has {int(duplicated.sum())} rows that repeat an ({item!r}, "
            f"{rater!r}) pair, e.g. {tuple(first)}; each rater may rate an item "
            "once. Drop or aggregate the repeated ratings first."
        )


def majority_labels(frame, keys):
    """Plurality label per key of ``frame``; NaN where the top count is tied.

    ``frame`` holds the columns ``keys`` and ``"label"`` without missing labels.
    Returns a Series indexed by ``keys``. One groupby, no Python loop over keys.
    """
    counts = frame.groupby(keys + [LABEL], sort=False, observed=True).size()
    counts = counts.rename("_n").reset_index()
    top = counts.groupby(keys, sort=False, observed=True)["_n"].transform("max")
    winners = counts[(counts["_n"] == top).to_numpy()]
    n_winners = winners.groupby(keys, sort=False, observed=True)["_n"].transform("size")
    votes = winners[LABEL].where(n_winners.to_numpy() == 1)
    winners = winners.assign(**{LABEL: votes}).drop_duplicates(keys)
    return winners.set_index(keys)[LABEL]


def check_truth(truth):
    """Validate given ground-truth labels: a Series with a unique index of items."""
    if not isinstance(truth, pd.Series):
        raise TypeError(
            "truth must be None (majority vote over all ratings) or a pandas Series "
            f"of ground-truth labels indexed by item; got {type(truth).__name__}."
        )
    if truth.index.has_duplicates:
        repeated = truth.index[truth.index.duplicated()].unique().tolist()[:5]
        raise ValueError(
            "truth must have one label per item, but its index repeats items, "
            f"e.g. {repeated}."
        )
    return truth


def union_items(items, extra):
    """Items of the ratings followed by items only in ``extra``, sorted if possible."""
    extra = pd.Index(extra)
    if extra.isna().any():
        raise ValueError(
            "truth has a missing item in its index; every label needs an item."
        )
    union = np.concatenate([items.to_numpy(dtype=object), extra.to_numpy(dtype=object)])
    return pd.Index(_sorted_unique(union), name=items.name)


def check_name_outside_groups(value, groups, argument):
    """Refuse a row or column name (``argument=value``) that is also a rater group."""
    if any(str(value) == str(group) for group in groups):
        raise ValueError(
            f"{argument}={value!r} is also a rater group; choose a name outside {groups}."
        )
