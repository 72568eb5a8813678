"""The paper's qualitative claims, checked against a run's numbers (sections 2.1, 3.2).

:data:`CLAIMS` is the paper's claims as a table: each :class:`ClaimSpec`
names the claim, says what it states, which of the run's numbers it reads
(Tables 1-4, the rater groups' agreement with the truth of Figs. 1 and 2, or
the mixing of the groups in the representations of Figs. 5/6) and the test
that gives its verdict and evidence. :func:`evaluate_claims` runs the table
on one run; :func:`claims_by_config` does so once per configuration of the
study (:mod:`fairrep.experiments._configs`) and merges the verdicts.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _configs
from ._results import Claim, Verdict, untested_evidence

__all__ = ["CLAIMS", "ClaimSpec", "claims_by_config", "evaluate_claims"]

#: Claims: "keeps F1 within" this many points (section 3.2).
F1_POINTS = 2.0
#: Claims: rater groups "differ" on S2 when their agreement differs by this
#: many points on average over the emotions (Fig. 2).
AGREEMENT_GAP = 10.0
#: The fairness-aware stage-1 methods (Table 2).
FAIR_METHODS = ("LFR", "NRL", "FairRepG", "FairRepF", "FairRep")


def _fmt(value, decimals):
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{decimals}f}"


def _has(frame, *methods):
    return frame is not None and all(m in frame.columns for m in methods)


# --------------------------------------------------------------------------
# The tests: (source, context) -> (holds, evidence), or None when untestable
# --------------------------------------------------------------------------


def _parity_per_class(table2, context):
    if not _has(table2, "DNN", "FairRep"):
        return None
    pair = table2[["DNN", "FairRep"]].dropna()
    lower = pair["FairRep"] < pair["DNN"]
    evidence = (f"lower for {int(lower.sum())} of {len(pair)} classes (DNN -> FairRep): "
                + "; ".join(f"{c} {_fmt(r.DNN, 3)} -> {_fmt(r.FairRep, 3)}"
                            for c, r in pair.iterrows()))
    return len(pair) > 0 and lower.sum() > len(pair) / 2, evidence


def _f1_kept(table1, context):
    s1_set = context["s1_set"]
    if not (_has(table1, "DNN", "FairRep") and s1_set in table1.index.get_level_values(-1)):
        return None
    rows = table1.xs(s1_set, level=-1)[["DNN", "FairRep"]].dropna()
    dnn, fair = rows["DNN"].mean(), rows["FairRep"].mean()
    evidence = (f"mean F1 (%) DNN {_fmt(dnn, 2)}, FairRep {_fmt(fair, 2)} "
                f"(difference {_fmt(fair - dnn, 2)}); per class: "
                + "; ".join(f"{c} {_fmt(r.FairRep - r.DNN, 2)}" for c, r in rows.iterrows()))
    return len(rows) > 0 and fair >= dnn - F1_POINTS, evidence


def _every_fair_method(table2, context):
    present = [m for m in FAIR_METHODS if table2 is not None and m in table2.columns]
    if not (_has(table2, "DNN") and present):
        return None
    means = table2.mean()
    below = [m for m in present if means[m] < means["DNN"]]
    evidence = (f"DNN {_fmt(means['DNN'], 3)}; "
                + "; ".join(f"{m} {_fmt(means[m], 3)}" for m in present)
                + f" ({len(below)} of {len(present)} lower)")
    return len(below) == len(present), evidence


def _ablation(table2, context):
    if not _has(table2, "FairRep", "FairRepG", "FairRepF"):
        return None
    means = table2[["FairRepG", "FairRepF", "FairRep"]].mean()
    evidence = "; ".join(f"{m} {_fmt(v, 3)}" for m, v in means.items())
    return means["FairRep"] < min(means["FairRepG"], means["FairRepF"]), evidence


def _s2_harder(table1, context):
    if not (_has(table1, "DNN") and {"S1", "S2"} <= set(table1.index.get_level_values(-1))):
        return None
    pair = pd.DataFrame({"S1": table1.xs("S1", level=-1)["DNN"],
                         "S2": table1.xs("S2", level=-1)["DNN"]}).dropna()
    lower = pair["S2"] < pair["S1"]
    evidence = f"lower for {int(lower.sum())} of {len(pair)} classes: " + "; ".join(
        f"{c} {_fmt(r.S1, 2)} vs {_fmt(r.S2, 2)}" for c, r in pair.iterrows())
    return len(pair) > 0 and bool(lower.all()), evidence


def _fairper_beats_fairrep(table3, context):
    if not _has(table3, "FairPer", "FairRep"):
        return None
    by = table3.groupby(level=-1).mean()
    wins = by["FairPer"] > by["FairRep"]
    evidence = "; ".join(f"{p}: FairPer {_fmt(r.FairPer, 2)} vs FairRep {_fmt(r.FairRep, 2)}"
                         for p, r in by.iterrows())
    return len(by) > 0 and bool(wins.all()), evidence


def _fairper_best(table3, context):
    if not (_has(table3, "FairPer") and table3.shape[1] > 1):
        return None
    by = table3.groupby(level=-1).mean()
    others = by.drop(columns="FairPer")
    best_other = others.max(axis=1)
    evidence = "; ".join(
        f"{p}: FairPer {_fmt(by.loc[p, 'FairPer'], 2)}, best other "
        f"{others.loc[p].idxmax()} {_fmt(best_other[p], 2)}" for p in by.index)
    return bool((by["FairPer"] > best_other).all()), evidence


def _fairper_most_consistent(table4, context):
    if not (_has(table4, "FairPer") and table4.shape[1] > 1):
        return None
    means = table4.mean()
    evidence = "; ".join(f"{m} {_fmt(v, 3)}" for m, v in means.items())
    return bool((means["FairPer"] > means.drop("FairPer")).all()), evidence


def _fairrep_more_consistent(table4, context):
    if not _has(table4, "DNN", "FairRep"):
        return None
    means = table4[["DNN", "FairRep"]].mean()
    return (means["FairRep"] > means["DNN"],
            f"DNN {_fmt(means['DNN'], 3)}, FairRep {_fmt(means['FairRep'], 3)}")


def _groups_mixed(mixing, context):
    if mixing is None or not {"DNN", "FairRep"} <= set(mixing.index):
        return None
    dnn, fair = mixing.loc["DNN", "consistency"], mixing.loc["FairRep", "consistency"]
    chance = mixing.loc["DNN", "chance"]
    k = mixing["n_neighbors"].iloc[0] if "n_neighbors" in mixing else "?"
    return fair < dnn, (f"group consistency (k = {k}) on the plotted fold: DNN "
                        f"{_fmt(dnn, 3)}, FairRep {_fmt(fair, 3)} (groups ignored: "
                        f"{_fmt(chance, 3)})")


def _groups_agree(agreement, context):
    frame = None if agreement is None else agreement.get("all")
    if frame is None or not len(frame):
        return None
    percent = frame.dropna(subset=["percent"])
    worst = percent.loc[percent["percent"].idxmin()]
    evidence = (f"lowest: {worst['rater_group']} on {worst['truth']} "
                f"{_fmt(worst['percent'], 1)} %; "
                + "; ".join(f"{r.rater_group}/{r.truth} {_fmt(r.percent, 1)}"
                            for r in percent.itertuples()))
    return bool((percent["percent"] > 50).all()), evidence


def _s2_agreement(agreement):
    """Fig. 2's agreement as a wide frame (truth x rater group), or None."""
    frame = None if agreement is None else agreement.get("S2")
    if frame is None or not len(frame):
        return None
    return frame.pivot(index="truth", columns="rater_group", values="percent")


