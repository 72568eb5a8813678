"""The paper's qualitative claims, checked against a run's numbers (sections 2.1, 3.2).

:func:`evaluate_claims` reads the fold-mean tables of a study (Tables 1-4),
the rater groups' agreement with the truth (Figs. 1 and 2) and the mixing
of the groups in the DNN's and FairRep's representations (Figs. 5/6), and
says for each of the paper's claims whether this run shows it.
:func:`claims_by_config` does so once per configuration of the study
(:mod:`fairrep.experiments._configs`) and merges the verdicts.
"""

import numpy as np
import pandas as pd

from . import _configs

__all__ = ["claims_by_config", "evaluate_claims"]

#: Claims: "keeps F1 within" this many points (section 3.2).
F1_POINTS = 2.0
#: Claims: rater groups "differ" on S2 when their agreement differs by this
#: many points on average over the emotions (Fig. 2).
AGREEMENT_GAP = 10.0


def _fmt(value, decimals):
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{decimals}f}"


def _claim(text, holds, evidence):
    return {"claim": text, "holds": None if holds is None else bool(holds), "evidence": evidence}


def _untested(text, reason):
    return _claim(text, None, f"not tested: {reason}")


def _has(frame, *methods):
    return frame is not None and all(m in frame.columns for m in methods)


