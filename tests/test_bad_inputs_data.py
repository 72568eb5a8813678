"""Bad audio and malformed corpus files, as a new user meets them.

Each case asserts the exception type and that the message names the
utterance or the file and line, and what was expected, or asserts the
documented handling (stereo mixed down, 8 kHz resampled). The estimator,
metric, routing and persistence faults are in test_bad_inputs.py.
"""

import shutil

import numpy as np
import pytest
import torch

from tests.conftest import REPO_ROOT, require_module
from fairrep.cli import main
from fairrep.datasets import load_crema_d, load_emodb, load_emozionalmente, load_iemocap
from fairrep.exceptions import CorpusFormatError
from fairrep.features import EGeMAPS, SSLFeatures, load_audio
from fairrep.features._audio import conv_min_samples

DATA = REPO_ROOT / "tests" / "data"
HEADER_LAYOUT = ("[start - end]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>"
                 "[valence, arousal, dominance]")


# ------------------------------------------------------------------- audio


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory):
    soundfile = require_module("soundfile")
    folder = tmp_path_factory.mktemp("audio")
    rng = np.random.RandomState(0)
    tone = (0.1 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
    (folder / "empty.wav").write_bytes(b"")
    soundfile.write(folder / "header.wav", np.zeros(0, dtype=np.float32), 16000)
    soundfile.write(folder / "ten.wav", (0.1 * rng.normal(size=10)).astype(np.float32), 16000)
    soundfile.write(folder / "stereo.wav", np.column_stack([tone, 0.5 * tone]), 16000,
                    subtype="FLOAT")
    soundfile.write(folder / "8k.wav", tone[::2], 8000, subtype="FLOAT")
    (folder / "text.wav").write_text("this is not audio\n" * 20)
    with_nan = tone.copy()
    with_nan[100] = np.nan
    soundfile.write(folder / "nan.wav", with_nan, 16000, subtype="FLOAT")
    return folder, tone


@pytest.fixture(scope="module")
def egemaps():
    require_module("opensmile")
    return EGeMAPS(min_duration=0, progress_bar=False).fit()


@pytest.fixture(scope="module")
def ssl(tmp_path_factory):
    transformers = require_module("transformers")
    folder = tmp_path_factory.mktemp("ssl")
    config = transformers.Wav2Vec2Config(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
        conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 4),
        num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2,
    )
    torch.manual_seed(0)
    transformers.AutoModel.from_config(config).save_pretrained(folder)
    return SSLFeatures(folder, min_duration=0, progress_bar=False).fit()


FEATURIZERS = ["egemaps", "ssl"]


@pytest.mark.parametrize("featurizer", FEATURIZERS)
@pytest.mark.parametrize(
    "name, error, message",
    [
        ("missing.wav", FileNotFoundError, r"audio file X\[0\] \('.*missing\.wav'\) does not exist"),
        ("empty.wav", ValueError,
         r"audio file X\[0\] \('.*empty\.wav'\) is empty \(0 bytes\); expected an audio file"),
        ("header.wav", ValueError, r"audio X\[0\] \('.*header\.wav'\) is empty \(0 samples\)"),
        ("text.wav", ValueError,
         r"could not read audio file X\[0\] \('.*text\.wav'\): .*Expected a format libsndfile"),
        ("nan.wav", ValueError, r"audio X\[0\] \('.*nan\.wav'\) contains NaN or infinite samples"),
        ("ten.wav", ValueError,
         r"audio X\[0\] \('.*ten\.wav'\) is too short for \w+: 10 samples at 16000 Hz "
         r"\(0\.6 ms\); it needs at least"),
    ],
    ids=["missing", "empty", "header-only", "non-audio", "nan-samples", "10-samples"],
)
def test_audio_file_faults(featurizer, name, error, message, audio_files, request):
    folder, _ = audio_files
    model = request.getfixturevalue(featurizer)
    with pytest.raises(error, match=message):
        model.transform([str(folder / name)])


