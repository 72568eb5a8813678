"""The study's figures: Figs. 1, 2 and 5/6 of the paper, the trade-off, the grid.

:func:`figure_entries` draws, from a finished run, the rater groups'
agreement with the truth (Figs. 1 and 2), the t-SNE of the DNN's, FairRep's
and FairPer's representations of the plotted fold (Figs. 5/6), the
fairness/F1 trade-off and the grid search's candidates, as the report's
:class:`~fairrep.experiments._results.Figure` records.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..metrics import consistency_score
from ._methods import FIGURE_METHODS
from ._results import Figure
from ._scores import neighbours

__all__ = ["FigureSettings", "agreement_of", "figure_entries"]


@dataclass
class FigureSettings:
    """How the figures are drawn.

    Attributes
    ----------
    wanted : bool
        Whether figures were asked for.
    groups : numpy.ndarray
        The known groups of the plotted fold's test items (Figs. 5/6 colours).
    max_points : int
        At most this many points per t-SNE panel.
    random_state : int
        Seed of the t-SNE.
    """

    wanted: bool
    groups: np.ndarray
    max_points: int
    random_state: int


def agreement_of(data):
    """Each rater group's agreement with the truth on all items (Fig. 1) and on the
    non-consensus data (Fig. 2): the strict S2, where the groups' consensus labels
    differ, as the paper's Fig. 2 (section 2.1), whatever split the study trains on."""
    if not data.has_raters:
        return None
    from ..raters import consensus_agreement
    from ..raters._subsets import classify_strict

    consensus = data.split[[f"consensus_{group}" for group in data.groups]]
    strict, _ = classify_strict(data.split["truth"], consensus, data.groups)
    return {"all": consensus_agreement(data.split),
            "S2": consensus_agreement(data.split.assign(subset=strict), subset="S2")}


def figure_entries(data, store_arrays, agreement, tradeoff, grid_frame, options, drawing,
                   notes):
    """Figs. 1, 2, 5/6, the trade-off and the grid search, when matplotlib is available.

    Returns
    -------
    figures : list of Figure
    mixing : pandas.DataFrame or None
        The group consistency of each plotted representation (Figs. 5/6), with
        the value of one that ignores the groups (``chance``), by method.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        notes.append("matplotlib is not installed: the figures were not drawn.")
        return [], None
    from ._figures import plot_consensus_agreement, plot_embeddings
    from ._tradeoff import plot_tradeoff

    figures = []
    if agreement is not None:
        figures.append(Figure(
            key="fig1_agreement_all",
            title="Fig. 1: rater-group consensus vs truth, all data",
            caption="Share of items (per truth emotion) whose rater-group consensus "
                       "equals the truth, over every item with a truth.",
            figure=plot_consensus_agreement(agreement["all"]),
        ))
        if len(agreement["S2"]):
            figures.append(Figure(
                key="fig2_agreement_s2",
                title="Fig. 2: rater-group consensus vs truth, non-consensus data (S2)",
                caption="The same share on the non-consensus data: the items where the "
                        "groups' consensus labels differ (the strict S2, as the paper's "
                        "Fig. 2), whichever split the study trains on.",
                figure=plot_consensus_agreement(agreement["S2"]),
            ))

    mixing = None
    fold = options.figure_fold
    embeddings = {
        name: store_arrays[("embedding", fold, name)] for name in FIGURE_METHODS
        if ("embedding", fold, name) in store_arrays
    }
    groups = drawing.groups
    if embeddings and groups is not None and len(groups) >= 5 \
            and len(pd.unique(groups)) >= 2:
        shares = pd.Series(groups).value_counts(normalize=True)
        chance = float((shares ** 2).sum())
        k = neighbours(options.n_neighbors, len(groups))
        mixing = pd.DataFrame(
            {
                "consistency": [consistency_score(e, groups, n_neighbors=k)
                                for e in embeddings.values()],
                "chance": chance,
                "n_neighbors": k,
            },
            index=pd.Index(list(embeddings), name="method"),
        )
        perplexity = float(min(30.0, max(1.0, (len(groups) - 1) / 3)))
        label = "perspective group" if data.has_raters else data.group_column
        figures.append(Figure(
            key="fig5_6_embeddings",
            title="Figs. 5/6: t-SNE of the representations on the held-out fold",
            caption=(
                f"Test items of fold {fold + 1} with a known {label}, coloured by it; "
                "DNN and FairRep: their Exp1 representation (transform); FairPer: its "
                "embedding under the gender-free perspective. "
                "Group consistency (k = "
                f"{k}): " + ", ".join(f"{m} {v:.3f}" for m, v in mixing["consistency"].items())
                + f"; {chance:.3f} if the representation ignored the groups."
            ),
            figure=plot_embeddings(
                embeddings, groups, random_state=drawing.random_state,
                max_points=drawing.max_points, perplexity=perplexity,
            ),
        ))
    elif drawing.wanted:
        notes.append("Figs. 5/6 were not drawn: the plotted fold has too few items with "
                     "a known group, or neither DNN nor FairRep was run.")

    if tradeoff is not None and len(tradeoff):
        figures.append(Figure(
            key="tradeoff",
            title="Fairness / F1 trade-off across methods",
            caption=(
                "Fold means: x = statistical parity (mean over emotions, on S2), y = "
                "weighted F1 (%, mean over emotions, on "
                f"{'S1' if data.has_raters else 'all test items'}); points labelled "
                "with the fairness weight alpha."
            ),
            figure=plot_tradeoff(tradeoff, label="setting"),
        ))
    if grid_frame is not None and len(grid_frame):
        frame = grid_frame.assign(
            method=[f"{m}, fold {f + 1}" for m, f in zip(grid_frame["method"],
                                                       grid_frame["fold"])],
            setting=[f"{v:g}" for v in grid_frame["value"]],
            f1=100 * grid_frame["mean_f1"],
            statistical_parity=grid_frame["mean_parity"],
        )
        figures.append(Figure(
            key="grid_alpha",
            title="Grid search of alpha, inner cross-validation",
            caption="Each outer fold's inner session-grouped CV, per method and alpha: "
                       "weighted F1 (%; on S1 under the paper's rule, on every item under "
                       "fairrep's) vs statistical parity (mean over emotions).",
            figure=plot_tradeoff(frame, label="setting"),
        ))
    return figures, mixing
