"""Planted-bias tabular data where the fair and accurate answer is known."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_planted_bias"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 2, None, closed="left")],
        "group_shift": [Interval(Real, 0, None, closed="left")],
        "label_noise": [Interval(Real, 0, None, closed="left")],
        "n_group_features": [Interval(Integral, 1, None, closed="left")],
        "n_noise_features": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_planted_bias(
    n_samples=1500,
    *,
    group_shift=1.5,
    label_noise=0.9,
    n_group_features=4,
    n_noise_features=3,
    random_state=None,
):
    """Binary task whose label is independent of a planted group.

    Feature 0 carries the label, :math:`y = [x_0 + \\sigma\\,e > 0]` with
    :math:`\\sigma` = ``label_noise``, and is independent of the group (two
    groups, ``"a"`` and ``"b"``, drawn with probability 1/2). The next
    ``n_group_features`` features are standard normal plus ``group_shift``
    for group ``"a"``: they carry the group and nothing about the label. The
    last ``n_noise_features`` are pure noise. So a representation as accurate
    as the best group-blind one *and* free of the group exists (feature 0
    alone), and a fairness term that measures how far apart the groups are
    must reach it without shrinking, collapsing or hiding the group. This is
    the check the paper's L_D (eq. 1, section 2.2.2) is held to in
    ``tests/representation/test_scale_free.py``.

    Parameters
    ----------
    n_samples : int, default=1500
        Number of rows.
    group_shift : float, default=1.5
        Mean shift of the group features for group ``"a"``.
    label_noise : float, default=0.9
        Standard deviation of the noise added to feature 0 before
        thresholding; the Bayes accuracy from feature 0 falls as it grows
        (0.77 at 0.9: it errs with probability :math:`\\arctan(\\sigma)/\\pi`).
    n_group_features : int, default=4
        Number of features that carry the group.
    n_noise_features : int, default=3
        Number of features that carry nothing.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    X : ndarray of shape (n_samples, 1 + n_group_features + n_noise_features)
    y : ndarray of int of shape (n_samples,)
        The label, 0 or 1.
    group : ndarray of str of shape (n_samples,)
        ``"a"`` or ``"b"``.

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.datasets import make_planted_bias
    >>> X, y, group = make_planted_bias(1000, random_state=0)
    >>> X.shape, np.unique(group).tolist()
    ((1000, 8), ['a', 'b'])
    >>> # the group shows in features 1-4, not in the label
    >>> gap = X[group == "a", 1].mean() - X[group == "b", 1].mean()
    >>> bool(gap > 1.2), bool(abs(y[group == "a"].mean() - y[group == "b"].mean()) < 0.1)
    (True, True)
    """
    rng = check_random_state(random_state)
    group = rng.randint(2, size=n_samples)
    x0 = rng.normal(size=n_samples)
    y = (x0 + label_noise * rng.normal(size=n_samples) > 0).astype(int)
    X = np.column_stack([
        x0,
        group_shift * group[:, None] + rng.normal(size=(n_samples, n_group_features)),
        rng.normal(size=(n_samples, n_noise_features)),
    ])
    return X, y, np.where(group == 1, "a", "b")