@pytest.mark.parametrize("featurizer", FEATURIZERS)
def test_nan_samples_in_memory(featurizer, audio_files, request):
    _, tone = audio_files
    wave = tone.copy()
    wave[5] = np.inf
    with pytest.raises(ValueError, match=r"audio X\[1\] \(in-memory waveform\) contains NaN or infinite"):
        request.getfixturevalue(featurizer).transform([(tone, 16000), (wave, 16000)])


@pytest.mark.parametrize("featurizer", FEATURIZERS)
def test_stereo_is_mixed_down(featurizer, audio_files, request):
    folder, tone = audio_files
    model = request.getfixturevalue(featurizer)
    stereo = model.transform([str(folder / "stereo.wav")])
    mono = model.transform([(0.75 * tone, 16000)])  # the mean of the two channels
    np.testing.assert_allclose(stereo, mono, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("featurizer", FEATURIZERS)
def test_8_khz_is_resampled(featurizer, audio_files, request):
    folder, tone = audio_files
    model = request.getfixturevalue(featurizer)
    from_file = model.transform([str(folder / "8k.wav")])
    expected = model.transform([(load_audio((tone[::2], 8000), sample_rate=16000), 16000)])
    np.testing.assert_allclose(from_file, expected, rtol=1e-5, atol=1e-5)
    assert np.isfinite(from_file).all()


def test_egemaps_minimum_is_its_60_ms_window(egemaps, audio_files):
    _, tone = audio_files
    with pytest.raises(ValueError, match=r"needs at least 960 samples \(60\.0 ms\), the longest "
                                         r"analysis window of eGeMAPS"):
        egemaps.transform([(tone[:959], 16000)])
    assert np.isfinite(egemaps.transform([(tone[:960], 16000)])).all()


def test_ssl_minimum_is_one_frame_of_its_front_end(ssl, audio_files):
    _, tone = audio_files
    # kernels (10, 4), strides (5, 4): 10 + 3 * 5 = 25 samples
    assert ssl.min_samples_ == 25
    with pytest.raises(ValueError, match=r"24 samples at 16000 Hz .* needs at least 25 samples "
                                         r"\(1\.6 ms\), one frame of the model's CNN front end"):
        ssl.transform([(tone[:24], 16000)])
    assert np.isfinite(ssl.transform([(tone[:25], 16000)])).all()


def test_base_front_end_needs_25_ms():
    # wav2vec 2.0 / HuBERT / WavLM base: 400 samples, 25 ms at 16 kHz
    base = conv_min_samples(zip((10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2)),
                            norm_per_channel=True)
    assert base == 400
    # a per-channel norm after a long first stride needs two frames there
    assert conv_min_samples([(10, 5)], norm_per_channel=True) == 15


@pytest.mark.parametrize(
    "X, error, message",
    [
        ("a.wav", TypeError,
         r"X must be a sequence of utterances .* got a single str\. Wrap it in a list"),
        (np.zeros((2, 100)), TypeError,
         r"got a numeric array of shape \(2, 100\)\. Pass in-memory audio as"),
        ([], ValueError, r"X is empty: pass at least one utterance"),
        ([3.5], TypeError, r"X\[0\] must be an audio path .* got float"),
    ],
    ids=["single-path", "numeric-array", "empty", "number"],
)
def test_audio_collection_faults(X, error, message, egemaps):
    with pytest.raises(error, match=message):
        egemaps.transform(X)


# ------------------------------------------------------------------ corpora


@pytest.mark.parametrize(
    "loader, message",
    [
        (load_iemocap, r"no SessionN/dialog/EmoEvaluation/\*\.txt files under data_home="),
        (load_crema_d, r"tabulatedVotes\.csv not found in data_home=.*expected a copy of the CREMA-D"),
        (load_emodb, r"no \.wav files in data_home=.*expected Emo-DB's files named like"),
        (load_emozionalmente, r"users\.csv not found in .*expected the Emozionalmente release"),
    ],
    ids=["iemocap", "crema-d", "emodb", "emozionalmente"],
)
def test_loader_on_an_empty_folder(loader, message, tmp_path):
    with pytest.raises(FileNotFoundError, match=message):
        loader(tmp_path)


def test_loader_on_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"data_home='.*nowhere' is not a directory"):
        load_crema_d(tmp_path / "nowhere")


