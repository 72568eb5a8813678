"""Run every benchmark script of this folder with modest settings, then summarise.

Each ``bench_*.py`` beside this file runs in its own process, in the output
folder (``--out``), with its output options pointed there: ``--csv`` /
``--out`` get ``<script>.csv``, ``--out-dir`` the folder itself and ``--plot``
``<script>.png``, whichever of them the script's ``--help`` lists. Its
standard output and error go to ``<script>.log``. A script that fails, or
runs past ``--timeout``, is reported and the next one runs. The summary
table (also written as ``summary.csv``) gives each script's status, time and
the files it wrote.

The modest settings per script (sizes, epochs, repeats) are in ``SETTINGS``;
an option a script does not list in its ``--help`` is dropped, so an older or
newer script still runs. A script without settings runs with its defaults.
``bench_emodb.py`` reads the real Emo-DB folder (``--emodb``, by default
``$FAIRREP_SHARED_DATA/emodb`` or ``../shared/data/emodb`` beside the
repository) and is skipped when it is absent.

Usage::

    python benchmarks/run_all.py --out bench-results
    python benchmarks/run_all.py --out bench-results --only bench_scaling bench_lfr
    python benchmarks/run_all.py --out bench-results --list
"""

import argparse
import csv
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent

#: Modest settings per script: a list of (option, value, ...) tuples.
SETTINGS = {
    "bench_baselines": [("--dataset", "german"), ("--epochs", "10")],
    "bench_lfr": [("--dataset", "german"), ("--repeats", "1")],
    "bench_fairrep_epoch": [("--n-samples", "2000"), ("--n-epochs", "1"),
                            ("--repeats", "1")],
    "bench_compiled_step": [("--n-samples", "2000"), ("--n-epochs", "1"),
                            ("--repeats", "1"), ("--wrappers", "cpp")],
    "bench_fairrep_tradeoff": [("--dataset", "german"), ("--epochs", "10"),
                               ("--alphas", "0", "0.1"),
                               ("--adversary-weights", "0", "1")],
    "bench_emodb": [("--max-epochs", "10")],
    "bench_scaling": [("--methods", "fairrep-sinkhorn", "dnn", "lfr"),
                      ("--n-samples", "1000", "10000"), ("--n-features", "88"),
                      ("--budget", "60")],
}


def _default_emodb():
    configured = os.environ.get("FAIRREP_SHARED_DATA")
    base = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    return base / "emodb"


def discover(only=None, skip=()):
    """The ``bench_*.py`` scripts of this folder, sorted, filtered by name."""
    scripts = sorted(HERE.glob("bench_*.py"))
    names = {path.stem for path in scripts}
    for name in list(only or []) + list(skip):
        if name.removesuffix(".py") not in names:
            raise SystemExit(
                f"no benchmark named {name!r}; expected one of {sorted(names)}."
            )
    if only:
        wanted = {name.removesuffix(".py") for name in only}
        scripts = [path for path in scripts if path.stem in wanted]
    unwanted = {name.removesuffix(".py") for name in skip}
    return [path for path in scripts if path.stem not in unwanted]


