"""The ``fairrep`` command line: ``fairrep demo`` and ``fairrep reproduce``."""

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["build_parser", "main"]

class _UsageError(Exception):
    """A bad combination of arguments found after parsing (reported like argparse's)."""


def _rater_groups(text, corpus):
    """``--rater-groups``: a JSON/CSV file, ``k=v,...`` pairs or ``a,b`` names.

    Returns a mapping (a file or pairs) or a list of names, as
    :func:`fairrep.datasets.load_corpus` takes them.
    """
    if text is None:
        return None
    path = Path(text)
    if path.is_file():
        if path.suffix.lower() == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        import pandas as pd

        table = pd.read_csv(path, header=None, dtype=str)
        if table.shape[1] < 2:
            raise _UsageError(
                f"--rater-groups file {text} must have two columns: rater id, group"
            )
        return dict(zip(table[0].str.strip(), table[1].str.strip()))
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if parts and all("=" in part for part in parts):
        return dict(part.split("=", 1) for part in parts)
    if corpus == "iemocap":
        raise _UsageError(
            "--rater-groups for iemocap must map evaluators to groups, as a JSON/CSV "
            f"file or 'E1=female,E2=male,...'; got {text!r}"
        )
    return parts


def _printer(quiet):
    """Print a line; through tqdm when installed, so that a progress bar stays intact."""
    if quiet:
        return lambda message: None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the featurizers
        return lambda message: print(message, flush=True)
    return lambda message: tqdm.write(message, file=sys.stdout)


def _write_tables(results, out):
    """The long result tables as CSV files in ``out/tables``."""
    folder = Path(out) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in results.items():
        if frame is not None and len(frame):
            path = folder / f"{name}.csv"
            frame.to_csv(path, index=False)
            paths.append(path)
    return paths


def _finish(study, out, started, say):
    """Write the report, then print the claims, the wall time and where it all is."""
    from .experiments import write_report
    from .experiments._results import claim_state

    def mark(holds):
        return claim_state(holds).key.ljust(7)

    paths = write_report(study, out)
    _write_tables(study.results, out)
    seconds = time.perf_counter() - started
    say("")
    say("Claims of the paper, checked on this run:")
    for claim in study.claims:
        if not claim.by_config:
            say(f"  [{mark(claim.holds)}] {claim.claim}")
            say(f"             {claim.evidence}")
            continue
        say(f"  [holds for: {claim.holds_for}] {claim.claim}")
        for config, verdict in claim.by_config.items():
            say(f"      {config:<8} {mark(verdict.holds)} {verdict.evidence}")
    say("")
    say(f"Wall time: {seconds:.0f} s")
    say(f"Report: {paths['html'].resolve()}")
    say(f"        {paths['markdown'].resolve()}, {paths['json'].resolve()}, "
        f"{len(paths['figures'])} figure(s), long tables in {(Path(out) / 'tables').resolve()}")
    return 0


#: Arguments passed on under their own names: to run_study ...
_STUDY_OPTIONS = ("folds", "max_epochs", "early_stopping", "warm_start", "inner_folds",
                  "random_state", "grid", "configs", "n_jobs")
#: ... and to load_corpus.
_LOAD_OPTIONS = ("data_home", "features", "features_file", "checkpoint", "model", "device",
                 "max_items", "n_samples", "random_state", "item_column", "group_column",
                 "label_column", "rater_column", "truth_column", "speaker_column",
                 "session_column")


def _options(args, names):
    return {name: getattr(args, name) for name in names}


def _study_and_report(corpus, args, out, started, say, *, title, **options):
    """Run the study with the options both commands share, then :func:`_finish`."""
    from .experiments import run_study

    study = run_study(
        corpus,
        **_options(args, _STUDY_OPTIONS),
        max_iter=args.max_iter or None,
        out=out,
        progress=say,
        progress_bar=False if args.quiet else None,
        title=title,
        **options,
    )
    return _finish(study, out, started, say)


def run_demo(args):
    """The whole study offline on the embedded (simulated) corpus, then the report."""
    from .experiments import load_corpus

    started = time.perf_counter()
    _set_threads(args.threads)
    say = _printer(args.quiet)
    out = Path(args.out)
    corpus = load_corpus("synthetic", n_samples=args.n_samples,
                         random_state=args.random_state)
    say(f"Simulated corpus: {len(corpus.item_ids)} items, {corpus.X.shape[1]} features "
        f"(make_rater_perspectives, SIMULATED data); {args.folds} fold(s), "
        f"{args.max_epochs} epochs; configurations: {', '.join(args.configs)}.")
    return _study_and_report(
        corpus, args, out, started, say,
        title="fairrep demo: the two-stage study on the simulated corpus",
        stage2=_demo_stage2(args.configs),
    )