GOOD_EMO_EVALUATION = (
    "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
    "[1.0 - 2.0]\tSes01F_x_F000\tneu\t[2.5, 2.5, 2.5]\n"
    "C-E1:\tNeutral;\t()\nC-E2:\tNeutral;\t()\n\n"
    "[3.0 - 4.0]\tSes01F_x_M001\tang\t[1.5, 4.5, 4.5]\n"
    "C-E1:\tAnger;\t()\nC-E2:\tFrustration;\t()\n"
)


def _iemocap_with(tmp_path, text):
    folder = tmp_path / "Session1" / "dialog" / "EmoEvaluation"
    folder.mkdir(parents=True)
    (folder / "Ses01F_x.txt").write_text(text)
    return tmp_path


def test_iemocap_well_formed_fixture_loads(tmp_path):
    data = load_iemocap(_iemocap_with(tmp_path, GOOD_EMO_EVALUATION), classes=None)
    assert data.ratings.groupby("item").size().to_dict() == {
        "Ses01F_x_F000": 2, "Ses01F_x_M001": 2}


@pytest.mark.parametrize(
    "old, new, message",
    [
        # the second header lacks its closing ']': its ratings must not go to F000
        ("ang\t[1.5, 4.5, 4.5]", "ang\t[1.5, 4.5, 4.5",
         r"Ses01F_x\.txt:7: malformed turn header '\[3\.0 - 4\.0\]\\tSes01F_x_M001"),
        # the first header is broken: it is blamed, not the rating below it
        ("[1.0 - 2.0]\t", "[1.0 - 2.0\t", r"Ses01F_x\.txt:3: malformed turn header"),
        ("[3.0 - 4.0]", "3.0 - 4.0]", r"Ses01F_x\.txt:7: malformed turn header '3\.0 - 4\.0\]"),
        ("Ses01F_x_M001\tang\t[1.5, 4.5, 4.5]\n", "Ses01F_x_M0",
         r"Ses01F_x\.txt:7: malformed turn header"),
        ("[1.5, 4.5, 4.5]", "[1.5, high, 4.5]",
         r"Ses01F_x\.txt:7: expected \[valence, arousal, dominance\] \(three numbers\)"),
        ("\tang\t", "\tjoy\t", r"Ses01F_x\.txt:7: unknown emotion code 'joy'; expected one of"),
        ("C-E2:\tFrustration;\t()", "C-E1:\tFrustration;\t()",
         r"Ses01F_x\.txt:9: evaluator E1 rates turn Ses01F_x_M001 a second time "
         r"\(first on line 8\)"),
        ("C-E2:\tFrustration;\t()", "C-E2:\tFrustration;",
         r"Ses01F_x\.txt:9: cannot parse the categorical line .* "
         r"expected 'C-E2:<TAB>Neutral;<TAB>\(\)'"),
        ("Ses01F_x_M001", "Ses01F_x_F000",
         r"Ses01F_x\.txt:7: turn Ses01F_x_F000 has a second header \(the first is on line 3\)"),
    ],
    ids=["no-closing-bracket", "broken-first-header", "no-opening-bracket", "truncated-header",
         "vad-not-numbers", "unknown-code", "rated-twice", "truncated-rating", "duplicate-turn"],
)
def test_iemocap_malformed_file(old, new, message, tmp_path):
    assert old in GOOD_EMO_EVALUATION
    text = GOOD_EMO_EVALUATION.replace(old, new, 1)
    with pytest.raises(CorpusFormatError, match=message) as raised:
        load_iemocap(_iemocap_with(tmp_path, text), classes=None)
    if "malformed turn header" in message:
        assert str(raised.value).endswith(f"expected '{HEADER_LAYOUT}'.")


