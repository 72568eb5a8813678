"""The S1/S2 perspective split of section 2.1 and the statistics of Figs. 1 and 2."""

import warnings

import numpy as np
import pandas as pd

from ._consensus import _wide_votes
from ._ratings import (
    GROUP,
    ITEM,
    check_name_outside_groups,
    check_ratings,
    check_truth,
    majority_labels,
    union_items,
)
from ._subsets import (
    SUBSETS,
    classify_paper,
    classify_strict,
    count_per_group,
    rating_matches,
    split_groups,
)

_METHODS = ("paper", "strict")


def perspective_split(
    ratings,
    *,
    item="item",
    rater_group="rater_group",
    label="label",
    truth=None,
    rater=None,
    method="paper",
):
    """Split items by how each rater group's perception relates to the truth.

    Section 2.1 of Chien & Lee compares, for every utterance, the perception
    of the male raters and of the female raters with the ground truth. Items
    on which every group's consensus equals the truth form the
    "gender-perception unbiased set" S1; the "gender-perception biased set"
    S2 holds the items where the truth leans to one group's perception. The
    paper's S1 and S2 (3,038 + 4,342 = 7,380 IEMOCAP utterances) cover every
    item of its five-class set, which the default ``method="paper"`` does,
    for any number of groups:

    - ``"undetermined"``: the item has no truth (the majority vote is a tie,
      or the given truth is missing), or no rating from any rater group;
    - ``"S1"``: every group's consensus equals the truth;
    - ``"S2"``: every other item. Its ``perspective`` is the group with the
      largest share of its own ratings equal to the truth, the group whose
      perception the truth leans to; none (NaN) when several groups share
      the largest share or no rating of any group equals the truth. Such
      items still have a truth, so they count in :math:`L_1` (eq. (1)) but
      give no group to the adversary or to the triplets.

    ``method="strict"`` keeps only the items where the groups' consensus
    labels differ in S2:

    - ``"undetermined"``: the truth, or the consensus of at least one group,
      is missing or a tie;
    - ``"S1"``: every group's consensus equals the truth;
    - ``"S2"``: the groups' consensus labels differ from each other; the
      ``perspective`` names the group(s) whose consensus equals the truth;
    - ``"other"``: the groups agree with each other but not with the truth
      (possible when the truth is given, or voted with raters outside the
      groups).

    Parameters
    ----------
    ratings : pandas.DataFrame
        Long table, one row per (item, rater). Rows with a missing label
        (None/NaN) are not ratings and are dropped. Rows with a missing rater
        group count towards the voted truth and ``n_ratings`` but towards no
        group's consensus or share.
    item : str, default="item"
        Column identifying the item.
    rater_group : str, default="rater_group"
        Column holding the rater's group; at least two groups must have
        ratings.
    label : str, default="label"
        Column holding the label; strings or numbers.
    truth : pandas.Series, default=None
        Ground-truth labels indexed by item. When None, the truth is the
        majority vote over all ratings of the item, NaN (so undetermined) on a
        tie. Items in ``truth`` but never rated and rated items missing from
        ``truth`` (or with a NaN truth) are kept, as undetermined.
    rater : str, default=None
        Column identifying raters; when given, repeated (item, rater) pairs
        raise a ValueError. When None every row counts as one rating.
    method : {"paper", "strict"}, default="paper"
        ``"paper"``: S1 and S2 cover every item with a truth, as in section
        2.1. ``"strict"``: S2 only where the groups' consensus labels differ,
        ``"other"`` where they agree with each other but not with the truth,
        ``"undetermined"`` also where a group's consensus is a tie or missing.

    Returns
    -------
    split : pandas.DataFrame
        Indexed by item (every item of ``ratings`` and of ``truth``; sorted when
        the identifiers are comparable), with columns

        - ``truth``: the ground-truth label;
        - ``consensus_<group>``: one per group in sorted order, the group's
          majority label, NaN on a tie or without ratings from the group;
        - ``subset``: categorical in ``("S1", "S2", "undetermined")`` with
          ``method="paper"``, in :data:`SUBSETS` with ``method="strict"``;
        - ``perspective``: NaN outside S2. With ``method="paper"``, the
          name (``str``) of the group with the largest share of its ratings
          equal to the truth, NaN on a tie. With ``method="strict"``, the
          group(s) whose consensus equals the truth, as their names in sorted
          order joined by ``","``, NaN where no group's consensus equals it;
        - ``n_ratings``: the number of ratings of the item (all groups);
        - ``n_ratings_<group>``: one per group, that group's ratings.

        ``split.attrs["rater_groups"]`` lists the groups in column order and
        ``split.attrs["method"]`` the method.

    Raises
    ------
    ValueError
        When ``method`` is not ``"paper"`` or ``"strict"``, or the ratings are
        malformed (the message names the argument).

    Notes
    -----
    With ``method="strict"``, when the truth is voted (``truth=None``) and
    every rating carries a group, ``"other"`` cannot occur: a label that leads
    within every group leads in their union. It appears with a given truth
    (e.g. the acted emotion) or when ratings without a group take part in the
    vote. With ``method="paper"`` those items, and the items where a group's
    consensus is a tie or missing, are in S2.

    Everything is computed with grouped pandas operations and one loop over
    the groups, never over items; 100,000 ratings take a fraction of a
    second.

    See Also
    --------
    group_consensus : the ``consensus_<group>`` columns alone.
    perspective_labels : the per-perspective targets of stage 2 (FairPer).
    consensus_agreement : the statistics of Figs. 1 and 2.

    References
    ----------
    .. [1] Woan-Shiuan Chien and Chi-Chun Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.1 (S1: 3,038 and S2: 4,342
       IEMOCAP utterances).

    Examples
    --------
    On ``u3`` both groups say ``fru`` but the ungrouped ratings make the truth
    ``neu``; the male raters' share of ``neu`` (1 of 3) beats the female
    raters' (0 of 2).

    >>> import pandas as pd
    >>> from fairrep.raters import perspective_split
    >>> ratings = pd.DataFrame({
    ...     "item": ["u1"] * 4 + ["u2"] * 5 + ["u3"] * 9,
    ...     "rater_group": ["M", "M", "F", "F", "M", "M", "F", "F", "F",
    ...                     "M", "M", "M", "F", "F", None, None, None, None],
    ...     "label": ["ang"] * 4 + ["fru", "fru", "neu", "neu", "neu"]
    ...              + ["fru", "fru", "neu", "fru", "fru"] + ["neu"] * 4})
    >>> split = perspective_split(ratings)
    >>> split[["truth", "consensus_F", "consensus_M", "subset", "perspective"]]
    ... # doctest: +NORMALIZE_WHITESPACE
         truth consensus_F consensus_M subset perspective
    item
    u1     ang         ang         ang     S1         NaN
    u2     neu         neu         fru     S2           F
    u3     neu         fru         fru     S2           M
    >>> perspective_split(ratings, method="strict")["subset"].tolist()
    ['S1', 'S2', 'other']
    """
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(
            f"method must be 'paper' (the S1/S2 split of section 2.1, covering "
            f"every item with a truth) or 'strict'; got {method!r}."
        )
    clean, items, groups = check_ratings(
        ratings, item=item, label=label, rater_group=rater_group, rater=rater,
        min_groups=2,
    )
    if truth is None:
        truth_values = majority_labels(clean, [ITEM])
        index = items
    else:
        truth = check_truth(truth)
        _warn_if_disjoint(truth, clean, label, method)
        truth_values = truth
        index = union_items(items, truth.index)
    truth_values = pd.Series(truth_values.reindex(index).to_numpy(), index=index)

    consensus = _wide_votes(clean, items, groups, name=rater_group).reindex(index)
    counts = clean.groupby(ITEM, sort=False).size().reindex(index, fill_value=0)
    grouped = clean[GROUP].notna().to_numpy()
    group_counts = count_per_group(clean, index, groups, grouped)
    if method == "paper":
        matches = rating_matches(clean, truth_values)
        hits = count_per_group(clean, index, groups, matches)
        subset, perspective = classify_paper(
            truth_values, consensus, groups, hits, group_counts
        )
    else:
        subset, perspective = classify_strict(truth_values, consensus, groups)

    columns = {"truth": truth_values}
    for group in groups:
        columns[f"consensus_{group}"] = consensus[group]
    columns["subset"] = subset
    columns["perspective"] = perspective
    columns["n_ratings"] = counts.astype(np.int64)
    for group in groups:
        columns[f"n_ratings_{group}"] = group_counts[group]
    split = pd.DataFrame(columns, index=index)
    split.index.name = item
    split.attrs["rater_groups"] = list(groups)
    split.attrs["method"] = method
    return split


