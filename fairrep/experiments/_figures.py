"""The paper's figures as matplotlib ``Figure`` objects.

Each function builds a :class:`matplotlib.figure.Figure` directly (no pyplot
state, so figures can be made in threads, tests and servers alike) and
returns it; :func:`fairrep.experiments.write_report` saves and embeds them
(the trade-off plot is in :mod:`fairrep.experiments._tradeoff`).
matplotlib is an optional dependency, installed with the ``report`` extra.
"""

from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["plot_consensus_agreement", "plot_embeddings"]

_AGREEMENT_COLUMNS = ("truth", "rater_group", "percent")


def _figure_class(needed_by="fairrep's figures"):
    """matplotlib's Figure class, imported lazily; an install hint if it is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - matplotlib is in the test env
        raise ImportError(
            f"{needed_by} need matplotlib; install it with "
            '`pip install "fairrep[report]"`.'
        ) from error
    return Figure


def _new_figure(figsize):
    """A pyplot-free Figure with constrained layout (matplotlib imported lazily)."""
    return _figure_class()(figsize=figsize, layout="constrained")


def _group_colors(n_colors):
    """The default property-cycle colours, repeated when there are more groups."""
    from matplotlib import rcParams

    cycle = rcParams["axes.prop_cycle"].by_key().get("color") or ["C0"]
    return [cycle[i % len(cycle)] for i in range(n_colors)]


def _check_title(title):
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None; got {type(title).__name__}.")


def _check_agreement(frame, name):
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"{name} must be the DataFrame returned by "
            "fairrep.raters.consensus_agreement (or a mapping of panel titles to "
            f"such DataFrames); got {type(frame).__name__}."
        )
    absent = [column for column in _AGREEMENT_COLUMNS if column not in frame.columns]
    if absent:
        raise ValueError(
            f"{name} lacks the column(s) {absent}; pass the DataFrame returned by "
            f"fairrep.raters.consensus_agreement (columns {list(frame.columns)} "
            "were given)."
        )
    if len(frame) == 0:
        raise ValueError(
            f"{name} has no rows: no item with a known truth in the requested subset."
        )
    percent = pd.to_numeric(frame["percent"], errors="coerce")
    bad = percent.isna() & frame["percent"].notna()
    if bad.any():
        raise ValueError(f"{name}['percent'] must be numeric.")
    if frame.duplicated(["truth", "rater_group"]).any():
        raise ValueError(
            f"{name} holds repeated (truth, rater_group) rows; pass one subset's "
            "agreement per panel (a mapping of panels draws several subsets)."
        )
    return percent.to_numpy(dtype=float)


def plot_consensus_agreement(agreement, *, title=None, value_labels=True):
    """Grouped bars of how often each rater group's consensus equals the truth.

    Figs. 1 and 2 of Chien & Lee (section 2.1): for every emotion, the
    percentage of utterances whose male-rater consensus and whose
    female-rater consensus equal the ground truth, on the consensus data
    (Fig. 1) and on the non-consensus data where the groups disagree
    (Fig. 2).

    Parameters
    ----------
    agreement : pandas.DataFrame or mapping of str to pandas.DataFrame
        The tidy table returned by :func:`fairrep.raters.consensus_agreement`
        (columns ``truth``, ``rater_group``, ``percent``; ``n_items`` is shown
        in the x tick labels when present). :func:`consensus_agreement`
        describes one subset per call, so a single DataFrame gives one panel;
        a mapping such as ``{"Fig. 1: all data": all_data, "Fig. 2: S2":
        s2}`` gives one panel per entry, side by side, titled by its key, with
        a shared y axis.
    title : str, default=None
        Title of the whole figure.
    value_labels : bool, default=True
        Whether to print each bar's percentage above it.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes per panel; bars for class ``c`` and group ``g`` at ``c``,
        in the order the classes and groups first appear in the table, one
        colour per group across panels; one figure legend
        (``figure.legends[0]``) below the panels naming the groups. Missing
        percentages (no item counted) are drawn as no bar.

    Raises
    ------
    TypeError, ValueError
        When ``agreement`` is not such a table (or mapping of tables), lacks
        a column or has no rows.

    See Also
    --------
    fairrep.raters.consensus_agreement : computes ``agreement``.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 2.1, Figs. 1 and 2.

    Examples
    --------
    >>> from fairrep.datasets import make_rater_perspectives
    >>> from fairrep.raters import consensus_agreement, perspective_split
    >>> from fairrep.experiments import plot_consensus_agreement
    >>> corpus = make_rater_perspectives(300, random_state=0)
    >>> split = perspective_split(corpus.ratings)
    >>> figure = plot_consensus_agreement(
    ...     {"All data": consensus_agreement(split),
    ...      "S2": consensus_agreement(split, subset="S2")})
    >>> len(figure.axes)
    2
    """
    _check_title(title)
    if not isinstance(value_labels, (bool, np.bool_)):
        raise TypeError(f"value_labels must be a bool; got {value_labels!r}.")
    if isinstance(agreement, Mapping):
        if not agreement:
            raise ValueError(
                "agreement must hold at least one panel; got an empty mapping."
            )
        panels = []
        for name, frame in agreement.items():
            if not isinstance(name, str):
                raise TypeError(
                    f"agreement's keys are panel titles and must be str; got {name!r}."
                )
            panels.append((name, frame, f"agreement[{name!r}]"))
    else:
        panels = [(None, agreement, "agreement")]
    checked = [
        (name, frame, _check_agreement(frame, label)) for name, frame, label in panels
    ]

    # One colour per group across all panels, so the legends agree.
    groups = list(
        pd.unique(pd.concat([frame["rater_group"] for _, frame, _ in checked]))
    )
    colors = dict(zip(groups, _group_colors(len(groups))))

    n_panels = len(checked)
    widest = max(frame["truth"].nunique() for _, frame, _ in checked)
    figure = _new_figure((max(5.0, 1.0 + 1.1 * widest) * n_panels, 4.6))
    from matplotlib.patches import Patch

    axes = figure.subplots(1, n_panels, sharey=True, squeeze=False)[0]
    for ax, (name, frame, percent) in zip(axes, checked):
        classes = list(pd.unique(frame["truth"]))
        panel_groups = [g for g in groups if (frame["rater_group"] == g).any()]
        width = 0.8 / len(panel_groups)
        position = {c: i for i, c in enumerate(classes)}
        for k, group in enumerate(panel_groups):
            rows = (frame["rater_group"] == group).to_numpy()
            x = np.array([position[c] for c in frame["truth"][rows]], dtype=float)
            x += (k - (len(panel_groups) - 1) / 2) * width
            heights = percent[rows]
            bars = ax.bar(
                x, heights, width=width, color=colors[group], label=str(group)
            )
            if value_labels:
                text = ["" if np.isnan(h) else f"{h:.0f}" for h in heights]
                ax.bar_label(bars, labels=text, padding=2, fontsize=8)
        ticks = [str(c) for c in classes]
        if "n_items" in frame.columns:
            # Items counted differ per group only through ties; show the largest.
            counts = frame.groupby("truth", sort=False)["n_items"].max()
            ticks = [f"{c}\n(n={int(counts[c])})" for c in classes]
        ax.set_xticks(range(len(classes)), ticks)
        ax.set_ylim(0, 110)
        ax.set_xlabel("ground-truth emotion")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        if name is not None:
            ax.set_title(name)
    axes[0].set_ylabel("consensus equals ground truth (%)")
    if title is not None:
        figure.suptitle(title)
    # One legend for all panels, outside the axes, so that no bar hides under it.
    handles = [Patch(color=colors[group], label=str(group)) for group in groups]
    figure.legend(
        handles=handles,
        title="rater group",
        loc="outside lower center",
        ncols=len(groups),
        fontsize=9,
        frameon=False,
    )
    return figure


def _subsample_rows(n_samples, max_points, random_state):
    """Sorted row positions kept for t-SNE: all of them, or a seeded subset."""
    if n_samples <= max_points:
        return np.arange(n_samples)
    rng = check_random_state(random_state)
    return np.sort(rng.choice(n_samples, size=max_points, replace=False))


def plot_embeddings(
    embeddings,
    groups,
    *,
    title=None,
    random_state=0,
    max_points=2000,
    perplexity=30,
):
    """t-SNE scatter plots of representations, coloured by perspective group.

    Figs. 5 and 6 of Chien & Lee: a 2-D t-SNE of the features learnt by the
    DNN baseline and by FairRep (anger detector); under the DNN the
    male- and female-perspective samples form clusters, under FairRep they
    are evenly mixed, the sign of a representation that carries no
    rater-gender information.

    Parameters
    ----------
    embeddings : mapping of str to array-like of shape (n_samples, n_dims)
        One representation per model, e.g. ``{"DNN": Z_dnn, "FairRep":
        Z_fair}``; every array's rows are aligned with ``groups``. The
        dimensions may differ between models.
    groups : array-like of shape (n_samples,)
        The perspective group of each row (e.g. ``"male"``/``"female"``); at
        least two distinct, non-missing values.
    title : str, default=None
        Title of the whole figure.
    random_state : int, RandomState instance or None, default=0
        Seed of the subsampling and of :class:`sklearn.manifold.TSNE`.
    max_points : int, default=2000
        At most this many rows are embedded; when there are more, the same
        seeded random subset of rows is used for every model, so the panels
        show the same samples.
    perplexity : float, default=30
        t-SNE perplexity; must be smaller than the number of rows embedded.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One axes per model, in the mapping's order, titled by its name, one
        scatter collection per group (groups sorted when comparable, the same
        colours in every panel) and a legend naming the groups.

    Raises
    ------
    TypeError, ValueError
        On an empty mapping, an array that is not 2-D, not numeric or not
        finite, arrays not aligned with ``groups``, fewer than two groups, or
        out-of-range ``max_points`` / ``perplexity``.

    References
    ----------
    .. [1] W.-S. Chien and C.-C. Lee, "A Two-Stage Learning Strategy for Fair
       Speech Emotion Recognition", section 3.2, Figs. 5 and 6.
    .. [2] L. van der Maaten and G. Hinton, "Visualizing Data using t-SNE",
       JMLR 9, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from fairrep.experiments import plot_embeddings
    >>> rng = np.random.RandomState(0)
    >>> groups = np.repeat(["male", "female"], 30)
    >>> figure = plot_embeddings(
    ...     {"A": rng.normal(size=(60, 5)), "B": rng.normal(size=(60, 3))},
    ...     groups, perplexity=10)
    >>> [ax.get_title() for ax in figure.axes]
    ['A', 'B']
    """
    _check_title(title)
    if not isinstance(embeddings, Mapping) or not embeddings:
        raise TypeError(
            "embeddings must be a non-empty mapping of model name to an array of "
            f"shape (n_samples, n_dims); got {type(embeddings).__name__}"
            + (" (empty)" if isinstance(embeddings, Mapping) else "")
            + "."
        )
    groups = np.asarray(groups, dtype=object)
    if groups.ndim != 1:
        raise ValueError(f"groups must be 1-D; got shape {groups.shape}.")
    if pd.isna(groups).any():
        raise ValueError("groups must not contain missing values.")
    names = list(pd.unique(groups))
    try:  # sorted, like the rater groups of fairrep.raters, so colours match Figs. 1/2
        names = sorted(names)
    except TypeError:
        pass
    if len(names) < 2:
        raise ValueError(
            f"groups must contain at least 2 distinct groups to compare; got {names}."
        )
    if not isinstance(max_points, Integral) or isinstance(max_points, bool):
        raise TypeError(f"max_points must be an int; got {max_points!r}.")
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2; got {max_points}.")
    if (
        not isinstance(perplexity, Real)
        or isinstance(perplexity, bool)
        or perplexity <= 0
    ):
        raise ValueError(f"perplexity must be a positive number; got {perplexity!r}.")

    arrays = {}
    for name, values in embeddings.items():
        if not isinstance(name, str):
            raise TypeError(
                f"embeddings' keys are model names and must be str; got {name!r}."
            )
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as error:
            raise TypeError(f"embeddings[{name!r}] must be a numeric array.") from error
        if array.ndim != 2:
            raise ValueError(
                f"embeddings[{name!r}] must be 2-D (n_samples, n_dims); got shape "
                f"{array.shape}."
            )
        if array.shape[0] != groups.shape[0]:
            raise ValueError(
                f"embeddings[{name!r}] has {array.shape[0]} rows but groups has "
                f"{groups.shape[0]}; they must be aligned."
            )
        if not np.isfinite(array).all():
            raise ValueError(f"embeddings[{name!r}] contains NaN or infinite values.")
        arrays[name] = array

    rows = _subsample_rows(groups.shape[0], max_points, random_state)
    if perplexity >= len(rows):
        raise ValueError(
            f"perplexity must be smaller than the number of points embedded "
            f"({len(rows)}); got {perplexity}."
        )
    kept = groups[rows]
    # Same seed for every model: differences between panels come from the
    # representations, not from the optimisation's starting point.
    if isinstance(random_state, Integral):
        seed = int(random_state)
    else:
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    colors = dict(zip(names, _group_colors(len(names))))

    from sklearn.manifold import TSNE

    figure = _new_figure((4.6 * len(arrays), 4.6))
    axes = figure.subplots(1, len(arrays), squeeze=False)[0]
    for ax, (name, array) in zip(axes, arrays.items()):
        tsne = TSNE(
            n_components=2,
            perplexity=perplexity,
            init="pca",
            learning_rate="auto",
            random_state=seed,
        )
        points = tsne.fit_transform(array[rows])
        for group in names:
            member = kept == group
            if member.any():
                ax.scatter(
                    points[member, 0],
                    points[member, 1],
                    s=8,
                    alpha=0.6,
                    color=colors[group],
                    label=str(group),
                    linewidths=0,
                )
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(title="perspective", loc="best", fontsize=8, markerscale=2)
    if title is not None:
        figure.suptitle(title)
    return figure

