"""The study's report: one self-contained HTML page, Markdown, JSON and PNG figures.

:func:`write_report` turns the result of a study run (settings, the paper's
tables as mean/std frames, figures, the paper's claims checked against the
run, notes) into files a reader can open anywhere: ``index.html`` carries its
CSS and its figures inline (no network access needed), ``results.md`` renders
on a code-hosting site, ``results.json`` holds every number for further
analysis.
"""

import base64
import io
import json
import math
import re
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from ._figures import _figure_class
from ._report_claims import check_claim as _check_claim
from ._report_claims import check_entry as _check_entry
from ._report_claims import check_text as _check_text
from ._report_claims import esc as _esc
from ._report_claims import html_claims as _html_claims
from ._report_claims import markdown_claims as _markdown_claims
from ._report_claims import md as _md
from ._report_claims import md_cell as _md_cell

__all__ = ["write_report"]

#: dpi of the saved figures.
FIGURE_DPI = 110

_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_STUDY_KEYS = {
    "title": (str, "a str"),
    "meta": (Mapping, "a dict of JSON-able settings"),
    "tables": (list, "a list of table dicts"),
    "figures": (list, "a list of figure dicts"),
    "claims": (list, "a list of claim dicts"),
    "notes": (list, "a list of str"),
}
_MISSING = "–"  # en dash: a cell without a value


_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; line-height: 1.45; color: #1b1b1b; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #d0d7de; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap;
         gap: 0.4rem 1.2rem; }
