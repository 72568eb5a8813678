"""The study's input: one corpus bundle as aligned arrays, and its folds.

:class:`StudyData` holds what Exp1 and Exp2 (section 3.1) read: the items of
S1 and S2 (as in the paper), their features, truth, sessions, perspective
group (the ``sensitive_features``) and each rater group's consensus;
:func:`session_folds` gives the session-independent folds.
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut

from ..raters._subsets import split_groups
from ..utils._validation import is_missing
from ._search import TRUTH_PERSPECTIVE

__all__ = ["StudyData", "check_bundle", "session_folds", "sorted_labels"]


class StudyData:
    """The arrays of the study, restricted to the items it uses.

    With ratings: the S1 and S2 items (as in the paper), ``sensitive`` = the
    perspective group of the S2 items (None on S1), ``consensus`` = each
    rater group's consensus. Without ratings: every item with a truth and
    ``sensitive`` = the bundle's group column.
    """

    @classmethod
    def from_bundle(cls, bundle):
        from ..raters import perspective_split

        check_bundle(bundle)
        X = np.asarray(bundle["X"], dtype=np.float64)
        items = pd.Index(bundle["item_ids"])
        truth = pd.Series(bundle["truth"]).reindex(items)
        sessions = np.asarray(bundle["sessions"], dtype=object)
        name = str(bundle.get("name", "custom"))
        group_column = str(bundle.get("group_column", "rater_group"))
        ratings = bundle.get("ratings")
        if ratings is not None:
            split = perspective_split(ratings, truth=truth).loc[items]
            return cls.from_split(X, split, sessions, name=name, group_column=group_column)
        data = cls()
        data.name, data.group_column = name, group_column
        data.has_raters, data.split, data.groups = False, None, None
        info = bundle["item_info"].reindex(items)
        sensitive = info[group_column].to_numpy(dtype=object)
        used = ~is_missing(truth.to_numpy(dtype=object))
        data.subset = None
        data.sensitive = np.where(is_missing(sensitive), None, sensitive)[used]
        data.consensus = None
        data.sets = ("All",)
        data._finish(X, items, truth.to_numpy(dtype=object), sessions, used)
        return data

    @classmethod
    def from_split(cls, X, split, sessions, *, name="custom", group_column="rater_group"):
        from ..perspective import perspective_groups

        if not isinstance(split, pd.DataFrame) or not {"truth", "subset", "perspective"} <= set(
            split.columns
        ):
            raise ValueError(
                "split must be the DataFrame of fairrep.raters.perspective_split "
                "(columns truth, subset, perspective, consensus_<group>)."
            )
        groups = split_groups(split)
        if len(groups) < 2:
            raise ValueError("split must hold at least two rater groups' consensus.")
        if TRUTH_PERSPECTIVE in map(str, groups):
            raise ValueError(
                f"a rater group is named {TRUTH_PERSPECTIVE!r}, the name of the truth's "
                "perspective in FairPer's targets; rename the group."
            )
        X = np.asarray(X, dtype=np.float64)
        sessions = np.asarray(sessions, dtype=object)
        if X.shape[0] != len(split) or sessions.shape[0] != len(split):
            raise ValueError(
                f"X has {X.shape[0]} rows and sessions {sessions.shape[0]} values but "
                f"split has {len(split)} items; they must be aligned (one row per item)."
            )
        used = split["subset"].isin(["S1", "S2"]).to_numpy()
        if not used.any():
            raise ValueError(
                "no item is in S1 or S2: every item is undetermined or 'other'; check "
                "that the ratings and the truth use the same labels."
            )
        part = split.loc[used]
        data = cls()
        data.name, data.group_column = name, group_column
        data.has_raters, data.split, data.groups = True, split, groups
        data.subset = part["subset"].astype(object).to_numpy()
        data.sensitive = perspective_groups(part).to_numpy(dtype=object)
        data.consensus = {g: part[f"consensus_{g}"].to_numpy(dtype=object) for g in groups}
        data.sets = ("All", "S1", "S2")
        data._finish(X, split.index, split["truth"].to_numpy(dtype=object), sessions, used)
        return data

    def _finish(self, X, items, truth, sessions, used):
        self.items = pd.Index(items)[used]
        self.X = X[used]
        self.truth = truth[used]
        self.sessions = sessions[used]
        self.labels = sorted_labels(pd.unique(self.truth))
        self.n_items_total = len(items)

    def targets(self, rows):
        """FairPer's ``Y`` (one column per group, then the truth) on ``rows``."""
        columns = {str(group): self.consensus[group][rows] for group in self.groups}
        columns[TRUTH_PERSPECTIVE] = self.truth[rows]
        return pd.DataFrame(columns, index=self.items[rows])

    def parity_rows(self, rows):
        """Where statistical parity is measured: S2 items with a single perspective."""
        known = ~is_missing(self.sensitive[rows])
        if self.has_raters:
            return known & (self.subset[rows] == "S2")
        return known


def sorted_labels(values):
    """The non-missing ``values``, sorted when they compare (else in their order)."""
    values = [value for value in values if not is_missing([value])[0]]
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def check_bundle(bundle):
    """Raise unless ``bundle`` is an aligned corpus bundle the study can read."""
    required = ("X", "item_ids", "truth", "sessions")
    if not hasattr(bundle, "get") or any(key not in bundle for key in required):
        raise TypeError(
            "corpus_bundle must be a bundle from fairrep.experiments.load_corpus or "
            f"corpus_bundle (a mapping with at least the keys {list(required)})."
        )
    n_items = len(bundle["item_ids"])
    if np.shape(bundle["X"])[0] != n_items or len(bundle["sessions"]) != n_items:
        raise ValueError(
            f"corpus_bundle is not aligned: {n_items} items, X has "
            f"{np.shape(bundle['X'])[0]} rows and sessions {len(bundle['sessions'])}."
        )
    if bundle.get("ratings") is None:
        info = bundle.get("item_info")
        column = bundle.get("group_column")
        if info is None or column not in info:
            raise ValueError(
                "a corpus_bundle without ratings needs item_info[group_column], the "
                "sensitive group of each item."
            )


def session_folds(sessions):
    """Session-independent folds: each session is the test set once.

    Parameters
    ----------
    sessions : array-like of shape (n_samples,)
        Session (or, for corpora without sessions, speaker) of each sample.

    Returns
    -------
    folds : list of (train_index, test_index, held_out_session)
    """
    sessions = np.asarray(sessions, dtype=object)
    if len(pd.unique(sessions)) < 2:
        raise ValueError(
            "sessions must contain at least 2 distinct values for session-independent "
            "cross-validation."
        )
    splitter = LeaveOneGroupOut()
    return [
        (train, test, sessions[test[0]])
        for train, test in splitter.split(sessions, groups=sessions)
    ]