def _groups_differ(agreement, context):
    wide = _s2_agreement(agreement)
    if wide is None or wide.shape[1] < 2:
        return None
    spread = (wide.max(axis=1) - wide.min(axis=1)).dropna()
    evidence = f"mean gap {_fmt(spread.mean(), 1)} points; " + "; ".join(
        f"{c}: " + ", ".join(f"{g} {_fmt(v, 1)}" for g, v in wide.loc[c].items())
        for c in wide.index)
    return len(spread) > 0 and spread.mean() >= AGREEMENT_GAP, evidence


def _reference_group(agreement, context):
    group, label = context["reference_group"], context["reference_class"]
    wide = _s2_agreement(agreement)
    if wide is None or group not in wide.columns or wide.shape[1] < 2 \
            or label not in wide.index:
        return None
    others = wide.drop(columns=group).mean(axis=1)
    mine = wide[group]
    rest = [c for c in wide.index if c != label]
    holds = bool(mine[label] < others[label]) and bool((mine[rest] > others[rest]).all())
    evidence = "; ".join(f"{c}: {group} {_fmt(mine[c], 1)} vs others {_fmt(others[c], 1)}"
                         for c in wide.index)
    return holds, evidence


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the paper: what it says, the numbers it reads, its test.

    ``text`` and ``untested`` are formatted with the run's context
    (``s1_set``, ``parity_set``, ``reference_group``, ``reference_class``);
    ``source`` is a key of :func:`evaluate_claims`'s sources (``"table1"`` to
    ``"table4"``, ``"agreement"``, ``"mixing"``); ``test(source, context)``
    returns ``(holds, evidence)``, or None when the numbers are absent.
    """

    name: str
    text: str
    source: str
    test: Callable
    untested: str


#: The paper's claims, in the order the report lists them.
CLAIMS = (
    ClaimSpec("parity_per_class",
              "FairRep lowers the statistical parity on {parity_set} of the DNN for most "
              "emotions (Table 2).", "table2", _parity_per_class,
              "Table 2 lacks DNN or FairRep"),
    ClaimSpec("f1_kept",
              "FairRep keeps the F1 on {s1_set} within " + f"{F1_POINTS:g}" + " points of "
              "the DNN (Table 1; mean over emotions).", "table1", _f1_kept,
              "Table 1 lacks DNN, FairRep or the {s1_set} rows"),
    ClaimSpec("every_fair_method",
              "Every fairness-aware method has a lower mean statistical parity on "
              "{parity_set} than the DNN (Table 2).", "table2", _every_fair_method,
              "Table 2 lacks the DNN or every fairness-aware method"),
    ClaimSpec("ablation",
              "The full FairRep has a lower mean statistical parity on {parity_set} than "
              "both ablations FairRepG and FairRepF (Table 2).", "table2", _ablation,
              "Table 2 lacks FairRep, FairRepG or FairRepF"),
    ClaimSpec("s2_harder",
              "The DNN's F1 is lower on S2 than on S1 for every emotion (Table 1).",
              "table1", _s2_harder, "no S1/S2 rows in Table 1 (corpus without raters)"),
    ClaimSpec("fairper_beats_fairrep",
              "FairPer beats FairRep under each rater group's perspective (Table 3; mean "
              "F1 over emotions).", "table3", _fairper_beats_fairrep,
              "Table 3 lacks FairPer or FairRep"),
    ClaimSpec("fairper_best",
              "FairPer has the highest F1 of all methods under each rater group's "
              "perspective (Table 3; mean over emotions).", "table3", _fairper_best,
              "Table 3 lacks FairPer or the other methods"),
    ClaimSpec("fairper_most_consistent",
              "FairPer's embedding is more consistent w.r.t. the perspective groups than "
              "every other method's (Table 4; mean over emotions).", "table4",
              _fairper_most_consistent, "Table 4 lacks FairPer or the other methods"),
    ClaimSpec("fairrep_more_consistent",
              "FairRep's embedding is more consistent w.r.t. the perspective groups than "
              "the DNN's (Table 4; mean over emotions).", "table4",
              _fairrep_more_consistent, "Table 4 lacks DNN or FairRep"),
    ClaimSpec("groups_mixed",
              "Figs. 5/6: the perspective groups are more evenly mixed in FairRep's "
              "representation than in the DNN's (lower group consistency).", "mixing",
              _groups_mixed, "no DNN and FairRep representations of the plotted fold"),
    ClaimSpec("groups_agree",
              "Fig. 1: every rater group's consensus matches the truth on most items "
              "(> 50 %) of every emotion.", "agreement", _groups_agree, "no rater groups"),
    ClaimSpec("groups_differ",
              "Fig. 2: on the non-consensus set S2 the rater groups perceive differently: "
              "their agreement with the truth differs by at least "
              + f"{AGREEMENT_GAP:g}" + " points on average over the emotions.",
              "agreement", _groups_differ, "no rater groups"),
    ClaimSpec("reference_group",
              "Fig. 2: the {reference_group} raters agree less with the truth on "
              "{reference_class} and more on every other emotion (non-consensus data).",
              "agreement", _reference_group,
              "no '{reference_group}' rater group or no '{reference_class}' class"),
)


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
    claims : list of Claim
        One per entry of :data:`CLAIMS`, read like a dict with the keys
        ``"claim"``, ``"holds"`` and ``"evidence"``.

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
    sources = {key: tables.get(key) for key in ("table1", "table2", "table3", "table4")}
    sources.update(agreement=agreement, mixing=mixing)
    context = {"s1_set": s1_set, "parity_set": parity_set,
               "reference_group": reference_group, "reference_class": reference_class}
    claims = []
    for spec in CLAIMS:
        text = spec.text.format(**context)
        found = spec.test(sources[spec.source], context)
        if found is None:
            claims.append(Claim(text, None, untested_evidence(spec.untested.format(**context))))
        else:
            holds, evidence = found
            claims.append(Claim(text, None if holds is None else bool(holds), evidence))
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
    claims : list of Claim
        With ``by_config`` mapping every configuration to its
        :class:`~fairrep.experiments._results.Verdict` (``holds``,
        ``evidence``), ``holds`` the first configuration's verdict and
        ``holds_for`` saying where the claim holds ("both", a configuration's
        name, "neither" or "untested").
    """
    found = {}
    for config in configs:
        own = {key: _configs.view(tables.get(key), config)
               for key in ("table1", "table2", "table3", "table4")}
        found[config] = evaluate_claims(
            own, agreement=agreement, mixing=_configs.view(mixing, config, axis="index"),
            **options,
        )
    merged = []
    for entries in zip(*(found[c] for c in configs)):
        by_config = {c: Verdict(e.holds, e.evidence) for c, e in zip(configs, entries)}
        evidence = (" | ".join(f"{c}: {v.evidence}" for c, v in by_config.items())
                    if len(configs) > 1 else entries[0].evidence)
        merged.append(Claim(entries[0].claim, entries[0].holds, evidence, by_config,
                            _configs.holds_for({c: v.holds for c, v in by_config.items()})))
    return merged
