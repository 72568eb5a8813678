"""From multi-rater labels to FairPer's training targets."""

import numpy as np
import pandas as pd

from ..raters import perspective_labels
from ..raters._subsets import names_one_group

__all__ = ["perspective_groups", "perspective_targets"]


def perspective_groups(split):
    """The rater-group perspective of every item, for FairPer's triplets.

    An item of the gender-perception biased set S2 belongs to the
    perspective of the rater group its truth "leans" to (section 2.1):
    column ``perspective`` of :func:`~fairrep.raters.perspective_split`, by
    default the group with the largest share of its own ratings equal to the
    truth. Every other item has no perspective group (``None``): on S1 all
    groups perceive alike, so the item carries no rater-group information;
    undetermined items (and the strict split's "other" items) cannot be
    assigned, nor S2 items whose groups tie (with ``method="strict"``: where
    no group's or several groups' consensus equals the truth). Those items
    still count in :math:`L_2`, not in :math:`L_T`.

    Parameters
    ----------
    split : pandas.DataFrame
        Output of :func:`~fairrep.raters.perspective_split`.

    Returns
    -------
    groups : pandas.Series of object
        Indexed like ``split``, named ``"perspective_group"``; a group name
        or ``None``. Pass it as ``sensitive_features`` of
        :meth:`FairPer.fit <fairrep.FairPer.fit>`.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import perspective_split
    >>> from fairrep.perspective import perspective_groups
    >>> ratings = pd.DataFrame({
    ...     "item": ["u1"] * 4 + ["u2"] * 5,
    ...     "rater_group": ["M", "M", "F", "F", "M", "M", "F", "F", "F"],
    ...     "label": ["ang"] * 4 + ["fru", "fru", "neu", "neu", "neu"]})
    >>> perspective_groups(perspective_split(ratings)).tolist()
    [None, 'F']
    """
    if not isinstance(split, pd.DataFrame) or not {"subset", "perspective"} <= set(
        split.columns
    ):
        raise ValueError(
            "split must be the DataFrame returned by fairrep.raters.perspective_split "
            "(with columns 'subset' and 'perspective'); got "
            f"{type(split).__name__}."
        )
    values = split["perspective"].to_numpy(dtype=object)
    single = names_one_group(split)
    in_s2 = (split["subset"].astype(object) == "S2").to_numpy()
    groups = np.where(single & in_s2, values, None)
    return pd.Series(groups, index=split.index, dtype=object, name="perspective_group")


def perspective_targets(split, *, truth_name="all"):
    """``Y`` and the perspective groups for :meth:`FairPer.fit <fairrep.FairPer.fit>`.

    Stage 2 of Chien & Lee (section 2.2.3) learns every rater group's
    consensus plus the gender-free ground truth. This builds both inputs
    from one :func:`~fairrep.raters.perspective_split` table: ``Y`` from
    :func:`~fairrep.raters.perspective_labels` (one column per group, then
    the truth, missing where a group has no consensus) and the per-item
    perspective groups from :func:`perspective_groups`.

    Parameters
    ----------
    split : pandas.DataFrame
        Output of :func:`~fairrep.raters.perspective_split`, possibly
        filtered to some rows.
    truth_name : str, default="all"
        Name of the ground-truth (gender-free) column of ``Y``; it is the
        last column, which :class:`~fairrep.FairPer` uses by default.

    Returns
    -------
    Y : pandas.DataFrame
        Per-perspective labels, indexed like ``split``.
    groups : pandas.Series
        The perspective group of each item, ``None`` where there is none.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.raters import perspective_split
    >>> from fairrep.perspective import perspective_targets
    >>> ratings = pd.DataFrame({"item": list("aaaabbbbb"),
    ...                         "rater_group": list("MMFFMMFFF"),
    ...                         "label": ["ang"] * 4 + ["fru"] * 2 + ["neu"] * 3})
    >>> Y, groups = perspective_targets(perspective_split(ratings))
    >>> list(Y.columns), groups.tolist()
    (['F', 'M', 'all'], [None, 'F'])
    """
    Y = perspective_labels(split, include_truth=True, truth_name=truth_name)
    return Y, perspective_groups(split)