nav a { color: #0550ae; text-decoration: none; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 0.6rem 0 1.6rem; font-size: 0.92rem; }
caption { caption-side: top; text-align: left; padding: 0 0 0.4rem; max-width: 60rem; }
caption .title { font-weight: 600; display: block; }
caption .text { color: #444; }
th, td { border: 1px solid #b8c0c8; padding: 0.25rem 0.6rem; vertical-align: top; }
thead th { background: #e8edf2; text-align: center; }
tbody th { text-align: left; font-weight: 600; background: #f6f8fa; }
tbody tr:nth-child(even) td { background: #f3f6f9; }
tbody tr.group-start > * { border-top: 2px solid #6e7781; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num strong { color: #000; }
td.missing { color: #8c959f; }
table.claims td { max-width: 34rem; }
td.status { white-space: nowrap; font-weight: 600; }
td.status.holds { color: #116329; }
td.status.fails { color: #a40e26; }
td.status.untested { color: #57606a; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace;
             font-size: 0.88rem; overflow-wrap: anywhere; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
figcaption { margin-top: 0.4rem; color: #444; max-width: 60rem; }
figcaption .title { font-weight: 600; color: #1b1b1b; }
p.empty { color: #57606a; font-style: italic; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  table, figure, dl { break-inside: avoid; }
  tbody tr:nth-child(even) td { background: #f3f3f3 !important;
                                -webkit-print-color-adjust: exact;
                                print-color-adjust: exact; }
}
"""


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _check_key(value, where):
    if not isinstance(value, str) or not _KEY_PATTERN.match(value):
        raise ValueError(
            f"{where} must be a file-safe id (letters, digits, '_', '.', '-', not "
            f"starting with a punctuation mark); got {value!r}."
        )


def _column_label(column):
    if isinstance(column, tuple):
        return " / ".join(str(part) for part in column)
    return str(column)


def _index_names(index):
    """Field names of the row index levels (``level_<i>`` for unnamed ones)."""
    if index.nlevels == 1:
        return [str(index.name) if index.name is not None else "index"]
    return [
        str(name) if name is not None else f"level_{i}"
        for i, name in enumerate(index.names)
    ]


def _check_numeric_frame(frame, where):
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"{where} must be a pandas DataFrame; got {type(frame).__name__}."
        )
    if frame.shape[1] == 0:
        raise ValueError(f"{where} has no columns.")
    for column in frame.columns:
        dtype = frame[column].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(
            dtype
        ):
            raise TypeError(
                f"{where} must hold numbers; column {column!r} has dtype {dtype}."
            )
    labels = [_column_label(column) for column in frame.columns]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{where} has repeated column labels {labels}.")
    if not frame.index.is_unique:
        raise ValueError(f"{where} has repeated row labels.")
    clash = set(labels) & set(_index_names(frame.index))
    if clash:
        raise ValueError(
            f"{where}: the row index level(s) {sorted(clash)} share a name with a "
            "column; rename one so that the JSON records stay unambiguous."
        )


def _check_table(entry, position):
    where = f"study['tables'][{position}]"
    _check_entry(entry, where, ("key", "title", "caption", "mean"))
    _check_key(entry["key"], f"{where}['key']")
    title = _check_text(entry, "title", where)
    caption = _check_text(entry, "caption", where)
    mean = entry["mean"]
    _check_numeric_frame(mean, f"{where}['mean']")
    std = entry.get("std")
    if std is not None:
        _check_numeric_frame(std, f"{where}['std']")
        if std.shape != mean.shape:
            raise ValueError(
                f"{where}['std'] has shape {std.shape} but 'mean' has {mean.shape}; "
                "they must match cell for cell."
            )
        if not (std.index.equals(mean.index) and std.columns.equals(mean.columns)):
            raise ValueError(
                f"{where}['std'] must have the same row and column labels as 'mean'."
            )
    decimals = entry.get("decimals", 3)
    if not isinstance(decimals, Integral) or isinstance(decimals, bool) or decimals < 0:
        raise ValueError(f"{where}['decimals'] must be an int >= 0; got {decimals!r}.")
    lower = entry.get("lower_is_better", False)
    if not isinstance(lower, (bool, np.bool_)):
        raise TypeError(f"{where}['lower_is_better'] must be a bool; got {lower!r}.")
    return {
        "key": entry["key"],
        "title": title,
        "caption": caption,
        "mean": mean,
        "std": std,
        "decimals": int(decimals),
        "lower_is_better": bool(lower),
    }


def _check_figure(entry, position):
    where = f"study['figures'][{position}]"
    _check_entry(entry, where, ("key", "title", "caption", "figure"))
    _check_key(entry["key"], f"{where}['key']")
    title = _check_text(entry, "title", where)
    caption = _check_text(entry, "caption", where)
    Figure = _figure_class("reports with figures")
    if not isinstance(entry["figure"], Figure):
        raise TypeError(
            f"{where}['figure'] must be a matplotlib.figure.Figure; got "
            f"{type(entry['figure']).__name__}."
        )
    return {
        "key": entry["key"],
        "title": title,
        "caption": caption,
        "figure": entry["figure"],
    }


def _json_value(value, where):
    """A JSON-ready copy of a settings value (numpy scalars and arrays unwrapped)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return [_json_value(item, where) for item in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(item, where) for item in value]
    if isinstance(value, Path):
        return str(value)
    raise TypeError(
        f"{where} must be JSON-able (str, number, bool, None, list, dict); got "
        f"{type(value).__name__}."
    )


def _check_study(study):
    if not isinstance(study, Mapping):
        raise TypeError(f"study must be a dict; got {type(study).__name__}.")
    absent = [key for key in _STUDY_KEYS if key not in study]
    if absent:
        raise ValueError(
            f"study lacks the key(s) {absent}; expected keys {list(_STUDY_KEYS)}."
        )
    for key, (kind, expected) in _STUDY_KEYS.items():
        if not isinstance(study[key], kind):
            raise TypeError(
                f"study[{key!r}] must be {expected}; got {type(study[key]).__name__}."
            )
    tables = [_check_table(entry, i) for i, entry in enumerate(study["tables"])]
    figures = [_check_figure(entry, i) for i, entry in enumerate(study["figures"])]
    for kind, entries in (("tables", tables), ("figures", figures)):
        keys = [entry["key"] for entry in entries]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"study[{kind!r}] repeats the key(s) {repeated}.")
    claims = [_check_claim(entry, i) for i, entry in enumerate(study["claims"])]
    for i, note in enumerate(study["notes"]):
        if not isinstance(note, str):
            raise TypeError(
                f"study['notes'][{i}] must be a str; got {type(note).__name__}."
            )
    meta = {
        str(key): _json_value(value, f"study['meta'][{key!r}]")
        for key, value in study["meta"].items()
    }
    return {
        "title": study["title"],
        "meta": meta,
        "tables": tables,
        "figures": figures,
        "claims": claims,
        "notes": list(study["notes"]),
    }


# --------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------


def _is_missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value):
    """A JSON-ready float (None for NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _format(value, decimals):
    if _is_missing(value):
        return _MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{decimals}f}"


def _table_cells(table):
    """Per row: row labels and, per column, (text, is_best, is_missing)."""
    mean = table["mean"].to_numpy(dtype=float)
    std = None if table["std"] is None else table["std"].to_numpy(dtype=float)
    decimals = table["decimals"]
    rows = []
    for i, label in enumerate(table["mean"].index):
        labels = list(label) if isinstance(label, tuple) else [label]
        values = mean[i]
        rounded = [None if math.isnan(v) else round(v, decimals) for v in values]
        present = [v for v in rounded if v is not None]
        best = None
        if len(present) >= 2:
            best = min(present) if table["lower_is_better"] else max(present)
        cells = []
        for j, value in enumerate(values):
            missing = math.isnan(value)
            text = _format(value, decimals)
            if not missing and std is not None and not math.isnan(std[i, j]):
                text += f" ± {_format(std[i, j], decimals)}"
            cells.append((text, best is not None and rounded[j] == best, missing))
        rows.append((labels, cells))
    return rows


def _row_label_display(rows):
    """Row labels, a value repeated from the row above left blank (as in the paper)."""
    shown, starts = [], []
    previous = None
    for labels, _ in rows:
        display = []
        same_so_far = previous is not None
        for level, value in enumerate(labels):
            same_so_far = same_so_far and previous[level] == value
            # The last level is always written; a blank there would hide the row.
            display.append(
                "" if same_so_far and level < len(labels) - 1 else str(value)
            )
        # A thicker rule above each new outer-level group (the paper's emotions).
        starts.append(
            len(labels) > 1 and previous is not None and previous[0] != labels[0]
        )
        shown.append(display)
        previous = labels
    return shown, starts


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------


def _html_table(table):
    rows = _table_cells(table)
    names = _index_names(table["mean"].index)
    shown, starts = _row_label_display(rows)
    out = [f'<table class="results" id="table-{_esc(table["key"])}">']
    out.append(
        f'<caption><span class="title">{_esc(table["title"])}</span>'
        f'<span class="text">{_esc(table["caption"])}</span></caption>'
    )
    header = "".join(f'<th scope="col">{_esc(name)}</th>' for name in names)
    header += "".join(
        f'<th scope="col">{_esc(_column_label(c))}</th>' for c in table["mean"].columns
    )
    out.append(f"<thead><tr>{header}</tr></thead>")
    out.append("<tbody>")
    for (_, cells), labels, start in zip(rows, shown, starts):
        attributes = ' class="group-start"' if start else ""
        line = "".join(f'<th scope="row">{_esc(value)}</th>' for value in labels)
        for text, best, missing in cells:
            classes = "num missing" if missing else "num"
            body = f"<strong>{_esc(text)}</strong>" if best else _esc(text)
            line += f'<td class="{classes}">{body}</td>'
        out.append(f"<tr{attributes}>{line}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _meta_text(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _html_page(study, images):
    title = _esc(study["title"])
    sections = [("claims", "Claims")]
    if study["tables"]:
        sections.append(("tables", "Tables"))
    if study["figures"]:
        sections.append(("figures", "Figures"))
    sections.append(("settings", "Settings"))
    if study["notes"]:
        sections.append(("notes", "Notes"))

    body = [f"<h1>{title}</h1>"]
    body.append(
        '<nav aria-label="contents"><ul>'
        + "".join(
            f'<li><a href="#{anchor}">{name}</a></li>' for anchor, name in sections
        )
        + "</ul></nav>"
    )
    body.append('<section id="claims"><h2>Claims</h2>')
    body.append(_html_claims(study["claims"]))
    body.append("</section>")
    if study["tables"]:
        body.append('<section id="tables"><h2>Tables</h2>')
        body.extend(_html_table(table) for table in study["tables"])
        body.append("</section>")
    if study["figures"]:
        body.append('<section id="figures"><h2>Figures</h2>')
        for figure, png in zip(study["figures"], images):
            alt = figure["title"] + (
                f": {figure['caption']}" if figure["caption"] else ""
            )
            data = base64.b64encode(png).decode("ascii")
            body.append(
                f'<figure id="figure-{_esc(figure["key"])}">'
                f'<img src="data:image/png;base64,{data}" alt="{_esc(alt)}">'
                f'<figcaption><span class="title">{_esc(figure["title"])}.</span> '
                f"{_esc(figure['caption'])}</figcaption></figure>"
            )
        body.append("</section>")
    body.append('<section id="settings"><h2>Settings</h2>')
    if study["meta"]:
        body.append('<dl class="meta">')
        for key, value in study["meta"].items():
            body.append(f"<dt>{_esc(key)}</dt><dd>{_esc(_meta_text(value))}</dd>")
        body.append("</dl>")
    else:
        body.append('<p class="empty">No settings were recorded.</p>')
    body.append("</section>")
    if study["notes"]:
        body.append('<section id="notes"><h2>Notes</h2>')
        body.extend(f"<p>{_esc(note)}</p>" for note in study["notes"])
        body.append("</section>")

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _md_table(table):
    rows = _table_cells(table)
    names = _index_names(table["mean"].index)
    shown, _ = _row_label_display(rows)
    header = names + [_column_label(c) for c in table["mean"].columns]
    lines = [
        "| " + " | ".join(_md_cell(h) for h in header) + " |",
        "| "
        + " | ".join([":---"] * len(names) + ["---:"] * (len(header) - len(names)))
        + " |",
    ]
    for (_, cells), labels in zip(rows, shown):
        values = [_md_cell(value) for value in labels]
        values += [
            f"**{_md_cell(t)}**" if best else _md_cell(t) for t, best, _ in cells
        ]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def _markdown_page(study, figure_files):
    out = [f"# {_md(study['title'])}", "", "## Claims", ""]
    out += _markdown_claims(study["claims"])
    if study["tables"]:
        out += ["", "## Tables"]
        for table in study["tables"]:
            out += ["", f"### {_md(table['title'])}", ""]
            if table["caption"]:
                out += [_md(table["caption"]), ""]
            out.append(_md_table(table))
    if study["figures"]:
        out += ["", "## Figures"]
        for figure, name in zip(study["figures"], figure_files):
            alt = _md(figure["title"]).replace("[", "\\[").replace("]", "\\]")
            out += [
                "",
                f"### {_md(figure['title'])}",
                "",
                f"![{alt}](figures/{name})",
                "",
            ]
            if figure["caption"]:
                out.append(_md(figure["caption"]))
    out += ["", "## Settings", ""]
    if study["meta"]:
        for key, value in study["meta"].items():
            out.append(f"- **{_md(key)}**: `{_meta_text(value).replace('`', chr(39))}`")
    else:
        out.append("_No settings were recorded._")
    if study["notes"]:
        out += ["", "## Notes"]
        for note in study["notes"]:
            out += ["", _md(note)]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------


def _index_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _records(frame):
    names = _index_names(frame.index)
    columns = [_column_label(c) for c in frame.columns]
    values = frame.to_numpy(dtype=float)
    records = []
    for i, label in enumerate(frame.index):
        labels = label if isinstance(label, tuple) else (label,)
        record = {name: _index_value(v) for name, v in zip(names, labels)}
        record.update({c: _number(v) for c, v in zip(columns, values[i])})
        records.append(record)
    return records


def _json_document(study, figure_files):
    return {
        "title": study["title"],
        "meta": study["meta"],
        "claims": study["claims"],
        "notes": study["notes"],
        "tables": [
            {
                "key": table["key"],
                "title": table["title"],
                "caption": table["caption"],
                "decimals": table["decimals"],
                "lower_is_better": table["lower_is_better"],
                "index": _index_names(table["mean"].index),
                "columns": [_column_label(c) for c in table["mean"].columns],
                "mean": _records(table["mean"]),
                "std": None if table["std"] is None else _records(table["std"]),
            }
            for table in study["tables"]
        ],
        "figures": [
            {
                "key": figure["key"],
                "title": figure["title"],
                "caption": figure["caption"],
                "file": f"figures/{name}",
            }
            for figure, name in zip(study["figures"], figure_files)
        ],
    }


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def _png_bytes(figure):
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight", facecolor="white"
    )
    return buffer.getvalue()


def write_report(study, out):
    """Write the study's results as HTML, Markdown, JSON and PNG figures.

    The report of the reproduction of Chien & Lee, "A Two-Stage Learning
    Strategy for Fair Speech Emotion Recognition": the paper's tables
    (Tables 1-4, section 3.2) as fold means ± standard deviations, its figures
    (Figs. 1, 2, 5, 6), and a list of the paper's qualitative claims with
    whether this run shows them.

    Parameters
    ----------
    study : dict
        With the keys

        - ``"title"`` (str): page title;
        - ``"meta"`` (dict): JSON-able settings of the run (corpus, features,
          folds, methods, seconds, versions...); numpy scalars and arrays are
          converted, non-finite floats become null;
        - ``"tables"`` (list of dict): each with ``"key"`` (file-safe id),
          ``"title"``, ``"caption"`` (str), ``"mean"`` (DataFrame of
          numbers; rows may be a MultiIndex, columns are usually methods),
          ``"std"`` (DataFrame with the same labels, or None), optional
          ``"decimals"`` (int, default 3) and ``"lower_is_better"`` (bool,
          default False; picks the best cell of each row, shown in bold);
        - ``"figures"`` (list of dict): each with ``"key"``, ``"title"``,
          ``"caption"`` and ``"figure"`` (a :class:`matplotlib.figure.Figure`);
        - ``"claims"`` (list of dict): each with ``"claim"`` (str),
          ``"holds"`` (True, False, or None when this run cannot test it),
          ``"evidence"`` (str, optional) and, for a study run under several
          configurations, ``"by_config"`` (dict of configuration name ->
          ``{"holds", "evidence"}``) and ``"holds_for"`` (str: "both", a
          configuration's name, "neither" or "untested"); the claims table
          then has one status column per configuration and a "Holds for"
          column;
        - ``"notes"`` (list of str): free-text paragraphs.
    out : str or path-like
        Directory to write into; created when missing. Existing files of the
        same names are overwritten.

    Returns
    -------
    paths : dict
        ``{"html": Path, "markdown": Path, "json": Path, "figures": [Path,
        ...]}``: ``index.html``, a self-contained page (inline CSS, figures
        as base64 ``data:`` URIs, no external resource); ``results.md``, the
        same content in GitHub Markdown with the figures linked;
        ``results.json``, every number (per table the mean and std as
        records, one field per row-index level and per column, NaN as null);
        and ``figures/<key>.png`` (110 dpi) per figure, the very bytes the
        page embeds.

    Raises
    ------
    TypeError, ValueError
        When ``study`` breaks the contract above; the message names the key.

    Notes
    -----
    Every user-supplied text is HTML-escaped. Cells without a value are shown
    as "–"; the best cell of a row is chosen among its values rounded to the
    table's decimals (ties are all bold) and only when the row has at least
    two values. The output depends on the input only (no timestamps), so the
    same study writes the same bytes.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> from fairrep.experiments import write_report
    >>> mean = pd.DataFrame({"DNN": [0.65, 0.43], "FairRep": [0.35, 0.13]},
    ...                     index=pd.Index(["Neutral", "Happiness"], name="class"))
    >>> study = {"title": "Stage 1", "meta": {"folds": 5},
    ...          "tables": [{"key": "table2", "title": "Statistical parity on S2",
    ...                      "caption": "Lower is fairer.", "mean": mean, "std": None,
    ...                      "lower_is_better": True}],
    ...          "figures": [], "notes": [],
    ...          "claims": [{"claim": "FairRep is fairer than the DNN", "holds": True,
    ...                      "evidence": "0.35 < 0.65 on Neutral"}]}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = write_report(study, folder)
    ...     sorted(p.name for p in paths.values() if not isinstance(p, list))
    ['index.html', 'results.json', 'results.md']
    """
    checked = _check_study(study)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out must be a directory; {out} is a file.")
    figures_dir = out / "figures"
    figures_dir.mkdir(parents=True, exist_ok=True)

    images, figure_paths, figure_files = [], [], []
    for figure in checked["figures"]:
        png = _png_bytes(figure["figure"])
        name = f"{figure['key']}.png"
        path = figures_dir / name
        path.write_bytes(png)
        images.append(png)
        figure_paths.append(path)
        figure_files.append(name)

    html_path = out / "index.html"
    html_path.write_text(_html_page(checked, images), encoding="utf-8")
    md_path = out / "results.md"
    md_path.write_text(_markdown_page(checked, figure_files), encoding="utf-8")
    json_path = out / "results.json"
    json_path.write_text(
        json.dumps(
            _json_document(checked, figure_files),
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return {
        "html": html_path,
        "markdown": md_path,
        "json": json_path,
        "figures": figure_paths,
    }
