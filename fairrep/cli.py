"""The ``fairrep`` command line."""

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _stage1_methods(max_epochs, random_state):
    """The stage-1 methods of Table 1, with the paper's training settings."""
    from .baselines import DNNClassifier
    from .representation import FairRep

    common = dict(max_epochs=max_epochs, random_state=random_state)
    return {
        "DNN": DNNClassifier(**common),
        "FairRepG": FairRep.fairrep_g(**common),
        "FairRepF": FairRep.fairrep_f(**common),
        "FairRep": FairRep(**common),
    }


def run_demo(args):
    """Stage-1 study (Tables 1 and 2) on the simulated default corpus."""
    from .datasets import make_rater_perspectives
    from .experiments._protocol import run_stage1, summarize
    from .features import SpeakerStandardScaler
    from .raters import perspective_split

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    say = (lambda message: None) if args.quiet else (lambda message: print(message, flush=True))

    corpus = make_rater_perspectives(args.n_samples, random_state=args.random_state)
    split = perspective_split(corpus.ratings, truth=corpus.truth)
    split = split.loc[corpus.item_info.index]
    counts = split["subset"].value_counts().reindex(["S1", "S2", "other", "undetermined"])
    say(
        f"Simulated corpus: {len(split)} items, {corpus.data.shape[1]} features, "
        + ", ".join(f"{name} {count}" for name, count in counts.items())
    )
    # Per-speaker z-normalisation over each speaker's utterances (section 2.2.1).
    X = SpeakerStandardScaler().fit_transform(corpus.data, speakers=corpus.speakers)

    methods = _stage1_methods(args.max_epochs, args.random_state)
    f1, parity, times = run_stage1(
        methods, X, split, corpus.sessions, folds=args.folds, progress=say
    )
    f1_mean, f1_text = summarize(f1, "f1", index=["class", "set"])
    sp_mean, sp_text = summarize(parity, "statistical_parity", index=["class"])

    table1 = (100 * f1_mean).round(2)
    table2 = sp_mean.round(3)
    report = [
        "# fairrep demo: stage 1 on the simulated corpus",
        "",
        "Data: `fairrep.datasets.make_rater_perspectives` (SIMULATED, not IEMOCAP), "
        f"n_samples={args.n_samples}, random_state={args.random_state}; subsets: "
        + ", ".join(f"{name} {count}" for name, count in counts.items())
        + f". Session-independent folds: {f1['fold'].nunique()}.",
        "",
        "## Table 1: weighted F1 (%) per emotion on All / S1 / S2 (fold mean)",
        "",
        _markdown_table(table1),
        "",
        "## Table 2: statistical parity on S2 (lower is fairer; fold mean)",
        "",
        _markdown_table(table2),
        "",
        *_degenerate_notes(times),
        f"Total time: {time.perf_counter() - started:.0f} s.",
    ]
    (out / "results.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    payload = {
        "settings": {k: v for k, v in vars(args).items() if k != "handler"},
        "subsets": counts.to_dict(),
        "f1": f1.to_dict(orient="records"),
        "statistical_parity": parity.to_dict(orient="records"),
        "fit_seconds": times.to_dict(orient="records"),
        "table1_mean_std": f1_text.reset_index().to_dict(orient="records"),
        "table2_mean_std": sp_text.reset_index().to_dict(orient="records"),
    }
    (out / "results.json").write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    say("")
    say("\n".join(report[4:]))
    say(f"\nResults written to {out.resolve()}/results.md and results.json")
    return 0


def _degenerate_notes(times):
    """Lines that flag methods which never predicted some class on a fold."""
    flagged = times[times["never_predicted"] != ""]
    if flagged.empty:
        return ["Every method predicted every class on every fold.", ""]
    lines = ["**Degenerate predictions** (a class never predicted has a parity gap of 0 "
             "that says nothing about fairness):", ""]
    lines += [
        f"- {row.method}, fold {row.fold} (session {row.session}): never predicted "
        f"{row.never_predicted}"
        for row in flagged.itertuples()
    ]
    return lines + [""]


def _markdown_table(frame):
    """A DataFrame as a GitHub-flavoured Markdown table, index columns first."""
    flat = frame.reset_index()
    header = "| " + " | ".join(map(str, flat.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in flat.columns) + " |"
    rows = ["| " + " | ".join(map(str, row)) + " |" for row in flat.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def build_parser():
    """The argument parser of the ``fairrep`` command."""
    parser = argparse.ArgumentParser(
        prog="fairrep",
        description="Fair representations and rater perspectives (Chien & Lee).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run the stage-1 study offline on the simulated default corpus",
        description=(
            "Session-independent stage-1 study (the paper's Tables 1 and 2) of DNN, "
            "FairRepG, FairRepF and FairRep on the simulated multi-rater corpus."
        ),
    )
    demo.add_argument("--out", default="fairrep-report", help="output folder (default: %(default)s)")
    demo.add_argument("--n-samples", type=int, default=3000, help="corpus size (default: %(default)s)")
    demo.add_argument(
        "--folds", type=int, default=1,
        help="number of held-out sessions to evaluate, 1-5 (default: %(default)s)",
    )
    demo.add_argument("--max-epochs", type=int, default=10, help="training epochs (default: %(default)s)")
    demo.add_argument("--random-state", type=int, default=0, help="seed (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="print nothing")
    demo.set_defaults(handler=run_demo)
    return parser


def main(argv=None):
    """Entry point of the ``fairrep`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("n_samples", "folds", "max_epochs"):
        if getattr(args, name, 1) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
