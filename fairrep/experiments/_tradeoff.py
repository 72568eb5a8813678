"""The fairness/F1 trade-off across methods: its points and its figure.

:func:`tradeoff_frame` gives one point per stage-1 method of a study (mean
statistical parity of Table 2 against mean F1 on the consensus set of
Table 1); :func:`plot_tradeoff` draws any such points, e.g. the grid
search's candidates (section 3.1).
"""

from numbers import Real

import numpy as np
import pandas as pd

from . import _configs
from ._figures import _check_title, _group_colors, _new_figure
from ._methods import ALPHA_METHODS

__all__ = ["plot_tradeoff", "tradeoff_frame"]


def tradeoff_frame(f1_mean, parity_mean, methods, s1_set, searched):
    """One point per stage-1 method: mean F1 on the consensus set vs mean parity."""
    if f1_mean is None or parity_mean is None:
        return None
    f1 = f1_mean.xs(s1_set, level=-1).mean()
    parity = parity_mean.mean()
    rows = []
    for name in parity.index:
        if name not in f1.index:
            continue
        params = methods[name].get_params() if name in methods else {}
        alpha = params.get("alpha") if _configs.parse_label(name)[0] in ALPHA_METHODS \
            else None
        setting = "" if alpha is None else f"α={alpha:g}"
        rows.append({
            "method": name,
            "setting": "α searched" if searched.get(name, {}).get("param") == "alpha"
            else setting,
            "f1": float(f1[name]),
            "statistical_parity": float(parity[name]),
        })
    return pd.DataFrame(rows)


def plot_tradeoff(
    frame,
    *,
    x="statistical_parity",
    y="f1",
    method="method",
    label="alpha",
    title=None,
    lower_is_fairer=True,
):
    """Fairness-accuracy trade-off: one series per method, points labelled.

    The paper grid-searches the fairness weight (``alpha`` of Eq. 1,
    ``lambda`` of ``L_Per``) over [0.01, 0.001] (section 3.1); this plot
    shows what each setting costs in score for what it gains in fairness,
    with the statistical parity of Table 2 on x and an F1 of Table 1 on y.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per (method, setting), with the columns named below.
    x : str, default="statistical_parity"
        Column of the fairness gap (x axis).
    y : str, default="f1"
        Column of the score (y axis).
    method : str, default="method"
        Column naming the method; one line-and-marker series per method, in
        first-seen order.
    label : str or None, default="alpha"
        Column whose value annotates each point (e.g. the fairness weight);
        a method's points are joined in the order of this column when it is
        numeric, otherwise in the order of ``x``. None annotates nothing.
    title : str, default=None
        Axes title.
    lower_is_fairer : bool, default=True
        Only labels the x axis: True for a parity gap, False for a score such
        as consistency where higher is fairer.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes with a legend naming the methods. Rows with a missing ``x``
        or ``y`` are left out.

    Raises
    ------
    TypeError, ValueError
        When ``frame`` is not a DataFrame, a named column is missing, ``x``
        or ``y`` is not numeric, or no row has both values.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.1, Eq. (1), Tables 1 and 2.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.experiments import plot_tradeoff
    >>> frame = pd.DataFrame({"method": ["FairRep"] * 2 + ["DNN"],
    ...                       "alpha": [0.01, 0.001, 0.0],
    ...                       "statistical_parity": [0.2, 0.3, 0.5],
    ...                       "f1": [0.70, 0.72, 0.75]})
    >>> figure = plot_tradeoff(frame)
    >>> [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    ['FairRep', 'DNN']
    """
    _check_title(title)
    if not isinstance(lower_is_fairer, (bool, np.bool_)):
        raise TypeError(f"lower_is_fairer must be a bool; got {lower_is_fairer!r}.")
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"frame must be a pandas DataFrame; got {type(frame).__name__}."
        )
    wanted = {"x": x, "y": y, "method": method}
    if label is not None:
        wanted["label"] = label
    absent = [
        f"{arg}={col!r}" for arg, col in wanted.items() if col not in frame.columns
    ]
    if absent:
        raise ValueError(
            f"frame has no column named by {', '.join(absent)}; available columns: "
            f"{list(frame.columns)}."
        )
    for arg in ("x", "y"):
        if not pd.api.types.is_numeric_dtype(frame[wanted[arg]]):
            raise TypeError(f"column {wanted[arg]!r} ({arg}) must be numeric.")
    data = frame[frame[x].notna() & frame[y].notna()]
    if data.empty:
        raise ValueError(f"frame has no row with both {x!r} and {y!r} present.")

    figure = _new_figure((6.4, 4.6))
    ax = figure.subplots()
    methods = list(pd.unique(data[method]))
    colors = _group_colors(len(methods))
    numeric_label = label is not None and pd.api.types.is_numeric_dtype(data[label])
    for color, name in zip(colors, methods):
        points = data[(data[method] == name).to_numpy()]
        points = points.sort_values(label if numeric_label else x, kind="stable")
        ax.plot(
            points[x].to_numpy(dtype=float),
            points[y].to_numpy(dtype=float),
            marker="o",
            linestyle="-" if len(points) > 1 else "none",
            color=color,
            label=str(name),
        )
        if label is not None:
            for _, row in points.iterrows():
                value = row[label]
                text = f"{value:g}" if isinstance(value, Real) else str(value)
                ax.annotate(
                    text,
                    (float(row[x]), float(row[y])),
                    xytext=(4, 4),
                    textcoords="offset points",
                    fontsize=8,
                    color=color,
                )
    direction = "lower is fairer" if lower_is_fairer else "higher is fairer"
    ax.set_xlabel(f"{x} ({direction})")
    ax.set_ylabel(y)
    ax.grid(alpha=0.3)
    ax.legend(title=method, fontsize=8)
    if title is not None:
        ax.set_title(title)
    return figure
