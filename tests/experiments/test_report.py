"""The study report (HTML, Markdown, JSON, PNG), its figures, a real-browser check."""

import base64
import importlib.util
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import require_module
from fairrep.datasets import make_rater_perspectives
from fairrep.experiments import (
    plot_consensus_agreement,
    plot_embeddings,
    plot_tradeoff,
    write_report,
)
from fairrep.experiments._figures import _subsample_rows
from fairrep.raters import consensus_agreement, perspective_split

require_module("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TITLE = "Stage 1 <script>alert('x')</script> & friends"
METHODS = ["DNN", "NRL", "FairRep"]
CLASSES = ["neutral", "anger", "sadness"]
SETS = ["All", "S1", "S2"]


def _browser_tool():
    spec = importlib.util.spec_from_file_location(
        "check_report_browser", REPO_ROOT / "tools" / "check_report_browser.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def split():
    corpus = make_rater_perspectives(600, random_state=0)
    return perspective_split(corpus.ratings)


@pytest.fixture(scope="module")
def agreement(split):
    return {
        "Fig. 1: all data": consensus_agreement(split),
        "Fig. 2: non-consensus data (S2)": consensus_agreement(split, subset="S2"),
    }


@pytest.fixture(scope="module")
def embedding_data():
    rng = np.random.RandomState(0)
    groups = np.repeat(["male", "female"], 60)
    shifted = rng.normal(size=(120, 6)) + 3.0 * (groups == "male")[:, None]
    mixed = rng.normal(size=(120, 4))
    return {"DNN": shifted, "FairRep": mixed}, groups


@pytest.fixture(scope="module")
def tables():
    rng = np.random.RandomState(1)
    index = pd.MultiIndex.from_product([CLASSES, SETS], names=["class", "set"])
    f1_mean = pd.DataFrame(rng.uniform(0.5, 0.9, (9, 3)), index=index, columns=METHODS)
    f1_std = pd.DataFrame(rng.uniform(0.0, 0.05, (9, 3)), index=index, columns=METHODS)
    f1_mean.iloc[4, 1] = np.nan  # (anger, S1) of NRL
    parity = pd.DataFrame(
        [[0.65, 0.33, 0.35], [0.39, 0.20, 0.19], [0.17, 0.07, 0.09]],
        index=pd.Index(CLASSES, name="class"),
        columns=METHODS,
    )
    return [
        {
            "key": "table1",
            "title": "Table 1: weighted F1 <b>per</b> emotion",
            "caption": "Fold mean ± std; S1 | S2 sets.",
            "mean": f1_mean,
            "std": f1_std,
        },
        {
            "key": "table2",
            "title": "Table 2: statistical parity on S2",
            "caption": "Lower is fairer.",
            "mean": parity,
            "std": None,
            "decimals": 2,
            "lower_is_better": True,
        },
    ]


@pytest.fixture(scope="module")
def study(tables, agreement, embedding_data):
    embeddings, groups = embedding_data
    return {
        "title": TITLE,
        "meta": {
            "corpus": "make_rater_perspectives(600)",
            "n_items": np.int64(600),
            "folds": 5,
            "methods": METHODS,
            "seconds": np.float64(1.5),
            "versions": {"numpy": np.__version__},
        },
        "tables": tables,
        "figures": [
            {
                "key": "fig1_2",
                "title": "Figs. 1 and 2",
                "caption": "Consensus of each rater group vs the truth.",
                "figure": plot_consensus_agreement(agreement),
            },
            {
                "key": "fig5_6",
                "title": "Figs. 5 and 6",
                "caption": "t-SNE of the representations <i>by</i> perspective.",
                "figure": plot_embeddings(
                    embeddings, groups, max_points=80, perplexity=10
                ),
            },
        ],
        "claims": [
            {
                "claim": "FairRep is fairer than DNN",
                "holds": True,
                "evidence": "0.35 < 0.65",
            },
            {"claim": "F1 on S1 is kept", "holds": False, "evidence": "drops 3 points"},
            {"claim": "Embeddings mix", "holds": None, "evidence": "not measured"},
        ],
        "notes": ["NRL predicted one class in fold 2 <degenerate>.", "Second note."],
    }


@pytest.fixture(scope="module")
def report(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "nested" / "out"
    return out, write_report(study, out)


class _Page(HTMLParser):
    """Tables (class, rows, cells), images and raw start tags of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.images, self.tags = [], [], []
        self._cell = None
        self._bold = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "table":
            self.tables.append({"class": attrs.get("class"), "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th"):
            self._cell = {"tag": tag, "text": "", "bold": False}
        elif tag == "strong" and self._cell is not None:
            self._cell["bold"] = True
        elif tag == "img":
            self.images.append(attrs)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


@pytest.fixture(scope="module")
def page(report):
    _, paths = report
    parser = _Page()
    parser.feed(paths["html"].read_text(encoding="utf-8"))
    parser.close()
    return parser


# ---------------------------------------------------------------- report files


def test_files_exist(report):
    out, paths = report
    assert paths["html"] == out / "index.html" and paths["html"].is_file()
    assert paths["markdown"] == out / "results.md" and paths["markdown"].is_file()
    assert paths["json"] == out / "results.json" and paths["json"].is_file()
    assert paths["figures"] == [
        out / "figures" / "fig1_2.png",
        out / "figures" / "fig5_6.png",
    ]
    for path in paths["figures"]:
        assert path.read_bytes().startswith(PNG_MAGIC)


def test_html_tables_and_rows(page):
    assert [t["class"] for t in page.tables] == ["claims", "results", "results"]
    claims, table1, table2 = page.tables
    assert len(claims["rows"]) == 1 + 3
    assert len(table1["rows"]) == 1 + 9
    assert len(table2["rows"]) == 1 + 3
    assert [c["text"] for c in table1["rows"][0]] == ["class", "set"] + METHODS
    statuses = [row[0]["text"] for row in claims["rows"][1:]]
    assert statuses == ["✔ holds", "✘ does not hold", "– not tested"]
    # No external resource: nothing is fetched by the page.
    assert "link" not in page.tags and "script" not in page.tags


def test_wide_tables_scroll_inside_their_box(study, tmp_path):
    # Table 3 of a two-configuration study has some fifteen method columns: on a
    # 1280-pixel page it must scroll inside its own box, not run off the page.
    columns = [f"Method {i} (fairrep, gender-free)" for i in range(16)]
    wide = pd.DataFrame(np.full((2, len(columns)), 55.5), columns=columns,
                        index=pd.Index(["anger", "sadness"], name="class"))
    entry = {"key": "table3", "title": "Table 3", "caption": "Wide.", "mean": wide,
             "std": wide / 10}
    paths = write_report({**study, "tables": [*study["tables"], entry]}, tmp_path)
    text = paths["html"].read_text(encoding="utf-8")
    css = re.search(r"<style>(.*)</style>", text, re.S).group(1)
    rule = re.search(r"div\.table-scroll\s*\{([^}]*)\}", css).group(1)
    assert "overflow-x: auto" in rule and "max-width: 100%" in rule
    # every table, the claims included, sits directly in such a box
    n_tables = text.count("<table ")
    assert n_tables == 1 + len(study["tables"]) + 1
    assert len(re.findall(r'<div class="table-scroll"><table ', text)) == n_tables
    assert text.count("</table></div>") == n_tables


def test_html_cells(page, tables):
    table1, table2 = page.tables[1], page.tables[2]
    mean, std = tables[0]["mean"], tables[0]["std"]
    first = table1["rows"][1]
    assert first[0]["text"] == "neutral" and first[1]["text"] == "All"
    assert first[2]["text"] == f"{mean.iloc[0, 0]:.3f} ± {std.iloc[0, 0]:.3f}"
    # Repeated outer labels are left blank, as in the paper's tables.
    assert table1["rows"][2][0]["text"] == "" and table1["rows"][2][1]["text"] == "S1"
    assert table1["rows"][5][3]["text"] == "–"  # the NaN cell, (anger, S1) of NRL
    for i, row in enumerate(table1["rows"][1:]):
        bold = [c["tag"] == "td" and c["bold"] for c in row][2:]
        assert bold == list(mean.iloc[i].round(3) == mean.iloc[i].round(3).max())
    # Lower is better in Table 2: the smallest value of each row is bold.
    bold = [[c["text"] for c in row if c["bold"]] for row in table2["rows"][1:]]
    assert bold == [["0.33"], ["0.19"], ["0.07"]]


def test_html_images_are_the_pngs(page, report):
    _, paths = report
    assert len(page.images) == 2
    for image, path in zip(page.images, paths["figures"]):
        prefix = "data:image/png;base64,"
        assert image["src"].startswith(prefix)
        png = base64.b64decode(image["src"][len(prefix) :], validate=True)
        assert png.startswith(PNG_MAGIC)
        assert png == path.read_bytes()
        assert image["alt"].startswith("Figs.")


def test_escaping(report):
    _, paths = report
    text = paths["html"].read_text(encoding="utf-8")
    assert (
        "<script>" not in text and "<b>per</b>" not in text and "<i>by</i>" not in text
    )
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; friends" in text
    assert "&lt;degenerate&gt;" in text
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "<script>" not in markdown and "<b>" not in markdown
    # JSON keeps the text as given.
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["title"] == TITLE


def _frame(records, names, columns):
    frame = pd.DataFrame.from_records(records).set_index(names)
    return frame[columns].astype(float)


def test_json_round_trips_the_numbers(report, tables, study):
    _, paths = report
    document = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert document["meta"]["n_items"] == 600 and document["meta"]["seconds"] == 1.5
    assert [c["holds"] for c in document["claims"]] == [True, False, None]
    assert document["notes"] == study["notes"]
    assert [f["file"] for f in document["figures"]] == [
        "figures/fig1_2.png",
        "figures/fig5_6.png",
    ]
    first, second = document["tables"]
    assert first["index"] == ["class", "set"] and first["columns"] == METHODS
    assert first["mean"][4]["NRL"] is None  # NaN is written as null
    pd.testing.assert_frame_equal(
        _frame(first["mean"], ["class", "set"], METHODS), tables[0]["mean"]
    )
    pd.testing.assert_frame_equal(
        _frame(first["std"], ["class", "set"], METHODS), tables[0]["std"]
    )
    assert second["std"] is None and second["lower_is_better"] is True
    pd.testing.assert_frame_equal(
        _frame(second["mean"], "class", METHODS), tables[1]["mean"]
    )


def test_markdown_has_the_tables(report, tables):
    _, paths = report
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert markdown.startswith("# Stage 1 &lt;script&gt;")
    assert "| class | set | DNN | NRL | FairRep |" in markdown
    assert "| :--- | :--- | ---: | ---: | ---: |" in markdown
    mean, std = tables[0]["mean"], tables[0]["std"]
    assert (
        f"| neutral | All | {mean.iloc[0, 0]:.3f} ± {std.iloc[0, 0]:.3f} |" in markdown
    )
    assert "| neutral | 0.65 | **0.33** | 0.35 |" in markdown
    assert "Fold mean ± std; S1 | S2 sets." in markdown
    assert "![Figs. 1 and 2](figures/fig1_2.png)" in markdown
    assert "| ✅ holds | FairRep is fairer than DNN | 0.35 &lt; 0.65 |" in markdown
    assert markdown.count("\n| ") >= 2 + 9 + 2 + 3 + 2 + 3


def test_same_input_same_bytes(study, report, tmp_path):
    _, first = report
    second = write_report(study, tmp_path)
    for key in ("html", "markdown", "json"):
        assert first[key].read_bytes() == second[key].read_bytes()
    for a, b in zip(first["figures"], second["figures"]):
        assert a.read_bytes() == b.read_bytes()


def _broken(study, edit):
    bad = dict(study)
    bad["tables"] = [dict(t) for t in study["tables"]]
    bad["claims"] = [dict(c) for c in study["claims"]]
    edit(bad)
    return bad


@pytest.mark.parametrize(
    "edit, error, match",
    [
        (lambda s: s.pop("title"), ValueError, r"lacks the key\(s\) \['title'\]"),
        (lambda s: s.update(title=3), TypeError, r"study\['title'\] must be a str"),
        (lambda s: s.update(tables={}), TypeError, r"study\['tables'\] must be a list"),
        (lambda s: s["tables"][0].pop("mean"), ValueError, r"\[0\] lacks the key"),
        (lambda s: s["tables"][1].update(key="../x"), ValueError, r"file-safe"),
        (lambda s: s["tables"][1].update(key="table1"), ValueError, r"repeats the key"),
        (
            lambda s: s["tables"][0].update(std=s["tables"][0]["std"].iloc[:3]),
            ValueError,
            r"\['std'\] has shape",
        ),
        (
            lambda s: s["tables"][1].update(mean=s["tables"][1]["mean"].astype(str)),
            TypeError,
            r"must hold numbers",
        ),
        (lambda s: s["tables"][1].update(decimals=-1), ValueError, r"decimals"),
        (
            lambda s: s["claims"][0].update(holds="yes"),
            TypeError,
            r"True, False or None",
        ),
        (
            lambda s: s.update(
                figures=[{"key": "f", "title": "t", "caption": "c", "figure": object()}]
            ),
            TypeError,
            r"matplotlib.figure.Figure",
        ),
        (lambda s: s.update(notes=["ok", 3]), TypeError, r"study\['notes'\]\[1\]"),
        (lambda s: s.update(meta={"when": object()}), TypeError, r"\['when'\].*JSON"),
    ],
)
def test_bad_study_raises(study, tmp_path, edit, error, match):
    with pytest.raises(error, match=match):
        write_report(_broken(study, edit), tmp_path)
    assert not (tmp_path / "index.html").exists()


def test_not_a_mapping_raises(tmp_path):
    with pytest.raises(TypeError, match="study must be a dict"):
        write_report([("title", "x")], tmp_path)


# ------------------------------------------------- claims under configurations


def _config_claims():
    return [
        {"claim": "FairRep is fairer than DNN", "holds": True, "holds_for": "paper",
         "evidence": "paper: 0.35 < 0.65 | fairrep: 0.70 > 0.65",
         "by_config": {"paper": {"holds": True, "evidence": "0.35 < 0.65"},
                       "fairrep": {"holds": False, "evidence": "0.70 > 0.65 <b>"}}},
        {"claim": "Embeddings mix", "holds": None, "holds_for": "fairrep",
         "evidence": "paper: not measured | fairrep: 0.5",
         "by_config": {"paper": {"holds": None, "evidence": "not measured"},
                       "fairrep": {"holds": True, "evidence": "0.5"}}},
    ]


def test_claims_table_has_a_column_per_configuration(study, tmp_path):
    paths = write_report({**study, "claims": _config_claims()}, tmp_path)
    parser = _Page()
    parser.feed(paths["html"].read_text(encoding="utf-8"))
    (claims,) = [t for t in parser.tables if t["class"] == "claims"]
    header, first, second = ([c["text"] for c in row] for row in claims["rows"])
    assert header == ["Holds for", "paper", "fairrep", "Claim", "Evidence from this run"]
    assert first[:4] == ["paper", "✔ holds", "✘ does not hold", "FairRep is fairer than DNN"]
    assert first[4] == "paper: 0.35 < 0.65fairrep: 0.70 > 0.65 <b>"  # escaped, one per line
    assert second[:3] == ["fairrep", "– not tested", "✔ holds"]
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "| Holds for | paper | fairrep | Claim | Evidence from this run |" in markdown
    assert ("| paper | ✅ holds | ❌ does not hold | FairRep is fairer than DNN | "
            "**paper**: 0.35 &lt; 0.65<br>**fairrep**: 0.70 &gt; 0.65 &lt;b&gt; |") in markdown
    document = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert document["claims"][1]["holds_for"] == "fairrep"
    assert document["claims"][0]["by_config"]["fairrep"] == {
        "holds": False, "evidence": "0.70 > 0.65 <b>"}


@pytest.mark.parametrize(
    "edit, error, match",
    [
        (lambda c: c.update(by_config=[]), TypeError, r"\['by_config'\] must be a non-empty"),
        (lambda c: c.update(by_config={"paper": {"evidence": "x"}}), ValueError,
         r"\['by_config'\]\['paper'\] lacks the key"),
        (lambda c: c.update(by_config={"paper": {"holds": "yes"}}), TypeError,
         r"\['by_config'\]\['paper'\]\['holds'\] must be True, False or None"),
        (lambda c: c.update(holds_for=1), TypeError, r"\['holds_for'\] must be a str"),
    ],
)
def test_bad_configuration_claims_raise(study, tmp_path, edit, error, match):
    claims = _config_claims()
    edit(claims[0])
    with pytest.raises(error, match=match):
        write_report({**study, "claims": claims}, tmp_path)


# ---------------------------------------------------------------- figures


def test_consensus_agreement_figure(agreement):
    figure = plot_consensus_agreement(agreement, title="Figs. 1 and 2")
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 2
    assert [ax.get_title() for ax in figure.axes] == list(agreement)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["female", "male"]
    for ax, frame in zip(figure.axes, agreement.values()):
        assert len(ax.containers) == 2
        for container, group in zip(ax.containers, legend):
            heights = [bar.get_height() for bar in container]
            expected = frame.loc[frame["rater_group"] == group, "percent"]
            np.testing.assert_allclose(heights, expected.to_numpy())
    single = plot_consensus_agreement(next(iter(agreement.values())))
    assert len(single.axes) == 1


def test_consensus_agreement_bad_input(agreement):
    frame = next(iter(agreement.values()))
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['percent'\]"):
        plot_consensus_agreement(frame.drop(columns="percent"))
    with pytest.raises(ValueError, match="no rows"):
        plot_consensus_agreement(frame.iloc[:0])
    with pytest.raises(TypeError, match="consensus_agreement"):
        plot_consensus_agreement(frame.to_numpy())
    with pytest.raises(ValueError, match="repeated"):
        plot_consensus_agreement(pd.concat([frame, frame]))


def _panel_points(ax):
    return np.vstack([c.get_offsets() for c in ax.collections])


def test_embeddings_figure(embedding_data):
    embeddings, groups = embedding_data
    # The same array under two names: same rows and same seed give the same map.
    same = {
        "A": embeddings["DNN"],
        "B": embeddings["DNN"].copy(),
        "C": embeddings["FairRep"],
    }
    figure = plot_embeddings(same, groups, max_points=50, perplexity=10, title="t-SNE")
    assert [ax.get_title() for ax in figure.axes] == ["A", "B", "C"]
    rows = _subsample_rows(len(groups), 50, 0)
    counts = [int((groups[rows] == g).sum()) for g in ("female", "male")]
    for ax in figure.axes:
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["female", "male"]
        assert [len(c.get_offsets()) for c in ax.collections] == counts
    np.testing.assert_array_equal(
        _panel_points(figure.axes[0]), _panel_points(figure.axes[1])
    )
    assert not np.allclose(_panel_points(figure.axes[0]), _panel_points(figure.axes[2]))


def test_subsample_rows():
    rows = _subsample_rows(1000, 100, 0)
    assert len(rows) == 100 and len(np.unique(rows)) == 100
    assert np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(rows, _subsample_rows(1000, 100, 0))
    assert not np.array_equal(rows, _subsample_rows(1000, 100, 1))
    np.testing.assert_array_equal(_subsample_rows(30, 100, 0), np.arange(30))


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda e, g: ({"A": e["DNN"][:-1]}, g), ValueError, "aligned"),
        (
            lambda e, g: (e, np.repeat("male", len(g))),
            ValueError,
            "at least 2 distinct",
        ),
        (lambda e, g: ({"A": e["DNN"][:, 0]}, g), ValueError, "must be 2-D"),
        (lambda e, g: ({}, g), TypeError, "non-empty mapping"),
        (lambda e, g: (e["DNN"], g), TypeError, "non-empty mapping"),
        (
            lambda e, g: ({"A": np.where(np.eye(len(g), 3) > 0, np.nan, 0.0)}, g),
            ValueError,
            "NaN",
        ),
    ],
)
def test_embeddings_bad_input(embedding_data, change, error, match):
    embeddings, groups = change(*embedding_data)
    with pytest.raises(error, match=match):
        plot_embeddings(embeddings, groups, perplexity=5)


def test_embeddings_bad_parameters(embedding_data):
    embeddings, groups = embedding_data
    with pytest.raises(ValueError, match="perplexity must be smaller"):
        plot_embeddings(embeddings, groups, max_points=20, perplexity=30)
    with pytest.raises(TypeError, match="max_points"):
        plot_embeddings(embeddings, groups, max_points=2.5)


def test_tradeoff_figure():
    frame = pd.DataFrame(
        {
            "method": ["FairRep", "FairRep", "FairRep", "NRL", "DNN"],
            "alpha": [0.001, 0.1, 0.01, 0.01, 0.0],
            "statistical_parity": [0.30, 0.20, 0.25, 0.22, 0.50],
            "f1": [0.74, 0.70, 0.72, 0.69, 0.76],
        }
    )
    figure = plot_tradeoff(frame, title="trade-off")
    (ax,) = figure.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "FairRep",
        "NRL",
        "DNN",
    ]
    # FairRep's points are joined in the order of alpha.
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.30, 0.25, 0.20])
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == sorted(["0.001", "0.1", "0.01", "0.01", "0"])
    assert "lower is fairer" in ax.get_xlabel()
    with pytest.raises(ValueError, match=r"y='score'"):
        plot_tradeoff(frame, y="score")
    with pytest.raises(ValueError, match=r"label='lambda'"):
        plot_tradeoff(frame, label="lambda")
    assert len(plot_tradeoff(frame, label=None).axes[0].texts) == 0


# ---------------------------------------------------------------- real browser


@pytest.fixture(scope="module")
def browser_tool():
    tool = _browser_tool()
    if tool.find_chromium() is None:
        message = "no Chromium binary found (set $CHROMIUM or install chromium)"
        if os.environ.get("FAIRREP_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and FAIRREP_REQUIRE_BROWSER=1")
        pytest.skip(message)
    return tool


def test_report_renders_in_chromium(browser_tool, report, tmp_path):
    out, _ = report
    shot = tmp_path / "page.png"
    summary = browser_tool.check_report(out, screenshot=shot, timeout=60)
    assert summary["ok"], summary["problems"]
    assert summary["tables"]["rows"] == [4, 10, 4]
    assert summary["images"]["count"] == 2 and summary["images"]["loaded"] == 2
    assert all(i["naturalWidth"] > 100 for i in summary["images"]["details"])
    assert summary["title"] == TITLE
    assert shot.read_bytes().startswith(PNG_MAGIC)


def test_browser_check_catches_a_broken_page(browser_tool, report, tmp_path, capsys):
    out, paths = report
    text = paths["html"].read_text(encoding="utf-8")
    # Corrupt the first figure's PNG: its header no longer decodes.
    text = re.sub(
        r"base64,[A-Za-z0-9+/]{40}",
        "base64,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        text,
        count=1,
    )
    (tmp_path / "index.html").write_text(text, encoding="utf-8")
    summary = browser_tool.check_report(tmp_path)
    assert not summary["ok"]
    assert any("did not load" in problem for problem in summary["problems"])
    assert browser_tool.main([str(tmp_path)]) == 1
    assert "FAILED" in capsys.readouterr().err
    assert browser_tool.main([str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_browser_check_without_binary(tmp_path, report, monkeypatch):
    tool = _browser_tool()
    out, _ = report
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert tool.find_chromium() is None
    with pytest.raises(FileNotFoundError, match="no Chromium binary"):
        tool.check_report(out)
    with pytest.raises(FileNotFoundError, match="no index.html"):
        tool.check_report(tmp_path)
