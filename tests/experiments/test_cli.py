"""The command line: ``fairrep demo`` and ``fairrep reproduce`` end to end."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import require_module
from fairrep.cli import main
from fairrep.features import EGeMAPS

FAST = ["--folds", "1", "--max-epochs", "1"]


def _report(folder):
    assert (folder / "index.html").is_file() and (folder / "results.md").is_file()
    return json.loads((folder / "results.json").read_text())


def test_demo_writes_the_whole_study_and_prints_its_progress(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--n-samples", "500", *FAST, "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "FairPer (Exp2) fitted" in printed
    assert "Claims of the paper, checked on this run:" in printed
    assert "[holds for: " in printed
    assert "      paper    " in printed and "      fairrep  " in printed
    assert "Wall time:" in printed and str((out / "index.html").resolve()) in printed
    document = _report(out)
    keys = {table["key"] for table in document["tables"]}
    assert {"table1", "table2", "table3", "table4"} <= keys
    columns = {table["key"]: table["columns"] for table in document["tables"]}
    paper = ["DNN", "LFR", "NRL", "FairRepG", "FairRepF", "FairRep"]
    fairrep = ["NRL (fairrep)", "FairRepG (fairrep)", "FairRepF (fairrep)", "FairRep (fairrep)"]
    assert columns["table1"] == paper + fairrep
    # Exp2 repeats of fairrep's configuration only the FairRep its FairPer is compared with
    assert set(columns["table3"]) == {*paper, "FairPer", "FairRep (fairrep)",
                                      "FairPer (fairrep)", "FairRep (gender-free)",
                                      "FairRep (fairrep, gender-free)"}
    # the paper's configuration searched its weights; fairrep's kept its defaults
    grid = pd.read_csv(out / "tables" / "grid.csv")
    assert set(grid["method"]) == {"NRL", "FairRepF", "FairRep", "FairPer"}
    assert document["meta"]["configs"] == ["paper", "fairrep"]
    assert document["meta"]["inner_folds"] == 2
    assert len(document["claims"]) == 13
    assert all(set(c["by_config"]) == {"paper", "fairrep"} for c in document["claims"])
    assert {f["key"] for f in document["figures"]} >= {"fig1_agreement_all", "fig5_6_embeddings"}
    assert all((out / f["file"]).is_file() for f in document["figures"])
    assert (out / "tables" / "stage1_f1.csv").is_file()
    assert "SIMULATED" in (out / "results.md").read_text()


@pytest.mark.slow
def test_reproduce_crema_d_vote_tables(shared_data, tmp_path):
    votes = pd.read_csv(shared_data / "crema-d" / "tabulatedVotes.csv",
                        usecols=["fileName"])
    clips = pd.unique(votes["fileName"])
    rng = np.random.RandomState(0)
    features = pd.DataFrame(rng.normal(size=(len(clips), 8)),
                            columns=[f"f{i}" for i in range(8)])
    features.insert(0, "clip", clips)
    path = tmp_path / "features.csv"
    features.to_csv(path, index=False)
    out = tmp_path / "crema"
    code = main([
        "reproduce", "--corpus", "crema-d", "--data-home", str(shared_data / "crema-d"),
        "--features", "precomputed", "--features-file", str(path), "--max-items", "700",
        "--methods", "DNN", "FairRep", "FairPer", "--no-grid", *FAST,
        "--out", str(out), "--quiet",
    ])
    assert code == 0
    document = _report(out)
    assert document["meta"]["corpus"] == "crema-d"
    assert document["meta"]["rater_groups"] == ["audiovisual", "voice"]
    table3 = next(t for t in document["tables"] if t["key"] == "table3")
    assert {row["perspective"] for row in table3["mean"]} == {"audiovisual", "voice"}
    # 91 actors packed into 5 speaker-disjoint folds, the first one evaluated
    assert document["meta"]["held_out"] == ["fold1"]


def test_reproduce_emodb_egemaps_reuses_the_feature_cache(shared_data, tmp_path, monkeypatch):
    require_module("opensmile")
    out = tmp_path / "emodb"
    args = [
        "reproduce", "--corpus", "emodb", "--data-home", str(shared_data / "emodb"),
        "--features", "egemaps", "--max-items", "40", "--methods", "DNN", "FairRep",
        "--no-grid", *FAST, "--out", str(out), "--quiet",
    ]
    assert main(args) == 0
    document = _report(out)
    assert document["meta"]["n_features"] == 88 and document["meta"]["n_items"] == 40
    assert document["meta"]["sensitive_group"] == "speaker_sex"
    assert not {"table3", "table4"} & {t["key"] for t in document["tables"]}
    assert any("Exp2" in note for note in document["notes"])
    assert len(list((out / "feature-cache").rglob("*.npy"))) == 40

    extracted = []
    original = EGeMAPS._extract

    def counting(self, waveform):
        extracted.append(1)
        return original(self, waveform)

    monkeypatch.setattr(EGeMAPS, "_extract", counting)
    assert main(args) == 0
    assert extracted == []  # every utterance came from the cache
    # DNN, FairRep and FairRep (fairrep)
    assert json.loads((out / "results.json").read_text())["meta"]["results_reused"] == 3


def test_reproduce_table_corpus(tmp_path):
    rng = np.random.RandomState(1)
    n_items = 240
    items = [f"clip{i:03d}" for i in range(n_items)]
    truth = rng.choice(["calm", "angry", "sad"], size=n_items)
    other = rng.choice(["calm", "angry", "sad"], size=n_items)
    rows = []
    for i, item in enumerate(items):
        # on disputed items one pool perceives the acted emotion, the other not
        disputed = rng.rand() < 0.5
        wrong_pool = "A" if rng.rand() < 0.5 else "B"
        for pool in ("A", "B"):
            label = other[i] if disputed and pool == wrong_pool else truth[i]
            for rater in range(3):
                rows.append((item, f"{pool}{rater}", pool, label, truth[i], f"spk{i % 8}"))
    ratings = pd.DataFrame(rows, columns=["clip", "rater", "pool", "emotion", "acted",
                                          "speaker"])
    ratings_path = tmp_path / "ratings.csv"
    ratings.to_csv(ratings_path, index=False)
    X = rng.normal(size=(n_items, 6)) + pd.get_dummies(truth).to_numpy(float) @ rng.normal(
        size=(3, 6))
    features = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    features.insert(0, "clip", items)
    features_path = tmp_path / "features.csv"
    features.iloc[::-1].to_csv(features_path, index=False)  # matched by id, not order
    out = tmp_path / "table"
    code = main([
        "reproduce", "--corpus", "table", "--ratings", str(ratings_path),
        "--features-file", str(features_path), "--item-column", "clip",
        "--group-column", "pool", "--label-column", "emotion", "--rater-column", "rater",
        "--truth-column", "acted", "--speaker-column", "speaker", "--methods", "DNN", "FairRep", "FairPer",
        "--no-grid", *FAST, "--out", str(out), "--quiet",
    ])
    assert code == 0
    document = _report(out)
    assert document["meta"]["rater_groups"] == ["A", "B"]
    assert document["meta"]["n_items"] == n_items
    assert {"table1", "table2", "table3", "table4"} <= {t["key"] for t in document["tables"]}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--corpus", "emodb", "--features", "egemaps"], "--corpus emodb needs --data-home"),
        (["--corpus", "crema-d", "--data-home", ".", "--features", "precomputed"],
         "--features precomputed needs --features-file"),
        (["--corpus", "synthetic", "--features", "egemaps"], "brings its own simulated"),
        (["--corpus", "table", "--features-file", "f.csv"], "--corpus table needs --ratings"),
        (["--corpus", "emodb", "--data-home", ".", "--features", "vq-wav2vec"],
         "needs --checkpoint"),
        (["--corpus", "emodb", "--data-home", ".", "--features", "ssl"], "needs --model"),
        (["--corpus", "iemocap", "--data-home", ".", "--features", "egemaps"],
         "needs --rater-groups"),
        (["--corpus", "emodb", "--data-home", ".", "--features-file", "f.npy"],
         "goes with --features precomputed"),
        (["--corpus", "synthetic", "--folds", "0"], "--folds must be >= 1"),
        (["--corpus", "synthetic", "--inner-folds", "1"], "--inner-folds must be >= 2"),
        (["--corpus", "synthetic", "--methods", "SVM"], "invalid choice"),
        (["--corpus", "synthetic", "--n-jobs", "0"], "--n-jobs must not be 0"),
    ],
)
def test_reproduce_argument_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["reproduce", *argv, "--out", "never-written"])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_reproduce_reports_loader_errors_as_usage_errors(shared_data, tmp_path, capsys):
    # CREMA-D's audio is not in the shared copy: eGeMAPS cannot run on it
    with pytest.raises(SystemExit) as raised:
        main(["reproduce", "--corpus", "crema-d", "--data-home",
              str(shared_data / "crema-d"), "--features", "egemaps", "--max-items", "20",
              "--out", str(tmp_path), "--quiet"])
    assert raised.value.code == 2
    assert "have no audio file" in capsys.readouterr().err


def test_demo_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--folds", "0"])
    assert "--folds must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--configs", "mine"])
    assert "invalid choice: 'mine'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--configs", "paper", "paper"])
    assert "--configs names a configuration twice" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_with_one_configuration_and_quiet(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--n-samples", "300", *FAST, "--configs", "fairrep", "--no-grid",
                 "--out", str(out), "--quiet"])
    assert code == 0 and capsys.readouterr().out == ""
    document = _report(out)
    table1 = next(t for t in document["tables"] if t["key"] == "table1")
    assert table1["columns"] == ["DNN", "LFR", "NRL (fairrep)", "FairRepG (fairrep)",
                                 "FairRepF (fairrep)", "FairRep (fairrep)"]
    assert document["meta"]["configs"] == ["fairrep"] and document["meta"]["search"] == {}


def test_rater_groups_text_becomes_a_mapping_or_names(tmp_path):
    from fairrep.cli import _rater_groups

    as_json = tmp_path / "groups.json"
    as_json.write_text('{"E1": "female", "E2": "male"}')
    as_csv = tmp_path / "groups.csv"
    as_csv.write_text("E1, female\nE2 ,male\n")
    expected = {"E1": "female", "E2": "male"}
    assert _rater_groups(str(as_json), "iemocap") == expected
    assert _rater_groups(str(as_csv), "iemocap") == expected
    assert _rater_groups("E1=female, E2=male", "iemocap") == expected
    assert _rater_groups("Man,Woman,Non-binary", "popquorn") == ["Man", "Woman", "Non-binary"]
    assert _rater_groups(None, "popquorn") is None


@pytest.mark.parametrize("text, message", [
    ("female,male", "--rater-groups for iemocap must map evaluators"),
    ("{one_column}", "must have two columns"),
])
def test_rater_groups_errors_name_the_argument(text, message, tmp_path, capsys):
    one_column = tmp_path / "one.csv"
    one_column.write_text("E1\nE2\n")
    with pytest.raises(SystemExit) as raised:
        main(["reproduce", "--corpus", "iemocap", "--data-home", str(tmp_path),
              "--features", "egemaps", "--rater-groups", text.format(one_column=one_column),
              "--out", str(tmp_path / "out"), "--quiet"])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_load_corpus_takes_structured_rater_groups_only():
    from fairrep.experiments import load_corpus

    with pytest.raises(ValueError, match="rater_groups must be a mapping .* not a string"):
        load_corpus("synthetic", n_samples=200, rater_groups="Man,Woman")
