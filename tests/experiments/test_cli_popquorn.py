"""``fairrep reproduce --corpus popquorn``: the study on real texts and real rater gender."""

import json

import pandas as pd
import pytest

from tests.conftest import require_module
from fairrep.cli import main
from fairrep.experiments import load_corpus

FAST = ["--folds", "1", "--max-epochs", "1", "--no-grid", "--threads", "1", "--quiet"]


def _report(folder):
    for name in ("index.html", "results.md", "results.json"):
        assert (folder / name).is_file(), name
    return json.loads((folder / "results.json").read_text())


@pytest.mark.slow
def test_reproduce_popquorn_writes_the_whole_study(shared_data, tmp_path):
    out = tmp_path / "popquorn"
    code = main([
        "reproduce", "--corpus", "popquorn", "--data-home", str(shared_data / "popquorn"),
        "--max-items", "500", "--methods", "DNN", "FairRep", "FairPer", *FAST,
        "--out", str(out),
    ])
    assert code == 0
    document = _report(out)
    meta = document["meta"]
    assert meta["corpus"] == "popquorn" and meta["feature_set"] == "tfidf"
    assert meta["n_items"] == 500 and meta["n_features"] == 64
    assert meta["rater_groups"] == ["Man", "Woman"]
    assert meta["classes"] == ["not offensive", "offensive"]
    # the loader's item-disjoint folds are the sessions; the first one is held out
    assert meta["held_out"] == ["fold1"]
    assert meta["configs"] == ["paper", "fairrep"]
    # tied votes are left out of the study
    assert 400 < meta["n_items_used"] < 500

    tables = {table["key"]: table for table in document["tables"]}
    assert {"table1", "table2", "table3", "table4"} <= set(tables)
    assert tables["table1"]["columns"] == ["DNN", "FairRep", "FairRep (fairrep)"]
    assert {"FairPer", "FairPer (fairrep)"} <= set(tables["table3"]["columns"])
    assert {row["perspective"] for row in tables["table3"]["mean"]} == {"Man", "Woman"}
    for key in ("table1", "table2", "table3", "table4"):
        assert tables[key]["mean"] and tables[key]["std"], key
    figures = {figure["key"]: figure for figure in document["figures"]}
    assert set(figures) == {"fig1_agreement_all", "fig2_agreement_s2", "fig5_6_embeddings",
                            "tradeoff"}
    assert all((out / figure["file"]).is_file() for figure in figures.values())

    claims = document["claims"]
    assert len(claims) == 13
    assert all(set(claim["by_config"]) == {"paper", "fairrep"} for claim in claims)
    # a property of the ratings, not of the models: each gender's consensus matches the
    # truth on most texts of both classes (88.8 % at the lowest on all 1,500 texts)
    fig1 = next(c for c in claims if c["claim"].startswith("Fig. 1:"))
    assert fig1["holds_for"] == "both"
    # the paper's frustration claim names IEMOCAP's classes: untested here
    frustration = next(c for c in claims if "frustration" in c["claim"])
    assert frustration["holds"] is None

    markdown = (out / "results.md").read_text()
    assert "## Claims" in markdown and "Non-binary" in markdown
    for title in ("Table 1", "Table 2", "Table 3", "Table 4", "Fig. 1", "Fig. 2",
                  "Figs. 5/6"):
        assert title in markdown, title
    assert (out / "tables" / "stage2_f1.csv").is_file()
    f1 = pd.read_csv(out / "tables" / "stage1_f1.csv")
    assert set(f1["fold"]) == {0} and set(f1["set"]) == {"All", "S1", "S2"}
    assert f1["f1"].between(0, 1).all()


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    """A randomly initialised BERT with a small word-piece vocabulary, saved locally."""
    transformers = require_module("transformers")
    import torch

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "you", "a", "is", "to",
             "and", "of", "it", "that", "i", "not", "are", "this", "people", "what"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizer(vocab_file=str(folder / "vocab.txt"))
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, max_position_embeddings=64,
    )
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_reproduce_popquorn_sentence_encoder_and_its_cache(shared_data, tiny_encoder,
                                                           tmp_path):
    out = tmp_path / "sentence"
    args = [
        "reproduce", "--corpus", "popquorn", "--data-home", str(shared_data / "popquorn"),
        "--features", "sentence", "--model", str(tiny_encoder), "--max-items", "150",
        "--methods", "DNN", "FairRep", "--configs", "fairrep", *FAST, "--out", str(out),
    ]
    assert main(args) == 0
    meta = _report(out)["meta"]
    assert meta["feature_set"] == "sentence" and meta["n_features"] == 16
    assert len(list((out / "feature-cache").rglob("*.npy"))) == 150


def test_popquorn_keeps_non_binary_raters_when_asked(shared_data):
    corpus = load_corpus("popquorn", data_home=shared_data / "popquorn", max_items=300,
                         rater_groups=["Man", "Woman", "Non-binary"])
    assert corpus.meta["rater_groups"] == ["Man", "Woman", "Non-binary"]
    assert set(corpus.ratings["rater_group"]) == {"Man", "Woman", "Non-binary"}
    assert corpus.X.shape == (300, 64) and corpus.speakers is None
    assert set(corpus.sessions) == {f"fold{k}" for k in range(1, 6)}
    assert all(corpus.item_info.loc[corpus.item_ids, "fold"] == corpus.sessions)


@pytest.mark.parametrize("argv, message", [
    (["--data-home", "{missing}"], "--data-home"),
    (["--data-home", "{data}", "--features", "sentence"], "--features sentence needs --model"),
    (["--data-home", "{data}", "--features", "egemaps"], "--corpus popquorn holds texts"),
    ([], "--corpus popquorn needs --data-home"),
])
def test_reproduce_popquorn_bad_input(shared_data, tmp_path, capsys, argv, message):
    argv = [a.format(missing=tmp_path / "nowhere", data=shared_data / "popquorn")
            for a in argv]
    with pytest.raises(SystemExit) as raised:
        main(["reproduce", "--corpus", "popquorn", *argv, "--out", str(tmp_path / "o")])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_reproduce_text_features_need_a_text_corpus(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "--corpus", "emodb", "--data-home", str(tmp_path),
              "--features", "tfidf", "--out", str(tmp_path / "o")])
    assert "--features tfidf is a text front end" in capsys.readouterr().err


def test_load_corpus_popquorn_bad_input(shared_data):
    data = shared_data / "popquorn"
    with pytest.raises(ValueError, match="features must be one of .*'tfidf'"):
        load_corpus("popquorn", data_home=data, features="ssl")
    with pytest.raises(ValueError, match="features='sentence' needs model"):
        load_corpus("popquorn", data_home=data, features="sentence")
    with pytest.raises(ValueError, match="text front end"):
        load_corpus("crema-d", data_home=data, features="tfidf")
    with pytest.raises(FileNotFoundError, match="data_home"):
        load_corpus("popquorn", data_home=data / "nowhere")