def _warn_if_disjoint(truth, clean, label, method):
    """A truth sharing no label with the ratings is almost surely mis-coded."""
    given = pd.unique(truth.dropna().to_numpy(dtype=object))
    rated = pd.unique(clean["label"].to_numpy(dtype=object))
    if len(given) and not pd.Index(given).isin(rated).any():
        subsets = "'S2' or 'undetermined'" if method == "paper" else (
            "'other', 'S2' or 'undetermined'"
        )
        warnings.warn(
            f"none of the truth labels (e.g. {list(given[:3])}) occurs among the "
            f"ratings' {label!r} values (e.g. {list(rated[:3])}); every item will "
            f"fall in {subsets}. Map both to one coding.",
            UserWarning,
            stacklevel=3,
        )


def _check_split(split, name="split"):
    if not isinstance(split, pd.DataFrame):
        raise TypeError(
            f"{name} must be the DataFrame returned by perspective_split; got "
            f"{type(split).__name__}."
        )
    groups = split_groups(split)
    absent = [c for c in ("truth", "subset") if c not in split.columns]
    if absent or not groups:
        needed = absent + ([] if groups else ["consensus_<group>"])
        raise ValueError(
            f"{name} lacks the column(s) {needed}; pass the DataFrame returned "
            "by perspective_split."
        )
    return groups


