"""The gallery scripts in examples/ run end to end.

Each script is run as a user would run it, ``python examples/plot_x.py``, in
a fresh process from an empty working directory with a non-interactive
matplotlib backend; it must exit 0 within the time limit and print what it
promises. The scripts assert their own invariants (e.g. that switching
FairPer's perspective changes nothing but the predictions).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_module

# each example trains the models it shows (10-30 s each)
pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Each script takes 5-35 s on two busy cores (the POPQUORN search about a
# minute of CPU); the limit leaves room for a slower machine without letting a
# hung script stall the suite.
TIMEOUT_S = 240

# What each script must print (a line a reader relies on).
EXPECTED_OUTPUT = {
    "plot_quick_start.py": "mean parity gap over emotions:",
    "plot_perspectives.py": "perspectives: ['female', 'male', 'all']",
    "plot_grid_search_fairness.py": "chosen: {",
    "plot_tabular_dropin.py": "FairRep -> LogisticRegression",
    "plot_speech_pipeline.py": "feature matrix: (",
    "plot_tolerance.py": "chosen: alpha = ",
    "plot_popquorn_text.py": "groups seen by the refitted FairRep: ['Man', 'Woman']",
}


def _run(script, cwd, *, timeout=TIMEOUT_S, **extra_env):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", **extra_env}
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{script} exited with {completed.returncode}\n--- stdout ---\n"
        f"{completed.stdout[-3000:]}\n--- stderr ---\n{completed.stderr[-3000:]}"
    )
    assert EXPECTED_OUTPUT[script] in completed.stdout, completed.stdout[-3000:]
    return completed.stdout


def test_every_example_is_listed():
    scripts = sorted(path.name for path in EXAMPLES.glob("plot_*.py"))
    assert scripts == sorted(EXPECTED_OUTPUT)
    assert (EXAMPLES / "README.rst").is_file()  # sphinx-gallery's header


@pytest.mark.parametrize(
    "script",
    ["plot_quick_start.py", "plot_perspectives.py", "plot_grid_search_fairness.py"],
)
def test_simulated_corpus_example_runs(script, tmp_path):
    _run(script, tmp_path)


def test_tabular_example_runs(tmp_path):
    require_module("dalex")
    _run("plot_tabular_dropin.py", tmp_path)


def test_tolerance_example_runs(tmp_path):
    require_module("dalex")
    _run("plot_tolerance.py", tmp_path)


def test_speech_example_runs_on_synthetic_clips(tmp_path):
    require_module("opensmile")
    require_module("soundfile")
    empty = tmp_path / "no-shared-data"
    empty.mkdir()
    # an empty data folder makes the script write and use its synthetic clips
    output = _run("plot_speech_pipeline.py", tmp_path, FAIRREP_SHARED_DATA=str(empty))
    assert "108 utterances from synthetic clips" in output
    assert "feature matrix: (108, 88)" in output


@pytest.mark.real_data
def test_speech_example_runs_on_emodb(tmp_path, shared_data):
    require_module("opensmile")
    output = _run(
        "plot_speech_pipeline.py", tmp_path, FAIRREP_SHARED_DATA=str(shared_data)
    )
    # anger, happiness and sadness, at most six takes per actor: 60 + 52 + 50 files
    assert "162 utterances from Emo-DB" in output
    assert "feature matrix: (162, 88)" in output


@pytest.mark.real_data
def test_popquorn_example_runs(tmp_path, shared_data):
    # about a minute of CPU, three on two cores shared with other work
    output = _run("plot_popquorn_text.py", tmp_path, timeout=2 * TIMEOUT_S,
                  FAIRREP_SHARED_DATA=str(shared_data))
    assert "1412 texts: {'S1': 908, 'S2': 504}" in output
    assert "majority class: {'f1': 0.465, 'accuracy': 0.612, 'parity_gap': 0.0}" in output


def test_popquorn_example_stops_without_data(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / "plot_popquorn_text.py")], cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg", "FAIRREP_SHARED_DATA": str(tmp_path)},
        capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
    )
    assert completed.returncode == 1
    assert "POPQUORN not found" in completed.stderr
    assert "Traceback" not in completed.stderr