def script_options(script, timeout=60):
    """The long options a script's ``--help`` lists (empty if --help fails or hangs)."""
    try:
        result = subprocess.run(
            [sys.executable, str(script), "--help"], capture_output=True, text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return set()
    if result.returncode != 0:
        return set()
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", result.stdout))


def command_for(script, options, out_dir, args):
    """``(argv, skip_reason)`` of one script: settings plus output options."""
    name = script.stem
    chosen = list(SETTINGS.get(name, []))
    if name == "bench_emodb":
        emodb = Path(args.emodb) if args.emodb else _default_emodb()
        if not emodb.is_dir():
            return None, f"skipped: Emo-DB not found at {emodb}"
        chosen += [("--data-home", str(emodb)),
                   ("--cache-dir", str(out_dir / "emodb-feature-cache"))]
    chosen.append(("--threads", str(args.threads)))
    if "--csv" in options:
        chosen.append(("--csv", str(out_dir / f"{name}.csv")))
    elif "--out-dir" in options:
        chosen.append(("--out-dir", str(out_dir)))
    elif "--out" in options:
        chosen.append(("--out", str(out_dir / f"{name}.csv")))
    if "--plot" in options:
        chosen.append(("--plot", str(out_dir / f"{name}.png")))
    argv = [sys.executable, str(script)]
    for option, *values in chosen:
        if option in options:
            argv += [option, *values]
    return argv, None


def run_script(argv, log_path, cwd, timeout):
    """Run one script; ``(status, seconds)``, its output in ``log_path``."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(argv) + "\n")
        log.flush()
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=cwd, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
            return f"timeout after {timeout:g} s", time.perf_counter() - start
    seconds = time.perf_counter() - start
    return ("ok" if code == 0 else f"failed (exit code {code})"), seconds


def _last_line(path):
    lines = [line.strip() for line in Path(path).read_text(errors="replace").splitlines()
             if line.strip()]
    return lines[-1][:100] if lines else ""


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True,
                        help="folder for the CSVs, plots, logs and summary.csv")
    parser.add_argument("--only", nargs="+", default=None, metavar="SCRIPT",
                        help="run these scripts only (names with or without .py)")
    parser.add_argument("--skip", nargs="+", default=[], metavar="SCRIPT",
                        help="leave these scripts out")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds before a script is killed (default 3600)")
    parser.add_argument("--threads", type=int, default=1,
                        help="--threads given to the scripts that take it")
    parser.add_argument("--emodb", default=None,
                        help="Emo-DB folder for bench_emodb.py")
    parser.add_argument("--list", action="store_true",
                        help="print the commands and run nothing")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error(f"--timeout must be positive; got {args.timeout}.")
    if args.threads < 1:
        parser.error(f"--threads must be a positive integer; got {args.threads}.")

    out_dir = Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    scripts = discover(args.only, args.skip)
    rows = []
    for script in scripts:
        options = script_options(script, timeout=min(60.0, args.timeout))
        command, skip_reason = command_for(script, options, out_dir, args)
        if args.list:
            print(skip_reason or " ".join(command))
            continue
        if skip_reason:
            print(f"== {script.name}: {skip_reason}", flush=True)
            rows.append({"script": script.name, "status": skip_reason,
                         "seconds": "", "outputs": "", "last_line": ""})
            continue
        before = {path: path.stat().st_mtime for path in out_dir.iterdir()}
        log_path = out_dir / f"{script.stem}.log"
        print(f"== {script.name}: " + " ".join(command[1:]), flush=True)
        status, seconds = run_script(command, log_path, out_dir, args.timeout)
        outputs = sorted(
            path.name for path in out_dir.iterdir()
            if path != log_path and path.is_file()
            and before.get(path) != path.stat().st_mtime
        )
        print(f"   {status} in {seconds:.1f} s; wrote {', '.join(outputs) or 'nothing'}",
              flush=True)
        rows.append({"script": script.name, "status": status,
                     "seconds": f"{seconds:.1f}", "outputs": " ".join(outputs),
                     "last_line": _last_line(log_path)})
    if args.list:
        return 0

    width = max([len(row["script"]) for row in rows] + [6])
    print("\nsummary (logs in " + str(out_dir) + "):")
    print(f"{'script':{width}s}  {'status':28s}  {'seconds':>8s}  outputs")
    for row in rows:
        print(f"{row['script']:{width}s}  {row['status'][:28]:28s}  "
              f"{row['seconds']:>8s}  {row['outputs']}")
    with open(out_dir / "summary.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["script"])
        writer.writeheader()
        writer.writerows(rows)
    failed = [row for row in rows
              if not (row["status"] == "ok" or row["status"].startswith("skipped"))]
    print(f"{len(rows) - len(failed)} of {len(rows)} scripts ok or skipped; "
          f"{len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