def evaluate_claims(tables, *, agreement=None, mixing=None, s1_set="S1", parity_set="S2",
                    reference_group="male", reference_class="frustration"):
    """Check the paper's qualitative claims against a run's numbers.

    Every verdict is computed from the tables given: nothing is assumed, and
    a claim whose numbers are absent is reported as not tested
    (``holds=None``).

    Parameters
    ----------
    tables : dict
        Fold-mean frames, as :func:`run_study` builds them: ``"table1"``
        (F1 in %, rows (class, set), columns methods), ``"table2"``
        (statistical parity on S2, rows class), ``"table3"`` (F1 in %, rows
        (class, perspective)) and ``"table4"`` (consistency, rows class).
        Missing keys or methods leave the claims that need them untested.
    agreement : dict, default=None
        ``{"all": ..., "S2": ...}``: :func:`~fairrep.raters.consensus_agreement`
        on all data (Fig. 1) and on S2 (Fig. 2).
    mixing : pandas.DataFrame, default=None
        Indexed by method (``"DNN"``, ``"FairRep"``), with columns
        ``consistency`` (of the perspective groups in the method's
        representation of the plotted fold, Figs. 5/6) and ``chance`` (the
        value of a representation that ignores the groups).
    s1_set : str, default="S1"
        The rows of ``table1`` that hold the consensus set; ``"All"`` for a
        corpus without an S1/S2 split.
    parity_set : str, default="S2"
        Where ``table2``'s parity was measured, for the claims' wording.
    reference_group, reference_class : str
        The group and class of the paper's Fig. 2 finding (the male raters
        agree less with the truth on frustration, more on the rest).

    Returns
    -------
    claims : list of dict
        ``{"claim", "holds", "evidence"}`` each.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairrep.experiments import evaluate_claims
    >>> table2 = pd.DataFrame({"DNN": [0.4, 0.3], "FairRep": [0.2, 0.1]},
    ...                       index=pd.Index(["anger", "sadness"], name="class"))
    >>> claims = evaluate_claims({"table2": table2})
    >>> claims[0]["holds"], claims[0]["evidence"][:22]
    (True, 'lower for 2 of 2 class')
    """
    table1 = tables.get("table1")
    table2 = tables.get("table2")
    table3 = tables.get("table3")
    table4 = tables.get("table4")
    claims = []

    # Table 2: parity of FairRep vs DNN, per class.
    text = (f"FairRep lowers the statistical parity on {parity_set} of the DNN for most "
            "emotions (Table 2).")
    if _has(table2, "DNN", "FairRep"):
        pair = table2[["DNN", "FairRep"]].dropna()
        lower = pair["FairRep"] < pair["DNN"]
        evidence = (
            f"lower for {int(lower.sum())} of {len(pair)} classes (DNN -> FairRep): "
            + "; ".join(f"{c} {_fmt(r.DNN, 3)} -> {_fmt(r.FairRep, 3)}"
                        for c, r in pair.iterrows())
        )
        claims.append(_claim(text, len(pair) > 0 and lower.sum() > len(pair) / 2, evidence))
    else:
        claims.append(_untested(text, "Table 2 lacks DNN or FairRep"))

    # Table 1: F1 on the consensus set kept within 2 points.
    text = (f"FairRep keeps the F1 on {s1_set} within {F1_POINTS:g} points of the DNN "
            "(Table 1; mean over emotions).")
    if _has(table1, "DNN", "FairRep") and s1_set in table1.index.get_level_values(-1):
        rows = table1.xs(s1_set, level=-1)[["DNN", "FairRep"]].dropna()
        dnn, fair = rows["DNN"].mean(), rows["FairRep"].mean()
        evidence = (
            f"mean F1 (%) DNN {_fmt(dnn, 2)}, FairRep {_fmt(fair, 2)} "
            f"(difference {_fmt(fair - dnn, 2)}); per class: "
            + "; ".join(f"{c} {_fmt(r.FairRep - r.DNN, 2)}" for c, r in rows.iterrows())
        )
        claims.append(_claim(text, len(rows) > 0 and fair >= dnn - F1_POINTS, evidence))
    else:
        claims.append(_untested(text, f"Table 1 lacks DNN, FairRep or the {s1_set} rows"))

    # Table 2: every fairness-aware method below the DNN on average.
    text = (f"Every fairness-aware method has a lower mean statistical parity on {parity_set} "
            "than the DNN (Table 2).")
    fair_methods = [m for m in ("LFR", "NRL", "FairRepG", "FairRepF", "FairRep")
                    if table2 is not None and m in table2.columns]
    if _has(table2, "DNN") and fair_methods:
        means = table2.mean()
        below = [m for m in fair_methods if means[m] < means["DNN"]]
        evidence = f"DNN {_fmt(means['DNN'], 3)}; " + "; ".join(
            f"{m} {_fmt(means[m], 3)}" for m in fair_methods
        ) + f" ({len(below)} of {len(fair_methods)} lower)"
        claims.append(_claim(text, len(below) == len(fair_methods), evidence))
    else:
        claims.append(_untested(text, "Table 2 lacks the DNN or every fairness-aware method"))

    # Table 2: the ablation.
    text = (f"The full FairRep has a lower mean statistical parity on {parity_set} than "
            "both ablations FairRepG and FairRepF (Table 2).")
    if _has(table2, "FairRep", "FairRepG", "FairRepF"):
        means = table2[["FairRepG", "FairRepF", "FairRep"]].mean()
        evidence = "; ".join(f"{m} {_fmt(v, 3)}" for m, v in means.items())
        claims.append(_claim(
            text, means["FairRep"] < min(means["FairRepG"], means["FairRepF"]), evidence
        ))
    else:
        claims.append(_untested(text, "Table 2 lacks FairRep, FairRepG or FairRepF"))

    # Table 1: perception-biased items are harder.
    text = "The DNN's F1 is lower on S2 than on S1 for every emotion (Table 1)."
    if _has(table1, "DNN") and {"S1", "S2"} <= set(table1.index.get_level_values(-1)):
        s1 = table1.xs("S1", level=-1)["DNN"]
        s2 = table1.xs("S2", level=-1)["DNN"]
        pair = pd.DataFrame({"S1": s1, "S2": s2}).dropna()
        lower = pair["S2"] < pair["S1"]
        evidence = f"lower for {int(lower.sum())} of {len(pair)} classes: " + "; ".join(
            f"{c} {_fmt(r.S1, 2)} vs {_fmt(r.S2, 2)}" for c, r in pair.iterrows()
        )
        claims.append(_claim(text, len(pair) > 0 and bool(lower.all()), evidence))
    else:
        claims.append(_untested(text, "no S1/S2 rows in Table 1 (corpus without raters)"))

    # Table 3: FairPer vs FairRep and vs everyone, per perspective.
    text = "FairPer beats FairRep under each rater group's perspective (Table 3; mean F1 over emotions)."
    if _has(table3, "FairPer", "FairRep"):
        by = table3.groupby(level=-1).mean()
        wins = by["FairPer"] > by["FairRep"]
        evidence = "; ".join(
            f"{p}: FairPer {_fmt(r.FairPer, 2)} vs FairRep {_fmt(r.FairRep, 2)}"
            for p, r in by.iterrows()
        )
        claims.append(_claim(text, len(by) > 0 and bool(wins.all()), evidence))
    else:
        claims.append(_untested(text, "Table 3 lacks FairPer or FairRep"))

    text = ("FairPer has the highest F1 of all methods under each rater group's "
            "perspective (Table 3; mean over emotions).")
    if _has(table3, "FairPer") and table3.shape[1] > 1:
        by = table3.groupby(level=-1).mean()
        others = by.drop(columns="FairPer")
        best_other = others.max(axis=1)
        evidence = "; ".join(
            f"{p}: FairPer {_fmt(by.loc[p, 'FairPer'], 2)}, best other "
            f"{others.loc[p].idxmax()} {_fmt(best_other[p], 2)}" for p in by.index
        )
        claims.append(_claim(text, bool((by["FairPer"] > best_other).all()), evidence))
    else:
        claims.append(_untested(text, "Table 3 lacks FairPer or the other methods"))

    # Table 4.
    text = ("FairPer's embedding is more consistent w.r.t. the perspective groups than "
            "every other method's (Table 4; mean over emotions).")
    if _has(table4, "FairPer") and table4.shape[1] > 1:
        means = table4.mean()
        others = means.drop("FairPer")
        evidence = "; ".join(f"{m} {_fmt(v, 3)}" for m, v in means.items())
        claims.append(_claim(text, bool((means["FairPer"] > others).all()), evidence))
    else:
        claims.append(_untested(text, "Table 4 lacks FairPer or the other methods"))

    text = ("FairRep's embedding is more consistent w.r.t. the perspective groups than "
            "the DNN's (Table 4; mean over emotions).")
    if _has(table4, "DNN", "FairRep"):
        means = table4[["DNN", "FairRep"]].mean()
        evidence = f"DNN {_fmt(means['DNN'], 3)}, FairRep {_fmt(means['FairRep'], 3)}"
        claims.append(_claim(text, means["FairRep"] > means["DNN"], evidence))
    else:
        claims.append(_untested(text, "Table 4 lacks DNN or FairRep"))

    # Figs. 5/6.
    text = ("Figs. 5/6: the perspective groups are more evenly mixed in FairRep's "
            "representation than in the DNN's (lower group consistency).")
    if mixing is not None and {"DNN", "FairRep"} <= set(mixing.index):
        dnn, fair = mixing.loc["DNN", "consistency"], mixing.loc["FairRep", "consistency"]
        chance = mixing.loc["DNN", "chance"]
        k = mixing["n_neighbors"].iloc[0] if "n_neighbors" in mixing else "?"
        evidence = (f"group consistency (k = {k}) on the plotted fold: DNN {_fmt(dnn, 3)}, "
                    f"FairRep {_fmt(fair, 3)} (groups ignored: {_fmt(chance, 3)})")
        claims.append(_claim(text, fair < dnn, evidence))
    else:
        claims.append(_untested(text, "no DNN and FairRep representations of the plotted fold"))

    # Figs. 1 and 2.
    text = ("Fig. 1: every rater group's consensus matches the truth on most items (> 50 %) "
            "of every emotion.")
    frame = None if agreement is None else agreement.get("all")
    if frame is not None and len(frame):
        percent = frame.dropna(subset=["percent"])
        worst = percent.loc[percent["percent"].idxmin()]
        evidence = (
            f"lowest: {worst['rater_group']} on {worst['truth']} {_fmt(worst['percent'], 1)} %; "
            + "; ".join(f"{r.rater_group}/{r.truth} {_fmt(r.percent, 1)}"
                        for r in percent.itertuples())
        )
        claims.append(_claim(text, bool((percent["percent"] > 50).all()), evidence))
    else:
        claims.append(_untested(text, "no rater groups"))

    text = (f"Fig. 2: on the non-consensus set S2 the rater groups perceive differently: "
            f"their agreement with the truth differs by at least {AGREEMENT_GAP:g} points "
            "on average over the emotions.")
    frame = None if agreement is None else agreement.get("S2")
    wide = None
    if frame is not None and len(frame):
        wide = frame.pivot(index="truth", columns="rater_group", values="percent")
    if wide is not None and wide.shape[1] >= 2:
        spread = (wide.max(axis=1) - wide.min(axis=1)).dropna()
        evidence = f"mean gap {_fmt(spread.mean(), 1)} points; " + "; ".join(
            f"{c}: " + ", ".join(f"{g} {_fmt(v, 1)}" for g, v in wide.loc[c].items())
            for c in wide.index
        )
        claims.append(_claim(text, len(spread) > 0 and spread.mean() >= AGREEMENT_GAP,
                             evidence))
    else:
        claims.append(_untested(text, "no rater groups"))

    text = (f"Fig. 2: the {reference_group} raters agree less with the truth on "
            f"{reference_class} and more on every other emotion (non-consensus data).")
    if wide is not None and reference_group in wide.columns and wide.shape[1] >= 2 \
            and reference_class in wide.index:
        others = wide.drop(columns=reference_group).mean(axis=1)
        mine = wide[reference_group]
        rest = [c for c in wide.index if c != reference_class]
        holds = bool(mine[reference_class] < others[reference_class]) and bool(
            (mine[rest] > others[rest]).all()
        )
        evidence = "; ".join(
            f"{c}: {reference_group} {_fmt(mine[c], 1)} vs others {_fmt(others[c], 1)}"
            for c in wide.index
        )
        claims.append(_claim(text, holds, evidence))
    else:
        claims.append(_untested(
            text, f"no '{reference_group}' rater group or no '{reference_class}' class"
        ))
    return claims


def claims_by_config(tables, configs, *, agreement=None, mixing=None, **options):
    """:func:`evaluate_claims` once per configuration, merged claim by claim.

    Parameters
    ----------
    tables : dict
        As :func:`evaluate_claims` takes them, with every configuration's
        methods as columns (``"FairRep"``, ``"FairRep (fairrep)"``...).
    configs : sequence of str
        The configurations to check, the first one giving each claim's
        ``holds``.
    agreement, mixing, **options
        Passed to :func:`evaluate_claims` (``mixing`` indexed by label).

    Returns
    -------
    claims : list of dict
        ``{"claim", "holds", "holds_for", "evidence", "by_config"}`` each,
        ``by_config`` mapping every configuration to its ``{"holds",
        "evidence"}`` and ``holds_for`` saying where the claim holds
        ("both", a configuration's name, "neither" or "untested").
    """
    found = {}
    for config in configs:
        own = {key: _configs.view(tables.get(key), config)
               for key in ("table1", "table2", "table3", "table4")}
        found[config] = evaluate_claims(
            own, agreement=agreement, mixing=_configs.view(mixing, config, axis="index"),
            **options,
        )
    return _configs.merge_claims(found)