def perspective_labels(split, *, include_truth=True, truth_name="all"):
    """Per-perspective target labels for stage 2 (FairPer), one column each.

    In stage 2 of Chien & Lee (section 2.2.3) the target is a gender-specific
    label: the male raters' or the female raters' consensus. This returns a
    2-D label table with one column per rater group holding that group's
    consensus, plus the ground truth as the gender-free perspective, ready to
    be the ``Y`` of ``FairPer.fit``.

    Parameters
    ----------
    split : pandas.DataFrame
        Output of :func:`perspective_split`, possibly filtered to some rows
        (e.g. ``split[split["subset"] == "S2"]``).
    include_truth : bool, default=True
        Whether to add the ground truth as a column.
    truth_name : str, default="all"
        Name of the truth column; must differ from every group name.

    Returns
    -------
    Y : pandas.DataFrame
        Indexed like ``split``; columns are the group names (sorted) followed
        by ``truth_name``. A tie or a missing consensus is NaN: a missing label
        for that perspective.

    See Also
    --------
    perspective_split : builds ``split``.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import perspective_labels, perspective_split
    >>> ratings = pd.DataFrame({
    ...     "item": ["u1"] * 4 + ["u2"] * 5,
    ...     "rater_group": ["M", "M", "F", "F", "M", "M", "F", "F", "F"],
    ...     "label": ["ang"] * 4 + ["fru", "fru", "neu", "neu", "neu"]})
    >>> perspective_labels(perspective_split(ratings))
    ... # doctest: +NORMALIZE_WHITESPACE
            F    M  all
    item
    u1    ang  ang  ang
    u2    neu  fru  neu
    """
    groups = _check_split(split)
    if not isinstance(include_truth, (bool, np.bool_)):
        raise TypeError(f"include_truth must be a bool; got {include_truth!r}.")
    labels = pd.DataFrame(
        {group: split[f"consensus_{group}"] for group in groups}, index=split.index
    )
    if include_truth:
        check_name_outside_groups(truth_name, groups, "truth_name")
        labels[truth_name] = split["truth"]
    return labels


