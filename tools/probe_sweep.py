#!/usr/bin/env python
"""Score FairRep settings under the acceptance protocol of its corpus criteria.

Runs the protocol of ``tests/test_fairrep_corpus.py`` (the paper's Exp1,
section 3.1, on ``make_rater_perspectives(random_state=seed)``: each of the
5 sessions held out in turn, predictions pooled, 30 epochs) for one FairRep
setting and prints one JSON line with everything the three criteria of
issue "FairRep (stage 1)" read: the S2 parity gap per class (anger,
frustration, happiness, neutral, sadness), weighted F1 on S1, the accuracy
of a fresh logistic-regression probe reading the perspective group from
``transform`` on the held-out S2 items (``probe``) against the majority rate
(``chance``), and the same probe within each emotion (``within``) against
the within-emotion majority rate (``base``). The DNN's figures for seeds 0
and 1 are in ``docs/fairrep.rst``.

Usage::

    python tools/probe_sweep.py --seed 1 --alpha 1 --adversary-weight 30 \\
        --adversary-steps 3 [--early-stopping] [--threads 1]

One setting takes 1.5-3 minutes on one thread of a 2-core machine; run
several in parallel (``xargs -P 2``) to sweep.
"""

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0,
                        help="corpus and model seed (the test uses 0)")
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--adversary-weight", type=float, default=3.0)
    parser.add_argument("--adversary-steps", type=int, default=1)
    parser.add_argument("--early-stopping", action="store_true",
                        help="early_stopping=True with n_iter_no_change=5")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer; got {args.threads}.")

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)
    # the protocol is the test module's own, not a copy of it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import test_fairrep_corpus as protocol

    from fairrep.representation import FairRep

    settings = {
        "alpha": args.alpha,
        "adversary_weight": args.adversary_weight,
        "adversary_steps": args.adversary_steps,
    }
    if args.early_stopping:
        settings.update(early_stopping=True, n_iter_no_change=5)
    data = protocol._corpus(args.seed)
    start = time.perf_counter()
    result = protocol._evaluate(
        data,
        lambda: FairRep(max_epochs=protocol.EPOCHS, random_state=args.seed, **settings),
        uses_groups=True,
    )
    line = {"seed": args.seed, **settings,
            "parity": [round(float(v), 3) for v in result["parity"]]}
    for key, name in [("f1_s1", "f1_s1"), ("probe", "probe"), ("chance", "chance"),
                      ("within_class_probe", "within"),
                      ("within_class_majority", "base")]:
        line[name] = round(float(result[key]), 3)
    line["seconds"] = round(time.perf_counter() - start)
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