def _demo_stage2(configs):
    """Exp2 baselines of the demo: every method of the first configuration, and of the
    others only FairRep, the one their FairPer is compared with (the rest would repeat
    the first configuration's Exp2 at the demo's cost)."""
    from .experiments import STAGE1_METHODS
    from .experiments._configs import label

    return ([label(name, configs[0]) for name in STAGE1_METHODS]
            + [label("FairRep", config) for config in configs[1:]])


def run_reproduce(args):
    """The whole study on a real (or tabular) corpus, then the report."""
    from .experiments import load_corpus

    started = time.perf_counter()
    _set_threads(args.threads)
    say = _printer(args.quiet)
    out = Path(args.out)
    cache = args.cache_dir if args.cache_dir is not None else out / "feature-cache"
    rater_groups = _rater_groups(args.rater_groups, args.corpus)
    try:
        corpus = load_corpus(
            args.corpus,
            **_options(args, _LOAD_OPTIONS),
            cache_dir=cache,
            rater_groups=rater_groups,
            normalize_speakers=args.speaker_norm,
            progress_bar=False if args.quiet else None,
            ratings_file=args.ratings,
        )
    except (ValueError, FileNotFoundError, ImportError, TypeError) as error:
        raise _UsageError(f"cannot load --corpus {args.corpus}: {error}") from error
    say(f"Corpus {corpus.name}: {len(corpus.item_ids)} items, {corpus.X.shape[1]} "
        f"{corpus.feature_set} features.")
    return _study_and_report(
        corpus, args, out, started, say,
        title=f"fairrep reproduction: {corpus.name} ({corpus.feature_set} features)",
        methods=args.methods,
        device=args.device,
    )


def _positive(name, minimum=1):
    """An argparse type: an integer of at least ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer; got {text!r}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum}; got {value}")
        return value

    return parse


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--n-jobs must be an integer; got {text!r}")
    if value == 0:
        raise argparse.ArgumentTypeError("--n-jobs must not be 0 (use 1, N or -1)")
    return value


def _set_threads(threads):
    """Cap torch's CPU threads: small MLPs with batches of 32 gain little from
    several threads, and on a busy machine their spin-waiting costs a lot."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def _common_study_arguments(parser, *, folds, max_epochs, grid, threads, n_jobs=None):
    from .experiments._configs import CONFIGS

    parser.add_argument("--out", default="fairrep-report",
                        help="output folder of the report (default: %(default)s)")
    parser.add_argument("--folds", type=_positive("--folds"), default=folds,
                        help="number of held-out sessions to evaluate (default: "
                             + ("all" if folds is None else "%(default)s") + ")")
    parser.add_argument("--max-epochs", type=_positive("--max-epochs"), default=max_epochs,
                        help="training epochs of the neural methods, the most with early "
                             "stopping or --max-iter (default: %(default)s)")
    parser.add_argument("--early-stopping", action=argparse.BooleanOptionalAction,
                        default=True,
                        help="DNN, NRL, the FairRep variants and FairPer hold out 10%% of each fit's "
                             "items and stop after 3 epochs without a lower validation loss "
                             "(default: on; --no-early-stopping --max-iter 0 trains every "
                             "fit --max-epochs epochs)")
    parser.add_argument("--max-iter", type=_positive("--max-iter", 0), default=2000,
                        help="at most this many iterations (batches of 32) per fit: caps "
                             "the epochs on the largest training fold; 0: no cap (default: "
                             "%(default)s, four times the paper's 500)")
    parser.add_argument("--warm-start", action=argparse.BooleanOptionalAction,
                        default=False,
                        help="walk the alpha grid with warm starts in each inner fold "
                             "(default: off)")
    parser.add_argument("--inner-folds", type=_positive("--inner-folds", 2), default=2,
                        help="session-grouped inner folds of the alpha and lambda search "
                             "(default: %(default)s)")
    parser.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS),
                        metavar="CONFIG",
                        help="configurations run side by side: 'paper' (eq. (1) as printed, "
                             "gradient reversal of weight 1, alpha and lambda searched over "
                             "[0.01, 0.001] by F1 on S1) and 'fairrep' (fairrep's defaults, "
                             "labelled '(fairrep)') (default: %(default)s)")
    parser.add_argument("--grid", action=argparse.BooleanOptionalAction, default=grid,
                        help="--grid: fairrep's configuration grid-searches alpha (FairRep) "
                             "and lambda (FairPer) too, keeping the fairest alpha within 0.02 "
                             "F1 of the best; --no-grid: no search anywhere (the paper's "
                             "weights stay at 0.01); neither: only the paper's configuration "
                             "searches (default: "
                             + {None: "neither", True: "--grid"}[grid] + ")")
    parser.add_argument("--n-jobs", type=_n_jobs, default=n_jobs,
                        help="run the units (fold, method) in N parallel processes with one "
                             "torch thread each (-1: all cores) (default: "
                             + ("one process" if n_jobs is None else "%(default)s") + ")")
    parser.add_argument("--threads", type=_positive("--threads"), default=threads,
                        help="torch CPU threads (default: "
                             + ("torch's own" if threads is None else "%(default)s") + ")")
    parser.add_argument("--random-state", type=int, default=0,
                        help="seed (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print nothing")