def consensus_agreement(split, *, subset=None):
    """Percentage of items where each group's consensus matches the truth.

    The statistics of Figs. 1 and 2 of Chien & Lee (section 2.1): per
    ground-truth class and per rater group, the share of items whose group
    consensus equals the truth. Fig. 1 uses all data (``subset=None``); Fig. 2
    the non-consensus data, where the male and the female consensus differ:
    ``subset="S2"`` of a split made with ``method="strict"``. The S2 of the
    paper's split (the default) also holds the items where a group's
    consensus is a tie or missing, which that group does not count, and those
    where the groups agree with each other but not with the truth.

    Parameters
    ----------
    split : pandas.DataFrame
        Output of :func:`perspective_split`, with either method.
    subset : str or list of str, default=None
        Subsets to count among ``"S1"``, ``"S2"`` and ``"other"``. When None,
        every item with a known truth, the undetermined ones included: there,
        for each group, the items where that group has a consensus (no tie,
        at least one rating) are counted.

    Returns
    -------
    agreement : pandas.DataFrame
        Tidy: one row per (truth class, group), truth classes sorted, with
        columns ``truth``, ``rater_group``, ``n_items`` (items counted),
        ``n_match`` (items whose group consensus equals the truth) and
        ``percent`` (``100 * n_match / n_items``, NaN when ``n_items`` is 0).

    See Also
    --------
    perspective_split : builds ``split``.
    agreement_statistics : inter-rater agreement within each group.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import consensus_agreement, perspective_split
    >>> ratings = pd.DataFrame({
    ...     "item": ["u1"] * 4 + ["u2"] * 5,
    ...     "rater_group": list("MMFFMMFFF"),
    ...     "label": ["ang"] * 4 + ["fru", "fru", "neu", "neu", "neu"]})
    >>> consensus_agreement(perspective_split(ratings), subset="S2")
      truth rater_group  n_items  n_match  percent
    0   neu           F        1        1    100.0
    1   neu           M        1        0      0.0
    """
    groups = _check_split(split)
    keep = split["truth"].notna().to_numpy()
    if subset is not None:
        wanted = [subset] if isinstance(subset, str) else list(subset)
        unknown = [s for s in wanted if s not in ("S1", "S2", "other")]
        if unknown or not wanted:
            raise ValueError(
                "subset must be None or one or more of 'S1', 'S2', 'other' "
                f"(undetermined items have no usable consensus); got {subset!r}."
            )
        # not in place: under pandas 3 ``to_numpy`` may return a read-only view
        keep = keep & split["subset"].isin(wanted).to_numpy()
    rows = split[keep]
    classes = _sorted_classes(rows["truth"])
    tables = []
    for group in groups:
        consensus = rows[f"consensus_{group}"]
        counted = consensus.notna()
        match = (consensus == rows["truth"]) & counted
        table = pd.DataFrame(
            {
                "n_items": counted.groupby(rows["truth"]).sum(),
                "n_match": match.groupby(rows["truth"]).sum(),
            }
        ).reindex(classes, fill_value=0)
        table.insert(0, "rater_group", group)
        tables.append(table.rename_axis("truth").reset_index())
    columns = ["truth", "rater_group", "n_items", "n_match", "percent"]
    if not tables or not len(classes):
        return pd.DataFrame(columns=columns)
    result = pd.concat(tables, ignore_index=True)
    result[["n_items", "n_match"]] = result[["n_items", "n_match"]].astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = (
            100.0 * result["n_match"] / result["n_items"].where(result["n_items"] > 0)
        )
    result["percent"] = percent.astype(float)
    # Tables were stacked group by group; a stable sort on the class keeps the
    # groups in order within each class.
    position = result["truth"].map({c: i for i, c in enumerate(classes)})
    result = result.iloc[np.argsort(position.to_numpy(), kind="stable")]
    result = result.reset_index(drop=True)
    return result[columns]


def _sorted_classes(values):
    unique = pd.unique(values.dropna().to_numpy(dtype=object)).tolist()
    try:
        return sorted(unique)
    except TypeError:
        return unique