@pytest.mark.parametrize("text", ["", "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"],
                         ids=["empty", "comments-only"])
def test_iemocap_file_without_turns(text, tmp_path):
    with pytest.raises(CorpusFormatError) as raised:
        load_iemocap(_iemocap_with(tmp_path, text))
    message = str(raised.value)
    assert "Ses01F_x.txt: no turn header found (an empty or comments-only file)" in message
    assert HEADER_LAYOUT in message


def test_iemocap_rating_before_any_header(tmp_path):
    text = "C-E1:\tNeutral;\t()\n" + GOOD_EMO_EVALUATION
    with pytest.raises(CorpusFormatError, match=r"Ses01F_x\.txt:1: the categorical line .* comes "
                                                r"before any turn header"):
        load_iemocap(_iemocap_with(tmp_path, text))


@pytest.fixture(scope="module")
def crema_lines(shared_data):
    return (shared_data / "crema-d" / "tabulatedVotes.csv").read_text().splitlines()


def _crema_with(tmp_path, shared_data, votes=None, demographics=None):
    source = shared_data / "crema-d"
    shutil.copy(source / "VideoDemographics.csv", tmp_path / "VideoDemographics.csv")
    shutil.copy(source / "tabulatedVotes.csv", tmp_path / "tabulatedVotes.csv")
    if votes is not None:
        (tmp_path / "tabulatedVotes.csv").write_text(votes)
    if demographics is not None:
        (tmp_path / "VideoDemographics.csv").write_text(demographics)
    return tmp_path


@pytest.mark.real_data
@pytest.mark.parametrize(
    "case, message",
    [
        ("zero-bytes", r"tabulatedVotes\.csv is empty; expected CREMA-D's tabulatedVotes\.csv"),
        ("header-only", r"tabulatedVotes\.csv has a header but no rows; expected CREMA-D's"),
        ("cut-in-quotes", r"tabulatedVotes\.csv cannot be parsed \(truncated or malformed\?\)"),
        ("cut-row",
         r"tabulatedVotes\.csv:5: empty '\w+' in row 4 \(1 such row\(s\); a truncated file\?\)"),
        ("other-columns", r"tabulatedVotes\.csv lacks the columns \['fileName', 'A',"),
        ("demographics-empty", r"VideoDemographics\.csv is empty; expected CREMA-D's VideoDemographics"),
        ("demographics-columns", r"VideoDemographics\.csv lacks the columns \['ActorID', 'Age', 'Sex'"),
    ],
)
def test_crema_d_malformed_tables(case, message, tmp_path, shared_data, crema_lines):
    header, rows = crema_lines[0], crema_lines[1:4]
    votes = {
        "zero-bytes": "",
        "header-only": header + "\n",
        "cut-in-quotes": "\n".join([header, *rows, crema_lines[4][:30]]),
        "cut-row": "\n".join([header, *rows, crema_lines[4][:12]]),
        "other-columns": "a,b\n1,2\n",
    }.get(case)
    demographics = {"demographics-empty": "", "demographics-columns": "x,y\n1,2\n"}.get(case)
    with pytest.raises(CorpusFormatError, match=message):
        load_crema_d(_crema_with(tmp_path, shared_data, votes, demographics))


def _emodb_with(tmp_path, shared_data, perception):
    (tmp_path / "wav").mkdir()
    for name in ("03a01Wa.wav", "08a01Na.wav"):
        shutil.copy(shared_data / "emodb" / "wav" / name, tmp_path / "wav" / name)
    (tmp_path / "erkennung.txt").write_bytes(perception.encode("latin-1"))
    return tmp_path