def build_parser():
    """The argument parser of the ``fairrep`` command."""
    from .experiments import ADAPTER_METHODS, CORPORA, DEFAULT_METHODS, FEATURE_SETS

    parser = argparse.ArgumentParser(
        prog="fairrep",
        description="Fair representations and rater perspectives (Chien & Lee): the "
                    "two-stage study as a command.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="run the whole study offline on the embedded simulated corpus",
        description=(
            "Exp1 (Tables 1-2), Exp2 (Tables 3-4), Figs. 1, 2, 5/6, the trade-off and "
            "the paper's claims on the simulated multi-rater corpus "
            "(make_rater_perspectives), written as an HTML/Markdown/JSON report, under "
            "the paper's configuration and fairrep's side by side (fairrep's re-runs, in "
            "Exp2, only the FairRep its FairPer is compared with). No download, no data "
            "needed; a few minutes on 2 CPU cores."
        ),
    )
    _common_study_arguments(demo, folds=2, max_epochs=10, grid=None, threads=1, n_jobs=-1)
    demo.add_argument("--n-samples", type=_positive("--n-samples"), default=3000,
                      help="corpus size (default: %(default)s)")
    demo.set_defaults(handler=run_demo, subparser=demo)

    reproduce = commands.add_parser(
        "reproduce",
        help="run the whole study on a real corpus (or any ratings table)",
        description=(
            "The paper's study on IEMOCAP, CREMA-D, Emo-DB, POPQUORN (texts rated by "
            "raters of known gender), the simulated corpus or a long ratings table "
            "with precomputed features; finished fits are kept in "
            "OUT/partial and reused by a rerun with the same settings."
        ),
    )
    reproduce.add_argument("--corpus", required=True, choices=CORPORA,
                           help="the corpus to study")
    reproduce.add_argument("--data-home", type=Path, default=None,
                           help="the corpus folder (iemocap, crema-d, emodb, popquorn)")
    reproduce.add_argument("--features", choices=FEATURE_SETS, default=None,
                           help="front end: egemaps (default for audio corpora), "
                                "vq-wav2vec (--checkpoint), ssl (--model); for texts "
                                "tfidf (default for popquorn, no weights) or sentence "
                                "(--model); or precomputed (--features-file)")
    reproduce.add_argument("--features-file", type=Path, default=None,
                           help=".npy (rows in corpus order) or .csv/.parquet (first "
                                "column: item id) feature matrix")
    reproduce.add_argument("--checkpoint", type=Path, default=None,
                           help="fairseq vq-wav2vec checkpoint (--features vq-wav2vec)")
    reproduce.add_argument("--model", type=Path, default=None,
                           help="local wav2vec 2.0/HuBERT/WavLM folder (--features ssl) "
                                "or transformers/sentence-transformers text encoder "
                                "folder (--features sentence)")
    reproduce.add_argument("--cache-dir", type=Path, default=None,
                           help="feature cache (default: OUT/feature-cache)")
    reproduce.add_argument("--rater-groups", default=None,
                           help="iemocap: evaluator->group mapping (JSON/CSV file or "
                                "'E1=female,E2=male,...'); crema-d: pools, e.g. "
                                "'voice,audiovisual'; popquorn: the genders kept "
                                "(default 'Man,Woman')")
    reproduce.add_argument("--max-items", type=_positive("--max-items"), default=None,
                           help="study a seeded random subset of this many items")
    reproduce.add_argument("--n-samples", type=_positive("--n-samples"), default=3000,
                           help="size of the synthetic corpus (default: %(default)s)")
    reproduce.add_argument("--speaker-norm", action=argparse.BooleanOptionalAction,
                           default=True,
                           help="z-normalise the features per speaker (default: on)")
    reproduce.add_argument("--methods", nargs="+", default=None,
                           choices=list(DEFAULT_METHODS) + list(ADAPTER_METHODS),
                           metavar="METHOD",
                           help="methods to run (default: "
                                + " ".join(DEFAULT_METHODS) + "; also "
                                + " ".join(ADAPTER_METHODS) + ")")
    reproduce.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                           help="where to train and extract features (default: %(default)s)")
    table = reproduce.add_argument_group("--corpus table")
    table.add_argument("--ratings", type=Path, default=None,
                       help="long ratings table (CSV/TSV/Parquet), one row per rating")
    table.add_argument("--item-column", default="item", help="(default: %(default)s)")
    table.add_argument("--group-column", default="rater_group",
                       help="rater group column (default: %(default)s)")
    table.add_argument("--label-column", default="label", help="(default: %(default)s)")
    table.add_argument("--rater-column", default=None)
    table.add_argument("--truth-column", default=None,
                       help="ground truth per item (default: majority vote)")
    table.add_argument("--speaker-column", default=None)
    table.add_argument("--session-column", default=None)
    _common_study_arguments(reproduce, folds=None, max_epochs=100, grid=True, threads=None,
                            n_jobs=-1)
    reproduce.set_defaults(handler=run_reproduce, subparser=reproduce)
    return parser


