"""Expand per-(item, group) vote-count tables into the long ratings table."""

import numpy as np
import pandas as pd

from ..utils._validation import is_missing


def from_vote_counts(table, *, item, rater_group, count_columns):
    """Turn a table of vote counts into one row per vote.

    Corpora such as CREMA-D publish aggregated ratings: for each (clip,
    rater pool) the number of votes for each emotion. The rater-perspective
    tools of section 2.1 of Chien & Lee work on individual ratings; this
    writes one row per vote so that such tables feed :func:`perspective_split`.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per (item, rater group); at most one row per pair.
    item : str
        Column identifying the item.
    rater_group : str
        Column holding the rater group the counts come from.
    count_columns : list of str or dict
        Columns holding vote counts. A list uses each column name as the
        label; a dict maps column name to label. Counts must be non-negative
        integers (floats with integral values are accepted); a missing count
        (NaN) means no vote.

    Returns
    -------
    ratings : pandas.DataFrame
        Columns ``item``, ``rater``, ``rater_group`` and ``label`` (these
        fixed names, the defaults of :func:`perspective_split`), one row per
        vote, ordered by the rows of ``table`` then by ``count_columns``.
        ``rater`` is synthetic, ``"<group>#<k>"`` with ``k`` counting the votes
        of the row from 0: unique within an item, but the same id on two items
        does not mean the same person. Rows with no votes produce no rating.

    See Also
    --------
    perspective_split

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import from_vote_counts
    >>> votes = pd.DataFrame({"clip": ["c1", "c1"], "pool": ["voice", "av"],
    ...                       "A": [2, 0], "N": [1, 1]})
    >>> from_vote_counts(votes, item="clip", rater_group="pool",
    ...                  count_columns=["A", "N"])
      item    rater rater_group label
    0   c1  voice#0       voice     A
    1   c1  voice#1       voice     A
    2   c1  voice#2       voice     N
    3   c1     av#0          av     N
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            "table must be a pandas DataFrame of vote counts; got "
            f"{type(table).__name__}."
        )
    if isinstance(count_columns, dict):
        columns, labels = list(count_columns), list(count_columns.values())
    elif isinstance(count_columns, str) or not hasattr(count_columns, "__iter__"):
        raise TypeError(
            "count_columns must be a list of column names or a dict mapping column "
            f"name to label; got {count_columns!r}."
        )
    else:
        columns = list(count_columns)
        labels = list(columns)
    if not columns:
        raise ValueError("count_columns is empty; name at least one column of counts.")
    if len(set(map(str, labels))) != len(labels):
        raise ValueError(f"count_columns gives the same label twice: {labels}.")
    named = {"item": item, "rater_group": rater_group}
    absent = [f"{k}={v!r}" for k, v in named.items() if v not in table.columns]
    absent += [f"count_columns[{c!r}]" for c in columns if c not in table.columns]
    if absent:
        raise ValueError(
            f"table has no column named by {', '.join(absent)}; available columns: "
            f"{list(table.columns)}."
        )
    if len(table) == 0:
        raise ValueError("table is empty; expected at least one row of vote counts.")
    for name in (item, rater_group):
        missing = is_missing(table[name].to_numpy())
        if missing.any():
            raise ValueError(
                f"table[{name!r}] has {int(missing.sum())} missing value(s); every "
                "row of counts needs an item and a rater group."
            )
    repeated = table.duplicated([item, rater_group], keep=False).to_numpy()
    if repeated.any():
        first = tuple(table.loc[repeated, [item, rater_group]].iloc[0].tolist())
        raise ValueError(
            f"table has {int(repeated.sum())} rows repeating an ({item!r}, "
            f"{rater_group!r}) pair, e.g. {first}; give one row of counts per pair."
        )

    counts = table[columns].apply(pd.to_numeric, errors="coerce")
    not_numeric = counts.isna().to_numpy() & table[columns].notna().to_numpy()
    values = counts.fillna(0).to_numpy(dtype=np.float64)
    if (
        not_numeric.any()
        or (values < 0).any()
        or not np.all(values == np.round(values))
    ):
        raise ValueError(
            f"count_columns {columns} must hold non-negative integer vote counts."
        )
    values = values.astype(np.int64)

    per_row = values.sum(axis=1)
    n_labels = len(labels)
    label_array = np.empty(n_labels, dtype=object)
    label_array[:] = labels
    vote_labels = np.repeat(np.tile(label_array, len(table)), values.ravel())
    vote_items = np.repeat(table[item].to_numpy(dtype=object), per_row)
    vote_groups = np.repeat(table[rater_group].to_numpy(dtype=object), per_row)
    starts = np.repeat(np.cumsum(per_row) - per_row, per_row)
    within = np.arange(per_row.sum()) - starts
    raters = pd.Series(vote_groups).astype(str) + "#" + pd.Series(within).astype(str)
    return pd.DataFrame(
        {
            "item": vote_items,
            "rater": raters.to_numpy(dtype=object),
            "rater_group": vote_groups,
            "label": vote_labels,
        }
    )