@pytest.mark.real_data
@pytest.mark.parametrize(
    "perception, message",
    [
        ("", r"erkennung\.txt is empty; expected Emo-DB's perception test"),
        ("Nr.\tSatz\terk", r"erkennung\.txt lacks the columns \['erkannt', 'natuerlich'\]"),
        ("Nr.\tSatz\terkannt\tnatuerlich\n1\t03a01Wa.wav\t65,00\n",
         r"erkennung\.txt:2: empty 'natuerlich' in row 1"),
        ("Nr.\tSatz\terkannt\tnatuerlich\n1\t03a01Wa.wav\t65,00\thoch\n",
         r"erkennung\.txt:2: 'natuerlich' is 'hoch'; expected a percentage between 0 and 100"),
    ],
    ids=["empty", "cut-header", "cut-row", "not-a-number"],
)
def test_emodb_malformed_perception_test(perception, message, tmp_path, shared_data):
    with pytest.raises(CorpusFormatError, match=message):
        load_emodb(_emodb_with(tmp_path, shared_data, perception))


def _emozionalmente_with(tmp_path, name, text):
    copy = tmp_path / "emozionalmente"
    shutil.copytree(DATA / "emozionalmente", copy)
    (copy / "metadata" / name).write_text(text(copy / "metadata" / name))
    return copy


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("users.csv", lambda p: "", r"users\.csv is empty; expected Emozionalmente's users\.csv"),
        ("samples.csv", lambda p: "", r"samples\.csv is empty"),
        ("evaluations.csv", lambda p: "", r"evaluations\.csv is empty"),
        ("evaluations.csv", lambda p: p.read_text().splitlines()[0] + "\n",
         r"evaluations\.csv has a header but no rows"),
        ("evaluations.csv", lambda p: p.read_text()[:60],
         r"evaluations\.csv:2: empty 'evaluator' in row 1 .* a truncated file"),
        ("users.csv", lambda p: "\n".join(p.read_text().splitlines()[:3]) + "\n",
         r"users\.csv does not list \d+ of the (actors|evaluators) .*\(a truncated users\.csv\?\)"),
    ],
    ids=["users-empty", "samples-empty", "evaluations-empty", "evaluations-header-only",
         "evaluations-cut", "users-cut"],
)
def test_emozionalmente_malformed_tables(name, text, message, tmp_path):
    with pytest.raises(CorpusFormatError, match=message):
        load_emozionalmente(_emozionalmente_with(tmp_path, name, text))


def test_cli_reports_a_malformed_corpus_file_as_a_usage_error(tmp_path, capsys):
    data_home = _iemocap_with(tmp_path / "iemocap",
                              GOOD_EMO_EVALUATION.replace("[3.0 - 4.0]", "[3.0 - 4.0", 1))
    with pytest.raises(SystemExit) as raised:
        main(["reproduce", "--corpus", "iemocap", "--data-home", str(data_home),
              "--rater-groups", "E1=female,E2=male", "--features", "egemaps",
              "--out", str(tmp_path / "out"), "--quiet"])
    assert raised.value.code == 2
    assert "Ses01F_x.txt:7: malformed turn header" in capsys.readouterr().err


def test_cli_reports_an_empty_corpus_folder(tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["reproduce", "--corpus", "emodb", "--data-home", str(tmp_path),
              "--features", "egemaps", "--out", str(tmp_path / "out"), "--quiet"])
    assert raised.value.code == 2
    assert "no .wav files in data_home=" in capsys.readouterr().err




def test_cli_reports_an_empty_ratings_table(tmp_path, capsys):
    (tmp_path / "ratings.csv").write_text("")
    (tmp_path / "features.csv").write_text("clip,x0\nc1,0.5\n")
    with pytest.raises(SystemExit) as raised:
        main(["reproduce", "--corpus", "table", "--ratings", str(tmp_path / "ratings.csv"),
              "--features-file", str(tmp_path / "features.csv"),
              "--out", str(tmp_path / "out"), "--quiet"])
    assert raised.value.code == 2
    assert "ratings_file='" in (err := capsys.readouterr().err)
    assert "is empty or cut short" in err and "expected a table with a header row" in err