_HOLDS = {"speech": "speech", "text": "texts", "table": "no audio"}


def _check_reproduce(args):
    """Combinations argparse cannot express, read from the corpus registry; the
    message names the arguments."""
    from .datasets import CORPUS_REGISTRY
    from .datasets._registry import TEXT_CORPORA, TEXT_FEATURE_SETS

    corpus, features = args.corpus, args.features
    entry = CORPUS_REGISTRY[corpus]
    if entry.needs_data_home and args.data_home is None:
        return f"--corpus {corpus} needs --data-home (the corpus folder)"
    if entry.needs_data_home and not args.data_home.exists():
        return f"--data-home {args.data_home} does not exist (expected the {corpus} folder)"
    if features is not None and not entry.feature_sets:
        return (f"--corpus {corpus} brings its own simulated features; leave out "
                f"--features (got {features})")
    if features is not None and features not in entry.feature_sets:
        if features in TEXT_FEATURE_SETS:
            return (f"--features {features} is a text front end, for --corpus "
                    f"{' or '.join(TEXT_CORPORA)} (got --corpus {corpus})")
        return (f"--corpus {corpus} holds {_HOLDS[entry.kind]}: use --features "
                f"{' or '.join(entry.feature_sets)} (got --features {features})")
    if entry.needs_rater_groups and args.rater_groups is None:
        return (f"--corpus {corpus} needs --rater-groups: map every evaluator to a group "
                "(no public source names their genders)")
    if corpus == "table":
        if args.ratings is None:
            return "--corpus table needs --ratings (a long ratings table)"
        if args.features_file is None:
            return "--corpus table needs --features-file (the feature matrix)"
    if features == "precomputed" and args.features_file is None:
        return "--features precomputed needs --features-file"
    if args.features_file is not None and features not in ("precomputed", None):
        return f"--features-file goes with --features precomputed (got --features {features})"
    if args.features_file is not None and features is None and entry.default_features != "precomputed":
        return "--features-file goes with --features precomputed"
    if features == "vq-wav2vec" and args.checkpoint is None:
        return "--features vq-wav2vec needs --checkpoint (a fairseq vq-wav2vec .pt file)"
    if features == "ssl" and args.model is None:
        return "--features ssl needs --model (a local wav2vec 2.0/HuBERT/WavLM folder)"
    if features == "sentence" and args.model is None:
        return ("--features sentence needs --model (a local transformers or "
                "sentence-transformers folder)")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            return "--device cuda was asked for but CUDA is not available (use cpu or auto)"
    return None


def main(argv=None):
    """Entry point of the ``fairrep`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if len(set(args.configs)) != len(args.configs):
        args.subparser.error(f"--configs names a configuration twice: {args.configs}")
    if args.command == "reproduce":
        problem = _check_reproduce(args)
        if problem is not None:
            args.subparser.error(problem)
    try:
        return args.handler(args)
    except _UsageError as error:
        args.subparser.error(str(error))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
